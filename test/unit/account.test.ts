import { describe, expect, it } from 'vitest';
import { METRICS } from '../../lambda/constants.ts';
import { AccountTally } from '../../lambda/core/account-health.ts';
import { collectAll } from '../../lambda/core/activity.ts';
import { type AccountState, buildAccountRow } from '../../lambda/core/datasets.ts';
import { SourceError } from '../../lambda/core/errors.ts';
import { Pacer } from '../../lambda/core/pacer.ts';
import { storeAccountResult } from '../../lambda/core/persist-account.ts';
import type { ActivityResult, ActivitySpec } from '../../lambda/core/results.ts';
import { ALL_TIME, HOUR_MS, MINUTE_MS } from '../../lambda/core/time.ts';
import { FakeClock, FakeSource, point } from '../support/fakes.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';

const activity: ActivitySpec = {
  name: 'main',
  source: 'SESSession1',
  usageDataset: 'usageData',
  statisticsDataset: 'statsData',
  accountDataset: 'accountData',
};

const HEALTHY: AccountState = {
  enforcementStatus: 'HEALTHY',
  sendingEnabled: true,
  productionAccessEnabled: true,
  max24HourSend: 50000,
  maxSendRate: 14,
};
const PROBATION: AccountState = {
  ...HEALTHY,
  enforcementStatus: 'PROBATION',
  reviewStatus: 'PENDING',
  reviewCaseId: 'case-1',
};

const LEVELS = {
  reputationBounceWarning: 0.05,
  reputationBounceReview: 0.1,
  reputationComplaintWarning: 0.001,
  reputationComplaintReview: 0.005,
};

/** An account fetch of `state`, seen at `iso`. */
const at = (iso: string, state: AccountState) => ({
  name: 'accountData',
  rows: [buildAccountRow(state, new Date(iso))],
  reputation: [],
});

/** A store, a clock and a source that runs share, one hour apart by default. */
function world() {
  const clock = new FakeClock(Date.parse('2026-11-28T12:00:00Z'));
  const store = new MemoryDatasetStore();
  const source = new FakeSource(clock, 'default@us-east-1', undefined, [
    point('2026-11-28T10:00:00Z', 100, 1),
  ]);
  const pacer = new Pacer(clock);
  const results: ActivityResult[] = [];
  const run = async () => {
    const outcome = await collectAll([{ activity, source }], {
      clock,
      pacer,
      store,
      onResult: (r) => {
        results.push(r);
      },
    });
    const at = clock.now().toISOString();
    clock.advance(HOUR_MS);
    return { ...outcome, at };
  };
  const states = () => store.readAccountStates('accountData', ALL_TIME);
  return { clock, store, source, run, results, states };
}

