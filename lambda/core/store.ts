import type { AccountRow, ReputationRow, StatisticsRow, UsageRow } from './datasets.ts';

/** `account`: SES API v2 account states (GetAccount) and AWS's hourly reputation rates. */
export type DatasetKind = 'usage' | 'statistics' | 'account';
/** `15m` is the raw SES bucket; `1h` and `1d` are rollups (UTC). */
export type Granularity = '15m' | '1h' | '1d';
export const GRANULARITIES: readonly Granularity[] = ['15m', '1h', '1d'];

/** A time span [from, to) in ISO-8601 UTC. */
export interface Span {
  readonly from: string;
  readonly to: string;
}

/** What is known about one dataset: its kind, where it comes from, what it covers and what was lost. */
export interface DatasetMeta {
  readonly name: string;
  readonly kind: DatasetKind;
  /** The session (or `inline`) and activity that last wrote it. */
  readonly source: string;
  readonly activity: string;
  /**
   * Earliest and latest row time stored (Timestamp or CollectedAt; for an account dataset the
   * first FirstSeen and the last LastSeen).
   */
  readonly firstTime?: string;
  readonly lastTime?: string;
  /** Rows stored: raw points, usage snapshots or account states (reputation points not counted). */
  readonly count: number;
  /** Account datasets: the FirstSeen of the latest state counted in `count` (its last change). */
  readonly lastChange?: string;
  /** The span successful fetches have covered (statistics: each fetch covers the 14-day SES window). */
  readonly coverage?: Span;
  /** Spans inside the coverage that no fetch saw: data SES no longer has. */
  readonly gaps: readonly Span[];
  /**
   * Whole UTC days whose rollups may not equal their raw points (a run stopped between writing
   * points and rollups); recorded before writing and re-summed from the raw points by a later run.
   */
  readonly staleRollups?: readonly Span[];
  /** With `staleRollups`: the raw points stored outside those days, so `count` stays exact. */
  readonly staleBase?: number;
  /** Raw points expire this many days after their Timestamp (the deployed table's TTL rule). */
  readonly rawRetentionDays?: number;
  /** Optimistic-concurrency version; 0 for a dataset not stored yet. */
  readonly version: number;
}

/** A raw point as stored, with the fetch that wrote it. */
export interface StoredPoint extends StatisticsRow {
  readonly fetchedAt: string;
}

/** A rollup bucket: sums over the raw points whose Timestamp falls in [Timestamp, next bucket). */
export interface RollupRow extends StatisticsRow {
  /** Raw points summed. */
  readonly Points: number;
}

/** A reputation point as stored, with the fetch that wrote it. */
export interface StoredReputation extends ReputationRow {
  readonly fetchedAt: string;
}

/** The storage port: one dataset table, read by key ranges only. */
export interface DatasetStore {
  getMeta(name: string): Promise<DatasetMeta | undefined>;
  listMeta(): Promise<DatasetMeta[]>;
  /** Writes `meta` if the stored version is still `meta.version`; stores version + 1. False on a conflict. */
  putMeta(meta: DatasetMeta): Promise<boolean>;
  /**
   * Raw points with from <= Timestamp < to, ascending; with `limit`, only the first `limit` (read
   * by key: a page reads about as many items as it returns).
   */
  readPoints(name: string, span: Span, limit?: number): Promise<StoredPoint[]>;
  /**
   * Writes a point unless a newer fetch than `fetchedAt` already wrote it; false if it lost.
   * Rewriting with the same `fetchedAt` succeeds, so a retried write whose answer was lost wins.
   * With `retentionDays`, the point expires that many days after its Timestamp.
   */
  writePoint(
    name: string,
    point: StatisticsRow,
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean>;
  /**
   * Writes many points of one fetch in as few requests as the store allows, each exactly as
   * `writePoint` would: kept only where no newer fetch than `fetchedAt` wrote it, and answered in
   * the order given (false where it lost). It never writes a point unconditionally, so it is as
   * safe as `writePoint` against concurrent and interrupted runs; what it changes is the number
   * of requests (DynamoDB: conditional transactions of 100 points; SQLite: one transaction).
   * Optional: without it the core calls `writePoint` once per point.
   */
  writePoints?(
    name: string,
    points: readonly StatisticsRow[],
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean[]>;
  /** Rollups with from <= Timestamp < to, ascending; with `limit`, only the first `limit`. */
  readRollups(
    name: string,
    granularity: '1h' | '1d',
    span: Span,
    limit?: number,
  ): Promise<RollupRow[]>;
  writeRollups(name: string, granularity: '1h' | '1d', rows: readonly RollupRow[]): Promise<void>;
  putUsage(name: string, row: UsageRow): Promise<void>;
  /** Usage snapshots with from <= CollectedAt < to, ascending; with `limit`, only the first `limit`. */
  readUsage(name: string, span: Span, limit?: number): Promise<UsageRow[]>;
  /** Account states with from <= FirstSeen < to, ascending; with `limit`, only the first `limit`. */
  readAccountStates(name: string, span: Span, limit?: number): Promise<AccountRow[]>;
  /**
   * Writes an account state keyed by its FirstSeen. Rewriting a stored one keeps the later
   * LastSeen of the two (an older fetch never moves it back); the other columns are the new row's.
   */
  putAccountState(name: string, row: AccountRow): Promise<void>;
  /**
   * A new account state and the metadata that counts it, in one atomic write: `row` is written as
   * `putAccountState` writes it (keyed by FirstSeen; a state already stored under that FirstSeen
   * keeps the later LastSeen) and `meta` (dataset `name`'s) exactly as `putMeta` writes it, only
   * if the stored version is still `meta.version` (stores version + 1). When the version check
   * fails, nothing is written and the answer is false, so two runs that saw the same change never
   * both add a state, and no state is stored that the metadata does not count. A retried write
   * whose first attempt landed (its answer lost) may answer false, as `putMeta` does: the caller
   * re-reads the metadata and finds its own write there (see `updateMeta`).
   */
  putAccountChange(name: string, row: AccountRow, meta: DatasetMeta): Promise<boolean>;
  /** Reputation points with from <= Timestamp < to, ascending; with `limit`, only the first `limit`. */
  readReputation(name: string, span: Span, limit?: number): Promise<StoredReputation[]>;
  /**
   * Writes reputation points of one fetch, each only where no newer fetch than `fetchedAt` wrote
   * it (as `writePoint`), in as few requests as the store allows; answered in the order given
   * (false where it lost). Rewriting with the same `fetchedAt` succeeds.
   */
  writeReputation(
    name: string,
    rows: readonly ReputationRow[],
    fetchedAt: string,
  ): Promise<boolean[]>;
}
