import { describe, expect, it } from 'vitest';
import {
  STATISTICS_COLUMNS,
  type StatisticsRow,
  USAGE_COLUMNS,
  type UsageRow,
  utilisation,
} from '../../lambda/core/datasets.ts';
import { QueryError, UnknownDatasetError } from '../../lambda/core/errors.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import {
  parseQueryOptions,
  parseSpan,
  type QueryResult,
  queryDataset,
  summarize,
} from '../../lambda/core/query.ts';
import type { FetchedDatasets } from '../../lambda/core/results.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';
import { row, series } from '../support/rows.ts';

const QUARTER_MS = 15 * 60_000;

const usage = (CollectedAt: string, Max24HourSend: number, SentLast24Hours: number): UsageRow => ({
  CollectedAt,
  Max24HourSend,
  MaxSendRate: 14,
  SentLast24Hours,
});

const timeOf = (r: QueryResult['rows'][number]) =>
  'Timestamp' in r ? r.Timestamp : 'CollectedAt' in r ? r.CollectedAt : r.FirstSeen;

/** Totals of the raw points with from <= Timestamp < to, computed without the core. */
function totalsOf(rows: readonly StatisticsRow[], from: string, to: string) {
  const inside = rows.filter(
    (r) => Date.parse(r.Timestamp) >= Date.parse(from) && Date.parse(r.Timestamp) < Date.parse(to),
  );
  const sum = (key: keyof Omit<StatisticsRow, 'Timestamp'>) =>
    inside.reduce((total, r) => total + r[key], 0);
  return {
    DeliveryAttempts: sum('DeliveryAttempts'),
    Bounces: sum('Bounces'),
    Complaints: sum('Complaints'),
    Rejects: sum('Rejects'),
  };
}

/** Stores `rows` through the real write path, fetched just after the last of them. */
async function seed(
  store: MemoryDatasetStore,
  rows: StatisticsRow[],
  fetchedAt = new Date(Date.parse(rows.at(-1)?.Timestamp ?? '') + QUARTER_MS),
): Promise<void> {
  const result: FetchedDatasets = {
    activity: { name: 'a', source: 'S1', usageDataset: 'usage', statisticsDataset: 'stats' },
    usage: { name: 'usage', rows: [usage(fetchedAt.toISOString(), 50000, 100)] },
    statistics: { name: 'stats', rows },
  };
  await storeActivityResult(store, result, { fetchedAt });
}

async function usageStore(rows: UsageRow[]): Promise<MemoryDatasetStore> {
  const store = new MemoryDatasetStore();
  await store.putMeta({
    name: 'quota',
    kind: 'usage',
    source: 'S1',
    activity: 'a',
    count: rows.length,
    gaps: [],
    version: 0,
  });
  for (const r of rows) await store.putUsage('quota', r);
  return store;
}

const SMALL = [
  row('2026-11-27T23:07:00Z', 4),
  row('2026-11-28T10:07:00Z', 5, 1),
  row('2026-11-28T10:22:00Z', 3, 0, 1),
  row('2026-11-28T11:07:00Z', 2, 0, 0, 1),
];

