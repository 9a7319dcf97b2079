import { Duration } from 'aws-cdk-lib';

/** How an alarm covers a time window with CloudWatch periods. */
export interface AlarmWindow {
  readonly period: Duration;
  readonly evaluationPeriods: number;
  /** True when the window is longer than any alarm can look back, and was shortened to that. */
  readonly capped: boolean;
}

const MINUTES_PER_DAY = 24 * 60;
/** CloudWatch: period × evaluation periods may reach 7 days only when the period is at least 1 hour. */
const MAX_HOURLY_PERIODS = 7 * 24;

/**
 * Splits a look-back window into a valid alarm period and number of evaluation periods.
 *
 * CloudWatch alarm periods are multiples of 60 seconds, and period × evaluation periods may
 * not exceed 1 day for periods under an hour, nor 7 days otherwise. So a window up to 1 day is
 * one period of exactly that length; a longer one is counted in whole hours, as up to 168
 * one-hour periods. Alarms over such a window use either all periods
 * (`datapointsToAlarm = evaluationPeriods`: "nothing in the whole window") or any one
 * (`datapointsToAlarm = 1`: "something in the window"). Windows beyond 7 days are capped.
 */
export function alarmWindow(window: Duration): AlarmWindow {
  const minutes = Math.max(1, Math.ceil(window.toSeconds({ integral: false }) / 60));
  if (minutes <= MINUTES_PER_DAY)
    return { period: Duration.minutes(minutes), evaluationPeriods: 1, capped: false };
  const hours = Math.ceil(minutes / 60);
  return {
    period: Duration.hours(1),
    evaluationPeriods: Math.min(hours, MAX_HOURLY_PERIODS),
    capped: hours > MAX_HOURLY_PERIODS,
  };
}
