import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isoUtc, type StatisticsRow, type UsageRow } from '../../lambda/core/datasets.ts';
import { QueryError } from '../../lambda/core/errors.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import {
  parseQueryOptions,
  type QueryOptions,
  type QueryResult,
  queryDataset,
  summarize,
} from '../../lambda/core/query.ts';
import type { DatasetMeta, DatasetStore, Span } from '../../lambda/core/store.ts';
import { wallTimeToUtc } from '../../lambda/core/zones.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';
import { row, series } from '../support/rows.ts';

const QUARTER_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

/** Stores `rows` in two-week fetches through the real write path, as daily collections would. */
async function history(rows: StatisticsRow[]): Promise<MemoryDatasetStore> {
  const store = new MemoryDatasetStore();
  const first = Date.parse(rows[0]?.Timestamp ?? '');
  const last = Date.parse(rows.at(-1)?.Timestamp ?? '');
  const fetches: number[] = [];
  for (let at = first + DAY_MS; at < last; at += 7 * DAY_MS) fetches.push(at);
  for (const at of [...fetches, last + QUARTER_MS]) {
    const fetchedAt = new Date(at);
    const window = rows.filter((r) => {
      const t = Date.parse(r.Timestamp);
      return t < fetchedAt.getTime() && t >= fetchedAt.getTime() - 14 * DAY_MS;
    });
    await storeActivityResult(
      store,
      {
        activity: { name: 'a', source: 'S1', usageDataset: 'usage', statisticsDataset: 'stats' },
        usage: {
          name: 'usage',
          rows: [usage(fetchedAt.toISOString(), Math.round(at / DAY_MS) % 1000)],
        },
        statistics: { name: 'stats', rows: window },
      },
      { fetchedAt },
    );
  }
  return store;
}

const usage = (CollectedAt: string, SentLast24Hours: number): UsageRow => ({
  CollectedAt,
  Max24HourSend: 50_000,
  MaxSendRate: 14,
  SentLast24Hours,
});

/** Every page of a query, following nextToken; each page's result. */
async function allPages(
  store: DatasetStore,
  name: string,
  options: QueryOptions,
  now?: Date,
): Promise<QueryResult[]> {
  const pages: QueryResult[] = [];
  let nextToken = options.nextToken;
  do {
    const page = await queryDataset(store, name, { ...options, nextToken }, now);
    pages.push(page);
    nextToken = page.nextToken;
    if (pages.length > 10_000) throw new Error('paging does not end');
  } while (nextToken !== undefined);
  return pages;
}

/** A store that counts the items its reads return (DynamoDB bills what a Query reads). */
function counting(store: DatasetStore): { store: DatasetStore; read: () => number } {
  let read = 0;
  const count = <T>(rows: T[]) => {
    read += rows.length;
    return rows;
  };
  const wrapped: DatasetStore = Object.assign(Object.create(store) as DatasetStore, {
    readPoints: async (n: string, s: Span, l?: number) => count(await store.readPoints(n, s, l)),
    readRollups: async (n: string, g: '1h' | '1d', s: Span, l?: number) =>
      count(await store.readRollups(n, g, s, l)),
    readUsage: async (n: string, s: Span, l?: number) => count(await store.readUsage(n, s, l)),
  });
  return { store: wrapped, read: () => read };
}

const ROWS = series('2026-10-20T00:07:00Z', '2026-11-20T00:00:00Z');

