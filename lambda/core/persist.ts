import type { ActivityResult } from './activity.ts';
import type { StatisticsRow } from './datasets.ts';
import {
  type DatasetKind,
  type DatasetMeta,
  type DatasetStore,
  type RollupRow,
  type Span,
  type StoredPoint,
  StoreError,
} from './store.ts';
import {
  addMs,
  DAY_MS,
  dayStart,
  HOUR_MS,
  hourStart,
  SES_WINDOW_MS,
  subtractSpan,
} from './time.ts';

/** What one store call wrote: the basis of the write-efficiency benchmark and of the run report. */
export interface StoreReport {
  readonly pointsWritten: number;
  /** Points a newer fetch had already written; left as they were. */
  readonly pointsSkipped: number;
  readonly hourlyWritten: number;
  readonly dailyWritten: number;
  /** Gaps recorded by this run (the collector was away longer than the SES window). */
  readonly newGaps: readonly Span[];
}

const COUNTS = ['DeliveryAttempts', 'Bounces', 'Complaints', 'Rejects'] as const;
const BUCKET_MS = 15 * 60_000;
const WRITE_CONCURRENCY = 16;
const META_ATTEMPTS = 5;

/**
 * Stores one activity's fetch: a usage snapshot, then only the statistics points that are new or
 * changed (conditional on the fetch time, so an older fetch never overwrites a newer one), the
 * hourly and daily rollups whose sums differ from what is stored, and the coverage with any gap.
 */
export async function storeActivityResult(
  store: DatasetStore,
  result: ActivityResult,
  fetchedAt: Date,
): Promise<StoreReport> {
  const { activity } = result;
  const fetched = fetchedAt.toISOString();
  const [usageMeta, statsMeta] = await Promise.all([
    store.getMeta(result.usage.name),
    store.getMeta(result.statistics.name),
  ]);
  checkKind(usageMeta, result.usage.name, 'usage');
  checkKind(statsMeta, result.statistics.name, 'statistics');

  const tally = { usage: 0, inserted: 0 };
  let points: PointsReport;
  try {
    for (const row of result.usage.rows) {
      await store.putUsage(result.usage.name, row);
      tally.usage++;
    }
    points = await writeStatistics(
      store,
      result.statistics.name,
      result.statistics.rows,
      fetched,
      tally,
    );
  } catch (error) {
    // What was written before the failure still counts; coverage moves only on success.
    await recordCounts(store, result, tally).catch(() => undefined);
    throw error;
  }

  const origin = { source: activity.source, activity: activity.name };
  await updateMeta(store, result.usage.name, 'usage', (meta) => ({
    ...meta,
    ...origin,
    ...extend(
      meta,
      result.usage.rows.map((r) => r.CollectedAt),
    ),
    count: meta.count + result.usage.rows.length,
  }));
  let newGaps: Span[] = [];
  await updateMeta(store, result.statistics.name, 'statistics', (meta) => {
    const window = {
      from: new Date(fetchedAt.getTime() - SES_WINDOW_MS).toISOString(),
      to: fetched,
    };
    const coverage = meta.coverage;
    // A window that does not touch the coverage leaves the span between them unseen.
    newGaps =
      coverage === undefined
        ? []
        : coverage.to < window.from
          ? [{ from: coverage.to, to: window.from }]
          : window.to < coverage.from
            ? [{ from: window.to, to: coverage.from }]
            : [];
    return {
      ...meta,
      ...origin,
      ...extend(
        meta,
        result.statistics.rows.map((r) => r.Timestamp),
      ),
      count: meta.count + tally.inserted,
      coverage: {
        from: coverage === undefined || window.from < coverage.from ? window.from : coverage.from,
        to: coverage === undefined || window.to > coverage.to ? window.to : coverage.to,
      },
      gaps: [...subtractSpan(meta.gaps, window), ...newGaps],
    };
  });
  return { ...points, newGaps };
}

async function recordCounts(
  store: DatasetStore,
  result: ActivityResult,
  tally: { usage: number; inserted: number },
): Promise<void> {
  const { activity } = result;
  const origin = { source: activity.source, activity: activity.name };
  if (tally.usage > 0)
    await updateMeta(store, result.usage.name, 'usage', (meta) => ({
      ...meta,
      ...origin,
      count: meta.count + tally.usage,
    }));
  if (tally.inserted > 0)
    await updateMeta(store, result.statistics.name, 'statistics', (meta) => ({
      ...meta,
      ...origin,
      count: meta.count + tally.inserted,
    }));
}

function checkKind(meta: DatasetMeta | undefined, name: string, kind: DatasetKind): void {
  if (meta !== undefined && meta.kind !== kind) {
    throw new StoreError(
      `dataset "${name}" holds ${meta.kind} data (from activity "${meta.activity}"); it cannot also store ${kind} data: give the activity another dataset name`,
    );
  }
}

function extend(
  meta: DatasetMeta,
  times: readonly string[],
): Pick<DatasetMeta, 'firstTime' | 'lastTime'> {
  const all = [
    ...times,
    ...(meta.firstTime === undefined ? [] : [meta.firstTime]),
    ...(meta.lastTime === undefined ? [] : [meta.lastTime]),
  ].sort();
  return { firstTime: all[0], lastTime: all.at(-1) };
}

