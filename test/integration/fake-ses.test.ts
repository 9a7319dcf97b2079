import { type IncomingHttpHeaders, request } from 'node:http';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  GetSendQuotaCommand,
  GetSendStatisticsCommand,
  SESClient,
  type SESClientConfig,
} from '@aws-sdk/client-ses';
import { GetAccountCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { HttpProxyAgent } from 'hpagent';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hourlySeries } from '../support/fake-cloudwatch.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  HEALTHY_ACCOUNT,
  startFakeCloudWatch,
  startFakeSes,
  twoWeekWindow,
} from '../support/fake-ses.ts';
import { type SignedRequest, verifySigV4 } from '../support/sigv4.ts';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/ses-stats-reader';
// External-id requirements outlive reset(), so the tests that set one use their own role.
const GUARDED_ROLE_ARN = 'arn:aws:iam::123456789012:role/ses-stats-guarded';
const FAKE_CREDENTIALS = {
  accessKeyId: FAKE_ACCESS_KEY_ID,
  secretAccessKey: FAKE_SECRET_ACCESS_KEY,
};

/** What the SDK attaches to the errors it throws. */
interface SdkError extends Error {
  $fault?: string;
  $metadata: { httpStatusCode?: number; attempts?: number; clockSkewCorrected?: boolean };
}

let fake: FakeSes;

beforeAll(async () => {
  fake = await startFakeSes();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.quota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1234 };
  fake.points = [];
});