describe('paging', () => {
  it.each([
    ['15m', undefined, 1000],
    ['15m', undefined, 7],
    ['1h', undefined, 50],
    ['1d', undefined, 4],
    ['1d', 'America/New_York', 3],
    ['1h', 'America/New_York', 100],
    ['1d', 'Asia/Kolkata', 5],
    ['1h', 'Asia/Kolkata', 333],
    ['1d', 'Europe/Paris', 1],
  ])(
    'pages of %s in %s, %i rows at most, add up exactly to the unpaged result',
    async (granularity, tz, limit) => {
      const store = await history(ROWS);
      const options = { granularity, tz, from: '2026-10-25T13:00:00', to: '2026-11-18' };

      const whole = await queryDataset(store, 'stats', options);
      const pages = await allPages(store, 'stats', { ...options, limit });

      expect(whole.nextToken).toBeUndefined();
      expect(whole.rows.length).toBeGreaterThan(limit);
      expect(pages.flatMap((p) => p.rows)).toEqual(whole.rows);
      for (const page of pages) {
        expect(page.rows.length).toBeLessThanOrEqual(limit);
        expect(page.span).toEqual(whole.span);
        expect(page.granularity).toBe(granularity);
      }
    },
  );

  it('pages usage snapshots and a dataset with stale rollups exactly', async () => {
    const store = await history(ROWS);
    const meta = await store.getMeta('stats');
    if (meta === undefined) throw new Error('no meta');
    // An interrupted run leaves days stale: rollups there are wrong until a later run repairs them.
    await store.writeRollups('stats', '1h', [
      { ...row('2026-11-02T05:00:00Z', 999_999), Points: 1 },
    ]);
    await store.putMeta({
      ...meta,
      staleRollups: [{ from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' }],
    });

    for (const [name, options] of [
      ['usage', {}],
      ['stats', { granularity: '1h' }],
    ] as const) {
      const whole = await queryDataset(store, name, options);
      const pages = await allPages(store, name, { ...options, limit: 2 });
      expect(pages.flatMap((p) => p.rows)).toEqual(whole.rows);
    }
    const hourly = await queryDataset(store, 'stats', {
      granularity: '1h',
      from: '2026-11-02T05:00:00Z',
      to: '2026-11-02T06:00:00Z',
    });
    expect((hourly.rows[0] as StatisticsRow).DeliveryAttempts).not.toBe(999_999);
  });

  it('reads about as many items as it returns (15m, 1h, 1d, usage: at most one extra per page)', async () => {
    const { store, read } = counting(await history(ROWS));

    for (const [name, granularity, limit] of [
      ['stats', '15m', 1000],
      ['stats', '1h', 100],
      ['stats', '1d', 10],
      ['usage', undefined, 2],
    ] as const) {
      const before = read();
      const pages = await allPages(store, name, { granularity, limit });
      const rows = pages.flatMap((p) => p.rows).length;
      expect(read() - before).toBeLessThanOrEqual(rows + pages.length);
    }
  });

  it('keeps a since range fixed across pages, however much later the next page is asked', async () => {
    const store = await history(ROWS);
    const now = new Date('2026-11-20T00:00:00Z');
    const first = await queryDataset(store, 'stats', { since: '2d', limit: 100 }, now);
    const later = new Date(now.getTime() + 3 * 3_600_000);
    const rest = await allPages(
      store,
      'stats',
      { since: '2d', limit: 100, nextToken: first.nextToken },
      later,
    );

    expect(first.rows).toHaveLength(100);
    expect([...first.rows, ...rest.flatMap((p) => p.rows)]).toEqual(
      (await queryDataset(store, 'stats', { since: '2d' }, now)).rows,
    );
    expect(rest.at(-1)?.span).toEqual({ from: '2026-11-18T00:00:00Z', to: '2026-11-20T00:00:00Z' });
  });

  it('refuses an altered token, and a token of another dataset, range, granularity or zone', async () => {
    const store = await history(ROWS);
    const options = { granularity: '1h', from: '2026-11-01', limit: 10 };
    const { nextToken } = await queryDataset(store, 'stats', options);
    if (nextToken === undefined) throw new Error('expected a second page');
    const [body = '', mac = ''] = nextToken.split('.');
    const flipped = `${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}.${mac}`;
    const forged = `${Buffer.from(
      Buffer.from(body, 'base64url')
        .toString()
        .replace(/"c":"[^"]+"/, '"c":"2026-11-15T00:00:00Z"'),
    ).toString('base64url')}.${mac}`;

    for (const token of [flipped, forged, `${body}.`, 'x', `${nextToken}.x`, ''])
      await expect(queryDataset(store, 'stats', { ...options, nextToken: token })).rejects.toThrow(
        /^nextToken: is not a token this API issued, or it was altered/,
      );
    for (const other of [
      { ...options, from: '2026-11-02' },
      { ...options, granularity: '1d' },
      { ...options, tz: 'Europe/Paris' },
      { ...options, to: '2026-11-19' },
    ])
      await expect(queryDataset(store, 'stats', { ...other, nextToken })).rejects.toThrow(
        /^nextToken: belongs to another query/,
      );
    await store.putMeta({
      ...((await store.getMeta('stats')) as DatasetMeta),
      name: 'stats2',
      version: 0,
    });
    await expect(queryDataset(store, 'stats2', { ...options, nextToken })).rejects.toBeInstanceOf(
      QueryError,
    );
    // The same query with another page size is the same query.
    expect(
      (await queryDataset(store, 'stats', { ...options, limit: 3, nextToken })).rows,
    ).toHaveLength(3);
  });
});

describe('times without an offset are read in tz', () => {
  it.each([
    ['Europe/Paris', '2026-11-01', '2026-10-31T23:00:00Z'],
    ['America/New_York', '2026-11-01', '2026-11-01T04:00:00Z'],
    ['America/New_York', '2026-11-02', '2026-11-02T05:00:00Z'],
    ['Asia/Kolkata', '2026-11-01T06:00', '2026-11-01T00:30:00Z'],
    ['UTC', '2026-11-01', '2026-11-01T00:00:00Z'],
  ])('%s: from %s is %s', (tz, from, utc) => {
    expect(parseQueryOptions({ tz, from }).span.from).toBe(utc);
    // An offset written out is that instant, whatever the zone.
    expect(parseQueryOptions({ tz, from: `${from.slice(0, 10)}T00:00:00Z` }).span.from).toBe(
      `${from.slice(0, 10)}T00:00:00Z`,
    );
  });

  it('includes the first local day: 1 November in Paris starts at 23:00 UTC on 31 October', async () => {
    const store = await history(ROWS);
    const out = await queryDataset(store, 'stats', {
      tz: 'Europe/Paris',
      from: '2026-11-01',
      to: '2026-11-02',
      granularity: '15m',
    });

    expect((out.rows[0] as StatisticsRow).Timestamp).toBe('2026-10-31T23:07:00Z');
    expect(out.rows).toHaveLength(96);
  });

  it('reads a time shown twice as its first instant and a time never shown as after the change', () => {
    // New York: clocks go back at 02:00 EDT on 1 November 2026 and forward at 02:00 EST on 8 March.
    expect(
      isoUtc(new Date(wallTimeToUtc('America/New_York', Date.parse('2026-11-01T01:30:00Z')))),
    ).toBe('2026-11-01T05:30:00Z');
    expect(
      isoUtc(new Date(wallTimeToUtc('America/New_York', Date.parse('2026-03-08T02:30:00Z')))),
    ).toBe('2026-03-08T07:30:00Z');
    expect(
      isoUtc(new Date(wallTimeToUtc('Asia/Kolkata', Date.parse('2026-03-08T02:30:00Z')))),
    ).toBe('2026-03-07T21:00:00Z');
  });

  it('sums the 25-hour New York day when summer time ends, and pages it', async () => {
    const store = await history(ROWS);
    const out = await queryDataset(store, 'stats', {
      tz: 'America/New_York',
      granularity: '1d',
      from: '2026-10-31',
      to: '2026-11-03',
    });

    expect(out.rows.map((r) => (r as StatisticsRow).Timestamp)).toEqual([
      '2026-10-31T00:00:00-04:00',
      '2026-11-01T00:00:00-04:00',
      '2026-11-02T00:00:00-05:00',
    ]);
    const sum = (from: string, to: string) =>
      ROWS.filter((r) => r.Timestamp >= from && r.Timestamp < to).reduce(
        (t, r) => t + r.DeliveryAttempts,
        0,
      );
    expect((out.rows[1] as StatisticsRow).DeliveryAttempts).toBe(
      sum('2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z'),
    );
  });
});

describe('since, limit and the chosen granularity', () => {
  const now = new Date('2026-11-20T10:00:00.400Z');

  it('counts since back from now, or from to', () => {
    expect(parseQueryOptions({ since: '7d' }, now).span).toEqual({
      from: '2026-11-13T10:00:01Z',
      to: '2026-11-20T10:00:01Z',
    });
    expect(
      parseQueryOptions({ since: '90m', to: '2026-11-01', tz: 'Europe/Paris' }, now).span,
    ).toEqual({
      from: '2026-10-31T21:30:00Z',
      to: '2026-10-31T23:00:00Z',
    });
  });

  it.each([
    [
      { since: '7' },
      'since',
      'since: received "7"; expected a duration such as 90m, 24h, 7d or 2w',
    ],
    [{ since: '0d' }, 'since', 'expected a duration'],
    [
      { since: '1d', from: '2026-11-01' },
      'since',
      'together with from "2026-11-01"; give one of them',
    ],
    [{ limit: '0' }, 'limit', 'limit: received "0"; expected a whole number from 1 to 1000'],
    [{ limit: 1001 }, 'limit', 'received "1001"'],
    [{ limit: '1.5' }, 'limit', 'received "1.5"'],
    [{ limit: ' 5' }, 'limit', 'received " 5"'],
  ])('refuses %j naming %s', (options, parameter, message) => {
    expect(() => parseQueryOptions(options, now)).toThrow(
      expect.objectContaining({ name: 'QueryError', parameter }),
    );
    expect(() => parseQueryOptions(options, now)).toThrow(message);
  });

  it('chooses the finest granularity with at most 1,500 rows over the stored range', async () => {
    const store = await history(ROWS);
    const pick = async (options: QueryOptions) =>
      (await queryDataset(store, 'stats', options)).granularity;

    expect(await pick({ from: '2026-11-05' })).toBe('15m');
    expect(await pick({})).toBe('1h');
    expect(await pick({ from: '2025-01-01', to: '2026-11-10' })).toBe('1h');
    const long = await history(series('2026-01-01T00:07:00Z', '2026-11-20T00:00:00Z', 8));
    expect((await queryDataset(long, 'stats', {})).granularity).toBe('1d');
    expect((await queryDataset(long, 'stats', {})).rows.length).toBeLessThanOrEqual(1500);
  });
});

describe('summary coverage', () => {
  it('says a range before the history lies outside it, with no totals', async () => {
    const store = await history(ROWS);

    const summary = await summarize(store, 'stats', { from: '2025-01-01', to: '2025-02-01' });

    expect(summary).toMatchObject({
      DeliveryAttempts: null,
      BounceRate: null,
      coverage: { status: 'none', covered: null, gaps: [] },
    });
    expect((summary.coverage as { note: string }).note).toMatch(
      /^the range lies outside the stored history: nothing is known about it \(the stored history runs from 2026-10-/,
    );
  });

  it('reports the covered part of a range reaching past the history', async () => {
    const store = await history(ROWS);

    const summary = await summarize(
      store,
      'stats',
      { since: '30d' },
      new Date('2026-12-10T00:00:00Z'),
    );

    expect(summary.coverage).toMatchObject({
      status: 'partial',
      covered: { from: '2026-11-10T00:00:00Z', to: '2026-11-20T00:07:00.000Z' },
    });
    expect(summary.DeliveryAttempts).toBe(
      ROWS.filter((r) => r.Timestamp >= '2026-11-10').reduce((t, r) => t + r.DeliveryAttempts, 0),
    );
  });

  it('counts a usage dataset with one snapshot as covering that snapshot', async () => {
    const store = new MemoryDatasetStore();
    const at = '2026-11-20T10:00:00.000Z';
    await storeActivityResult(
      store,
      {
        activity: { name: 'a', source: 'S1', usageDataset: 'usage', statisticsDataset: 'stats' },
        usage: { name: 'usage', rows: [usage(at, 500)] },
        statistics: { name: 'stats', rows: [] },
      },
      { fetchedAt: new Date(at) },
    );

    const summary = await summarize(
      store,
      'usage',
      { since: '24h' },
      new Date('2026-11-20T11:00:00Z'),
    );

    expect(summary).toMatchObject({
      snapshots: 1,
      latest: { SentLast24Hours: 500 },
      coverage: {
        status: 'partial',
        covered: { from: '2026-11-20T10:00:00.000Z', to: '2026-11-20T10:00:00.001Z' },
      },
    });
  });

  it('says a range inside a gap is not known, with no totals', async () => {
    const store = await history(ROWS);
    const meta = (await store.getMeta('stats')) as DatasetMeta;
    await store.putMeta({
      ...meta,
      gaps: [{ from: '2026-11-01T00:00:00.000Z', to: '2026-11-05T00:00:00.000Z' }],
    });

    const inside = await summarize(store, 'stats', { from: '2026-11-02', to: '2026-11-03' });
    const across = await summarize(store, 'stats', { from: '2026-10-30', to: '2026-11-03' });

    expect(inside).toMatchObject({
      DeliveryAttempts: null,
      coverage: { status: 'none', covered: null },
    });
    expect((inside.coverage as { note: string }).note).toMatch(/^the range lies inside a gap/);
    expect(across.coverage).toMatchObject({ status: 'partial' });
  });
});

describe('edges the review found', () => {
  it('pages a zone with neither from nor to: from the first stored row to the last, then stops', async () => {
    const store = await history(ROWS);
    for (const [granularity, limit] of [
      ['1d', 5],
      ['1h', 200],
    ] as const) {
      const options = { tz: 'Europe/Paris', granularity };
      const whole = await queryDataset(store, 'stats', options);
      const pages = await allPages(store, 'stats', { ...options, limit });
      expect(whole.rows.length).toBeGreaterThan(limit);
      expect(pages.flatMap((p) => p.rows)).toEqual(whole.rows);
      expect(pages.length).toBeLessThanOrEqual(Math.ceil(whole.rows.length / limit) + 1);
    }
    const empty = new MemoryDatasetStore();
    await empty.putMeta({
      name: 'none',
      kind: 'statistics',
      source: 'S',
      activity: 'a',
      count: 0,
      gaps: [],
      version: 0,
    });
    const nothing = await queryDataset(empty, 'none', {
      tz: 'Asia/Kolkata',
      granularity: '1h',
      limit: 10,
    });
    expect(nothing.rows).toEqual([]);
    expect(nothing.nextToken).toBeUndefined();
  });

  it('refuses a well-signed token whose payload is not a page of the query (the signing key is public)', async () => {
    const store = await history(ROWS);
    const options = { granularity: '1h', from: '2026-11-01', limit: 10 };
    const { nextToken } = await queryDataset(store, 'stats', options);
    const real = JSON.parse(
      Buffer.from(String(nextToken).split('.')[0] ?? '', 'base64url').toString(),
    );
    const sign = (text: string) => {
      const body = Buffer.from(text).toString('base64url');
      return `${body}.${createHmac('sha256', 'ses-stats/page-token/v1').update(body).digest().subarray(0, 16).toString('base64url')}`;
    };
    expect(
      (await queryDataset(store, 'stats', { ...options, nextToken: sign(JSON.stringify(real)) }))
        .rows,
    ).toHaveLength(10);
    for (const forged of [
      'not json',
      'null',
      '[]',
      JSON.stringify({ ...real, g: '5m' }),
      JSON.stringify({ ...real, g: '15m' }),
      JSON.stringify({ ...real, f: 'x' }),
      JSON.stringify({ ...real, f: 1, t: 2 }),
      JSON.stringify({ ...real, c: '2026-10-01T00:00:00Z' }),
      JSON.stringify({ ...real, c: '2026-11-31T00:00:00Z' }),
    ])
      await expect(
        queryDataset(store, 'stats', { ...options, nextToken: sign(forged) }),
      ).rejects.toThrow(expect.objectContaining({ name: 'QueryError', parameter: 'nextToken' }));
  });

  it('re-sums stale days into whole buckets starting inside the span only', async () => {
    const store = await history(ROWS);
    const clean = await queryDataset(store, 'stats', {
      granularity: '1h',
      from: '2026-11-02T05:30:00Z',
      to: '2026-11-02T08:30:00Z',
    });
    const meta = (await store.getMeta('stats')) as DatasetMeta;
    await store.putMeta({
      ...meta,
      staleRollups: [{ from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' }],
    });

    const stale = await queryDataset(store, 'stats', {
      granularity: '1h',
      from: '2026-11-02T05:30:00Z',
      to: '2026-11-02T08:30:00Z',
    });

    expect(clean.rows.map((r) => (r as StatisticsRow).Timestamp)).toEqual([
      '2026-11-02T06:00:00Z',
      '2026-11-02T07:00:00Z',
      '2026-11-02T08:00:00Z',
    ]);
    expect(stale.rows).toEqual(clean.rows);
  });

  it('reads years 0-99 in a zone as written (local mean time before 1900)', () => {
    expect(
      parseQueryOptions({ from: '0050-01-01', to: '0050-01-02', tz: 'Europe/Paris' }).span,
    ).toEqual({
      from: '0049-12-31T23:50:39Z',
      to: '0050-01-01T23:50:39Z',
    });
    expect(() => parseQueryOptions({ to: '0000-01-02', tz: 'Asia/Tokyo' })).not.toThrow();
  });

  it('keeps points a stopped run left past the recorded first and last time, in stale days, in zoned rows too', async () => {
    const store = await history(ROWS);
    const meta = (await store.getMeta('stats')) as DatasetMeta;
    // A run wrote two days more and stopped before its metadata: those days are recorded stale.
    const extra = series('2026-11-20T00:07:00Z', '2026-11-22T00:00:00Z');
    for (const point of extra) await store.writePoint('stats', point, '2026-11-22T00:00:00.000Z');
    await store.putMeta({
      ...meta,
      staleRollups: [{ from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' }],
    });
    const total = (rows: ReadonlyArray<unknown>) =>
      rows.reduce<number>((t, r) => t + (r as StatisticsRow).DeliveryAttempts, 0);
    const raw = await queryDataset(store, 'stats', { granularity: '15m' });

    for (const granularity of ['1h', '1d'])
      expect(
        total((await queryDataset(store, 'stats', { tz: 'Europe/Paris', granularity })).rows),
      ).toBe(total(raw.rows));
    // A new dataset whose first run stopped: no first or last time yet, only stale days.
    await store.putMeta({
      ...meta,
      name: 'fresh',
      version: 0,
      firstTime: undefined,
      lastTime: undefined,
      staleRollups: [{ from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' }],
    });
    for (const point of extra) await store.writePoint('fresh', point, '2026-11-22T00:00:00.000Z');
    expect(
      total((await queryDataset(store, 'fresh', { tz: 'Asia/Kolkata', granularity: '1d' })).rows),
    ).toBe(total(extra));
  });

  it('sums a 25-hour local day read from raw points whole, though `to` falls in its first hour (Chatham)', async () => {
    const april = series('2026-03-28T00:07:00Z', '2026-04-10T00:00:00Z');
    const store = await history(april);
    // Chatham (+13:45, then +12:45) leaves summer time on 5 April: that local day starts at
    // 10:15 UTC on 4 April and lasts 25 hours.
    const out = await queryDataset(store, 'stats', {
      tz: 'Pacific/Chatham',
      granularity: '1d',
      from: '2026-04-04T10:15:00Z',
      to: '2026-04-04T10:45:00Z',
    });

    expect(out.rows.map((r) => (r as StatisticsRow).Timestamp)).toEqual([
      '2026-04-05T00:00:00+13:45',
    ]);
    const start = Date.parse('2026-04-04T10:15:00Z');
    expect((out.rows[0] as StatisticsRow).DeliveryAttempts).toBe(
      april
        .filter(
          (r) =>
            Date.parse(r.Timestamp) >= start && Date.parse(r.Timestamp) < start + 25 * 3_600_000,
        )
        .reduce((t, r) => t + r.DeliveryAttempts, 0),
    );
  });

  it('refuses a token that would move the range of a query with from and to', async () => {
    const store = await history(ROWS);
    const options = { granularity: '1h', from: '2026-11-01', to: '2026-11-10', limit: 10 };
    const { nextToken } = await queryDataset(store, 'stats', options);
    const real = JSON.parse(
      Buffer.from(String(nextToken).split('.')[0] ?? '', 'base64url').toString(),
    );
    const body = Buffer.from(JSON.stringify({ ...real, f: '2026-10-01T00:00:00Z' })).toString(
      'base64url',
    );
    const mac = createHmac('sha256', 'ses-stats/page-token/v1')
      .update(body)
      .digest()
      .subarray(0, 16);

    await expect(
      queryDataset(store, 'stats', {
        ...options,
        nextToken: `${body}.${mac.toString('base64url')}`,
      }),
    ).rejects.toThrow(/^nextToken: belongs to another range/);
  });
});
