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
 * rate and quota alarms and graphs, over 11 metrics per activity. `perKind`: a fixed set of
 * standard alarms on counts of datasets over each level ({@link RunTally}), published once per
 * invocation, and no per-dataset metric at all: the CloudWatch bill does not grow per source.
 */
export type AlarmMode = 'perDataset' | 'perKind';

/**
 * Up to this many statistics datasets a deployment keeps per-dataset alarms, for what only they
 * give (each window alarmed on its own, staleness named per dataset, one graph per dataset);
 * beyond, the stack would also approach CloudFormation's 500 resources (10 alarms per activity)
 * and per-dataset metrics cost $0.30 each a month. See docs/deploy.md#cost.
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

/**
 * The numbers the per-dataset alarms and graphs use for one collected activity: last-24-hour
 * counts, the same counts summed over the whole fetched SES window (the alarms divide them in
 * metric math and ignore volumes below a minimum), window rates, quota utilisation (never for an
 * unlimited quota), and a success mark. Counts are emitted even when 0, so a quiet day is a data
 * point. The per-kind mode publishes none of these (see {@link RunTally}).
 */
export function datasetMetrics(result: ActivityResult): DatasetMetric[] {
  const { lastDay, window } = windows(result);
  const metric = (name: string, value: number, unit: DatasetMetric['unit']): DatasetMetric => ({
    dataset: result.statistics.name,
    name,
    value,
    unit,
  });
  const metrics = [
    metric(METRICS.DELIVERY_ATTEMPTS, lastDay.DeliveryAttempts, 'Count'),
    metric(METRICS.BOUNCES, lastDay.Bounces, 'Count'),
    metric(METRICS.COMPLAINTS, lastDay.Complaints, 'Count'),
    metric(METRICS.REJECTS, lastDay.Rejects, 'Count'),
    metric(METRICS.WINDOW_DELIVERY_ATTEMPTS, window.DeliveryAttempts, 'Count'),
    metric(METRICS.WINDOW_BOUNCES, window.Bounces, 'Count'),
    metric(METRICS.WINDOW_COMPLAINTS, window.Complaints, 'Count'),
    metric(METRICS.COLLECTION_SUCCEEDED, 1, 'Count'),
  ];
  if (window.DeliveryAttempts > 0) {
    metrics.push(metric(METRICS.BOUNCE_RATE, window.Bounces / window.DeliveryAttempts, 'None'));
    metrics.push(
      metric(METRICS.COMPLAINT_RATE, window.Complaints / window.DeliveryAttempts, 'None'),
    );
  }
  const used = quotaUtilisation(result);
  if (used !== null)
    metrics.push({
      dataset: result.usage.name,
      name: METRICS.QUOTA_UTILISATION,
      value: used,
      unit: 'None',
    });
  return metrics;
}

/** The last 24 hours before the statistics fetch (by the server's clock) and the whole window. */
function windows(result: ActivityResult): { lastDay: Counts; window: Counts } {
  const rows = result.statistics.rows;
  const fetchedAt = result.fetchedAt.getTime();
  return {
    lastDay: sumCounts(rows.filter((r) => Date.parse(r.Timestamp) >= fetchedAt - DAY_MS)),
    window: sumCounts(rows),
  };
}

function quotaUtilisation(result: ActivityResult): number | null {
  const usage = result.usage.rows[0];
  return usage === undefined ? null : utilisation(usage);
}

/**
 * The levels a dataset is compared with in the per-kind mode: the config's `alarms` (the same
 * values the per-dataset alarms use). Rates and utilisation are fractions; a rate counts only
 * over at least `minDeliveryAttempts` delivery attempts.
 */
export interface AlarmLevels {
  readonly bounceRateWarning: number;
  readonly bounceRate: number;
  readonly complaintRateWarning: number;
  readonly complaintRate: number;
  readonly quotaUtilisation: number;
  readonly minDeliveryAttempts: number;
}

/**
 * What the per-kind mode knows of one collected activity, written on its `collected` log line so
 * the dashboard's Logs Insights widgets can name and rank datasets without a metric per dataset.
 */
export interface DatasetAlarmNumbers {
  /** Last-24-hour delivery attempts. */
  readonly deliveryAttempts: number;
  /** {@link alarmRate} of bounces and of complaints: what the levels are compared with. */
  readonly alarmBounceRate: number;
  readonly alarmComplaintRate: number;
  /** SentLast24Hours / Max24HourSend; absent for an unlimited quota. */
  readonly quotaUtilisation?: number;
}

/** The numbers {@link RunTally} compares with the levels, for one collected activity. */
export function datasetAlarmNumbers(
  result: ActivityResult,
  minDeliveryAttempts: number,
): DatasetAlarmNumbers {
  const { lastDay, window } = windows(result);
  const used = quotaUtilisation(result);
  return {
    deliveryAttempts: lastDay.DeliveryAttempts,
    alarmBounceRate: alarmRate('Bounces', [lastDay, window], minDeliveryAttempts),
    alarmComplaintRate: alarmRate('Complaints', [lastDay, window], minDeliveryAttempts),
    ...(used === null ? {} : { quotaUtilisation: used }),
  };
}

/** One count the per-kind mode publishes per invocation (dimension `service` only). */
export interface RunMetric {
  readonly name: string;
  readonly value: number;
}

/** The datasets over one level in one invocation: at most {@link BREACH_NAMES_LIMIT} names. */
export interface Breach {
  /** The level's count metric (`DatasetsOverBounceWarning`, …), as its alarm names it. */
  readonly metric: string;
  /** The level's value (a fraction). */
  readonly threshold: number;
  /** How many datasets were over it; may exceed `datasets.length`. */
  readonly count: number;
  readonly datasets: readonly string[];
}

