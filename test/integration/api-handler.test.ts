import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../lambda/constants.ts';
import type { ApiGatewayEvent, ApiGatewayResult } from '../../lambda/handlers/api.ts';
import { describeApiScenario, fillHistory } from '../support/api-scenario.ts';
import { freshStore, LOCAL_CREDENTIALS } from '../support/dynamodb.ts';
import { conformance } from '../support/openapi.ts';

let handler: (event: ApiGatewayEvent) => Promise<ApiGatewayResult>;

beforeAll(async () => {
  const { store, tableName } = await freshStore();
  await fillHistory(store);
  // The function's environment as the stack sets it, plus what Lambda provides.
  Object.assign(process.env, {
    [ENV.TABLE_NAME]: tableName,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  });
  ({ handler } = await import('../../lambda/handlers/api.ts'));
}, 120_000);

/** An HTTP API (payload 2.0) event as API Gateway sends it, on the $default stage. */
function event(path: string, query: string, method: string, stage = '$default'): ApiGatewayEvent {
  return {
    version: '2.0',
    rawPath: stage === '$default' ? path : `/${stage}${path}`,
    rawQueryString: query,
    requestContext: { http: { method }, stage },
  };
}

describeApiScenario(
  'Lambda handler, API Gateway events, DynamoDB Local',
  () =>
    async (path, query = '', method = 'GET') => {
      const out = await handler(event(path, query, method));
      return { status: out.statusCode, headers: out.headers, body: out.body };
    },
);

describe('the API handler', () => {
  it('removes a named stage from the path and reads REST (1.0) events too', async () => {
    const staged = await handler(event('/datasets/history', '', 'GET', 'v1'));
    expect(staged.statusCode).toBe(200);
    const rest = await handler({
      httpMethod: 'GET',
      path: '/datasets/history/records',
      multiValueQueryStringParameters: { granularity: ['1d'], from: ['2026-11-15'] },
    });
    expect(rest.statusCode).toBe(200);
    expect(JSON.parse(rest.body).rows).toHaveLength(5);
  });

  it('answers 503 without details when the table cannot be read (the cause goes to the log)', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    // A module built with another endpoint: nothing listens there.
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
    process.env.AWS_MAX_ATTEMPTS = '1';
    const { vi } = await import('vitest');
    vi.resetModules();
    const broken = (await import('../../lambda/handlers/api.ts')).handler;
    let out: ApiGatewayResult;
    try {
      out = await broken(event('/datasets', '', 'GET'));
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
      delete process.env.AWS_MAX_ATTEMPTS;
    }

    expect(out.statusCode).toBe(503);
    expect(
      conformance('/datasets', out.statusCode, out.headers['content-type'] ?? '', out.body),
    ).toEqual([]);
    expect(JSON.parse(out.body)).toEqual({
      error: {
        code: 'StoreUnavailable',
        message: 'the history store could not be read; try again later',
      },
    });
  }, 60_000);
});
