import { describe, expect, it } from 'vitest';
import { copyDatasets } from '../../lambda/core/copy.ts';
import {
  type AccountRow,
  buildAccountRow,
  buildReputationRows,
  type StatisticsRow,
} from '../../lambda/core/datasets.ts';
import { StoreError, UnknownDatasetError } from '../../lambda/core/errors.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import { storeAccountResult } from '../../lambda/core/persist-account.ts';
import type { ActivitySpec } from '../../lambda/core/results.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';
import { ALL_TIME, DAY_MS } from '../../lambda/core/time.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';
import { rollupsOf, storedState } from '../support/stored-state.ts';

const spec: ActivitySpec = {
  name: 'daily-stats',
  source: 'SESSession1',
  usageDataset: 'usage',
  statisticsDataset: 'stats',
};
const names = { usage: 'usage', statistics: 'stats' };
const START = Date.parse('2026-10-01T00:00:00Z');
const NOW = new Date('2026-12-01T00:00:00Z');

/** The SES window a fetch at `day` (days after START, noon) returns; `bump` revises the counts. */
function fetchRows(day: number, bump = 0, windowDays = 14): StatisticsRow[] {
  const end = START + day * DAY_MS + DAY_MS / 2;
  const rows: StatisticsRow[] = [];
  for (let t = end - windowDays * DAY_MS; t < end; t += 15 * 60_000) {
    const n = Math.floor(t / 900_000) % 97;
    rows.push({
      Timestamp: new Date(t).toISOString().replace('.000Z', 'Z'),
      DeliveryAttempts: n + bump,
      Bounces: n % 5,
      Complaints: n % 11 === 0 ? 1 : 0,
      Rejects: 0,
    });
  }
  return rows;
}

async function fetchInto(store: DatasetStore, day: number, bump = 0, windowDays = 14) {
  const fetchedAt = new Date(START + day * DAY_MS + DAY_MS / 2);
  await storeActivityResult(
    store,
    {
      activity: spec,
      usage: {
        name: 'usage',
        rows: [
          {
            CollectedAt: fetchedAt.toISOString(),
            Max24HourSend: 50_000,
            MaxSendRate: 14,
            SentLast24Hours: 100 + day,
          },
        ],
      },
      statistics: { name: 'stats', rows: fetchRows(day, bump, windowDays) },
    },
    { fetchedAt },
  );
}

/**
 * Fails the `at`-th write call of any kind (1-based), as a crash or a lost connection would;
 * `calls()` counts the write calls made.
 */
function failingAt(store: MemoryDatasetStore, at: number): DatasetStore & { calls(): number } {
  let writes = 0;
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      writes++;
      if (writes === at) return Promise.reject(new Error(`stopped at write ${at}`));
      return fn(...args);
    };
  return {
    calls: () => writes,
    getMeta: (n) => store.getMeta(n),
    listMeta: () => store.listMeta(),
    readPoints: (n, s) => store.readPoints(n, s),
    readRollups: (n, g, s) => store.readRollups(n, g, s),
    readUsage: (n, s) => store.readUsage(n, s),
    readAccountStates: (n, s, l) => store.readAccountStates(n, s, l),
    readReputation: (n, s, l) => store.readReputation(n, s, l),
    putMeta: guard((m) => store.putMeta(m)),
    writePoint: guard((n, p, f, r) => store.writePoint(n, p, f, r)),
    writeRollups: guard((n, g, r) => store.writeRollups(n, g, r)),
    putUsage: guard((n, r) => store.putUsage(n, r)),
    putAccountState: guard((n, r) => store.putAccountState(n, r)),
    putAccountChange: guard((n, r, m) => store.putAccountChange(n, r, m)),
    writeReputation: guard((n, r, f) => store.writeReputation(n, r, f)),
  };
}

const HOUR_MS = 3_600_000;

/**
 * A collect of the account dataset on `day` (days after START, noon): the account in `status`,
 * and the two weeks of hourly reputation CloudWatch answers then, `bump` added to the bounce rate.
 */
