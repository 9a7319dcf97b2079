import { readdirSync, readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_READER_ROLE_NAME } from '../../lambda/config/defaults.ts';
import { MAX_LISTED_COLLISIONS, partitionOf } from '../../lambda/config/expand.ts';
import { type ConfigInput, parseConfig } from '../../lambda/config/schema.ts';
import { ConfigError } from '../../lambda/core/errors.ts';
import { DeploymentConfig } from '../../lib/deployment-config.ts';
import { assertSourcesFitTimeout } from '../../lib/time-budget.ts';
import { problemsOf } from '../support/config-problems.ts';

const A = '111122223333';
const B = '222233334444';

/** A config whose session `org` is `session`, and whose activities are `activities`. */
const orgConfig = (
  session: Record<string, unknown>,
  activities: Array<Record<string, unknown>> = [{ session: 'org' }],
): ConfigInput =>
  ({
    // An accounts list needs its external id (checked on its own below).
    sessions: {
      org:
        'accounts' in session && !('externalId' in session)
          ? { ...session, externalId: 'ses-stats-test' }
          : session,
    },
    activities,
  }) as ConfigInput;

const shorthand = {
  regions: ['us-east-1', 'eu-west-1'],
  accounts: [{ id: A }, { id: B, roleName: 'OrgReader' }],
  externalId: 'ses-stats-org',
};