async function updateMeta(
  store: DatasetStore,
  name: string,
  kind: DatasetKind,
  change: (meta: DatasetMeta) => DatasetMeta,
): Promise<void> {
  for (let attempt = 1; attempt <= META_ATTEMPTS; attempt++) {
    const current = (await store.getMeta(name)) ?? {
      name,
      kind,
      source: '',
      activity: '',
      count: 0,
      gaps: [],
      version: 0,
    };
    if (await store.putMeta(change(current))) return;
  }
  throw new StoreError(
    `dataset "${name}": its metadata kept changing under concurrent writers; ${META_ATTEMPTS} attempts failed`,
  );
}

interface PointsReport {
  pointsWritten: number;
  pointsSkipped: number;
  hourlyWritten: number;
  dailyWritten: number;
}

async function writeStatistics(
  store: DatasetStore,
  name: string,
  rows: readonly StatisticsRow[],
  fetchedAt: string,
  tally: { inserted: number },
): Promise<PointsReport> {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined)
    return { pointsWritten: 0, pointsSkipped: 0, hourlyWritten: 0, dailyWritten: 0 };
  // Whole hours and days around the window, so the rollups at its edges are summed from every point.
  const hours = { from: hourStart(first.Timestamp), to: addMs(hourStart(last.Timestamp), HOUR_MS) };
  const days = { from: dayStart(first.Timestamp), to: addMs(dayStart(last.Timestamp), DAY_MS) };
  const [stored, storedHourly, storedDaily] = await Promise.all([
    store.readPoints(name, hours),
    store.readRollups(name, '1h', days),
    store.readRollups(name, '1d', days),
  ]);
  const current = new Map<string, StatisticsRow>(stored.map((p) => [p.Timestamp, p]));
  // The oldest bucket of a window can be cut by the window's edge: a stored copy of it is fuller.
  const edge = new Date(Date.parse(fetchedAt) - SES_WINDOW_MS + BUCKET_MS).toISOString();
  const changed = rows.filter((row) => {
    const old = current.get(row.Timestamp);
    return (
      old === undefined || (!sameCounts(old, row) && Date.parse(row.Timestamp) >= Date.parse(edge))
    );
  });
  const outcomes = await mapLimited(changed, WRITE_CONCURRENCY, async (row) => {
    const won = await store.writePoint(name, row, fetchedAt);
    if (won && !current.has(row.Timestamp)) tally.inserted++;
    return won;
  });
  const lostHours = new Set<string>();
  changed.forEach((row, i) => {
    if (!outcomes[i]) {
      lostHours.add(hourStart(row.Timestamp));
      return;
    }
    current.set(row.Timestamp, row);
  });
  // An hour where a newer fetch won is left to that fetch: our view of it is stale.
  const hourly = diffRollups(sumBy(current.values(), hourStart), storedHourly).filter(
    (r) => !lostHours.has(r.Timestamp),
  );
  const hourlyNow = new Map(storedHourly.map((r) => [r.Timestamp, r]));
  for (const r of hourly) hourlyNow.set(r.Timestamp, r);
  const lostDays = new Set([...lostHours].map(dayStart));
  const daily = diffRollups(sumBy(hourlyNow.values(), dayStart), storedDaily).filter(
    (r) => !lostDays.has(r.Timestamp),
  );
  await store.writeRollups(name, '1h', hourly);
  await store.writeRollups(name, '1d', daily);
  const written = outcomes.filter(Boolean).length;
  return {
    pointsWritten: written,
    pointsSkipped: changed.length - written,
    hourlyWritten: hourly.length,
    dailyWritten: daily.length,
  };
}

function sameCounts(a: StatisticsRow | undefined, b: StatisticsRow): boolean {
  return a !== undefined && COUNTS.every((c) => a[c] === b[c]);
}

/** Sums rows (points or finer rollups) into buckets keyed by `bucketOf(Timestamp)`. */
function sumBy(
  rows: Iterable<StatisticsRow | RollupRow>,
  bucketOf: (iso: string) => string,
): Map<string, RollupRow> {
  const sums = new Map<string, RollupRow>();
  for (const row of rows) {
    const key = bucketOf(row.Timestamp);
    const sum = sums.get(key) ?? {
      Timestamp: key,
      DeliveryAttempts: 0,
      Bounces: 0,
      Complaints: 0,
      Rejects: 0,
      Points: 0,
    };
    sums.set(key, {
      Timestamp: key,
      DeliveryAttempts: sum.DeliveryAttempts + row.DeliveryAttempts,
      Bounces: sum.Bounces + row.Bounces,
      Complaints: sum.Complaints + row.Complaints,
      Rejects: sum.Rejects + row.Rejects,
      Points: sum.Points + ('Points' in row ? row.Points : 1),
    });
  }
  return sums;
}

function diffRollups(computed: Map<string, RollupRow>, stored: readonly RollupRow[]): RollupRow[] {
  const before = new Map(stored.map((r) => [r.Timestamp, r]));
  return [...computed.values()].filter((r) => {
    const old = before.get(r.Timestamp);
    return old === undefined || old.Points !== r.Points || !sameCounts(old, r);
  });
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  // After a failure no new item starts: the caller is about to report it.
  const worker = async () => {
    for (let i = next++; i < items.length && !failed; i = next++) {
      try {
        out[i] = await fn(items[i] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export type { StoredPoint };
