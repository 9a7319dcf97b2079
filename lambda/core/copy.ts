import { mapLimited } from './concurrency.ts';
import {
  type AccountRow,
  addCounts,
  type ReputationRow,
  type StatisticsRow,
  sameCounts,
  sameReputation,
  type UsageRow,
  ZERO_COUNTS,
} from './datasets.ts';
import { StoreError, UnknownDatasetError } from './errors.ts';
import { sameMeta, updateMeta } from './persist-meta.ts';
import { withoutExpiredStaleDays } from './persist-rollups.ts';
import { sumBy } from './rollups.ts';
import type {
  DatasetMeta,
  DatasetStore,
  RollupRow,
  Span,
  StoredPoint,
  StoredReputation,
} from './store.ts';
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

// Copies datasets between two stores (local history into the deployed table, or back): only what
// differs is written, the newer fetch of a point wins, coverage and gaps are merged, and a copy
// stopped anywhere is finished by running it again.

const WRITE_CONCURRENCY = 16;
/** Days read per step: bounds memory whatever the history's length. */
export const COPY_CHUNK_DAYS = 31;

export interface CopyProgress {
  readonly dataset: string;
  /**
   * Steps done and in all (a step is one chunk of days, a usage dataset, or an account dataset's
   * states).
   */
  readonly done: number;
  readonly total: number;
}

export interface CopyOptions {
  /** The time raw points are judged expired by (the target's retention); the host's clock. */
  readonly now: Date;
  readonly chunkDays?: number;
  readonly onProgress?: (progress: CopyProgress) => void;
}

/** What copying one dataset wrote into the target. */
export interface CopyReport {
  readonly dataset: string;
  readonly kind: DatasetMeta['kind'];
  /** Raw points written; for an account dataset, its reputation points. */
  readonly pointsWritten: number;
  /** Source points (raw or reputation) the target already held from a newer fetch (kept). */
  readonly pointsKeptNewer: number;
  readonly hourlyWritten: number;
  readonly dailyWritten: number;
  readonly usageWritten: number;
  /** Account states written (new, or seen later in the source than in the target). */
  readonly statesWritten: number;
  readonly metaWritten: boolean;
}

/** Copies every dataset of `from` (or only `only`) into `to`, one after another. */
export async function copyDatasets(
  from: DatasetStore,
  to: DatasetStore,
  only: string | undefined,
  options: CopyOptions,
): Promise<CopyReport[]> {
  const metas = await from.listMeta();
  const chosen = only === undefined ? metas : metas.filter((m) => m.name === only);
  if (only !== undefined && chosen.length === 0)
    throw new UnknownDatasetError(
      only,
      metas.map((m) => m.name),
    );
  const reports: CopyReport[] = [];
  for (const meta of chosen) reports.push(await copyDataset(from, to, meta, options));
  return reports;
}

/** Copies one dataset whose source metadata is `source`. */
export async function copyDataset(
  from: DatasetStore,
  to: DatasetStore,
  source: DatasetMeta,
  options: CopyOptions,
): Promise<CopyReport> {
  const target = await to.getMeta(source.name);
  if (target !== undefined && target.kind !== source.kind)
    throw new StoreError(
      `dataset "${source.name}" holds ${target.kind} data in the target but ${source.kind} data in the source; it was not copied`,
    );
  // The final metadata write is conditional: if another writer (a collect on the target) moved
  // it on meanwhile, the pass runs again over what is stored now; it writes only what differs.
  let known = target;
  for (let pass = 1; pass <= PASSES; pass++) {
    const outcome =
      source.kind === 'usage'
        ? await copyUsage(from, to, source, known, options)
        : source.kind === 'account'
          ? await copyAccount(from, to, source, known, options)
          : await copyStatistics(from, to, source, known, options);
    if (outcome.done) return outcome.report;
    known = await to.getMeta(source.name);
  }
  throw new StoreError(
    `dataset "${source.name}": the target's metadata kept changing under another writer during ${PASSES} passes of the copy; run the copy again`,
  );
}

const PASSES = 3;

interface Pass {
  readonly report: CopyReport;
  /** False when the final metadata write met another writer's version. */
  readonly done: boolean;
}

