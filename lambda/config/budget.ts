import type { Connection } from './schema.ts';

/** The SDK's standard retry waits at most 20 s between attempts (throttling base 500 ms, doubling). */
const MAX_RETRY_DELAY_MS = 20_000;
const THROTTLE_BASE_DELAY_MS = 500;
/** One paced turn per action: SES allows each call once per second per account and region. */
const PACING_MS = 1_000;
/** Room for reading and writing the store after SES answered (a first fetch writes ~1,300 points). */
export const STORE_MARGIN_MS = 30_000;

/**
 * The longest one source can take: every attempt timing out, the longest backoff between them,
 * its pacing turn and the store margin. The collector starts a source only when this much time is
 * left, and synth refuses a config whose worst source cannot fit the function's timeout.
 */
export function worstCaseSourceMs(c: Pick<Connection, 'maxErrorRetry' | 'timeoutSeconds'>): number {
  let backoff = 0;
  for (let retry = 1; retry <= c.maxErrorRetry; retry++)
    backoff += Math.min(MAX_RETRY_DELAY_MS, THROTTLE_BASE_DELAY_MS * 2 ** retry);
  const attempts = c.maxErrorRetry + 1;
  return Math.ceil(attempts * c.timeoutSeconds * 1000 + backoff + PACING_MS + STORE_MARGIN_MS);
}