// No backoff between attempts, so retry tests stay fast.
function sesClient(maxAttempts: number, config: SESClientConfig = {}): SESClient {
  return new SESClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: FAKE_CREDENTIALS,
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 0),
    ...config,
  });
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>) {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

const quotaCall = () => new GetSendQuotaCommand({});

/** An unsigned POST whose request line carries `target` verbatim, as a forwarding proxy's would. */
function rawPost(target: string, body: string) {
  const { port } = new URL(fake.url);
  return new Promise<{ status?: number; headers: IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: target }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('fake SES', () => {
  it('answers a correctly signed call with the quota and the points in their given order', async () => {
    fake.quota = { max24HourSend: 200, maxSendRate: 1, sentLast24Hours: -1 };
    fake.points = twoWeekWindow(new Date(), { seed: 7 }).slice(0, 5);
    const client = sesClient(1);

    const quota = await client.send(quotaCall());
    const stats = await client.send(new GetSendStatisticsCommand({}));

    expect(quota).toMatchObject({ Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: -1 });
    expect(quota.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
    expect(quota.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(stats.SendDataPoints).toEqual(
      fake.points.map((p) => ({
        Timestamp: new Date(p.timestamp),
        DeliveryAttempts: p.deliveryAttempts,
        Bounces: p.bounces,
        Complaints: p.complaints,
        Rejects: p.rejects,
      })),
    );
    expect(fake.requests.map((r) => [r.action, r.accessKeyId])).toEqual([
      ['GetSendQuota', FAKE_ACCESS_KEY_ID],
      ['GetSendStatistics', FAKE_ACCESS_KEY_ID],
    ]);
  });

  it('answers SignatureDoesNotMatch to a wrong secret, without retries', async () => {
    const credentials = { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: 'x'.repeat(40) };
    const error = await sdkError(sesClient(3, { credentials }).send(quotaCall()));

    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.$fault).toBe('client');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
  });

  it('answers InvalidClientTokenId to an unknown key', async () => {
    const credentials = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) };
    const error = await sdkError(sesClient(3, { credentials }).send(quotaCall()));

    expect(error.name).toBe('InvalidClientTokenId');
    expect(error.message).toBe('The security token included in the request is invalid.');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
  });

  it('accepts a key added with addKey', async () => {
    fake.addKey('AKIAEXTRAKEY00000001', 'e'.repeat(40));
    const credentials = { accessKeyId: 'AKIAEXTRAKEY00000001', secretAccessKey: 'e'.repeat(40) };

    await expect(sesClient(1, { credentials }).send(quotaCall())).resolves.toBeDefined();
  });

  it('answers RequestExpired to a skewed clock, which the SDK corrects from the Date header on retry', async () => {
    fake.clockSkewMs = 10 * 60_000;

    const error = await sdkError(sesClient(1).send(quotaCall()));
    expect(error.name).toBe('RequestExpired');
    expect(error.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    expect(error.$metadata).toMatchObject({
      httpStatusCode: 400,
      attempts: 1,
      clockSkewCorrected: true,
    });

    const retried = await sesClient(2).send(quotaCall());
    expect(retried.$metadata.attempts).toBe(2);
  });

  it('surfaces injected Throttling once retries are exhausted', async () => {
    fake.inject({ kind: 'error', status: 400, code: 'Throttling' }, { times: 5 });

    const error = await sdkError(sesClient(3).send(quotaCall()));

    expect(error).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $fault: 'client' });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 3 });
    expect(fake.requests).toHaveLength(3);
  });

  it('surfaces injected AccessDenied at once', async () => {
    fake.inject({
      kind: 'error',
      status: 403,
      code: 'AccessDenied',
      message: 'no ses:GetSendQuota',
    });

    const error = await sdkError(sesClient(3).send(quotaCall()));

    expect(error).toMatchObject({ name: 'AccessDenied', message: 'no ses:GetSendQuota' });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
  });

  it('surfaces a bare 500 as an Unknown server fault after retries', async () => {
    fake.inject({ kind: 'status', status: 500 }, { times: 3 });

    const error = await sdkError(sesClient(3).send(quotaCall()));

    expect(error).toMatchObject({ name: 'Unknown', message: 'Unknown', $fault: 'server' });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 500, attempts: 3 });
  });

  it('limits a fault to one action and lets a retry through once it is used up', async () => {
    fake.inject(
      { kind: 'error', status: 503, code: 'ServiceUnavailable' },
      { action: 'GetSendStatistics' },
    );
    const client = sesClient(3);

    expect((await client.send(quotaCall())).$metadata.attempts).toBe(1);
    expect((await client.send(new GetSendStatisticsCommand({}))).$metadata.attempts).toBe(2);
  });

  it('fails deserialization of malformed XML without retrying', async () => {
    fake.inject({ kind: 'malformed' }, { times: 3 });

    const error = await sdkError(sesClient(3).send(quotaCall()));

    expect(error.name).toBe('Error');
    expect(error.message).toMatch(
      /^@aws-sdk XML parse error: missing closing tag <\/GetSendQuotaResult>\./,
    );
    expect(error.message).toContain('Deserialization error: to see the raw response');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
  });

  it('times out a slow response when the handler is told to throw', async () => {
    fake.inject({ kind: 'slow', delayMs: 500 }, { times: 3 });
    const requestHandler = new NodeHttpHandler({
      requestTimeout: 100,
      throwOnRequestTimeout: true,
    });

    const error = await sdkError(sesClient(3, { requestHandler }).send(quotaCall()));

    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe(
      '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 100 ms requestTimeout.',
    );
    expect(error.$metadata).toMatchObject({ attempts: 3 });
    expect(error.$metadata.httpStatusCode).toBeUndefined();
  });

  it('only warns about a slow response when the handler is not told to throw', async () => {
    fake.inject({ kind: 'slow', delayMs: 300 });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const requestHandler = new NodeHttpHandler({ requestTimeout: 100 });

    try {
      const quota = await sesClient(3, { requestHandler }).send(quotaCall());
      expect(quota.$metadata.attempts).toBe(1);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('Init client requestHandler with throwOnRequestTimeout=true'),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('records the user agent headers', async () => {
    await sesClient(1, { customUserAgent: 'ses-stats/0.1.0' }).send(quotaCall());

    const [request] = fake.requests;
    expect(request?.userAgent).toMatch(/^aws-sdk-js\/\S+ .*api\/ses#\S+ .*ses-stats\/0\.1\.0$/);
    expect(request?.amzUserAgent).toMatch(/^aws-sdk-js\/\S+ ses-stats\/0\.1\.0$/);
    expect(request?.viaProxy).toBe(false);
  });

  it('notices requests tunnelled through an HTTP proxy', async () => {
    // hpagent tunnels with CONNECT and the fake is its own proxy; the unresolvable host proves it.
    const httpAgent = new HttpProxyAgent({ proxy: fake.url });
    const client = sesClient(1, {
      endpoint: 'http://email.fake-ses.invalid',
      requestHandler: new NodeHttpHandler({ httpAgent }),
    });

    try {
      await client.send(quotaCall());
    } finally {
      httpAgent.destroy();
    }

    expect(fake.requests[0]?.viaProxy).toBe(true);
  });

  it('notices absolute-form requests and answers unsigned ones in the SES error format', async () => {
    const response = await rawPost(
      'http://email.fake-ses.invalid/',
      'Action=GetSendQuota&Version=2010-12-01',
    );

    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toBe('text/xml');
    const requestId = response.headers['x-amzn-requestid'];
    expect(response.body).toBe(
      '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>' +
        '<Code>IncompleteSignature</Code><Message>Authorization header requires AWS4-HMAC-SHA256 ' +
        'Credential, SignedHeaders and Signature.</Message></Error>' +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
    expect(fake.requests[0]).toMatchObject({ action: 'GetSendQuota', viaProxy: true });
  });

  it('assumes a role through AWS_ENDPOINT_URL_STS and signs SES calls with the temporary key', async () => {
    fake.requireExternalId(GUARDED_ROLE_ARN, 'ext-123');
    const env = {
      AWS_ENDPOINT_URL_STS: fake.url,
      AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: undefined,
    };
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: GUARDED_ROLE_ARN, RoleSessionName: 'ses-stats', ExternalId: 'ext-123' },
      clientConfig: { region: 'us-east-1' },
    });

    await withEnv(env, () => sesClient(1, { credentials }).send(quotaCall()));

    const [call] = fake.assumeRoleCalls;
    expect(call).toMatchObject({
      roleArn: GUARDED_ROLE_ARN,
      roleSessionName: 'ses-stats',
      externalId: 'ext-123',
      callerAccessKeyId: FAKE_ACCESS_KEY_ID,
      issuedAccessKeyId: expect.stringMatching(/^ASIA[A-Z2-7]{16}$/),
    });
    const [assume, ses] = fake.requests;
    expect(assume).toMatchObject({ action: 'AssumeRole', accessKeyId: FAKE_ACCESS_KEY_ID });
    expect(ses).toMatchObject({ action: 'GetSendQuota', accessKeyId: call?.issuedAccessKeyId });
    expect(ses?.sessionToken).toEqual(expect.any(String));
  });

  it('also reaches the fake STS through clientConfig.endpoint', async () => {
    const credentials = fromTemporaryCredentials({
      masterCredentials: FAKE_CREDENTIALS,
      params: { RoleArn: ROLE_ARN },
      clientConfig: { region: 'us-east-1', endpoint: fake.url },
    });

    await sesClient(1, { credentials }).send(quotaCall());

    expect(fake.requests.map((r) => r.action)).toEqual(['AssumeRole', 'GetSendQuota']);
    expect(fake.assumeRoleCalls[0]?.roleSessionName).toMatch(/^aws-sdk-js-\d+$/);
  });

  it('denies AssumeRole without the required external id', async () => {
    fake.requireExternalId(GUARDED_ROLE_ARN, 'ext-123');
    const credentials = fromTemporaryCredentials({
      masterCredentials: FAKE_CREDENTIALS,
      params: { RoleArn: GUARDED_ROLE_ARN, ExternalId: 'wrong' },
      clientConfig: { region: 'us-east-1', endpoint: fake.url },
    });

    const error = await sdkError(sesClient(3, { credentials }).send(quotaCall()));

    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain(`sts:AssumeRole on resource: ${GUARDED_ROLE_ARN}`);
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
    expect(fake.requests.map((r) => r.action)).toEqual(['AssumeRole']);
  });

  it('rejects temporary keys presented without their session token', async () => {
    const provider = fromTemporaryCredentials({
      masterCredentials: FAKE_CREDENTIALS,
      params: { RoleArn: ROLE_ARN },
      clientConfig: { region: 'us-east-1', endpoint: fake.url },
    });
    const { accessKeyId, secretAccessKey } = await provider();

    const error = await sdkError(
      sesClient(1, { credentials: { accessKeyId, secretAccessKey } }).send(quotaCall()),
    );

    expect(error.name).toBe('InvalidClientTokenId');
  });
});

