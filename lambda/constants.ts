/** Names shared by the CDK constructs (lib/) and the Lambda handlers: change both sides together. */

/** Environment variables of the collector and API functions. */
export const ENV = {
  /** The DynamoDB table holding every dataset. */
  TABLE_NAME: 'SES_STATS_TABLE_NAME',
  /**
   * The config file's path (tests only): by default the collector reads `ses-stats-config.json`
   * shipped next to its code in the function's asset. It holds secret references only.
   */
  CONFIG_FILE: 'SES_STATS_CONFIG_FILE',
  /**
   * The schedule's rate in minutes, which may differ from the config's `scheduleMinutes` when the
   * construct is given a `rate`: the stale-datasets count uses it.
   */
  SCHEDULE_MINUTES: 'SES_STATS_SCHEDULE_MINUTES',
  /** The queue the scheduled run hands batches of sources to; set only when the config fans out. */
  BATCH_QUEUE_URL: 'SES_STATS_BATCH_QUEUE_URL',
} as const;

/** The config document's file in the collector's asset, next to its bundled handler. */
export const CONFIG_FILE_NAME = 'ses-stats-config.json';

/** CloudWatch (EMF) metrics the collector emits. */
export const METRICS = {
  NAMESPACE: 'SesStats',
  SERVICE: 'ses-stats',
  /** Dimension: the dataset name (statistics dataset for counts and rates, usage dataset for quota). */
  DATASET_DIMENSION: 'Dataset',
  /** Sums over the last 24 hours of the fetched window (statistics datasets). */
  DELIVERY_ATTEMPTS: 'DeliveryAttempts',
  BOUNCES: 'Bounces',
  COMPLAINTS: 'Complaints',
  REJECTS: 'Rejects',
  /**
   * Sums over the whole fetched SES window (statistics datasets, emitted every run, 0 included):
   * the bounce and complaint alarms divide these in metric math, over a minimum volume.
   */
  WINDOW_DELIVERY_ATTEMPTS: 'WindowDeliveryAttempts',
  WINDOW_BOUNCES: 'WindowBounces',
  WINDOW_COMPLAINTS: 'WindowComplaints',
  /** Window rates over the whole fetched SES window (fractions, 0.05 = 5 %); absent with no attempts. */
  BOUNCE_RATE: 'BounceRate',
  COMPLAINT_RATE: 'ComplaintRate',
  /** SentLast24Hours / Max24HourSend (fraction; usage datasets); never emitted when unlimited (−1). */
  QUOTA_UTILISATION: 'QuotaUtilisation',
  /** 1 per activity collected and stored successfully (dimension: its statistics dataset). */
  COLLECTION_SUCCEEDED: 'CollectionSucceeded',
  /**
   * Per-kind alarm mode only, one EMF document per invocation with the `service` dimension alone
   * (lambda/core/metrics.ts RunTally): how many of the datasets it collected are at or over each
   * level (rates: the higher of the last-24-hour and window rate, over the minimum volume).
   */
  DATASETS_OVER_BOUNCE_WARNING: 'DatasetsOverBounceWarning',
  DATASETS_OVER_BOUNCE_REVIEW: 'DatasetsOverBounceReview',
  DATASETS_OVER_COMPLAINT_WARNING: 'DatasetsOverComplaintWarning',
  DATASETS_OVER_COMPLAINT_REVIEW: 'DatasetsOverComplaintReview',
  DATASETS_OVER_QUOTA: 'DatasetsOverQuota',
  /** Per-kind mode only, in the same document: the invocation's sources by outcome. */
  SOURCES_COLLECTED: 'SourcesCollected',
  SOURCES_FAILED: 'SourcesFailed',
  SOURCES_SKIPPED: 'SourcesSkipped',
  /**
   * Per-kind alarm mode only: how many statistics datasets no success covered for 2 × the rate,
   * published once per scheduled run without a Dataset dimension (lambda/core/metrics.ts staleDatasets).
   */
  STALE_DATASETS: 'StaleDatasets',
  /**
   * Account datasets, both alarm modes: one EMF document per invocation that fetched any, with
   * the `service` dimension alone (lambda/core/account-health.ts AccountTally): how many accounts
   * it saw whose EnforcementStatus is not HEALTHY, whose sending is disabled, and whose latest
   * AWS reputation rate is at or over each level.
   */
  ACCOUNTS_NOT_HEALTHY: 'AccountsNotHealthy',
  ACCOUNTS_SENDING_DISABLED: 'AccountsSendingDisabled',
  ACCOUNTS_OVER_REPUTATION_BOUNCE_WARNING: 'AccountsOverReputationBounceWarning',
  ACCOUNTS_OVER_REPUTATION_BOUNCE_REVIEW: 'AccountsOverReputationBounceReview',
  ACCOUNTS_OVER_REPUTATION_COMPLAINT_WARNING: 'AccountsOverReputationComplaintWarning',
  ACCOUNTS_OVER_REPUTATION_COMPLAINT_REVIEW: 'AccountsOverReputationComplaintReview',
} as const;

/**
 * The log line each fetched account dataset writes (fields: dataset, enforcementStatus,
 * sendingEnabled, productionAccessEnabled, reviewStatus, lastChange, reputationBounceRate,
 * reputationComplaintRate, reputationAt): the dashboard's account table reads it.
 */
export const ACCOUNT_LOG_MESSAGE = 'account';

/** The DynamoDB table's key attribute names and TTL attribute. */
export const TABLE = {
  PARTITION_KEY: 'pk',
  SORT_KEY: 'sk',
  TTL_ATTRIBUTE: 'expiresAt',
} as const;

/** The read API's routes, all GET (lambda/api/router.ts answers them; lib/read-api.ts routes them). */
export const READ_API_PATHS = [
  '/datasets',
  '/datasets/{name}',
  '/datasets/{name}/records',
  '/datasets/{name}/summary',
  '/openapi.json',
] as const;
