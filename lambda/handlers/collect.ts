import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDatasetStore } from '../adapters/dynamodb-dataset-store.ts';
import { createSecretReader, redact } from '../adapters/secrets.ts';
import { powertoolsSecretsManager } from '../adapters/secrets-manager.ts';
import { sourcesFor } from '../adapters/ses-statistics-source.ts';
import { systemClock } from '../adapters/system-clock.ts';
import { worstCaseSourceMs } from '../config/budget.ts';
import { parseConfig } from '../config/schema.ts';
import { ENV, METRICS } from '../constants.ts';
import { collectAll, stalestFirst } from '../core/activity.ts';
import { type DatasetMetric, datasetMetrics } from '../core/metrics.ts';
import type { ActivityResult } from '../core/results.ts';
import { requiredEnv } from './env.ts';

// Composition root: everything below is built once per cold start; a bad config fails the init.
const logger = new Logger({ serviceName: METRICS.SERVICE });
const metrics = new Metrics({ namespace: METRICS.NAMESPACE, serviceName: METRICS.SERVICE });
const config = parseConfig(JSON.parse(requiredEnv(ENV.CONFIG)));
// A function has no secret environment variables: only Secrets Manager references resolve.
const secrets = createSecretReader({ secretsManager: powertoolsSecretsManager });
const store = new DynamoDbDatasetStore(new DynamoDBClient({}), {
  tableName: requiredEnv(ENV.TABLE_NAME),
});
const runs = sourcesFor(config.activities, { secrets }).map((run) => ({
  ...run,
  worstCaseMs: worstCaseSourceMs(run.activity.connection),
}));

/** The part of the Lambda context the collector reads. */
interface RunContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The scheduled collector: every activity, least recently covered first, each stored and its
 * metrics published as soon as it is done; sources the time left cannot fit are skipped (and go
 * first next run). Ends in error if any failed, after the others.
 */
export const handler = async (
  _event?: unknown,
  context?: RunContext,
): Promise<{ collected: number; failed: number; skipped: number }> => {
  const outcome = await collectAll(await stalestFirst(runs, store), {
    clock: systemClock,
    store,
    rawRetentionDays: config.rawRetentionDays,
    remainingMs: context === undefined ? undefined : () => context.getRemainingTimeInMillis(),
    onResult: report,
  });
  if (outcome.skipped.length > 0)
    logger.warn('sources skipped: the time left could not fit them; they go first next run', {
      skipped: outcome.skipped.map((a) => a.name),
    });
  for (const failure of outcome.failures)
    logger.error('activity failed', {
      activity: failure.activity.name,
      error: redact(failure.message),
    });
  if (outcome.failures.length > 0) {
    throw new Error(
      redact(
        `${outcome.failures.length} of ${runs.length} activities failed: ${outcome.failures.map((f) => f.message).join(' | ')}`,
      ),
    );
  }
  return { collected: outcome.collected, failed: 0, skipped: outcome.skipped.length };
};

function report(result: ActivityResult): void {
  logger.info('collected', {
    activity: result.activity.name,
    dataset: result.statistics.name,
    points: result.statistics.rows.length,
    stored: result.stored,
  });
  for (const gap of result.stored?.newGaps ?? [])
    logger.warn('data lost: SES no longer had this span', { dataset: result.statistics.name, gap });
  publishByDataset(datasetMetrics(result));
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
