import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDatasetStore } from '../adapters/dynamodb-dataset-store.ts';
import { createSecretReader, redact } from '../adapters/secrets.ts';
import { powertoolsSecretsManager } from '../adapters/secrets-manager.ts';
import { sourcesFor } from '../adapters/ses-statistics-source.ts';
import { systemClock } from '../adapters/system-clock.ts';
import { worstCaseSourceMs } from '../config/budget.ts';
import { readJsonFile } from '../config/file.ts';
import { parseConfig } from '../config/schema.ts';
import { ACCOUNT_LOG_MESSAGE, CONFIG_FILE_NAME, ENV, METRICS } from '../constants.ts';
import { AccountTally } from '../core/account-health.ts';
import {
  type ActivityRun,
  type CollectOutcome,
  collectAll,
  stalestFirst,
} from '../core/activity.ts';
import { BatchMessageError, parseBatchMessage, planBatches } from '../core/batches.ts';
import {
  alarmMode,
  BREACH_LOG_MESSAGE,
  COLLECTED_LOG_MESSAGE,
  type DatasetMetric,
  datasetAlarmNumbers,
  datasetMetrics,
  RunTally,
  STALE_LOG_MESSAGE,
  staleDatasets,
} from '../core/metrics.ts';
import { Pacer, SES_CALL_INTERVAL_MS } from '../core/pacer.ts';
import type { ActivityResult } from '../core/results.ts';
import type { DatasetMeta } from '../core/store.ts';
import { MINUTE_MS } from '../core/time.ts';
import { requiredEnv } from './env.ts';

// Composition root: everything below is built once per cold start; a bad config fails the init.
const logger = new Logger({ serviceName: METRICS.SERVICE });
const metrics = new Metrics({ namespace: METRICS.NAMESPACE, serviceName: METRICS.SERVICE });
// The config ships in the asset, next to this code (lib/collector.ts); tests may name another file.
const config = parseConfig(
  readJsonFile(
    process.env[ENV.CONFIG_FILE] ??
      fileURLToPath(new URL(`./${CONFIG_FILE_NAME}`, import.meta.url)),
  ),
);
// A function has no secret environment variables: only Secrets Manager references resolve.
const secrets = createSecretReader({ secretsManager: powertoolsSecretsManager });
const store = new DynamoDbDatasetStore(new DynamoDBClient({}), {
  tableName: requiredEnv(ENV.TABLE_NAME),
});
const runs = sourcesFor(config.activities, { secrets }).map((run) => ({
  ...run,
  worstCaseMs: worstCaseSourceMs(run.activity.connection),
}));
// The monitoring (lib/monitoring.ts) picks the same mode from the same count.
const mode = alarmMode(config.activities.length);
const hasAccounts = config.activities.some((a) => a.accountDataset !== undefined);
const runsByName = new Map(runs.map((run) => [run.activity.name, run] as const));
// The schedule's own rate (lib/collector.ts); the config's when run outside the stack.
const scheduleMinutes = Number(process.env[ENV.SCHEDULE_MINUTES] ?? config.scheduleMinutes);
// Set only when the config has more sources than one invocation takes (lib/collector.ts).
const queueUrl = process.env[ENV.BATCH_QUEUE_URL];

/** The part of the Lambda context the collector reads. */
interface RunContext {
  getRemainingTimeInMillis(): number;
}

