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
    const hint = suggestion(message, options);
    throw new UsageError(`${maskSecrets(message)}${hint} (see ses-stats ${command} --help)`);
  }
}

/** `; did you mean --NAME?` when parseArgs refused a long option close to one of `options`. */
function suggestion(message: string, options: Options): string {
  const unknown = /^Unknown option '--(.+)'$/s.exec(message)?.[1];
  if (unknown === undefined) return '';
  const near = closest(unknown, Object.keys(options));
  return near === undefined ? '' : `; did you mean --${near}?`;
}

/**
 * The one candidate `typed` most likely meant: the unique nearest within a small edit distance
 * (at most 1 for names up to 4 characters, else 2; a swap of neighbours counts 1), or else the
 * only candidate `typed` is a prefix of. Undefined when none is close or two are equally close.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const limit = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  let tie = false;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate, limit);
    if (distance < bestDistance) [best, bestDistance, tie] = [candidate, distance, false];
    else if (distance === bestDistance) tie = true;
  }
  if (best !== undefined && !tie) return best;
  if (best !== undefined) return undefined;
  const prefixed = typed.length < 2 ? [] : candidates.filter((c) => c.startsWith(typed));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * Optimal string alignment distance (Levenshtein plus swaps of neighbours), or `limit + 1` as soon
 * as it must exceed `limit`: a pasted value can be long, and only near names matter.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, (before[j - 2] ?? 0) + 1);
      current.push(value);
    }
    if (Math.min(...current) > limit) return limit + 1;
    [before, previous] = [previous, current];
  }
  return Math.min(previous[b.length] ?? 0, limit + 1);
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

/** A whole-number flag from `min` to `max`; `what` says what it counts, in the refusal too. */
export function wholeNumberFlag(
  flag: string,
  value: string | undefined,
  range: { readonly min: number; readonly max: number; readonly what: string },
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= range.min && number <= range.max))
    throw new UsageError(
      `${flag}: received ${describe(value)}; expected ${range.what}: a whole number from ${range.min} to ${range.max}`,
    );
  return number;
}
