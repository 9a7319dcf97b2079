import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RetryStrategyV2 } from '@smithy/types';
import { inject } from 'vitest';
import {
  DynamoDbDatasetStore,
  type DynamoDbDatasetStoreOptions,
} from '../../lambda/adapters/dynamodb-dataset-store.ts';
import { ensureTable } from '../../lambda/adapters/dynamodb-table.ts';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function localClient(
  endpoint = inject('dynamodbEndpoint'),
  retryStrategy?: RetryStrategyV2,
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    retryStrategy,
  });
}

/** A fresh table on the suite's DynamoDB Local and a store on it. */
export async function freshStore(
  options: Partial<DynamoDbDatasetStoreOptions> = {},
  client = localClient(),
) {
  const tableName = `t-${randomUUID()}`;
  await ensureTable(client, tableName, { where: 'DynamoDB Local' });
  return { client, tableName, store: new DynamoDbDatasetStore(client, { tableName, ...options }) };
}
