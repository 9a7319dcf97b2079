import { describe, expect, it } from 'vitest';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import type { FetchedDatasets } from '../../lambda/core/results.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { freshStore } from '../support/dynamodb.ts';
import { row } from '../support/rows.ts';

const activity = { name: 'stats', source: 'S1', usageDataset: 'usage', statisticsDataset: 'stats' };

function result(collectedAt: string, rows: StatisticsRow[]): FetchedDatasets {
  return {
    activity,
    usage: {
      name: 'usage',
      rows: [{ CollectedAt: collectedAt, Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 20 }],
    },
    statistics: { name: 'stats', rows },
  };
}

describe('storeActivityResult on DynamoDB Local', () => {
  it('stores the points, hourly and daily rollups, the usage snapshot and the metadata', async () => {
    const { store } = await freshStore();
    const fetchedAt = new Date('2026-11-28T12:00:00Z');

    const report = await storeActivityResult(
      store,
      result(fetchedAt.toISOString(), [
        row('2026-11-28T10:07:00Z', 5, 1),
        row('2026-11-28T10:22:00Z', 3),
        row('2026-11-28T11:07:00Z', 2),
      ]),
      { fetchedAt: fetchedAt },
    );

    expect(report).toEqual({
      pointsWritten: 3,
      pointsSkipped: 0,
      hourlyWritten: 2,
      dailyWritten: 1,
      newGaps: [],
      repaired: [],
    });
    expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([
      {
        Timestamp: '2026-11-28T10:00:00Z',
        DeliveryAttempts: 8,
        Bounces: 1,
        Complaints: 0,
        Rejects: 0,
        Points: 2,
      },
      {
        Timestamp: '2026-11-28T11:00:00Z',
        DeliveryAttempts: 2,
        Bounces: 0,
        Complaints: 0,
        Rejects: 0,
        Points: 1,
      },
    ]);
    expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([
      {
        Timestamp: '2026-11-28T00:00:00Z',
        DeliveryAttempts: 10,
        Bounces: 1,
        Complaints: 0,
        Rejects: 0,
        Points: 3,
      },
    ]);
    expect(await store.readUsage('usage', ALL_TIME)).toEqual([
      {
        CollectedAt: '2026-11-28T12:00:00.000Z',
        Max24HourSend: 200,
        MaxSendRate: 1,
        SentLast24Hours: 20,
      },
    ]);
    expect(await store.getMeta('stats')).toMatchObject({
      kind: 'statistics',
      source: 'S1',
      activity: 'stats',
      firstTime: '2026-11-28T10:07:00Z',
      lastTime: '2026-11-28T11:07:00Z',
      count: 3,
      coverage: { from: '2026-11-14T12:00:00.000Z', to: '2026-11-28T12:00:00.000Z' },
      gaps: [],
    });
  });

  it('writes only the changed point and its rollups on the next fetch, nothing for an identical one', async () => {
    const { store } = await freshStore();
    const rows = [row('2026-11-28T10:07:00Z', 5), row('2026-11-28T10:22:00Z', 3)];
    await storeActivityResult(store, result('2026-11-28T12:00:00.000Z', rows), {
      fetchedAt: new Date('2026-11-28T12:00:00Z'),
    });

    const revised = await storeActivityResult(
      store,
      result('2026-11-28T13:00:00.000Z', [
        rows[0] as StatisticsRow,
        row('2026-11-28T10:22:00Z', 4),
      ]),
      { fetchedAt: new Date('2026-11-28T13:00:00Z') },
    );
    const identical = await storeActivityResult(
      store,
      result('2026-11-28T14:00:00.000Z', [
        rows[0] as StatisticsRow,
        row('2026-11-28T10:22:00Z', 4),
      ]),
      { fetchedAt: new Date('2026-11-28T14:00:00Z') },
    );

    expect(revised).toMatchObject({ pointsWritten: 1, hourlyWritten: 1, dailyWritten: 1 });
    expect(identical).toMatchObject({ pointsWritten: 0, hourlyWritten: 0, dailyWritten: 0 });
    expect((await store.readPoints('stats', ALL_TIME)).map((p) => p.DeliveryAttempts)).toEqual([
      5, 4,
    ]);
  });

  it('lets a newer fetch win over an older one that arrives later', async () => {
    const { store } = await freshStore();
    await storeActivityResult(
      store,
      result('2026-11-28T13:00:00.000Z', [row('2026-11-28T10:07:00Z', 9)]),
      { fetchedAt: new Date('2026-11-28T13:00:00Z') },
    );

    const late = await storeActivityResult(
      store,
      result('2026-11-28T12:00:00.000Z', [row('2026-11-28T10:07:00Z', 4)]),
      { fetchedAt: new Date('2026-11-28T12:00:00Z') },
    );

    expect(late).toMatchObject({ pointsWritten: 0, pointsSkipped: 1, hourlyWritten: 0 });
    expect((await store.readPoints('stats', ALL_TIME))[0]).toMatchObject({
      DeliveryAttempts: 9,
      fetchedAt: '2026-11-28T13:00:00.000Z',
    });
    expect((await store.readRollups('stats', '1h', ALL_TIME))[0]?.DeliveryAttempts).toBe(9);
    expect((await store.getMeta('stats'))?.coverage?.to).toBe('2026-11-28T13:00:00.000Z');
  });

  it('records a gap when fetches are further apart than the SES window', async () => {
    const { store } = await freshStore();
    await storeActivityResult(
      store,
      result('2026-11-01T00:00:00.000Z', [row('2026-10-31T23:07:00Z', 1)]),
      { fetchedAt: new Date('2026-11-01T00:00:00Z') },
    );

    const report = await storeActivityResult(
      store,
      result('2026-11-17T00:00:00.000Z', [row('2026-11-16T23:07:00Z', 1)]),
      { fetchedAt: new Date('2026-11-17T00:00:00Z') },
    );

    const gap = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' };
    expect(report.newGaps).toEqual([gap]);
    expect((await store.getMeta('stats'))?.gaps).toEqual([gap]);
  });

  it('refuses to store statistics into a usage dataset, writing nothing', async () => {
    const { store } = await freshStore();
    await storeActivityResult(store, result('2026-11-28T12:00:00.000Z', []), {
      fetchedAt: new Date('2026-11-28T12:00:00Z'),
    });
    const clash = {
      ...result('2026-11-28T13:00:00.000Z', [row('2026-11-28T10:07:00Z', 1)]),
      statistics: { name: 'usage', rows: [row('2026-11-28T10:07:00Z', 1)] },
    };

    await expect(
      storeActivityResult(store, clash, { fetchedAt: new Date('2026-11-28T13:00:00Z') }),
    ).rejects.toThrow(
      'dataset "usage" holds usage data (from activity "stats"); it cannot also store statistics data',
    );
    expect(await store.readUsage('usage', ALL_TIME)).toHaveLength(1);
  });
});