describe('fake SES v2 GetAccount and CloudWatch GetMetricData', () => {
  const day = new Date('2026-11-20T00:00:00Z');
  const reputationQuery = (
    overrides: Partial<GetMetricDataCommandInput> = {},
  ): GetMetricDataCommandInput => ({
    StartTime: day,
    EndTime: new Date(day.getTime() + 24 * 3600_000),
    MetricDataQueries: [
      {
        Id: 'bounce',
        MetricStat: {
          Metric: { Namespace: 'AWS/SES', MetricName: 'Reputation.BounceRate' },
          Period: 3600,
          Stat: 'Average',
        },
      },
    ],
    ...overrides,
  });
  const v2Client = (url = fake.url, maxAttempts = 1) =>
    new SESv2Client({
      endpoint: url,
      region: 'us-east-1',
      credentials: FAKE_CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 0),
    });
  const cwClient = (url = fake.url, maxAttempts = 1) =>
    new CloudWatchClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: FAKE_CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 0),
    });
  beforeEach(() => {
    fake.account = { ...HEALTHY_ACCOUNT };
    fake.reputation = { bounceRate: [], complaintRate: [] };
    fake.metricPageSize = 100_800;
  });

  it('answers GetAccount with the account state and the quota', async () => {
    fake.account = {
      enforcementStatus: 'PROBATION',
      sendingEnabled: false,
      productionAccessEnabled: false,
      reviewDetails: { status: 'DENIED', caseId: 'c-1' },
    };

    const out = await v2Client().send(new GetAccountCommand({}));

    expect(out).toMatchObject({
      EnforcementStatus: 'PROBATION',
      SendingEnabled: false,
      ProductionAccessEnabled: false,
      Details: { ReviewDetails: { Status: 'DENIED', CaseId: 'c-1' } },
      SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 1234 },
    });
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requests.map((r) => r.action)).toEqual(['GetAccount']);
  });

  it('answers GetAccount faults in the SES v2 JSON error form', async () => {
    fake.inject({ kind: 'denied' }, { action: 'GetAccount' });
    fake.inject({ kind: 'throttle' }, { action: 'GetAccount' });
    fake.inject({ kind: 'error', status: 500, code: 'InternalFailure' }, { action: 'GetAccount' });
    const client = v2Client();

    const errors = [
      await sdkError(client.send(new GetAccountCommand({}))),
      await sdkError(client.send(new GetAccountCommand({}))),
      await sdkError(client.send(new GetAccountCommand({}))),
    ];

    expect(errors.map((e) => [e.name, e.$metadata.httpStatusCode])).toEqual([
      ['AccessDeniedException', 403],
      ['TooManyRequestsException', 429],
      ['InternalFailure', 500],
    ]);
  });

  it('leaves the account calls alone with a fault injected for no action', async () => {
    fake.inject({ kind: 'status', status: 500 }, { times: 5 });

    await v2Client().send(new GetAccountCommand({}));
    await cwClient().send(new GetMetricDataCommand(reputationQuery()));
    const quota = await sdkError(sesClient(1).send(quotaCall()));

    expect(quota.$metadata.httpStatusCode).toBe(500);
  });

  it('refuses a GetAccount signed with a wrong secret as InvalidSignatureException', async () => {
    const client = new SESv2Client({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });

    const error = await sdkError(client.send(new GetAccountCommand({})));

    expect([error.name, error.$metadata.httpStatusCode]).toEqual([
      'InvalidSignatureException',
      403,
    ]);
  });

  it('paces GetAccount like the SES v1 calls', async () => {
    const paced = await startFakeSes({ pacing: 'throttle' });
    try {
      const client = v2Client(paced.url);
      await client.send(new GetAccountCommand({}));

      const error = await sdkError(client.send(new GetAccountCommand({})));

      expect(error.name).toBe('TooManyRequestsException');
      expect(paced.pacingViolations).toEqual([
        expect.objectContaining({ identity: FAKE_ACCESS_KEY_ID, action: 'GetAccount' }),
      ]);
    } finally {
      await paced.close();
    }
  });

  it('answers GetMetricData over pages, newest first, and refuses a token of another request', async () => {
    fake.reputation.bounceRate = hourlySeries(day, 3, (i) => i / 100);
    fake.metricPageSize = 2;
    const client = cwClient();

    const first = await client.send(new GetMetricDataCommand(reputationQuery()));
    const second = await client.send(
      new GetMetricDataCommand(reputationQuery({ NextToken: first.NextToken })),
    );
    const foreign = await sdkError(
      client.send(
        new GetMetricDataCommand(
          reputationQuery({
            NextToken: first.NextToken,
            StartTime: new Date(day.getTime() + 1000),
          }),
        ),
      ),
    );

    expect(first.MetricDataResults?.[0]).toMatchObject({
      Id: 'bounce',
      Values: [0.02, 0.01],
      StatusCode: 'PartialData',
    });
    expect(second.MetricDataResults?.[0]).toMatchObject({
      Timestamps: [day],
      Values: [0],
      StatusCode: 'Complete',
    });
    expect(second.NextToken).toBeUndefined();
    expect(foreign.name).toBe('InvalidNextToken');
    expect(fake.metricDataCalls).toHaveLength(2);
  });

  it('answers no values to a query with dimensions, another period or another stat', async () => {
    fake.reputation.bounceRate = hourlySeries(day, 3, () => 0.01);
    const metric = { Namespace: 'AWS/SES', MetricName: 'Reputation.BounceRate' };

    const out = await cwClient().send(
      new GetMetricDataCommand(
        reputationQuery({
          MetricDataQueries: [
            {
              Id: 'dims',
              MetricStat: {
                Metric: { ...metric, Dimensions: [{ Name: 'ses:configuration-set', Value: 'x' }] },
                Period: 3600,
                Stat: 'Average',
              },
            },
            { Id: 'minute', MetricStat: { Metric: metric, Period: 60, Stat: 'Average' } },
            { Id: 'max', MetricStat: { Metric: metric, Period: 3600, Stat: 'Maximum' } },
            { Id: 'right', MetricStat: { Metric: metric, Period: 3600, Stat: 'Average' } },
          ],
        }),
      ),
    );

    expect(out.MetricDataResults?.map((r) => [r.Id, r.Values?.length])).toEqual([
      ['dims', 0],
      ['minute', 0],
      ['max', 0],
      ['right', 3],
    ]);
  });

  it('answers GetMetricData faults in the query-compatible JSON error form', async () => {
    fake.inject({ kind: 'denied' }, { action: 'GetMetricData' });
    fake.inject({ kind: 'throttle' }, { action: 'GetMetricData' });
    const client = cwClient();

    const denied = await sdkError(client.send(new GetMetricDataCommand(reputationQuery())));
    const throttled = await sdkError(client.send(new GetMetricDataCommand(reputationQuery())));
    const badId = await sdkError(
      client.send(
        new GetMetricDataCommand(
          reputationQuery({
            MetricDataQueries: [{ Id: 'Upper', Expression: 'SEARCH()' }],
          }),
        ),
      ),
    );

    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect([throttled.name, throttled.$metadata.httpStatusCode]).toEqual(['Throttling', 400]);
    // The SDK maps the query code to its modelled exception.
    expect(badId.name).toBe('InvalidParameterValueException');
  });

  it('serves CloudWatch alone when started with startFakeCloudWatch', async () => {
    const cloudWatch = await startFakeCloudWatch();
    try {
      cloudWatch.reputation.bounceRate = hourlySeries(day, 1, () => 0.05);

      const out = await cwClient(cloudWatch.url).send(new GetMetricDataCommand(reputationQuery()));
      const ses = await sdkError(sesClient(1, { endpoint: cloudWatch.url }).send(quotaCall()));
      const v2 = await sdkError(v2Client(cloudWatch.url).send(new GetAccountCommand({})));

      expect(out.MetricDataResults?.[0]?.Values).toEqual([0.05]);
      expect([ses.$metadata.httpStatusCode, v2.$metadata.httpStatusCode]).toEqual([404, 404]);
      expect(fake.requests).toHaveLength(0);
    } finally {
      await cloudWatch.close();
    }
  });
});

