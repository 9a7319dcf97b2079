import type { ActivityResult } from './activity.ts';
import { mapLimited } from './concurrency.ts';
import { addCounts, type StatisticsRow, sameCounts, ZERO_COUNTS } from './datasets.ts';
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
  prepared?: Promise<PreparedStore>,
): Promise<StoreReport> {
  const { activity } = result;
  const fetched = fetchedAt.toISOString();
  const needed = spansOf(result.statistics.rows);
  const early = prepared === undefined ? undefined : await prepared;
  // Reads first, all at once; nothing is written before both kinds are checked.
  const [usageMeta, statsMeta, window] =
    early !== undefined && covers(early.spans, needed)
      ? [early.usageMeta, early.statsMeta, early.window]
      : await Promise.all([
          store.getMeta(result.usage.name),
          store.getMeta(result.statistics.name),
          readWindow(store, result.statistics.name, needed),
        ]);
  checkKind(usageMeta, result.usage.name, 'usage');
  checkKind(statsMeta, result.statistics.name, 'statistics');

  const tally = { usage: 0, inserted: 0 };
  let points: PointsReport;
  try {
    const putUsage = async () => {
      for (const row of result.usage.rows) {
        await store.putUsage(result.usage.name, row);
        tally.usage++;
      }
    };
    [, points] = await Promise.all([
      putUsage(),
      writeStatistics(
        store,
        result.statistics.name,
        result.statistics.rows,
        fetched,
        tally,
        window,
      ),
    ]);
  } catch (error) {
    // What was written before the failure still counts; coverage moves only on success.
    await recordCounts(store, result, tally).catch(() => undefined);
    throw error;
  }

  const origin = { source: activity.source, activity: activity.name };
  const coverageWindow = {
    from: new Date(fetchedAt.getTime() - SES_WINDOW_MS).toISOString(),
    to: fetched,
  };
  let newGaps: Span[] = [];
  await Promise.all([
    updateMeta(store, result.usage.name, 'usage', usageMeta, (meta) => ({
      ...meta,
      ...origin,
      ...extend(
        meta,
        result.usage.rows.map((r) => r.CollectedAt),
      ),
      count: meta.count + result.usage.rows.length,
    })),
    updateMeta(store, result.statistics.name, 'statistics', statsMeta, (meta) => {
      newGaps = gapsBetween(meta.coverage, coverageWindow);
      const coverage = meta.coverage;
      return {
        ...meta,
        ...origin,
        ...extend(
          meta,
          result.statistics.rows.map((r) => r.Timestamp),
        ),
        count: meta.count + tally.inserted,
        coverage: {
          from:
            coverage === undefined || coverageWindow.from < coverage.from
              ? coverageWindow.from
              : coverage.from,
          to:
            coverage === undefined || coverageWindow.to > coverage.to
              ? coverageWindow.to
              : coverage.to,
        },
        gaps: [...subtractSpan(meta.gaps, coverageWindow), ...newGaps],
      };
    }),
  ]);
  return { ...points, newGaps };
}

/** A window that does not touch the coverage leaves the span between them unseen. */
function gapsBetween(coverage: Span | undefined, window: Span): Span[] {
  if (coverage === undefined) return [];
  if (coverage.to < window.from) return [{ from: coverage.to, to: window.from }];
  if (window.to < coverage.from) return [{ from: window.to, to: coverage.from }];
  return [];
}

