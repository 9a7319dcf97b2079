import type { Duration } from 'aws-cdk-lib';
import { STORE_MARGIN_MS, worstCaseSourceMs } from '../lambda/config/budget.ts';
import { ConfigError } from '../lambda/core/errors.ts';
import type { DeploymentConfig } from './deployment-config.ts';

const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

/**
 * Refuses a config in which one source, at its worst (every attempt timing out, the longest
 * backoff between them, its pacing turn and the store margin), cannot finish within the
 * function's timeout: such a source could never be collected, since the collector starts a source
 * only when its worst case still fits. Each problem names the session (or inline connection),
 * the activities using it, maxErrorRetry, timeoutSeconds, the worst case and the timeout.
 */
export function assertSourcesFitTimeout(config: DeploymentConfig, timeout: Duration): void {
  if (timeout.isUnresolved()) return;
  const timeoutMs = timeout.toMilliseconds();
  const bySource = new Map<string, { activities: string[]; worstMs: number; text: string }>();
  config.settings.activities.forEach((activity, i) => {
    const { maxErrorRetry, timeoutSeconds } = activity.connection;
    const worstMs = worstCaseSourceMs({ maxErrorRetry, timeoutSeconds });
    if (worstMs <= timeoutMs) return;
    // The document tells an inline connection from a session that happens to be named "inline".
    const inline = config.document.activities[i]?.connection !== undefined;
    const field = inline ? `activities[${i}].connection` : `sessions.${activity.source}`;
    const entry = bySource.get(field) ?? {
      activities: [],
      worstMs,
      text: `maxErrorRetry ${maxErrorRetry} and timeoutSeconds ${timeoutSeconds}`,
    };
    entry.activities.push(`"${activity.name}"`);
    bySource.set(field, entry);
  });
  const problems = [...bySource].map(([field, { activities, worstMs, text }]) => ({
    path: field,
    message: `for activity ${activities.join(', ')}, ${text} make a worst case of ${seconds(worstMs)} s for one source (every attempt timing out, backoff, pacing and a ${seconds(STORE_MARGIN_MS)} s store margin), longer than the collector function's timeout of ${seconds(timeoutMs)} s; lower maxErrorRetry or timeoutSeconds, or raise the timeout`,
  }));
  if (problems.length > 0) throw new ConfigError(problems);
}
