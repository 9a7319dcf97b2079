/** SES `GetSendQuota`, as the source port returns it. */
export interface SendQuota {
  readonly max24HourSend: number;
  readonly maxSendRate: number;
  readonly sentLast24Hours: number;
}

/** One SES 15-minute `SendDataPoint`. */
export interface SendDataPoint {
  readonly timestamp: Date;
  readonly deliveryAttempts: number;
  readonly bounces: number;
  readonly complaints: number;
  readonly rejects: number;
}

/**
 * A usage dataset row; columns keep the activity's names. `Max24HourSend` −1 means unlimited.
 * `CollectedAt` is the fetch time in ISO-8601 UTC with milliseconds.
 */
export interface UsageRow {
  readonly CollectedAt: string;
  readonly Max24HourSend: number;
  readonly MaxSendRate: number;
  readonly SentLast24Hours: number;
}

/** A statistics dataset row: one SES bucket, `Timestamp` in UTC exactly as SES returned it. */
export interface StatisticsRow {
  readonly Timestamp: string;
  readonly DeliveryAttempts: number;
  readonly Bounces: number;
  readonly Complaints: number;
  readonly Rejects: number;
}

/** The four counts of a statistics row, and of any sum of rows. */
export type Counts = Pick<StatisticsRow, 'DeliveryAttempts' | 'Bounces' | 'Complaints' | 'Rejects'>;
export const COUNT_COLUMNS = ['DeliveryAttempts', 'Bounces', 'Complaints', 'Rejects'] as const;

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    DeliveryAttempts: a.DeliveryAttempts + b.DeliveryAttempts,
    Bounces: a.Bounces + b.Bounces,
    Complaints: a.Complaints + b.Complaints,
    Rejects: a.Rejects + b.Rejects,
  };
}

export const ZERO_COUNTS: Counts = Object.freeze({
  DeliveryAttempts: 0,
  Bounces: 0,
  Complaints: 0,
  Rejects: 0,
});

export function sumCounts(rows: Iterable<Counts>): Counts {
  let total = ZERO_COUNTS;
  for (const row of rows) total = addCounts(total, row);
  return total;
}

export function sameCounts(a: Counts, b: Counts): boolean {
  return COUNT_COLUMNS.every((c) => a[c] === b[c]);
}

export const USAGE_COLUMNS = [
  'CollectedAt',
  'Max24HourSend',
  'MaxSendRate',
  'SentLast24Hours',
] as const;
export const STATISTICS_COLUMNS = [
  'Timestamp',
  'DeliveryAttempts',
  'Bounces',
  'Complaints',
  'Rejects',
] as const;

/**
 * ISO-8601 UTC with second precision (`2026-11-27T10:07:00Z`), the form SES uses; milliseconds
 * are kept when present, so an instant is never rounded.
 */
export function isoUtc(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

export function buildUsageRow(quota: SendQuota, collectedAt: Date): UsageRow {
  return {
    // Our own clock, always with milliseconds: one fixed width, so snapshot keys sort as time does.
    CollectedAt: collectedAt.toISOString(),
    Max24HourSend: quota.max24HourSend,
    MaxSendRate: quota.maxSendRate,
    SentLast24Hours: quota.sentLast24Hours,
  };
}

/**
 * The share of the 24-hour quota used (SentLast24Hours / Max24HourSend). −1 (unlimited) is never
 * divided by: its utilisation is null.
 */
export function utilisation(row: UsageRow): number | null {
  return row.Max24HourSend > 0 ? row.SentLast24Hours / row.Max24HourSend : null;
}

/** SES returns points unsorted; rows come out in ascending time order. */
export function buildStatisticsRows(points: readonly SendDataPoint[]): StatisticsRow[] {
  return [...points]
    .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())
    .map((p) => ({
      Timestamp: isoUtc(p.timestamp),
      DeliveryAttempts: p.deliveryAttempts,
      Bounces: p.bounces,
      Complaints: p.complaints,
      Rejects: p.rejects,
    }));
}

