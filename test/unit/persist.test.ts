import { describe, expect, it } from 'vitest';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import { StoreError } from '../../lambda/core/errors.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import type { ActivitySpec, FetchedDatasets } from '../../lambda/core/results.ts';
import type { Span, StoredPoint } from '../../lambda/core/store.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { MemoryDatasetStore, type WriteCounts } from '../support/memory-store.ts';
import { row } from '../support/rows.ts';

const activity: ActivitySpec = {
  name: 'daily-stats',
  source: 'SESSession1',
  usageDataset: 'usage',
  statisticsDataset: 'stats',
};

const rollup = (Timestamp: string, DeliveryAttempts: number, Points: number, Bounces = 0) => ({
  ...row(Timestamp, DeliveryAttempts, Bounces),
  Points,
});

function result(fetchedAt: string, rows: StatisticsRow[], spec = activity): FetchedDatasets {
  return {
    activity: spec,
    usage: {
      name: spec.usageDataset,
      rows: [
        {
          CollectedAt: new Date(fetchedAt).toISOString(),
          Max24HourSend: 50000,
          MaxSendRate: 14,
          SentLast24Hours: 120,
        },
      ],
    },
    statistics: { name: spec.statisticsDataset, rows },
  };
}

/** One fetch through the real write path, stored at its own fetch time. */
function fetchAt(store: MemoryDatasetStore, fetchedAt: string, rows: StatisticsRow[]) {
  return storeActivityResult(store, result(fetchedAt, rows), { fetchedAt: new Date(fetchedAt) });
}

function writesSince(store: MemoryDatasetStore, before: WriteCounts): WriteCounts {
  const now = store.writes;
  return {
    points: now.points - before.points,
    hourly: now.hourly - before.hourly,
    daily: now.daily - before.daily,
    usage: now.usage - before.usage,
    meta: now.meta - before.meta,
  };
}

/** A newer fetch writes `point` right after the next call under test has read the stored points. */
class RacingStore extends MemoryDatasetStore {
  raceOnNextRead = false;
  constructor(
    private readonly point: StatisticsRow,
    private readonly newerFetchedAt: string,
  ) {
    super();
  }
  override async readPoints(name: string, span: Span): Promise<StoredPoint[]> {
    const points = await super.readPoints(name, span);
    if (this.raceOnNextRead) {
      this.raceOnNextRead = false;
      await this.writePoint(name, this.point, this.newerFetchedAt);
    }
    return points;
  }
}

const FIRST = [
  row('2026-11-27T22:07:00Z', 4),
  row('2026-11-27T22:22:00Z', 6, 1),
  row('2026-11-28T10:07:00Z', 5, 1),
  row('2026-11-28T10:22:00Z', 3, 0, 1),
  row('2026-11-28T11:07:00Z', 2, 0, 0, 1),
];

