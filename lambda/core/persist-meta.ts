import { StoreError } from './errors.ts';
import type { DatasetKind, DatasetMeta, DatasetStore, Span } from './store.ts';
import { ALL_TIME, MINUTE_MS } from './time.ts';

// The metadata half of storing a fetch: coverage and gaps, first/last time, counts, and the
// versioned read-modify-write that keeps them right under concurrent and interrupted runs.

const META_ATTEMPTS = 5;
/** A stored coverage ending this far after the server's time came from a host clock that ran fast. */
const FUTURE_TOLERANCE_MS = 5 * MINUTE_MS;

/** A window that does not touch the coverage leaves the span between them unseen. */
export function gapsBetween(coverage: Span | undefined, window: Span): Span[] {
  if (coverage === undefined) return [];
  if (coverage.to < window.from) return [{ from: coverage.to, to: window.from }];
  if (window.to < coverage.from) return [{ from: window.to, to: coverage.from }];
  return [];
}

/** Coverage never ends after the server's time: a stored end in the future came from a fast host clock. */
export function clampToServerTime(
  coverage: Span | undefined,
  serverNow: Date | undefined,
): Span | undefined {
  if (coverage === undefined || serverNow === undefined) return coverage;
  if (Date.parse(coverage.to) <= serverNow.getTime() + FUTURE_TOLERANCE_MS) return coverage;
  const now = serverNow.toISOString();
  return { from: [coverage.from, now].sort()[0] ?? now, to: now };
}

/** Refuses a dataset that already holds the other kind of data. */
export function checkKind(meta: DatasetMeta | undefined, name: string, kind: DatasetKind): void {
  if (meta !== undefined && meta.kind !== kind) {
    throw new StoreError(
      `dataset "${name}" holds ${meta.kind} data (from activity "${meta.activity}"); it cannot also store ${kind} data: give the activity another dataset name`,
    );
  }
}

/** Widens first/last time by `times` (ascending, as datasets are). */
export function extend(
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
export async function updateMeta(
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
      m.lastChange,
    ].map((v) => (v === undefined ? null : v));
  return JSON.stringify(fields(a)) === JSON.stringify(fields(b));
}

/**
 * Usage snapshots stored after the metadata's last one, read before this fetch's is written: a
 * run stopped between writing its snapshot and its metadata left them uncounted.
 */
export async function readUsageSince(
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

/**
 * Where the usage snapshots not yet counted start: the last counted one, or this fetch's when it
 * is older.
 */
export function usageReadFrom(meta: DatasetMeta | undefined, ours: string | undefined): string {
  if (meta?.lastTime === undefined) return ALL_TIME.from;
  return ours !== undefined && ours < meta.lastTime ? ours : meta.lastTime;
}

/** Snapshots the metadata does not count yet: those seen after its last one, and this fetch's. */
export function newSnapshotCount(
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

/** Usage snapshot keys from `from` on. */
export interface UsageSince {
  readonly from: string;
  readonly keys: readonly string[];
}
