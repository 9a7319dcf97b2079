import type { Duration } from 'aws-cdk-lib';
import { STORE_MARGIN_MS, worstCaseSourceMs } from '../lambda/config/budget.ts';
import { ConfigError } from '../lambda/core/errors.ts';
import type { DeploymentConfig } from './deployment-config.ts';

const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

/** Activities named in one problem; a session expanding to thousands is summed up after these. */
const LISTED_ACTIVITIES = 5;

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
  for (const activity of config.settings.activities) {
    const { maxErrorRetry, timeoutSeconds } = activity.connection;
    const worstMs = worstCaseSourceMs({ maxErrorRetry, timeoutSeconds });
    if (worstMs <= timeoutMs) continue;
    // The session's field, also for the sources it expands to (activity.source is session/account/region).
    const { entry, session } = activity.origin;
    const field = session === undefined ? `activities[${entry}].connection` : `sessions.${session}`;
    const found = bySource.get(field) ?? {
      activities: [],
      worstMs,
      text: `maxErrorRetry ${maxErrorRetry} and timeoutSeconds ${timeoutSeconds}`,
    };
    found.activities.push(`"${activity.name}"`);
    bySource.set(field, found);
  }
  const problems = [...bySource].map(([field, { activities, worstMs, text }]) => ({
    path: field,
    message: `for activity ${listed(activities)}, ${text} make a worst case of ${seconds(worstMs)} s for one source (every attempt timing out, backoff, pacing and a ${seconds(STORE_MARGIN_MS)} s store margin), longer than the collector function's timeout of ${seconds(timeoutMs)} s; lower maxErrorRetry or timeoutSeconds, or raise the timeout`,
  }));
  if (problems.length > 0) throw new ConfigError(problems);
}

function listed(names: readonly string[]): string {
  return names.length <= LISTED_ACTIVITIES
    ? names.join(', ')
    : `${names.slice(0, LISTED_ACTIVITIES).join(', ')} and ${names.length - LISTED_ACTIVITIES} more`;
}