describe('queryDataset', () => {
  it('returns the raw 15-minute points without their fetch time by default', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const out = await queryDataset(store, 'stats', {});

    expect(out.columns).toEqual(STATISTICS_COLUMNS);
    expect(out.meta).toMatchObject({ name: 'stats', kind: 'statistics' });
    expect(out.rows).toEqual(SMALL);
  });

  it('returns hourly rollups without their point counts when granularity is 1h', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const out = await queryDataset(store, 'stats', { granularity: '1h' });

    expect(out.rows).toEqual([
      row('2026-11-27T23:00:00Z', 4),
      row('2026-11-28T10:00:00Z', 8, 1, 1),
      row('2026-11-28T11:00:00Z', 2, 0, 0, 1),
    ]);
  });

  it('returns daily rollups when granularity is 1d', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const out = await queryDataset(store, 'stats', { granularity: '1d' });

    expect(out.rows).toEqual([
      row('2026-11-27T00:00:00Z', 4),
      row('2026-11-28T00:00:00Z', 10, 1, 1, 1),
    ]);
  });

  it('includes a row at from and excludes a row at to', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const raw = await queryDataset(store, 'stats', {
      from: '2026-11-28T10:07:00Z',
      to: '2026-11-28T11:07:00Z',
    });
    const hourly = await queryDataset(store, 'stats', {
      from: '2026-11-28T10:00:00Z',
      to: '2026-11-28T11:00:00Z',
      granularity: '1h',
    });

    expect(raw.rows.map(timeOf)).toEqual(['2026-11-28T10:07:00Z', '2026-11-28T10:22:00Z']);
    expect(hourly.rows.map(timeOf)).toEqual(['2026-11-28T10:00:00Z']);
  });

  it('reads a time without an offset as UTC and one with an offset as that instant', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const out = await queryDataset(store, 'stats', {
      from: '2026-11-28T10:22',
      to: '2026-11-28T12:07:00+01:00',
    });

    expect(out.rows.map(timeOf)).toEqual(['2026-11-28T10:22:00Z']);
  });

  it('returns the usage snapshots in [from, to)', async () => {
    const store = await usageStore([
      usage('2026-11-26T12:00:00.000Z', 50000, 10),
      usage('2026-11-27T12:00:00.000Z', 50000, 20),
      usage('2026-11-28T12:00:00.000Z', 50000, 30),
    ]);

    const out = await queryDataset(store, 'quota', {
      from: '2026-11-27T12:00:00Z',
      to: '2026-11-28T12:00:00Z',
    });

    expect(out.columns).toEqual(USAGE_COLUMNS);
    expect(out.rows).toEqual([usage('2026-11-27T12:00:00.000Z', 50000, 20)]);
  });

  it('rejects a granularity on a usage dataset naming granularity', async () => {
    const store = await usageStore([usage('2026-11-26T12:00:00.000Z', 50000, 10)]);

    const query = queryDataset(store, 'quota', { granularity: '1h' });

    await expect(query).rejects.toBeInstanceOf(QueryError);
    await expect(query).rejects.toMatchObject({
      parameter: 'granularity',
      message: expect.stringMatching(/^granularity: "quota" is a usage dataset/),
    });
  });

  it.each([
    ['granularity', { granularity: '5m' }],
    ['tz', { tz: 'Mars/Olympus' }],
    ['from', { from: '2026-13-01' }],
    ['from', { from: 'yesterday' }],
    ['to', { to: '2026-11-28T25:00Z' }],
    ['to', { to: '28/11/2026' }],
    ['from', { from: '2026-11-28T10:00:00Z', to: '2026-11-28T10:00:00Z' }],
    ['from', { from: '2026-11-29', to: '2026-11-28' }],
  ])('rejects with a QueryError naming %s when given %j', async (parameter, options) => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const query = queryDataset(store, 'stats', options);

    await expect(query).rejects.toBeInstanceOf(QueryError);
    await expect(query).rejects.toMatchObject({
      parameter,
      message: expect.stringContaining(`${parameter}: `),
    });
  });

  // Bug: the ISO pattern only checks digits and Date.parse rolls 2026-02-30 over to 2026-03-02.
  it('rejects a calendar date that does not exist naming from', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const query = queryDataset(store, 'stats', { from: '2026-02-30' });

    await expect(query).rejects.toMatchObject({ name: 'QueryError', parameter: 'from' });
  });

  it('rejects an unknown dataset with an UnknownDatasetError', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, SMALL);

    const query = queryDataset(store, 'nope', {});

    await expect(query).rejects.toBeInstanceOf(UnknownDatasetError);
    await expect(query).rejects.toMatchObject({ dataset: 'nope' });
    await expect(query).rejects.toThrow('unknown dataset "nope"; stored datasets: ');
  });

  it('says nothing is stored when an unknown dataset is asked of an empty store', async () => {
    const query = queryDataset(new MemoryDatasetStore(), 'nope', {});

    await expect(query).rejects.toThrow('unknown dataset "nope"; nothing is stored yet');
  });

  it('sums local days of a whole-hour zone from the hourly rollups, labelled with the offset', async () => {
    const store = new MemoryDatasetStore();
    await store.putMeta({
      name: 'stats',
      kind: 'statistics',
      source: 'S1',
      activity: 'a',
      count: 0,
      gaps: [],
      version: 0,
      // As a store holding these rows' raw points would record them.
      firstTime: '2026-11-27T22:07:00Z',
      lastTime: '2026-11-28T23:52:00Z',
    });
    // Rollups only, no raw points: the result can only come from the hourly rollups.
    await store.writeRollups('stats', '1h', [
      { ...row('2026-11-27T22:00:00Z', 1), Points: 4 },
      { ...row('2026-11-27T23:00:00Z', 10, 1), Points: 4 },
      { ...row('2026-11-28T22:00:00Z', 100), Points: 4 },
      { ...row('2026-11-28T23:00:00Z', 1000, 0, 1), Points: 4 },
    ]);

    const out = await queryDataset(store, 'stats', {
      from: '2026-11-28T00:00:00+01:00',
      to: '2026-11-30T00:00:00+01:00',
      granularity: '1d',
      tz: 'Europe/Paris',
    });

    expect(out.rows).toEqual([
      row('2026-11-28T00:00:00+01:00', 110, 1),
      row('2026-11-29T00:00:00+01:00', 1000, 0, 1),
    ]);
  });

  it('sums the 25-hour local day when Europe/Paris leaves summer time', async () => {
    const store = new MemoryDatasetStore();
    const rows = series('2026-10-22T00:07:00Z', '2026-10-28T00:00:00Z');
    await seed(store, rows);

    const out = await queryDataset(store, 'stats', {
      from: '2026-10-24T00:00:00+02:00',
      to: '2026-10-27T00:00:00+01:00',
      granularity: '1d',
      tz: 'Europe/Paris',
    });

    expect(out.rows).toEqual([
      {
        Timestamp: '2026-10-24T00:00:00+02:00',
        ...totalsOf(rows, '2026-10-23T22:00:00Z', '2026-10-24T22:00:00Z'),
      },
      {
        Timestamp: '2026-10-25T00:00:00+02:00',
        ...totalsOf(rows, '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'),
      },
      {
        Timestamp: '2026-10-26T00:00:00+01:00',
        ...totalsOf(rows, '2026-10-25T23:00:00Z', '2026-10-26T23:00:00Z'),
      },
    ]);
  });

  it('sums local days of a half-hour zone from the raw points', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, [
      row('2026-11-26T18:22:00Z', 128),
      row('2026-11-26T18:37:00Z', 64),
      row('2026-11-27T18:07:00Z', 1),
      row('2026-11-27T18:22:00Z', 2),
      row('2026-11-27T18:37:00Z', 4),
      row('2026-11-27T18:52:00Z', 8),
      row('2026-11-28T18:22:00Z', 16),
      row('2026-11-28T18:37:00Z', 32),
    ]);

    const out = await queryDataset(store, 'stats', {
      from: '2026-11-27T00:00:00+05:30',
      to: '2026-11-29T00:00:00+05:30',
      granularity: '1d',
      tz: 'Asia/Kolkata',
    });

    expect(out.rows).toEqual([
      row('2026-11-27T00:00:00+05:30', 64 + 1 + 2),
      row('2026-11-28T00:00:00+05:30', 4 + 8 + 16),
    ]);
  });

  it('starts local hours of a half-hour zone at half past the UTC hour', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, [
      row('2026-11-28T10:07:00Z', 1),
      row('2026-11-28T10:22:00Z', 2),
      row('2026-11-28T10:37:00Z', 4),
      row('2026-11-28T11:07:00Z', 8),
      row('2026-11-28T11:37:00Z', 16),
    ]);

    const out = await queryDataset(store, 'stats', {
      from: '2026-11-28T10:30:00Z',
      to: '2026-11-28T12:00:00Z',
      granularity: '1h',
      tz: 'Asia/Kolkata',
    });

    expect(out.rows).toEqual([
      row('2026-11-28T16:00:00+05:30', 4 + 8),
      row('2026-11-28T17:00:00+05:30', 16),
    ]);
  });
});

