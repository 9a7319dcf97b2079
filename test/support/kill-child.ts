/**
 * What a crash-test child process (crash-child.ts, backfill-crash-child.ts) is told by its
 * parent: the DynamoDB Local table, and the count (KILL_AT) and side (KILL_WHEN) of the call at
 * which it kills itself.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

export const tableName = env('TABLE');
const killAt = Number(env('KILL_AT'));
const when = env('KILL_WHEN');

/** A client of the parent's DynamoDB Local. */
export const client = new DynamoDBClient({
  endpoint: env('DYNAMODB_ENDPOINT'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/**
 * Runs `call`, the `n`th counted one, and kills the process with SIGKILL before it when `n` is
 * KILL_AT and KILL_WHEN=before, or right after it landed when KILL_WHEN=after.
 */
export async function killAround<T>(n: number, call: () => Promise<T>): Promise<T> {
  if (n === killAt && when === 'before') process.kill(process.pid, 'SIGKILL');
  const out = await call();
  if (n === killAt && when === 'after') process.kill(process.pid, 'SIGKILL');
  return out;
}
