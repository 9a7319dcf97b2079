import {
  checkKind,
  clampToServerTime,
  extend,
  gapsBetween,
  newSnapshotCount,
  readUsageSince,
  type UsageSince,
  updateMeta,
  usageReadFrom,
} from './persist-meta.ts';
import {
  coversAll,
  planStatistics,
  readWindow,
  type StoredWindow,
  withoutExpiredStaleDays,
  workDays,
  writeStatistics,
} from './persist-rollups.ts';
import type { FetchedDatasets, StoreReport } from './results.ts';
import type { DatasetMeta, DatasetStore, Span } from './store.ts';
import { ALL_TIME, addMs, mergeSpans, SES_WINDOW_MS, subtractSpan, subtractSpans } from './time.ts';

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
 *
 * Backfill: the first fetch of a dataset (its metadata, read by `prepareStore`, has no coverage)
 * writes its window's points through the store's `writePoints` in a few requests, each point
 * still conditional on the fetch time (`isBackfill` says why nothing weaker is safe); the stale
 * mark above comes first as for any run, so a backfill stopped anywhere is finished by the next
 * run, which, finding no coverage yet, is a backfill again.
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
