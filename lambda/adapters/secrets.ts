import type { SecretRef } from '../config/schema.ts';

/** How a secret is read. */
export interface ReadOptions {
  /** Skip any cache in front of the store: the value cached may have been rotated. */
  readonly fresh?: boolean;
}

/** Reads a secret value; never logs or echoes it. */
export interface SecretReader {
  read(ref: SecretRef, options?: ReadOptions): Promise<string>;
}

/** A secret that could not be read; the message names the reference, never a value. */
export class SecretError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretError';
  }
}

const known = new Set<string>();

/** Replaces every secret value read so far with `***`: a last guard for anything printed. */
export function redact(text: string): string {
  let out = text;
  for (const value of known) out = out.split(value).join('***');
  return out;
}

export function describeRef(ref: SecretRef): string {
  if ('env' in ref) return `environment variable ${ref.env}`;
  return `secret "${ref.secretId}"${ref.jsonKey === undefined ? '' : ` (JSON key "${ref.jsonKey}")`}`;
}

/** Fetches a Secrets Manager secret's string value by name or ARN. */
export type SecretsManagerGet = (
  secretId: string,
  options?: ReadOptions,
) => Promise<string | undefined>;

export interface SecretReaderOptions {
  /** Allow `{env}` references (the CLI); the Lambda reads only Secrets Manager. */
  readonly env?: NodeJS.ProcessEnv;
  readonly secretsManager?: SecretsManagerGet;
}

export function createSecretReader(options: SecretReaderOptions): SecretReader {
  return {
    async read(ref, readOptions) {
      const value =
        'env' in ref
          ? fromEnv(ref.env, options.env)
          : await fromSecretsManager(ref, options.secretsManager, readOptions);
      if (value === '') throw new SecretError(`${describeRef(ref)} is empty`);
      if (value.length >= 4) known.add(value);
      return value;
    },
  };
}

function fromEnv(name: string, env: NodeJS.ProcessEnv | undefined): string {
  if (env === undefined)
    throw new SecretError(
      `environment variable ${name} cannot hold a secret here; use {"secretId": ...} (Secrets Manager)`,
    );
  const value = env[name];
  if (value === undefined) throw new SecretError(`environment variable ${name} is not set`);
  return value;
}

async function fromSecretsManager(
  ref: { secretId: string; jsonKey?: string },
  get: SecretsManagerGet | undefined,
  readOptions: ReadOptions | undefined,
): Promise<string> {
  if (get === undefined)
    throw new SecretError(`${describeRef(ref)}: Secrets Manager is not available here`);
  let raw: string | undefined;
  try {
    raw = await get(ref.secretId, readOptions);
  } catch (error) {
    throw new SecretError(
      `${describeRef(ref)} could not be read: ${(error as Error).name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (raw === undefined) throw new SecretError(`${describeRef(ref)} has no string value`);
  if (ref.jsonKey === undefined) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretError(`${describeRef(ref)} is not JSON, so "jsonKey" cannot be used`);
  }
  const value =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)[ref.jsonKey]
      : undefined;
  if (typeof value !== 'string')
    throw new SecretError(`${describeRef(ref)}: the JSON has no string at key "${ref.jsonKey}"`);
  return value;
}
