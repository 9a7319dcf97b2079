import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { DynamoDbDatasetStore } from '../adapters/dynamodb-dataset-store.ts';
import { ensureTable } from '../adapters/dynamodb-table.ts';
import { startEmbeddedDynamoDb } from '../adapters/embedded-dynamodb.ts';
import type { DatasetStore } from '../core/store.ts';
import { UsageError } from './args.ts';

/** The flags every storing or reading command takes. */
export const STORE_FLAGS = {
  table: { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
} as const;

export const STORE_HELP = `Store (default: an embedded DynamoDB Local under ./.ses-stats/, needs Java 17+):
  --table NAME                 a DynamoDB table (created if missing), default AWS credentials and region
  --dynamodb-endpoint URL      with --table: any DynamoDB-compatible endpoint, e.g. http://127.0.0.1:8000
`;

export const EMBEDDED_DIR = '.ses-stats';
export const EMBEDDED_TABLE = 'ses-stats';

export interface OpenStore {
  readonly store: DatasetStore;
  /** Where the data lives, for messages. */
  readonly where: string;
  close(): Promise<void>;
}

/** Opens the store the flags select; the embedded one is started here and stopped by `close`. */
export async function openStore(
  values: { table?: string; 'dynamodb-endpoint'?: string },
  cwd: string,
): Promise<OpenStore> {
  const endpoint = values['dynamodb-endpoint'];
  if (endpoint !== undefined && values.table === undefined)
    throw new UsageError('--dynamodb-endpoint: needs --table NAME as well');
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(endpoint))
    throw new UsageError(
      `--dynamodb-endpoint: received "${endpoint}"; expected http(s)://host[:port]`,
    );
  if (values.table !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(values.table))
    throw new UsageError(
      `--table: received "${values.table}"; expected a DynamoDB table name (3-255 letters, digits, "_", "-", ".")`,
    );
  if (values.table !== undefined) {
    const where = endpoint ?? 'AWS DynamoDB (default region)';
    const client = new DynamoDBClient({
      endpoint,
      credentials: endpoint === undefined ? undefined : localFallback(),
      region: endpoint === undefined ? undefined : (process.env.AWS_REGION ?? 'us-east-1'),
    });
    return open(client, values.table, where, async () => client.destroy());
  }
  const dir = join(cwd, EMBEDDED_DIR);
  const local = await startEmbeddedDynamoDb(dir);
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return open(client, EMBEDDED_TABLE, `the embedded store in ${dir}`, async () => {
    client.destroy();
    await local.stop();
  });
}

async function open(
  client: DynamoDBClient,
  tableName: string,
  where: string,
  close: () => Promise<void>,
): Promise<OpenStore> {
  try {
    await ensureTable(client, tableName, { where });
  } catch (error) {
    await close();
    throw error;
  }
  return { store: new DynamoDbDatasetStore(client, { tableName }), where, close };
}

/** A local endpoint usually ignores credentials; use the default chain when it has some. */
function localFallback() {
  const chain = fromNodeProviderChain();
  return async () => {
    try {
      return await chain();
    } catch {
      return { accessKeyId: 'local', secretAccessKey: 'local' };
    }
  };
}
