// From API rows to chart series. A missing bucket means nothing was sent (SES leaves empty buckets
// out), so the lines drop to zero there; inside a gap nothing is known, so they break instead.
import type uPlot from 'uplot';
import type { Granularity, Span, StatisticsRow, UsageRow } from './api.ts';

const MINUTE_MS = 60_000;
const STEP_MS: Readonly<Record<Granularity, number>> = {
  '15m': 15 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '1d': 24 * 60 * MINUTE_MS,
};

export interface StatisticsSeries {
  /** Seconds since the epoch. */
  readonly x: number[];
  readonly attempts: (number | null)[];
  readonly bounces: (number | null)[];
  readonly complaints: (number | null)[];
  readonly rejects: (number | null)[];
  /** Percent of the bucket's delivery attempts; null without attempts. */
  readonly bounceRate: (number | null)[];
  readonly complaintRate: (number | null)[];
}

function overlapsGap(from: number, to: number, gaps: readonly Span[]): boolean {
  return gaps.some((g) => Date.parse(g.from) < to && Date.parse(g.to) > from);
}

const percent = (part: number, whole: number): number | null =>
  whole > 0 ? (part / whole) * 100 : null;

export function statisticsSeries(
  rows: readonly StatisticsRow[],
  granularity: Granularity,
  gaps: readonly Span[],
): StatisticsSeries {
  const s: StatisticsSeries = {
    x: [],
    attempts: [],
    bounces: [],
    complaints: [],
    rejects: [],
    bounceRate: [],
    complaintRate: [],
  };
  const push = (ms: number, row: Omit<StatisticsRow, 'Timestamp'> | null) => {
    s.x.push(ms / 1000);
    s.attempts.push(row?.DeliveryAttempts ?? null);
    s.bounces.push(row?.Bounces ?? null);
    s.complaints.push(row?.Complaints ?? null);
    s.rejects.push(row?.Rejects ?? null);
    s.bounceRate.push(row === null ? null : percent(row.Bounces, row.DeliveryAttempts));
    s.complaintRate.push(row === null ? null : percent(row.Complaints, row.DeliveryAttempts));
  };
  const zero = { DeliveryAttempts: 0, Bounces: 0, Complaints: 0, Rejects: 0 };
  const step = STEP_MS[granularity];
  rows.forEach((row, i) => {
    const at = Date.parse(row.Timestamp);
    push(at, row);
    const next = rows[i + 1];
    if (next === undefined) return;
    const nextAt = Date.parse(next.Timestamp);
    // 1.5 steps: a local day across a clock change lasts 23 or 25 hours.
    if (nextAt - at < step * 1.5) return;
    if (overlapsGap(at + step, nextAt, gaps)) {
      push(at + step, null);
      return;
    }
    push(at + step, zero);
    if (nextAt - step > at + step) push(nextAt - step, zero);
  });
  return s;
}

/** Quota use in percent at each snapshot; null when unlimited; a break across a gap. */
export function quotaSeries(rows: readonly UsageRow[], gaps: readonly Span[]): uPlot.AlignedData {
  const x: number[] = [];
  const used: (number | null)[] = [];
  rows.forEach((row, i) => {
    const at = Date.parse(row.CollectedAt);
    x.push(at / 1000);
    used.push(utilisation(row));
    const next = rows[i + 1];
    if (next !== undefined && overlapsGap(at, Date.parse(next.CollectedAt), gaps)) {
      x.push((at + Date.parse(next.CollectedAt)) / 2000);
      used.push(null);
    }
  });
  return [x, used];
}

export function utilisation(row: UsageRow): number | null {
  return row.Max24HourSend > 0 ? (row.SentLast24Hours / row.Max24HourSend) * 100 : null;
}

/** The gaps that touch [from, to), in milliseconds. */
export function gapsWithin(gaps: readonly Span[], from: number, to: number): Span[] {
  return gaps.filter((g) => Date.parse(g.from) < to && Date.parse(g.to) > from);
}