async function collectAccount(store: DatasetStore, day: number, status: string, bump = 0) {
  const fetchedAt = new Date(START + day * DAY_MS + DAY_MS / 2);
  const points = [];
  for (let t = fetchedAt.getTime() - 14 * DAY_MS; t < fetchedAt.getTime(); t += HOUR_MS) {
    const hour = Math.floor(t / HOUR_MS);
    points.push({
      timestamp: new Date(Math.floor(t / HOUR_MS) * HOUR_MS),
      bounceRate: (hour % 50) / 1_000 + bump,
      ...(hour % 9 === 0 ? {} : { complaintRate: (hour % 7) / 10_000 }),
    });
  }
  await storeAccountResult(
    store,
    spec,
    {
      name: 'account',
      rows: [
        buildAccountRow(
          {
            enforcementStatus: status,
            sendingEnabled: status !== 'SHUTDOWN',
            productionAccessEnabled: day > 3,
            ...(status === 'PROBATION' ? { reviewStatus: 'PENDING', reviewCaseId: 'c-1' } : {}),
            max24HourSend: day > 3 ? 50_000 : 200,
            maxSendRate: day > 3 ? 14 : 1,
          },
          fetchedAt,
        ),
      ],
      reputation: buildReputationRows(points),
    },
    fetchedAt,
  );
}

/** Everything an account dataset holds: its metadata (without version), states and reputation. */
async function accountState(store: DatasetStore) {
  const meta = await store.getMeta('account');
  const { version: _, ...rest } = meta ?? { version: 0 };
  return {
    meta: meta === undefined ? undefined : rest,
    states: await store.readAccountStates('account', ALL_TIME),
    reputation: await store.readReputation('account', ALL_TIME),
  };
}

const accountRow = (
  FirstSeen: string,
  LastSeen: string,
  EnforcementStatus: string,
): AccountRow => ({
  FirstSeen,
  LastSeen,
  EnforcementStatus,
  SendingEnabled: true,
  ProductionAccessEnabled: true,
  ReviewStatus: null,
  ReviewCaseId: null,
  Max24HourSend: 50_000,
  MaxSendRate: 14,
});

