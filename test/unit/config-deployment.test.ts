import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../lambda/config/schema.ts';
import { problemsOf } from '../support/config-problems.ts';

/** AWS's own levels for its reputation rates: the alarms' defaults. */
const REPUTATION_DEFAULTS = {
  reputationBounceWarning: 0.05,
  reputationBounceReview: 0.1,
  reputationComplaintWarning: 0.001,
  reputationComplaintReview: 0.005,
};

const base: ConfigInput = {
  sessions: { SESSession1: {} },
  activities: [
    { session: 'SESSession1', usageDataset: 'usageData', statisticsDataset: 'statsData' },
  ],
};
const withFields = (fields: Record<string, unknown>): unknown => ({ ...base, ...fields });

describe('parseConfig deployment settings', () => {
  describe('scheduleMinutes', () => {
    it('defaults to 60 minutes', () => {
      expect(parseConfig(base).scheduleMinutes).toBe(60);
    });

    it.each([5, 30, 10080])('accepts %i minutes', (minutes) => {
      expect(parseConfig(withFields({ scheduleMinutes: minutes })).scheduleMinutes).toBe(minutes);
    });

    it.each([
      [
        4,
        'scheduleMinutes: received 4; expected whole minutes from 5 to 10080 (7 days); SES allows these calls once per second and more often gains nothing',
      ],
      [
        10081,
        'scheduleMinutes: received 10081; expected whole minutes from 5 to 10080 (7 days); a longer pause risks losing data, since SES keeps only 14 days',
      ],
      [7.5, 'scheduleMinutes: received 7.5; expected whole minutes from 5 to 10080 (7 days)'],
      ['60', 'scheduleMinutes: received "60"; expected whole minutes from 5 to 10080 (7 days)'],
    ])('rejects %j, naming the field, the value and the range', (value, problem) => {
      expect(problemsOf(withFields({ scheduleMinutes: value }))).toEqual([problem]);
    });
  });

  describe('rawRetentionDays', () => {
    it('is absent by default: raw points never expire', () => {
      expect(parseConfig(base).rawRetentionDays).toBeUndefined();
    });

    it.each([30, 400, 36_500])('accepts %i days', (days) => {
      expect(parseConfig(withFields({ rawRetentionDays: days })).rawRetentionDays).toBe(days);
    });

    it.each([
      [
        29,
        "rawRetentionDays: received 29; expected whole days from 30 to 36500; raw points must outlive SES's 14-day window",
      ],
      [
        0,
        "rawRetentionDays: received 0; expected whole days from 30 to 36500; raw points must outlive SES's 14-day window",
      ],
      [
        36_501,
        'rawRetentionDays: received 36501; expected whole days from 30 to 36500 (100 years); leave rawRetentionDays out to keep raw points forever',
      ],
      [
        2e11,
        'rawRetentionDays: received 200000000000; expected whole days from 30 to 36500 (100 years); leave rawRetentionDays out to keep raw points forever',
      ],
      [30.5, 'rawRetentionDays: received 30.5; expected whole days from 30 to 36500'],
      [null, 'rawRetentionDays: received null; expected whole days from 30 to 36500'],
    ])('rejects %j, naming the field and the value', (value, problem) => {
      expect(problemsOf(withFields({ rawRetentionDays: value }))).toEqual([problem]);
    });
  });

  describe('alarms', () => {
    it("defaults to AWS's review levels, warnings at half of them, 100 attempts, 80 % quota use and no e-mail", () => {
      expect(parseConfig(base).alarms).toEqual({
        bounceRate: 0.05,
        bounceRateWarning: 0.025,
        complaintRate: 0.001,
        complaintRateWarning: 0.0005,
        minDeliveryAttempts: 100,
        quotaUtilisation: 0.8,
        ...REPUTATION_DEFAULTS,
      });
    });

    it('takes warning levels and the minimum volume as given', () => {
      const { alarms } = parseConfig(
        withFields({
          alarms: {
            bounceRate: 0.04,
            bounceRateWarning: 0.01,
            complaintRateWarning: 0.0009,
            minDeliveryAttempts: 1,
          },
        }),
      );

      expect(alarms).toEqual({
        bounceRate: 0.04,
        bounceRateWarning: 0.01,
        complaintRate: 0.001,
        complaintRateWarning: 0.0009,
        minDeliveryAttempts: 1,
        quotaUtilisation: 0.8,
        ...REPUTATION_DEFAULTS,
      });
    });

    it('rejects warning levels at or above their review levels, naming both values', () => {
      const problems = problemsOf(
        withFields({
          alarms: { bounceRate: 0.04, bounceRateWarning: 0.04, complaintRateWarning: 0.002 },
        }),
      );

      expect(problems).toEqual([
        'alarms.bounceRateWarning: received 0.04; expected a warning level below alarms.bounceRate (0.04); the warning must come before the review level',
        'alarms.complaintRateWarning: received 0.002; expected a warning level below alarms.complaintRate (0.001); the warning must come before the review level',
      ]);
    });

    it('fills the thresholds not given', () => {
      const { alarms } = parseConfig(
        withFields({ alarms: { email: 'ops@example.com', bounceRate: 0.03 } }),
      );

      expect(alarms).toEqual({
        email: 'ops@example.com',
        bounceRate: 0.03,
        bounceRateWarning: 0.015,
        complaintRate: 0.001,
        complaintRateWarning: 0.0005,
        minDeliveryAttempts: 100,
        quotaUtilisation: 0.8,
        ...REPUTATION_DEFAULTS,
      });
    });

    it('accepts thresholds of exactly 1', () => {
      const { alarms } = parseConfig(
        withFields({ alarms: { bounceRate: 1, complaintRate: 1, quotaUtilisation: 1 } }),
      );

      expect(alarms).toMatchObject({ bounceRate: 1, complaintRate: 1, quotaUtilisation: 1 });
    });

    it.each([
      [
        { bounceRate: 0 },
        'alarms.bounceRate: received 0; expected a fraction above 0 and at most 1 (AWS reviews accounts at 0.05)',
      ],
      [
        { bounceRate: 5 },
        'alarms.bounceRate: received 5; expected a fraction above 0 and at most 1 (AWS reviews accounts at 0.05)',
      ],
      [
        { complaintRate: -0.001 },
        'alarms.complaintRate: received -0.001; expected a fraction above 0 and at most 1 (AWS reviews accounts at 0.001)',
      ],
      [
        { quotaUtilisation: '0.8' },
        'alarms.quotaUtilisation: received "0.8"; expected a fraction above 0 and at most 1',
      ],
      [
        { quotaUtilisation: 1.01 },
        'alarms.quotaUtilisation: received 1.01; expected a fraction above 0 and at most 1',
      ],
      [
        { email: 'ops.example.com' },
        'alarms.email: received "ops.example.com"; expected an e-mail address',
      ],
      [{ email: 42 }, 'alarms.email: received 42; expected an e-mail address'],
      [
        { bounceRateWarning: 0 },
        'alarms.bounceRateWarning: received 0; expected a fraction above 0 and below bounceRate (default: half of bounceRate)',
      ],
      [
        { minDeliveryAttempts: 0 },
        'alarms.minDeliveryAttempts: received 0; expected a whole number of delivery attempts, at least 1',
      ],
      [
        { minDeliveryAttempts: 99.5 },
        'alarms.minDeliveryAttempts: received 99.5; expected a whole number of delivery attempts, at least 1',
      ],
      [
        { minDeliveryAttempts: '100' },
        'alarms.minDeliveryAttempts: received "100"; expected a whole number of delivery attempts, at least 1',
      ],
      [
        { sns: 'arn' },
        'alarms: unknown field "sns"; allowed: email, bounceRate, bounceRateWarning, complaintRate, complaintRateWarning, minDeliveryAttempts, quotaUtilisation, reputationBounceWarning, reputationBounceReview, reputationComplaintWarning, reputationComplaintReview',
      ],
    ])('rejects %j, naming the field and the value', (alarms, problem) => {
      expect(problemsOf(withFields({ alarms }))).toEqual([problem]);
    });

    it('rejects alarms that are not an object', () => {
      expect(problemsOf(withFields({ alarms: null }))).toEqual([
        'alarms: received null; expected an object',
      ]);
    });
  });

  describe('api', () => {
    it('is on by default, with no CORS origins', () => {
      const config = parseConfig(base);

      expect(config.api).toBe(true);
      expect(config.apiCorsOrigins).toBeUndefined();
    });

    it('can be turned off', () => {
      expect(parseConfig(withFields({ api: false })).api).toBe(false);
    });

    it.each([
      ['yes', 'api: received "yes"; expected true (deploy the read API) or false'],
      [1, 'api: received 1; expected true (deploy the read API) or false'],
      [null, 'api: received null; expected true (deploy the read API) or false'],
    ])('rejects %j, naming the field and the value', (value, problem) => {
      expect(problemsOf(withFields({ api: value }))).toEqual([problem]);
    });
  });

  describe('apiCorsOrigins', () => {
    const ORIGIN =
      'expected an origin such as https://dashboard.example.com (http or https, a host name, an optional port, no path), or "*"';
    const LIST = `expected a list of origins, each an origin such as https://dashboard.example.com (http or https, a host name, an optional port, no path), or ["*"] for any origin; leave apiCorsOrigins out for no CORS`;

    it.each([
      [['https://dashboard.example.com']],
      [['http://localhost:3000', 'https://ops.example.com:8443']],
      [['*']],
    ])('accepts %j', (origins) => {
      expect(parseConfig(withFields({ apiCorsOrigins: origins })).apiCorsOrigins).toEqual(origins);
    });

    it.each([
      [[], `apiCorsOrigins: received []; ${LIST}`],
      ['https://a.example.com', `apiCorsOrigins: received "https://a.example.com"; ${LIST}`],
      [
        ['https://a.example.com/'],
        `apiCorsOrigins[0]: received "https://a.example.com/"; ${ORIGIN}`,
      ],
      [
        ['https://a.example.com/app'],
        `apiCorsOrigins[0]: received "https://a.example.com/app"; ${ORIGIN}`,
      ],
      [['a.example.com'], `apiCorsOrigins[0]: received "a.example.com"; ${ORIGIN}`],
      [['ftp://a.example.com'], `apiCorsOrigins[0]: received "ftp://a.example.com"; ${ORIGIN}`],
      [[42], `apiCorsOrigins[0]: received 42; ${ORIGIN}`],
      [
        ['*', 'https://a.example.com'],
        'apiCorsOrigins: received ["*","https://a.example.com"]; expected "*" alone: it already allows every origin',
      ],
      [
        ['https://a.example.com', 'https://a.example.com'],
        'apiCorsOrigins[1]: received "https://a.example.com"; already listed at apiCorsOrigins[0]; expected each origin once',
      ],
    ])('rejects %j, naming the field and the value', (value, problem) => {
      expect(problemsOf(withFields({ apiCorsOrigins: value }))).toEqual([problem]);
    });

    it('rejects origins when the read API is off', () => {
      expect(problemsOf(withFields({ api: false, apiCorsOrigins: ['*'] }))).toEqual([
        'apiCorsOrigins: received ["*"], but "api" is false; CORS applies only to the read API: remove apiCorsOrigins or set "api": true',
      ]);
    });
  });

  it('reports every bad deployment field at once', () => {
    const problems = problemsOf(
      withFields({
        scheduleMinutes: 1,
        rawRetentionDays: 7,
        alarms: { bounceRate: 2 },
        api: 'on',
        apiCorsOrigins: ['x'],
      }),
    );

    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'scheduleMinutes',
      'rawRetentionDays',
      'alarms.bounceRate',
      'api',
      'apiCorsOrigins[0]',
    ]);
  });
});
