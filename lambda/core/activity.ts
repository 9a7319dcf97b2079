import { runKeyed } from './concurrency.ts';
import type { AccountState, ReputationPoint } from './datasets.ts';
import {
  buildAccountRow,
  buildReputationRows,
  buildStatisticsRows,
  buildUsageRow,
} from './datasets.ts';
import {
  ClockSkewError,
  type SesAction,
  SourceCallsError,
  SourceError,
  StoreError,
} from './errors.ts';
import { Pacer } from './pacer.ts';
import { type PreparedStore, prepareStore, storeActivityResult } from './persist.ts';
import { storeAccountResult } from './persist-account.ts';
import type { Answered, Clock, StatisticsSource } from './ports.ts';
import type { AccountDataset, ActivityResult, ActivitySpec, StoreReport } from './results.ts';
import type { DatasetStore } from './store.ts';
import { floorTo, HOUR_MS, MINUTE_MS, SES_WINDOW_MS } from './time.ts';

export interface ActivityFailure {
  readonly activity: ActivitySpec;
  /** One line: the activity, the call and the cause. */
  readonly message: string;
  /**
   * What failed, told apart by class: a `SourceError` (a `SourceCallsError` when both SES calls
   * failed), a `ClockSkewError` (fetched, not stored) or a `StoreError` (fetched, storing failed).
   * Anything else was thrown by `onResult`.
   */
  readonly cause: unknown;
}

export interface ActivityRun {
  readonly activity: ActivitySpec;
  /**
   * Its `release`, when it has one, is called once no activity of this run still needs the
   * source (runs sharing a source end), so a client is held only while its activities run.
   */
  readonly source: StatisticsSource & { release?(): void };
  /**
   * The longest this source can take (`worstCaseSourceMs`): with a deadline it starts only when
   * this much time is left.
   */
  readonly worstCaseMs?: number;
}

export interface CollectOutcome {
  /** Activities fetched (and stored) whose `onResult` completed. */
  readonly collected: number;
  readonly failures: ActivityFailure[];
  /** Not started: the time left could not fit them. The next run should start with them. */
  readonly skipped: ActivitySpec[];
}

