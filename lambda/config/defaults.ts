import pkg from '../../package.json' with { type: 'json' };

/**
 * Every default value and limit of the configuration, in one place: the schema, the constructs
 * (`lib/`), the CLI and the docs use these, and `@default` docs point here.
 */

/** The activity markup's default session name (`SESSION`). */
export const DEFAULT_SESSION = 'SESSession1';
/** The usage dataset (`RESULTDATSET`) of the default configuration and of the CLI's one activity. */
export const DEFAULT_USAGE_DATASET = 'usageData';
/** The statistics dataset (`STATISTICSDATASET`) of the default configuration and of the CLI's one activity. */
export const DEFAULT_STATISTICS_DATASET = 'statsData';
/** The account dataset of the default configuration and of `collect` without `--config`. */
export const DEFAULT_ACCOUNT_DATASET = 'accountData';

export const DEFAULT_USER_AGENT = `ses-stats/${pkg.version}`;
export const DEFAULT_MAX_ERROR_RETRY = 2;
export const MAX_ERROR_RETRY_LIMIT = 10;
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const MIN_TIMEOUT_SECONDS = 0.1;
export const MAX_TIMEOUT_SECONDS = 300;
/** SES accepts only these since 2020-10-01. */
export const DEFAULT_SIGNATURE_METHOD = 'HmacSHA256';
export const DEFAULT_SIGNATURE_VERSION = '4';

export const DEFAULT_SCHEDULE_MINUTES = 60;
export const MIN_SCHEDULE_MINUTES = 5;
/** Seven days: a collector stopped for longer than SES's 14-day window loses data for good. */
export const MAX_SCHEDULE_MINUTES = 7 * 24 * 60;
export const MIN_RAW_RETENTION_DAYS = 30;
/** 100 years: beyond this a TTL date is meaningless (and at 2e11 days it is not a valid date). */
export const MAX_RAW_RETENTION_DAYS = 36_500;

/** AWS puts an account under review at these rates (and may pause sending at 0.1 and 0.005). */
export const REVIEW_BOUNCE_RATE = 0.05;
export const REVIEW_COMPLAINT_RATE = 0.001;
/**
 * AWS's own levels for its reputation rates (CloudWatch `Reputation.*`): at the warning level an
 * account may be put under review, at the review level sending may be paused.
 */
export const REPUTATION_BOUNCE_WARNING = 0.05;
export const REPUTATION_BOUNCE_REVIEW = 0.1;
export const REPUTATION_COMPLAINT_WARNING = 0.001;
export const REPUTATION_COMPLAINT_REVIEW = 0.005;
/** A warning level defaults to this fraction of its review level. */
export const DEFAULT_WARNING_FRACTION = 0.5;
/** Rates over fewer delivery attempts than this are ignored by the rate alarms. */
export const DEFAULT_MIN_DELIVERY_ATTEMPTS = 100;
export const DEFAULT_QUOTA_UTILISATION = 0.8;

/** The read API (API Gateway, IAM auth) is deployed unless the config says `"api": false`. */
export const DEFAULT_API_ENABLED = true;

/** Sources collected at once by one invocation or one CLI run (different accounts or regions are not paced against each other). */
export const DEFAULT_CONCURRENCY = 32;
export const MAX_CONCURRENCY = 256;
/** Sources one collector invocation takes; above it the scheduled run fans out batches through a queue. */
export const DEFAULT_BATCH_SIZE = 50;
export const MAX_BATCH_SIZE = 1000;
/** Batch invocations running at once (the queue's event source mapping maximum concurrency, 2-1000). */
export const DEFAULT_FAN_OUT_CONCURRENCY = 5;
export const MIN_FAN_OUT_CONCURRENCY = 2;
export const MAX_FAN_OUT_CONCURRENCY = 100;

/**
 * The role a session's `accounts` entry assumes when it names none: the member-account reader
 * stack creates it under this name, so both sides agree without a setting.
 */
export const DEFAULT_READER_ROLE_NAME = 'SesStatsReader';