async function copyUsage(
  from: DatasetStore,
  to: DatasetStore,
  source: DatasetMeta,
  target: DatasetMeta | undefined,
  options: CopyOptions,
): Promise<Pass> {
  const { name } = source;
  const [rows, stored] = await Promise.all([
    from.readUsage(name, ALL_TIME),
    to.readUsage(name, ALL_TIME),
  ]);
  const have = new Map(stored.map((r) => [r.CollectedAt, r]));
  const writes = rows.filter((r) => {
    const old = have.get(r.CollectedAt);
    return old === undefined || !sameUsage(old, r);
  });
  // Metadata last: until it is written the target's count and times are its own, as before.
  await mapLimited(writes, WRITE_CONCURRENCY, (row) => to.putUsage(name, row));
  const keys = new Set([...have.keys(), ...rows.map((r) => r.CollectedAt)]);
  const times = [...keys].sort();
  const meta = await finish(to, source, target, (meta) => ({
    ...meta,
    firstTime: times[0],
    lastTime: times.at(-1),
    count: keys.size,
  }));
  options.onProgress?.({ dataset: name, done: 1, total: 1 });
  return {
    report: { ...none(source), usageWritten: writes.length, metaWritten: meta === 'written' },
    done: meta !== 'conflict',
  };
}

/**
 * An account dataset: its states (few: a row per change), then its reputation points in chunks of
 * days, then the metadata. A state is written when the target lacks it or saw it less recently
 * (the later LastSeen wins, as `putAccountState` keeps it); a reputation point as a raw point is,
 * the newer fetch winning, a rate one copy lacks taken from the other. Two histories of the same
 * account are merged as the union of their states, each keyed by its FirstSeen.
 */
async function copyAccount(
  from: DatasetStore,
  to: DatasetStore,
  source: DatasetMeta,
  target: DatasetMeta | undefined,
  options: CopyOptions,
): Promise<Pass> {
  const { name } = source;
  const [states, stored, firsts] = await Promise.all([
    from.readAccountStates(name, ALL_TIME),
    to.readAccountStates(name, ALL_TIME),
    Promise.all([from.readReputation(name, ALL_TIME, 1), to.readReputation(name, ALL_TIME, 1)]),
  ]);
  const have = new Map(stored.map((s) => [s.FirstSeen, s]));
  const stateWrites = states.filter((s) => {
    const old = have.get(s.FirstSeen);
    return old === undefined || old.LastSeen < s.LastSeen;
  });
  await mapLimited(stateWrites, WRITE_CONCURRENCY, (row) => to.putAccountState(name, row));
  const chunks = reputationChunks(
    firsts.flat().map((r) => r.Timestamp),
    [source.lastTime, target?.lastTime],
    (options.chunkDays ?? COPY_CHUNK_DAYS) * DAY_MS,
  );
  const total = chunks.length + 1;
  options.onProgress?.({ dataset: name, done: 1, total });
  let pointsWritten = 0;
  let pointsKeptNewer = 0;
  for (const [i, chunk] of chunks.entries()) {
    const step = await copyReputation(from, to, name, chunk);
    pointsWritten += step.written;
    pointsKeptNewer += step.keptNewer;
    options.onProgress?.({ dataset: name, done: i + 2, total });
  }

  const merged = new Map(have);
  for (const s of stateWrites) merged.set(s.FirstSeen, { ...s });
  const rows = [...merged.values()].sort((a, b) => (a.FirstSeen < b.FirstSeen ? -1 : 1));
  const meta = await finish(to, source, target, (meta) => accountMeta(meta, rows));
  return {
    report: {
      ...none(source),
      pointsWritten,
      pointsKeptNewer,
      statesWritten: stateWrites.length,
      metaWritten: meta === 'written',
    },
    done: meta !== 'conflict',
  };
}

/** An account dataset's metadata as its states make it (reputation points are not counted). */
function accountMeta(meta: DatasetMeta, rows: readonly AccountRow[]): DatasetMeta {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return meta;
  const lastTime = rows
    .map((r) => r.LastSeen)
    .sort()
    .at(-1) as string;
  return {
    ...meta,
    firstTime: first.FirstSeen,
    lastTime,
    count: rows.length,
    lastChange: last.FirstSeen,
    coverage: { from: first.FirstSeen, to: lastTime },
    gaps: [],
  };
}

