import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDatasetStore } from '../adapters/dynamodb-dataset-store.ts';
import { redact } from '../adapters/secrets.ts';
import { type ApiRequest, handleApiRequest } from '../api/router.ts';
import { ENV, METRICS } from '../constants.ts';
import { requiredEnv } from './env.ts';

// Composition root: built once per cold start. The function may only read the table.
const logger = new Logger({ serviceName: METRICS.SERVICE });
const store = new DynamoDbDatasetStore(new DynamoDBClient({}), {
  tableName: requiredEnv(ENV.TABLE_NAME),
});

/** The parts of an API Gateway proxy event the API reads: HTTP API payload 2.0, or REST (1.0). */
export interface ApiGatewayEvent {
  readonly version?: string;
  /** 2.0 */
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  readonly requestContext?: {
    readonly http?: { readonly method?: string };
    readonly stage?: string;
  };
  /** 1.0 */
  readonly httpMethod?: string;
  readonly path?: string;
  readonly multiValueQueryStringParameters?: Readonly<
    Record<string, readonly string[] | undefined>
  > | null;
}

export interface ApiGatewayResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

/** The read API behind API Gateway (AWS_IAM on every route): routes and errors live in lambda/api. */
export const handler = async (event: ApiGatewayEvent): Promise<ApiGatewayResult> => {
  const response = await handleApiRequest(requestOf(event), {
    store,
    onServerError: (error) =>
      logger.error('request failed', {
        error: redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
      }),
  });
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
};

/** The request in the routes' form; a named stage's prefix is removed from a 2.0 raw path. */
export function requestOf(event: ApiGatewayEvent): ApiRequest {
  if (event.version === '2.0') {
    const stage = event.requestContext?.stage;
    const raw = event.rawPath ?? '/';
    const path =
      stage !== undefined && stage !== '$default' && raw.startsWith(`/${stage}/`)
        ? raw.slice(stage.length + 1)
        : raw;
    return {
      method: event.requestContext?.http?.method ?? 'GET',
      path,
      query: [...new URLSearchParams(event.rawQueryString ?? '')],
    };
  }
  return {
    method: event.httpMethod ?? 'GET',
    path: event.path ?? '/',
    query: Object.entries(event.multiValueQueryStringParameters ?? {}).flatMap(([key, values]) =>
      (values ?? []).map((value) => [key, value] as const),
    ),
  };
}
