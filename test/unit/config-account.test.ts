import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../lambda/config/schema.ts';
import { ConfigError } from '../../lambda/core/errors.ts';

const problemsOf = (input: unknown): readonly string[] => {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
  return [];
};

describe('the account dataset in the config', () => {
  it('is absent from a config file activity that does not name one', () => {
    const [only] = parseConfig({
      sessions: { SESSession1: {} },
      activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
    }).activities;
    expect(only?.accountDataset).toBeUndefined();
  });

  it('fills a template per account and region, and names collide with the other datasets', () => {
    const config: ConfigInput = {
      sessions: {
        org: {
          regions: ['us-east-1', 'eu-west-1'],
          accounts: [{ id: '111122223333' }],
          externalId: 'ext-id-0001',
        },
      },
      activities: [{ session: 'org', accountDataset: '{account}-{region}-account' }],
    };
    expect(parseConfig(config).activities.map((a) => a.accountDataset)).toEqual([
      '111122223333-us-east-1-account',
      '111122223333-eu-west-1-account',
    ]);
    const clash = problemsOf({
      activities: [{ usageDataset: 'u', statisticsDataset: 's', accountDataset: 'u' }],
    });
    expect(clash.join('\n')).toMatch(/activities\[0\]\.accountDataset.*"u"/);
  });

  it("refuses a name that is another account dataset's reputation table, either way round", () => {
    const session = { sessions: { SESSession1: {} } };
    expect(
      problemsOf({
        ...session,
        activities: [{ usageDataset: 'u', statisticsDataset: 'a.reputation', accountDataset: 'a' }],
      }),
    ).toEqual([
      'activities[0].accountDataset: received "a.reputation", already used by activities[0].statisticsDataset; dataset names must be unique across activities, and an account dataset NAME also names its reputation table NAME.reputation',
    ]);
    expect(
      problemsOf({
        ...session,
        activities: [
          { usageDataset: 'u1', statisticsDataset: 's1', accountDataset: 'a' },
          { usageDataset: 'a.reputation', statisticsDataset: 's2' },
        ],
      }),
    ).toEqual([
      expect.stringMatching(
        /^activities\[1\]\.usageDataset: received "a\.reputation", already used by activities\[0\]\.accountDataset/,
      ),
    ]);
  });

  it('refuses a bad name, naming the field and the value', () => {
    expect(
      problemsOf({
        activities: [{ usageDataset: 'u', statisticsDataset: 's', accountDataset: 'my account' }],
      }),
    ).toEqual([expect.stringMatching(/^activities\[0\]\.accountDataset: .*"my account"/)]);
  });
});

describe('the CloudWatch endpoint', () => {
  const endpointOf = (connection: Record<string, unknown>) =>
    parseConfig({ activities: [{ connection, usageDataset: 'u', statisticsDataset: 's' }] })
      .activities[0]?.connection.cloudWatchEndpoint;

  it('is the SDK default with no URL or an SES host, cloudWatchUrl when given', () => {
    expect(endpointOf({ region: 'us-east-1' })).toBeUndefined();
    expect(endpointOf({ serviceUrl: 'email.eu-west-1.amazonaws.com' })).toBeUndefined();
    // An SES VPC endpoint serves SES only.
    expect(
      endpointOf({
        serviceUrl: 'vpce-0abc-12345.email.us-east-1.vpce.amazonaws.com',
        region: 'us-east-1',
      }),
    ).toBeUndefined();
    expect(
      endpointOf({
        serviceUrl: 'email.eu-west-1.amazonaws.com',
        cloudWatchUrl: ' monitoring.eu-west-1.amazonaws.com ',
      }),
    ).toBe('https://monitoring.eu-west-1.amazonaws.com');
  });

  it('follows a local serviceUrl (one local endpoint serves every API) unless cloudWatchUrl says otherwise', () => {
    expect(endpointOf({ serviceUrl: 'http://127.0.0.1:4566', region: 'us-east-1' })).toBe(
      'http://127.0.0.1:4566',
    );
    expect(
      endpointOf({
        serviceUrl: 'http://127.0.0.1:4566',
        region: 'us-east-1',
        cloudWatchUrl: 'http://127.0.0.1:9000',
      }),
    ).toBe('http://127.0.0.1:9000');
  });

  it.each([
    ['ftp://monitoring', 'scheme "ftp" is not allowed'],
    ['http://u:secret@127.0.0.1:9000', 'must not contain a user or password'],
    ['http://127.0.0.1:9000/path', 'without a path'],
    ['', 'must not be empty'],
  ])('refuses cloudWatchUrl %j: %s', (url, why) => {
    const problems = problemsOf({
      activities: [
        {
          connection: { region: 'us-east-1', cloudWatchUrl: url },
          usageDataset: 'u',
          statisticsDataset: 's',
        },
      ],
    });
    expect(problems).toEqual([expect.stringContaining(why)]);
    expect(problems[0]).toMatch(/^activities\[0\]\.connection\.cloudWatchUrl: /);
    expect(problems.join('')).not.toContain('secret@');
  });
});

describe('the reputation alarm levels', () => {
  it("default to AWS's levels", () => {
    const { alarms } = parseConfig({
      sessions: { SESSession1: {} },
      activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
    });
    expect(alarms).toMatchObject({
      reputationBounceWarning: 0.05,
      reputationBounceReview: 0.1,
      reputationComplaintWarning: 0.001,
      reputationComplaintReview: 0.005,
    });
  });

  it('refuse a warning level at or above its review level, naming both', () => {
    const problems = problemsOf({
      alarms: { reputationComplaintWarning: 0.005 },
      sessions: { SESSession1: {} },
      activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
    });
    expect(problems).toEqual([
      'alarms.reputationComplaintWarning: received 0.005; expected a warning level below alarms.reputationComplaintReview (0.005); the warning must come before the review level',
    ]);
    expect(
      problemsOf({
        alarms: { reputationBounceReview: 1.5 },
        sessions: { SESSession1: {} },
        activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
      }),
    ).toEqual([expect.stringMatching(/^alarms\.reputationBounceReview: .*at most 1/)]);
  });
});
