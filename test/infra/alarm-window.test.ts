import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { alarmWindow } from '../../lib/alarm-window.ts';

const seconds = (window: ReturnType<typeof alarmWindow>) => ({
  period: window.period.toSeconds(),
  evaluationPeriods: window.evaluationPeriods,
  capped: window.capped,
});

describe('alarmWindow', () => {
  it.each([
    ['10 minutes', Duration.minutes(10), { period: 600, evaluationPeriods: 1, capped: false }],
    ['2 hours', Duration.hours(2), { period: 7200, evaluationPeriods: 1, capped: false }],
    ['exactly 1 day', Duration.days(1), { period: 86400, evaluationPeriods: 1, capped: false }],
    ['90 seconds', Duration.seconds(90), { period: 120, evaluationPeriods: 1, capped: false }],
  ])('covers %s with a single period', (_case, window, expected) => {
    expect(seconds(alarmWindow(window))).toEqual(expected);
  });

  it.each([
    [
      '1 day and 1 minute',
      Duration.minutes(1441),
      { period: 3600, evaluationPeriods: 25, capped: false },
    ],
    ['3.5 days', Duration.hours(84), { period: 3600, evaluationPeriods: 84, capped: false }],
    ['7 days', Duration.days(7), { period: 3600, evaluationPeriods: 168, capped: false }],
  ])('counts %s in one-hour periods', (_case, window, expected) => {
    expect(seconds(alarmWindow(window))).toEqual(expected);
  });

  it('caps a 14-day window at the 7 days CloudWatch can look back', () => {
    expect(seconds(alarmWindow(Duration.days(14)))).toEqual({
      period: 3600,
      evaluationPeriods: 168,
      capped: true,
    });
  });

  it.each([
    Duration.minutes(5),
    Duration.minutes(59),
    Duration.hours(13),
    Duration.days(1),
    Duration.hours(49),
    Duration.days(7),
    Duration.days(14),
  ])('stays within CloudWatch limits for %s', (window) => {
    const { period, evaluationPeriods } = alarmWindow(window);
    const total = period.toSeconds() * evaluationPeriods;

    expect(period.toSeconds() % 60).toBe(0);
    expect(total).toBeLessThanOrEqual(period.toSeconds() < 3600 ? 86400 : 7 * 86400);
  });
});