/**
 * Spans over every reputation point: chunks of `chunkMs` from the day of the first point either
 * store holds up to the last time either recorded, the first from the start of time and the last
 * to its end, so a point outside the recorded times is still copied.
 */
function reputationChunks(
  firsts: readonly string[],
  lasts: ReadonlyArray<string | undefined>,
  chunkMs: number,
): Span[] {
  const first = [...firsts].sort()[0];
  if (first === undefined) return [];
  const last = [first, ...lasts.filter((t) => t !== undefined)].sort().at(-1) as string;
  const bounds = [ALL_TIME.from];
  for (let at = addMs(dayStart(first), chunkMs); at <= last; at = addMs(at, chunkMs))
    bounds.push(at);
  bounds.push(ALL_TIME.to);
  return bounds.slice(1).map((to, i) => ({ from: bounds[i] as string, to }));
}

/** One chunk of reputation points; each fetch's points in one `writeReputation` call. */
async function copyReputation(
  from: DatasetStore,
  to: DatasetStore,
  name: string,
  chunk: Span,
): Promise<{ written: number; keptNewer: number }> {
  const [points, stored] = await Promise.all([
    from.readReputation(name, chunk),
    to.readReputation(name, chunk),
  ]);
  const have = new Map(stored.map((p) => [p.Timestamp, p]));
  const byFetch = new Map<string, ReputationRow[]>();
  let keptNewer = 0;
  for (const point of points) {
    const old = have.get(point.Timestamp);
    const write = reputationWrite(old, point);
    if (write === 'keptNewer') keptNewer++;
    if (write === undefined || write === 'keptNewer') continue;
    const rows = byFetch.get(write.fetchedAt) ?? [];
    const { fetchedAt: _, ...row } = write;
    rows.push(row);
    byFetch.set(write.fetchedAt, rows);
  }
  let written = 0;
  for (const [fetchedAt, rows] of byFetch) {
    const won = await to.writeReputation(name, rows, fetchedAt);
    // A point lost here was written meanwhile by a newer fetch: the target keeps that one.
    written += won.filter(Boolean).length;
    keptNewer += won.filter((w) => !w).length;
  }
  return { written, keptNewer };
}

/**
 * What copying `point` over the target's `old` writes: the newer fetch's rates, a rate it lacks
 * taken from the other copy (as a collect keeps a rate CloudWatch left out); nothing when the
 * target already holds that (or the same rates); 'keptNewer' when the target's copy is from a
 * newer fetch and lacks nothing the source has.
 */
function reputationWrite(
  old: StoredReputation | undefined,
  point: StoredReputation,
): StoredReputation | 'keptNewer' | undefined {
  if (old === undefined) return point;
  if (sameReputation(old, point)) return undefined;
  const [newer, older] = old.fetchedAt >= point.fetchedAt ? [old, point] : [point, old];
  const merged: StoredReputation = {
    Timestamp: old.Timestamp,
    BounceRate: newer.BounceRate ?? older.BounceRate,
    ComplaintRate: newer.ComplaintRate ?? older.ComplaintRate,
    fetchedAt: newer.fetchedAt,
  };
  if (sameReputation(old, merged)) return old.fetchedAt > point.fetchedAt ? 'keptNewer' : undefined;
  return merged;
}

