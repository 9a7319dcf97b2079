import type {
  AccountState,
  ReputationPoint,
  SendDataPoint,
  SendQuota,
} from '../../lambda/core/datasets.ts';
import { type SesAction, SourceError } from '../../lambda/core/errors.ts';
import type { Answered, Clock, StatisticsSource } from '../../lambda/core/ports.ts';

/**
 * Virtual time. Concurrent sleeps overlap as they would in real time: once every pending promise
 * has settled, the clock jumps to the earliest timer and wakes it. `sleeps` records each request.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private timers: Array<{ until: number; wake: () => void }> = [];
  constructor(private ms = Date.parse('2026-11-28T12:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((wake) => {
      this.timers.push({ until: this.ms + ms, wake });
      if (this.timers.length === 1) setImmediate(() => this.fire());
    });
  }
  private fire(): void {
    const until = Math.min(...this.timers.map((t) => t.until));
    this.ms = Math.max(this.ms, until);
    const due = this.timers.filter((t) => t.until <= this.ms);
    this.timers = this.timers.filter((t) => t.until > this.ms);
    for (const t of due) t.wake();
    if (this.timers.length > 0) setImmediate(() => this.fire());
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * An in-memory StatisticsSource that records when each call started (clock time). Its answers
 * carry `serverTime()`: by default the clock's time (a server agreeing with the host).
 */
export class FakeSource implements StatisticsSource {
  readonly calls: Array<{ action: SesAction; at: number }> = [];
  failWith: Partial<Record<SesAction, string>> = {};
  serverTime: () => Date | undefined = () => this.clock.now();

  constructor(
    private readonly clock: Clock,
    readonly paceKey = 'default@us-east-1',
    public quota: SendQuota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1234 },
    public points: SendDataPoint[] = [],
  ) {}

  async getSendQuota(): Promise<Answered<SendQuota>> {
    this.record('GetSendQuota');
    return { value: this.quota, serverTime: this.serverTime() };
  }

  async getSendStatistics(): Promise<Answered<SendDataPoint[]>> {
    this.record('GetSendStatistics');
    return { value: this.points, serverTime: this.serverTime() };
  }

  /** GetAccount's answer; settable between runs. */
  account: AccountState = {
    enforcementStatus: 'HEALTHY',
    sendingEnabled: true,
    productionAccessEnabled: true,
    max24HourSend: 50000,
    maxSendRate: 14,
  };
  /** CloudWatch's reputation hours (all of them: `getReputation` answers those in its range). */
  reputation: ReputationPoint[] = [];
  /** The ranges `getReputation` was asked for. */
  readonly reputationRanges: Array<{ from: Date; to: Date }> = [];

  async getAccount(): Promise<Answered<AccountState>> {
    this.record('GetAccount');
    return { value: this.account, serverTime: this.serverTime() };
  }

  async getReputation(from: Date, to: Date): Promise<Answered<ReputationPoint[]>> {
    this.record('GetMetricData');
    this.reputationRanges.push({ from, to });
    return {
      value: this.reputation.filter((p) => p.timestamp >= from && p.timestamp < to),
      serverTime: this.serverTime(),
    };
  }

  private record(action: SesAction): void {
    this.calls.push({ action, at: this.clock.now().getTime() });
    const failure = this.failWith[action];
    if (failure !== undefined) throw new SourceError(action, failure);
  }
}

export const point = (
  timestamp: string,
  deliveryAttempts: number,
  bounces = 0,
  complaints = 0,
  rejects = 0,
): SendDataPoint => ({
  timestamp: new Date(timestamp),
  deliveryAttempts,
  bounces,
  complaints,
  rejects,
});

/** The SourceError `call` rejects with; fails the test when it resolves or rejects otherwise. */
export async function failureOf(call: Promise<unknown>): Promise<SourceError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SourceError))
    throw new Error(`expected a SourceError, got ${String(error)}`);
  return error;
}