describe('session expansion', () => {
  it('expands accounts (outer) × regions (inner) in the order given, each assuming its role', () => {
    const { activities } = parseConfig(orgConfig(shorthand));

    expect(
      activities.map((a) => [
        a.name,
        a.source,
        a.usageDataset,
        a.statisticsDataset,
        a.connection.region,
        a.connection.credentials,
      ]),
    ).toEqual([
      [
        `${A}-us-east-1-stats`,
        `org/${A}/us-east-1`,
        `${A}-us-east-1-usage`,
        `${A}-us-east-1-stats`,
        'us-east-1',
        {
          type: 'assumeRole',
          roleArn: `arn:aws:iam::${A}:role/${DEFAULT_READER_ROLE_NAME}`,
          externalId: 'ses-stats-org',
        },
      ],
      [
        `${A}-eu-west-1-stats`,
        `org/${A}/eu-west-1`,
        `${A}-eu-west-1-usage`,
        `${A}-eu-west-1-stats`,
        'eu-west-1',
        {
          type: 'assumeRole',
          roleArn: `arn:aws:iam::${A}:role/SesStatsReader`,
          externalId: 'ses-stats-org',
        },
      ],
      [
        `${B}-us-east-1-stats`,
        `org/${B}/us-east-1`,
        `${B}-us-east-1-usage`,
        `${B}-us-east-1-stats`,
        'us-east-1',
        {
          type: 'assumeRole',
          roleArn: `arn:aws:iam::${B}:role/OrgReader`,
          externalId: 'ses-stats-org',
        },
      ],
      [
        `${B}-eu-west-1-stats`,
        `org/${B}/eu-west-1`,
        `${B}-eu-west-1-usage`,
        `${B}-eu-west-1-stats`,
        'eu-west-1',
        {
          type: 'assumeRole',
          roleArn: `arn:aws:iam::${B}:role/OrgReader`,
          externalId: 'ses-stats-org',
        },
      ],
    ]);
    expect(activities[3]?.origin).toEqual({
      entry: 0,
      session: 'org',
      account: B,
      region: 'eu-west-1',
    });
  });

  it('keeps every other connection field of the session in each expansion, and no shorthand field', () => {
    const { activities } = parseConfig(
      orgConfig({ ...shorthand, userAgent: 'AutoMate', maxErrorRetry: 5, timeoutSeconds: 10 }),
    );

    for (const a of activities) {
      expect(a.connection).toMatchObject({
        userAgent: 'AutoMate',
        maxErrorRetry: 5,
        timeoutSeconds: 10,
        signatureVersion: '4',
      });
      expect(Object.keys(a.connection)).not.toContain('regions');
      expect(Object.keys(a.connection)).not.toContain('accounts');
      expect(Object.keys(a.connection)).not.toContain('externalId');
      expect(a.connection.endpoint).toBeUndefined();
    }
  });

  it.each([
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    [undefined, 'aws'],
  ])('puts region %s in partition %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });

  it('builds role ARNs in the partition of each region', () => {
    const { activities } = parseConfig(
      orgConfig({ regions: ['cn-north-1', 'us-gov-west-1'], accounts: [{ id: A }] }),
    );

    expect(activities.map((a) => a.connection.credentials)).toEqual([
      {
        type: 'assumeRole',
        roleArn: `arn:aws-cn:iam::${A}:role/SesStatsReader`,
        externalId: 'ses-stats-test',
      },
      {
        type: 'assumeRole',
        roleArn: `arn:aws-us-gov:iam::${A}:role/SesStatsReader`,
        externalId: 'ses-stats-test',
      },
    ]);
  });

  it('expands regions alone, keeping the session credentials, without {account} in the names', () => {
    const credentials = {
      type: 'assumeRole',
      roleArn: `arn:aws:iam::${A}:role/one`,
      externalId: 'x-1',
    };
    const { activities } = parseConfig(
      orgConfig({ regions: ['us-east-1', 'us-west-2'], credentials }),
    );

    expect(
      activities.map((a) => [a.source, a.usageDataset, a.statisticsDataset, a.connection.region]),
    ).toEqual([
      ['org/us-east-1', 'us-east-1-usage', 'us-east-1-stats', 'us-east-1'],
      ['org/us-west-2', 'us-west-2-usage', 'us-west-2-stats', 'us-west-2'],
    ]);
    expect(activities.map((a) => a.connection.credentials)).toEqual([credentials, credentials]);
  });

  it("expands accounts alone in the session's one region", () => {
    const { activities } = parseConfig(
      orgConfig({ region: 'ap-southeast-2', accounts: [{ id: A }, { id: B }] }),
    );

    expect(
      activities.map((a) => [a.source, a.statisticsDataset, a.connection.region, a.origin]),
    ).toEqual([
      [
        `org/${A}/ap-southeast-2`,
        `${A}-ap-southeast-2-stats`,
        'ap-southeast-2',
        { entry: 0, session: 'org', account: A },
      ],
      [
        `org/${B}/ap-southeast-2`,
        `${B}-ap-southeast-2-stats`,
        'ap-southeast-2',
        { entry: 0, session: 'org', account: B },
      ],
    ]);
  });

  it('signs for each region at a non-AWS serviceUrl (a local or VPC endpoint)', () => {
    const { activities } = parseConfig(
      orgConfig({ serviceUrl: ' http://127.0.0.1:4566 ', regions: ['us-east-1', 'eu-west-1'] }),
    );

    expect(activities.map((a) => [a.connection.endpoint, a.connection.region])).toEqual([
      ['http://127.0.0.1:4566', 'us-east-1'],
      ['http://127.0.0.1:4566', 'eu-west-1'],
    ]);
  });

  it('fills {account}, {region} and {session} in names, dataset names and activity names', () => {
    const { activities } = parseConfig(
      orgConfig({ ...shorthand, regions: ['us-east-1'] }, [
        {
          session: 'org',
          name: '{session}.{account}.{region}',
          usageDataset: 'u-{account}-{region}',
          statisticsDataset: '{region}_{account}_s',
        },
      ]),
    );

    expect(activities.map((a) => [a.name, a.usageDataset, a.statisticsDataset])).toEqual([
      [`org.${A}.us-east-1`, `u-${A}-us-east-1`, `us-east-1_${A}_s`],
      [`org.${B}.us-east-1`, `u-${B}-us-east-1`, `us-east-1_${B}_s`],
    ]);
  });

  it('gives each activity naming the session its own expansion, in document order', () => {
    const { activities } = parseConfig(
      orgConfig({ regions: ['us-east-1', 'eu-west-1'] }, [
        { session: 'org', usageDataset: 'a-{region}-u', statisticsDataset: 'a-{region}-s' },
        { session: 'org', usageDataset: 'b-{region}-u', statisticsDataset: 'b-{region}-s' },
      ]),
    );

    expect(activities.map((a) => [a.statisticsDataset, a.origin.entry, a.source])).toEqual([
      ['a-us-east-1-s', 0, 'org/us-east-1'],
      ['a-eu-west-1-s', 0, 'org/eu-west-1'],
      ['b-us-east-1-s', 1, 'org/us-east-1'],
      ['b-eu-west-1-s', 1, 'org/eu-west-1'],
    ]);
  });

  it('allows {session} and a known {region} in an activity of a session that does not expand', () => {
    const { activities } = parseConfig({
      sessions: { eu: { serviceUrl: 'email.eu-west-1.amazonaws.com' } },
      activities: [
        { session: 'eu', usageDataset: '{session}-usage', statisticsDataset: '{region}' },
      ],
    } as ConfigInput);

    expect(activities).toEqual([
      expect.objectContaining({
        name: 'eu-west-1',
        source: 'eu',
        usageDataset: 'eu-usage',
        statisticsDataset: 'eu-west-1',
        origin: { entry: 0, session: 'eu' },
      }),
    ]);
  });

  it('leaves a session without regions or accounts as it was: its name is the source', () => {
    const { activities } = parseConfig(
      orgConfig({ region: 'us-east-1' }, [
        { session: 'org', usageDataset: 'u', statisticsDataset: 's' },
      ]),
    );

    expect(activities.map((a) => [a.source, a.connection.credentials])).toEqual([
      ['org', { type: 'role' }],
    ]);
  });
});

describe('session expansion errors', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'an empty regions list',
      { regions: [] },
      'sessions.org.regions: received []; expected a non-empty list of AWS regions such as ["us-east-1", "eu-west-1"]',
    ],
    [
      'a region that is no region',
      { regions: ['us-east-1', 'mars-1'] },
      'sessions.org.regions[1]: received "mars-1"; expected an AWS region such as us-east-1',
    ],
    [
      'a region listed twice',
      { regions: ['us-east-1', 'eu-west-1', 'us-east-1'] },
      'sessions.org.regions[2]: received "us-east-1"; already listed at regions[0]; expected each once',
    ],
    [
      'an empty accounts list',
      { accounts: [] },
      'sessions.org.accounts: received []; expected a non-empty list of accounts such as [{"id": "111122223333", "roleName": "SesStatsReader"}]',
    ],
    [
      'an account id given as a number',
      { region: 'us-east-1', accounts: [{ id: 111122223333 }] },
      'sessions.org.accounts[0].id: received 111122223333; expected a 12-digit AWS account id in quotes, such as "111122223333"',
    ],
    [
      'an account id of 11 digits',
      { region: 'us-east-1', accounts: [{ id: '11112222333' }] },
      'sessions.org.accounts[0].id: received "11112222333"; expected a 12-digit AWS account id',
    ],
    [
      'an account listed twice',
      { region: 'us-east-1', accounts: [{ id: A }, { id: B }, { id: A, roleName: 'Other' }] },
      `sessions.org.accounts[2]: received "${A}"; already listed at accounts[0]; expected each once`,
    ],
    [
      'a role name with a path',
      { region: 'us-east-1', accounts: [{ id: A, roleName: 'path/Reader' }] },
      'sessions.org.accounts[0].roleName: received "path/Reader"; expected an IAM role name: 1-64 letters, digits and +=,.@_-',
    ],
    [
      'an unknown account field',
      { region: 'us-east-1', accounts: [{ id: A, role: 'Reader' }] },
      'sessions.org.accounts[0]: unknown field "role"; allowed: id, roleName',
    ],
    [
      'an external id of one character',
      { region: 'us-east-1', accounts: [{ id: A }], externalId: 'x' },
      'sessions.org.externalId: received "x"; expected 2-1224 characters without spaces',
    ],
    [
      'accounts without an externalId',
      { region: 'us-east-1', accounts: [{ id: A }], externalId: undefined },
      'sessions.org.externalId: received nothing; expected an external id with "accounts": each account\'s SesStatsReader role trusts the collector only with it',
    ],
    [
      'an externalId without accounts',
      { regions: ['us-east-1'], externalId: 'ses-stats-org' },
      'sessions.org.externalId: received nothing; expected "accounts" as well: the shared externalId is sent when assuming each account\'s role',
    ],
    [
      'regions together with region',
      { region: 'us-east-1', regions: ['us-east-1', 'eu-west-1'] },
      'sessions.org.region: received "us-east-1"; give either "region" (one region) or "regions" (a list), not both',
    ],
    [
      'accounts together with assumeRole credentials',
      {
        region: 'us-east-1',
        accounts: [{ id: A }],
        credentials: { type: 'assumeRole', roleArn: `arn:aws:iam::${A}:role/x` },
      },
      'sessions.org.credentials: received "assumeRole"; expected no "credentials" (other than {"type": "role"}) together with "accounts": the collector assumes each account\'s role with its own identity; remove "credentials" or "accounts"',
    ],
    [
      'accounts together with keys',
      {
        region: 'us-east-1',
        accounts: [{ id: A }],
        credentials: {
          type: 'keys',
          accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
          secretAccessKey: { env: 'K' },
        },
      },
      'sessions.org.credentials: received "keys"; expected no "credentials" (other than {"type": "role"}) together with "accounts"',
    ],
    [
      'regions with an SES host of another region',
      { serviceUrl: 'email.us-east-1.amazonaws.com', regions: ['us-east-1', 'eu-west-1'] },
      'sessions.org.serviceUrl: received "email.us-east-1.amazonaws.com"; its host is in region us-east-1, but "regions" lists eu-west-1; leave serviceUrl out with "regions"',
    ],
  ])('rejects %s, naming the field', (_, session, message) => {
    expect(problemsOf(orgConfig(session)).join('\n')).toContain(message);
  });

  it('accepts accounts with credentials {"type": "role"} written out (the default)', () => {
    expect(
      parseConfig(
        orgConfig({ region: 'us-east-1', accounts: [{ id: A }], credentials: { type: 'role' } }),
      ).activities,
    ).toHaveLength(1);
  });

  it('rejects regions and accounts in an inline connection: they belong to a session', () => {
    expect(
      problemsOf({
        activities: [
          { connection: { regions: ['us-east-1'] }, usageDataset: 'u', statisticsDataset: 's' },
        ],
      }),
    ).toEqual([expect.stringMatching(/^activities\[0\]\.connection: unknown field "regions"/)]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    [
      'an unknown placeholder',
      shorthand,
      { statisticsDataset: '{acount}-{region}-stats' },
      'activities[0].statisticsDataset: received "{acount}-{region}-stats"; unknown placeholder {acount}; allowed: {account}, {region}, {session}',
    ],
    [
      'an empty placeholder',
      shorthand,
      { usageDataset: 'u-{}' },
      'activities[0].usageDataset: received "u-{}"; unknown placeholder {}; allowed: {account}, {region}, {session}',
    ],
    [
      '{account} in a session without accounts',
      { regions: ['us-east-1'] },
      { statisticsDataset: '{account}-stats' },
      'activities[0].statisticsDataset: received "{account}-stats"; {account} needs a session that lists "accounts", and session "org" lists none',
    ],
    [
      '{region} (by default) in a session without a region',
      { accounts: [{ id: A }] },
      {},
      'activities[0].usageDataset: received "{account}-{region}-usage"; {region} needs a region, and session "org" has neither "region" nor "regions" (the default name of an expanding session holds {region}: give the session a region, or name the datasets)',
    ],
    [
      'a template that expands to no valid name',
      shorthand,
      { statisticsDataset: '{account} {region}' },
      `activities[0].statisticsDataset: "{account} {region}" expands to "${A} us-east-1" for account ${A} and region us-east-1; expected 1-64 characters`,
    ],
    [
      'a template that expands past 64 characters',
      shorthand,
      { name: `${'ab-'.repeat(17)}{account}-{region}` },
      `activities[0].name: "${'ab-'.repeat(17)}{account}-{region}" expands to "${'ab-'.repeat(17)}${A}-us-east-1" for account ${A} and region us-east-1; expected 1-64 characters`,
    ],
  ])('rejects %s, naming the template field', (_, session, activity, message) => {
    expect(problemsOf(orgConfig(session, [{ session: 'org', ...activity }])).join('\n')).toContain(
      message,
    );
  });

  it('rejects {session} in an inline connection and {region} where it has none', () => {
    expect(
      problemsOf({
        activities: [
          { connection: {}, usageDataset: '{session}-u', statisticsDataset: '{region}-s' },
        ],
      }),
    ).toEqual([
      'activities[0].usageDataset: received "{session}-u"; {session} needs a named session; this activity has an inline connection',
      'activities[0].statisticsDataset: received "{region}-s"; {region} needs a region, and the inline connection has neither "region" nor "regions"',
    ]);
  });

  it('still requires dataset names in an activity of a session that does not expand', () => {
    expect(problemsOf(orgConfig({ region: 'us-east-1' }))).toEqual([
      'activities[0].usageDataset: received nothing; expected 1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit) (required unless the session lists "regions" or "accounts")',
      'activities[0].statisticsDataset: received nothing; expected 1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit) (required unless the session lists "regions" or "accounts")',
    ]);
  });
});

