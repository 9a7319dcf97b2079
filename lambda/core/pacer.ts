import type { Clock } from './ports.ts';

/** SES allows GetSendQuota and GetSendStatistics at most once per second each, per account and region. */
export const SES_CALL_INTERVAL_MS = 1000;

/** Serialises calls per key so that two starts under one key are at least `intervalMs` apart. */
export class Pacer {
  private readonly tails = new Map<string, Promise<number>>();
  /** Clock time (ms) of the latest start under each key. */
  private readonly lastStarts = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs = SES_CALL_INTERVAL_MS,
  ) {}

  /** Resolves when a call under `key` may start. */
  acquire(key: string): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve(Number.NEGATIVE_INFINITY);
    const turn = previous.then(async (lastStart) => {
      const wait = lastStart + this.intervalMs - this.clock.now().getTime();
      if (wait > 0) await this.clock.sleep(wait);
      const start = this.clock.now().getTime();
      this.lastStarts.set(key, start);
      return start;
    });
    this.tails.set(key, turn);
    return turn.then(() => undefined);
  }

  /**
   * Clock time (ms) from which a call under `key` starts without waiting, as far as the turns
   * taken so far tell (a turn still queued is not counted); -Infinity for a key never used.
   */
  readyAt(key: string): number {
    return (this.lastStarts.get(key) ?? Number.NEGATIVE_INFINITY) + this.intervalMs;
  }
}