describe('storeActivityResult', () => {
  it('writes every point, the hourly and daily rollups, the usage snapshot and the metadata on a first fetch', async () => {
    const store = new MemoryDatasetStore();

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);

    expect(report).toEqual({
      pointsWritten: 5,
      pointsSkipped: 0,
      hourlyWritten: 3,
      dailyWritten: 2,
      newGaps: [],
      repaired: [],
    });
    // Three metadata writes: the statistics days recorded as stale first, then both datasets.
    expect(store.writes).toEqual({ points: 5, hourly: 3, daily: 2, usage: 1, meta: 3 });
    expect(await store.readPoints('stats', ALL_TIME)).toEqual(
      FIRST.map((p) => ({ ...p, fetchedAt: '2026-11-28T12:00:00.000Z' })),
    );
    expect(await store.readUsage('usage', ALL_TIME)).toHaveLength(1);
    expect(await store.getMeta('stats')).toEqual({
      name: 'stats',
      kind: 'statistics',
      source: 'SESSession1',
      activity: 'daily-stats',
      firstTime: '2026-11-27T22:07:00Z',
      lastTime: '2026-11-28T11:07:00Z',
      count: 5,
      coverage: { from: '2026-11-14T12:00:00.000Z', to: '2026-11-28T12:00:00.000Z' },
      gaps: [],
      version: 2,
    });
    expect(await store.getMeta('usage')).toMatchObject({ kind: 'usage', count: 1, version: 1 });
  });

  it('counts the points summed in each hourly and daily rollup', async () => {
    const store = new MemoryDatasetStore();

    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);

    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      rollup('2026-11-27T22:00:00Z', 10, 2, 1),
      { ...rollup('2026-11-28T10:00:00Z', 8, 2, 1), Complaints: 1 },
      { ...rollup('2026-11-28T11:00:00Z', 2, 1), Rejects: 1 },
    ]);
    expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([
      rollup('2026-11-27T00:00:00Z', 10, 2, 1),
      { ...rollup('2026-11-28T00:00:00Z', 10, 3, 1), Complaints: 1, Rejects: 1 },
    ]);
  });

  it('writes only the usage snapshot and the metadata when a later fetch repeats the stored counts', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);
    const before = { ...store.writes };

    const report = await fetchAt(store, '2026-11-28T12:15:00Z', FIRST);

    expect(report).toEqual({
      pointsWritten: 0,
      pointsSkipped: 0,
      hourlyWritten: 0,
      dailyWritten: 0,
      newGaps: [],
      repaired: [],
    });
    expect(writesSince(store, before)).toEqual({
      points: 0,
      hourly: 0,
      daily: 0,
      usage: 1,
      meta: 2,
    });
    expect(await store.getMeta('stats')).toMatchObject({
      count: 5,
      coverage: { to: '2026-11-28T12:15:00.000Z' },
    });
  });

  it('rewrites exactly the revised point, its hour and its day when SES revises a recent bucket', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);
    const before = { ...store.writes };
    const revised = FIRST.map((p) =>
      p.Timestamp === '2026-11-28T10:22:00Z' ? row(p.Timestamp, 7, 2, 1) : p,
    );

    const report = await fetchAt(store, '2026-11-28T12:15:00Z', revised);

    expect(report).toMatchObject({ pointsWritten: 1, hourlyWritten: 1, dailyWritten: 1 });
    expect(writesSince(store, before)).toMatchObject({ points: 1, hourly: 1, daily: 1 });
    const points = await store.readPoints('stats', ALL_TIME);
    expect(points.find((p) => p.Timestamp === '2026-11-28T10:22:00Z')).toEqual({
      ...row('2026-11-28T10:22:00Z', 7, 2, 1),
      fetchedAt: '2026-11-28T12:15:00.000Z',
    });
    expect(points.filter((p) => p.fetchedAt === '2026-11-28T12:00:00.000Z')).toHaveLength(4);
    expect(
      await store.readRollups('stats', '1h', {
        from: '2026-11-28T10:00:00Z',
        to: '2026-11-28T11:00:00Z',
      }),
    ).toEqual([{ ...rollup('2026-11-28T10:00:00Z', 12, 2, 3), Complaints: 1 }]);
    expect(
      await store.readRollups('stats', '1d', {
        from: '2026-11-28T00:00:00Z',
        to: '2026-11-29T00:00:00Z',
      }),
    ).toEqual([{ ...rollup('2026-11-28T00:00:00Z', 14, 3, 3), Complaints: 1, Rejects: 1 }]);
    expect((await store.getMeta('stats'))?.count).toBe(5);
  });

  it('keeps the stored oldest bucket when a later window cuts it to a partial value', async () => {
    const store = new MemoryDatasetStore();
    // 2026-11-14T12:07 lies within the first 15 minutes of the 12:00 fetch's window (11-14T12:00).
    await fetchAt(store, '2026-11-28T11:00:00Z', [row('2026-11-14T12:07:00Z', 10, 2)]);
    const before = { ...store.writes };

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', [row('2026-11-14T12:07:00Z', 3)]);

    expect(report).toMatchObject({ pointsWritten: 0, hourlyWritten: 0, dailyWritten: 0 });
    expect(writesSince(store, before)).toMatchObject({ points: 0, hourly: 0, daily: 0 });
    expect(await store.readPoints('stats', ALL_TIME)).toEqual([
      { ...row('2026-11-14T12:07:00Z', 10, 2), fetchedAt: '2026-11-28T11:00:00.000Z' },
    ]);
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      rollup('2026-11-14T12:00:00Z', 10, 1, 2),
    ]);
  });

  it('rewrites a revised bucket that starts 15 minutes or more after the window start', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T11:00:00Z', [row('2026-11-14T12:15:00Z', 10)]);

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', [row('2026-11-14T12:15:00Z', 3)]);

    expect(report).toMatchObject({ pointsWritten: 1, hourlyWritten: 1, dailyWritten: 1 });
    expect((await store.readPoints('stats', ALL_TIME))[0]?.DeliveryAttempts).toBe(3);
  });

  it('inserts the oldest bucket of a window when it is not stored yet', async () => {
    const store = new MemoryDatasetStore();

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', [
      row('2026-11-14T12:07:00Z', 3),
      row('2026-11-14T12:22:00Z', 4),
    ]);

    expect(report).toMatchObject({ pointsWritten: 2, hourlyWritten: 1, dailyWritten: 1 });
    expect((await store.readPoints('stats', ALL_TIME)).map((p) => p.DeliveryAttempts)).toEqual([
      3, 4,
    ]);
    expect((await store.getMeta('stats'))?.count).toBe(2);
  });

  it('skips a point, its hour and its day when an older fetch arrives after a newer one', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T13:00:00Z', [
      row('2026-11-28T10:07:00Z', 9),
      row('2026-11-28T10:22:00Z', 3),
    ]);
    const before = { ...store.writes };

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', [
      row('2026-11-28T10:07:00Z', 4),
      row('2026-11-28T10:22:00Z', 3),
    ]);

    expect(report).toEqual({
      pointsWritten: 0,
      pointsSkipped: 1,
      hourlyWritten: 0,
      dailyWritten: 0,
      newGaps: [],
      repaired: [],
    });
    expect(writesSince(store, before)).toMatchObject({ points: 0, hourly: 0, daily: 0 });
    expect((await store.readPoints('stats', ALL_TIME))[0]).toMatchObject({
      DeliveryAttempts: 9,
      fetchedAt: '2026-11-28T13:00:00.000Z',
    });
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      rollup('2026-11-28T10:00:00Z', 12, 2),
    ]);
    expect(await store.getMeta('stats')).toMatchObject({
      count: 2,
      coverage: { from: '2026-11-14T12:00:00.000Z', to: '2026-11-28T13:00:00.000Z' },
    });
  });

  it('leaves an hour and its day to a newer fetch that wrote one of its points meanwhile', async () => {
    const store = new RacingStore(row('2026-11-28T10:07:00Z', 7), '2026-11-28T12:15:00.000Z');
    await fetchAt(store, '2026-11-28T11:00:00Z', [
      row('2026-11-28T10:07:00Z', 5),
      row('2026-11-28T10:22:00Z', 3),
    ]);
    store.raceOnNextRead = true;

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', [
      row('2026-11-28T10:07:00Z', 6),
      row('2026-11-28T10:22:00Z', 4),
      row('2026-11-28T11:07:00Z', 2),
    ]);

    expect(report).toMatchObject({
      pointsWritten: 2,
      pointsSkipped: 1,
      hourlyWritten: 1,
      dailyWritten: 0,
    });
    expect((await store.readPoints('stats', ALL_TIME)).map((p) => p.DeliveryAttempts)).toEqual([
      7, 4, 2,
    ]);
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      rollup('2026-11-28T10:00:00Z', 8, 2),
      rollup('2026-11-28T11:00:00Z', 2, 1),
    ]);
    expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([
      rollup('2026-11-28T00:00:00Z', 8, 2),
    ]);
  });

  it('rewrites an hour and its day when a point is added without changing the sums', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T11:00:00Z', [row('2026-11-28T10:07:00Z', 5)]);

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', [
      row('2026-11-28T10:07:00Z', 5),
      row('2026-11-28T10:22:00Z', 0),
    ]);

    expect(report).toMatchObject({ pointsWritten: 1, hourlyWritten: 1, dailyWritten: 1 });
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      rollup('2026-11-28T10:00:00Z', 5, 2),
    ]);
    expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([
      rollup('2026-11-28T00:00:00Z', 5, 2),
    ]);
  });

  it('sums the hours and days at the window edges from stored points outside the fetched rows', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T10:30:00Z', [
      row('2026-11-27T23:07:00Z', 5),
      row('2026-11-28T08:07:00Z', 1),
      row('2026-11-28T10:07:00Z', 2),
      row('2026-11-28T10:22:00Z', 3),
    ]);

    const report = await fetchAt(store, '2026-11-28T11:30:00Z', [
      row('2026-11-28T10:37:00Z', 4),
      row('2026-11-28T11:07:00Z', 6),
    ]);

    expect(report).toMatchObject({ pointsWritten: 2, hourlyWritten: 2, dailyWritten: 1 });
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      rollup('2026-11-27T23:00:00Z', 5, 1),
      rollup('2026-11-28T08:00:00Z', 1, 1),
      rollup('2026-11-28T10:00:00Z', 9, 3),
      rollup('2026-11-28T11:00:00Z', 6, 1),
    ]);
    expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([
      rollup('2026-11-27T00:00:00Z', 5, 1),
      rollup('2026-11-28T00:00:00Z', 16, 5),
    ]);
  });

  it('records the exact lost span as a gap when two fetches are more than 14 days apart', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-01T00:00:00Z', [row('2026-10-31T23:07:00Z', 1)]);

    const report = await fetchAt(store, '2026-11-17T00:00:00Z', [row('2026-11-16T23:07:00Z', 1)]);

    const gap = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' };
    expect(report.newGaps).toEqual([gap]);
    expect(await store.getMeta('stats')).toMatchObject({
      coverage: { from: '2026-10-18T00:00:00.000Z', to: '2026-11-17T00:00:00.000Z' },
      gaps: [gap],
    });
  });

  it('records no gap when two fetches are exactly 14 days apart', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-01T00:00:00Z', [row('2026-10-31T23:07:00Z', 1)]);

    const report = await fetchAt(store, '2026-11-15T00:00:00Z', [row('2026-11-14T23:07:00Z', 1)]);

    expect(report.newGaps).toEqual([]);
    expect((await store.getMeta('stats'))?.gaps).toEqual([]);
  });

  it('shrinks a gap when an older fetch covers part of it', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-01T00:00:00Z', [row('2026-10-31T23:07:00Z', 1)]);
    await fetchAt(store, '2026-11-17T00:00:00Z', [row('2026-11-16T23:07:00Z', 1)]);

    const report = await fetchAt(store, '2026-11-02T00:00:00Z', [row('2026-11-01T23:07:00Z', 1)]);

    expect(report.newGaps).toEqual([]);
    expect(await store.getMeta('stats')).toMatchObject({
      coverage: { from: '2026-10-18T00:00:00.000Z', to: '2026-11-17T00:00:00.000Z' },
      gaps: [{ from: '2026-11-02T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' }],
    });
  });

  // Bug: only `coverage.to < window.from` is checked, so a fetch older than the coverage by more
  // than the SES window extends the coverage over a span no fetch saw without recording it.
  it('records a gap when an older fetch ends more than 14 days before the coverage starts', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-20T00:00:00Z', [row('2026-11-19T23:07:00Z', 1)]);

    await fetchAt(store, '2026-10-01T00:00:00Z', [row('2026-09-30T23:07:00Z', 1)]);

    expect(await store.getMeta('stats')).toMatchObject({
      coverage: { from: '2026-09-17T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' },
      gaps: [{ from: '2026-10-01T00:00:00.000Z', to: '2026-11-06T00:00:00.000Z' }],
    });
  });

  it('rejects statistics for a dataset that holds usage data before writing anything', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);
    const before = { ...store.writes };
    const clash = { ...activity, usageDataset: 'usage-2', statisticsDataset: 'usage' };

    const stored = storeActivityResult(store, result('2026-11-28T13:00:00Z', FIRST, clash), {
      fetchedAt: new Date('2026-11-28T13:00:00Z'),
    });

    await expect(stored).rejects.toThrow(StoreError);
    await expect(stored).rejects.toThrow(
      'dataset "usage" holds usage data (from activity "daily-stats"); it cannot also store statistics data',
    );
    expect(store.writes).toEqual(before);
  });

  it('rejects a usage snapshot for a dataset that holds statistics before writing anything', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);
    const before = { ...store.writes };
    const clash = { ...activity, usageDataset: 'stats', statisticsDataset: 'stats-2' };

    const stored = storeActivityResult(store, result('2026-11-28T13:00:00Z', FIRST, clash), {
      fetchedAt: new Date('2026-11-28T13:00:00Z'),
    });

    await expect(stored).rejects.toThrow('dataset "stats" holds statistics data');
    expect(store.writes).toEqual(before);
  });

  it('retries metadata writes that lose to a concurrent writer and succeeds on the fifth attempt', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);
    store.losePutMeta(4, 'usage');

    await fetchAt(store, '2026-11-28T12:15:00Z', [...FIRST, row('2026-11-28T12:07:00Z', 1)]);

    expect(await store.getMeta('usage')).toMatchObject({ count: 2, version: 6 });
    // Each fetch that writes points records its days as stale first: two versions per fetch.
    expect(await store.getMeta('stats')).toMatchObject({ count: 6, version: 4 });
  });

  it('rejects with a StoreError naming the dataset when the metadata write loses 5 times', async () => {
    const store = new MemoryDatasetStore();
    await fetchAt(store, '2026-11-28T12:00:00Z', FIRST);
    store.losePutMeta(5, 'usage');

    const stored = fetchAt(store, '2026-11-28T12:15:00Z', FIRST);

    await expect(stored).rejects.toThrow(StoreError);
    await expect(stored).rejects.toThrow(
      'dataset "usage": its metadata kept changing under concurrent writers; 5 attempts failed',
    );
    expect(await store.getMeta('usage')).toMatchObject({ count: 1 });
  });

  it('completes the rollups on the next fetch after a point write failed', async () => {
    const store = new MemoryDatasetStore();
    store.failNextWritePoint(new Error('network down'));
    await expect(fetchAt(store, '2026-11-28T12:00:00Z', FIRST)).rejects.toThrow('network down');
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([]);

    await fetchAt(store, '2026-11-28T12:15:00Z', FIRST);

    expect(await store.readPoints('stats', ALL_TIME)).toHaveLength(5);
    expect((await store.readRollups('stats', '1d', ALL_TIME)).map((r) => r.Points)).toEqual([2, 3]);
  });

  // Bug: `count` adds only the points this call inserted, so points a failed call had already
  // written before it threw are never counted.
  it('counts every stored point after a failed fetch is followed by a successful one', async () => {
    const store = new MemoryDatasetStore();
    store.failNextWritePoint();
    await expect(fetchAt(store, '2026-11-28T12:00:00Z', FIRST)).rejects.toThrow();

    await fetchAt(store, '2026-11-28T12:15:00Z', FIRST);

    expect((await store.getMeta('stats'))?.count).toBe(
      (await store.readPoints('stats', ALL_TIME)).length,
    );
  });
});

