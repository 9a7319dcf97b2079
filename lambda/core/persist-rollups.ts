import { mapLimited } from './concurrency.ts';
import { type StatisticsRow, sameCounts } from './datasets.ts';
import { sumBy } from './rollups.ts';
import type { DatasetMeta, DatasetStore, RollupRow, Span, StoredPoint } from './store.ts';
import {
  ALL_TIME,
  addMs,
  DAY_MS,
  dayStart,
  hourStart,
  mergeSpans,
  SES_WINDOW_MS,
  subtractSpans,
} from './time.ts';

// The statistics half of storing a fetch: which whole UTC days it may change (with the days an
// interrupted run left stale), the stored copy of them, the plan of point and rollup writes, and
// the writes themselves.

const BUCKET_MS = 15 * 60_000;
/** Point writes in flight at once on the per-item path: up to this many take one round trip. */
export const WRITE_CONCURRENCY = 16;

/** The stored copy of the days a fetch may change: raw points and both rollups. */
export interface StoredWindow {
  /** The whole UTC days read, merged and ascending. */
  readonly spans: readonly Span[];
  readonly points: readonly StoredPoint[];
  readonly hourly: readonly RollupRow[];
  readonly daily: readonly RollupRow[];
}

/**
 * Stale days whose raw points may already have expired cannot be re-summed (that would lose
 * counts): they are dropped from the list and keep the rollups they have.
 */
export function withoutExpiredStaleDays(
  meta: DatasetMeta | undefined,
  fetchedAt: Date,
  retentionDays: number | undefined,
): DatasetMeta | undefined {
  if (meta?.staleRollups === undefined || retentionDays === undefined) return meta;
  const horizon = dayStart(
    new Date(fetchedAt.getTime() - (retentionDays - 1) * DAY_MS).toISOString(),
  );
  const kept = subtractSpans(meta.staleRollups, [{ from: ALL_TIME.from, to: horizon }]);
  if (
    kept.length === meta.staleRollups.length &&
    kept.every((s, i) => s.from === meta.staleRollups?.[i]?.from)
  )
    return meta;
  const { staleRollups: _, staleBase, ...rest } = meta;
  return kept.length === 0
    ? { ...rest, count: staleBase ?? meta.count }
    : { ...meta, staleRollups: kept };
}

/** The whole UTC days of the fetched rows, with the days an interrupted run left stale. */
export function workDays(
  rows: ReadonlyArray<{ Timestamp: string }>,
  meta: DatasetMeta | undefined,
): Span[] {
  const first = rows[0];
  const last = rows.at(-1);
  const window =
    first === undefined || last === undefined
      ? []
      : [{ from: dayStart(first.Timestamp), to: addMs(dayStart(last.Timestamp), DAY_MS) }];
  return mergeSpans([...window, ...(meta?.staleRollups ?? [])]);
}

/** True when `outer` covers every span of `inner`. */
export function coversAll(outer: readonly Span[], inner: readonly Span[]): boolean {
  return subtractSpans(inner, outer).length === 0;
}

/** Reads the stored raw points and both rollups of `spans`. */
export async function readWindow(
  store: DatasetStore,
  name: string,
  spans: readonly Span[],
): Promise<StoredWindow> {
  const parts = await Promise.all(
    spans.map((span) =>
      Promise.all([
        store.readPoints(name, span),
        store.readRollups(name, '1h', span),
        store.readRollups(name, '1d', span),
      ]),
    ),
  );
  return {
    spans,
    points: parts.flatMap(([points]) => points),
    hourly: parts.flatMap(([, hourly]) => hourly),
    daily: parts.flatMap(([, , daily]) => daily),
  };
}

/** What a fetch will write, decided before the first write. */
export interface StatisticsPlan {
  /** The days re-summed: the fetched rows' days and any stale days. */
  readonly work: readonly Span[];
  /** Work days not yet recorded as stale. */
  readonly newlyStale: readonly Span[];
  /** Raw points stored outside the work days (exact: rollups there are not stale). */
  readonly base: number;
  /** New or changed points. */
  readonly changed: readonly StatisticsRow[];
  /** The stored raw points of the work days, by Timestamp. */
  readonly stored: ReadonlyMap<string, StatisticsRow>;
  readonly storedHourly: readonly RollupRow[];
  readonly storedDaily: readonly RollupRow[];
  /** The rollups to write when every point write wins. */
  readonly hourly: readonly RollupRow[];
  readonly daily: readonly RollupRow[];
  /** Items the run expects to write (points and rollups). */
  readonly writes: number;
  /** The changed points go through the store's `writePoints` in a few requests (see `isBackfill`). */
  readonly backfill: boolean;
}

/**
 * Whether a fetch's points are a backfill, written with the store's `writePoints` (DynamoDB:
 * conditional transactions of 100 points, 2 write units each) instead of one conditional
 * `writePoint` per point (1 write unit each): when the dataset has no coverage yet (no fetch has
 * completed: a first fetch, or the rerun of one that stopped) and more points change than the
 * per-item path writes in one round trip. Decided from the metadata `prepareStore` already read.
 *
 * Why this is safe whatever the store holds: `writePoints` keeps each point's condition (a
 * newer fetch's copy is never overwritten), so the choice changes requests and cost, never what
 * is stored. Unconditional `BatchWriteItem` puts were rejected for points: an empty store at the
 * start says nothing about a concurrent newer run (a retried queue batch overlapping the next
 * run) that writes while the backfill is under way, nor about a stopped or suspended process
 * whose last batch lands later; no mark in the metadata can fence a write DynamoDB accepts
 * without a condition. Rollups were already batch-written unconditionally: they are derived,
 * and the stale days recorded before the first write re-sum them from the raw points.
 * Later fetches (coverage known) keep one conditional write per changed point: a few points,
 * at 1 write unit each, where a transaction would cost twice as much.
 */