async function copyStatistics(
  from: DatasetStore,
  to: DatasetStore,
  source: DatasetMeta,
  stored: DatasetMeta | undefined,
  options: CopyOptions,
): Promise<Pass> {
  const { name } = source;
  const retention = stored?.rawRetentionDays ?? source.rawRetentionDays;
  // Stale days whose raw points may have expired keep their rollups, as a collect would.
  const known = withoutExpiredStaleDays(stored, options.now, retention);
  const chunkMs = (options.chunkDays ?? COPY_CHUNK_DAYS) * DAY_MS;
  const times = [source.firstTime, source.lastTime, known?.firstTime, known?.lastTime].filter(
    (t): t is string => t !== undefined,
  );
  // Stale days on either side may hold points past the recorded first and last time.
  const stale = [...(known?.staleRollups ?? []), ...(source.staleRollups ?? [])];
  // Days whose raw points expired keep their rollups: the daily ones (one item a day) mark them.
  const days = (
    await Promise.all([
      from.readRollups(name, '1d', ALL_TIME),
      to.readRollups(name, '1d', ALL_TIME),
    ])
  ).flatMap((rows) => [rows[0]?.Timestamp, rows.at(-1)?.Timestamp].filter((t) => t !== undefined));
  const first = [...times, ...days, ...stale.map((s) => s.from)].sort()[0];
  const last = [...times, ...days, ...stale.map((s) => addMs(s.to, -1))].sort().at(-1);
  const chunks: Span[] = [];
  if (first !== undefined && last !== undefined)
    for (let at = dayStart(first); at <= last; at = addMs(at, chunkMs))
      chunks.push({ from: at, to: addMs(at, chunkMs) });

  let target = known;
  let count = 0;
  const report = { pointsWritten: 0, pointsKeptNewer: 0, hourlyWritten: 0, dailyWritten: 0 };
  for (const [i, chunk] of chunks.entries()) {
    const step = await copyChunk(from, to, source, chunk, target, {
      retention,
      expiredBefore:
        retention === undefined
          ? undefined
          : new Date(options.now.getTime() - retention * DAY_MS).toISOString(),
    });
    target = step.target;
    count += step.count;
    times.push(...step.span);
    report.pointsWritten += step.pointsWritten;
    report.pointsKeptNewer += step.pointsKeptNewer;
    report.hourlyWritten += step.hourlyWritten;
    report.dailyWritten += step.dailyWritten;
    options.onProgress?.({ dataset: name, done: i + 1, total: chunks.length });
  }
  const meta = await finish(to, source, target, (meta) => {
    // Every day of the range was re-summed (stale ones from their raw points): none stays stale.
    const { staleRollups: _, staleBase: __, ...rest } = meta;
    return {
      ...rest,
      ...mergedCoverage(source, meta),
      firstTime: times.sort()[0],
      lastTime: times.sort().at(-1),
      count,
      ...(retention === undefined ? {} : { rawRetentionDays: retention }),
    };
  });
  return {
    report: { ...none(source), ...report, metaWritten: meta === 'written' },
    done: meta !== 'conflict',
  };
}

interface ChunkStep {
  readonly target: DatasetMeta | undefined;
  /** Raw points the target holds in the chunk afterwards, and the first and last of them. */
  readonly count: number;
  readonly span: readonly string[];
  readonly pointsWritten: number;
  readonly pointsKeptNewer: number;
  readonly hourlyWritten: number;
  readonly dailyWritten: number;
}

/**
 * One chunk of days: the points the target lacks or holds from an older fetch with other counts,
 * then the rollups. An hour's rollup is the one that sums the most raw points among the target's,
 * the source's and the sum of the merged raw points (raw points may have expired on either side
 * while their rollups remain); in days a stopped run left stale, only the sum counts. Days whose
 * points change are first recorded as stale in the target, so a copy stopped before their rollups
 * are written is repaired by the next copy or collect.
 */
