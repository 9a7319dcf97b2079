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

/** The SES actions the activity calls. */
export type SesAction = 'GetSendQuota' | 'GetSendStatistics';

/** A source call that failed; `message` is one line naming the cause, never a secret. */
export class SourceCallError extends Error {
  constructor(
    readonly action: SesAction,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SourceCallError';
  }
}
