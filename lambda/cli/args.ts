import { type ParseArgsConfig, parseArgs } from 'node:util';
import { describe, maskSecrets } from '../config/masking.ts';
import { UsageError } from '../core/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs`, strict, with its errors turned into UsageErrors that name the command. */
export function parseFlags<T extends Options>(
  command: string,
  args: readonly string[],
  options: T,
  positionals = false,
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals });
  } catch (error) {
    // One line: parseArgs' hints come on lines of their own.
    const message = (error as Error).message
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/\s*\n\s*/g, ' ');
    throw new UsageError(`${maskSecrets(message)} (see ses-stats ${command} --help)`);
  }
}

export function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag}: received ${describe(value)}; allowed: ${allowed.join(', ')}`);
}
