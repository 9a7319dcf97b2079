/**
 * The naive baseline for the cold-init benchmark: the same SDK clients and logger as the real
 * collector, all imported and built up front, doing the same steady-state work on its first call
 * (GetSendQuota, GetSendStatistics, read the stored window, write what changed, store the usage
 * snapshot, publish the same metrics), bundled with
 * esbuild's defaults (CommonJS, not minified).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSendQuotaCommand, GetSendStatisticsCommand, SESClient } from '@aws-sdk/client-ses';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { HttpProxyAgent } from 'hpagent';
import { z } from 'zod';

const logger = new Logger({ serviceName: 'naive' });
const metrics = new Metrics({ namespace: 'Naive', serviceName: 'naive' });
const config = z
  .object({
    sessions: z.record(z.string(), z.object({ serviceUrl: z.string(), region: z.string() })),
    activities: z.array(z.object({ statisticsDataset: z.string() })),
  })
  .parse(JSON.parse(process.env.SES_STATS_CONFIG ?? '{}'));
const session = Object.values(config.sessions)[0];
const ses = new SESClient({ endpoint: session?.serviceUrl, region: session?.region });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const table = process.env.SES_STATS_TABLE_NAME ?? '';
// Kept in the bundle, as in a handler that supports every option.
export const optional = [fromTemporaryCredentials, getSecret, HttpProxyAgent];

export const handler = async () => {
  const [quota, stats] = await Promise.all([
    ses.send(new GetSendQuotaCommand({})),
    ses.send(new GetSendStatisticsCommand({})),
  ]);
  const pk = `${config.activities[0]?.statisticsDataset}#15m`;
  const stored = new Map<string, number>();
  for await (const page of paginateQuery(
    { client: doc },
    {
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    },
  )) {
    for (const item of page.Items ?? []) stored.set(String(item.sk), Number(item.DeliveryAttempts));
  }
  for (const p of stats.SendDataPoints ?? []) {
    const sk = p.Timestamp?.toISOString().replace('.000Z', 'Z') ?? '';
    if (stored.get(sk) === p.DeliveryAttempts) continue;
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk,
          sk,
          DeliveryAttempts: p.DeliveryAttempts,
          Bounces: p.Bounces,
          Complaints: p.Complaints,
          Rejects: p.Rejects,
        },
      }),
    );
  }
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: { pk: 'usage#usage', sk: new Date().toISOString(), ...quota, $metadata: undefined },
    }),
  );
  const points = stats.SendDataPoints ?? [];
  const sum = (key: 'DeliveryAttempts' | 'Bounces' | 'Complaints' | 'Rejects') =>
    points.reduce((s, p) => s + (p[key] ?? 0), 0);
  metrics.addDimension('Dataset', config.activities[0]?.statisticsDataset ?? '');
  for (const key of ['DeliveryAttempts', 'Bounces', 'Complaints', 'Rejects'] as const)
    metrics.addMetric(key, MetricUnit.Count, sum(key));
  metrics.addMetric('BounceRate', MetricUnit.NoUnit, sum('Bounces') / sum('DeliveryAttempts'));
  metrics.addMetric(
    'ComplaintRate',
    MetricUnit.NoUnit,
    sum('Complaints') / sum('DeliveryAttempts'),
  );
  metrics.addMetric('CollectionSucceeded', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  metrics.addDimension('Dataset', 'usage');
  metrics.addMetric(
    'QuotaUtilisation',
    MetricUnit.NoUnit,
    (quota.SentLast24Hours ?? 0) / (quota.Max24HourSend ?? 1),
  );
  metrics.publishStoredMetrics();
  logger.info('collected', { points: stats.SendDataPoints?.length });
  return { collected: 1, failed: 0 };
};
