import { mapLimited } from './concurrency.ts';
import { type StatisticsRow, sameCounts } from './datasets.ts';
import { StoreError } from './errors.ts';
import type { FetchedDatasets, StoreReport } from './results.ts';
import { sumBy } from './rollups.ts';
import type {
  DatasetKind,
  DatasetMeta,
  DatasetStore,
  RollupRow,
  Span,
  StoredPoint,
} from './store.ts';
import {
  ALL_TIME,
  addMs,
  DAY_MS,
  dayStart,
  hourStart,
  MINUTE_MS,
  mergeSpans,
  SES_WINDOW_MS,
  subtractSpan,
  subtractSpans,
} from './time.ts';

const BUCKET_MS = 15 * 60_000;
const WRITE_CONCURRENCY = 16;
const META_ATTEMPTS = 5;
/** A stored coverage ending this far after the server's time came from a host clock that ran fast. */
const FUTURE_TOLERANCE_MS = 5 * MINUTE_MS;

/** How a fetch is stored. */
export interface StoreOptions {
  /** The server's time of the statistics fetch: decides which write wins and what is covered. */
  readonly fetchedAt: Date;
  /**
   * Raw points expire this many days after their Timestamp; recorded in the dataset's metadata,
   * so a writer without the setting (the CLI on the deployed table) keeps the same rule.
   */
  readonly rawRetentionDays?: number;
  /**
   * The server's current time: a stored coverage ending after it (written under a host clock
   * that ran fast, before times came from the server) is cut back to it.
   */
  readonly serverNow?: Date;
  /** Reads started while SES answered (`prepareStore`). */
  readonly prepared?: PreparedStore;
}

/**
 * Stores one activity's fetch: a usage snapshot, then only the statistics points that are new or
 * changed (conditional on the fetch time, so an older fetch never overwrites a newer one), the
 * hourly and daily rollups whose sums differ from the raw points, and the coverage with any gap.
 *
 * Crash safety: before anything of the statistics dataset is written, the days about to change
 * are recorded as stale in its metadata (with the count of raw points outside them). A run that
 * stops anywhere leaves them recorded; the next run re-sums those days from the raw points (even
 * if SES no longer returns them), recounts, and clears them. Metadata writes are idempotent: a
 * write whose answer was lost is recognised on the re-read, never applied twice.
 */
export async function storeActivityResult(
  store: DatasetStore,
  result: FetchedDatasets,
  options: StoreOptions,
): Promise<StoreReport> {
  const { activity } = result;
  const fetched = options.fetchedAt.toISOString();
  const usageName = result.usage.name;
  const statsName = result.statistics.name;
  const early = options.prepared;
  const [usageMeta, stored] = await Promise.all([
    early?.usageMeta ?? store.getMeta(usageName),
    early?.statsMeta ?? store.getMeta(statsName),
  ]);
  checkKind(usageMeta, usageName, 'usage');
  checkKind(stored, statsName, 'statistics');
  // A snapshot newer than every counted one is written while the window is still read: it is
  // counted once whether or not the read sees it.
  const ours = result.usage.rows[0]?.CollectedAt;
  const usageWrite =
    result.usage.rows.length === 1 &&
    ours !== undefined &&
    (usageMeta?.lastTime === undefined || ours > usageMeta.lastTime)
      ? putUsage(store, result)
      : undefined;
  usageWrite?.catch(() => undefined);

  const retentionDays = options.rawRetentionDays ?? stored?.rawRetentionDays;
  const statsMeta = withoutExpiredStaleDays(stored, options.fetchedAt, retentionDays);
  const work = workDays(result.statistics.rows, statsMeta);
  const readAhead = await early?.window;
  const [window, usageSeen] = await Promise.all([
    readAhead !== undefined && coversAll(readAhead.spans, work)
      ? readAhead
      : readWindow(store, statsName, work),
    readUsageSince(store, usageName, usageMeta, ours, await early?.usageSince),
  ]);
  const plan = planStatistics(result.statistics.rows, fetched, window, work, statsMeta);

  const origin = { source: activity.source, activity: activity.name };
  let statsNow = statsMeta;
  if (plan.writes > 0 && plan.newlyStale.length > 0) {
    // Recorded before the first write, so a run stopped anywhere below is repaired by the next.
    statsNow = await updateMeta(store, statsName, 'statistics', statsMeta, (meta) => ({
      ...meta,
      ...origin,
      staleRollups: plan.work,
      staleBase: plan.base,
      ...(retentionDays === undefined ? {} : { rawRetentionDays: retentionDays }),
    }));
  }

  const [, points] = await Promise.all([
    usageWrite ?? putUsage(store, result),
    writeStatistics(store, statsName, plan, fetched, retentionDays),
  ]);

  const newUsage = newSnapshotCount(usageMeta, usageSeen, result.usage.rows);
  const coverageWindow = {
    from: new Date(options.fetchedAt.getTime() - SES_WINDOW_MS).toISOString(),
    to: fetched,
  };
  let newGaps: Span[] = [];
  await Promise.all([
    updateMeta(store, usageName, 'usage', usageMeta, (meta) => ({
      ...meta,
      ...origin,
      ...extend(
        meta,
        result.usage.rows.map((r) => r.CollectedAt),
      ),
      count: meta.count + newUsage,
    })),
    updateMeta(store, statsName, 'statistics', statsNow, (meta) => {
      const coverage = clampToServerTime(meta.coverage, options.serverNow);
      newGaps = gapsBetween(coverage, coverageWindow);
      const { staleRollups, staleBase, ...rest } = meta;
      return {
        ...rest,
        ...origin,
        ...extend(
          meta,
          result.statistics.rows.map((r) => r.Timestamp),
        ),
        count: points.count,
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
        ...(points.stale.length === 0
          ? {}
          : { staleRollups: points.stale, staleBase: points.staleBase }),
        ...(retentionDays === undefined ? {} : { rawRetentionDays: retentionDays }),
      };
    }),
  ]);
  return {
    pointsWritten: points.pointsWritten,
    pointsSkipped: points.pointsSkipped,
    hourlyWritten: points.hourlyWritten,
    dailyWritten: points.dailyWritten,
    newGaps,
    repaired: subtractSpans(statsMeta?.staleRollups ?? [], points.stale),
  };
}

