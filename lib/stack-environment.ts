import type { Environment } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { REGION_PATTERN } from '../lambda/config/service-url.ts';
import { ConfigError } from '../lambda/core/errors.ts';

export const ACCOUNT_CONTEXT_KEY = 'account';
export const REGION_CONTEXT_KEY = 'region';

const ACCOUNT_PATTERN = /^\d{12}$/;

/**
 * The stack's environment from `-c account=… -c region=…`.
 *
 * Deliberately not `CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`: those follow whatever profile is
 * active, so the same command would synthesize different templates on different machines.
 * Without context the stack is environment-agnostic and `cdk deploy` picks the target from the
 * credentials in use.
 */
export function environmentFromContext(scope: IConstruct): Environment {
  const account = contextValue(
    scope,
    ACCOUNT_CONTEXT_KEY,
    ACCOUNT_PATTERN,
    'a 12-digit account id',
  );
  const region = contextValue(
    scope,
    REGION_CONTEXT_KEY,
    REGION_PATTERN,
    'a region such as us-east-1',
  );
  return {
    ...(account === undefined ? {} : { account }),
    ...(region === undefined ? {} : { region }),
  };
}

function contextValue(
  scope: IConstruct,
  key: string,
  pattern: RegExp,
  rule: string,
): string | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  // `-c account=123456789012` arrives as a string, but cdk.json may hold a number.
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !pattern.test(text.trim()))
    throw new ConfigError([
      { path: `-c ${key}`, message: `received ${JSON.stringify(value)}; expected ${rule}` },
    ]);
  return text.trim();
}