export interface CollectDeps {
  readonly clock: Clock;
  /** Shared across runs so activities on one account+region are paced together. */
  readonly pacer?: Pacer;
  /**
   * Sources called at once: the composition roots pass `Config.concurrency` (its default is
   * `DEFAULT_CONCURRENCY` in lambda/config/defaults.ts, which core cannot import). @default 1
   */
  readonly concurrency?: number;
  /** Where results are stored; each activity's fetch is stored as soon as it arrives. */
  readonly store?: DatasetStore;
  /** Raw points expire this many days after their Timestamp (recorded per dataset). */
  readonly rawRetentionDays?: number;
  /** Time left for the run (a Lambda's remaining time); without it every source starts. */
  readonly remainingMs?: () => number;
  /**
   * Called as soon as an activity is collected (and stored), before the others end: the only way
   * results leave `collectAll`, which keeps none. A returned promise is awaited before the
   * activity's slot is freed (a writer's backpressure); a throw or rejection is the activity's
   * failure.
   */
  readonly onResult?: (result: ActivityResult) => void | Promise<void>;
  /** Called after each activity ends, in completion order. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Host and server may differ this much before storing is refused (SigV4 allows 5 minutes too). */
export const MAX_CLOCK_SKEW_MS = 5 * MINUTE_MS;

/**
 * What one activity fetched: its datasets, and the error of its account calls when only those
 * failed (the usage and statistics datasets are still stored, the activity still fails).
 */
export interface Fetched {
  readonly result: ActivityResult;
  readonly accountError?: SourceError;
}

/**
 * Runs one activity: GetSendQuota and GetSendStatistics, then the two datasets; with an account
 * dataset, SES API v2 GetAccount and CloudWatch GetMetricData at the same time, each paced as its
 * own action. Every call settles before anything is reported, so a failure names every cause and
 * no call is left running.
 */
export async function runActivity(run: ActivityRun, clock: Clock, pacer: Pacer): Promise<Fetched> {
  const { activity, source } = run;
  const timed = async <T>(call: () => Promise<Answered<T>>) => {
    const answer = await call();
    return { ...answer, hostTime: clock.now() };
  };
  const paced = <T>(action: SesAction, call: () => Promise<Answered<T>>) =>
    pacer.run(paceKey(source.paceKey, action), () => timed(call));
  const quotaCall = paced('GetSendQuota', () => source.getSendQuota());
  const statisticsCall = paced('GetSendStatistics', () => source.getSendStatistics());
  const account =
    activity.accountDataset === undefined ? undefined : accountCalls(run, clock, paced);
  const [quota, statistics, accountState, reputation] = await Promise.allSettled([
    quotaCall,
    statisticsCall,
    ...(account ?? []),
  ]);
  const accountErrors = [
    ...(accountState?.status === 'rejected'
      ? [asSourceError('GetAccount', accountState.reason)]
      : []),
    ...(reputation?.status === 'rejected'
      ? [asSourceError('GetMetricData', reputation.reason)]
      : []),
  ];
  const errors = [
    ...(quota.status === 'rejected' ? [asSourceError('GetSendQuota', quota.reason)] : []),
    ...(statistics.status === 'rejected'
      ? [asSourceError('GetSendStatistics', statistics.reason)]
      : []),
  ];
  if (errors.length > 0) throw oneError([...errors, ...accountErrors]);
  if (quota.status === 'rejected' || statistics.status === 'rejected') throw errors[0];
  const q = quota.value;
  const s = statistics.value;
  const result: ActivityResult = {
    activity,
    usage: {
      name: activity.usageDataset,
      rows: [buildUsageRow(q.value, q.serverTime ?? q.hostTime)],
    },
    statistics: { name: activity.statisticsDataset, rows: buildStatisticsRows(s.value) },
    fetchedAt: s.serverTime ?? s.hostTime,
    clockSkewMs: s.serverTime === undefined ? 0 : s.hostTime.getTime() - s.serverTime.getTime(),
    ...(activity.accountDataset === undefined
      ? {}
      : {
          account: accountDataset(
            activity.accountDataset,
            accountState?.status === 'fulfilled' ? accountState.value : undefined,
            reputation?.status === 'fulfilled' ? reputation.value : undefined,
          ),
        }),
  };
  return accountErrors.length === 0
    ? { result }
    : { result, accountError: oneError(accountErrors) };
}

type Timed<T> = Answered<T> & { readonly hostTime: Date };

/** GetAccount and the reputation hours of the SES window (whole hours, up to the current one). */
function accountCalls(
  run: ActivityRun,
  clock: Clock,
  paced: <T>(action: SesAction, call: () => Promise<Answered<T>>) => Promise<Timed<T>>,
): [Promise<Timed<AccountState>>, Promise<Timed<ReputationPoint[]>>] {
  const { source } = run;
  const to = new Date(floorTo(clock.now().getTime(), HOUR_MS) + HOUR_MS);
  const from = new Date(to.getTime() - SES_WINDOW_MS);
  const missing = (call: string) =>
    Promise.reject(
      new Error(`this source cannot call ${call}; the account dataset needs a source that can`),
    );
  return [
    paced('GetAccount', () => source.getAccount?.() ?? missing('GetAccount')),
    paced('GetMetricData', () => source.getReputation?.(from, to) ?? missing('GetMetricData')),
  ];
}

/** The account dataset of what its calls answered; a failed call leaves its part empty. */
function accountDataset(
  name: string,
  state: Timed<AccountState> | undefined,
  reputation: Timed<ReputationPoint[]> | undefined,
): AccountDataset {
  return {
    name,
    rows:
      state === undefined ? [] : [buildAccountRow(state.value, state.serverTime ?? state.hostTime)],
    reputation: reputation === undefined ? [] : buildReputationRows(reputation.value),
    ...(reputation === undefined
      ? {}
      : { reputationFetchedAt: reputation.serverTime ?? reputation.hostTime }),
  };
}

function oneError(errors: readonly SourceError[]): SourceError {
  const [first, ...rest] = errors;
  if (first === undefined) throw new Error('oneError: no error');
  return rest.length === 0 ? first : new SourceCallsError([first, ...rest]);
}

/**
 * Runs every activity, `concurrency` at once; one failing source never stops the others. Sources
 * on different pace keys (identity and region) run side by side; activities sharing a key run one
 * after another, each started only once its pace turn is due, so a pace wait never holds a slot
 * another key could use. Each result goes to `onResult` and is then dropped; each source is
 * released once its last activity ends. With `remainingMs`, a source starts only while the time
 * left fits its worst case; the rest are reported as skipped.
 */
export async function collectAll(
  runs: readonly ActivityRun[],
  deps: CollectDeps,
): Promise<CollectOutcome> {
  const pacer = deps.pacer ?? new Pacer(deps.clock);
  // Indexed by run, so failures and skips are reported in input order whatever ends first.
  const failures: ActivityFailure[] = [];
  const skipped: ActivitySpec[] = [];
  const pending = new Map<ActivityRun['source'], number>();
  for (const run of runs) pending.set(run.source, (pending.get(run.source) ?? 0) + 1);
  let done = 0;
  let collected = 0;
  const runOne = async (run: ActivityRun, index: number): Promise<void> => {
    try {
      if (
        deps.remainingMs !== undefined &&
        run.worstCaseMs !== undefined &&
        deps.remainingMs() < run.worstCaseMs
      ) {
        skipped[index] = run.activity;
        return;
      }
      await collectOne(run, deps, pacer);
      collected++;
    } catch (cause) {
      failures[index] = {
        activity: run.activity,
        message: failureMessage(run.activity, cause),
        cause,
      };
    } finally {
      const left = (pending.get(run.source) ?? 1) - 1;
      pending.set(run.source, left);
      if (left === 0) run.source.release?.();
      deps.onProgress?.(++done, runs.length);
    }
  };
  await runKeyed(
    runs,
    {
      limit: deps.concurrency ?? 1,
      keyOf: (run) => run.source.paceKey,
      readyAt: (key) =>
        Math.max(...SES_ACTIONS.map((action) => pacer.readyAt(paceKey(key, action)))),
      clock: deps.clock,
    },
    runOne,
  );
  return {
    collected,
    failures: failures.filter((f) => f !== undefined),
    skipped: skipped.filter((a) => a !== undefined),
  };
}

/** Fetches one activity, stores it when there is a store, and hands it to `onResult`. */
async function collectOne(run: ActivityRun, deps: CollectDeps, pacer: Pacer): Promise<void> {
  // The store's reads run while SES answers; a failed read surfaces when storing.
  const prepared =
    deps.store === undefined ? undefined : prepareStore(deps.store, run.activity, deps.clock.now());
  const { result: fetched, accountError } = await runActivity(run, deps.clock, pacer);
  const result =
    deps.store === undefined ? fetched : await store(deps.store, fetched, deps, prepared);
  await deps.onResult?.(result);
  if (accountError !== undefined) throw accountError;
}

/**
 * Orders runs so the statistics datasets covered least recently (never collected first) run
 * first: sources skipped by a run that ran out of time lead the next one, so none starves.
 * Runs that all start at once (no more than `concurrency`) keep their order without a read.
 */
export async function stalestFirst<R extends ActivityRun>(
  runs: readonly R[],
  store: Pick<DatasetStore, 'listMeta'>,
  concurrency = 1,
): Promise<R[]> {
  if (runs.length <= concurrency) return [...runs];
  const coveredTo = new Map(
    (await store.listMeta()).map((m) => [m.name, m.coverage?.to ?? ''] as const),
  );
  const key = (r: R) => coveredTo.get(r.activity.statisticsDataset) ?? '';
  return runs
    .map((run, i) => ({ run, i }))
    .sort((a, b) => (key(a.run) < key(b.run) ? -1 : key(a.run) > key(b.run) ? 1 : a.i - b.i))
    .map(({ run }) => run);
}

/** The account dataset's calls: only they failing still stores the other two datasets. */
const ACCOUNT_ACTIONS: ReadonlySet<SesAction> = new Set(['GetAccount', 'GetMetricData']);

const SES_ACTIONS: readonly SesAction[] = [
  'GetSendQuota',
  'GetSendStatistics',
  'GetAccount',
  'GetMetricData',
];

/** Each action is paced on its own: SES's limit is per action. */
function paceKey(sourceKey: string, action: SesAction): string {
  return `${sourceKey}|${action}`;
}

/** A rejected call as a SourceError: a source that throws anything else still names the call. */
function asSourceError(action: SesAction, reason: unknown): SourceError {
  if (reason instanceof SourceError) return reason;
  return new SourceError(action, reason instanceof Error ? reason.message : String(reason), {
    cause: reason,
  });
}

/** A store failure as a StoreError: the store's own, or any other error wrapped with its cause. */
function asStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * Stores a fetch: the usage and statistics datasets, then the account dataset (if fetched), and
 * returns the result with what was written.
 */
async function store(
  target: DatasetStore,
  result: ActivityResult,
  deps: CollectDeps,
  prepared: PreparedStore | undefined,
): Promise<ActivityResult> {
  if (Math.abs(result.clockSkewMs) > MAX_CLOCK_SKEW_MS) {
    const server = new Date(result.fetchedAt);
    throw new ClockSkewError(
      result.clockSkewMs,
      new Date(server.getTime() + result.clockSkewMs),
      server,
      MAX_CLOCK_SKEW_MS,
    );
  }
  try {
    const stored: StoreReport = await storeActivityResult(target, result, {
      fetchedAt: result.fetchedAt,
      serverNow: result.fetchedAt,
      rawRetentionDays: deps.rawRetentionDays,
      prepared,
    });
    if (result.account === undefined) return { ...result, stored };
    const accountStored = await storeAccountResult(
      target,
      result.activity,
      result.account,
      result.fetchedAt,
    );
    return { ...result, stored, accountStored };
  } catch (error) {
    throw asStoreError(error);
  }
}

function failureMessage(activity: ActivitySpec, cause: unknown): string {
  const where = `activity "${activity.name}" (session ${activity.source})`;
  if (cause instanceof SourceError && ACCOUNT_ACTIONS.has(cause.action)) {
    const calls = cause instanceof SourceCallsError ? cause.errors : [cause];
    if (calls.every((e) => ACCOUNT_ACTIONS.has(e.action)))
      return `${where}: ${calls.map((e) => `${e.action} failed`).join(' and ')} (the usage and statistics datasets were still collected): ${calls.map((e) => e.message).join('; ')}`;
  }
  if (cause instanceof SourceCallsError) return `${where}: ${cause.message}`;
  if (cause instanceof SourceError) return `${where}: ${cause.action} failed: ${cause.message}`;
  if (cause instanceof ClockSkewError) return `${where}: fetched, but not stored: ${cause.message}`;
  if (cause instanceof StoreError) return `${where}: fetched, but storing failed: ${cause.message}`;
  return `${where} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}
