/**
 * Every error ses-stats raises on purpose, in one module. Errors carry data (`path`, `parameter`,
 * `dataset`, `action`), not text to be parsed: callers branch on the class and read the fields.
 *
 * - `UserError` and its subclasses: what the user gave cannot be used (CLI exit code 2, API 400/404).
 * - `SourceError`: SES (or its credentials, proxy or network) failed a call.
 * - `StoreError`: the store cannot take a write or answer a read.
 */

/** What the user gave (flags, config, markup, query parameters, a dataset name) cannot be used. */
export class UserError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Bad command-line usage: an unknown flag, a missing value, flags that cannot be combined. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One thing wrong with a configuration: where (`sessions.a.maxErrorRetry`, `line 12`, `--config`) and what. */
export interface Problem {
  /** A field path, a flag, or `line N` of a markup file; empty when the whole document is meant. */
  readonly path: string;
  /** What was received and what is allowed; never a secret value. */
  readonly message: string;
}

/** `path: message`, or the message alone when the problem has no path. */
export function problemText(problem: Problem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** A configuration (file, flags or markup) that cannot be used; every problem names its field. */
export class ConfigError extends UserError {
  /** Each problem as one line of text, as the message shows it. */
  readonly lines: readonly string[];
  constructor(readonly problems: readonly Problem[]) {
    const lines = problems.map(problemText);
    super(lines.length === 1 ? `${lines[0]}` : `invalid configuration:\n  ${lines.join('\n  ')}`);
    this.lines = lines;
    this.name = 'ConfigError';
  }
}

/** A query parameter (`from`, `granularity`, …) that cannot be used; the message names it. */
export class QueryError extends UserError {
  constructor(
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`${parameter}: ${reason}`);
    this.name = 'QueryError';
  }
}

/** A dataset name that the store does not hold; lists those it does. */
export class UnknownDatasetError extends UserError {
  constructor(
    readonly dataset: string,
    readonly known: readonly string[],
  ) {
    super(
      `unknown dataset "${dataset}"; ${known.length === 0 ? 'nothing is stored yet' : `stored datasets: ${known.join(', ')}`}`,
    );
    this.name = 'UnknownDatasetError';
  }
}

/** Stored data that cannot take this write or read (a kind mismatch, an unreachable store). */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The SES actions the activity calls. */
export type SesAction = 'GetSendQuota' | 'GetSendStatistics';

/** A source call that failed; `message` is one line naming the cause, never a secret. */
export class SourceError extends Error {
  constructor(
    readonly action: SesAction,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}