export function isBackfill(meta: DatasetMeta | undefined, changed: number): boolean {
  return meta?.coverage === undefined && changed > WRITE_CONCURRENCY;
}

/** Decides, from the stored copy of the work days, which points and rollups this fetch writes. */
export function planStatistics(
  rows: readonly StatisticsRow[],
  fetchedAt: string,
  window: StoredWindow,
  work: readonly Span[],
  meta: DatasetMeta | undefined,
): StatisticsPlan {
  const inWork = (t: string) => work.some((s) => s.from <= t && t < s.to);
  const stored = new Map<string, StatisticsRow>(
    window.points.filter((p) => inWork(p.Timestamp)).map((p) => [p.Timestamp, p]),
  );
  const storedHourly = window.hourly.filter((r) => inWork(r.Timestamp));
  const storedDaily = window.daily.filter((r) => inWork(r.Timestamp));
  // The oldest bucket of a window can be cut by the window's edge: a stored copy of it is fuller.
  const edge = Date.parse(fetchedAt) - SES_WINDOW_MS + BUCKET_MS;
  const changed = rows.filter((row) => {
    const old = stored.get(row.Timestamp);
    return old === undefined || (!sameCounts(old, row) && Date.parse(row.Timestamp) >= edge);
  });
  const planned = new Map(stored);
  for (const row of changed) planned.set(row.Timestamp, row);
  const hourly = diffRollups(sumBy(planned.values(), hourStart), storedHourly);
  const daily = diffRollups(sumBy(planned.values(), dayStart), storedDaily);

  const stale = meta?.staleRollups ?? [];
  const newlyStale = subtractSpans(work, stale);
  const inNewlyStale = (t: string) => newlyStale.some((s) => s.from <= t && t < s.to);
  const before = stale.length > 0 ? (meta?.staleBase ?? meta?.count ?? 0) : (meta?.count ?? 0);
  const base =
    before - storedDaily.filter((r) => inNewlyStale(r.Timestamp)).reduce((n, r) => n + r.Points, 0);
  return {
    work,
    newlyStale,
    base,
    changed,
    stored,
    storedHourly,
    storedDaily,
    hourly,
    daily,
    writes: changed.length + hourly.length + daily.length,
    backfill: isBackfill(meta, changed.length),
  };
}

export interface PointsReport {
  readonly pointsWritten: number;
  readonly pointsSkipped: number;
  readonly hourlyWritten: number;
  readonly dailyWritten: number;
  /** Raw points stored, exact. */
  readonly count: number;
  /** Days left stale: a newer fetch won one of their points, so this run's view of them is old. */
  readonly stale: readonly Span[];
  readonly staleBase: number;
}

/**
 * Writes the changed points (a backfill through `writePoints`, otherwise one `writePoint` each),
 * then the rollups they change; an hour with a point a newer fetch won is left to that fetch,
 * and its day is reported stale.
 */
export async function writeStatistics(
  store: DatasetStore,
  name: string,
  plan: StatisticsPlan,
  fetchedAt: string,
  retentionDays: number | undefined,
): Promise<PointsReport> {
  const { changed } = plan;
  const outcomes =
    plan.backfill && store.writePoints !== undefined
      ? await store.writePoints(name, changed, fetchedAt, retentionDays)
      : await mapLimited(changed, WRITE_CONCURRENCY, (row) =>
          store.writePoint(name, row, fetchedAt, retentionDays),
        );
  const view = new Map(plan.stored);
  const lostHours = new Set<string>();
  changed.forEach((row, i) => {
    // A lost point still exists (a newer fetch wrote it): it counts, but our view of its hour
    // is old, so that hour is left to the newer fetch and its day stays stale.
    if (!outcomes[i]) lostHours.add(hourStart(row.Timestamp));
    if (outcomes[i] || !view.has(row.Timestamp)) view.set(row.Timestamp, row);
  });
  const lostDays = new Set([...lostHours].map(dayStart));
  const resolved = (t: string) => !lostDays.has(dayStart(t));
  // Every write won (the usual case): the view is the plan's, and so are its rollups.
  const hourly =
    lostHours.size === 0
      ? plan.hourly
      : diffRollups(sumBy(view.values(), hourStart), plan.storedHourly).filter(
          (r) => !lostHours.has(r.Timestamp),
        );
  const daily =
    lostHours.size === 0
      ? plan.daily
      : diffRollups(sumBy(view.values(), dayStart), plan.storedDaily).filter((r) =>
          resolved(r.Timestamp),
        );
  await Promise.all([
    store.writeRollups(name, '1h', hourly),
    store.writeRollups(name, '1d', daily),
  ]);
  const stale = mergeSpans([...lostDays].map((day) => ({ from: day, to: addMs(day, DAY_MS) })));
  const inWork = [...view.keys()].filter((t) => plan.work.some((s) => s.from <= t && t < s.to));
  const count = plan.base + inWork.length;
  const written = outcomes.filter(Boolean).length;
  return {
    pointsWritten: written,
    pointsSkipped: changed.length - written,
    hourlyWritten: hourly.length,
    dailyWritten: daily.length,
    count,
    stale,
    staleBase: count - inWork.filter((t) => !resolved(t)).length,
  };
}

function diffRollups(computed: Map<string, RollupRow>, stored: readonly RollupRow[]): RollupRow[] {
  const before = new Map(stored.map((r) => [r.Timestamp, r]));
  return [...computed.values()].filter((r) => {
    const old = before.get(r.Timestamp);
    return old === undefined || old.Points !== r.Points || !sameCounts(old, r);
  });
}
