import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, scratchDir, startCli } from '../support/cli.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  startFakeSes,
  twoWeekWindow,
} from '../support/fake-ses.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';

const keys = {
  AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
};
let fake: FakeSes;
let target: string[];

beforeAll(async () => {
  fake = await startFakeSes();
  target = ['--service-url', fake.url, '--region', 'us-east-1'];
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

describe('ses-stats collect', () => {
  it('prints every dataset under its name as JSON: usage, statistics, the account state and its reputation', async () => {
    fake.points = twoWeekWindow(new Date());
    fake.quota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 321 };

    const run = await runCli(
      [
        'collect',
        '--no-store',
        ...target,
        '--usage-dataset',
        'usageData',
        '--statistics-dataset',
        'statsData',
        '--format',
        'json',
      ],
      keys,
    );

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out)).toEqual([
      'usageData',
      'statsData',
      'accountData',
      'accountData.reputation',
    ]);
    expect(out.usageData).toEqual([
      {
        CollectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        Max24HourSend: 50000,
        MaxSendRate: 14,
        SentLast24Hours: 321,
      },
    ]);
    const expected = [...fake.points].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    expect(out.statsData).toEqual(
      expected.map((p) => ({
        Timestamp: p.timestamp,
        DeliveryAttempts: p.deliveryAttempts,
        Bounces: p.bounces,
        Complaints: p.complaints,
        Rejects: p.rejects,
      })),
    );
    // The fake's default account (HEALTHY, out of the sandbox) with its quota; no reputation hours.
    expect(out.accountData).toEqual([
      {
        FirstSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        LastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        EnforcementStatus: 'HEALTHY',
        SendingEnabled: true,
        ProductionAccessEnabled: true,
        ReviewStatus: null,
        ReviewCaseId: null,
        Max24HourSend: 50000,
        MaxSendRate: 14,
      },
    ]);
    expect(out['accountData.reputation']).toEqual([]);
  });

  it('writes one plain CSV file per dataset with the activity’s column names', async () => {
    fake.points = [
      {
        timestamp: '2026-11-28T10:07:00Z',
        deliveryAttempts: 5,
        bounces: 1,
        complaints: 0,
        rejects: 2,
      },
    ];
    fake.quota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1234 };

    const cwd = scratchDir();

    const run = await runCli(['collect', '--no-store', ...target, '--out', 'out'], keys, cwd);

    expect(run.code).toBe(0);
    expect(readFileSync(join(cwd, 'out', 'usageData.csv'), 'utf8')).toMatch(
      /^CollectedAt,Max24HourSend,MaxSendRate,SentLast24Hours\n[^\n]+,50000,14,1234\n$/,
    );
    expect(readFileSync(join(cwd, 'out', 'statsData.csv'), 'utf8')).toBe(
      'Timestamp,DeliveryAttempts,Bounces,Complaints,Rejects\n2026-11-28T10:07:00Z,5,1,0,2\n',
    );
  });

  it('prints an aligned table', async () => {
    fake.points = [
      {
        timestamp: '2026-11-28T10:07:00Z',
        deliveryAttempts: 5,
        bounces: 1,
        complaints: 0,
        rejects: 2,
      },
    ];

    const run = await runCli(['collect', '--no-store', ...target, '--format', 'table'], keys);

    expect(run.stdout).toContain(
      'statsData (1 row)\nTimestamp             DeliveryAttempts  Bounces  Complaints  Rejects\n2026-11-28T10:07:00Z                 5        1           0        2\n',
    );
  });

  it('sends the --user-agent and makes --max-error-retry + 1 attempts', async () => {
    fake.inject({ kind: 'status', status: 500 }, { times: 20, action: 'GetSendQuota' });

    const run = await runCli(
      [
        'collect',
        '--no-store',
        ...target,
        '--user-agent',
        'AutoMate',
        '--max-error-retry',
        '1',
        '--format',
        'json',
      ],
      keys,
    );

    expect(run.code).toBe(1);
    expect(fake.requests.filter((r) => r.action === 'GetSendQuota')).toHaveLength(2);
    expect(
      fake.requests.every((r) => `${r.userAgent} ${r.amzUserAgent}`.includes('AutoMate')),
    ).toBe(true);
    expect(run.stderr).toMatch(
      /^error: activity "statsData" \(session SESSession1\): GetSendQuota failed: SES server error \(HTTP 500.*after 2 attempts/m,
    );
  });

  it('gives up an SES call after --timeout-seconds', async () => {
    fake.inject({ kind: 'slow', delayMs: 5000 }, { times: 1, action: 'GetSendQuota' });

    const run = await runCli(
      [
        'collect',
        '--no-store',
        ...target,
        '--timeout-seconds',
        '0.5',
        '--max-error-retry',
        '0',
        '--format',
        'json',
      ],
      keys,
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: activity "statsData" .*GetSendQuota failed: no answer in time: .*configured 500 ms/m,
    );
  });

  it('runs every configured activity and reports the failing one without stopping the others', async () => {
    const dir = scratchDir();
    const config = {
      sessions: {
        good: { serviceUrl: fake.url, region: 'us-east-1', maxErrorRetry: 0 },
        denied: {
          serviceUrl: fake.url,
          region: 'us-east-1',
          maxErrorRetry: 0,
          credentials: {
            type: 'keys',
            accessKeyId: 'AKIAUNKNOWNKEY000001',
            secretAccessKey: { env: 'OTHER_SECRET' },
          },
        },
      },
      activities: [
        { session: 'good', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'denied', usageDataset: 'u2', statisticsDataset: 's2' },
        { session: 'good', usageDataset: 'u3', statisticsDataset: 's3' },
      ],
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));

    const run = await runCli(
      ['collect', '--no-store', '--config', 'config.json', '--format', 'json'],
      { ...keys, OTHER_SECRET: 'x'.repeat(40) },
      dir,
    );

    expect(run.code).toBe(1);
    expect(Object.keys(JSON.parse(run.stdout))).toEqual(['u1', 's1', 'u3', 's3']);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^error: activity "s2" \(session denied\): GetSend\w+ failed: invalid access key id: /,
      ),
    ]);
    expect(run.stderr).not.toContain('x'.repeat(40));
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('paces two activities on one account and region at least a second apart', async () => {
    const dir = scratchDir();
    const session = { serviceUrl: fake.url, region: 'us-east-1' };
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({
        sessions: { s: session },
        activities: [
          { session: 's', usageDataset: 'u1', statisticsDataset: 's1' },
          { session: 's', usageDataset: 'u2', statisticsDataset: 's2' },
        ],
      }),
    );

    const run = await runCli(
      ['collect', '--no-store', '--config', 'c.json', '--format', 'json'],
      keys,
      dir,
    );

    expect(run.code).toBe(0);
    const [first, second] = fake.requests
      .filter((r) => r.action === 'GetSendStatistics')
      .map((r) => r.at.getTime());
    // Starts are 1 s apart; arrivals add each client's set-up jitter. Unpaced calls arrive within a few ms.
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(500);
  });

  it('prints the stack trace only with --verbose', async () => {
    fake.inject(
      { kind: 'error', status: 403, code: 'AccessDenied', message: 'denied' },
      { times: 4 },
    );

    const quiet = await runCli(
      ['collect', '--no-store', ...target, '--max-error-retry', '0'],
      keys,
    );
    const verbose = await runCli(
      ['collect', '--no-store', ...target, '--max-error-retry', '0', '--verbose'],
      keys,
    );

    expect(quiet.stderr).toMatch(/access denied: IAM must allow/);
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('refuses Signature Version 2 and HmacSHA1 with the reason', async () => {
    const run = await runCli(
      ['collect', '--no-store', ...target, '--sign-version', '2', '--sign-method', 'HmacSHA1'],
      keys,
    );

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--sign-version: received "2"; SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01',
    );
    expect(run.stderr).toContain(
      '--sign-method: received "HmacSHA1"; SES accepts only Signature Version 4',
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('accepts --sign-version 4 and --sign-method HmacSHA256', async () => {
    const run = await runCli(
      [
        'collect',
        '--no-store',
        ...target,
        '--sign-version',
        '4',
        '--sign-method',
        'HmacSHA256',
        '--session',
        'Mine',
      ],
      keys,
    );

    expect(run.code).toBe(0);
  });

  it.each([
    [['--format', 'xml'], '--format: received "xml"; allowed: table, json, csv'],
    [['--bogus'], "ses-stats collect: Unknown option '--bogus'"],
    [['--max-error-retry=-2'], '--max-error-retry: received -2; expected an integer from 0 to 10'],
    [
      ['--proxy-port', 'abc', '--proxy-host', 'p'],
      '--proxy-port: received "abc"; expected a port number',
    ],
    [['--usage-dataset', 'a b'], '--usage-dataset: received "a b"; expected 1-64 characters'],
    [['--usage-dataset', 'same', '--statistics-dataset', 'same'], 'dataset names must be unique'],
    [
      ['--service-url', 'http://127.0.0.1:9'],
      '--service-url: received "http://127.0.0.1:9"; host "127.0.0.1:9" is not an SES endpoint',
    ],
    [['--region', 'moon'], '--region: received "moon"; expected an AWS region'],
    [
      ['--max-error-retry', '+3'],
      '--max-error-retry: received "+3"; expected an integer from 0 to 10',
    ],
    [
      ['--timeout-seconds', '0'],
      '--timeout-seconds: received 0; expected a number of seconds from 0.1 to 300',
    ],
    [['--config', 'missing.json'], 'missing.json: cannot read the file (not found)'],
  ])('exits 2 for %j naming the problem', async (args, message) => {
    const run = await runCli(['collect', '--no-store', ...args], keys);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it.each([
    [
      'an activity session named after an Object.prototype property',
      JSON.stringify({
        sessions: { s: {} },
        activities: [{ session: 'constructor', usageDataset: 'u', statisticsDataset: 'st' }],
      }),
      [],
      'activities[0].session: received "constructor"; allowed: "s" (or an inline "connection")',
    ],
    [
      '--session naming an Object.prototype property',
      JSON.stringify({ sessions: { s: {} }, activities: [] }),
      ['--session', 'toString'],
      '--session: received "toString"; the config file has no such session (it has: "s")',
    ],
    [
      'a JSON syntax error next to a pasted secret key',
      `{"sessions": {"s": {"note": "${FAKE_SECRET_ACCESS_KEY}" }`,
      [],
      '--config: c.json: not valid JSON (unexpected end of input at line 1, column 73)',
    ],
    [
      "an unknown field in the file's session, with a flag for that session",
      JSON.stringify({ sessions: { s: { foo: 1 } } }),
      ['--session', 's', '--region', 'eu-west-1'],
      'sessions.s: unknown field "foo"; allowed: region, serviceUrl, cloudWatchUrl, credentials, userAgent, maxErrorRetry, timeoutSeconds, proxy, signatureMethod, signatureVersion, regions, accounts, externalId',
    ],
    [
      "a proxy in the file's session that is no object, with a proxy flag",
      JSON.stringify({ sessions: { s: { proxy: 'oops' } } }),
      ['--session', 's', '--proxy-user', 'ops'],
      'sessions.s.proxy: received "oops"; expected an object',
    ],
    [
      'a proxy password in --service-url',
      JSON.stringify({ sessions: { SESSession1: {} } }),
      ['--service-url', 'https://ops:c0rp-Pr0xy-pass@email.us-east-1.amazonaws.com'],
      '--service-url: received "https://***@email.us-east-1.amazonaws.com"; must not contain a user or password',
    ],
  ])('exits 2 for %s, naming the field and echoing no secret', async (_, config, args, message) => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'c.json'), config);

    const run = await runCli(['collect', '--no-store', '--config', 'c.json', ...args], keys, dir);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`ses-stats collect: ${message}\n`);
    expect(run.stderr).not.toContain(FAKE_SECRET_ACCESS_KEY.slice(4));
    expect(run.stderr).not.toContain('c0rp-Pr0xy-pass');
  });

  it('names the field of an invalid config file', async () => {
    const dir = scratchDir();
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({
        sessions: { s: { maxErrorRetry: 99 } },
        activities: [{ session: 's', usageDataset: 'u', statisticsDataset: 's' }],
      }),
    );

    const run = await runCli(['collect', '--config', 'c.json'], keys, dir);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'sessions.s.maxErrorRetry: received 99; expected an integer from 0 to 10',
    );
  });

  it('prints help', async () => {
    const run = await runCli(['collect', '--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--proxy-password-env VAR');
  });

  describe('through a proxy', () => {
    let proxy: TestProxy;
    const password = 'c0rp-Pr0xy-pass';
    beforeAll(async () => {
      proxy = await startProxy('ops', password);
    });
    afterAll(() => proxy.close());
    const proxyFlags = (passwordEnv = 'PROXY_PWD') => [
      '--proxy-host',
      '127.0.0.1',
      '--proxy-port',
      String(proxy.port),
      '--proxy-user',
      'ops',
      '--proxy-password-env',
      passwordEnv,
    ];

    it('sends the calls through the proxy, the password read from --proxy-password-env', async () => {
      const before = proxy.accepted;

      const run = await runCli(
        ['collect', '--no-store', ...target, ...proxyFlags(), '--format', 'json'],
        { ...keys, PROXY_PWD: password },
      );

      expect(run.code).toBe(0);
      expect(proxy.accepted).toBeGreaterThan(before);
      // The account calls too: with the wrong password below, none of the four reaches the fake.
      expect(fake.requests.map((r) => r.action).sort()).toEqual([
        'GetAccount',
        'GetMetricData',
        'GetSendQuota',
        'GetSendStatistics',
      ]);
    });

    it('fails clearly with a wrong password and never prints it', async () => {
      const wrong = 'wr0ng-Pr0xy-pass';

      const run = await runCli(
        [
          'collect',
          '--no-store',
          ...target,
          '--max-error-retry',
          '0',
          ...proxyFlags(),
          '--verbose',
        ],
        { ...keys, PROXY_PWD: wrong },
      );

      expect(run.code).toBe(1);
      // Every call, the account ones too, was sent to the proxy and refused there.
      for (const action of ['GetSendQuota', 'GetSendStatistics', 'GetAccount', 'GetMetricData'])
        expect(run.stderr).toContain(
          `${action} failed: the proxy refused the credentials (HTTP 407 Proxy Authentication Required)`,
        );
      expect(`${run.stdout}${run.stderr}`).not.toContain(wrong);
      expect(fake.requests).toHaveLength(0);
    });

    it('names an unset proxy password variable', async () => {
      const run = await runCli(['collect', '--no-store', ...target, ...proxyFlags('NOPE')], keys);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('environment variable NOPE is not set');
    });
  });
});

