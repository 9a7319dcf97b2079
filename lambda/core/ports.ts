import type { SendDataPoint, SendQuota } from './datasets.ts';

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
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}