describe('copy between stores', () => {
  it('copies everything into an empty store exactly, and a second copy writes nothing', async () => {
    const from = new MemoryDatasetStore();
    for (const day of [0, 5, 30]) await fetchInto(from, day);
    const to = new MemoryDatasetStore();

    const first = await copyDatasets(from, to, undefined, { now: NOW, chunkDays: 7 });
    const before = { ...to.writes };
    const second = await copyDatasets(from, to, undefined, { now: NOW, chunkDays: 7 });

    expect(await storedState(to, names)).toEqual(await storedState(from, names));
    expect((await to.getMeta('stats'))?.gaps).toEqual([
      { from: '2026-10-06T12:00:00.000Z', to: '2026-10-17T12:00:00.000Z' },
    ]);
    expect(first.find((r) => r.dataset === 'stats')?.pointsWritten).toBe(
      (await from.readPoints('stats', ALL_TIME)).length,
    );
    expect(to.writes).toEqual(before);
    expect(second.every((r) => !r.metaWritten && r.pointsWritten + r.usageWritten === 0)).toBe(
      true,
    );
  });

  it('merges two histories: newer fetches win, coverage is what either saw, rollups equal the raw points', async () => {
    const laptop = new MemoryDatasetStore();
    const table = new MemoryDatasetStore();
    for (const day of [0, 10]) await fetchInto(laptop, day);
    // The table started later and revised the days both saw (a later fetch: its copy wins).
    for (const day of [12, 40]) await fetchInto(table, day, 3);

    const report = await copyDatasets(laptop, table, undefined, { now: NOW });
    const points = await table.readPoints('stats', ALL_TIME);
    const meta = await table.getMeta('stats');

    const laptopPoints = await laptop.readPoints('stats', ALL_TIME);
    const laptopOnly = laptopPoints.filter((p) => p.Timestamp < '2026-09-29T12:00:00Z');
    expect(points.filter((p) => p.Timestamp < '2026-09-29T12:00:00Z')).toEqual(laptopOnly);
    expect(
      points
        .filter((p) => p.Timestamp >= '2026-09-29T12:00:00Z')
        .every((p) => p.fetchedAt >= '2026-10-13'),
    ).toBe(true);
    expect(report.find((r) => r.dataset === 'stats')?.pointsKeptNewer).toBeGreaterThan(0);
    expect(await table.readRollups('stats', '1h', ALL_TIME)).toEqual(rollupsOf(points, '1h'));
    expect(await table.readRollups('stats', '1d', ALL_TIME)).toEqual(rollupsOf(points, '1d'));
    expect(meta).toMatchObject({
      count: points.length,
      firstTime: points[0]?.Timestamp,
      lastTime: points.at(-1)?.Timestamp,
      coverage: { from: '2026-09-17T12:00:00.000Z', to: '2026-11-10T12:00:00.000Z' },
      gaps: [{ from: '2026-10-13T12:00:00.000Z', to: '2026-10-27T12:00:00.000Z' }],
    });
    expect((await table.getMeta('usage'))?.count).toBe(4);

    // The laptop's full copy of the table's cut edge bucket replaced it, under the later fetch time.
    const edge = points.find((p) => p.Timestamp === '2026-09-29T12:00:00Z');
    expect(edge).toMatchObject({
      ...laptopPoints.find((p) => p.Timestamp === edge?.Timestamp),
      fetchedAt: '2026-10-13T12:00:00.000Z',
    });

    // And back: both stores now hold the same history (fetch times aside, see the edge above).
    await copyDatasets(table, laptop, undefined, { now: NOW });
    const counts = async (store: MemoryDatasetStore) => {
      const { points, ...rest } = await storedState(store, names);
      return { ...rest, points: points.map(({ fetchedAt: _, ...p }) => p) };
    };
    expect(await counts(laptop)).toEqual(await counts(table));
  });

  it('keeps rollups whose raw points expired on the source side', async () => {
    const from = new MemoryDatasetStore();
    await fetchInto(from, 0, 0, 2);
    const rows = fetchRows(0, 0, 2);
    // An older day whose raw points the table's TTL removed: only its rollups remain.
    const old = {
      Timestamp: '2026-08-01T00:00:00Z',
      DeliveryAttempts: 40,
      Bounces: 1,
      Complaints: 0,
      Rejects: 0,
      Points: 12,
    };
    await from.writeRollups('stats', '1h', [old]);
    await from.writeRollups('stats', '1d', [old]);
    const to = new MemoryDatasetStore();

    await copyDatasets(from, to, 'stats', { now: NOW });

    expect(await to.readRollups('stats', '1d', ALL_TIME)).toEqual([old, ...rollupsOf(rows, '1d')]);
    expect((await to.getMeta('stats'))?.count).toBe(rows.length);
  });

  it('is finished by a rerun after stopping at any write, ending where an uninterrupted copy ends', async () => {
    const from = new MemoryDatasetStore();
    await fetchInto(from, 0, 0, 3);
    await fetchInto(from, 1, 2, 3);
    const seed = async () => {
      const to = new MemoryDatasetStore();
      await fetchInto(to, 2, 1, 2);
      return to;
    };
    const clean = await seed();
    const counted = failingAt(clean, 0);
    await copyDatasets(from, counted, undefined, { now: NOW, chunkDays: 1 });
    const expected = await storedState(clean, names);
    const writes = counted.calls();
    expect(writes).toBeGreaterThan(100);
    // Recorded in docs/reliability.md.
    console.info(`copy stopped at each of ${writes} writes`);

    for (let at = 1; at <= writes; at++) {
      const to = await seed();
      await expect(
        copyDatasets(from, failingAt(to, at), undefined, { now: NOW, chunkDays: 1 }),
      ).rejects.toThrow(`stopped at write ${at}`);
      await copyDatasets(from, to, undefined, { now: NOW, chunkDays: 1 });
      expect(await storedState(to, names), `stopped at write ${at}`).toEqual(expected);
    }
  });

  it('refuses a dataset of the other kind in the target and an unknown --dataset, writing nothing', async () => {
    const from = new MemoryDatasetStore();
    await fetchInto(from, 0, 0, 1);
    const to = new MemoryDatasetStore();
    await to.putMeta({
      name: 'stats',
      kind: 'usage',
      source: 's',
      activity: 'a',
      count: 0,
      gaps: [],
      version: 0,
    });
    const before = { ...to.writes };

    await expect(copyDatasets(from, to, 'stats', { now: NOW })).rejects.toThrow(
      new StoreError(
        'dataset "stats" holds usage data in the target but statistics data in the source; it was not copied',
      ),
    );
    await expect(copyDatasets(from, to, 'nosuch', { now: NOW })).rejects.toThrow(
      UnknownDatasetError,
    );
    await expect(copyDatasets(from, to, 'nosuch', { now: NOW })).rejects.toThrow(
      'stored datasets: stats, usage',
    );
    expect(to.writes).toEqual(before);
  });

  it('never replaces a full stored point with the cut first bucket of a later fetch', async () => {
    const from = new MemoryDatasetStore();
    const to = new MemoryDatasetStore();
    const point = {
      Timestamp: '2026-10-01T00:00:00Z',
      DeliveryAttempts: 10,
      Bounces: 0,
      Complaints: 0,
      Rejects: 0,
    };
    // The later fetch's window began five minutes after the bucket did: its copy holds 1 of 10.
    await from.writePoint('stats', { ...point, DeliveryAttempts: 1 }, '2026-10-15T00:05:00.000Z');
    await from.putMeta({
      name: 'stats',
      kind: 'statistics',
      source: 's',
      activity: 'a',
      firstTime: point.Timestamp,
      lastTime: point.Timestamp,
      count: 1,
      gaps: [],
      version: 0,
    });
    await to.writePoint('stats', point, '2026-10-10T00:00:00.000Z');

    const [report] = await copyDatasets(from, to, 'stats', { now: NOW });

    expect(await to.readPoints('stats', ALL_TIME)).toEqual([
      { ...point, fetchedAt: '2026-10-10T00:00:00.000Z' },
    ]);
    expect(report).toMatchObject({ pointsWritten: 0, pointsKeptNewer: 1 });
  });

  it('copies the points of a source whose collect stopped before its metadata (stale days)', async () => {
    const from = new MemoryDatasetStore();
    await fetchInto(from, 0, 0, 3);
    // The next fetch stops after its first 100 points: they lie past the recorded last time.
    const stopped = failingAt(from, 102);
    await expect(
      storeActivityResult(
        stopped,
        {
          activity: spec,
          usage: { name: 'usage', rows: [] },
          statistics: { name: 'stats', rows: fetchRows(2, 5, 3) },
        },
        { fetchedAt: new Date(START + 2.5 * DAY_MS) },
      ),
    ).rejects.toThrow('stopped at write 102');
    expect((await from.getMeta('stats'))?.staleRollups).toBeDefined();
    const to = new MemoryDatasetStore();

    await copyDatasets(from, to, 'stats', { now: NOW, chunkDays: 1 });
    const points = await to.readPoints('stats', ALL_TIME);

    expect(points).toEqual(await from.readPoints('stats', ALL_TIME));
    expect(await to.readRollups('stats', '1h', ALL_TIME)).toEqual(rollupsOf(points, '1h'));
    expect(await to.getMeta('stats')).toMatchObject({
      count: points.length,
      lastTime: points.at(-1)?.Timestamp,
    });
    expect((await to.getMeta('stats'))?.staleRollups).toBeUndefined();
  });

  it('gives copied points the retention of the target, or of the source, and brings back no expired one', async () => {
    const from = new MemoryDatasetStore();
    await fetchInto(from, 0, 0, 3);
    const meta = await from.getMeta('stats');
    if (meta === undefined) throw new Error('no metadata stored');
    await from.putMeta({ ...meta, rawRetentionDays: 90 });
    const fresh = new MemoryDatasetStore();
    const expiring = new MemoryDatasetStore();
    await expiring.putMeta({
      name: 'stats',
      kind: 'statistics',
      source: 't',
      activity: 't',
      count: 0,
      gaps: [],
      rawRetentionDays: 30,
      version: 0,
    });
    // 30 days after the middle day of the source's window: its first half has expired.
    const now = new Date('2026-10-30T12:00:00Z');

    await copyDatasets(from, fresh, 'stats', { now });
    await copyDatasets(from, expiring, 'stats', { now });

    const all = await from.readPoints('stats', ALL_TIME);
    expect(await fresh.readPoints('stats', ALL_TIME)).toEqual(all);
    expect(new Set(fresh.retention.values())).toEqual(new Set([90]));
    const kept = await expiring.readPoints('stats', ALL_TIME);
    expect(kept).toEqual(all.filter((p) => p.Timestamp >= '2026-09-30T12:00:00.000Z'));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(all.length);
    expect(new Set(expiring.retention.values())).toEqual(new Set([30]));
    // The expired hours keep the source's rollups: nothing of the history is lost.
    expect(await expiring.readRollups('stats', '1d', ALL_TIME)).toEqual(
      await from.readRollups('stats', '1d', ALL_TIME),
    );
  });

  it('runs its pass again when a collect moves the target on before the copy finishes', async () => {
    const from = new MemoryDatasetStore();
    await fetchInto(from, 0, 0, 3);
    const to = new MemoryDatasetStore();
    let collected = false;
    const racing: DatasetStore = Object.assign(Object.create(to), {
      putMeta: async (meta: Parameters<DatasetStore['putMeta']>[0]) => {
        // Just before the copy's final metadata write, a collect stores a later fetch.
        if (!collected && meta.name === 'stats' && meta.staleRollups === undefined) {
          collected = true;
          await fetchInto(to, 2, 7, 3);
        }
        return to.putMeta(meta);
      },
    });

    await copyDatasets(from, racing, 'stats', { now: NOW });
    const points = await to.readPoints('stats', ALL_TIME);

    expect(collected).toBe(true);
    expect(await to.getMeta('stats')).toMatchObject({
      count: points.length,
      firstTime: points[0]?.Timestamp,
      lastTime: points.at(-1)?.Timestamp,
    });
    expect((await to.getMeta('stats'))?.staleRollups).toBeUndefined();
    expect(await to.readRollups('stats', '1d', ALL_TIME)).toEqual(rollupsOf(points, '1d'));
  });

  describe('an account dataset', () => {
    /** HEALTHY, then PROBATION, then HEALTHY again, over six weeks of collects. */
    async function history(): Promise<MemoryDatasetStore> {
      const store = new MemoryDatasetStore();
      for (const day of [0, 2, 4]) await collectAccount(store, day, 'HEALTHY');
      for (const day of [20, 21]) await collectAccount(store, day, 'PROBATION', 0.001);
      await collectAccount(store, 40, 'HEALTHY', 0.002);
      return store;
    }

    it('copies its metadata, every state and every reputation point with its fetch time; a second copy writes nothing', async () => {
      const from = await history();
      const source = await accountState(from);
      const to = new MemoryDatasetStore();

      const [first] = await copyDatasets(from, to, 'account', { now: NOW, chunkDays: 7 });
      const before = { ...to.accountWrites, meta: to.writes.meta };
      const [second] = await copyDatasets(from, to, 'account', { now: NOW, chunkDays: 7 });

      // Sandbox then production (two states), probation, healthy again.
      expect(source.states.map((s) => s.EnforcementStatus)).toEqual([
        'HEALTHY',
        'HEALTHY',
        'PROBATION',
        'HEALTHY',
      ]);
      expect(source.meta).toMatchObject({ kind: 'account', count: 4 });
      // The reputation reaches back two weeks before the first state: outside the recorded times.
      expect(source.reputation[0]?.Timestamp).toBe('2026-09-17T12:00:00Z');
      expect(new Set(source.reputation.map((r) => r.fetchedAt)).size).toBeGreaterThan(3);
      expect(await accountState(to)).toEqual(source);
      expect(first).toMatchObject({
        kind: 'account',
        statesWritten: 4,
        pointsWritten: source.reputation.length,
        pointsKeptNewer: 0,
        metaWritten: true,
      });
      expect(second).toMatchObject({
        statesWritten: 0,
        pointsWritten: 0,
        pointsKeptNewer: 0,
        metaWritten: false,
      });
      expect({ ...to.accountWrites, meta: to.writes.meta }).toEqual(before);
    });

    it('merges two histories: the later LastSeen and the newer fetch win, a rate one side lacks is kept', async () => {
      const laptop = new MemoryDatasetStore();
      const table = new MemoryDatasetStore();
      const T = (day: number, hour = 12) =>
        new Date(START + day * DAY_MS + hour * HOUR_MS).toISOString();
      const H = (hour: number) => T(0, hour).replace('.000Z', 'Z');
      // Both saw the state first seen on day 0; the table saw it later. The laptop alone saw day 1's.
      await laptop.putAccountState('account', accountRow(T(0), T(1), 'HEALTHY'));
      await laptop.putAccountState('account', accountRow(T(1, 13), T(1, 14), 'PROBATION'));
      await table.putAccountState('account', accountRow(T(0), T(3), 'HEALTHY'));
      await laptop.writeReputation(
        'account',
        [
          { Timestamp: H(0), BounceRate: 0.01, ComplaintRate: null },
          { Timestamp: H(1), BounceRate: 0.02, ComplaintRate: 0.001 },
          { Timestamp: H(2), BounceRate: 0.03, ComplaintRate: 0.001 },
        ],
        T(1),
      );
      // Hour 0: newer in the table; hour 1: older there and without a complaint rate.
      await table.writeReputation(
        'account',
        [{ Timestamp: H(0), BounceRate: 0.05, ComplaintRate: 0.002 }],
        T(2),
      );
      await table.writeReputation(
        'account',
        [{ Timestamp: H(1), BounceRate: 0.04, ComplaintRate: null }],
        T(0, 20),
      );
      for (const [store, count] of [
        [laptop, 2],
        [table, 1],
      ] as const)
        await store.putMeta({
          name: 'account',
          kind: 'account',
          source: 'SESSession1',
          activity: 'daily-stats',
          count,
          gaps: [],
          version: 0,
        });

      const [report] = await copyDatasets(laptop, table, 'account', { now: NOW });

      expect(await table.readAccountStates('account', ALL_TIME)).toEqual([
        accountRow(T(0), T(3), 'HEALTHY'),
        accountRow(T(1, 13), T(1, 14), 'PROBATION'),
      ]);
      expect(await table.readReputation('account', ALL_TIME)).toEqual([
        { Timestamp: H(0), BounceRate: 0.05, ComplaintRate: 0.002, fetchedAt: T(2) },
        { Timestamp: H(1), BounceRate: 0.02, ComplaintRate: 0.001, fetchedAt: T(1) },
        { Timestamp: H(2), BounceRate: 0.03, ComplaintRate: 0.001, fetchedAt: T(1) },
      ]);
      expect(report).toMatchObject({ statesWritten: 1, pointsWritten: 2, pointsKeptNewer: 1 });
      expect(await table.getMeta('account')).toMatchObject({
        count: 2,
        firstTime: T(0),
        lastTime: T(3),
        lastChange: T(1, 13),
        coverage: { from: T(0), to: T(3) },
        gaps: [],
      });

      // Back the other way: the laptop now holds the same, keeping the table's newer hour 0.
      await copyDatasets(table, laptop, 'account', { now: NOW });
      expect(await accountState(laptop)).toEqual(await accountState(table));
    });

    it('fills a rate the newer copy lacks from the older one, under the newer fetch time', async () => {
      const from = new MemoryDatasetStore();
      const to = new MemoryDatasetStore();
      const H = '2026-10-01T05:00:00Z';
      await from.writeReputation(
        'account',
        [{ Timestamp: H, BounceRate: 0.01, ComplaintRate: 0.003 }],
        '2026-10-01T12:00:00.000Z',
      );
      await to.writeReputation(
        'account',
        [{ Timestamp: H, BounceRate: 0.02, ComplaintRate: null }],
        '2026-10-02T12:00:00.000Z',
      );
      await from.putMeta({
        name: 'account',
        kind: 'account',
        source: 's',
        activity: 'a',
        count: 0,
        gaps: [],
        version: 0,
      });

      const [report] = await copyDatasets(from, to, 'account', { now: NOW });
      const [again] = await copyDatasets(from, to, 'account', { now: NOW });

      expect(await to.readReputation('account', ALL_TIME)).toEqual([
        {
          Timestamp: H,
          BounceRate: 0.02,
          ComplaintRate: 0.003,
          fetchedAt: '2026-10-02T12:00:00.000Z',
        },
      ]);
      expect(report).toMatchObject({ pointsWritten: 1, pointsKeptNewer: 0 });
      expect(again).toMatchObject({ pointsWritten: 0, pointsKeptNewer: 1, metaWritten: false });
    });

    it('is finished by a rerun after stopping at any write, ending where an uninterrupted copy ends', async () => {
      const from = await history();
      const seed = async () => {
        const to = new MemoryDatasetStore();
        await collectAccount(to, 21, 'PROBATION', 0.003);
        return to;
      };
      const clean = await seed();
      const counted = failingAt(clean, 0);
      await copyDatasets(from, counted, 'account', { now: NOW, chunkDays: 7 });
      const expected = await accountState(clean);
      const writes = counted.calls();
      expect(writes).toBeGreaterThan(10);

      for (let at = 1; at <= writes; at++) {
        const to = await seed();
        await expect(
          copyDatasets(from, failingAt(to, at), 'account', { now: NOW, chunkDays: 7 }),
        ).rejects.toThrow(`stopped at write ${at}`);
        await copyDatasets(from, to, 'account', { now: NOW, chunkDays: 7 });
        expect(await accountState(to), `stopped at write ${at}`).toEqual(expected);
      }
    });

    it('refuses to copy it over a statistics dataset of the same name, writing nothing', async () => {
      const from = await history();
      const to = new MemoryDatasetStore();
      await to.putMeta({
        name: 'account',
        kind: 'statistics',
        source: 's',
        activity: 'a',
        count: 0,
        gaps: [],
        version: 0,
      });
      const before = { ...to.accountWrites, meta: to.writes.meta };

      await expect(copyDatasets(from, to, 'account', { now: NOW })).rejects.toThrow(
        new StoreError(
          'dataset "account" holds statistics data in the target but account data in the source; it was not copied',
        ),
      );
      expect({ ...to.accountWrites, meta: to.writes.meta }).toEqual(before);
    });
  });
});
