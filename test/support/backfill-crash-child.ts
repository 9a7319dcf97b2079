/**
 * Runs the first fetch of `backfill-run.ts` against a DynamoDB Local table and kills itself with
 * SIGKILL at write request KILL_AT (PutItem, TransactWriteItems, BatchWriteItem; each command
 * counts once, whatever the SDK's retries): before it is sent
 * (KILL_WHEN=before) or right after its answer arrived (KILL_WHEN=after, so it landed but the
 * process never went on). Requests of the same run still in flight may land or not, as in a real
 * crash. Prints `requests N` (the write requests) when not killed.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import { runBackfillFetch } from './backfill-run.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const killAt = Number(env('KILL_AT'));
const when = env('KILL_WHEN');
const client = new DynamoDBClient({
  endpoint: env('DYNAMODB_ENDPOINT'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const WRITES = new Set(['PutItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
let requests = 0;
client.middlewareStack.add(
  (next, context) => async (args) => {
    if (!WRITES.has(context.commandName ?? '')) return next(args);
    const n = ++requests;
    if (n === killAt && when === 'before') process.kill(process.pid, 'SIGKILL');
    const out = await next(args);
    if (n === killAt && when === 'after') process.kill(process.pid, 'SIGKILL');
    return out;
  },
  { step: 'initialize', name: 'killAtRequest' },
);

await runBackfillFetch(new DynamoDbDatasetStore(client, { tableName: env('TABLE') }));
process.stdout.write(`requests ${requests}\n`);
client.destroy();