async function copyChunk(
  from: DatasetStore,
  to: DatasetStore,
  source: DatasetMeta,
  chunk: Span,
  known: DatasetMeta | undefined,
  rule: { readonly retention: number | undefined; readonly expiredBefore: string | undefined },
): Promise<ChunkStep> {
  const { name } = source;
  let target = known;
  let pointsWritten = 0;
  let pointsKeptNewer = 0;
  for (let attempt = 1; attempt <= POINT_ATTEMPTS; attempt++) {
    const [points, hourly, stored, storedHourly, storedDaily] = await Promise.all([
      from.readPoints(name, chunk),
      from.readRollups(name, '1h', chunk),
      to.readPoints(name, chunk),
      to.readRollups(name, '1h', chunk),
      to.readRollups(name, '1d', chunk),
    ]);
    const have = new Map<string, StoredPoint>(stored.map((p) => [p.Timestamp, p]));
    const writes: StoredPoint[] = [];
    let keptNewer = 0;
    for (const point of points) {
      // A point the target's retention has already expired is not brought back.
      if (rule.expiredBefore !== undefined && point.Timestamp < rule.expiredBefore) continue;
      const old = have.get(point.Timestamp);
      if (old === undefined) writes.push(point);
      else if (sameCounts(old, point)) continue;
      // The oldest bucket of a fetch's window can be cut by the window's edge: never a
      // replacement for another copy (as when a fetch is stored).
      else if (atEdge(point)) keptNewer++;
      // A cut copy is replaced by a full one, under the later fetch time so a newer fetch still wins.
      else if (atEdge(old))
        writes.push(
          old.fetchedAt > point.fetchedAt ? { ...point, fetchedAt: old.fetchedAt } : point,
        );
      else if (old.fetchedAt < point.fetchedAt) writes.push(point);
      else if (old.fetchedAt > point.fetchedAt) keptNewer++;
    }
    const view = new Map<string, StatisticsRow>(have);
    for (const point of writes) view.set(point.Timestamp, point);

    const staleNow = target?.staleRollups ?? [];
    // On a tie the target's own rollup stays (nothing to write).
    const chosen = chooseHourly(sumBy(view.values(), hourStart), [
      without(storedHourly, staleNow),
      without(hourly, source.staleRollups ?? []),
    ]);
    const daily = sumHourly(chosen.rows);
    const hourlyWrites = changedRollups(chosen.rows, storedHourly);
    const dailyWrites = changedRollups(daily, storedDaily);

    // Days whose rollups will equal their raw sums: safe to mark stale for a repair from raw.
    const pointDays = [...new Set(writes.map((p) => dayStart(p.Timestamp)))];
    const markDays = pointDays.filter((day) => !chosen.notRaw.has(day));
    const newlyStale = subtractSpans(
      mergeSpans(markDays.map((day) => ({ from: day, to: addMs(day, DAY_MS) }))),
      staleNow,
    );
    if (newlyStale.length > 0) {
      const inNew = (t: string) => newlyStale.some((s) => s.from <= t && t < s.to);
      const leaving = stored.filter((p) => inNew(p.Timestamp)).length;
      target = await updateMeta(to, name, 'statistics', target, (meta) => ({
        ...meta,
        staleRollups: mergeSpans([...(meta.staleRollups ?? []), ...newlyStale]),
        staleBase:
          (meta.staleRollups === undefined ? meta.count : (meta.staleBase ?? meta.count)) - leaving,
        ...(meta.source === '' ? { source: source.source, activity: source.activity } : {}),
      }));
    }
    const outcomes = await mapLimited(writes, WRITE_CONCURRENCY, (p) =>
      to.writePoint(name, p, p.fetchedAt, rule.retention),
    );
    const won = outcomes.filter(Boolean).length;
    pointsWritten += won;
    // A newer fetch wrote some of these points meanwhile: look again (the days stay stale).
    if (won < writes.length) continue;
    pointsKeptNewer += keptNewer;
    // Hourly first: a stop between them leaves days the next copy compares again.
    await to.writeRollups(name, '1h', hourlyWrites);
    await to.writeRollups(name, '1d', dailyWrites);
    return {
      target,
      count: view.size,
      span: [...view.keys()].sort().filter((_, i, all) => i === 0 || i === all.length - 1),
      pointsWritten,
      pointsKeptNewer,
      hourlyWritten: hourlyWrites.length,
      dailyWritten: dailyWrites.length,
    };
  }
  throw new StoreError(
    `dataset "${name}": newer fetches kept writing the points being copied (${chunk.from} to ${chunk.to}); run the copy again (the days are recorded as stale and repaired by the next copy or collect)`,
  );
}

const POINT_ATTEMPTS = 3;
/** A point in the first bucket of its fetch's two-week window. */
const atEdge = (p: StoredPoint): boolean =>
  Date.parse(p.Timestamp) < Date.parse(p.fetchedAt) - SES_WINDOW_MS + 15 * 60_000;

/**
 * Per hour, the rollup summing the most raw points (ties: the sum of the raw points); `notRaw`
 * holds the days where a stored rollup won.
 */
