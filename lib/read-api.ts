import { fileURLToPath } from 'node:url';
import { type Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, READ_API_PATHS } from '../lambda/constants.ts';
import { logStatement } from './collector-permissions.ts';
import {
  DEFAULT_API_CORS_MAX_AGE,
  DEFAULT_API_MEMORY_SIZE_MB,
  DEFAULT_API_THROTTLE_BURST_LIMIT,
  DEFAULT_API_THROTTLE_RATE_LIMIT,
  DEFAULT_API_TIMEOUT,
  DEFAULT_LOG_RETENTION,
  LAMBDA_ARCHITECTURE,
  LAMBDA_BUNDLING,
  LAMBDA_RUNTIME,
  SOURCE_MAPS_ENVIRONMENT,
} from './defaults.ts';

/** The read API's handler (`lambda/handlers/api.ts`), bundled with esbuild. */
export const API_HANDLER_ENTRY = fileURLToPath(
  new URL('../lambda/handlers/api.ts', import.meta.url),
);
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOCK_FILE = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/**
 * The read paths of the DynamoDB store: GetItem (one dataset's metadata) and Query (the
 * metadata list, points, rollups, usage rows). No Scan, no write, no index.
 */
export const API_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'] as const;

/**
 * The catch-all's methods when CORS is on. A `$default` (or `ANY`) route would also catch the
 * browser's unsigned OPTIONS preflight and refuse it for want of a signature; with every method
 * but OPTIONS routed instead, API Gateway answers the preflight itself from the CORS settings.
 */
const CATCH_ALL_METHODS = [
  HttpMethod.GET,
  HttpMethod.HEAD,
  HttpMethod.POST,
  HttpMethod.PUT,
  HttpMethod.PATCH,
  HttpMethod.DELETE,
];

/** The headers a SigV4-signed browser request carries. */
const SIGV4_HEADERS = [
  'authorization',
  'content-type',
  'x-amz-content-sha256',
  'x-amz-date',
  'x-amz-security-token',
];

/**
 * One JSON object per request: who called, what, and how it went. Only standard request
 * fields: the query string is never logged.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    caller: '$context.identity.userArn',
    userAgent: '$context.identity.userAgent',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    error: '$context.error.message',
  }),
);

export interface ReadApiProps {
  /** The table the API reads every dataset from (read-only: GetItem and Query). */
  readonly table: ITable;
  /**
   * Origins a browser may call the API from (CORS: GET with SigV4 headers).
   *
   * @default - no CORS: browsers on other origins cannot read the answers
   */
  readonly corsOrigins?: readonly string[];
  /**
   * Steady requests per second the stage lets through; above it API Gateway answers 429.
   *
   * @default DEFAULT_API_THROTTLE_RATE_LIMIT (10, lib/defaults.ts)
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage lets through at once above the steady rate.
   *
   * @default DEFAULT_API_THROTTLE_BURST_LIMIT (20, lib/defaults.ts)
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Memory of the API function in MB (128-10240).
   *
   * @default DEFAULT_API_MEMORY_SIZE_MB (512, lib/defaults.ts)
   */
  readonly memorySize?: number;
  /**
   * Timeout of one request in the API function (1 to 28 seconds: the HTTP API integration waits
   * at most 29).
   *
   * @default DEFAULT_API_TIMEOUT (20 seconds, lib/defaults.ts)
   */
  readonly timeout?: Duration;
  /**
   * How long the API function's log group and the access log keep logs.
   *
   * @default DEFAULT_LOG_RETENTION (RetentionDays.THREE_MONTHS, lib/defaults.ts)
   */
  readonly logRetention?: RetentionDays;
  /**
   * The API function's source file (its `handler` export is invoked).
   *
   * @default - `lambda/handlers/api.ts`
   */
  readonly entry?: string;
}

/**
 * The read API: an API Gateway HTTP API whose every route requires IAM (SigV4) authorization,
 * in front of one Lambda function (`apiFunction`) that may only read the table. The
 * `$default` stage is throttled and writes a JSON access log to its own log group; CORS is off
 * unless `corsOrigins` is given. Paths without a route of their own (and other methods) reach
 * the function through a catch-all, so it answers them itself (a JSON 404).
 */
