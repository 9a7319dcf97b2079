import { type StatisticsRow, sumCounts } from '../../lambda/core/datasets.ts';
import type { DatasetMeta, DatasetStore, RollupRow } from '../../lambda/core/store.ts';
import { ALL_TIME, dayStart, hourStart } from '../../lambda/core/time.ts';

/**
 * Everything stored for one activity's two datasets, to compare a run that met a fault with one
 * that did not: raw points (with the fetch that wrote them), both rollups, usage snapshots, and
 * the metadata without its version (a run that was interrupted and repaired moves it further).
 */
export async function storedState(
  store: DatasetStore,
  names: { usage: string; statistics: string },
) {
  const withoutVersion = (meta: DatasetMeta | undefined) => {
    if (meta === undefined) return undefined;
    const { version: _, ...rest } = meta;
    return rest;
  };
  const [points, hourly, daily, usage, usageMeta, statsMeta] = await Promise.all([
    store.readPoints(names.statistics, ALL_TIME),
    store.readRollups(names.statistics, '1h', ALL_TIME),
    store.readRollups(names.statistics, '1d', ALL_TIME),
    store.readUsage(names.usage, ALL_TIME),
    store.getMeta(names.usage),
    store.getMeta(names.statistics),
  ]);
  return {
    points,
    hourly,
    daily,
    usage,
    usageMeta: withoutVersion(usageMeta),
    statsMeta: withoutVersion(statsMeta),
  };
}

/** The rollups the raw points imply: what stored rollups must always equal. */
export function rollupsOf(points: readonly StatisticsRow[], granularity: '1h' | '1d'): RollupRow[] {
  const bucketOf = granularity === '1h' ? hourStart : dayStart;
  const buckets = new Map<string, StatisticsRow[]>();
  for (const p of points) {
    const key = bucketOf(p.Timestamp);
    buckets.set(key, [...(buckets.get(key) ?? []), p]);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([Timestamp, rows]) => {
      const { DeliveryAttempts, Bounces, Complaints, Rejects } = sumCounts(rows);
      return { Timestamp, DeliveryAttempts, Bounces, Complaints, Rejects, Points: rows.length };
    });
}
