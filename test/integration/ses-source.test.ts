import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretReader } from '../../lambda/adapters/secrets.ts';
import { powertoolsSecretsManager } from '../../lambda/adapters/secrets-manager.ts';
import { SesStatisticsSource, sourcesFor } from '../../lambda/adapters/ses-statistics-source.ts';
import { type ConnectionInput, connectionSchema, parseConfig } from '../../lambda/config/schema.ts';
import pkg from '../../package.json' with { type: 'json' };
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  startFakeSes,
  twoWeekWindow,
} from '../support/fake-ses.ts';
import { failureOf } from '../support/fakes.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';

const env = {
  SES_SECRET: FAKE_SECRET_ACCESS_KEY,
  PROXY_PWD: 'pr0xy-S3cret!',
  WRONG: 'not-the-secret-key',
};
const secrets = createSecretReader({ env, secretsManager: powertoolsSecretsManager });
let fake: FakeSes;
const sources: SesStatisticsSource[] = [];

function sourceFor(overrides: ConnectionInput = {}): SesStatisticsSource {
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
  const source = new SesStatisticsSource(connection, { secrets });
  sources.push(source);
  return source;
}

beforeAll(async () => {
  fake = await startFakeSes();
});
afterEach(() => {
  fake.reset();
  for (const s of sources.splice(0)) s.destroy();
});
afterAll(() => fake.close());