describe('summarize', () => {
  it('totals a non-aligned span exactly as the sum of its raw points', async () => {
    const store = new MemoryDatasetStore();
    const rows = series('2026-11-01T00:07:00Z', '2026-11-22T00:00:00Z');
    await seed(store, rows);
    const from = '2026-11-03T10:37:00Z';
    const to = '2026-11-20T05:10:00Z';

    const summary = await summarize(store, 'stats', { from, to });

    const totals = totalsOf(rows, from, to);
    expect(summary).toEqual({
      dataset: 'stats',
      kind: 'statistics',
      from,
      to,
      ...totals,
      BounceRate: totals.Bounces / totals.DeliveryAttempts,
      ComplaintRate: totals.Complaints / totals.DeliveryAttempts,
      RejectRate: totals.Rejects / totals.DeliveryAttempts,
      // One fetch on 22 November covered SES's two weeks back from then, not the 3rd to the 8th.
      coverage: {
        status: 'partial',
        covered: { from: '2026-11-08T00:07:00.000Z', to },
        gaps: [],
        note: '2026-11-08T00:07:00.000Z to 2026-11-20T05:10:00Z of the range is covered (the stored history runs from 2026-11-08T00:07:00.000Z to 2026-11-22T00:07:00.000Z)',
      },
    });
  });

  it('reads raw points at the ragged edges, hourly rollups for whole hours and daily for whole days', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, [row('2026-11-03T10:52:00Z', 1), row('2026-11-05T01:07:00Z', 10000)]);
    // Written through the port so that each granularity holds a distinct digit; the decoys sit
    // where a coarser piece must be read instead.
    await store.writeRollups('stats', '1h', [
      { ...row('2026-11-03T23:00:00Z', 10), Points: 1 },
      { ...row('2026-11-04T05:00:00Z', 300000), Points: 1 },
      { ...row('2026-11-05T00:00:00Z', 1000), Points: 1 },
    ]);
    await store.writeRollups('stats', '1d', [{ ...row('2026-11-04T00:00:00Z', 100), Points: 1 }]);
    await store.writePoint('stats', row('2026-11-04T05:07:00Z', 200000), '2026-11-05T02:00:00Z');

    const summary = await summarize(store, 'stats', {
      from: '2026-11-03T10:37:00Z',
      to: '2026-11-05T01:10:00Z',
    });

    expect(summary.DeliveryAttempts).toBe(11111);
  });

  it('totals every day from the daily rollups when no bounds are given', async () => {
    const store = new MemoryDatasetStore();
    const rows = series('2026-11-01T00:07:00Z', '2026-11-04T00:00:00Z');
    await seed(store, rows);

    const summary = await summarize(store, 'stats', {});

    expect(summary).toMatchObject({
      from: null,
      to: null,
      ...totalsOf(rows, '2026-11-01T00:00:00Z', '2026-11-04T00:00:00Z'),
    });
  });

  it('gives null window rates when there were no delivery attempts', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, [row('2026-11-28T10:07:00Z', 0, 0, 0, 3)]);

    const summary = await summarize(store, 'stats', {});

    expect(summary).toMatchObject({
      DeliveryAttempts: 0,
      Rejects: 3,
      BounceRate: null,
      ComplaintRate: null,
      RejectRate: null,
    });
  });

  it('lists a gap that overlaps the span', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, [row('2026-10-31T23:07:00Z', 1)], new Date('2026-11-01T00:00:00Z'));
    await seed(store, [row('2026-11-16T23:07:00Z', 1)], new Date('2026-11-17T00:00:00Z'));

    const summary = await summarize(store, 'stats', { from: '2026-11-02', to: '2026-11-10' });

    // A gap inside the range leaves it partly known.
    expect(summary.coverage).toEqual({
      status: 'partial',
      covered: { from: '2026-11-02T00:00:00Z', to: '2026-11-10T00:00:00Z' },
      gaps: [{ from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00.000Z' }],
      note: '2026-11-02T00:00:00Z to 2026-11-10T00:00:00Z of the range is covered except a gap (the stored history runs from 2026-10-18T00:00:00.000Z to 2026-11-17T00:00:00.000Z)',
    });
  });

  // Bug: gaps are stored with milliseconds (`…00.000Z`) and the span without (`…00Z`); as strings
  // `…00.000Z` < `…00Z`, so a gap starting exactly at `to` is taken to overlap.
  it('leaves out a gap that starts exactly where the span ends', async () => {
    const store = new MemoryDatasetStore();
    await seed(store, [row('2026-10-31T23:07:00Z', 1)], new Date('2026-11-01T00:00:00Z'));
    await seed(store, [row('2026-11-16T23:07:00Z', 1)], new Date('2026-11-17T00:00:00Z'));

    const summary = await summarize(store, 'stats', { from: '2026-10-25', to: '2026-11-01' });

    expect(summary.coverage).toMatchObject({ gaps: [] });
  });

  it('reports the latest and peak utilisation, never dividing by an unlimited quota', async () => {
    const store = await usageStore([
      usage('2026-11-26T12:00:00.000Z', 50000, 10000),
      usage('2026-11-27T12:00:00.000Z', 50000, 40000),
      usage('2026-11-28T12:00:00.000Z', -1, 90000),
    ]);

    const summary = await summarize(store, 'quota', {});

    expect(summary).toEqual({
      dataset: 'quota',
      kind: 'usage',
      from: null,
      to: null,
      coverage: expect.objectContaining({ status: 'none' }),
      snapshots: 3,
      latest: {
        ...usage('2026-11-28T12:00:00.000Z', -1, 90000),
        Utilisation: null,
        Unlimited: true,
      },
      peak: { ...usage('2026-11-27T12:00:00.000Z', 50000, 40000), Utilisation: 0.8 },
    });
  });

  it('reports the latest limited snapshot with its utilisation and no peak when every quota was unlimited', async () => {
    const limited = await usageStore([usage('2026-11-28T12:00:00.000Z', 200, 50)]);
    const unlimited = await usageStore([usage('2026-11-28T12:00:00.000Z', -1, 50)]);

    const a = await summarize(limited, 'quota', {});
    const b = await summarize(unlimited, 'quota', {});

    expect(a.latest).toMatchObject({ Utilisation: 0.25, Unlimited: false });
    expect(b.peak).toBeNull();
  });
});

