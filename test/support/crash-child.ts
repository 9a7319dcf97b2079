/**
 * Runs the second crash fetch against a DynamoDB Local table and kills itself with SIGKILL at
 * store call KILL_AT: before the call is sent (KILL_WHEN=before) or right after it completed
 * (KILL_WHEN=after, so the write landed but the process never saw the answer).
 */
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';
import { runCrashFetch } from './crash-run.ts';
import { client, killAround, tableName } from './kill-child.ts';

const real = new DynamoDbDatasetStore(client, { tableName });
let calls = 0;
const store = new Proxy(real, {
  get(target, key, receiver) {
    const value = Reflect.get(target, key, receiver);
    if (typeof value !== 'function') return value;
    return async (...args: unknown[]) => {
      return killAround(++calls, () => value.apply(target, args));
    };
  },
}) as DatasetStore;

await runCrashFetch(store, 1);
process.stdout.write(`calls ${calls}\n`);
client.destroy();
