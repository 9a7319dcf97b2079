import type * as z from 'zod';
import type { Problem } from '../core/errors.ts';
import { describe, maskSecrets } from './masking.ts';

const SECRET_PATH = /secretAccessKey|passwordSecret/;
/** Shown up to this many characters: a secret key pasted here must not be echoed. */
const ACCESS_KEY_SHOWN = 4;

/** A zod issue as a Problem: its path, the value received (secrets masked) and what is allowed. */
export function formatIssue(issue: z.core.$ZodIssue): Problem {
  const path = formatPath(issue.path);
  const secret = SECRET_PATH.test(path);
  // Unknown field names under a secret reference may be the secret itself.
  if (secret && issue.code === 'unrecognized_keys')
    return {
      path,
      message:
        'unknown field; expected a secret reference {"secretId": "name-or-arn"} (optionally with "jsonKey") or {"env": "VAR"}',
    };
  const value = fieldValue(issue);
  const shown =
    path.endsWith('.accessKeyId') && typeof value === 'string'
      ? `"${value.slice(0, ACCESS_KEY_SHOWN)}..." (${value.length} characters, the rest hidden)`
      : describe(value);
  const received =
    issue.code === 'unrecognized_keys' || secret || !('input' in issue)
      ? ''
      : `received ${shown}; `;
  // A key or an unknown field's name may be a pasted secret, too.
  return { path: path || 'config', message: `${received}${maskSecrets(issue.message)}` };
}

/** A discriminator issue carries the whole object; show only the field the path names. */
function fieldValue(issue: z.core.$ZodIssue): unknown {
  const key = issue.path.at(-1);
  const input = issue.input;
  if (
    issue.code === 'invalid_union' &&
    typeof key === 'string' &&
    typeof input === 'object' &&
    input !== null
  ) {
    return Object.hasOwn(input, key) ? (input as Record<string, unknown>)[key] : undefined;
  }
  return input;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) =>
      typeof key === 'number'
        ? `${out}[${key}]`
        : out === ''
          ? maskSecrets(String(key))
          : `${out}.${maskSecrets(String(key))}`,
    '',
  );
}
