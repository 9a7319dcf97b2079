import { addCounts, type StatisticsRow, ZERO_COUNTS } from './datasets.ts';
import type { DatasetMeta, DatasetStore, RollupRow, Span } from './store.ts';
import { dayStart, hourStart, intersectSpan } from './time.ts';

/** Sums raw points into buckets keyed by `bucketOf(Timestamp)`. */
export function sumBy(
  rows: Iterable<StatisticsRow>,
  bucketOf: (iso: string) => string,
): Map<string, RollupRow> {
  const sums = new Map<string, RollupRow>();
  for (const row of rows) {
    const key = bucketOf(row.Timestamp);
    const sum = sums.get(key);
    sums.set(
      key,
      sum === undefined
        ? { ...addCounts(ZERO_COUNTS, row), Timestamp: key, Points: 1 }
        : { ...addCounts(sum, row), Timestamp: key, Points: sum.Points + 1 },
    );
  }
  return sums;
}

/**
 * The rollups of `span` as they must be: stored ones, except in the days an interrupted run left
 * stale (until a later run repairs them), which are summed from the raw points instead. A read
 * therefore always equals the sums of the raw points. With `limit`, the first `limit` of them.
 */
export async function exactRollups(
  store: DatasetStore,
  meta: DatasetMeta,
  granularity: '1h' | '1d',
  span: Span,
  limit?: number,
): Promise<RollupRow[]> {
  // Stale spans are whole UTC days, so their buckets are whole: sum them entire, keep those
  // starting inside the span (as a stored rollup read by key would be).
  const stale = (meta.staleRollups ?? []).filter((s) => intersectSpan(s, span) !== undefined);
  if (stale.length === 0) return store.readRollups(meta.name, granularity, span, limit);
  // Stale days are rare and repaired by the next run: until then a limited read reads the span's
  // stored rollups whole, so that rows re-summed in stale days cannot push unread ones out.
  const stored = store.readRollups(meta.name, granularity, span);
  const inStale = (t: string) => stale.some((s) => s.from <= t && t < s.to);
  const raw = (await Promise.all(stale.map((s) => store.readPoints(meta.name, s)))).flat();
  const summed = [...sumBy(raw, granularity === '1h' ? hourStart : dayStart).values()].filter(
    (r) =>
      Date.parse(span.from) <= Date.parse(r.Timestamp) &&
      Date.parse(r.Timestamp) < Date.parse(span.to),
  );
  const merged = [...(await stored).filter((r) => !inStale(r.Timestamp)), ...summed].sort((a, b) =>
    a.Timestamp < b.Timestamp ? -1 : a.Timestamp > b.Timestamp ? 1 : 0,
  );
  return limit === undefined ? merged : merged.slice(0, limit);
}
