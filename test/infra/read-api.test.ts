import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ReadApi, type ReadApiProps } from '../../lib/read-api.ts';
import { actionsOf, document, logicalId, newStack, sesStatsStack } from '../support/infra.ts';

function readApi(props: Partial<ReadApiProps> = {}): {
  stack: Stack;
  table: Table;
  readApi: ReadApi;
  template: Template;
} {
  const stack = newStack();
  const table = new Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: AttributeType.STRING },
  });
  const created = new ReadApi(stack, 'ReadApi', { table, ...props });
  return { stack, table, readApi: created, template: Template.fromStack(stack) };
}

const build = (props: Partial<ReadApiProps>) => () => readApi(props);

interface Route {
  readonly RouteKey: string;
  readonly AuthorizationType?: string;
}

function routes(template: Template): Route[] {
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
    (r) => r.Properties as Route,
  );
}

const READ_ROUTES = [
  'GET /datasets',
  'GET /datasets/{name}',
  'GET /datasets/{name}/records',
  'GET /datasets/{name}/summary',
  'GET /openapi.json',
];

const CORS = { corsOrigins: ['https://dashboard.example.com', 'http://localhost:3000'] };

describe('ReadApi', () => {
  describe('routes', () => {
    it('requires IAM authorization on every route, the read routes and the $default catch-all', () => {
      const { template } = readApi();

      const all = routes(template);

      expect(all.map((r) => r.RouteKey).sort()).toEqual([...READ_ROUTES, '$default'].sort());
      for (const route of all) expect(route).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    });

    it('requires IAM authorization on every route with CORS on, and leaves OPTIONS to the preflight', () => {
      const { template } = readApi(CORS);

      const all = routes(template);

      for (const route of all) expect(route).toMatchObject({ AuthorizationType: 'AWS_IAM' });
      const keys = all.map((r) => r.RouteKey);
      expect(keys).toEqual(expect.arrayContaining(READ_ROUTES));
      // A route catching OPTIONS would refuse the browser's unsigned preflight.
      expect(keys.filter((k) => k === '$default' || /^(ANY|OPTIONS) /.test(k))).toEqual([]);
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])
        expect(keys).toEqual(expect.arrayContaining([`${method} /`, `${method} /{proxy+}`]));
    });

    it('sends every route to the one function, as payload format 2.0', () => {
      const { readApi: api, template } = readApi();

      template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(api.apiFunction), 'Arn'] },
      });
      template.resourceCountIs('AWS::Lambda::Function', 1);
    });
  });

  describe('stage', () => {
    it('is the auto-deployed $default stage, so paths carry no stage name and the URL ends at the host', () => {
      const { stack, readApi: api, template } = readApi();

      template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
      });
      // The $default stage's invoke URL is the API endpoint itself.
      expect(stack.resolve(api.url)).toEqual({ 'Fn::GetAtt': [logicalId(api.api), 'ApiEndpoint'] });
    });

    it('throttles every route at 10 requests per second with a burst of 20 by default', () => {
      const { template } = readApi();

      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      });
    });

    it('takes the throttling limits from props', () => {
      const { template } = readApi({ throttlingRateLimit: 50, throttlingBurstLimit: 100 });

      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
    });

    it('writes a JSON access log of standard fields to its own log group, kept 3 months', () => {
      const { readApi: api, template } = readApi();

      const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
      const settings = stage?.Properties.AccessLogSettings;
      expect(settings.DestinationArn).toEqual({
        'Fn::GetAtt': [logicalId(api.accessLogGroup), 'Arn'],
      });
      const format = JSON.parse(settings.Format);
      expect(format).toMatchObject({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        httpMethod: '$context.httpMethod',
        routeKey: '$context.routeKey',
        path: '$context.path',
        status: '$context.status',
        responseLength: '$context.responseLength',
        integrationLatency: '$context.integrationLatency',
      });
      for (const value of Object.values<string>(format))
        expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
      expect(settings.Format).not.toMatch(/query/i);
      expect(
        template.findResources('AWS::Logs::LogGroup')[logicalId(api.accessLogGroup)]?.Properties,
      ).toEqual({ RetentionInDays: 90 });
    });
  });

  describe('CORS', () => {
    it('is off unless origins are given', () => {
      const { template } = readApi();

      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: Match.absent(),
      });
    });

    it('allows GET with the SigV4 headers from the given origins only, and exposes the CSV page token', () => {
      const { template } = readApi(CORS);

      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        CorsConfiguration: {
          AllowOrigins: CORS.corsOrigins,
          AllowMethods: ['GET', 'HEAD'],
          AllowHeaders: Match.arrayWith(['authorization', 'x-amz-date', 'x-amz-security-token']),
          ExposeHeaders: ['x-next-token'],
          AllowCredentials: Match.absent(),
          MaxAge: 3600,
        },
      });
    });
  });

  describe('function', () => {
    it('runs Node.js 24 on ARM64 with explicit memory, timeout and log group', () => {
      const { readApi: api, template } = readApi();

      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: 20,
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: logicalId(api.logGroup) } },
      });
    });

    it('takes memory, timeout and log retention from props', () => {
      const { template } = readApi({
        memorySize: 1024,
        timeout: Duration.seconds(10),
        logRetention: RetentionDays.ONE_YEAR,
      });

      template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024, Timeout: 10 });
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    it('gets the table name and source maps in its environment, and no config', () => {
      const { table, template } = readApi();

      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            SES_STATS_TABLE_NAME: { Ref: logicalId(table) },
          },
        },
      });
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(Object.keys(fn?.Properties.Environment.Variables).sort()).toEqual([
        'NODE_OPTIONS',
        'SES_STATS_TABLE_NAME',
      ]);
    });
  });

  describe('permissions', () => {
    it('may only GetItem and Query the table, and write its own log group', () => {
      const { readApi: api, table, template } = readApi();

      const policies = Object.values(
        template.findResources('AWS::IAM::Policy', {
          Properties: { Roles: [{ Ref: logicalId(api.role) }] },
        }),
      );
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);

      expect(
        statements.map((s) => ({ Effect: s.Effect, Action: actionsOf(s), Resource: s.Resource })),
      ).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logicalId(api.logGroup), 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:Query'],
          Resource: { 'Fn::GetAtt': [logicalId(table), 'Arn'] },
        },
      ]);
    });

    it('attaches no managed policy to its role', () => {
      const { template } = readApi();

      template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    });

    it('lets only API Gateway invoke the function, from this API', () => {
      const { readApi: api, template } = readApi();

      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));

      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions)
        expect(permission.Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          Principal: 'apigateway.amazonaws.com',
          FunctionName: { 'Fn::GetAtt': [logicalId(api.apiFunction), 'Arn'] },
          SourceArn: {
            'Fn::Join': ['', expect.arrayContaining([{ Ref: logicalId(api.api) }])],
          },
        });
    });
  });

  describe('props', () => {
    it.each([
      [{ corsOrigins: [] }, /ReadApi corsOrigins: received an empty list/],
      [
        { throttlingRateLimit: 0 },
        /ReadApi throttlingRateLimit: received 0; expected an integer from 1 to 10000/,
      ],
      [{ throttlingRateLimit: 2.5 }, /ReadApi throttlingRateLimit: received 2.5/],
      [
        { throttlingBurstLimit: 5001 },
        /ReadApi throttlingBurstLimit: received 5001; expected an integer from 0 to 5000/,
      ],
      [
        { memorySize: 64 },
        /ReadApi memorySize: received 64; expected an integer from 128 to 10240/,
      ],
      [
        { timeout: Duration.seconds(29) },
        /ReadApi timeout: received 29 seconds; expected from 1 to 28 seconds/,
      ],
      [{ timeout: Duration.millis(500) }, /ReadApi timeout: received 500 millis/],
    ] as const)('rejects %j, naming the prop, the value and what is allowed', (props, message) => {
      expect(build(props)).toThrow(message);
    });
  });
});

