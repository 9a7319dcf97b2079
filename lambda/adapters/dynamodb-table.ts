import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { TABLE } from '../constants.ts';
import { StoreError } from '../core/errors.ts';
import { describeAwsError } from './aws-errors.ts';

/**
 * Creates the table if it does not exist (the CLI's stores; `cdk deploy` creates the real one):
 * on-demand, string keys `pk`/`sk`, TTL on `expiresAt` when raw points expire. With
 * `create: false` (reading commands) a missing table is an error instead.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { ttl?: boolean; where: string; create?: boolean },
): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) {
      const cause = describeAwsError(error, 'DynamoDB', 'DescribeTable');
      const what = /^(network error|no answer)/.test(cause)
        ? `cannot reach DynamoDB at ${options.where}`
        : `cannot use table "${tableName}" at ${options.where}`;
      throw new StoreError(`${what}: ${cause}`, { cause: error });
    }
    if (options.create === false)
      throw new StoreError(
        `table "${tableName}" does not exist at ${options.where}: nothing is stored there (check the table's name and region; "ses-stats collect --table ${tableName}" creates it)`,
        { cause: error },
      );
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE.PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: TABLE.SORT_KEY, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE.PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: TABLE.SORT_KEY, KeyType: 'RANGE' },
        ],
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
    if (options.ttl) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: TABLE.TTL_ATTRIBUTE, Enabled: true },
        }),
      );
    }
  } catch (error) {
    throw new StoreError(
      `cannot create table "${tableName}" at ${options.where}: ${describeAwsError(error, 'DynamoDB')}`,
      { cause: error },
    );
  }
}
