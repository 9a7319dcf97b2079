import { describe, expect, it } from 'vitest';
import { maskSecrets } from '../../lambda/config/masking.ts';
import { type ConfigInput, DEFAULT_CONFIG, parseConfig } from '../../lambda/config/schema.ts';
import pkg from '../../package.json' with { type: 'json' };
import { problemsOf } from '../support/config-problems.ts';

const activity = { usageDataset: 'usageData', statisticsDataset: 'statsData' };
const withSession = (session: Record<string, unknown>): unknown => ({
  sessions: { SESSession1: session },
  activities: [activity],
});

describe('parseConfig', () => {
  it('applies every default to the default config', () => {
    const [only] = parseConfig(DEFAULT_CONFIG).activities;

    expect(only).toEqual({
      name: 'statsData',
      source: 'SESSession1',
      usageDataset: 'usageData',
      statisticsDataset: 'statsData',
      accountDataset: 'accountData',
      origin: { entry: 0, session: 'SESSession1' },
      connection: {
        credentials: { type: 'role' },
        userAgent: `ses-stats/${pkg.version}`,
        maxErrorRetry: 2,
        timeoutSeconds: 30,
        signatureMethod: 'HmacSHA256',
        signatureVersion: '4',
      },
    });
  });

  it('resolves a session shared by several activities and an inline connection', () => {
    const input: ConfigInput = {
      sessions: { main: { region: 'eu-west-1', maxErrorRetry: 5, userAgent: 'AutoMate' } },
      activities: [
        { session: 'main', usageDataset: 'u1', statisticsDataset: 's1' },
        { name: 'second', session: 'main', usageDataset: 'u2', statisticsDataset: 's2' },
        {
          connection: { serviceUrl: 'email.us-west-2.amazonaws.com ' },
          usageDataset: 'u3',
          statisticsDataset: 's3',
        },
      ],
    };

    const { activities } = parseConfig(input);

    expect(
      activities.map((a) => [a.name, a.source, a.connection.region, a.connection.maxErrorRetry]),
    ).toEqual([
      ['s1', 'main', 'eu-west-1', 5],
      ['second', 'main', 'eu-west-1', 5],
      ['s3', 'inline', 'us-west-2', 2],
    ]);
    expect(activities[2]?.connection.endpoint).toBe('https://email.us-west-2.amazonaws.com');
    expect(activities[2]?.connection.serviceUrl).toBe('email.us-west-2.amazonaws.com');
  });

  it('accepts each credentials type and a proxy with a password reference', () => {
    const sessions = {
      a: {
        credentials: {
          type: 'assumeRole',
          roleArn: 'arn:aws:iam::123456789012:role/ses-reader',
          externalId: 'ext-1',
        },
      },
      b: {
        credentials: {
          type: 'keys',
          accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
          secretAccessKey: { secretId: 'ses/key', jsonKey: 'secret' },
        },
      },
      c: {
        proxy: { host: 'proxy.corp', port: 3128, user: 'me', passwordSecret: { env: 'PROXY_PWD' } },
      },
    };
    const activities = ['a', 'b', 'c'].map((s) => ({
      session: s,
      usageDataset: `u${s}`,
      statisticsDataset: `s${s}`,
    }));

    const parsed = parseConfig({ sessions, activities });

    expect(parsed.activities.map((a) => a.connection.credentials.type)).toEqual([
      'assumeRole',
      'keys',
      'role',
    ]);
    expect(parsed.activities[2]?.connection.proxy).toEqual(sessions.c.proxy);
  });

  it.each([[4], ['4'], ['v4'], [' V4 ']])('accepts signature version %j as "4"', (version) => {
    expect(
      parseConfig(withSession({ signatureVersion: version })).activities[0]?.connection
        .signatureVersion,
    ).toBe('4');
  });

  it.each([['HmacSHA256'], ['hmac-sha256'], ['HMACSHA256']])(
    'accepts signature method %j',
    (method) => {
      expect(
        parseConfig(withSession({ signatureMethod: method })).activities[0]?.connection
          .signatureMethod,
      ).toBe('HmacSHA256');
    },
  );

  it.each([
    [
      { signatureVersion: '2' },
      'sessions.SESSession1.signatureVersion: received "2"; SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01',
    ],
    [
      { signatureVersion: 3 },
      'sessions.SESSession1.signatureVersion: received 3; SES accepts only Signature Version 4',
    ],
    [{ signatureVersion: '5' }, 'sessions.SESSession1.signatureVersion: received "5"; expected 4'],
    [
      { signatureMethod: 'HmacSHA1' },
      'sessions.SESSession1.signatureMethod: received "HmacSHA1"; SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01',
    ],
    [
      { signatureMethod: 'md5' },
      'sessions.SESSession1.signatureMethod: received "md5"; expected HmacSHA256',
    ],
    [
      { maxErrorRetry: -1 },
      'sessions.SESSession1.maxErrorRetry: received -1; expected an integer from 0 to 10',
    ],
    [
      { maxErrorRetry: 11 },
      'sessions.SESSession1.maxErrorRetry: received 11; expected an integer from 0 to 10',
    ],
    [
      { maxErrorRetry: 1.5 },
      'sessions.SESSession1.maxErrorRetry: received 1.5; expected an integer from 0 to 10',
    ],
    [
      { maxErrorRetry: '3' },
      'sessions.SESSession1.maxErrorRetry: received "3"; expected an integer from 0 to 10',
    ],
    [
      { userAgent: '' },
      'sessions.SESSession1.userAgent: received ""; expected 1-256 printable ASCII characters',
    ],
    [
      { userAgent: 'a\nb' },
      'sessions.SESSession1.userAgent: received "a\\nb"; expected 1-256 printable ASCII characters',
    ],
    [
      { region: 'mars-1' },
      'sessions.SESSession1.region: received "mars-1"; expected an AWS region such as us-east-1',
    ],
    [
      { serviceUrl: 'http://localhost:4566' },
      'sessions.SESSession1.serviceUrl: received "http://localhost:4566"; host "localhost:4566" is not an SES endpoint',
    ],
    [
      { timeoutSeconds: 0 },
      'sessions.SESSession1.timeoutSeconds: received 0; expected a number of seconds from 0.1 to 300',
    ],
    [
      { proxy: { host: 'http://proxy', port: 3128 } },
      'sessions.SESSession1.proxy.host: received "http://proxy"; expected a proxy host name or IP address, without scheme',
    ],
    [
      { proxy: { host: 'proxy', port: 0 } },
      'sessions.SESSession1.proxy.port: received 0; expected an integer port from 1 to 65535',
    ],
    [
      { proxy: { host: 'proxy', port: 3128, passwordSecret: { env: 'P' } } },
      'sessions.SESSession1.proxy.user: received nothing; expected a user name, since passwordSecret is set',
    ],
    [
      { proxy: { host: 'proxy', port: 3128, user: 'u', passwordSecret: { env: '1X' } } },
      'sessions.SESSession1.proxy.passwordSecret.env: expected an environment variable name',
    ],
    [
      { credentials: { type: 'password' } },
      'sessions.SESSession1.credentials.type: received "password"; expected "type" to be one of "role", "assumeRole", "keys"',
    ],
    [
      { credentials: { type: 'assumeRole', roleArn: 'ses-reader' } },
      'sessions.SESSession1.credentials.roleArn: received "ses-reader"; expected an IAM role ARN',
    ],
    [
      {
        credentials: {
          type: 'assumeRole',
          roleArn: 'arn:aws:iam::123456789012:role/r',
          externalId: 'x',
        },
      },
      'sessions.SESSession1.credentials.externalId: received "x"; expected 2-1224 characters',
    ],
    [
      { credentials: { type: 'keys', accessKeyId: 'short', secretAccessKey: { env: 'K' } } },
      'sessions.SESSession1.credentials.accessKeyId: received "shor..." (5 characters, the rest hidden); expected an access key id',
    ],
    [
      { colour: 'blue' },
      'sessions.SESSession1: unknown field "colour"; allowed: region, serviceUrl, cloudWatchUrl, credentials, userAgent, maxErrorRetry',
    ],
  ])('rejects session %j naming the field, the value and what is allowed', (session, message) => {
    expect(problemsOf(withSession(session))).toEqual([expect.stringContaining(message)]);
  });

  it('rejects a secret value in place of a secret reference without echoing it', () => {
    const problems = problemsOf(
      withSession({
        credentials: {
          type: 'keys',
          accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
          secretAccessKey: 'AM3i6P77pVEBOw=aME',
        },
      }),
    );

    expect(problems).toEqual([
      expect.stringContaining(
        'sessions.SESSession1.credentials.secretAccessKey: expected a secret reference',
      ),
    ]);
    expect(problems.join('\n')).not.toContain('AM3i6P77pVEBOw=aME');
  });

  it.each([
    [{ activities: [] }, 'activities: received []; expected at least one activity'],
    [
      { activities: [{ usageDataset: 'u' }] },
      'activities[0].statisticsDataset: received nothing; expected 1-64 characters',
    ],
    [
      { activities: [{ usageDataset: 'my data', statisticsDataset: 's' }] },
      'activities[0].usageDataset: received "my data"; expected 1-64 characters: letters, digits',
    ],
    [
      { activities: [activity, activity] },
      'activities[1].usageDataset: received "usageData", already used by activities[0].usageDataset; dataset names must be unique',
    ],
    [
      { activities: [{ usageDataset: 'same', statisticsDataset: 'same' }] },
      'activities[0].statisticsDataset: received "same", already used by activities[0].usageDataset',
    ],
    [
      { activities: [activity] },
      'activities[0].session: received "SESSession1"; allowed: none, "sessions" is empty',
    ],
    [
      { sessions: { a: {} }, activities: [{ ...activity, session: 'b' }] },
      'activities[0].session: received "b"; allowed: "a"',
    ],
    [
      { sessions: { a: {} }, activities: [{ ...activity, session: 'a', connection: {} }] },
      'activities[0]: give either "session" or "connection", not both',
    ],
    [
      { sessions: { 'bad name': {} }, activities: [activity] },
      'sessions.bad name: received "bad name"; expected a session name of 1-64 characters',
    ],
    [
      { activities: [activity], schedule: 'hourly' },
      'config: unknown field "schedule"; allowed: concurrency, batchSize, fanOutConcurrency, scheduleMinutes, rawRetentionDays, alarms, api, apiCorsOrigins, sessions, activities',
    ],
    [[], 'config: received []; expected an object'],
  ])('rejects %j', (input, message) => {
    expect(problemsOf(input).join('\n')).toContain(message);
  });

  it('reports every problem at once', () => {
    expect(
      problemsOf(withSession({ maxErrorRetry: -1, region: 'x', signatureVersion: '2' })),
    ).toHaveLength(3);
  });

  it.each(Object.getOwnPropertyNames(Object.prototype))(
    'rejects activity session %j, an Object.prototype name, naming the field',
    (name) => {
      expect(
        problemsOf({ sessions: { a: {} }, activities: [{ ...activity, session: name }] }),
      ).toEqual([
        `activities[0].session: received ${JSON.stringify(name)}; allowed: "a" (or an inline "connection")`,
      ]);
    },
  );

  it('rejects a session named "__proto__", which zod would drop silently', () => {
    const input = JSON.parse(
      '{"sessions": {"__proto__": {"region": "eu-west-1"}}, "activities": [{"session": "__proto__", "usageDataset": "u", "statisticsDataset": "s"}]}',
    );

    expect(problemsOf(input)).toEqual([
      'sessions.__proto__: expected a session name of 1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit)',
    ]);
  });

  it('accepts a session defined under an Object.prototype name', () => {
    const parsed = parseConfig({
      sessions: { constructor: { region: 'eu-west-1' } },
      activities: [{ ...activity, session: 'constructor' }],
    });

    expect(parsed.activities[0]).toMatchObject({
      source: 'constructor',
      connection: { region: 'eu-west-1' },
    });
  });
});

