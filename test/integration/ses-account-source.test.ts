import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretReader } from '../../lambda/adapters/secrets.ts';
import { powertoolsSecretsManager } from '../../lambda/adapters/secrets-manager.ts';
import { SesStatisticsSource } from '../../lambda/adapters/ses-statistics-source.ts';
import { type ConnectionInput, connectionSchema } from '../../lambda/config/schema.ts';
import { hourlySeries } from '../support/fake-cloudwatch.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  HEALTHY_ACCOUNT,
  startFakeCloudWatch,
  startFakeSes,
} from '../support/fake-ses.ts';
import { failureOf } from '../support/fakes.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';

const env = {
  SES_SECRET: FAKE_SECRET_ACCESS_KEY,
  PROXY_PWD: 'pr0xy-S3cret!',
  WRONG: 'not-the-secret-key',
};
const secrets = createSecretReader({ env, secretsManager: powertoolsSecretsManager });
const DAY = new Date('2026-11-20T00:00:00Z');
const NEXT_DAY = new Date('2026-11-21T00:00:00Z');
let fake: FakeSes;
const sources: SesStatisticsSource[] = [];

interface SourceOptions {
  /** Where CloudWatch calls go; default the fake SES, as parseConfig sets it for a local serviceUrl. */
  cloudWatchEndpoint?: string;
  /** Attempts of a retry strategy without backoff delays. */
  attempts?: number;
}

function sourceFor(
  overrides: ConnectionInput = {},
  options: SourceOptions = {},
): SesStatisticsSource {
  const connection = connectionSchema.parse({
    serviceUrl: fake.url,
    region: 'us-east-1',
    credentials: {
      type: 'keys',
      accessKeyId: FAKE_ACCESS_KEY_ID,
      secretAccessKey: { env: 'SES_SECRET' },
    },
    ...overrides,
  });
  const retryStrategy =
    options.attempts === undefined
      ? undefined
      : new ConfiguredRetryStrategy(options.attempts, () => 0);
  const source = new SesStatisticsSource(
    { ...connection, cloudWatchEndpoint: options.cloudWatchEndpoint ?? fake.url },
    { secrets, retryStrategy },
  );
  sources.push(source);
  return source;
}

function calls(action: string) {
  return fake.requests.filter((r) => r.action === action);
}

beforeAll(async () => {
  fake = await startFakeSes();
});
afterEach(() => {
  fake.reset();
  fake.account = { ...HEALTHY_ACCOUNT };
  fake.quota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1234 };
  fake.reputation = { bounceRate: [], complaintRate: [] };
  fake.metricPageSize = 100_800;
  for (const s of sources.splice(0)) s.destroy();
});
afterAll(() => fake.close());