describe('utilisation', () => {
  it('divides the sent count by the quota when the quota is limited', () => {
    expect(utilisation(usage('2026-11-28T12:00:00.000Z', 200, 50))).toBe(0.25);
  });

  it('is null when the quota is unlimited (-1) or zero', () => {
    expect(utilisation(usage('2026-11-28T12:00:00.000Z', -1, 50))).toBeNull();
    expect(utilisation(usage('2026-11-28T12:00:00.000Z', 0, 50))).toBeNull();
  });
});

describe('parseSpan', () => {
  it('turns bounds into whole-second UTC keys, rounding fractions up', () => {
    expect(parseSpan({ from: '2026-11-28', to: '2026-11-28T12:30:00.250+01:00' })).toEqual({
      from: '2026-11-28T00:00:00Z',
      to: '2026-11-28T11:30:01Z',
    });
  });

  it('spans all time when no bounds are given', () => {
    expect(parseSpan({})).toEqual({ from: '0000-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z' });
  });
});

describe('parseQueryOptions', () => {
  it('checks every parameter without a store and reads a time without an offset in tz', () => {
    expect(
      parseQueryOptions({
        from: '2026-11-28',
        to: '2026-11-29T00:00:00+01:00',
        granularity: '1h',
        tz: 'Europe/Paris',
      }),
    ).toEqual({
      // Midnight in Paris is 23:00 UTC the day before; a time with an offset is that instant.
      span: { from: '2026-11-27T23:00:00Z', to: '2026-11-28T23:00:00Z' },
      granularity: '1h',
      tz: 'Europe/Paris',
      limit: undefined,
    });
  });

  it('reads years 0000-0099 as written, not as 1900-1999', () => {
    expect(parseQueryOptions({ from: '0050-02-28', to: '0099-12-31' }).span).toEqual({
      from: '0050-02-28T00:00:00Z',
      to: '0099-12-31T00:00:00Z',
    });
  });

  it.each([
    ['granularity', { granularity: '' }, 'granularity: received ""; allowed: 15m, 1h, 1d'],
    ['series', { series: 'rates' }, 'series: received "rates"; allowed: state, reputation'],
    ['tz', { tz: 'Mars/Olympus' }, 'tz: received "Mars/Olympus"; expected an IANA time zone'],
    ['from', { from: 'a\nb' }, 'from: received "a\\nb"; expected an ISO-8601 date or time'],
    [
      'to',
      { to: '9999-12-31T23:59:59.500Z' },
      'to: received "9999-12-31T23:59:59.500Z"; expected a time from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z',
    ],
    [
      'from',
      { from: '0000-01-01T00:00:00+01:00' },
      'from: received "0000-01-01T00:00:00+01:00"; expected a time from 0000-01-01T00:00:00Z',
    ],
    [
      'to',
      { to: '0000-01-01' },
      'to: received "0000-01-01"; expected a time after 0000-01-01T00:00:00Z',
    ],
  ])('rejects with a QueryError naming %s when given %j', (parameter, options, message) => {
    expect(() => parseQueryOptions(options)).toThrow(
      expect.objectContaining({ name: 'QueryError', parameter }),
    );
    expect(() => parseQueryOptions(options)).toThrow(message);
  });
});