describe('stale days and raw retention', () => {
  it('drops stale days whose raw points may have expired instead of re-summing them to less', async () => {
    const store = new MemoryDatasetStore();
    const retention = { rawRetentionDays: 30 };
    await storeActivityResult(store, result('2026-10-01T12:00:00Z', FIRST_OCTOBER), {
      fetchedAt: new Date('2026-10-01T12:00:00Z'),
      ...retention,
    });
    store.failNextWritePoint();
    await expect(
      storeActivityResult(store, result('2026-10-01T13:00:00Z', REVISED_OCTOBER), {
        fetchedAt: new Date('2026-10-01T13:00:00Z'),
        ...retention,
      }),
    ).rejects.toThrow();
    const dailyBefore = await store.readRollups('stats', '1d', ALL_TIME);
    expect((await store.getMeta('stats'))?.staleRollups).toHaveLength(1);

    // 40 days later the raw points of 1 October are past the 30-day retention.
    await storeActivityResult(
      store,
      result('2026-11-10T12:00:00Z', [row('2026-11-10T11:07:00Z', 1)]),
      {
        fetchedAt: new Date('2026-11-10T12:00:00Z'),
        ...retention,
      },
    );

    const daily = await store.readRollups('stats', '1d', ALL_TIME);
    expect(daily.filter((r) => r.Timestamp < '2026-11-01')).toEqual(dailyBefore);
    expect((await store.getMeta('stats'))?.staleRollups).toBeUndefined();
  });
});

