/**
 * The naive baseline for the read API benchmark: what a straightforward handler would do for
 * `GET /datasets/{name}/records?granularity=…&from=…&to=…`. It imports the whole DynamoDB client
 * and document client, Queries every raw 15-minute point of the span (paginateQuery) and sums
 * them per hour or day in the handler. Bundled with esbuild's defaults (CommonJS, not minified).
 * It answers `x-items-read`: the items its Queries read.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const table = process.env.SES_STATS_TABLE_NAME ?? '';
const COUNTS = ['DeliveryAttempts', 'Bounces', 'Complaints', 'Rejects'] as const;
const BUCKET = { '15m': 20, '1h': 13, '1d': 10 } as const;

interface Event {
  readonly rawPath?: string;
  readonly rawQueryString?: string;
}

export const handler = async (event: Event) => {
  const name = decodeURIComponent((event.rawPath ?? '').split('/')[2] ?? '');
  const query = new URLSearchParams(event.rawQueryString ?? '');
  const granularity = (query.get('granularity') ?? '15m') as keyof typeof BUCKET;
  const from = new Date(query.get('from') ?? '1970-01-01').toISOString().replace('.000Z', 'Z');
  const to = new Date(query.get('to') ?? '9999-12-31').toISOString().replace('.000Z', 'Z');
  const buckets = new Map<string, Record<string, number | string>>();
  let read = 0;
  for await (const page of paginateQuery(
    { client: doc },
    {
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': `${name}#15m`, ':from': from, ':to': to },
    },
  )) {
    read += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) {
      const sk = String(item.sk);
      if (sk >= to) continue;
      const key = sk.slice(0, BUCKET[granularity]);
      const sum = buckets.get(key) ?? {
        Timestamp:
          granularity === '15m' ? sk : `${key}${granularity === '1h' ? ':00:00Z' : 'T00:00:00Z'}`,
        DeliveryAttempts: 0,
        Bounces: 0,
        Complaints: 0,
        Rejects: 0,
      };
      for (const c of COUNTS) sum[c] = Number(sum[c]) + Number(item[c] ?? 0);
      buckets.set(key, sum);
    }
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-items-read': String(read) },
    body: JSON.stringify({ dataset: name, granularity, rows: [...buckets.values()] }),
    isBase64Encoded: false,
  };
};
