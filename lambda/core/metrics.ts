import { METRICS } from '../constants.ts';
import { type Counts, sumCounts, utilisation } from './datasets.ts';
import type { ActivityResult } from './results.ts';
import type { DatasetMeta } from './store.ts';
import { DAY_MS } from './time.ts';

/** One CloudWatch value for one dataset. */
export interface DatasetMetric {
  readonly dataset: string;
  readonly name: string;
  readonly value: number;
  readonly unit: 'Count' | 'None';
}

/**
 * How the deployment alarms on its datasets. `perDataset`: every dataset has its own staleness,
 * rate and quota alarms and graphs, over 11 metrics per activity. `perKind`: one Metrics Insights
 * alarm per kind and level over all datasets (each dataset a contributor the notification names),
 * one alarm on the number of stale datasets, and 4 metrics per activity.
 */
export type AlarmMode = 'perDataset' | 'perKind';

/**
 * Up to this many statistics datasets a deployment keeps per-dataset alarms. At list prices
 * (us-east-1) per-kind alarms are never dearer: an activity costs 18 alarm metrics ($1.80) and 11
 * custom metrics ($3.30) a month per dataset, against 5 metrics analyzed by Metrics Insights
 * alarms ($0.50) and 4 custom metrics ($1.20) per kind. Small deployments keep per-dataset alarms
 * for what only they give (each window alarmed on its own, the dataset named by staleness too,
 * one graph per dataset) while that costs at most about $34 a month more; beyond, the stack would
 * also approach CloudFormation's 500 resources (10 alarms per activity). See docs/deploy.md#cost.
 */
export const PER_DATASET_ALARM_LIMIT = 10;

/** The alarm mode of a deployment with this many statistics datasets (one per activity). */
export function alarmMode(statisticsDatasets: number): AlarmMode {
  if (!(Number.isSafeInteger(statisticsDatasets) && statisticsDatasets >= 0))
    throw new Error(
      `alarmMode statisticsDatasets: received ${statisticsDatasets}; expected a whole number of datasets, 0 or more`,
    );
  return statisticsDatasets <= PER_DATASET_ALARM_LIMIT ? 'perDataset' : 'perKind';
}

export interface DatasetMetricOptions {
  /** @default 'perDataset' - the 11 metrics per activity every deployment had */
  readonly mode?: AlarmMode;
  /**
   * `perKind` only: a window's rate counts in the alarm rates only over at least this many
   * delivery attempts (the config's `alarms.minDeliveryAttempts`).
   */
  readonly minDeliveryAttempts?: number;
}

/**
 * The numbers the alarms and the dashboard use for one collected activity.
 *
 * `perDataset` (the default): last-24-hour counts, the same counts summed over the whole fetched
 * SES window (the alarms divide them in metric math and ignore volumes below a minimum), window
 * rates, quota utilisation (never for an unlimited quota), and a success mark. Counts are emitted
 * even when 0, so a quiet day is a data point.
 *
 * `perKind`: only what the per-kind alarms and the top-N dashboard read: last-24-hour delivery
 * attempts, the two alarm rates (see {@link alarmRate}) and quota utilisation; 4 metrics instead
 * of 11. Staleness is counted over all datasets by {@link staleDatasets}, not marked per dataset.
 */
export function datasetMetrics(
  result: ActivityResult,
  options: DatasetMetricOptions = {},
): DatasetMetric[] {
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
  const metrics =
    options.mode === 'perKind'
      ? [
          metric(stats.name, METRICS.DELIVERY_ATTEMPTS, lastDay.DeliveryAttempts, 'Count'),
          ...(['Bounces', 'Complaints'] as const).map((events) =>
            metric(
              stats.name,
              events === 'Bounces' ? METRICS.ALARM_BOUNCE_RATE : METRICS.ALARM_COMPLAINT_RATE,
              alarmRate(events, [lastDay, window], minAttempts(options.minDeliveryAttempts)),
              'None',
            ),
          ),
        ]
      : perDatasetMetrics(stats.name, lastDay, window, metric);
  const used = usage === undefined ? null : utilisation(usage);
  if (used !== null)
    metrics.push(metric(result.usage.name, METRICS.QUOTA_UTILISATION, used, 'None'));
  return metrics;
}

