import type { AccountState, ReputationPoint, SendDataPoint, SendQuota } from './datasets.ts';

/**
 * A source's answer with the server's time of answering (the HTTP `Date` header, second
 * precision), when the server sent one. Times that decide which write wins and what is covered
 * come from here, not from the host clock alone.
 */
export interface Answered<T> {
  readonly value: T;
  readonly serverTime: Date | undefined;
}

/** The SES calls the activity makes, through one configured connection. */
export interface StatisticsSource {
  /** Calls sharing this key (same credentials and region) are paced to SES's 1 call/second per action. */
  readonly paceKey: string;
  getSendQuota(): Promise<Answered<SendQuota>>;
  getSendStatistics(): Promise<Answered<SendDataPoint[]>>;
  /** SES API v2 `GetAccount`; needed only by activities with an account dataset. */
  getAccount?(): Promise<Answered<AccountState>>;
  /**
   * CloudWatch `GetMetricData`: the hourly `AWS/SES` `Reputation.BounceRate` and
   * `Reputation.ComplaintRate` (Average) with from <= timestamp < to, of this source's account and
   * region; needed only by activities with an account dataset.
   */
  getReputation?(from: Date, to: Date): Promise<Answered<ReputationPoint[]>>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}