describe('SesStatisticsSource.getAccount', () => {
  it('reads a healthy account out of the sandbox, with its quota and the server’s time', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;

    const { value, serverTime } = await sourceFor().getAccount();

    expect(value).toEqual({
      enforcementStatus: 'HEALTHY',
      sendingEnabled: true,
      productionAccessEnabled: true,
      max24HourSend: 50000,
      maxSendRate: 14,
    });
    expect(serverTime?.getTime()).toBeGreaterThanOrEqual(before);
    expect(calls('GetAccount')).toEqual([
      expect.objectContaining({ accessKeyId: FAKE_ACCESS_KEY_ID }),
    ]);
  });

  it('reads probation with the review’s status and case id', async () => {
    fake.account = {
      enforcementStatus: 'PROBATION',
      sendingEnabled: true,
      productionAccessEnabled: true,
      reviewDetails: { status: 'PENDING', caseId: 'case-0042' },
    };

    const { value } = await sourceFor().getAccount();

    expect(value).toMatchObject({
      enforcementStatus: 'PROBATION',
      reviewStatus: 'PENDING',
      reviewCaseId: 'case-0042',
    });
  });

  it('reports the sandbox (no production access) and its small quota', async () => {
    fake.account = { ...HEALTHY_ACCOUNT, productionAccessEnabled: false };
    fake.quota = { max24HourSend: 200, maxSendRate: 1, sentLast24Hours: 3 };

    const { value } = await sourceFor().getAccount();

    expect(value).toMatchObject({
      productionAccessEnabled: false,
      max24HourSend: 200,
      maxSendRate: 1,
    });
  });

  it('sees a state changed between two calls of one source', async () => {
    const source = sourceFor();
    const first = await source.getAccount();
    fake.account = { ...HEALTHY_ACCOUNT, enforcementStatus: 'SHUTDOWN', sendingEnabled: false };

    const second = await source.getAccount();

    expect([first.value.enforcementStatus, second.value.enforcementStatus]).toEqual([
      'HEALTHY',
      'SHUTDOWN',
    ]);
    expect(second.value.sendingEnabled).toBe(false);
  });

  it('rejects an answer without SendingEnabled, naming the field', async () => {
    fake.account = { ...HEALTHY_ACCOUNT, sendingEnabled: undefined };

    const error = await failureOf(sourceFor().getAccount());

    expect(error.action).toBe('GetAccount');
    expect(error.message).toBe(
      'malformed response from SES: SendingEnabled is missing or not valid',
    );
  });

  it('rejects an answer that is not JSON', async () => {
    fake.inject({ kind: 'malformed' }, { action: 'GetAccount', times: 5 });

    const error = await failureOf(sourceFor({ maxErrorRetry: 0 }).getAccount());

    expect(error.message).toMatch(
      /^malformed response from SES \(HTTP 200\): the body is not valid SES JSON/,
    );
  });

  it('signs for ses: a wrong secret key is refused as a signature mismatch', async () => {
    const error = await failureOf(
      sourceFor({
        maxErrorRetry: 0,
        credentials: {
          type: 'keys',
          accessKeyId: FAKE_ACCESS_KEY_ID,
          secretAccessKey: { env: 'WRONG' },
        },
      }).getAccount(),
    );

    expect(error.action).toBe('GetAccount');
    expect(error.message).toMatch(/^signature does not match: .*\(InvalidSignatureException: /);
    expect(error.message).not.toContain(env.WRONG);
    expect(calls('GetAccount')).toHaveLength(1);
  });

  it('retries a throttled call and answers', async () => {
    fake.inject({ kind: 'throttle' }, { action: 'GetAccount', times: 2 });

    const { value } = await sourceFor({}, { attempts: 3 }).getAccount();

    expect(value.enforcementStatus).toBe('HEALTHY');
    expect(calls('GetAccount')).toHaveLength(3);
  });

  it('names ses:GetAccount, and only it, when access is denied', async () => {
    fake.inject({ kind: 'denied' }, { action: 'GetAccount', times: 5 });

    const error = await failureOf(sourceFor({ maxErrorRetry: 0 }).getAccount());

    expect(error.action).toBe('GetAccount');
    expect(error.message).toMatch(
      /^access denied: IAM must allow these credentials ses:GetAccount \(AccessDeniedException: User is not authorized/,
    );
    expect(error.message).not.toMatch(/GetSendQuota|GetSendStatistics/);
  });

  it('reports a server error after maxErrorRetry + 1 attempts', async () => {
    fake.inject({ kind: 'status', status: 500 }, { action: 'GetAccount', times: 5 });

    const error = await failureOf(sourceFor({ maxErrorRetry: 1 }, { attempts: 2 }).getAccount());

    expect(error.message).toMatch(/^SES server error \(HTTP 500.*\[after 2 attempts/);
  });
});

describe('SesStatisticsSource.getReputation', () => {
  it('merges both rates by hour, in time order, within [from, to)', async () => {
    fake.reputation = {
      bounceRate: hourlySeries(new Date('2026-11-19T22:00:00Z'), 4, (i) => 0.01 * (i + 1)),
      complaintRate: [
        { timestamp: '2026-11-20T01:00:00Z', value: 0.0005 },
        { timestamp: '2026-11-20T03:00:00Z', value: 0.002 },
      ],
    };

    const { value, serverTime } = await sourceFor().getReputation(DAY, NEXT_DAY);

    expect(value).toEqual([
      { timestamp: new Date('2026-11-20T00:00:00Z'), bounceRate: 0.03 },
      { timestamp: new Date('2026-11-20T01:00:00Z'), bounceRate: 0.04, complaintRate: 0.0005 },
      { timestamp: new Date('2026-11-20T03:00:00Z'), complaintRate: 0.002 },
    ]);
    expect(serverTime).toBeInstanceOf(Date);
  });

  it('asks for the hourly Average of both AWS/SES reputation metrics without dimensions', async () => {
    await sourceFor().getReputation(DAY, NEXT_DAY);

    expect(fake.metricDataCalls).toHaveLength(1);
    const call = fake.metricDataCalls[0];
    expect(call?.startTime).toEqual(DAY);
    expect(call?.endTime).toEqual(NEXT_DAY);
    expect(
      call?.queries.map((q) => [q.namespace, q.metricName, q.dimensions, q.period, q.stat]),
    ).toEqual([
      ['AWS/SES', 'Reputation.BounceRate', [], 3600, 'Average'],
      ['AWS/SES', 'Reputation.ComplaintRate', [], 3600, 'Average'],
    ]);
  });

  it('follows NextToken over every page', async () => {
    fake.reputation = {
      bounceRate: hourlySeries(DAY, 24, (i) => i / 1000),
      complaintRate: hourlySeries(DAY, 24, (i) => i / 100_000),
    };
    fake.metricPageSize = 5;

    const { value } = await sourceFor().getReputation(DAY, NEXT_DAY);

    expect(fake.metricDataCalls).toHaveLength(10);
    expect(fake.metricDataCalls.slice(1).every((c) => c.nextToken !== undefined)).toBe(true);
    expect(value).toHaveLength(24);
    expect(value[23]).toEqual({
      timestamp: new Date('2026-11-20T23:00:00Z'),
      bounceRate: 0.023,
      complaintRate: 0.00023,
    });
  });

  it('answers revised values on the next call', async () => {
    const source = sourceFor();
    fake.reputation = { bounceRate: hourlySeries(DAY, 2, () => 0.02), complaintRate: [] };
    await source.getReputation(DAY, NEXT_DAY);
    fake.reputation = {
      bounceRate: hourlySeries(DAY, 2, (i) => (i === 1 ? 0.06 : 0.02)),
      complaintRate: [],
    };

    const { value } = await source.getReputation(DAY, NEXT_DAY);

    expect(value.map((p) => p.bounceRate)).toEqual([0.02, 0.06]);
  });

  it('signs for monitoring: a wrong secret key is refused as a signature mismatch', async () => {
    const error = await failureOf(
      sourceFor({
        maxErrorRetry: 0,
        credentials: {
          type: 'keys',
          accessKeyId: FAKE_ACCESS_KEY_ID,
          secretAccessKey: { env: 'WRONG' },
        },
      }).getReputation(DAY, NEXT_DAY),
    );

    expect(error.action).toBe('GetMetricData');
    expect(error.message).toMatch(/^signature does not match: .*\(SignatureDoesNotMatch: /);
    expect(calls('GetMetricData')).toHaveLength(1);
  });

  it('names cloudwatch:GetMetricData when access is denied', async () => {
    fake.inject({ kind: 'denied' }, { action: 'GetMetricData', times: 5 });

    const error = await failureOf(sourceFor({ maxErrorRetry: 0 }).getReputation(DAY, NEXT_DAY));

    expect(error.action).toBe('GetMetricData');
    expect(error.message).toMatch(
      /^access denied: IAM must allow these credentials cloudwatch:GetMetricData \(AccessDenied: User is not authorized/,
    );
  });

  it('retries a throttled call, and names CloudWatch when throttling outlasts the retries', async () => {
    fake.inject({ kind: 'throttle' }, { action: 'GetMetricData', times: 1 });
    const recovered = await sourceFor({}, { attempts: 2 }).getReputation(DAY, NEXT_DAY);
    fake.inject({ kind: 'throttle' }, { action: 'GetMetricData', times: 5 });

    const error = await failureOf(
      sourceFor({ maxErrorRetry: 1 }, { attempts: 2 }).getReputation(DAY, NEXT_DAY),
    );

    expect(recovered.value).toEqual([]);
    expect(calls('GetMetricData')).toHaveLength(4);
    expect(error.message).toMatch(
      /^throttled by CloudWatch .*\(Throttling: Rate exceeded\) \[after 2 attempts/,
    );
  });

  it('calls the configured CloudWatch endpoint, not the SES one', async () => {
    const cloudWatch = await startFakeCloudWatch();
    try {
      cloudWatch.reputation = { bounceRate: hourlySeries(DAY, 1, () => 0.07), complaintRate: [] };
      const source = sourceFor({}, { cloudWatchEndpoint: cloudWatch.url });

      const { value } = await source.getReputation(DAY, NEXT_DAY);
      await source.getAccount();

      expect(value).toEqual([{ timestamp: DAY, bounceRate: 0.07 }]);
      expect(cloudWatch.requests.map((r) => r.action)).toEqual(['GetMetricData']);
      expect(fake.requests.map((r) => r.action)).toEqual(['GetAccount']);
    } finally {
      await cloudWatch.close();
    }
  });
});

describe('SesStatisticsSource account calls over the connection', () => {
  it('sends the configured user agent on both calls', async () => {
    const source = sourceFor({ userAgent: 'AutoMate' });

    await source.getAccount();
    await source.getReputation(DAY, NEXT_DAY);

    const sent = fake.requests.map((r) => [r.action, `${r.userAgent} ${r.amzUserAgent}`]);
    expect(sent).toEqual([
      ['GetAccount', expect.stringMatching(/\bAutoMate\b/)],
      ['GetMetricData', expect.stringMatching(/\bAutoMate\b/)],
    ]);
  });

  describe('through a proxy', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await startProxy('ops', env.PROXY_PWD);
    });
    afterAll(() => proxy.close());

    it('carries GetAccount and GetMetricData through the proxy with basic auth', async () => {
      // CloudWatch on its own port: each endpoint needs its own authenticated tunnel.
      const cloudWatch = await startFakeCloudWatch();
      try {
        const source = sourceFor(
          {
            proxy: {
              host: '127.0.0.1',
              port: proxy.port,
              user: 'ops',
              passwordSecret: { env: 'PROXY_PWD' },
            },
          },
          { cloudWatchEndpoint: cloudWatch.url },
        );
        const before = proxy.accepted;

        await source.getAccount();
        await source.getReputation(DAY, NEXT_DAY);

        expect(proxy.accepted - before).toBe(2);
        expect(fake.requests.map((r) => r.action)).toEqual(['GetAccount']);
        expect(cloudWatch.requests.map((r) => r.action)).toEqual(['GetMetricData']);
      } finally {
        await cloudWatch.close();
      }
    });

    it('sends neither call past a proxy that refuses the password', async () => {
      const source = sourceFor({
        maxErrorRetry: 0,
        proxy: {
          host: '127.0.0.1',
          port: proxy.port,
          user: 'ops',
          passwordSecret: { env: 'WRONG' },
        },
      });

      const errors = [
        await failureOf(source.getAccount()),
        await failureOf(source.getReputation(DAY, NEXT_DAY)),
      ];

      expect(errors.map((e) => [e.action, e.message.slice(0, 34)])).toEqual([
        ['GetAccount', 'the proxy refused the credentials '],
        ['GetMetricData', 'the proxy refused the credentials '],
      ]);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('with an assumed role', () => {
    const saved = { ...process.env };
    beforeAll(() => {
      process.env.AWS_ENDPOINT_URL_STS = fake.url;
      process.env.AWS_ACCESS_KEY_ID = FAKE_ACCESS_KEY_ID;
      process.env.AWS_SECRET_ACCESS_KEY = FAKE_SECRET_ACCESS_KEY;
    });
    afterAll(() => {
      process.env = saved;
    });

    it('assumes the role once for the three clients starting at once, and signs all with it', async () => {
      const roleArn = 'arn:aws:iam::123456789012:role/account-reader';
      fake.requireExternalId(roleArn, 'ext-7');
      const source = sourceFor({
        credentials: { type: 'assumeRole', roleArn, externalId: 'ext-7' },
      });

      await Promise.all([
        source.getSendQuota(),
        source.getAccount(),
        source.getReputation(DAY, NEXT_DAY),
      ]);

      expect(fake.assumeRoleCalls).toHaveLength(1);
      const issued = fake.assumeRoleCalls[0]?.issuedAccessKeyId;
      expect(issued).toBeDefined();
      const signed = fake.requests.filter((r) => r.action !== 'AssumeRole');
      expect(signed.map((r) => r.action).sort()).toEqual([
        'GetAccount',
        'GetMetricData',
        'GetSendQuota',
      ]);
      expect(signed.every((r) => r.accessKeyId === issued && r.sessionToken !== undefined)).toBe(
        true,
      );
    });
  });
});