describe('name collisions after expansion', () => {
  it('names the template, the colliding expansion and the one it collides with, and what to add', () => {
    expect(
      problemsOf(orgConfig(shorthand, [{ session: 'org', statisticsDataset: '{region}-stats' }])),
    ).toEqual([
      `activities[0].statisticsDataset: "{region}-stats" expands to "us-east-1-stats" for account ${B} and region us-east-1, already used by account ${A} in region us-east-1 (activities[0].statisticsDataset); add {account} to the template`,
      `activities[0].statisticsDataset: "{region}-stats" expands to "eu-west-1-stats" for account ${B} and region eu-west-1, already used by account ${A} in region eu-west-1 (activities[0].statisticsDataset); add {account} to the template`,
    ]);
  });

  it('asks for the placeholder that differs when a plain name is given to an expanding session', () => {
    expect(problemsOf(orgConfig(shorthand, [{ session: 'org', usageDataset: 'u' }]))[0]).toBe(
      `activities[0].usageDataset: "u" expands to "u" for account ${A} and region eu-west-1, already used by account ${A} in region us-east-1 (activities[0].usageDataset); add {region} to the template`,
    );
  });

  it('reports a collision between two activities, with the rule', () => {
    expect(
      problemsOf(
        orgConfig({ regions: ['us-east-1', 'eu-west-1'] }, [
          { session: 'org' },
          { session: 'org', usageDataset: '{region}-u', statisticsDataset: '{region}-usage' },
        ]),
      ),
    ).toEqual([
      'activities[1].statisticsDataset: "{region}-usage" expands to "us-east-1-usage" for region us-east-1, already used by region us-east-1 (activities[0].usageDataset); dataset names must be unique across activities',
      'activities[1].statisticsDataset: "{region}-usage" expands to "eu-west-1-usage" for region eu-west-1, already used by region eu-west-1 (activities[0].usageDataset); dataset names must be unique across activities',
    ]);
  });

  it('reports a default template colliding with a plain name of another activity', () => {
    expect(
      problemsOf({
        sessions: { org: { regions: ['us-east-1'] }, one: {} },
        activities: [
          { session: 'one', usageDataset: 'us-east-1-usage', statisticsDataset: 's' },
          { session: 'org' },
        ],
      }),
    ).toEqual([
      'activities[1].usageDataset: the default "{region}-usage" expands to "us-east-1-usage" for region us-east-1, already used by activities[0].usageDataset; dataset names must be unique across activities',
    ]);
  });

  it('reports activity names that collide though their datasets do not', () => {
    expect(
      problemsOf(
        orgConfig({ regions: ['us-east-1', 'eu-west-1'] }, [{ session: 'org', name: 'reader' }]),
      ),
    ).toEqual([
      'activities[0].name: "reader" expands to "reader" for region eu-west-1, already used by region us-east-1 (activities[0].name); add {region} to the template',
    ]);
  });

  it(`lists at most ${MAX_LISTED_COLLISIONS} collisions, then counts the rest`, () => {
    const accounts = Array.from({ length: 100 }, (_, i) => ({ id: String(100000000000 + i) }));
    const problems = problemsOf(
      orgConfig({ regions: ['us-east-1', 'eu-west-1'], accounts }, [
        { session: 'org', statisticsDataset: '{region}-stats' },
      ]),
    );

    // 200 sources, 2 distinct names: 198 collisions.
    expect(problems).toHaveLength(MAX_LISTED_COLLISIONS + 1);
    expect(problems.at(-1)).toBe(
      `activities: and ${198 - MAX_LISTED_COLLISIONS} more name collisions like these (only the first ${MAX_LISTED_COLLISIONS} are listed)`,
    );
  });
});

