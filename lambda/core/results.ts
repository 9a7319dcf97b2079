import type { AccountRow, ReputationRow, StatisticsRow, UsageRow } from './datasets.ts';
import type { Span } from './store.ts';

/** What the activity needs to know about itself (a resolved config activity satisfies it). */
export interface ActivitySpec {
  readonly name: string;
  /** The session name, or `inline`. */
  readonly source: string;
  readonly usageDataset: string;
  readonly statisticsDataset: string;
  /** SES API v2 account state and AWS's reputation rates; none when absent. */
  readonly accountDataset?: string;
}

export interface Dataset<Row> {
  readonly name: string;
  readonly rows: readonly Row[];
}

/** What one store call wrote: the basis of the write-efficiency benchmark and of the run report. */
export interface StoreReport {
  readonly pointsWritten: number;
  /** Points a newer fetch had already written; left as they were. */
  readonly pointsSkipped: number;
  readonly hourlyWritten: number;
  readonly dailyWritten: number;
  /** Gaps recorded by this run (the collector was away longer than the SES window). */
  readonly newGaps: readonly Span[];
  /** Days an earlier, interrupted run left with rollups that may be stale, re-summed now. */
  readonly repaired: readonly Span[];
}

/** An account dataset as fetched: the state seen now (one row) and CloudWatch's reputation hours. */
export interface AccountDataset {
  readonly name: string;
  readonly rows: readonly AccountRow[];
  readonly reputation: readonly ReputationRow[];
  /** The time of CloudWatch's answer: decides which write of a reputation hour wins. */
  readonly reputationFetchedAt?: Date;
}

/** What storing an account fetch wrote. */
export interface AccountStoreReport {
  /** A new state was stored (the first, or a field changed). */
  readonly changed: boolean;
  /** The state stored before this fetch, when it changed from one. */
  readonly previous?: AccountRow;
  /** The FirstSeen of the latest stored state: the account's last change. */
  readonly lastChange?: string;
  /**
   * The latest stored state after this fetch: the state seen, or, when GetAccount failed, the
   * last one known (the alarms keep counting it rather than clearing).
   */
  readonly latest?: AccountRow;
  readonly reputationWritten: number;
  readonly reputationSkipped: number;
}

/** The email statistics activity's output: the usage and the statistics datasets. */
export interface ActivityResult {
  readonly activity: ActivitySpec;
  readonly usage: Dataset<UsageRow>;
  readonly statistics: Dataset<StatisticsRow>;
  /** The server's time of the statistics fetch (the host's only when SES sent no `Date`). */
  readonly fetchedAt: Date;
  /** How far the host clock is ahead of the server's (negative: behind); 0 when unknown. */
  readonly clockSkewMs: number;
  /** What was written, when a store was given. */
  readonly stored?: StoreReport;
  /** The account dataset, when the activity has one and it was fetched. */
  readonly account?: AccountDataset;
  /** What storing the account dataset wrote. */
  readonly accountStored?: AccountStoreReport;
}

/** The two datasets of a fetch, as `storeActivityResult` takes them. */
export type FetchedDatasets = Pick<ActivityResult, 'activity' | 'usage' | 'statistics'>;
