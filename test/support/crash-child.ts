/**
 * Runs the second crash fetch against a DynamoDB Local table and kills itself with SIGKILL at
 * store call KILL_AT: before the call is sent (KILL_WHEN=before) or right after it completed
 * (KILL_WHEN=after, so the write landed but the process never saw the answer).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';
import { runCrashFetch } from './crash-run.ts';

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
const real = new DynamoDbDatasetStore(client, { tableName: env('TABLE') });
let calls = 0;
const store = new Proxy(real, {
  get(target, key, receiver) {
    const value = Reflect.get(target, key, receiver);
    if (typeof value !== 'function') return value;
    return async (...args: unknown[]) => {
      const n = ++calls;
      if (n === killAt && when === 'before') process.kill(process.pid, 'SIGKILL');
      const out = await value.apply(target, args);
      if (n === killAt && when === 'after') process.kill(process.pid, 'SIGKILL');
      return out;
    };
  },
}) as DatasetStore;

await runCrashFetch(store, 1);
process.stdout.write(`calls ${calls}\n`);
client.destroy();
