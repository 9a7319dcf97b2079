import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  buildAccountRow,
  REPUTATION_COLUMNS,
} from '../../lambda/core/datasets.ts';
import { QueryError } from '../../lambda/core/errors.ts';
import {
  parseQueryOptions,
  type QueryOptions,
  type QueryResult,
  queryDataset,
  summarize,
} from '../../lambda/core/query.ts';
import type { DatasetStore, Span } from '../../lambda/core/store.ts';
import {
  fillAccountHistory,
  HEALTHY,
  PROBATION,
  REPUTATION,
  SANDBOX,
} from '../support/account-history.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';

/** The three stored states, as a reader expects them (first and last sighting of each). */
const A: AccountRow = {
  ...buildAccountRow(HEALTHY, new Date('2026-11-01T00:00:00Z')),
  LastSeen: '2026-11-01T02:00:00.000Z',
};
const B: AccountRow = {
  ...buildAccountRow(PROBATION, new Date('2026-11-01T03:00:00Z')),
  LastSeen: '2026-11-01T04:00:00.000Z',
};
const C: AccountRow = {
  ...buildAccountRow(SANDBOX, new Date('2026-11-01T05:00:00Z')),
  LastSeen: '2026-11-01T06:00:00.000Z',
};

async function accountStore(): Promise<MemoryDatasetStore> {
  const store = new MemoryDatasetStore();
  await fillAccountHistory(store);
  return store;
}

/** Every page of a query, following nextToken. */
async function allPages(
  store: DatasetStore,
  name: string,
  options: QueryOptions,
): Promise<QueryResult[]> {
  const pages: QueryResult[] = [];
  let nextToken: string | undefined;
  do {
    const page = await queryDataset(store, name, { ...options, nextToken });
    pages.push(page);
    nextToken = page.nextToken;
  } while (nextToken !== undefined && pages.length < 100);
  return pages;
}

describe('queryDataset of an account dataset', () => {
  it('returns the account states by FirstSeen with the account columns by default', async () => {
    const store = await accountStore();

    const result = await queryDataset(store, 'acct', {});

    expect(result.rows).toEqual([A, B, C]);
    expect(result.columns).toEqual(ACCOUNT_COLUMNS);
    expect(result).toMatchObject({ series: 'state', granularity: null, tz: 'UTC' });
    expect(result.nextToken).toBeUndefined();
  });

  it('starts a range with the state in force at from, seen at or after it', async () => {
    const store = await accountStore();

    const result = await queryDataset(store, 'acct', {
      from: '2026-11-01T01:30:00Z',
      to: '2026-11-01T05:00:00Z',
    });

    // A was first seen before from and still seen at 02:00; C starts at to, which is excluded.
    expect(result.rows).toEqual([A, B]);
  });

  it('leaves out a state last seen before from: the account may have changed unseen since', async () => {
    const store = await accountStore();

    const result = await queryDataset(store, 'acct', {
      from: '2026-11-01T02:30:00Z',
      to: '2026-11-01T03:30:00Z',
    });

    expect(result.rows).toEqual([B]);
  });

  it('includes a state first seen exactly at from once, and a state in force at a range after the last change', async () => {
    const store = await accountStore();

    const at = await queryDataset(store, 'acct', { from: '2026-11-01T03:00:00Z' });
    const after = await queryDataset(store, 'acct', { since: '30m', to: '2026-11-01T06:00:00Z' });

    expect(at.rows).toEqual([B, C]);
    expect(after.rows).toEqual([C]);
  });

  it('returns the reputation hours by Timestamp without their fetch time with series=reputation', async () => {
    const store = await accountStore();

    const result = await queryDataset(store, 'acct', {
      series: 'reputation',
      from: '2026-11-01',
      to: '2026-11-01T03:00:00Z',
    });

    expect(result.columns).toEqual(REPUTATION_COLUMNS);
    expect(result.series).toBe('reputation');
    expect(result.rows).toEqual(REPUTATION.slice(2, 5));
  });

  it.each([
    ['state', {}, 1],
    ['state', { from: '2026-11-01T01:00:00Z' }, 1],
    ['state', { from: '2026-11-01T01:00:00Z' }, 2],
    ['reputation', {}, 3],
    ['reputation', { since: '6h', to: '2026-11-01T06:00:00Z' }, 1],
  ])(
    'pages series %s of %j, %i rows at most, adding up to the unpaged rows',
    async (series, range, limit) => {
      const store = await accountStore();
      const options = { ...range, series };

      const whole = await queryDataset(store, 'acct', options);
      const pages = await allPages(store, 'acct', { ...options, limit });

      expect(pages.length).toBeGreaterThan(1);
      expect(pages.flatMap((p) => p.rows)).toEqual(whole.rows);
      for (const page of pages) expect(page.rows.length).toBeLessThanOrEqual(limit);
    },
  );

  it('refuses an altered token and a token of another series or range', async () => {
    const store = await accountStore();
    const options = { series: 'state', limit: 1 };
    const { nextToken } = await queryDataset(store, 'acct', options);
    if (nextToken === undefined) throw new Error('expected a second page');
    const [body = '', mac = ''] = nextToken.split('.');
    const flipped = `${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}.${mac}`;

    await expect(queryDataset(store, 'acct', { ...options, nextToken: flipped })).rejects.toThrow(
      /^nextToken: is not a token this API issued, or it was altered/,
    );
    for (const other of [
      { ...options, series: 'reputation' },
      { limit: 1 },
      { ...options, from: '2026-11-01T01:00:00Z' },
    ])
      await expect(queryDataset(store, 'acct', { ...other, nextToken })).rejects.toThrow(
        /^nextToken: belongs to another query: repeat the dataset, from, to, since, granularity, tz and series/,
      );
    expect((await queryDataset(store, 'acct', { ...options, nextToken })).rows).toEqual([B]);
  });

  it('refuses a granularity on an account dataset naming granularity', async () => {
    const store = await accountStore();

    const refused = queryDataset(store, 'acct', { granularity: '1h' });

    await expect(refused).rejects.toBeInstanceOf(QueryError);
    await expect(refused).rejects.toThrow(
      'granularity: "acct" is an account dataset of states and reputation hours; granularity applies to statistics datasets only',
    );
  });

  it('refuses series on a usage or statistics dataset naming series', async () => {
    const store = await accountStore();
    for (const kind of ['usage', 'statistics'] as const)
      await store.putMeta({
        name: kind,
        kind,
        source: 'S1',
        activity: 'a',
        count: 0,
        gaps: [],
        version: 0,
      });

    for (const kind of ['usage', 'statistics'])
      await expect(queryDataset(store, kind, { series: 'state' })).rejects.toThrow(
        `series: "${kind}" is a ${kind} dataset; series applies to account datasets only`,
      );
  });

  it('refuses an unknown series before any store is read', () => {
    expect(() => parseQueryOptions({ series: 'states' })).toThrow(
      'series: received "states"; allowed: state, reputation (account datasets only)',
    );
    expect(parseQueryOptions({ series: 'reputation' }).series).toBe('reputation');
  });

  it('reads the state in force from the last change on when it lies before from (a short read)', async () => {
    const store = await accountStore();
    const reads: Span[] = [];
    const counted: DatasetStore = Object.assign(Object.create(store) as DatasetStore, {
      readAccountStates: async (n: string, s: Span, l?: number) => {
        reads.push(s);
        return store.readAccountStates(n, s, l);
      },
    });

    await queryDataset(counted, 'acct', { from: '2026-11-01T05:30:00Z' });

    expect(reads).toContainEqual({
      from: '2026-11-01T05:00:00.000Z',
      to: '2026-11-01T05:30:00.000Z',
    });
  });
});

