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
