/**
 * Runs the first fetch of `backfill-run.ts` against a DynamoDB Local table and kills itself with
 * SIGKILL at write request KILL_AT (PutItem, TransactWriteItems, BatchWriteItem; each command
 * counts once, whatever the SDK's retries): before it is sent
 * (KILL_WHEN=before) or right after its answer arrived (KILL_WHEN=after, so it landed but the
 * process never went on). Requests of the same run still in flight may land or not, as in a real
 * crash. Prints `requests N` (the write requests) when not killed.
 */
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import { runBackfillFetch } from './backfill-run.ts';
import { client, killAround, tableName } from './kill-child.ts';

const WRITES = new Set(['PutItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
let requests = 0;
client.middlewareStack.add(
  (next, context) => async (args) => {
    if (!WRITES.has(context.commandName ?? '')) return next(args);
    return killAround(++requests, () => next(args));
  },
  { step: 'initialize', name: 'killAtRequest' },
);

await runBackfillFetch(new DynamoDbDatasetStore(client, { tableName }));
process.stdout.write(`requests ${requests}\n`);
client.destroy();
