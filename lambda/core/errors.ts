/**
 * Every error ses-stats raises on purpose, in one module. Errors carry data (`path`, `parameter`,
 * `dataset`, `action`), not text to be parsed: callers branch on the class and read the fields.
 *
 * - `UserError` and its subclasses: what the user gave cannot be used (CLI exit code 2, API 400/404).
 * - `SourceError`: SES (or its credentials, proxy or network) failed a call; `SourceCallsError`
 *   when both calls of an activity failed.
 * - `ClockSkewError`: the host clock and SES disagree too much to store what was fetched.
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

/**
 * The calls the activity makes: SES's two, and for an account dataset SES API v2 `GetAccount`
 * and CloudWatch `GetMetricData`.
 */
export type SesAction = 'GetSendQuota' | 'GetSendStatistics' | 'GetAccount' | 'GetMetricData';

/** The IAM action each call needs, as an AccessDenied message names it. */
export const IAM_ACTIONS: Readonly<Record<SesAction, string>> = {
  GetSendQuota: 'ses:GetSendQuota',
  GetSendStatistics: 'ses:GetSendStatistics',
  GetAccount: 'ses:GetAccount',
  GetMetricData: 'cloudwatch:GetMetricData',
};

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

/**
 * Several source calls of one activity failed (both run at once, so each has its own cause).
 * `action` and `cause` are the first's; `errors` holds every one, in call order.
 */
export class SourceCallsError extends SourceError {
  constructor(readonly errors: readonly [SourceError, ...SourceError[]]) {
    super(errors[0].action, errors.map((e) => `${e.action} failed: ${e.message}`).join('; '), {
      cause: errors[0],
    });
    this.name = 'SourceCallsError';
  }
}

/**
 * The host clock differs from the source's by more than `allowedMs`: the fetch succeeded, but
 * storing it is refused, since a wrong host time would decide which write wins and what is covered.
 */
export class ClockSkewError extends Error {
  constructor(
    /** How far the host clock is ahead of the server's (negative: behind). */
    readonly skewMs: number,
    readonly hostTime: Date,
    readonly serverTime: Date,
    readonly allowedMs: number,
  ) {
    super(
      `the host clock is ${formatDuration(Math.abs(skewMs))} ${skewMs > 0 ? 'ahead of' : 'behind'} SES's (host ${hostTime.toISOString()}, SES ${serverTime.toISOString()}; at most ${formatDuration(allowedMs)} is allowed); nothing was stored: synchronise the clock (NTP)`,
    );
    this.name = 'ClockSkewError';
  }
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  return [d > 0 ? `${d} d` : '', h > 0 ? `${h} h` : '', `${m} min`].filter(Boolean).join(' ');
}