function perDatasetMetrics(
  dataset: string,
  lastDay: Counts,
  window: Counts,
  metric: (d: string, n: string, v: number, u: DatasetMetric['unit']) => DatasetMetric,
): DatasetMetric[] {
  const metrics = [
    metric(dataset, METRICS.DELIVERY_ATTEMPTS, lastDay.DeliveryAttempts, 'Count'),
    metric(dataset, METRICS.BOUNCES, lastDay.Bounces, 'Count'),
    metric(dataset, METRICS.COMPLAINTS, lastDay.Complaints, 'Count'),
    metric(dataset, METRICS.REJECTS, lastDay.Rejects, 'Count'),
    metric(dataset, METRICS.WINDOW_DELIVERY_ATTEMPTS, window.DeliveryAttempts, 'Count'),
    metric(dataset, METRICS.WINDOW_BOUNCES, window.Bounces, 'Count'),
    metric(dataset, METRICS.WINDOW_COMPLAINTS, window.Complaints, 'Count'),
    metric(dataset, METRICS.COLLECTION_SUCCEEDED, 1, 'Count'),
  ];
  if (window.DeliveryAttempts > 0) {
    metrics.push(
      metric(dataset, METRICS.BOUNCE_RATE, window.Bounces / window.DeliveryAttempts, 'None'),
    );
    metrics.push(
      metric(dataset, METRICS.COMPLAINT_RATE, window.Complaints / window.DeliveryAttempts, 'None'),
    );
  }
  return metrics;
}

function minAttempts(value: number | undefined): number {
  if (value === undefined) return 1;
  if (!(Number.isSafeInteger(value) && value >= 1))
    throw new Error(
      `datasetMetrics minDeliveryAttempts: received ${value}; expected a whole number of delivery attempts, at least 1`,
    );
  return value;
}

/**
 * The rate a per-kind alarm watches: the higher of the last-24-hour and the whole-window rate of
 * these events, each counted only over at least `minAttempts` delivery attempts (else 0). One
 * metric thus carries what the per-dataset mode alarms on in two windows, so a spike is not
 * diluted and a slow rise is not missed, and 1 bounce in 10 attempts pages nobody.
 */
export function alarmRate(
  events: 'Bounces' | 'Complaints',
  windows: readonly Counts[],
  minAttempts: number,
): number {
  let highest = 0;
  for (const counts of windows)
    if (counts.DeliveryAttempts >= minAttempts && counts.DeliveryAttempts > 0)
      highest = Math.max(highest, counts[events] / counts.DeliveryAttempts);
  return highest;
}

/**
 * The configured statistics datasets that no successful fetch has covered for longer than
 * `staleAfterMs` before `nowMs`, never-collected ones included, in the order given. Each fetch
 * covers the SES window up to the server's answer time, so the end of a dataset's coverage is its
 * last success. The per-kind staleness alarm watches how many there are: a dataset that stops
 * being collected publishes nothing, so only a count over all of them can show it is missing.
 */
export function staleDatasets(
  metas: readonly Pick<DatasetMeta, 'name' | 'coverage'>[],
  statisticsDatasets: readonly string[],
  nowMs: number,
  staleAfterMs: number,
): string[] {
  if (!(Number.isFinite(staleAfterMs) && staleAfterMs > 0))
    throw new Error(
      `staleDatasets staleAfterMs: received ${staleAfterMs}; expected a positive number of milliseconds`,
    );
  const coveredTo = new Map(metas.map((m) => [m.name, m.coverage?.to] as const));
  return statisticsDatasets.filter((name) => {
    const to = coveredTo.get(name);
    return to === undefined || nowMs - Date.parse(to) > staleAfterMs;
  });
}
