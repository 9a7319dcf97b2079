import type { Clock } from './ports.ts';

/** SES allows GetSendQuota and GetSendStatistics at most once per second each, per account and region. */
export const SES_CALL_INTERVAL_MS = 1000;

/**
 * Serialises calls per key so that a call under one key starts at least `intervalMs` after the
 * previous one under that key was answered. Counting from the answer, not the start, keeps the
 * requests `intervalMs` apart where SES counts them, on arrival, even when a request leaves late
 * (a new client's first request, a busy event loop) and the next one leaves on time.
 */
export class Pacer {
  private readonly tails = new Map<string, Promise<number>>();
  /** Clock time (ms) at which the latest call under each key settled. */
  private readonly lastEnds = new Map<string, number>();

  /**
   * @param settledAt when the last call under any key may have settled, as far as this pacer
   * cannot see: a batch invocation passes its start, since the previous invocation of the same
   * identity may have been answered just before it. Default: never.
   */
  constructor(
    private readonly clock: Clock,
    private readonly intervalMs = SES_CALL_INTERVAL_MS,
    private readonly settledAt = Number.NEGATIVE_INFINITY,
  ) {}

  /** Runs `call` once its turn under `key` is due; the next turn counts from its settling. */
  run<T>(key: string, call: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve(this.settledAt);
    const result = previous.then(async (lastEnd) => {
      const wait = lastEnd + this.intervalMs - this.clock.now().getTime();
      if (wait > 0) await this.clock.sleep(wait);
      return call();
    });
    const settled = () => {
      const end = this.clock.now().getTime();
      this.lastEnds.set(key, end);
      return end;
    };
    this.tails.set(key, result.then(settled, settled));
    return result;
  }

  /**
   * Clock time (ms) from which a call under `key` starts without waiting, as far as the calls
   * settled so far tell (a call still running is not counted); `settledAt` + the interval for a
   * key never used.
   */
  readyAt(key: string): number {
    return (this.lastEnds.get(key) ?? this.settledAt) + this.intervalMs;
  }
}