/** A log line names at most this many datasets per level; the count says how many there were. */
export const BREACH_NAMES_LIMIT = 100;

/** The log message of the per-kind mode's one line per level with datasets over it. */
export const BREACH_LOG_MESSAGE = 'datasets over an alarm level';
/** The log message of each collected activity, with its {@link DatasetAlarmNumbers}. */
export const COLLECTED_LOG_MESSAGE = 'collected';
/** The log message of the scheduled run's line naming the {@link staleDatasets} (per kind). */
export const STALE_LOG_MESSAGE = 'datasets not covered for two schedule periods';

/** Each counted level: its metric, which number of a dataset it compares, and with which level. */
const LEVEL_RULES = [
  [METRICS.DATASETS_OVER_BOUNCE_WARNING, 'alarmBounceRate', 'bounceRateWarning'],
  [METRICS.DATASETS_OVER_BOUNCE_REVIEW, 'alarmBounceRate', 'bounceRate'],
  [METRICS.DATASETS_OVER_COMPLAINT_WARNING, 'alarmComplaintRate', 'complaintRateWarning'],
  [METRICS.DATASETS_OVER_COMPLAINT_REVIEW, 'alarmComplaintRate', 'complaintRate'],
  [METRICS.DATASETS_OVER_QUOTA, 'quotaUtilisation', 'quotaUtilisation'],
] as const satisfies readonly (readonly [
  string,
  keyof DatasetAlarmNumbers,
  keyof Omit<AlarmLevels, 'minDeliveryAttempts'>,
])[];

/**
 * The per-kind mode's counts over the activities one invocation collected: how many datasets are
 * at or over each level (rates by {@link alarmRate}, a limited quota's utilisation), and how many
 * sources were collected, failed and skipped. One EMF document of 8 counts per invocation replaces
 * every per-dataset metric, so the alarms on them are a fixed number whatever the sources; the
 * names of the datasets over a level go to the log ({@link breaches}).
 */
export class RunTally {
  private readonly over = new Map<string, { count: number; datasets: string[] }>(
    LEVEL_RULES.map(([metric]) => [metric, { count: 0, datasets: [] }]),
  );
  private collected = 0;
  private failed = 0;
  private skipped = 0;

  constructor(private readonly levels: AlarmLevels) {
    for (const [, , level] of LEVEL_RULES) {
      const value = levels[level];
      if (!(Number.isFinite(value) && value > 0 && value <= 1))
        throw new Error(
          `RunTally ${level}: received ${value}; expected a fraction above 0 and at most 1`,
        );
    }
    const min = levels.minDeliveryAttempts;
    if (!(Number.isSafeInteger(min) && min >= 1))
      throw new Error(
        `RunTally minDeliveryAttempts: received ${min}; expected a whole number of delivery attempts, at least 1`,
      );
  }

  /** Counts one collected activity and returns its numbers (for its `collected` log line). */
  add(result: ActivityResult): DatasetAlarmNumbers {
    const numbers = datasetAlarmNumbers(result, this.levels.minDeliveryAttempts);
    this.collected += 1;
    for (const [metric, field, level] of LEVEL_RULES) {
      const value = numbers[field];
      if (value === undefined || value < this.levels[level]) continue;
      const over = this.over.get(metric);
      if (over === undefined) continue;
      over.count += 1;
      const dataset = field === 'quotaUtilisation' ? result.usage.name : result.statistics.name;
      if (over.datasets.length < BREACH_NAMES_LIMIT) over.datasets.push(dataset);
    }
    return numbers;
  }

  /**
   * Counts failed sources; `afterAdd` of them were counted by `add` first (their usage and
   * statistics were collected, then an account call failed): they move from collected to failed,
   * so each source is counted once.
   */
  addFailed(sources: number, afterAdd = 0): void {
    const failed = count('addFailed', sources);
    const moved = count('addFailed', afterAdd);
    if (moved > failed || moved > this.collected)
      throw new Error(
        `RunTally addFailed: received ${moved} sources counted by add, of ${sources} failed and ${this.collected} collected; expected at most both`,
      );
    this.failed += failed;
    this.collected -= moved;
  }

  addSkipped(sources: number): void {
    this.skipped += count('addSkipped', sources);
  }

  /** The 8 counts, 0 included: a quiet invocation is a data point too. */
  metrics(): RunMetric[] {
    return [
      ...LEVEL_RULES.map(([name]) => ({ name, value: this.over.get(name)?.count ?? 0 })),
      { name: METRICS.SOURCES_COLLECTED, value: this.collected },
      { name: METRICS.SOURCES_FAILED, value: this.failed },
      { name: METRICS.SOURCES_SKIPPED, value: this.skipped },
    ];
  }

  /** The levels with datasets over them, in the order of the metrics. */
  breaches(): Breach[] {
    return LEVEL_RULES.flatMap(([metric, , setting]) => {
      const over = this.over.get(metric);
      if (over === undefined || over.count === 0) return [];
      return [
        {
          metric,
          threshold: this.levels[setting],
          count: over.count,
          datasets: [...over.datasets],
        },
      ];
    });
  }
}

function count(method: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0))
    throw new Error(
      `RunTally ${method}: received ${value}; expected a whole number of sources, 0 or more`,
    );
  return value;
}

/**
 * The rate the per-kind levels are compared with: the higher of the last-24-hour and the whole-window rate of
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
