import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_LOCK_WAIT_MS, startEmbeddedDynamoDb } from '../adapters/embedded-dynamodb.ts';
import { maskSecrets } from '../config/masking.ts';
import { REGION_PATTERN } from '../config/service-url.ts';
import { UsageError } from '../core/errors.ts';
import type { DatasetStore } from '../core/store.ts';

/** The flags every storing or reading command takes. */
export const STORE_FLAGS = {
  table: { type: 'string' },
  'table-region': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  'lock-wait': { type: 'string' },
} as const;

export const STORE_HELP = `Store (default: an embedded DynamoDB Local under ./.ses-stats/, needs Java 17+):
  --table NAME                 a DynamoDB table (created if missing), default AWS credentials
  --table-region REGION        the table's region, e.g. eu-west-1 (default: AWS_REGION or the
                               AWS profile's region; independent of an activity's SES region)
  --dynamodb-endpoint URL      with --table: any DynamoDB-compatible endpoint, e.g. http://127.0.0.1:8000
  --lock-wait SECONDS          embedded store only: how long to wait while another ses-stats uses
                               ./.ses-stats/ (default ${DEFAULT_LOCK_WAIT_MS / 1000}, 0-3600)
`;

export const EMBEDDED_DIR = '.ses-stats';
export const EMBEDDED_TABLE = 'ses-stats';

/** The store flags' values as `parseFlags` returns them. */
export interface StoreFlagValues {
  readonly table?: string;
  readonly 'table-region'?: string;
  readonly 'dynamodb-endpoint'?: string;
  readonly 'lock-wait'?: string;
}

/** The store the flags select, checked; nothing is opened yet. */
export type StoreChoice =
  | {
      readonly kind: 'table';
      readonly table: string;
      readonly region: string | undefined;
      readonly endpoint: string | undefined;
    }
  | { readonly kind: 'embedded'; readonly dir: string; readonly lockWaitMs: number };

