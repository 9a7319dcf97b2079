import { METRICS } from '../constants.ts';
import type { ActivityResult } from './activity.ts';
import { utilisation } from './query.ts';
import { DAY_MS } from './time.ts';

/** One CloudWatch value for one dataset. */
export interface DatasetMetric {
  readonly dataset: string;
  readonly name: string;
  readonly value: number;
  readonly unit: 'Count' | 'None';
}

/**
 * The numbers a dashboard plots for one collected activity: last-24-hour counts, window rates over
 * the whole fetched SES window, quota utilisation (never for an unlimited quota), and a success mark.
 */
export function datasetMetrics(result: ActivityResult): DatasetMetric[] {
  const stats = result.statistics;
  const usage = result.usage.rows[0];
  const fetchedAt = Date.parse(usage?.CollectedAt ?? '');
  const lastDay = stats.rows.filter((r) => Date.parse(r.Timestamp) >= fetchedAt - DAY_MS);
  const sum = (
    rows: typeof stats.rows,
    key: 'DeliveryAttempts' | 'Bounces' | 'Complaints' | 'Rejects',
  ) => rows.reduce((s, r) => s + r[key], 0);
  const count = (name: string, value: number): DatasetMetric => ({
    dataset: stats.name,
    name,
    value,
    unit: 'Count',
  });
  const metrics = [
    count(METRICS.DELIVERY_ATTEMPTS, sum(lastDay, 'DeliveryAttempts')),
    count(METRICS.BOUNCES, sum(lastDay, 'Bounces')),
    count(METRICS.COMPLAINTS, sum(lastDay, 'Complaints')),
    count(METRICS.REJECTS, sum(lastDay, 'Rejects')),
    count(METRICS.COLLECTION_SUCCEEDED, 1),
  ];
  const attempts = sum(stats.rows, 'DeliveryAttempts');
  if (attempts > 0) {
    metrics.push({
      dataset: stats.name,
      name: METRICS.BOUNCE_RATE,
      value: sum(stats.rows, 'Bounces') / attempts,
      unit: 'None',
    });
    metrics.push({
      dataset: stats.name,
      name: METRICS.COMPLAINT_RATE,
      value: sum(stats.rows, 'Complaints') / attempts,
      unit: 'None',
    });
  }
  const used = usage === undefined ? null : utilisation(usage);
  if (used !== null)
    metrics.push({
      dataset: result.usage.name,
      name: METRICS.QUOTA_UTILISATION,
      value: used,
      unit: 'None',
    });
  return metrics;
}
