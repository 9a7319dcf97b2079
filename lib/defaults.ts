import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * The defaults only the constructs have: Lambda and EventBridge Scheduler settings that no
 * configuration file or CLI flag sets. Every default the configuration shares (schedule, alarm
 * thresholds, dataset names, limits) lives in `lambda/config/defaults.ts`; `@default` docs of
 * the construct props point to one of the two.
 */

/** Memory of the collector function in MB. */
export const DEFAULT_MEMORY_SIZE_MB = 256;
/** Two SES calls per activity, paced at one per second per account, plus retries and storage. */
export const DEFAULT_TIMEOUT = Duration.minutes(5);
export const DEFAULT_LOG_RETENTION = RetentionDays.THREE_MONTHS;
/** EventBridge Scheduler's own default is 185 retries, far more than an hourly run needs. */
export const DEFAULT_RETRY_ATTEMPTS = 3;
/**
 * The longest a scheduled invocation waits (in Scheduler or in Lambda's queue) unless the rate is
 * shorter: by then the next run fetches the same SES window.
 */
export const MAX_DEFAULT_EVENT_AGE = Duration.hours(1);