describe('twoWeekWindow', () => {
  const now = new Date('2026-11-27T10:15:30Z');
  const points = twoWeekWindow(now);
  const times = points.map((p) => Date.parse(p.timestamp));

  it('places points at :07, :22, :37 and :52 within the last 14 days', () => {
    for (const point of points) {
      expect(point.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:(07|22|37|52):00Z$/);
    }
    expect(Math.max(...times)).toBeLessThanOrEqual(now.getTime());
    expect(Math.min(...times)).toBeGreaterThan(now.getTime() - 14 * 24 * 3600_000);
  });

  it('leaves out empty buckets and returns the rest unsorted', () => {
    // 14 × 96 buckets, of which every tenth is empty by default.
    expect(points).toHaveLength(14 * 96 - 134);
    expect(points.every((p) => p.deliveryAttempts > 0)).toBe(true);
    expect(times).not.toEqual([...times].sort((a, b) => a - b));
  });

  it('is deterministic for a seed and honours the options', () => {
    const dense = twoWeekWindow(now, { phaseMinutes: 0, seed: 2, emptyEvery: 0 });

    expect(twoWeekWindow(now)).toEqual(points);
    expect(dense).toHaveLength(14 * 96);
    expect(dense.every((p) => /:(00|15|30|45):00Z$/.test(p.timestamp))).toBe(true);
  });
});