describe("synth's time budget over expanded sources", () => {
  it('names the session once, with five of its activities and how many more', () => {
    const accounts = Array.from({ length: 4 }, (_, i) => ({ id: String(100000000000 + i) }));
    const config = DeploymentConfig.fromDocument({
      sessions: {
        plain: {},
        org: {
          regions: ['us-east-1', 'eu-west-1'],
          accounts,
          externalId: 'x-test',
          timeoutSeconds: 120,
        },
      },
      activities: [
        { session: 'plain', usageDataset: 'u', statisticsDataset: 's' },
        { session: 'org' },
      ],
    });

    let problems: readonly string[] = [];
    try {
      assertSourcesFitTimeout(config, Duration.minutes(5));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.lines;
    }

    expect(problems).toEqual([
      expect.stringMatching(
        /^sessions\.org: for activity "100000000000-us-east-1-stats", "100000000000-eu-west-1-stats", "100000000001-us-east-1-stats", "100000000001-eu-west-1-stats", "100000000002-us-east-1-stats" and 3 more, maxErrorRetry 2 and timeoutSeconds 120 make a worst case of 394 s/,
      ),
    ]);
  });
});

describe('config/ examples', () => {
  const dir = new URL('../../config/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('include the organization example', () => {
    expect(files).toContain('example-organization.json');
  });

  it.each(files)('%s passes the schema', (file) => {
    expect(() => parseConfig(JSON.parse(readFileSync(new URL(file, dir), 'utf8')))).not.toThrow();
  });

  it('example-organization.json expands its shorthand to accounts × regions', () => {
    const config = parseConfig(
      JSON.parse(readFileSync(new URL('example-organization.json', dir), 'utf8')),
    );
    const org = config.activities.filter((a) => a.origin.account !== undefined);

    expect(org).toHaveLength(6);
    expect(new Set(org.map((a) => a.source)).size).toBe(6);
  });
});