export class ReadApi extends Construct {
  /** The HTTP API. */
  readonly api: HttpApi;
  /** Its `$default` stage: throttled, access-logged, auto-deployed. */
  readonly stage: HttpStage;
  /** The function answering every route (payload format 2.0). */
  readonly apiFunction: NodejsFunction;
  /** The API function's role: its log group, and GetItem and Query on the table. */
  readonly role: Role;
  /** The API function's log group. */
  readonly logGroup: LogGroup;
  /** The stage's access log. */
  readonly accessLogGroup: LogGroup;
  /** The invoke URL, without a trailing `/` (the `$default` stage adds no path): `${url}/datasets`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    validateProps(props);
    const retention = props.logRetention ?? DEFAULT_LOG_RETENTION;

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'ses-stats read API: reads its table, writes its log group',
    });
    this.logGroup = new LogGroup(this, 'LogGroup', { retention });
    this.apiFunction = new NodejsFunction(this, 'Function', {
      description: 'ses-stats read API: datasets, records and summaries from the table',
      entry: props.entry ?? API_HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: LOCK_FILE,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: props.memorySize ?? DEFAULT_API_MEMORY_SIZE_MB,
      timeout: props.timeout ?? DEFAULT_API_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...SOURCE_MAPS_ENVIRONMENT, [ENV.TABLE_NAME]: props.table.tableName },
      bundling: LAMBDA_BUNDLING,
    });
    this.role.addToPolicy(logStatement(this.logGroup));
    this.role.addToPolicy(
      new PolicyStatement({ actions: [...API_TABLE_ACTIONS], resources: [props.table.tableArn] }),
    );

    const integration = new HttpLambdaIntegration('Integration', this.apiFunction);
    const origins = props.corsOrigins;
    this.api = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-read-api`,
      description: 'ses-stats read API (IAM authorization on every route)',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
      // Without CORS, `$default` catches the rest; with it, the routes of CATCH_ALL_METHODS do.
      ...(origins === undefined
        ? { defaultIntegration: integration }
        : {
            corsPreflight: {
              allowOrigins: [...origins],
              allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.HEAD],
              allowHeaders: SIGV4_HEADERS,
              // A CSV page's next token travels in this header (lambda/api/router.ts): a page on
              // another origin can read it only if it is exposed.
              exposeHeaders: ['x-next-token'],
              maxAge: DEFAULT_API_CORS_MAX_AGE,
            },
          }),
    });
    for (const path of READ_API_PATHS)
      this.api.addRoutes({ path, methods: [HttpMethod.GET], integration });
    if (origins !== undefined)
      for (const path of ['/', '/{proxy+}'])
        this.api.addRoutes({ path, methods: CATCH_ALL_METHODS, integration });

    this.accessLogGroup = new LogGroup(this, 'AccessLog', { retention });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? DEFAULT_API_THROTTLE_RATE_LIMIT,
        burstLimit: props.throttlingBurstLimit ?? DEFAULT_API_THROTTLE_BURST_LIMIT,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });
    this.url = this.api.apiEndpoint;

    Validations.of(this.apiFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'API Gateway invokes this function synchronously: a failed request is answered to its caller (and counted in the access log), and a dead-letter queue only ever receives asynchronous invocations',
    });
    Validations.of(this.apiFunction).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'HTTP APIs pass no X-Ray trace on, so a trace would start and end at this function; requests are followed through the stage access log (requestId) and the structured logs, and X-Ray would add a write permission on Resource "*" to the role',
    });
  }
}

function validateProps(props: ReadApiProps): void {
  if (props.corsOrigins !== undefined && props.corsOrigins.length === 0)
    throw new Error(
      'ReadApi corsOrigins: received an empty list; expected at least one origin, or no corsOrigins for no CORS',
    );
  checkRange('throttlingRateLimit', props.throttlingRateLimit, 1, 10_000);
  checkRange('throttlingBurstLimit', props.throttlingBurstLimit, 0, 5_000);
  checkRange('memorySize', props.memorySize, 128, 10_240);
  const timeout = props.timeout;
  if (timeout !== undefined && !timeout.isUnresolved()) {
    const seconds = timeout.toSeconds({ integral: false });
    if (seconds < 1 || seconds > 28)
      throw new Error(
        `ReadApi timeout: received ${timeout.toHumanString()}; expected from 1 to 28 seconds (the HTTP API integration waits at most 29)`,
      );
  }
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(
      `ReadApi ${name}: received ${value}; expected an integer from ${min} to ${max}`,
    );
}