describe('the account dataset', () => {
  it('keeps HEALTHY → PROBATION → HEALTHY as exactly two changes, each state with its first and last sighting', async () => {
    const w = world();
    const seen: string[] = [];
    for (const state of [HEALTHY, HEALTHY, PROBATION, PROBATION, PROBATION, HEALTHY, HEALTHY]) {
      w.source.account = state;
      const { failures, at } = await w.run();
      expect(failures).toEqual([]);
      seen.push(at);
    }
    const rows = await w.states();
    expect(rows.map((r) => [r.EnforcementStatus, r.FirstSeen, r.LastSeen])).toEqual([
      ['HEALTHY', seen[0], seen[1]],
      ['PROBATION', seen[2], seen[4]],
      ['HEALTHY', seen[5], seen[6]],
    ]);
    expect(rows[1]).toMatchObject({ ReviewStatus: 'PENDING', ReviewCaseId: 'case-1' });
    expect(rows[0]).toMatchObject({ ReviewStatus: null, ReviewCaseId: null });
    const changes = rows
      .slice(1)
      .filter((r, i) => r.EnforcementStatus !== rows[i]?.EnforcementStatus);
    expect(changes).toHaveLength(2);
    const meta = await w.store.getMeta('accountData');
    expect(meta).toMatchObject({
      kind: 'account',
      count: 3,
      firstTime: seen[0],
      lastTime: seen[6],
      lastChange: seen[5],
      coverage: { from: seen[0], to: seen[6] },
      gaps: [],
    });
    expect(w.results.map((r) => r.accountStored?.changed)).toEqual([
      true,
      false,
      true,
      false,
      false,
      true,
      false,
    ]);
    expect(w.results[2]?.accountStored?.previous?.EnforcementStatus).toBe('HEALTHY');
  });

  it('reports a sandbox account (no production access) and counts a quota change as a change', async () => {
    const w = world();
    w.source.account = {
      ...HEALTHY,
      productionAccessEnabled: false,
      max24HourSend: 200,
      maxSendRate: 1,
    };
    await w.run();
    w.source.account = HEALTHY;
    await w.run();
    const rows = await w.states();
    expect(rows.map((r) => [r.ProductionAccessEnabled, r.Max24HourSend])).toEqual([
      [false, 200],
      [true, 50000],
    ]);
  });

  it('stores each reputation hour once; a revised value wins; an hour CloudWatch left out keeps its rate', async () => {
    const w = world();
    const hour = (h: number) => new Date(Date.parse('2026-11-28T08:00:00Z') + h * HOUR_MS);
    w.source.reputation = [
      { timestamp: hour(0), bounceRate: 0.01, complaintRate: 0.0001 },
      { timestamp: hour(1), bounceRate: 0.02 },
      { timestamp: hour(2), complaintRate: 0.0002 },
    ];
    await w.run();
    expect(w.results[0]?.accountStored).toMatchObject({
      reputationWritten: 3,
      reputationSkipped: 0,
    });
    await w.run();
    expect(w.results[1]?.accountStored).toMatchObject({ reputationWritten: 0 });
    w.source.reputation = [
      { timestamp: hour(0), bounceRate: 0.01, complaintRate: 0.0001 },
      { timestamp: hour(1), bounceRate: 0.03, complaintRate: 0.0004 },
      { timestamp: hour(3), bounceRate: 0.02, complaintRate: 0.0001 },
    ];
    await w.run();
    expect(w.results[2]?.accountStored).toMatchObject({ reputationWritten: 2 });
    const stored = await w.store.readReputation('accountData', ALL_TIME);
    expect(stored.map((r) => [r.Timestamp, r.BounceRate, r.ComplaintRate])).toEqual([
      ['2026-11-28T08:00:00Z', 0.01, 0.0001],
      ['2026-11-28T09:00:00Z', 0.03, 0.0004],
      ['2026-11-28T10:00:00Z', null, 0.0002],
      ['2026-11-28T11:00:00Z', 0.02, 0.0001],
    ]);
    // Reputation hours are not state rows.
    expect((await w.store.getMeta('accountData'))?.count).toBe(1);
  });

  it('asks CloudWatch for the whole hours of the SES window up to the current hour', async () => {
    const w = world();
    w.clock.advance(17 * MINUTE_MS);
    await w.run();
    expect(w.source.reputationRanges).toEqual([
      { from: new Date('2026-11-14T13:00:00Z'), to: new Date('2026-11-28T13:00:00Z') },
    ]);
  });

  it('never lets an older fetch rewrite a newer one: a late state adds no row and no sighting', async () => {
    const w = world();
    await w.run();
    w.source.account = PROBATION;
    await w.run();
    const late = new Date(Date.parse('2026-11-28T12:30:00Z'));
    w.source.serverTime = () => late;
    w.source.account = HEALTHY;
    await w.run();
    const rows = await w.states();
    expect(rows.map((r) => [r.EnforcementStatus, r.FirstSeen, r.LastSeen])).toEqual([
      ['HEALTHY', '2026-11-28T12:00:00.000Z', '2026-11-28T12:00:00.000Z'],
      ['PROBATION', '2026-11-28T13:00:00.000Z', '2026-11-28T13:00:00.000Z'],
    ]);
  });

  it('after a run stopped between the state row and its metadata, the next run counts that row once', async () => {
    const w = world();
    await w.run();
    // What a crashed run leaves: its new state written, the metadata not.
    const crashedAt = w.clock.now().toISOString();
    await w.store.putAccountState('accountData', {
      FirstSeen: crashedAt,
      LastSeen: crashedAt,
      EnforcementStatus: 'PROBATION',
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      ReviewStatus: null,
      ReviewCaseId: null,
      Max24HourSend: 50000,
      MaxSendRate: 14,
    });
    w.clock.advance(HOUR_MS);
    w.source.account = { ...PROBATION, reviewStatus: undefined, reviewCaseId: undefined };
    const { at } = await w.run();
    const rows = await w.states();
    expect(rows.map((r) => [r.EnforcementStatus, r.LastSeen])).toEqual([
      ['HEALTHY', '2026-11-28T12:00:00.000Z'],
      ['PROBATION', at],
    ]);
    expect(await w.store.getMeta('accountData')).toMatchObject({ count: 2, lastChange: crashedAt });
  });

  it('of two runs storing one change at once, one writes it and the other moves its LastSeen; the count is exact', async () => {
    for (const order of [0, 1]) {
      const store = new MemoryDatasetStore();
      await storeAccountResult(store, activity, at('2026-11-28T10:00:00Z', HEALTHY), new Date());
      const early = at('2026-11-28T11:00:00Z', PROBATION);
      const late = at('2026-11-28T11:00:01Z', PROBATION);
      const [a, b] = order === 0 ? [early, late] : [late, early];
      await Promise.all([
        storeAccountResult(store, activity, a, new Date()),
        storeAccountResult(store, activity, b, new Date()),
      ]);
      const rows = await store.readAccountStates('accountData', ALL_TIME);
      expect(rows.map((r) => r.EnforcementStatus)).toEqual(['HEALTHY', 'PROBATION']);
      expect((await store.getMeta('accountData'))?.count).toBe(2);
    }
  });

  it('of two runs storing two different changes at once, the count equals the rows stored', async () => {
    for (const order of [0, 1]) {
      const store = new MemoryDatasetStore();
      await storeAccountResult(store, activity, at('2026-11-28T10:00:00Z', HEALTHY), new Date());
      const runs = [
        at('2026-11-28T11:00:00Z', PROBATION),
        at('2026-11-28T11:00:01Z', { ...HEALTHY, sendingEnabled: false }),
      ];
      if (order === 1) runs.reverse();
      await Promise.all(runs.map((r) => storeAccountResult(store, activity, r, new Date())));
      const rows = await store.readAccountStates('accountData', ALL_TIME);
      const meta = await store.getMeta('accountData');
      expect(meta?.count).toBe(rows.length);
      expect(meta?.lastChange).toBe(rows.at(-1)?.FirstSeen);
      // The newer fetch's state is the latest whatever landed first.
      expect(rows.at(-1)?.SendingEnabled).toBe(false);
    }
  });

  it('when GetAccount is denied, fails the source naming the action and still stores the usage, statistics and reputation', async () => {
    const w = world();
    w.source.reputation = [{ timestamp: new Date('2026-11-28T10:00:00Z'), bounceRate: 0.02 }];
    w.source.failWith = {
      GetAccount: 'access denied: IAM must allow these credentials ses:GetAccount',
    };
    const { failures, collected } = await w.run();
    expect(collected).toBe(0);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.cause).toBeInstanceOf(SourceError);
    expect(failures[0]?.message).toBe(
      'activity "main" (session SESSession1): GetAccount failed (the usage and statistics datasets were still collected): access denied: IAM must allow these credentials ses:GetAccount',
    );
    expect((await w.store.getMeta('statsData'))?.count).toBe(1);
    expect((await w.store.getMeta('usageData'))?.count).toBe(1);
    expect(await w.states()).toEqual([]);
    expect(await w.store.readReputation('accountData', ALL_TIME)).toHaveLength(1);
    // The datasets fetched still reach the caller (the CLI prints them).
    expect(w.results).toHaveLength(1);
  });

  it('keeps counting the last known state when GetAccount fails, so an alarm does not clear', async () => {
    const w = world();
    w.source.account = PROBATION;
    await w.run();
    w.source.failWith = { GetAccount: 'throttled' };
    const { failures } = await w.run();
    expect(failures).toHaveLength(1);
    const tally = new AccountTally(LEVELS);
    expect(tally.add(w.results[1] as ActivityResult)).toMatchObject({
      enforcementStatus: 'PROBATION',
      lastChange: '2026-11-28T12:00:00.000Z',
    });
    expect(tally.metrics().find((m) => m.name === METRICS.ACCOUNTS_NOT_HEALTHY)?.value).toBe(1);
  });

  it('says the other datasets were collected when both account calls fail', async () => {
    const w = world();
    w.source.failWith = { GetAccount: 'denied', GetMetricData: 'throttled' };
    const { failures } = await w.run();
    expect(failures[0]?.message).toBe(
      'activity "main" (session SESSession1): GetAccount failed and GetMetricData failed (the usage and statistics datasets were still collected): denied; throttled',
    );
    expect((await w.store.getMeta('statsData'))?.count).toBe(1);
  });

  it('names every failed call when SES and the account calls fail together', async () => {
    const w = world();
    w.source.failWith = { GetSendQuota: 'throttled', GetMetricData: 'denied' };
    const { failures } = await w.run();
    expect(failures[0]?.message).toBe(
      'activity "main" (session SESSession1): GetSendQuota failed: throttled; GetMetricData failed: denied',
    );
    expect(await w.store.getMeta('usageData')).toBeUndefined();
  });

  it('refuses a dataset name that holds another kind, naming it', async () => {
    const w = world();
    const clash = { ...activity, accountDataset: 'statsData' };
    const outcome = await collectAll([{ activity: clash, source: w.source }], {
      clock: w.clock,
      store: w.store,
    });
    expect(outcome.failures[0]?.message).toContain(
      'dataset "statsData" holds statistics data (from activity "main"); it cannot also store account data',
    );
  });

  it('calls nothing more for an activity without an account dataset', async () => {
    const w = world();
    const { accountDataset: _, ...plain } = activity;
    await collectAll([{ activity: plain, source: w.source }], { clock: w.clock, store: w.store });
    expect(w.source.calls.map((c) => c.action).sort()).toEqual([
      'GetSendQuota',
      'GetSendStatistics',
    ]);
    expect(await w.store.getMeta('accountData')).toBeUndefined();
  });
});

