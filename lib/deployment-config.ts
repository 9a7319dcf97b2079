import type { IConstruct } from 'constructs';
import { readJsonFile } from '../lambda/config/file.ts';
import {
  type Config,
  type ConfigInput,
  DEFAULT_CONFIG,
  parseConfig,
} from '../lambda/config/schema.ts';
import { ConfigError } from '../lambda/core/errors.ts';

export { ConfigError };

/** The context key naming the config file: `cdk synth -c config=PATH`. */
export const CONFIG_CONTEXT_KEY = 'config';

/**
 * A config document that passed the shared schema, kept together with what it means.
 * The collector function receives the document itself and validates it again at cold start,
 * so synth and runtime can never disagree about a field.
 */
export class DeploymentConfig {
  /** The embedded default: one session using the function's own role in the deployment region, hourly. */
  static default(): DeploymentConfig {
    return DeploymentConfig.fromDocument(DEFAULT_CONFIG, 'the default configuration');
  }

  /** Validates a parsed JSON document; throws ConfigError naming every field that is wrong. */
  static fromDocument(document: unknown, source = 'the configuration'): DeploymentConfig {
    return new DeploymentConfig(document as ConfigInput, parseConfig(document), source);
  }

  /** Reads and validates a JSON config file; throws ConfigError naming the file or the field. */
  static fromFile(path: string): DeploymentConfig {
    return DeploymentConfig.fromDocument(readJsonFile(path), path);
  }

  private constructor(
    /** The document as given: secret references only, never secret values. */
    readonly document: ConfigInput,
    /** The validated settings, with every default applied. */
    readonly settings: Config,
    /** Where the document came from, for messages. */
    readonly source: string,
  ) {}

  /** The document as compact JSON, as the function reads it from its environment. */
  toJson(): string {
    return JSON.stringify(this.document);
  }
}

/** The config file named by `-c config=PATH`, or the embedded default when none is given. */
export function loadConfig(scope: IConstruct): DeploymentConfig {
  const path: unknown = scope.node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (path === undefined) return DeploymentConfig.default();
  if (typeof path !== 'string' || path.trim() === '')
    throw new ConfigError([
      {
        path: `-c ${CONFIG_CONTEXT_KEY}`,
        message: `received ${JSON.stringify(path)}; expected the path of a JSON config file`,
      },
    ]);
  return DeploymentConfig.fromFile(path.trim());
}
