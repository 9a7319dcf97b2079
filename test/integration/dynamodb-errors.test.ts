import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import { ensureTable } from '../../lambda/adapters/dynamodb-table.ts';
import type { DatasetMeta } from '../../lambda/core/store.ts';
import { localClient } from '../support/dynamodb.ts';

const META = {
  name: 'stats',
  kind: 'statistics',
  source: 'S1',
  activity: 'a',
  count: 0,
  gaps: [],
  version: 0,
} as DatasetMeta;

/** One answer of the tiny DynamoDB stand-in: a status and a raw body. */
interface Answer {
  status: number;
  body: string;
}

const jsonError = (status: number, type: string, message: string): Answer => ({
  status,
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
});

/**
 * A local HTTP server that answers every DynamoDB call with the queued answer (the last one
 * repeats), recording the X-Amz-Target of each request. Real DynamoDB errors look like this:
 * HTTP status, a JSON body with `__type` and `message`, and a request id header.
 */
let server: Server;
let endpoint: string;
let answer: Answer;
const targets: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      targets.push(String(req.headers['x-amz-target']));
      res.writeHead(answer.status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `req-${targets.length}`,
      });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  targets.length = 0;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

/** A real DynamoDBClient on the stand-in: `attempts` attempts, no backoff between them. */
function storeOn(attempts: number): DynamoDbDatasetStore {
  const client = localClient(endpoint, new ConfiguredRetryStrategy(attempts, () => 0));
  return new DynamoDbDatasetStore(client, { tableName: 'ses-stats-prod' });
}

async function failureOf(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error) || error.name !== 'StoreError')
    throw new Error(`expected a StoreError, got ${String(error)}`);
  return error;
}

describe('DynamoDbDatasetStore errors', () => {
  it.each([
    [
      'a 500',
      jsonError(500, 'InternalServerError', 'Internal server error'),
      /^DynamoDB GetItem on table "ses-stats-prod" failed: DynamoDB server error \(HTTP 500, InternalServerError: Internal server error\) \[after 2 attempts, request id req-2\]$/,
    ],
    [
      'a ThrottlingException',
      jsonError(400, 'ThrottlingException', 'Rate of requests exceeds the allowed throughput.'),
      /^DynamoDB GetItem on table "ses-stats-prod" failed: throttled by DynamoDB \(.*\) \(ThrottlingException: Rate of requests exceeds the allowed throughput\.\) \[after 2 attempts, request id req-2\]$/,
    ],
    [
      'a ProvisionedThroughputExceededException',
      jsonError(
        400,
        'ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded.',
      ),
      /^DynamoDB GetItem on table "ses-stats-prod" failed: throttled by DynamoDB \(.*\) \(ProvisionedThroughputExceededException: The level of configured/,
    ],
    [
      'an AccessDeniedException',
      jsonError(
        400,
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:GetItem',
      ),
      /^DynamoDB GetItem on table "ses-stats-prod" failed: access denied: IAM must allow these credentials dynamodb:GetItem on the table \(AccessDeniedException: User: .* dynamodb:GetItem\) \[request id req-1\]$/,
    ],
    [
      'a malformed body',
      { status: 200, body: '{"Item": {"pk": ' },
      /^DynamoDB GetItem on table "ses-stats-prod" failed: malformed response from DynamoDB \(HTTP 200\): the body is not valid DynamoDB JSON/,
    ],
  ] as const)(
    'names the table and DynamoDB’s cause for %s, never SES',
    async (_, given, message) => {
      answer = given;

      const error = await failureOf(storeOn(2).getMeta('stats'));

      expect(error.message, error.message).toMatch(message);
      expect(error.message).not.toMatch(/SES|ses:/);
      expect(targets[0]).toBe('DynamoDB_20120810.GetItem');
    },
  );

  it('names the action a 403 on a write needs', async () => {
    answer = jsonError(400, 'AccessDeniedException', 'not authorized');

    const error = await failureOf(storeOn(1).putMeta(META));

    expect(error.message).toMatch(
      /^DynamoDB PutItem on table "ses-stats-prod" failed: access denied: IAM must allow these credentials dynamodb:PutItem on the table/,
    );
  });

  it('words a table check that fails as DynamoDB’s, never SES', async () => {
    answer = jsonError(500, 'InternalServerError', 'Internal server error');
    const client = localClient(endpoint, new ConfiguredRetryStrategy(3, () => 0));

    const error = await failureOf(ensureTable(client, 'cli-table', { where: 'DynamoDB Local' }));

    expect(error.message).toBe(
      'cannot use table "cli-table" at DynamoDB Local: DynamoDB server error (HTTP 500, InternalServerError: Internal server error) [after 3 attempts, request id req-3]',
    );
    expect(targets).toEqual(Array(3).fill('DynamoDB_20120810.DescribeTable'));
  });
});