describe('summarize an account dataset', () => {
  it('gives the latest state, two changes over three states, and the latest and highest reputation rates', async () => {
    const store = await accountStore();

    const summary = await summarize(store, 'acct', {});

    expect(summary).toEqual({
      dataset: 'acct',
      kind: 'account',
      from: null,
      to: null,
      coverage: {
        status: 'full',
        covered: { from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T06:00:00.001Z' },
        gaps: [],
      },
      states: 3,
      stateChanges: 2,
      latest: { ...C, Sandbox: true },
      reputationHours: REPUTATION.length,
      latestReputation: {
        BounceRate: 0.04,
        BounceRateAt: '2026-11-01T05:00:00Z',
        ComplaintRate: 0.002,
        ComplaintRateAt: '2026-11-01T04:00:00Z',
      },
      peakReputation: {
        BounceRate: 0.06,
        BounceRateAt: '2026-11-01T02:00:00Z',
        ComplaintRate: 0.004,
        ComplaintRateAt: '2026-11-01T03:00:00Z',
      },
    });
  });

  it('counts only the changes inside the range: the state in force at from is not one', async () => {
    const store = await accountStore();

    const probation = await summarize(store, 'acct', {
      from: '2026-11-01T03:30:00Z',
      to: '2026-11-01T04:30:00Z',
    });
    const firstTwo = await summarize(store, 'acct', {
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-01T04:00:00Z',
    });

    expect(probation).toMatchObject({
      states: 1,
      stateChanges: 0,
      latest: { ...B, Sandbox: false },
      coverage: { status: 'full' },
      reputationHours: 1,
    });
    // The first state ever stored is a first sighting, not a change.
    expect(firstTwo).toMatchObject({ states: 2, stateChanges: 1, latest: B });
  });

  it('says a range outside the stored states is not known, with no state and no change count', async () => {
    const store = await accountStore();

    const summary = await summarize(store, 'acct', { from: '2025-01-01', to: '2025-02-01' });

    expect(summary).toMatchObject({
      states: 0,
      stateChanges: null,
      latest: null,
      reputationHours: 0,
      latestReputation: null,
      peakReputation: null,
      coverage: { status: 'none', covered: null },
    });
    expect((summary.coverage as { note: string }).note).toMatch(
      /^the range lies outside the stored history/,
    );
  });

  it('reports reputation hours stored before the first state (CloudWatch backfill) with the coverage saying none', async () => {
    const store = await accountStore();

    const summary = await summarize(store, 'acct', {
      from: '2026-10-31T20:00:00Z',
      to: '2026-10-31T22:00:00Z',
    });

    expect(summary).toMatchObject({
      stateChanges: null,
      latest: null,
      reputationHours: 2,
      peakReputation: { BounceRate: 0.012, ComplaintRate: 0.0001 },
      coverage: { status: 'none' },
    });
  });
});