function chooseHourly(
  summed: Map<string, RollupRow>,
  stored: ReadonlyArray<readonly RollupRow[]>,
): { rows: RollupRow[]; notRaw: Set<string> } {
  const best = new Map(summed);
  const notRaw = new Set<string>();
  for (const rows of stored) {
    for (const row of rows) {
      const current = best.get(row.Timestamp);
      if (current === undefined || row.Points > current.Points) {
        best.set(row.Timestamp, row);
        notRaw.add(dayStart(row.Timestamp));
      }
    }
  }
  const rows = [...best.values()].sort((a, b) =>
    a.Timestamp < b.Timestamp ? -1 : a.Timestamp > b.Timestamp ? 1 : 0,
  );
  return { rows, notRaw };
}

/** Rollups outside the days a stopped run left stale (there only the raw points count). */
function without(rows: readonly RollupRow[], stale: readonly Span[]): RollupRow[] {
  return rows.filter((r) => !stale.some((s) => s.from <= r.Timestamp && r.Timestamp < s.to));
}

function sumHourly(hourly: readonly RollupRow[]): RollupRow[] {
  const days = new Map<string, RollupRow>();
  for (const row of hourly) {
    const day = dayStart(row.Timestamp);
    const sum = days.get(day) ?? { ...ZERO_COUNTS, Timestamp: day, Points: 0 };
    days.set(day, { ...addCounts(sum, row), Timestamp: day, Points: sum.Points + row.Points });
  }
  return [...days.values()];
}

function changedRollups(rows: readonly RollupRow[], stored: readonly RollupRow[]): RollupRow[] {
  const before = new Map(stored.map((r) => [r.Timestamp, r]));
  return rows.filter((r) => {
    const old = before.get(r.Timestamp);
    return old === undefined || old.Points !== r.Points || !sameCounts(old, r);
  });
}

/** Coverage of both copies: what either saw is covered; gaps are what neither saw. */
function mergedCoverage(a: DatasetMeta, b: DatasetMeta): Pick<DatasetMeta, 'coverage' | 'gaps'> {
  const spans = [a, b].flatMap((m) => (m.coverage === undefined ? [] : [m.coverage]));
  if (spans.length === 0) return { gaps: [] };
  const coverage = {
    from: spans.map((s) => s.from).sort()[0] as string,
    to: spans
      .map((s) => s.to)
      .sort()
      .at(-1) as string,
  };
  const seen = mergeSpans(
    [a, b].flatMap((m) => (m.coverage === undefined ? [] : subtractSpans([m.coverage], m.gaps))),
  );
  return { coverage, gaps: subtractSpans([coverage], seen) };
}

/**
 * Writes the target's final metadata unless it already says exactly that; 'conflict' when
 * another writer's version came first (the caller runs the pass again).
 */
async function finish(
  to: DatasetStore,
  source: DatasetMeta,
  target: DatasetMeta | undefined,
  change: (meta: DatasetMeta) => DatasetMeta,
): Promise<'written' | 'unchanged' | 'conflict'> {
  const current: DatasetMeta = target ?? {
    name: source.name,
    kind: source.kind,
    source: '',
    activity: '',
    count: 0,
    gaps: [],
    version: 0,
  };
  // The target's own writer stays named; a new dataset is named after the source's.
  const next = change(
    current.source === ''
      ? { ...current, source: source.source, activity: source.activity }
      : current,
  );
  if (target !== undefined && sameMeta(target, next)) return 'unchanged';
  return (await to.putMeta(next)) ? 'written' : 'conflict';
}

function sameUsage(a: UsageRow, b: UsageRow): boolean {
  return (
    a.Max24HourSend === b.Max24HourSend &&
    a.MaxSendRate === b.MaxSendRate &&
    a.SentLast24Hours === b.SentLast24Hours
  );
}

function none(source: DatasetMeta): CopyReport {
  return {
    dataset: source.name,
    kind: source.kind,
    pointsWritten: 0,
    pointsKeptNewer: 0,
    hourlyWritten: 0,
    dailyWritten: 0,
    usageWritten: 0,
    statesWritten: 0,
    metaWritten: false,
  };
}