async function putUsage(store: DatasetStore, result: FetchedDatasets): Promise<void> {
  for (const row of result.usage.rows) await store.putUsage(result.usage.name, row);
}

/** A window that does not touch the coverage leaves the span between them unseen. */
function gapsBetween(coverage: Span | undefined, window: Span): Span[] {
  if (coverage === undefined) return [];
  if (coverage.to < window.from) return [{ from: coverage.to, to: window.from }];
  if (window.to < coverage.from) return [{ from: window.to, to: coverage.from }];
  return [];
}

/** Coverage never ends after the server's time: a stored end in the future came from a fast host clock. */
function clampToServerTime(
  coverage: Span | undefined,
  serverNow: Date | undefined,
): Span | undefined {
  if (coverage === undefined || serverNow === undefined) return coverage;
  if (Date.parse(coverage.to) <= serverNow.getTime() + FUTURE_TOLERANCE_MS) return coverage;
  const now = serverNow.toISOString();
  return { from: [coverage.from, now].sort()[0] ?? now, to: now };
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

/**
 * Read-modify-write with a version check; `known` is the copy read at the start (undefined: none).
 * Returns the copy now stored.
 * A conflict re-reads: when the stored copy is exactly what this call wrote (the write landed and
 * its answer was lost, then the retry met its own version), it is done, never applied twice.
 */
async function updateMeta(
  store: DatasetStore,
  name: string,
  kind: DatasetKind,
  known: DatasetMeta | undefined,
  change: (meta: DatasetMeta) => DatasetMeta,
): Promise<DatasetMeta> {
  let current = known;
  for (let attempt = 1; attempt <= META_ATTEMPTS; attempt++) {
    const next = change(current ?? emptyMeta(name, kind));
    if (await store.putMeta(next)) return { ...next, version: next.version + 1 };
    current = await store.getMeta(name);
    if (current !== undefined && current.version === next.version + 1 && sameMeta(current, next))
      return current;
  }
  throw new StoreError(
    `dataset "${name}": its metadata kept changing under concurrent writers; ${META_ATTEMPTS} attempts failed`,
  );
}

function emptyMeta(name: string, kind: DatasetKind): DatasetMeta {
  return { name, kind, source: '', activity: '', count: 0, gaps: [], version: 0 };
}

/** Field-by-field equality of two metadata copies, version aside. */
export function sameMeta(a: DatasetMeta, b: DatasetMeta): boolean {
  const spans = (s: readonly Span[] | undefined) =>
    (s ?? []).map((x) => `${x.from}/${x.to}`).join(',');
  const fields = (m: DatasetMeta) =>
    [
      m.name,
      m.kind,
      m.source,
      m.activity,
      m.firstTime,
      m.lastTime,
      m.count,
      spans(m.coverage === undefined ? undefined : [m.coverage]),
      spans(m.gaps),
      spans(m.staleRollups),
      m.staleBase,
      m.rawRetentionDays,
    ].map((v) => (v === undefined ? null : v));
  return JSON.stringify(fields(a)) === JSON.stringify(fields(b));
}

/**
 * Usage snapshots stored after the metadata's last one, read before this fetch's is written: a
 * run stopped between writing its snapshot and its metadata left them uncounted.
 */
async function readUsageSince(
  store: DatasetStore,
  name: string,
  meta: DatasetMeta | undefined,
  ours: string | undefined,
  readAhead: UsageSince | undefined,
): Promise<readonly string[]> {
  const from = usageReadFrom(meta, ours);
  if (readAhead !== undefined && readAhead.from <= from)
    return readAhead.keys.filter((k) => k >= from);
  return (await store.readUsage(name, { from, to: ALL_TIME.to })).map((r) => r.CollectedAt);
}

function usageReadFrom(meta: DatasetMeta | undefined, ours: string | undefined): string {
  if (meta?.lastTime === undefined) return ALL_TIME.from;
  return ours !== undefined && ours < meta.lastTime ? ours : meta.lastTime;
}

function newSnapshotCount(
  meta: DatasetMeta | undefined,
  seen: readonly string[],
  rows: ReadonlyArray<{ CollectedAt: string }>,
): number {
  const last = meta?.lastTime;
  const known = new Set(seen);
  const added = new Set(seen.filter((k) => last === undefined || k > last));
  for (const row of rows) if (!known.has(row.CollectedAt)) added.add(row.CollectedAt);
  return added.size;
}

/** The stored copy of the days a fetch may change: raw points and both rollups. */
interface StoredWindow {
  /** The whole UTC days read, merged and ascending. */
  readonly spans: readonly Span[];
  readonly points: readonly StoredPoint[];
  readonly hourly: readonly RollupRow[];
  readonly daily: readonly RollupRow[];
}

/** Usage snapshot keys from `from` on. */
interface UsageSince {
  readonly from: string;
  readonly keys: readonly string[];
}

/** What storing a fetch reads, read ahead while SES answers (see `prepareStore`). */
export interface PreparedStore {
  readonly usageMeta: Promise<DatasetMeta | undefined>;
  readonly statsMeta: Promise<DatasetMeta | undefined>;
  readonly window: Promise<StoredWindow>;
  readonly usageSince: Promise<UsageSince>;
}

/**
 * Starts the reads that storing a fetch at about `fetchedAt` needs (metadata, the stored copy of
 * the SES window and of any stale days, the usage snapshots after the last counted one), so that
 * they overlap the SES calls. `storeActivityResult` uses each as soon as it needs it, and reads
 * again what does not cover the fetch actually made. A failed read surfaces only when used.
 */
export function prepareStore(
  store: DatasetStore,
  datasets: { usageDataset: string; statisticsDataset: string },
  fetchedAt: Date,
): PreparedStore {
  const approx = fetchedAt.toISOString();
  const name = datasets.statisticsDataset;
  const statsMeta = store.getMeta(name);
  const usageMeta = store.getMeta(datasets.usageDataset);
  // The window is read at once, beside the metadata; stale days outside it only once known.
  const days = workDays(
    [{ Timestamp: addMs(approx, -SES_WINDOW_MS) }, { Timestamp: approx }],
    undefined,
  );
  const window = Promise.all([readWindow(store, name, days), statsMeta]).then(
    async ([base, meta]) => {
      const extra = subtractSpans(meta?.staleRollups ?? [], days);
      if (extra.length === 0) return base;
      const more = await readWindow(store, name, mergeSpans(extra));
      return {
        spans: mergeSpans([...base.spans, ...more.spans]),
        points: [...base.points, ...more.points],
        hourly: [...base.hourly, ...more.hourly],
        daily: [...base.daily, ...more.daily],
      };
    },
  );
  const usageSince = usageMeta.then(async (meta) => {
    const from = usageReadFrom(meta, undefined);
    const rows = await store.readUsage(datasets.usageDataset, { from, to: ALL_TIME.to });
    return { from, keys: rows.map((r) => r.CollectedAt) };
  });
  for (const read of [statsMeta, usageMeta, window, usageSince]) read.catch(() => undefined);
  return { usageMeta, statsMeta, window, usageSince };
}

/**
 * Stale days whose raw points may already have expired cannot be re-summed (that would lose
 * counts): they are dropped from the list and keep the rollups they have.
 */
function withoutExpiredStaleDays(
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
function workDays(
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

function coversAll(outer: readonly Span[], inner: readonly Span[]): boolean {
  return subtractSpans(inner, outer).length === 0;
}

async function readWindow(
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
interface StatisticsPlan {
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
}

function planStatistics(
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
  };
}

interface PointsReport {
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

async function writeStatistics(
  store: DatasetStore,
  name: string,
  plan: StatisticsPlan,
  fetchedAt: string,
  retentionDays: number | undefined,
): Promise<PointsReport> {
  const { changed } = plan;
  const outcomes = await mapLimited(changed, WRITE_CONCURRENCY, (row) =>
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
