import { METRICS } from '../constants.ts';
import { sumCounts, utilisation } from './datasets.ts';
import type { ActivityResult } from './results.ts';
import { DAY_MS } from './time.ts';

/** One CloudWatch value for one dataset. */
export interface DatasetMetric {
  readonly dataset: string;
  readonly name: string;
  readonly value: number;
  readonly unit: 'Count' | 'None';
}

/**
 * The numbers the alarms and the dashboard use for one collected activity: last-24-hour counts,
 * the same counts summed over the whole fetched SES window (the alarms divide them in metric math
 * and ignore volumes below a minimum), window rates, quota utilisation (never for an unlimited
 * quota), and a success mark. Counts are emitted even when 0, so a quiet day is a data point.
 */
export function datasetMetrics(result: ActivityResult): DatasetMetric[] {
  const stats = result.statistics;
  const usage = result.usage.rows[0];
  // The last 24 hours before the statistics fetch, by the server's clock.
  const fetchedAt = result.fetchedAt.getTime();
  const lastDay = sumCounts(
    stats.rows.filter((r) => Date.parse(r.Timestamp) >= fetchedAt - DAY_MS),
  );
  const window = sumCounts(stats.rows);
  const metric = (
    dataset: string,
    name: string,
    value: number,
    unit: DatasetMetric['unit'],
  ): DatasetMetric => ({ dataset, name, value, unit });
  const metrics = [
    metric(stats.name, METRICS.DELIVERY_ATTEMPTS, lastDay.DeliveryAttempts, 'Count'),
    metric(stats.name, METRICS.BOUNCES, lastDay.Bounces, 'Count'),
    metric(stats.name, METRICS.COMPLAINTS, lastDay.Complaints, 'Count'),
    metric(stats.name, METRICS.REJECTS, lastDay.Rejects, 'Count'),
    metric(stats.name, METRICS.WINDOW_DELIVERY_ATTEMPTS, window.DeliveryAttempts, 'Count'),
    metric(stats.name, METRICS.WINDOW_BOUNCES, window.Bounces, 'Count'),
    metric(stats.name, METRICS.WINDOW_COMPLAINTS, window.Complaints, 'Count'),
    metric(stats.name, METRICS.COLLECTION_SUCCEEDED, 1, 'Count'),
  ];
  if (window.DeliveryAttempts > 0) {
    metrics.push(
      metric(stats.name, METRICS.BOUNCE_RATE, window.Bounces / window.DeliveryAttempts, 'None'),
    );
    metrics.push(
      metric(
        stats.name,
        METRICS.COMPLAINT_RATE,
        window.Complaints / window.DeliveryAttempts,
        'None',
      ),
    );
  }
  const used = usage === undefined ? null : utilisation(usage);
  if (used !== null)
    metrics.push(metric(result.usage.name, METRICS.QUOTA_UTILISATION, used, 'None'));
  return metrics;
}