describe('SesStatsStack read API', () => {
  it('is deployed by default, with its invoke URL as the ApiUrl output', () => {
    const { stack, template } = sesStatsStack(document());

    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    if (stack.readApi === undefined) throw new Error('expected the read API');
    template.hasOutput('ApiUrl', {
      Value: { 'Fn::GetAtt': [logicalId(stack.readApi.api), 'ApiEndpoint'] },
    });
  });

  it('reads the stack table with the ReadApi construct id (a contract)', () => {
    const { stack, template } = sesStatsStack(document());

    expect(stack.readApi?.node.path).toBe('SesStats/ReadApi');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query'],
            Resource: { 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] },
          },
        ]),
      },
    });
  });

  it('is left out, with its output, when the config says "api": false', () => {
    const { stack, template } = sesStatsStack(document({ api: false }));

    expect(stack.readApi).toBeUndefined();
    for (const type of [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Stage',
      'AWS::Lambda::Permission',
    ])
      template.resourceCountIs(type, 0);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(Object.keys(template.findOutputs('*'))).not.toContain('ApiUrl');
  });

  it('has no CORS by default, and the configured apiCorsOrigins when given', () => {
    const without = sesStatsStack(document()).template;
    const withCors = sesStatsStack(
      document({ apiCorsOrigins: ['https://dashboard.example.com'] }),
    ).template;

    without.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.absent(),
    });
    withCors.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://dashboard.example.com'] }),
    });
  });
});