describe('verifySigV4', () => {
  // The worked example of the AWS SigV4 documentation (IAM ListUsers).
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const example: SignedRequest = {
    method: 'GET',
    path: '/',
    query: 'Action=ListUsers&Version=2010-05-08',
    headers: {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      host: 'iam.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
    },
    body: Buffer.alloc(0),
  };
  const opts = { service: 'iam', region: 'us-east-1', now: new Date('2015-08-30T12:40:00Z') };
  const verify = (req: Partial<SignedRequest>, options = opts) =>
    verifySigV4(
      { ...example, ...req },
      (id) => (id === 'AKIDEXAMPLE' ? secret : undefined),
      options,
    );
  const withHeaders = (headers: SignedRequest['headers']) =>
    verify({ headers: { ...example.headers, ...headers } });

  it('accepts the documented example, whatever the query order and header spacing', () => {
    expect(verify({})).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    expect(verify({ query: 'Version=2010-05-08&Action=ListUsers' }).ok).toBe(true);
    expect(
      withHeaders({ 'content-type': '  application/x-www-form-urlencoded;   charset=utf-8 ' }).ok,
    ).toBe(true);
  });

  it('rejects tampering, a wrong scope, a stale date and a body that does not match its hash', () => {
    const code = (result: ReturnType<typeof verify>) => (result.ok ? 'ok' : result.code);

    expect(code(verify({ query: 'Action=ListUsers&Version=2010-05-09' }))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(verify({ method: 'POST' }))).toBe('SignatureDoesNotMatch');
    expect(code(verify({}, { ...opts, service: 'ses' }))).toBe('SignatureDoesNotMatch');
    expect(code(verify({}, { ...opts, now: new Date('2015-08-30T12:42:00Z') }))).toBe(
      'RequestExpired',
    );
    expect(code(withHeaders({ 'x-amz-content-sha256': 'ab'.repeat(32) }))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(withHeaders({ host: undefined }))).toBe('IncompleteSignature');
    expect(code(withHeaders({ 'x-amz-date': undefined }))).toBe('IncompleteSignature');
    expect(code(withHeaders({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE' }))).toBe(
      'IncompleteSignature',
    );
  });

  it('requires host to be signed and the key to be known', () => {
    const unsignedHost = String(example.headers.authorization).replace(
      'content-type;host;',
      'content-type;',
    );
    const unknownKey = String(example.headers.authorization).replace('AKIDEXAMPLE', 'AKIDOTHER');

    expect(withHeaders({ authorization: unsignedHost })).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
    });
    expect(withHeaders({ authorization: unknownKey })).toMatchObject({
      ok: false,
      code: 'InvalidClientTokenId',
    });
  });
});