const FIRST_OCTOBER = [row('2026-10-01T10:07:00Z', 10), row('2026-10-01T10:22:00Z', 20)];
const REVISED_OCTOBER = [row('2026-10-01T10:07:00Z', 11), row('2026-10-01T10:22:00Z', 25)];

describe('backfill (the first fetch of a dataset)', () => {
  // 17 points: one more than the per-item path writes in one round trip.
  const seventeen = Array.from({ length: 17 }, (_, i) =>
    row(new Date(Date.parse('2026-11-28T07:07:00Z') + i * 15 * 60_000).toISOString(), i + 1),
  );

  it('writes more than 16 points of a dataset without coverage in one writePoints call', async () => {
    const store = new MemoryDatasetStore();

    const report = await fetchAt(store, '2026-11-28T12:00:00Z', seventeen);

    expect(store.pointCalls).toEqual({ writePoint: 0, writePoints: 1 });
    expect(report.pointsWritten).toBe(17);
    expect(await store.readPoints('stats', ALL_TIME)).toHaveLength(17);
  });

  it('writes 16 points, or any number once the dataset has coverage, one writePoint each', async () => {
    const small = new MemoryDatasetStore();
    await fetchAt(small, '2026-11-28T12:00:00Z', seventeen.slice(0, 16));
    const covered = new MemoryDatasetStore();
    await fetchAt(covered, '2026-11-28T12:00:00Z', FIRST);

    await fetchAt(
      covered,
      '2026-11-28T12:15:00Z',
      seventeen.map((r) => ({ ...r, Bounces: 1 })),
    );

    expect(small.pointCalls).toEqual({ writePoint: 16, writePoints: 0 });
    expect(covered.pointCalls).toEqual({ writePoint: FIRST.length + 17, writePoints: 0 });
  });

  it('is a backfill again when the first fetch stopped before its coverage was recorded', async () => {
    const store = new MemoryDatasetStore();
    store.failNextWritePoint();
    await expect(fetchAt(store, '2026-11-28T12:00:00Z', seventeen)).rejects.toThrow();
    expect((await store.getMeta('stats'))?.coverage).toBeUndefined();

    await fetchAt(store, '2026-11-28T12:00:00Z', seventeen);

    expect(store.pointCalls).toEqual({ writePoint: 0, writePoints: 2 });
    expect((await store.getMeta('stats'))?.count).toBe(17);
    expect((await store.getMeta('stats'))?.staleRollups).toBeUndefined();
  });
});