describe('SesStatisticsSource', () => {
  it('builds its clients again after release from the secret already read, and still answers', async () => {
    let reads = 0;
    const counted = {
      read: (
        ref: Parameters<typeof secrets.read>[0],
        options?: Parameters<typeof secrets.read>[1],
      ) => {
        reads++;
        return secrets.read(ref, options);
      },
    };
    const connection = connectionSchema.parse({
      serviceUrl: fake.url,
      region: 'us-east-1',
      credentials: {
        type: 'keys',
        accessKeyId: FAKE_ACCESS_KEY_ID,
        secretAccessKey: { env: 'SES_SECRET' },
      },
    });
    // The account dataset's SES v2 and CloudWatch clients are built again the same way.
    const source = new SesStatisticsSource(
      { ...connection, cloudWatchEndpoint: fake.url },
      { secrets: counted as typeof secrets },
    );
    sources.push(source);
    const [from, to] = [new Date('2026-11-27T00:00:00Z'), new Date('2026-11-28T00:00:00Z')];

    await Promise.all([source.getSendQuota(), source.getAccount(), source.getReputation(from, to)]);
    source.release();
    const [quota, account] = await Promise.all([
      source.getSendQuota(),
      source.getAccount(),
      source.getReputation(from, to),
    ]);

    expect(quota.value).toEqual({ max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1234 });
    expect(account.value.enforcementStatus).toBe('HEALTHY');
    expect(reads).toBe(1);
    expect(fake.requests.map((r) => r.action).sort()).toEqual([
      'GetAccount',
      'GetAccount',
      'GetMetricData',
      'GetMetricData',
      'GetSendQuota',
      'GetSendQuota',
    ]);
  });

  it('returns the quota and every point of the window, signed with the configured keys', async () => {
    fake.points = twoWeekWindow(new Date('2026-11-28T12:00:00Z'));
    fake.quota = { max24HourSend: -1, maxSendRate: 14, sentLast24Hours: 987 };
    const source = sourceFor();

    const quota = (await source.getSendQuota()).value;
    const points = (await source.getSendStatistics()).value;

    expect(quota).toEqual({ max24HourSend: -1, maxSendRate: 14, sentLast24Hours: 987 });
    expect(points.map((p) => p.timestamp.toISOString().replace('.000', ''))).toEqual(
      fake.points.map((p) => p.timestamp),
    );
    expect(points[0]).toMatchObject({
      deliveryAttempts: fake.points[0]?.deliveryAttempts,
      bounces: fake.points[0]?.bounces,
    });
    expect(fake.requests.map((r) => [r.action, r.accessKeyId])).toEqual([
      ['GetSendQuota', FAKE_ACCESS_KEY_ID],
      ['GetSendStatistics', FAKE_ACCESS_KEY_ID],
    ]);
  });

  it('answers with the server’s time of each call, from its Date header', async () => {
    fake.clockSkewMs = -2 * 24 * 3600_000 + 90_000;
    const source = sourceFor();

    const before = Math.floor((Date.now() + fake.clockSkewMs) / 1000) * 1000;
    const quota = await source.getSendQuota();
    const statistics = await source.getSendStatistics();
    const after = Date.now() + fake.clockSkewMs;

    for (const { serverTime } of [quota, statistics]) {
      expect(serverTime?.getUTCMilliseconds()).toBe(0);
      expect(serverTime?.getTime()).toBeGreaterThanOrEqual(before);
      expect(serverTime?.getTime()).toBeLessThanOrEqual(after);
    }
  });

  it('gives each call the Date of its own response when calls on one client overlap', async () => {
    const source = sourceFor();
    await source.getSendQuota();
    fake.inject({ kind: 'slow', delayMs: 1200 }, { action: 'GetSendStatistics' });

    const slow = source.getSendStatistics();
    const quick = await source.getSendQuota();
    fake.clockSkewMs = 3600_000;
    const quickAgain = await source.getSendQuota();
    const { serverTime } = await slow;

    // The slow call's Date was taken when it arrived (before the skew), the others' on arrival.
    expect(quickAgain.serverTime?.getTime()).toBeGreaterThan(
      (quick.serverTime?.getTime() ?? 0) + 3500_000,
    );
    expect(
      Math.abs((serverTime?.getTime() ?? 0) - (quick.serverTime?.getTime() ?? 0)),
    ).toBeLessThan(5000);
  });

  it('answers an undefined server time when the response has no Date header', async () => {
    fake.sendsDate = false;

    const quota = await sourceFor().getSendQuota();

    expect(quota.value.maxSendRate).toBe(14);
    expect(quota.serverTime).toBeUndefined();
  });

  it('builds one client per session and one per inline connection', () => {
    const session = { region: 'us-east-1' };
    const { activities } = parseConfig({
      sessions: { a: session, b: session },
      activities: [
        { session: 'a', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'a', usageDataset: 'u2', statisticsDataset: 's2' },
        { session: 'b', usageDataset: 'u3', statisticsDataset: 's3' },
        { connection: session, usageDataset: 'u4', statisticsDataset: 's4' },
        { connection: session, usageDataset: 'u5', statisticsDataset: 's5' },
      ],
    });

    const sources = sourcesFor(activities, { secrets }).map((r) => r.source);

    expect(new Set(sources).size).toBe(4);
    expect(sources[0]).toBe(sources[1]);
  });

  it('sends the configured user agent', async () => {
    await sourceFor({ userAgent: 'AutoMate' }).getSendQuota();

    expect(`${fake.requests[0]?.userAgent} ${fake.requests[0]?.amzUserAgent}`).toMatch(
      /\bAutoMate\b/,
    );
  });

  it('sends ses-stats/<version> as the default user agent', async () => {
    await sourceFor().getSendQuota();

    expect(fake.requests[0]?.amzUserAgent).toContain(`ses-stats/${pkg.version}`);
  });

  it('makes maxErrorRetry + 1 attempts, then names the cause and the attempts', async () => {
    fake.inject({ kind: 'status', status: 500 }, { times: 10 });

    const error = await failureOf(sourceFor({ maxErrorRetry: 2 }).getSendQuota());

    expect(fake.requests).toHaveLength(3);
    expect(error.action).toBe('GetSendQuota');
    expect(error.message).toMatch(/^SES server error \(HTTP 500.*\[after 3 attempts/);
  });

  it('makes a single attempt when maxErrorRetry is 0', async () => {
    fake.inject({ kind: 'status', status: 503 }, { times: 10 });

    await failureOf(sourceFor({ maxErrorRetry: 0 }).getSendStatistics());

    expect(fake.requests).toHaveLength(1);
  });

  it('recovers from throttling within the retries', async () => {
    fake.inject(
      { kind: 'error', status: 400, code: 'Throttling', message: 'Rate exceeded' },
      { times: 1 },
    );

    const { value: quota } = await sourceFor({ maxErrorRetry: 1 }).getSendQuota();

    expect(quota.maxSendRate).toBe(14);
    expect(fake.requests).toHaveLength(2);
  });

  it('reports throttling that outlasts the retries', async () => {
    fake.inject(
      { kind: 'error', status: 400, code: 'Throttling', message: 'Rate exceeded' },
      { times: 5 },
    );

    const error = await failureOf(sourceFor({ maxErrorRetry: 1 }).getSendQuota());

    expect(error.message).toMatch(
      /^throttled by SES .*\(Throttling: Rate exceeded\) \[after 2 attempts, request id /,
    );
  });

  it.each([
    [
      'access denied',
      { kind: 'error', status: 403, code: 'AccessDenied', message: 'User is not authorized' },
      /^access denied: .*ses:GetSendStatistics \(AccessDenied: User is not authorized\)/,
    ],
    [
      'an invalid token',
      {
        kind: 'error',
        status: 403,
        code: 'InvalidClientTokenId',
        message: 'The security token is invalid',
      },
      /^invalid access key id: .*\(InvalidClientTokenId: /,
    ],
    [
      'a malformed response',
      { kind: 'malformed' },
      /^malformed response from SES \(HTTP 200\): the body is not valid SES XML/,
    ],
  ] as const)('turns %s into one clear line', async (_, fault, message) => {
    fake.inject(fault, { times: 5 });

    const error = await failureOf(sourceFor({ maxErrorRetry: 0 }).getSendStatistics());

    expect(error.message, error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('reports a wrong secret key as a signature mismatch', async () => {
    const error = await failureOf(
      sourceFor({
        credentials: {
          type: 'keys',
          accessKeyId: FAKE_ACCESS_KEY_ID,
          secretAccessKey: { env: 'WRONG' },
        },
      }).getSendQuota(),
    );

    expect(error.message).toMatch(/^signature does not match: the secret key is wrong/);
    expect(error.message).not.toContain(env.WRONG);
  });

  it('reports a skewed clock as an expired request', async () => {
    fake.clockSkewMs = 20 * 60_000;

    const error = await failureOf(sourceFor({ maxErrorRetry: 0 }).getSendQuota());

    expect(error.message).toMatch(/^request expired: the local clock differs from AWS time/);
  });

  it('gives up on a slow answer after timeoutSeconds', async () => {
    fake.inject({ kind: 'slow', delayMs: 3000 });

    const error = await failureOf(
      sourceFor({ maxErrorRetry: 0, timeoutSeconds: 0.3 }).getSendQuota(),
    );

    expect(error.message).toMatch(
      /^no answer in time: a request has exceeded the configured 300 ms requestTimeout/,
    );
  });

  it('reports a refused connection as a network error naming the address', async () => {
    const closed = await startFakeSes();
    const url = closed.url;
    await closed.close();

    const error = await failureOf(sourceFor({ serviceUrl: url, maxErrorRetry: 0 }).getSendQuota());

    expect(error.message).toMatch(/^network error: .*ECONNREFUSED 127\.0\.0\.1:\d+/);
  });

  it('signs for the configured region, so a wrong region is refused', async () => {
    const error = await failureOf(
      sourceFor({ region: 'eu-west-1', maxErrorRetry: 0 }).getSendQuota(),
    );

    expect(error.message).toMatch(
      /^signature does not match: .*signing region .*\(SignatureDoesNotMatch: Credential should be scoped to a valid region\. Expected 'us-east-1', got 'eu-west-1'\.\)/,
    );
    expect(fake.requests[0]?.action).toBe('GetSendQuota');
  });

  it('names a missing secret environment variable', async () => {
    const error = await failureOf(
      sourceFor({
        credentials: {
          type: 'keys',
          accessKeyId: FAKE_ACCESS_KEY_ID,
          secretAccessKey: { env: 'NOT_SET' },
        },
      }).getSendQuota(),
    );

    expect(error.message).toContain('environment variable NOT_SET is not set');
    expect(fake.requests).toHaveLength(0);
  });

  describe('through a proxy', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await startProxy('ops', env.PROXY_PWD);
    });
    afterAll(() => proxy.close());

    it('carries every call through the proxy with basic auth', async () => {
      const source = sourceFor({
        proxy: {
          host: '127.0.0.1',
          port: proxy.port,
          user: 'ops',
          passwordSecret: { env: 'PROXY_PWD' },
        },
      });
      const before = proxy.accepted;

      await source.getSendQuota();
      await source.getSendStatistics();

      expect(proxy.accepted - before).toBeGreaterThanOrEqual(1);
      expect(fake.requests.map((r) => r.action)).toEqual(['GetSendQuota', 'GetSendStatistics']);
    });

    it('reports a wrong proxy password as a 407 without echoing it', async () => {
      const source = sourceFor({
        maxErrorRetry: 0,
        proxy: {
          host: '127.0.0.1',
          port: proxy.port,
          user: 'ops',
          passwordSecret: { env: 'WRONG' },
        },
      });

      const error = await failureOf(source.getSendQuota());

      expect(error.message).toMatch(
        /^the proxy refused the credentials \(HTTP 407 Proxy Authentication Required\)/,
      );
      expect(error.message).not.toContain(env.WRONG);
      expect(proxy.refused).toBeGreaterThan(0);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('with the secret key in Secrets Manager', () => {
    const sm = mockClient(SecretsManagerClient);
    afterEach(() => sm.reset());
    afterAll(() => sm.restore());

    it('reads the key from the secret (a JSON key inside it)', async () => {
      fake.quota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1 };
      sm.on(GetSecretValueCommand, { SecretId: 'ses/keys' }).resolves({
        SecretString: JSON.stringify({ secretAccessKey: FAKE_SECRET_ACCESS_KEY }),
      });

      const { value: quota } = await sourceFor({
        credentials: {
          type: 'keys',
          accessKeyId: FAKE_ACCESS_KEY_ID,
          secretAccessKey: { secretId: 'ses/keys', jsonKey: 'secretAccessKey' },
        },
      }).getSendQuota();

      expect(quota.max24HourSend).toBe(50000);
      expect(fake.requests[0]?.accessKeyId).toBe(FAKE_ACCESS_KEY_ID);
    });

    it('names the secret that cannot be read', async () => {
      sm.on(GetSecretValueCommand).rejects(
        Object.assign(new Error('Secrets Manager can’t find the specified secret.'), {
          name: 'ResourceNotFoundException',
        }),
      );

      const error = await failureOf(
        sourceFor({
          credentials: {
            type: 'keys',
            accessKeyId: FAKE_ACCESS_KEY_ID,
            secretAccessKey: { secretId: 'ses/missing' },
          },
        }).getSendQuota(),
      );

      expect(error.message).toContain('secret "ses/missing" could not be read');
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

    it('calls SES with the role’s temporary credentials and passes the external id', async () => {
      const roleArn = 'arn:aws:iam::123456789012:role/ses-reader';
      fake.requireExternalId(roleArn, 'ext-42');

      await sourceFor({
        credentials: { type: 'assumeRole', roleArn, externalId: 'ext-42' },
      }).getSendQuota();

      expect(fake.assumeRoleCalls).toEqual([
        expect.objectContaining({
          roleArn,
          externalId: 'ext-42',
          callerAccessKeyId: FAKE_ACCESS_KEY_ID,
        }),
      ]);
      const issued = fake.assumeRoleCalls[0]?.issuedAccessKeyId;
      expect(fake.requests.find((r) => r.action === 'GetSendQuota')).toMatchObject({
        accessKeyId: issued,
        sessionToken: expect.any(String),
      });
    });

    it('keeps the role’s credentials across a release: the next client assumes the role no more', async () => {
      const roleArn = 'arn:aws:iam::123456789012:role/released';
      const source = sourceFor({ credentials: { type: 'assumeRole', roleArn } });

      await source.getSendQuota();
      source.release();
      const again = await source.getSendStatistics();

      expect(again.value).toHaveLength(fake.points.length);
      expect(fake.assumeRoleCalls).toHaveLength(1);
      const issued = fake.assumeRoleCalls[0]?.issuedAccessKeyId;
      expect(fake.requests.filter((r) => r.action.startsWith('GetSend'))).toEqual([
        expect.objectContaining({ accessKeyId: issued }),
        expect.objectContaining({ accessKeyId: issued }),
      ]);
    });

    it('reports a refused AssumeRole clearly', async () => {
      const roleArn = 'arn:aws:iam::123456789012:role/guarded';
      fake.requireExternalId(roleArn, 'right');

      const error = await failureOf(
        sourceFor({
          maxErrorRetry: 0,
          credentials: { type: 'assumeRole', roleArn, externalId: 'wrong' },
        }).getSendQuota(),
      );

      expect(error.message).toMatch(/access denied/i);
    });
  });
});
