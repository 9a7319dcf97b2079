import { mapLimited } from './concurrency.ts';
import {
  buildStatisticsRows,
  buildUsageRow,
  type StatisticsRow,
  type UsageRow,
} from './datasets.ts';
import { Pacer } from './pacer.ts';
import {
  type PreparedStore,
  prepareStore,
  type StoreReport,
  storeActivityResult,
} from './persist.ts';
import { type Clock, SourceCallError, type StatisticsSource } from './ports.ts';
import type { DatasetStore } from './store.ts';

/** What the activity needs to know about itself (a resolved config activity satisfies it). */
export interface ActivitySpec {
  readonly name: string;
  /** The session name, or `inline`. */
  readonly source: string;
  readonly usageDataset: string;
  readonly statisticsDataset: string;
}

export interface Dataset<Row> {
  readonly name: string;
  readonly rows: readonly Row[];
}

/** The email statistics activity's output: the usage and the statistics datasets. */
export interface ActivityResult {
  readonly activity: ActivitySpec;
  readonly usage: Dataset<UsageRow>;
  readonly statistics: Dataset<StatisticsRow>;
  /** What was written, when a store was given. */
  readonly stored?: StoreReport;
}

export interface ActivityFailure {
  readonly activity: ActivitySpec;
  /** One line: the activity, the call and the cause. */
  readonly message: string;
  readonly cause: unknown;
}

export interface ActivityRun {
  readonly activity: ActivitySpec;
  readonly source: StatisticsSource;
}

export interface CollectOutcome {
  readonly results: ActivityResult[];
  readonly failures: ActivityFailure[];
}

export interface CollectDeps {
  readonly clock: Clock;
  /** Shared across runs so activities on one account+region are paced together. */
  readonly pacer?: Pacer;
  /** Sources called at once. @default 4 */
  readonly concurrency?: number;
  /** Where results are stored; each activity's fetch is stored as soon as it arrives. */
  readonly store?: DatasetStore;
  /** Called after each activity ends, in completion order. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Runs one activity: GetSendQuota and GetSendStatistics, then the two datasets. */
export async function runActivity(
  run: ActivityRun,
  clock: Clock,
  pacer: Pacer,
): Promise<ActivityResult> {
  const { activity, source } = run;
  const quotaCall = pacer.acquire(`${source.paceKey}|GetSendQuota`).then(() => {
    const collectedAt = clock.now();
    return source.getSendQuota().then((quota) => buildUsageRow(quota, collectedAt));
  });
  const statisticsCall = pacer
    .acquire(`${source.paceKey}|GetSendStatistics`)
    .then(() => source.getSendStatistics());
  // Both calls settle before anything is reported, so a failure names every cause and no call is left running.
  const [quota, statistics] = await Promise.allSettled([quotaCall, statisticsCall]);
  if (quota.status === 'rejected' || statistics.status === 'rejected') {
    throw new CallsFailedError(
      [quota, statistics].flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
    );
  }
  const usage = quota.value;
  const points = statistics.value;
  return {
    activity,
    usage: { name: activity.usageDataset, rows: [usage] },
    statistics: { name: activity.statisticsDataset, rows: buildStatisticsRows(points) },
  };
}

/** Runs every activity with bounded concurrency; one failing source never stops the others. */
export async function collectAll(
  runs: readonly ActivityRun[],
  deps: CollectDeps,
): Promise<CollectOutcome> {
  const pacer = deps.pacer ?? new Pacer(deps.clock);
  let done = 0;
  const outcomes = await mapLimited(
    runs,
    deps.concurrency ?? 4,
    async (run): Promise<ActivityResult | ActivityFailure> => {
      try {
        // The store's reads run while SES answers; a failed read surfaces when storing.
        const prepared =
          deps.store === undefined
            ? undefined
            : prepareStore(deps.store, run.activity, deps.clock.now());
        prepared?.catch(() => undefined);
        const result = await runActivity(run, deps.clock, pacer);
        return deps.store === undefined
          ? result
          : { ...result, stored: await store(deps.store, result, prepared) };
      } catch (cause) {
        return { activity: run.activity, message: failureMessage(run.activity, cause), cause };
      } finally {
        deps.onProgress?.(++done, runs.length);
      }
    },
  );
  return {
    results: outcomes.filter((o): o is ActivityResult => 'usage' in o),
    failures: outcomes.filter((o): o is ActivityFailure => 'cause' in o),
  };
}

class CallsFailedError extends Error {
  constructor(readonly causes: readonly unknown[]) {
    super(causes.map(describeCause).join('; '), { cause: causes[0] });
    this.name = 'CallsFailedError';
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof SourceCallError) return `${cause.action} failed: ${cause.message}`;
  return `failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}

class StoringError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'StoringError';
  }
}

async function store(
  target: DatasetStore,
  result: ActivityResult,
  prepared: Promise<PreparedStore> | undefined,
): Promise<StoreReport> {
  const fetchedAt = new Date(result.usage.rows[0]?.CollectedAt ?? Number.NaN);
  try {
    return await storeActivityResult(target, result, fetchedAt, prepared);
  } catch (error) {
    throw new StoringError(error);
  }
}

function failureMessage(activity: ActivitySpec, cause: unknown): string {
  const where = `activity "${activity.name}" (session ${activity.source})`;
  if (cause instanceof CallsFailedError) return `${where}: ${cause.message}`;
  if (cause instanceof StoringError)
    return `${where}: fetched, but storing failed: ${cause.message}`;
  return `${where} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}
