/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order.
 * After a call rejects no new call starts, and the first rejection is returned.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    for (let i = next++; i < items.length && !failed; i = next++) {
      try {
        out[i] = await fn(items[i] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export interface KeyedPoolOptions<T> {
  /** Items in flight at once. */
  readonly limit: number;
  /** Items of one key never run at once (one SES identity and region: one pace key). */
  readonly keyOf: (item: T) => string;
  /** Clock time (ms) from which an item of `key` starts without waiting for its pace turn. */
  readonly readyAt: (key: string) => number;
  readonly clock: { now(): Date; sleep(ms: number): Promise<void> };
}

/**
 * Runs `fn` over `items` with at most `limit` in flight and keeps no result. A free slot takes
 * the next item of the first key (in the order keys first appear) that has none in flight and is
 * ready now, so an item
 * that would only wait for its key's pace turn never holds a slot another key could use; the
 * slots sleep only when no queued key is ready. `fn` must not reject (its caller reports
 * failures); if it does, no new item starts and the first rejection is returned.
 */
export async function runKeyed<T>(
  items: readonly T[],
  options: KeyedPoolOptions<T>,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const { keyOf, readyAt, clock } = options;
  /** Per key, the indexes of its queued items in input order; keys in first-seen order. */
  const queues = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const queue = queues.get(key);
    if (queue === undefined) queues.set(key, [i]);
    else queue.push(i);
  });
  const busy = new Set<string>();
  let failed = false;
  let ended: () => void = () => undefined;
  let anEnd = new Promise<void>((resolve) => {
    ended = resolve;
  });
  // Idle slots waiting for the same time share one sleep, so a sleep is not left behind per slot.
  let nap: { at: number; done: Promise<void> } | undefined;
  const napUntil = (at: number): Promise<void> => {
    if (nap?.at !== at) nap = { at, done: clock.sleep(Math.max(0, at - clock.now().getTime())) };
    return nap.done;
  };
  /** The first ready idle key and its next item; otherwise when the earliest idle key is ready. */
  const pick = (): { key: string; index: number } | { wakeAt: number } | undefined => {
    const now = clock.now().getTime();
    let wakeAt = Number.POSITIVE_INFINITY;
    // Keys are in the order of their first item, so the first ready one is taken without
    // scanning the rest: a pick costs the busy and waiting keys before it, not every key.
    for (const [key, queue] of queues) {
      if (busy.has(key)) continue;
      const at = readyAt(key);
      if (at <= now) return { key, index: queue[0] as number };
      wakeAt = Math.min(wakeAt, at);
    }
    return queues.size === 0 ? undefined : { wakeAt };
  };
  const worker = async (): Promise<void> => {
    while (!failed) {
      const next = pick();
      if (next === undefined) return;
      if ('wakeAt' in next) {
        // Every queued key is busy or not yet ready: wait for a run to end or a key to be ready.
        await Promise.race(Number.isFinite(next.wakeAt) ? [anEnd, napUntil(next.wakeAt)] : [anEnd]);
        continue;
      }
      const queue = queues.get(next.key) as number[];
      queue.shift();
      if (queue.length === 0) queues.delete(next.key);
      busy.add(next.key);
      try {
        await fn(items[next.index] as T, next.index);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        busy.delete(next.key);
        ended();
        anEnd = new Promise<void>((resolve) => {
          ended = resolve;
        });
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.limit, items.length)) }, worker),
  );
}
