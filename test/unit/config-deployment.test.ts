import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../lambda/config/schema.ts';
import { problemsOf } from '../support/config-problems.ts';

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

    it.each([30, 400])('accepts %i days', (days) => {
      expect(parseConfig(withFields({ rawRetentionDays: days })).rawRetentionDays).toBe(days);
    });

    it.each([
      [
        29,
        "rawRetentionDays: received 29; expected whole days, at least 30 (raw points must outlive SES's 14-day window)",
      ],
      [
        0,
        "rawRetentionDays: received 0; expected whole days, at least 30 (raw points must outlive SES's 14-day window)",
      ],
      [30.5, 'rawRetentionDays: received 30.5; expected whole days, at least 30'],
      [null, 'rawRetentionDays: received null; expected whole days, at least 30'],
    ])('rejects %j, naming the field and the value', (value, problem) => {
      expect(problemsOf(withFields({ rawRetentionDays: value }))).toEqual([problem]);
    });
  });

  describe('alarms', () => {
    it("defaults to AWS's review thresholds, 80 % quota use and no e-mail", () => {
      expect(parseConfig(base).alarms).toEqual({
        bounceRate: 0.05,
        complaintRate: 0.001,
        quotaUtilisation: 0.8,
      });
    });

    it('fills the thresholds not given', () => {
      const { alarms } = parseConfig(
        withFields({ alarms: { email: 'ops@example.com', bounceRate: 0.03 } }),
      );

      expect(alarms).toEqual({
        email: 'ops@example.com',
        bounceRate: 0.03,
        complaintRate: 0.001,
        quotaUtilisation: 0.8,
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
        { sns: 'arn' },
        'alarms: unknown field "sns"; allowed: email, bounceRate, complaintRate, quotaUtilisation',
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

  it('reports every bad deployment field at once', () => {
    const problems = problemsOf(
      withFields({ scheduleMinutes: 1, rawRetentionDays: 7, alarms: { bounceRate: 2 } }),
    );

    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'scheduleMinutes',
      'rawRetentionDays',
      'alarms.bounceRate',
    ]);
  });
});