export interface OpenStore {
  readonly store: DatasetStore;
  /** Where the data lives, for messages. */
  readonly where: string;
  close(): Promise<void>;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const ENDPOINT = /^https?:\/\/[^\s/]+\/?$/;
const MAX_LOCK_WAIT_SECONDS = 3600;

/**
 * Checks the store flags without opening anything (the CLI calls it before any store or SES is
 * touched); throws a UsageError naming the flag, the value received and what is allowed.
 */
export function storeChoice(values: StoreFlagValues, cwd: string): StoreChoice {
  const { table, 'table-region': region, 'dynamodb-endpoint': endpoint } = values;
  const lockWait = values['lock-wait'];
  if (table !== undefined && !TABLE_NAME.test(table))
    throw new UsageError(
      `--table: received ${shown(table)}; expected a DynamoDB table name (3-255 letters, digits, "_", "-", ".")`,
    );
  if (region !== undefined && !REGION_PATTERN.test(region))
    throw new UsageError(
      `--table-region: received ${shown(region)}; expected an AWS region such as us-east-1`,
    );
  if (endpoint !== undefined && !ENDPOINT.test(endpoint))
    throw new UsageError(
      `--dynamodb-endpoint: received ${shown(endpoint)}; expected http(s)://host[:port]`,
    );
  if (lockWait !== undefined && !/^\d{1,4}$/.test(lockWait))
    throw new UsageError(
      `--lock-wait: received ${shown(lockWait)}; expected whole seconds from 0 to ${MAX_LOCK_WAIT_SECONDS}`,
    );
  if (lockWait !== undefined && Number(lockWait) > MAX_LOCK_WAIT_SECONDS)
    throw new UsageError(
      `--lock-wait: received ${shown(lockWait)}; expected whole seconds from 0 to ${MAX_LOCK_WAIT_SECONDS}`,
    );
  if (table === undefined) {
    for (const flag of ['dynamodb-endpoint', 'table-region'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag}: needs --table NAME as well`);
    return {
      kind: 'embedded',
      dir: join(cwd, EMBEDDED_DIR),
      lockWaitMs: lockWait === undefined ? DEFAULT_LOCK_WAIT_MS : Number(lockWait) * 1000,
    };
  }
  if (lockWait !== undefined)
    throw new UsageError(
      '--lock-wait: applies to the embedded store only (./.ses-stats/), not with --table',
    );
  return { kind: 'table', table, region, endpoint };
}

/**
 * Opens the store the flags select (checking them first); the embedded one is locked and started
 * here, and stopped and unlocked by `close`.
 */
export async function openStore(
  values: StoreFlagValues,
  cwd: string,
  io?: { readonly stderr: { write(text: string): unknown } },
): Promise<OpenStore> {
  const choice = storeChoice(values, cwd);
  if (choice.kind === 'table') return openTable(choice);
  const local = await startEmbeddedDynamoDb(choice.dir, {
    lockWaitMs: choice.lockWaitMs,
    onWait: (pid) =>
      io?.stderr.write(
        `waiting for ses-stats pid ${pid}, which is using ${choice.dir} (up to ${choice.lockWaitMs / 1000} s)\n`,
      ),
  });
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return open(client, EMBEDDED_TABLE, `the embedded store in ${choice.dir}`, async () => {
    client.destroy();
    await local.stop();
  });
}

async function openTable(choice: Extract<StoreChoice, { kind: 'table' }>): Promise<OpenStore> {
  const { table, endpoint } = choice;
  // The SDK loads only once the flags are known to be good: a refusal is answered at once.
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  if (endpoint !== undefined) {
    // A local endpoint ignores the region; the SDK still needs one to sign.
    const client = new DynamoDBClient({
      endpoint,
      credentials: await localFallback(),
      region: choice.region ?? process.env.AWS_REGION ?? 'us-east-1',
    });
    return open(client, table, endpoint, async () => client.destroy());
  }
  const client = new DynamoDBClient({ region: choice.region });
  const region = await tableRegion(client, table);
  return open(client, table, `AWS DynamoDB in ${region}`, async () => client.destroy());
}

/** The region the SDK chain gives when --table-region is not set, named as the table's. */
async function tableRegion(client: DynamoDBClient, table: string): Promise<string> {
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch {
    region = undefined;
  }
  if (region === undefined || region === '') {
    client.destroy();
    throw new UsageError(
      `--table-region: the region of table "${table}" is missing: pass --table-region REGION (e.g. --table-region eu-west-1), or set AWS_REGION or a region in the AWS profile`,
    );
  }
  if (!REGION_PATTERN.test(region)) {
    client.destroy();
    throw new UsageError(
      `--table-region: the region of table "${table}" from AWS_REGION or the AWS profile is ${shown(region)}; expected an AWS region such as us-east-1 (or pass --table-region REGION)`,
    );
  }
  return region;
}

async function open(
  client: DynamoDBClient,
  tableName: string,
  where: string,
  close: () => Promise<void>,
): Promise<OpenStore> {
  const [{ ensureTable }, { DynamoDbDatasetStore }] = await Promise.all([
    import('../adapters/dynamodb-table.ts'),
    import('../adapters/dynamodb-dataset-store.ts'),
  ]);
  try {
    await ensureTable(client, tableName, { where });
  } catch (error) {
    await close();
    throw error;
  }
  return { store: new DynamoDbDatasetStore(client, { tableName }), where, close };
}

/** A local endpoint usually ignores credentials; use the default chain when it has some. */
async function localFallback() {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const chain = fromNodeProviderChain();
  return async () => {
    try {
      return await chain();
    } catch {
      return { accessKeyId: 'local', secretAccessKey: 'local' };
    }
  };
}

/**
 * A received value as written in a message: secret-looking runs masked, quoted, control
 * characters escaped, long ones cut.
 */
export function shown(value: string): string {
  const safe = maskSecrets(value);
  return JSON.stringify(safe.length > 80 ? `${safe.slice(0, 80)}…` : safe);
}