/** SES API v2 `GetAccount`, as the account source returns it. */
export interface AccountState {
  /** `HEALTHY`, `PROBATION` or `SHUTDOWN` (kept as SES sends it, so a new value is not lost). */
  readonly enforcementStatus: string;
  readonly sendingEnabled: boolean;
  /** False: the account is in the sandbox. */
  readonly productionAccessEnabled: boolean;
  /** `Details.ReviewDetails`: the status of the latest production-access review and its case id. */
  readonly reviewStatus?: string;
  readonly reviewCaseId?: string;
  readonly max24HourSend: number;
  readonly maxSendRate: number;
}

/** One hour of AWS's reputation rates (CloudWatch `AWS/SES`), fractions; absent when not published. */
export interface ReputationPoint {
  readonly timestamp: Date;
  readonly bounceRate?: number;
  readonly complaintRate?: number;
}

/**
 * An account dataset row: one state of the account, from the first to the last fetch that saw it
 * (ISO-8601 UTC with milliseconds, server times). A row is added only when a field changed; a fetch
 * that sees the same state moves `LastSeen`. `SentLast24Hours` is not kept here (it changes every
 * fetch; the usage dataset has it).
 */
export interface AccountRow {
  readonly FirstSeen: string;
  readonly LastSeen: string;
  readonly EnforcementStatus: string;
  readonly SendingEnabled: boolean;
  readonly ProductionAccessEnabled: boolean;
  readonly ReviewStatus: string | null;
  readonly ReviewCaseId: string | null;
  readonly Max24HourSend: number;
  readonly MaxSendRate: number;
}

/** An hour of AWS's reputation rates; `Timestamp` as CloudWatch returned it, rates as fractions. */
export interface ReputationRow {
  readonly Timestamp: string;
  readonly BounceRate: number | null;
  readonly ComplaintRate: number | null;
}

export const ACCOUNT_COLUMNS = [
  'FirstSeen',
  'LastSeen',
  'EnforcementStatus',
  'SendingEnabled',
  'ProductionAccessEnabled',
  'ReviewStatus',
  'ReviewCaseId',
  'Max24HourSend',
  'MaxSendRate',
] as const;
export const REPUTATION_COLUMNS = ['Timestamp', 'BounceRate', 'ComplaintRate'] as const;

/** The columns whose change makes a new account row (every one but the two times). */
const STATE_COLUMNS = ACCOUNT_COLUMNS.filter((c) => c !== 'FirstSeen' && c !== 'LastSeen');

export function buildAccountRow(state: AccountState, seenAt: Date): AccountRow {
  const at = seenAt.toISOString();
  return {
    FirstSeen: at,
    LastSeen: at,
    EnforcementStatus: state.enforcementStatus,
    SendingEnabled: state.sendingEnabled,
    ProductionAccessEnabled: state.productionAccessEnabled,
    ReviewStatus: state.reviewStatus ?? null,
    ReviewCaseId: state.reviewCaseId ?? null,
    Max24HourSend: state.max24HourSend,
    MaxSendRate: state.maxSendRate,
  };
}

/** Same state: every column but the first/last-seen times is equal. */
export function sameAccountState(a: AccountRow, b: AccountRow): boolean {
  return STATE_COLUMNS.every((c) => a[c] === b[c]);
}

/** CloudWatch answers newest first; rows come out in ascending time order, one per hour. */
export function buildReputationRows(points: readonly ReputationPoint[]): ReputationRow[] {
  const byTime = new Map<number, ReputationRow>();
  for (const p of points) {
    const t = p.timestamp.getTime();
    const known = byTime.get(t);
    byTime.set(t, {
      Timestamp: isoUtc(p.timestamp),
      BounceRate: p.bounceRate ?? known?.BounceRate ?? null,
      ComplaintRate: p.complaintRate ?? known?.ComplaintRate ?? null,
    });
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => row);
}

/** Same hour values: a stored reputation point is rewritten only when a rate changed. */
export function sameReputation(a: ReputationRow, b: ReputationRow): boolean {
  return a.BounceRate === b.BounceRate && a.ComplaintRate === b.ComplaintRate;
}