describe('AccountTally', () => {
  const result = (
    name: string,
    state: Partial<AccountState>,
    rates: { bounce?: number; complaint?: number },
  ): ActivityResult => ({
    activity: { ...activity, accountDataset: name },
    usage: { name: 'u', rows: [] },
    statistics: { name: 's', rows: [] },
    fetchedAt: new Date('2026-11-28T12:00:00Z'),
    clockSkewMs: 0,
    account: {
      name,
      rows: [
        {
          FirstSeen: '2026-11-28T12:00:00.000Z',
          LastSeen: '2026-11-28T12:00:00.000Z',
          EnforcementStatus: state.enforcementStatus ?? 'HEALTHY',
          SendingEnabled: state.sendingEnabled ?? true,
          ProductionAccessEnabled: true,
          ReviewStatus: null,
          ReviewCaseId: null,
          Max24HourSend: 1,
          MaxSendRate: 1,
        },
      ],
      reputation: [
        {
          Timestamp: '2026-11-28T10:00:00Z',
          BounceRate: rates.bounce ?? null,
          ComplaintRate: rates.complaint ?? null,
        },
        { Timestamp: '2026-11-28T11:00:00Z', BounceRate: null, ComplaintRate: null },
      ],
    },
  });

  it('counts the accounts not healthy, not sending, and at or over each reputation level', () => {
    const tally = new AccountTally(LEVELS);
    tally.add(result('a', {}, { bounce: 0.04999, complaint: 0.0009 }));
    tally.add(result('b', { enforcementStatus: 'PROBATION' }, { bounce: 0.05 }));
    tally.add(
      result(
        'c',
        { enforcementStatus: 'SHUTDOWN', sendingEnabled: false },
        { bounce: 0.1, complaint: 0.005 },
      ),
    );
    const { account: _, ...none } = result('d', {}, {});
    expect(tally.add(none)).toBeUndefined();
    expect(tally.accounts).toBe(3);
    expect(Object.fromEntries(tally.metrics().map((m) => [m.name, m.value]))).toEqual({
      [METRICS.ACCOUNTS_NOT_HEALTHY]: 2,
      [METRICS.ACCOUNTS_SENDING_DISABLED]: 1,
      [METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_WARNING]: 2,
      [METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_REVIEW]: 1,
      [METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_WARNING]: 1,
      [METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_REVIEW]: 1,
    });
    expect(
      tally.breaches().find((b) => b.metric === METRICS.ACCOUNTS_NOT_HEALTHY)?.datasets,
    ).toEqual(['b', 'c']);
  });

  it('takes the latest hour that has each rate, and refuses a level that is not a fraction', () => {
    const tally = new AccountTally(LEVELS);
    expect(tally.add(result('a', {}, { bounce: 0.07 }))).toMatchObject({
      dataset: 'a',
      enforcementStatus: 'HEALTHY',
      reputationBounceRate: 0.07,
      reputationAt: '2026-11-28T10:00:00Z',
    });
    expect(() => new AccountTally({ ...LEVELS, reputationBounceReview: 0 })).toThrow(
      'AccountTally reputationBounceReview: received 0; expected a fraction above 0 and at most 1',
    );
  });
});