/** The part of an SQS event a batch invocation reads. */
interface QueueEvent {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

export interface RunReport {
  readonly collected: number;
  readonly failed: number;
  readonly skipped: number;
  /** Sources handed to the batch queue instead of collected by this run. */
  readonly dispatched?: number;
}

export interface BatchReport {
  /** The messages to receive again (SQS partial batch response): those with a failed source. */
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/**
 * The collector's one entry point. Invoked by the schedule, it collects every activity, least
 * recently covered first — or, with more sources than one invocation takes, hands them to the
 * batch queue, one message per identity and region. Invoked by the queue, it collects the
 * messages' activities and reports the messages whose sources failed, so only they are retried.
 */
export const handler = async (
  event?: unknown,
  context?: RunContext,
): Promise<RunReport | BatchReport> =>
  isQueueEvent(event) ? collectBatches(event, context) : scheduledRun(context);

/**
 * Each activity is stored and its metrics published as soon as it is done; sources the time left
 * cannot fit are skipped (and go first next run). Ends in error if any failed, after the others.
 */
async function scheduledRun(context: RunContext | undefined): Promise<RunReport> {
  const fansOut = queueUrl !== undefined && runs.length > config.batchSize;
  // One read of every dataset's metadata serves the order and the stale count.
  let metas: Promise<DatasetMeta[]> | undefined;
  const listed = { listMeta: () => (metas ??= store.listMeta()) };
  // Batches are all sent at once, so their order always counts.
  const ordered = await stalestFirst(runs, listed, fansOut ? 0 : config.concurrency);
  if (mode === 'perKind') await publishStaleCount(await listed.listMeta());
  if (queueUrl !== undefined && fansOut) {
    const batches = planBatches(ordered);
    // Loaded only here: SQS code stays out of every batch invocation's and small run's cold start.
    const { SqsBatchQueue } = await import('../adapters/sqs-batch-queue.ts');
    await SqsBatchQueue.fromUrl(queueUrl).send(batches, systemClock.now());
    logger.info('sources handed to the batch queue, stalest first', {
      sources: runs.length,
      messages: batches.length,
    });
    return { collected: 0, failed: 0, skipped: 0, dispatched: runs.length };
  }
  const outcome = await collect(ordered, context);
  if (outcome.failures.length > 0) {
    throw new Error(
      redact(
        `${outcome.failures.length} of ${runs.length} activities failed: ${outcome.failures.map((f) => f.message).join(' | ')}`,
      ),
    );
  }
  return { collected: outcome.collected, failed: 0, skipped: outcome.skipped.length };
}

/**
 * Collects the activities of every message at once (paced per identity and region as one run),
 * and names the messages to retry: those with a failed source, or a body that is not a batch.
 * Skipped sources are not failures: the next scheduled run puts them first.
 */
async function collectBatches(
  event: QueueEvent,
  context: RunContext | undefined,
): Promise<BatchReport> {
  const failed = new Set<string>();
  // Two messages of one group may name the same activity (this run's and the last's, retried):
  // it is collected once, and a failure retries both.
  const messagesOf = new Map<string, string[]>();
  const batch: ActivityRun[] = [];
  for (const record of event.Records) {
    let names: readonly string[];
    try {
      names = parseBatchMessage(record.body);
    } catch (error) {
      if (!(error instanceof BatchMessageError)) throw error;
      logger.error('batch message refused', { messageId: record.messageId, error: error.message });
      failed.add(record.messageId);
      continue;
    }
    for (const name of names) {
      const run = runsByName.get(name);
      // A message sent before a deployment that removed the activity: nothing left to collect.
      if (run === undefined)
        logger.warn('batch names an activity the config no longer has', { activity: name });
      else {
        const ids = messagesOf.get(name);
        if (ids !== undefined) ids.push(record.messageId);
        else {
          messagesOf.set(name, [record.messageId]);
          batch.push(run);
        }
      }
    }
  }
  // The previous invocation of a message group (the same identity and region) may have called
  // SES just before this one started: each identity's first call waits its interval from here.
  const pacer = new Pacer(systemClock, SES_CALL_INTERVAL_MS, systemClock.now().getTime());
  const outcome = await collect(batch, context, pacer);
  for (const failure of outcome.failures) {
    for (const messageId of messagesOf.get(failure.activity.name) ?? []) failed.add(messageId);
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Collects `ordered` within the time left, logging what was skipped and what failed. */
async function collect(
  ordered: readonly ActivityRun[],
  context: RunContext | undefined,
  pacer?: Pacer,
): Promise<CollectOutcome> {
  // Per kind: one tally per invocation, its counts published once the sources are done.
  const tally = mode === 'perKind' ? new RunTally(config.alarms) : undefined;
  // Both modes: six account counts per invocation, whatever the number of accounts.
  const accounts = hasAccounts ? new AccountTally(config.alarms) : undefined;
  // A source whose account call failed after its datasets were reported is counted as failed only.
  const reported = new Set<string>();
  const outcome = await collectAll(ordered, {
    clock: systemClock,
    ...(pacer === undefined ? {} : { pacer }),
    store,
    concurrency: config.concurrency,
    rawRetentionDays: config.rawRetentionDays,
    remainingMs: context === undefined ? undefined : () => context.getRemainingTimeInMillis(),
    onResult: (result) => {
      reported.add(result.activity.name);
      report(result, tally, accounts);
    },
  });
  if (accounts !== undefined && accounts.accounts > 0) publishCounts(accounts);
  if (tally !== undefined) {
    tally.addFailed(
      outcome.failures.length,
      outcome.failures.filter((f) => reported.has(f.activity.name)).length,
    );
    tally.addSkipped(outcome.skipped.length);
    publishCounts(tally);
  }
  if (outcome.skipped.length > 0)
    logger.warn('sources skipped: the time left could not fit them; they go first next run', {
      skipped: outcome.skipped.map((a) => a.name),
    });
  for (const failure of outcome.failures)
    logger.error('activity failed', {
      activity: failure.activity.name,
      error: redact(failure.message),
    });
  return outcome;
}

/**
 * Once per scheduled run (never per batch): how many statistics datasets no run covered for two
 * periods, the one metric the per-kind staleness alarm watches; their names go to the log.
 */
async function publishStaleCount(metas: readonly DatasetMeta[]): Promise<void> {
  const stale = staleDatasets(
    metas,
    config.activities.map((a) => a.statisticsDataset),
    Date.now(),
    2 * scheduleMinutes * MINUTE_MS,
  );
  metrics.addMetric(METRICS.STALE_DATASETS, MetricUnit.Count, stale.length);
  metrics.publishStoredMetrics();
  if (stale.length > 0)
    logger.warn(STALE_LOG_MESSAGE, {
      count: stale.length,
      datasets: stale.slice(0, 100),
    });
}

function isQueueEvent(event: unknown): event is QueueEvent {
  const records = (event as { Records?: unknown } | null | undefined)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((r) => (r as { eventSource?: unknown } | null)?.eventSource === 'aws:sqs')
  );
}

/**
 * Logs one collected activity with the numbers the per-kind alarms compare (the dashboard's Logs
 * Insights widgets read them), then publishes its metrics (per dataset) or counts it (per kind).
 */
function report(
  result: ActivityResult,
  tally: RunTally | undefined,
  accounts: AccountTally | undefined,
): void {
  const health = accounts?.add(result);
  if (health !== undefined) logger.info(ACCOUNT_LOG_MESSAGE, { ...health });
  const numbers =
    tally?.add(result) ?? datasetAlarmNumbers(result, config.alarms.minDeliveryAttempts);
  logger.info(COLLECTED_LOG_MESSAGE, {
    activity: result.activity.name,
    dataset: result.statistics.name,
    usageDataset: result.usage.name,
    points: result.statistics.rows.length,
    ...numbers,
    stored: result.stored,
  });
  for (const gap of result.stored?.newGaps ?? [])
    logger.warn('data lost: SES no longer had this span', { dataset: result.statistics.name, gap });
  if (tally === undefined) publishByDataset(datasetMetrics(result));
}

/**
 * Per kind, and for the account counts in both modes: one EMF document with the `service`
 * dimension only (a fixed number of metrics, whatever the sources), and one log line per level
 * naming the datasets over it (the alarms point here).
 */
function publishCounts(tally: RunTally | AccountTally): void {
  for (const m of tally.metrics()) metrics.addMetric(m.name, MetricUnit.Count, m.value);
  metrics.publishStoredMetrics();
  for (const breach of tally.breaches()) logger.warn(BREACH_LOG_MESSAGE, { ...breach });
}

/** One EMF document per dataset: its metrics share the dimension set {service, Dataset}. */
function publishByDataset(values: readonly DatasetMetric[]): void {
  for (const dataset of new Set(values.map((m) => m.dataset))) {
    metrics.addDimension(METRICS.DATASET_DIMENSION, dataset);
    for (const m of values.filter((v) => v.dataset === dataset)) {
      metrics.addMetric(m.name, m.unit === 'Count' ? MetricUnit.Count : MetricUnit.NoUnit, m.value);
    }
    metrics.publishStoredMetrics();
  }
}
