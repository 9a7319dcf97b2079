import type { DatasetKind, DatasetMeta, Span } from '../core/store.ts';

/** A dataset as the read API's `/datasets` lists it (and `ses-stats datasets` prints it). */
export interface DatasetInfo {
  readonly name: string;
  readonly kind: DatasetKind;
  readonly source: string;
  readonly activity: string;
  readonly firstTime: string | null;
  readonly lastTime: string | null;
  readonly count: number;
  /** Account datasets: the FirstSeen of the latest state (the last change); null otherwise. */
  readonly lastChange: string | null;
  readonly coverage: Span | null;
  readonly gaps: readonly Span[];
}

/** The public projection of a dataset's metadata: no version, no stale-rollup bookkeeping. */
export function datasetInfo(meta: DatasetMeta): DatasetInfo {
  return {
    name: meta.name,
    kind: meta.kind,
    source: meta.source,
    activity: meta.activity,
    firstTime: meta.firstTime ?? null,
    lastTime: meta.lastTime ?? null,
    count: meta.count,
    lastChange: meta.lastChange ?? null,
    coverage: meta.coverage ?? null,
    gaps: meta.gaps,
  };
}