describe('parseConfig with secrets in the wrong place', () => {
  const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const keys = (accessKeyId: string, secretAccessKey: unknown = { env: 'K' }) => ({
    credentials: { type: 'keys', accessKeyId, secretAccessKey },
  });

  it('rejects a secret key pasted into accessKeyId showing only its first 4 characters', () => {
    const problems = problemsOf(withSession(keys(secretKey)));

    expect(problems).toEqual([
      'sessions.SESSession1.credentials.accessKeyId: received "wJal..." (40 characters, the rest hidden); expected an access key id (16-128 upper-case letters and digits)',
    ]);
  });

  it.each([
    ['userAgent', { userAgent: `key: ${secretKey}\n` }],
    ['region', { region: secretKey }],
    ['proxy.host', { proxy: { host: secretKey, port: 1 } }],
  ])('rejects a secret-looking value in %s without echoing it', (field, session) => {
    const [problem = ''] = problemsOf(withSession(session));

    expect(problem).toContain(`sessions.SESSession1.${field}: received `);
    expect(problem).toContain('wJal...(40 characters hidden)');
    expect(problem).not.toContain(secretKey.slice(4));
  });

  it.each([
    ['serviceUrl', { serviceUrl: 'https://ops:c0rp-Pr0xy-pass@email.us-east-1.amazonaws.com' }],
    ['serviceUrl', { serviceUrl: 'ops:c0rp-Pr0xy-pass@proxy.corp', region: 'us-east-1' }],
    ['proxy.host', { proxy: { host: 'ops:c0rp-Pr0xy-pass@proxy.corp', port: 3128 } }],
  ])('rejects user info in %s without echoing the password', (field, session) => {
    const [problem = ''] = problemsOf(withSession(session));

    expect(problem).toMatch(
      new RegExp(`^sessions\\.SESSession1\\.${field}: received "(https://)?\\*\\*\\*@`),
    );
    expect(problem).not.toContain('c0rp-Pr0xy-pass');
    expect(problem).not.toContain('ops:');
  });

  it('rejects unknown fields in a secret reference without naming them', () => {
    const problems = problemsOf(withSession(keys('AKIAJ25JAKOPAC7GSQ7A', { [secretKey]: 1 })));

    expect(problems).toEqual([
      expect.stringMatching(/^sessions\.SESSession1\.credentials\.secretAccessKey: /),
    ]);
    expect(problems.join('\n')).not.toContain(secretKey.slice(4));
  });

  it.each([
    ['ses/*'],
    ['ses-stats/key-??????'],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:*'],
  ])('rejects the wildcard secretId %j naming the field', (secretId) => {
    expect(problemsOf(withSession(keys('AKIAJ25JAKOPAC7GSQ7A', { secretId })))).toEqual([
      'sessions.SESSession1.credentials.secretAccessKey.secretId: expected a Secrets Manager secret name or ARN without "*" or "?": a wildcard would widen the IAM grant to other secrets',
    ]);
    expect(
      problemsOf(
        withSession({ proxy: { host: 'p', port: 1, user: 'u', passwordSecret: { secretId } } }),
      ),
    ).toEqual([
      expect.stringContaining(
        'sessions.SESSession1.proxy.passwordSecret.secretId: expected a Secrets Manager secret name or ARN without "*" or "?"',
      ),
    ]);
  });

  it.each([
    [Number.POSITIVE_INFINITY, 'received Infinity'],
    [2n ** 70n, 'received 1180591620717411303424'],
    [Symbol('x'), 'received a symbol'],
    [{ self: 1n }, 'received an unprintable object'],
  ])('rejects a non-JSON port %s naming it', (port, received) => {
    expect(problemsOf(withSession({ proxy: { host: 'p', port } }))).toEqual([
      expect.stringContaining(`sessions.SESSession1.proxy.port: ${received}; expected`),
    ]);
  });
});

describe('maskSecrets', () => {
  const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it.each([
    [`x ${secretKey} y`, 'x wJal...(40 characters hidden) y'],
    ['"https://ops:c0rp-Pr0xy-pass@host"', '"https://***@host"'],
    ['ops:p@ss@host', '***@host'],
    ['http://u:p/w@h', 'http://***@h'],
    ['alerts@example.com', 'alerts@example.com'],
  ])('masks %j as %j', (text, masked) => {
    expect(maskSecrets(text)).toBe(masked);
  });

  it('cuts a long text and drops the fragment a secret may start in', () => {
    const text = `${'a "'.repeat(665)}${secretKey}`;

    const masked = maskSecrets(text);

    expect(masked.endsWith('"...')).toBe(true);
    expect(masked).not.toContain(secretKey.slice(0, 4));
    expect(masked.length).toBeLessThanOrEqual(2003);
  });
});