async function recordCounts(
  store: DatasetStore,
  result: ActivityResult,
  tally: { usage: number; inserted: number },
): Promise<void> {
  const { activity } = result;
  const origin = { source: activity.source, activity: activity.name };
  if (tally.usage > 0)
    await updateMeta(store, result.usage.name, 'usage', 'unread', (meta) => ({
      ...meta,
      ...origin,
      count: meta.count + tally.usage,
    }));
  if (tally.inserted > 0)
    await updateMeta(store, result.statistics.name, 'statistics', 'unread', (meta) => ({
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

/** Widens first/last time by `times` (ascending, as datasets are). */
function extend(
  meta: DatasetMeta,
  times: readonly string[],
): Pick<DatasetMeta, 'firstTime' | 'lastTime'> {
  const [first, last] = [times[0], times.at(-1)];
  return {
    firstTime:
      meta.firstTime === undefined || (first !== undefined && first < meta.firstTime)
        ? first
        : meta.firstTime,
    lastTime:
      meta.lastTime === undefined || (last !== undefined && last > meta.lastTime)
        ? last
        : meta.lastTime,
  };
}

/** Read-modify-write with a version check; `known` is the copy read at the start (undefined: none). */
async function updateMeta(
  store: DatasetStore,
  name: string,
  kind: DatasetKind,
  known: DatasetMeta | undefined | 'unread',
  change: (meta: DatasetMeta) => DatasetMeta,
): Promise<void> {
  let current = known;
  for (let attempt = 1; attempt <= META_ATTEMPTS; attempt++) {
    if (current === 'unread' || attempt > 1) current = await store.getMeta(name);
    const base = current ?? {
      name,
      kind,
      source: '',
      activity: '',
      count: 0,
      gaps: [],
      version: 0,
    };
    if (await store.putMeta(change(base))) return;
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

/** The stored copy of what a fetch may change: its points, and the rollups of its hours and days. */
interface StoredWindow {
  readonly points: readonly StoredPoint[];
  readonly hourly: readonly RollupRow[];
  readonly daily: readonly RollupRow[];
}

/** What storing a fetch reads, read ahead while SES answers (see `prepareStore`). */
export interface PreparedStore {
  readonly usageMeta: DatasetMeta | undefined;
  readonly statsMeta: DatasetMeta | undefined;
  readonly window: StoredWindow;
  readonly spans: WindowSpans | undefined;
}

/** Whole hours and days around a window, so the rollups at its edges are summed from every point. */
interface WindowSpans {
  readonly hours: Span;
  readonly days: Span;
}

/**
 * Starts the reads that storing a fetch at about `fetchedAt` needs (metadata, the stored copy of
 * the SES window), so that they overlap the SES calls. `storeActivityResult` uses them when they
 * cover the window actually fetched, and reads again otherwise.
 */
export async function prepareStore(
  store: DatasetStore,
  datasets: { usageDataset: string; statisticsDataset: string },
  fetchedAt: Date,
): Promise<PreparedStore> {
  const spans = spansOf([
    { Timestamp: new Date(fetchedAt.getTime() - SES_WINDOW_MS).toISOString() },
    { Timestamp: fetchedAt.toISOString() },
  ]);
  const [usageMeta, statsMeta, window] = await Promise.all([
    store.getMeta(datasets.usageDataset),
    store.getMeta(datasets.statisticsDataset),
    readWindow(store, datasets.statisticsDataset, spans),
  ]);
  return { usageMeta, statsMeta, window, spans };
}

function spansOf(rows: ReadonlyArray<{ Timestamp: string }>): WindowSpans | undefined {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return undefined;
  return {
    hours: { from: hourStart(first.Timestamp), to: addMs(hourStart(last.Timestamp), HOUR_MS) },
    days: { from: dayStart(first.Timestamp), to: addMs(dayStart(last.Timestamp), DAY_MS) },
  };
}

function covers(outer: WindowSpans | undefined, inner: WindowSpans | undefined): boolean {
  if (inner === undefined) return true;
  if (outer === undefined) return false;
  const within = (o: Span, i: Span) => o.from <= i.from && i.to <= o.to;
  return within(outer.hours, inner.hours) && within(outer.days, inner.days);
}

async function readWindow(
  store: DatasetStore,
  name: string,
  spans: WindowSpans | undefined,
): Promise<StoredWindow> {
  if (spans === undefined) return { points: [], hourly: [], daily: [] };
  const { hours, days } = spans;
  const [points, hourly, daily] = await Promise.all([
    store.readPoints(name, hours),
    store.readRollups(name, '1h', days),
    store.readRollups(name, '1d', days),
  ]);
  return { points, hourly, daily };
}

async function writeStatistics(
  store: DatasetStore,
  name: string,
  rows: readonly StatisticsRow[],
  fetchedAt: string,
  tally: { inserted: number },
  window: StoredWindow,
): Promise<PointsReport> {
  if (rows.length === 0)
    return { pointsWritten: 0, pointsSkipped: 0, hourlyWritten: 0, dailyWritten: 0 };
  const { points: stored, hourly: storedHourly, daily: storedDaily } = window;
  const current = new Map<string, StatisticsRow>(stored.map((p) => [p.Timestamp, p]));
  // The oldest bucket of a window can be cut by the window's edge: a stored copy of it is fuller.
  const edge = Date.parse(fetchedAt) - SES_WINDOW_MS + BUCKET_MS;
  const changed = rows.filter((row) => {
    const old = current.get(row.Timestamp);
    return old === undefined || (!sameCounts(old, row) && Date.parse(row.Timestamp) >= edge);
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
  await Promise.all([
    store.writeRollups(name, '1h', hourly),
    store.writeRollups(name, '1d', daily),
  ]);
  const written = outcomes.filter(Boolean).length;
  return {
    pointsWritten: written,
    pointsSkipped: changed.length - written,
    hourlyWritten: hourly.length,
    dailyWritten: daily.length,
  };
}

/** Sums rows (points or finer rollups) into buckets keyed by `bucketOf(Timestamp)`. */
function sumBy(
  rows: Iterable<StatisticsRow | RollupRow>,
  bucketOf: (iso: string) => string,
): Map<string, RollupRow> {
  const sums = new Map<string, RollupRow>();
  for (const row of rows) {
    const key = bucketOf(row.Timestamp);
    const sum = sums.get(key);
    const points = 'Points' in row ? row.Points : 1;
    sums.set(
      key,
      sum === undefined
        ? { ...addCounts(ZERO_COUNTS, row), Timestamp: key, Points: points }
        : { ...addCounts(sum, row), Timestamp: key, Points: sum.Points + points },
    );
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