describe('ses-stats collect of many sources', () => {
  it('streams each source’s datasets as it arrives, 50 accounts at once, pacing each account', async () => {
    const busy = await startFakeSes({
      latencyMs: 50,
      points: twoWeekWindow(new Date(), { emptyEvery: 0 }),
    });
    try {
      const key = (i: number) => `AKIASTREAM${String(i).padStart(10, '0')}`;
      const sessions: Record<string, object> = {};
      const activities: object[] = [];
      for (let i = 0; i < 50; i++) {
        busy.addKey(key(i), FAKE_SECRET_ACCESS_KEY);
        sessions[`s${i}`] = {
          serviceUrl: busy.url,
          region: 'us-east-1',
          credentials: { type: 'keys', accessKeyId: key(i), secretAccessKey: { env: 'KEY' } },
        };
        activities.push({ session: `s${i}`, usageDataset: `u${i}`, statisticsDataset: `t${i}` });
      }
      // Three more activities on account 0: its calls must stay a second apart.
      for (const i of [50, 51, 52])
        activities.push({ session: 's0', usageDataset: `u${i}`, statisticsDataset: `t${i}` });
      const dir = scratchDir();
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ sessions, activities }));
      // The last account is answered only once the first dataset has been printed.
      const releaseLast = busy.hold(key(49));

      const { child, done } = startCli(
        ['collect', '--no-store', '--config', 'c.json', '--format', 'json', '--concurrency', '16'],
        { KEY: FAKE_SECRET_ACCESS_KEY },
        dir,
      );
      let early = '';
      await new Promise<void>((resolve) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          early += chunk.toString();
          if (/"\w+": \[/.test(early)) resolve();
        });
      });
      // Had the output waited for the end, the held account would have kept it from coming at all.
      releaseLast();
      const run = await done;

      expect(early.startsWith('{\n  "')).toBe(true);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout) as Record<string, unknown[]>;
      expect(Object.keys(out).sort()).toEqual(
        Array.from({ length: 53 }, (_, i) => [`u${i}`, `t${i}`])
          .flat()
          .sort(),
      );
      expect(out.t49).toHaveLength(1344);
      expect(out.t52).toHaveLength(1344);
      expect(busy.pacingViolations).toEqual([]);
    } finally {
      await busy.close();
    }
  });

  it('refuses a --concurrency that is not a whole number from 1 to 256 before touching SES', async () => {
    for (const value of ['0', '257', '1.5', 'many']) {
      const run = await runCli(['collect', '--no-store', ...target, '--concurrency', value], keys);

      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `--concurrency: received "${value}"; expected sources collected at once: a whole number from 1 to 256`,
      );
    }
    expect(fake.requests).toEqual([]);
  });
});
