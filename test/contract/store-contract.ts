import { afterEach, describe, expect, it } from 'vitest';
import type {
  AccountRow,
  ReputationRow,
  StatisticsRow,
  UsageRow,
} from '../../lambda/core/datasets.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import type { FetchedDatasets } from '../../lambda/core/results.ts';
import type { DatasetMeta, DatasetStore, RollupRow, StoredPoint } from '../../lambda/core/store.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { row } from '../support/rows.ts';
import { storedState } from '../support/stored-state.ts';

/** A store under test and how to release it. */
export interface ContractStore {
  readonly store: DatasetStore;
  close(): Promise<void>;
}

const rollup = (Timestamp: string, DeliveryAttempts: number, Points: number): RollupRow => ({
  ...row(Timestamp, DeliveryAttempts, 1, 2, 3),
  Points,
});

const usage = (CollectedAt: string, SentLast24Hours: number, MaxSendRate = 14): UsageRow => ({
  CollectedAt,
  Max24HourSend: 50_000,
  MaxSendRate,
  SentLast24Hours,
});

/** An account state: HEALTHY, in production, no review (the nulls), 50,000 a day at 14/s. */
const state = (
  FirstSeen: string,
  LastSeen: string,
  change: Partial<AccountRow> = {},
): AccountRow => ({
  FirstSeen,
  LastSeen,
  EnforcementStatus: 'HEALTHY',
  SendingEnabled: true,
  ProductionAccessEnabled: true,
  ReviewStatus: null,
  ReviewCaseId: null,
  Max24HourSend: 50_000,
  MaxSendRate: 14,
  ...change,
});

const rates = (
  Timestamp: string,
  BounceRate: number | null,
  ComplaintRate: number | null = 0.0004,
): ReputationRow => ({ Timestamp, BounceRate, ComplaintRate });

/** The optional fields of DatasetMeta: each must read back exactly as written, or absent. */
const OPTIONAL_FIELDS = [
  'firstTime',
  'lastTime',
  'lastChange',
  'coverage',
  'staleRollups',
  'staleBase',
  'rawRetentionDays',
] as const;

const accountMeta = (name: string, version = 0): DatasetMeta => ({
  name,
  kind: 'account',
  source: 'SESSession1',
  activity: 'daily-stats',
  firstTime: '2026-11-01T09:00:00.123Z',
  lastTime: '2026-11-28T12:00:00.456Z',
  count: 3,
  lastChange: '2026-11-20T06:00:00.789Z',
  coverage: { from: '2026-11-01T09:00:00.123Z', to: '2026-11-28T12:00:00.456Z' },
  gaps: [],
  version,
});

const minimalMeta = (name: string, version = 0): DatasetMeta => ({
  name,
  kind: 'statistics',
  source: 'SESSession1',
  activity: 'daily-stats',
  count: 0,
  gaps: [],
  version,
});

const fullMeta = (name: string, version = 0): DatasetMeta => ({
  name,
  kind: 'statistics',
  source: 'SESSession1',
  activity: 'daily-stats',
  firstTime: '2026-10-01T00:07:00Z',
  lastTime: '2026-11-28T11:52:00Z',
  count: 5_321,
  coverage: { from: '2026-09-20T08:00:00.000Z', to: '2026-11-28T12:00:00.000Z' },
  gaps: [
    { from: '2026-10-05T00:00:00.000Z', to: '2026-10-07T12:00:00.000Z' },
    { from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' },
  ],
  staleRollups: [{ from: '2026-11-27T00:00:00Z', to: '2026-11-29T00:00:00Z' }],
  staleBase: 4_901,
  rawRetentionDays: 400,
  version,
});

/** `count` Timestamps from `first`, `minutes` apart, ascending, in SES's form (no milliseconds). */
function times(first: string, count: number, minutes = 15): string[] {
  const start = Date.parse(first);
  return Array.from({ length: count }, (_, i) =>
    new Date(start + i * minutes * 60_000).toISOString().replace('.000Z', 'Z'),
  );
}

/** What the raw points add up to per hour and per day: the rollups a correct store must hold. */
function expectedRollups(points: readonly StoredPoint[], granularity: '1h' | '1d'): RollupRow[] {
  const buckets = new Map<string, RollupRow>();
  for (const p of points) {
    const key =
      granularity === '1h'
        ? `${p.Timestamp.slice(0, 13)}:00:00Z`
        : `${p.Timestamp.slice(0, 10)}T00:00:00Z`;
    const sum = buckets.get(key) ?? { ...row(key, 0), Points: 0 };
    buckets.set(key, {
      Timestamp: key,
      DeliveryAttempts: sum.DeliveryAttempts + p.DeliveryAttempts,
      Bounces: sum.Bounces + p.Bounces,
      Complaints: sum.Complaints + p.Complaints,
      Rejects: sum.Rejects + p.Rejects,
      Points: sum.Points + 1,
    });
  }
  return [...buckets.values()].sort((a, b) => (a.Timestamp < b.Timestamp ? -1 : 1));
}

const activity = {
  name: 'daily-stats',
  source: 'SESSession1',
  usageDataset: 'usage',
  statisticsDataset: 'stats',
};

const NAMES = { usage: 'usage', statistics: 'stats' };

/** Point write calls made through a store, by method. */
interface PointCalls {
  writePoint: number;
  writePoints: number;
}

/**
 * `store` with its point writes counted; with `perItem`, without `writePoints`, so the core writes
 * one point per call (the path every fetch took before backfills were batched).
 */
function counted(store: DatasetStore, perItem = false): { store: DatasetStore; calls: PointCalls } {
  const calls: PointCalls = { writePoint: 0, writePoints: 0 };
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'writePoints' && perItem) return undefined;
      if ((key === 'writePoint' || key === 'writePoints') && typeof value === 'function')
        return (...args: unknown[]) => {
          calls[key]++;
          return value.apply(target, args);
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapped, calls };
}

/** `store` whose `writePoints` runs `before` once, before it writes anything. */
function beforeBatch(store: DatasetStore, before: () => Promise<void>): DatasetStore {
  let ran = false;
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'writePoints' && typeof value === 'function')
        return async (...args: unknown[]) => {
          if (!ran) {
            ran = true;
            await before();
          }
          return value.apply(target, args);
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `store` whose first `writePoints` writes only its first `count` points, then fails (a run cut short). */
function cutShort(store: DatasetStore, count: number): DatasetStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'writePoints' && typeof value === 'function')
        return async (name: string, points: readonly StatisticsRow[], ...rest: unknown[]) => {
          await value.call(target, name, points.slice(0, count), ...rest);
          throw new Error(`stopped after ${count} of ${points.length} points`);
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function fetched(fetchedAt: string, rows: readonly StatisticsRow[]): FetchedDatasets {
  return {
    activity,
    usage: { name: 'usage', rows: [usage(fetchedAt, 120)] },
    statistics: { name: 'stats', rows },
  };
}

/**
 * The DatasetStore port's behaviour, which every adapter must show: the memory fake, SQLite and
 * DynamoDB run these same cases. `makeStore` gives an empty store each time it is called.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<ContractStore>): void {
  describe(`DatasetStore contract: ${name}`, () => {
    let opened: ContractStore[] = [];
    const fresh = async (): Promise<DatasetStore> => {
      const made = await makeStore();
      opened.push(made);
      return made.store;
    };
    afterEach(async () => {
      await Promise.all(opened.map((made) => made.close()));
      opened = [];
    });

    describe('metadata', () => {
      it('reads nothing from an empty store', async () => {
        const store = await fresh();

        expect(await store.getMeta('stats')).toBeUndefined();
        expect(await store.listMeta()).toEqual([]);
      });

      it('creates a dataset at version 0 and stores version 1', async () => {
        const store = await fresh();

        const created = await store.putMeta(fullMeta('stats'));

        expect(created).toBe(true);
        expect(await store.getMeta('stats')).toEqual(fullMeta('stats', 1));
      });

      it('round-trips every optional field, usage and statistics kinds alike', async () => {
        const store = await fresh();
        const usageMeta: DatasetMeta = {
          ...minimalMeta('usage'),
          kind: 'usage',
          firstTime: '2026-11-28T12:00:00.000Z',
          lastTime: '2026-11-28T12:15:00.123Z',
          count: 2,
        };

        await store.putMeta(fullMeta('stats'));
        await store.putMeta(usageMeta);

        const stats = await store.getMeta('stats');
        for (const field of OPTIONAL_FIELDS)
          expect(stats?.[field], field).toEqual(fullMeta('stats')[field]);
        expect(stats?.gaps).toEqual(fullMeta('stats').gaps);
        expect(await store.getMeta('usage')).toEqual({ ...usageMeta, version: 1 });
      });

      it('round-trips an account dataset’s metadata, its kind and lastChange included', async () => {
        const store = await fresh();

        await store.putMeta(accountMeta('account'));
        await store.putMeta(minimalMeta('stats'));
        const moved = await store.putMeta({
          ...accountMeta('account', 1),
          count: 4,
          lastChange: '2026-11-28T12:00:00.456Z',
        });

        const expected = {
          ...accountMeta('account', 2),
          count: 4,
          lastChange: '2026-11-28T12:00:00.456Z',
        };
        expect(moved).toBe(true);
        expect(await store.getMeta('account')).toEqual(expected);
        expect(await store.listMeta()).toEqual([expected, minimalMeta('stats', 1)]);
      });

      it('leaves lastChange absent when an update drops it', async () => {
        const store = await fresh();
        await store.putMeta(accountMeta('account'));

        const { lastChange: _, ...without } = accountMeta('account', 1);
        await store.putMeta(without);

        const meta = await store.getMeta('account');
        expect(meta).toEqual({ ...without, version: 2 });
        expect(meta !== undefined && 'lastChange' in meta).toBe(false);
      });

      it('leaves absent optional fields absent, also when an update drops them', async () => {
        const store = await fresh();
        await store.putMeta(minimalMeta('created'));
        await store.putMeta(fullMeta('dropped'));

        await store.putMeta({ ...minimalMeta('dropped', 1), count: 9 });

        for (const name of ['created', 'dropped']) {
          const meta = await store.getMeta(name);
          for (const field of OPTIONAL_FIELDS)
            expect(meta?.[field], `${name}.${field}`).toBeUndefined();
          expect(meta?.gaps).toEqual([]);
        }
        expect(await store.getMeta('dropped')).toEqual({ ...minimalMeta('dropped', 2), count: 9 });
      });

      it('rejects a create (version 0) when the dataset exists, keeping what is stored', async () => {
        const store = await fresh();
        await store.putMeta(fullMeta('stats'));

        const again = await store.putMeta({ ...minimalMeta('stats'), source: 'other' });

        expect(again).toBe(false);
        expect(await store.getMeta('stats')).toEqual(fullMeta('stats', 1));
      });

      it('updates when the version matches and stores version + 1 each time', async () => {
        const store = await fresh();
        await store.putMeta(minimalMeta('stats'));

        const first = await store.putMeta({ ...minimalMeta('stats', 1), count: 10 });
        const second = await store.putMeta({ ...minimalMeta('stats', 2), count: 20 });

        expect([first, second]).toEqual([true, true]);
        expect(await store.getMeta('stats')).toEqual({ ...minimalMeta('stats', 3), count: 20 });
      });

      it('rejects an update whose version is stale or ahead, keeping what is stored', async () => {
        const store = await fresh();
        await store.putMeta(minimalMeta('stats'));
        await store.putMeta({ ...minimalMeta('stats', 1), count: 10 });

        const stale = await store.putMeta({ ...minimalMeta('stats', 1), count: 99 });
        const ahead = await store.putMeta({ ...minimalMeta('stats', 5), count: 99 });

        expect([stale, ahead]).toEqual([false, false]);
        expect(await store.getMeta('stats')).toEqual({ ...minimalMeta('stats', 2), count: 10 });
      });

      it('rejects an update (version > 0) of a dataset that does not exist, creating nothing', async () => {
        const store = await fresh();

        const written = await store.putMeta(minimalMeta('ghost', 3));

        expect(written).toBe(false);
        expect(await store.getMeta('ghost')).toBeUndefined();
        expect(await store.listMeta()).toEqual([]);
      });

      it('lets exactly one of several concurrent writers of the same version win', async () => {
        const store = await fresh();
        await store.putMeta(minimalMeta('stats'));

        const results = await Promise.all(
          [1, 2, 3, 4, 5].map((count) => store.putMeta({ ...minimalMeta('stats', 1), count })),
        );

        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true) + 1;
        expect(await store.getMeta('stats')).toEqual({ ...minimalMeta('stats', 2), count: winner });
      });

      it('lets exactly one of two concurrent creators win', async () => {
        const store = await fresh();

        const results = await Promise.all([
          store.putMeta({ ...minimalMeta('stats'), source: 'first' }),
          store.putMeta({ ...minimalMeta('stats'), source: 'second' }),
        ]);

        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.getMeta('stats'))?.source).toBe(results[0] ? 'first' : 'second');
      });

      it('lists every dataset once, sorted by name, without its points, rollups or usage', async () => {
        const store = await fresh();
        for (const name of ['b', 'ab', 'a#x', 'B', 'a', 'DATASETS'])
          await store.putMeta(minimalMeta(name));
        await store.writePoint('a', row('2026-11-28T10:07:00Z', 1), '2026-11-28T12:00:00.000Z');
        await store.writeRollups('a', '1h', [rollup('2026-11-28T10:00:00Z', 1, 1)]);
        await store.putUsage('zz', usage('2026-11-28T12:00:00.000Z', 1));

        const names = (await store.listMeta()).map((meta) => meta.name);

        expect(names).toEqual(['B', 'DATASETS', 'a', 'a#x', 'ab', 'b']);
        expect(await store.listMeta()).toEqual(names.map((n) => minimalMeta(n, 1)));
      });
    });

    describe('raw points', () => {
      const T = '2026-11-28T10:07:00Z';

      it('writes a new point and reads it back with its fetch time', async () => {
        const store = await fresh();

        const written = await store.writePoint(
          'stats',
          row(T, 5, 1, 2, 3),
          '2026-11-28T12:00:00.000Z',
        );

        expect(written).toBe(true);
        expect(await store.readPoints('stats', ALL_TIME)).toEqual([
          { ...row(T, 5, 1, 2, 3), fetchedAt: '2026-11-28T12:00:00.000Z' },
        ]);
      });

      it('lets a newer fetch overwrite a point and an older one lose', async () => {
        const store = await fresh();
        await store.writePoint('stats', row(T, 5), '2026-11-28T12:00:00.000Z');

        const newer = await store.writePoint('stats', row(T, 7), '2026-11-28T13:00:00.000Z');
        const older = await store.writePoint('stats', row(T, 9), '2026-11-28T12:30:00.000Z');

        expect([newer, older]).toEqual([true, false]);
        expect(await store.readPoints('stats', ALL_TIME)).toEqual([
          { ...row(T, 7), fetchedAt: '2026-11-28T13:00:00.000Z' },
        ]);
      });

      it('rewrites a point written with the same fetch time (a retried write wins)', async () => {
        const store = await fresh();
        await store.writePoint('stats', row(T, 5), '2026-11-28T12:00:00.000Z');

        const again = await store.writePoint('stats', row(T, 6, 1), '2026-11-28T12:00:00.000Z');

        expect(again).toBe(true);
        expect(await store.readPoints('stats', ALL_TIME)).toEqual([
          { ...row(T, 6, 1), fetchedAt: '2026-11-28T12:00:00.000Z' },
        ]);
      });

      it('takes a retention and still applies newer-fetch-wins to the point', async () => {
        const store = await fresh();

        const first = await store.writePoint('stats', row(T, 5), '2026-11-28T12:00:00.000Z', 30);
        const older = await store.writePoint('stats', row(T, 1), '2026-11-28T11:00:00.000Z', 30);

        expect([first, older]).toEqual([true, false]);
        expect(await store.readPoints('stats', ALL_TIME)).toEqual([
          { ...row(T, 5), fetchedAt: '2026-11-28T12:00:00.000Z' },
        ]);
      });

      it('reads the half-open span from <= Timestamp < to, in ascending order', async () => {
        const store = await fresh();
        const keys = times('2026-11-28T10:00:00Z', 8);
        const shuffled = [5, 0, 7, 2, 6, 1, 4, 3].map((i) => keys[i] as string);
        for (const key of shuffled)
          await store.writePoint('stats', row(key, keys.indexOf(key)), '2026-11-28T12:00:00.000Z');

        const inner = await store.readPoints('stats', {
          from: keys[2] as string,
          to: keys[5] as string,
        });
        const all = await store.readPoints('stats', ALL_TIME);
        const empty = await store.readPoints('stats', {
          from: keys[3] as string,
          to: keys[3] as string,
        });

        expect(inner.map((p) => p.Timestamp)).toEqual(keys.slice(2, 5));
        expect(all.map((p) => p.Timestamp)).toEqual(keys);
        expect(all.map((p) => p.DeliveryAttempts)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(empty).toEqual([]);
      });

      it('compares keys as strings, not as times', async () => {
        const store = await fresh();
        // As times 10:07:00.500 is after 10:07:00; as strings '.' sorts before 'Z'.
        for (const key of [
          '2026-11-28T10:07:00Z',
          '2026-11-28T10:07:00.500Z',
          '2026-11-28T11:07:00Z',
        ])
          await store.writePoint('stats', row(key, 1), '2026-11-28T12:00:00.000Z');

        const all = await store.readPoints('stats', ALL_TIME);
        const hour10 = await store.readPoints('stats', {
          from: '2026-11-28T10',
          to: '2026-11-28T11',
        });

        expect(all.map((p) => p.Timestamp)).toEqual([
          '2026-11-28T10:07:00.500Z',
          '2026-11-28T10:07:00Z',
          '2026-11-28T11:07:00Z',
        ]);
        expect(hour10.map((p) => p.Timestamp)).toEqual([
          '2026-11-28T10:07:00.500Z',
          '2026-11-28T10:07:00Z',
        ]);
      });

      it('keeps datasets apart, also names that prefix each other or contain #', async () => {
        const store = await fresh();
        const names = ['a', 'ab', 'a#b', 'a#15m', 'a#1h', 'a#usage', 'DATASETS'];
        for (const [i, name] of names.entries())
          await store.writePoint(name, row(T, i), '2026-11-28T12:00:00.000Z');
        await store.writeRollups('a', '1h', [rollup('2026-11-28T10:00:00Z', 100, 1)]);
        await store.putUsage('a', usage('2026-11-28T10:07:00Z', 100));

        const read = await Promise.all(names.map((name) => store.readPoints(name, ALL_TIME)));

        expect(read.map((points) => points.map((p) => p.DeliveryAttempts))).toEqual(
          names.map((_, i) => [i]),
        );
        expect(await store.readPoints('a#', ALL_TIME)).toEqual([]);
      });

      it('returns a large span complete and ordered (3,000 points, more than one DynamoDB page)', async () => {
        const store = await fresh();
        // A long name makes each DynamoDB item large enough that 3,000 of them exceed 1 MB.
        const name = `big-${'x'.repeat(400)}`;
        const keys = times('2026-10-01T00:07:00Z', 3_000);
        for (let i = 0; i < keys.length; i += 50)
          await Promise.all(
            keys
              .slice(i, i + 50)
              .map((key, j) => store.writePoint(name, row(key, i + j), '2026-11-28T12:00:00.000Z')),
          );

        const all = await store.readPoints(name, { from: keys[0] as string, to: ALL_TIME.to });

        expect(all).toHaveLength(3_000);
        expect(all.map((p) => p.Timestamp)).toEqual(keys);
        expect(all.map((p) => p.DeliveryAttempts)).toEqual(keys.map((_, i) => i));
        // A limit beyond the first DynamoDB page: exactly the first rows, across pages.
        const first = await store.readPoints(name, ALL_TIME, 2_500);
        expect(first.map((p) => p.Timestamp)).toEqual(keys.slice(0, 2_500));
        const later = await store.readPoints(
          name,
          { from: keys[2_990] as string, to: ALL_TIME.to },
          5,
        );
        expect(later.map((p) => p.Timestamp)).toEqual(keys.slice(2_990, 2_995));
      }, 120_000);

      it('reads only the first `limit` rows of a span: points, rollups and snapshots alike', async () => {
        const store = await fresh();
        const keys = times('2026-11-28T00:00:00Z', 6);
        for (const [i, key] of keys.entries())
          await store.writePoint('ds', row(key, i), '2026-11-28T12:00:00.000Z');
        await store.writeRollups(
          'ds',
          '1h',
          keys.map((key, i) => rollup(key, i, 1)),
        );
        for (const [i, key] of keys.entries())
          await store.putUsage('ds', usage(new Date(key).toISOString(), i));
        const span = { from: keys[1] as string, to: keys[5] as string };

        expect((await store.readPoints('ds', span, 2)).map((p) => p.Timestamp)).toEqual(
          keys.slice(1, 3),
        );
        expect((await store.readRollups('ds', '1h', span, 3)).map((r) => r.Timestamp)).toEqual(
          keys.slice(1, 4),
        );
        expect((await store.readUsage('ds', ALL_TIME, 1)).map((u) => u.SentLast24Hours)).toEqual([
          0,
        ]);
        // A limit beyond the span's rows returns the span, and the span's end still excludes.
        expect(await store.readPoints('ds', span, 100)).toHaveLength(4);
      });
    });

    describe('raw points written together (writePoints)', () => {
      const FETCH = '2026-11-28T12:00:00.000Z';
      // 250 points: more than two DynamoDB transactions of 100.
      const keys = times('2026-11-25T00:07:00Z', 250);
      const points = keys.map((key, i) => row(key, i, i % 3));
      const store = async () => {
        const s = await fresh();
        if (s.writePoints === undefined) throw new Error('this store has no writePoints');
        return s as DatasetStore & Required<Pick<DatasetStore, 'writePoints'>>;
      };

      it('writes every point, answering true for each, in order', async () => {
        const s = await store();

        const won = await s.writePoints('stats', points, FETCH);

        expect(won).toEqual(points.map(() => true));
        expect(await s.readPoints('stats', ALL_TIME)).toEqual(
          points.map((p) => ({ ...p, fetchedAt: FETCH })),
        );
      });

      it('keeps a newer fetch’s copy and replaces an older or the same fetch’s, point by point', async () => {
        const s = await store();
        // Spread over the transactions: the first point, one inside the second, the last.
        const newer = [0, 150, 249];
        const older = [1, 57, 248];
        const same = [2, 120];
        for (const i of newer)
          await s.writePoint('stats', row(keys[i] as string, 1_000), '2026-11-28T13:00:00.000Z');
        for (const i of older)
          await s.writePoint('stats', row(keys[i] as string, 2_000), '2026-11-28T11:00:00.000Z');
        for (const i of same) await s.writePoint('stats', row(keys[i] as string, 3_000), FETCH);

        const won = await s.writePoints('stats', points, FETCH, 30);

        expect(won).toEqual(points.map((_, i) => !newer.includes(i)));
        const stored = await s.readPoints('stats', ALL_TIME);
        expect(stored).toEqual(
          points.map((p, i) =>
            newer.includes(i)
              ? { ...row(p.Timestamp, 1_000), fetchedAt: '2026-11-28T13:00:00.000Z' }
              : { ...p, fetchedAt: FETCH },
          ),
        );
      });

      it('writes a Timestamp given twice as two writePoint calls in that order would', async () => {
        const s = await store();
        const T = keys[0] as string;

        const won = await s.writePoints(
          'stats',
          [row(T, 1), row(keys[1] as string, 2), row(T, 3)],
          FETCH,
        );

        expect(won).toEqual([true, true, true]);
        expect((await s.readPoints('stats', ALL_TIME)).map((p) => p.DeliveryAttempts)).toEqual([
          3, 2,
        ]);
      });

      it('accepts an empty list, writing nothing', async () => {
        const s = await store();

        expect(await s.writePoints('stats', [], FETCH)).toEqual([]);
        expect(await s.readPoints('stats', ALL_TIME)).toEqual([]);
      });
    });

    describe('rollups', () => {
      it('keeps hourly and daily rollups apart, per dataset', async () => {
        const store = await fresh();
        const midnight = '2026-11-28T00:00:00Z';

        await store.writeRollups('stats', '1h', [rollup(midnight, 4, 1)]);
        await store.writeRollups('stats', '1d', [rollup(midnight, 96, 24)]);
        await store.writeRollups('stats#1h', '1d', [rollup(midnight, 7, 7)]);

        expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual([rollup(midnight, 4, 1)]);
        expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([
          rollup(midnight, 96, 24),
        ]);
        expect(await store.readRollups('stats#1h', '1d', ALL_TIME)).toEqual([
          rollup(midnight, 7, 7),
        ]);
        expect(await store.readRollups('stats#1h', '1h', ALL_TIME)).toEqual([]);
        expect(await store.readPoints('stats', ALL_TIME)).toEqual([]);
      });

      it('writes every row of a call (more than a DynamoDB batch), replacing rows it rewrites', async () => {
        const store = await fresh();
        const hours = times('2026-11-28T00:00:00Z', 30, 60);
        await store.writeRollups(
          'stats',
          '1h',
          hours.map((h) => rollup(h, 1, 1)),
        );

        await store.writeRollups(
          'stats',
          '1h',
          [...hours].reverse().map((h, i) => rollup(h, 2, i)),
        );

        const read = await store.readRollups('stats', '1h', ALL_TIME);
        expect(read.map((r) => r.Timestamp)).toEqual(hours);
        expect(read.every((r) => r.DeliveryAttempts === 2)).toBe(true);
        expect(read.map((r) => r.Points)).toEqual(hours.map((_, i) => 29 - i));
      });

      it('reads rollups over the half-open span, ascending', async () => {
        const store = await fresh();
        const days = ['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28'].map(
          (d) => `${d}T00:00:00Z`,
        );
        await store.writeRollups(
          'stats',
          '1d',
          [...days].reverse().map((d, i) => rollup(d, i, 96)),
        );

        const read = await store.readRollups('stats', '1d', {
          from: days[1] as string,
          to: days[3] as string,
        });

        expect(read.map((r) => r.Timestamp)).toEqual(days.slice(1, 3));
      });

      it('accepts an empty list of rows', async () => {
        const store = await fresh();

        await store.writeRollups('stats', '1d', []);

        expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual([]);
      });
    });

    describe('account states', () => {
      const days = ['01', '05', '09', '13', '17'].map((d) => `2026-11-${d}T09:00:00.000Z`);
      const day = (i: number) => days[i] as string;

      it('reads states ascending by FirstSeen over the half-open span, per dataset, with a limit', async () => {
        const store = await fresh();
        for (const i of [3, 0, 4, 2, 1])
          await store.putAccountState('account', state(day(i), day(i), { MaxSendRate: i }));
        await store.putAccountState('account2', state(day(1), day(1), { MaxSendRate: 99 }));

        const all = await store.readAccountStates('account', ALL_TIME);
        const inner = await store.readAccountStates('account', { from: day(1), to: day(4) });
        const limited = await store.readAccountStates('account', { from: day(1), to: day(4) }, 2);

        expect(all.map((s) => s.FirstSeen)).toEqual(days);
        expect(all.map((s) => s.MaxSendRate)).toEqual([0, 1, 2, 3, 4]);
        expect(inner.map((s) => s.FirstSeen)).toEqual(days.slice(1, 4));
        expect(limited.map((s) => s.FirstSeen)).toEqual(days.slice(1, 3));
        expect(await store.readAccountStates('account2', ALL_TIME)).toEqual([
          state(day(1), day(1), { MaxSendRate: 99 }),
        ]);
        expect(await store.readAccountStates('account#', ALL_TIME)).toEqual([]);
        expect(await store.readPoints('account', ALL_TIME)).toEqual([]);
        expect(await store.readUsage('account', ALL_TIME)).toEqual([]);
      });

      it('round-trips nulls as null, booleans as booleans and -1 (unlimited) as -1', async () => {
        const store = await fresh();
        const sandbox = state(day(0), day(1), {
          EnforcementStatus: 'PROBATION',
          SendingEnabled: false,
          ProductionAccessEnabled: false,
          Max24HourSend: -1,
          MaxSendRate: 0.5,
        });
        const reviewed = state(day(2), day(2), {
          ReviewStatus: 'PENDING',
          ReviewCaseId: 'case-1234567890',
        });

        await store.putAccountState('account', sandbox);
        await store.putAccountState('account', reviewed);

        const read = await store.readAccountStates('account', ALL_TIME);
        expect(read).toEqual([sandbox, reviewed]);
        expect(read[0]?.ReviewStatus).toBeNull();
        expect(read[0]?.ReviewCaseId).toBeNull();
        expect(read[0]?.SendingEnabled).toBe(false);
        expect(read[1]?.SendingEnabled).toBe(true);
        expect(read[1]?.ProductionAccessEnabled).toBe(true);
      });

      it('keeps the later LastSeen when a state is rewritten, whichever comes last, taking the new columns', async () => {
        const store = await fresh();
        await store.putAccountState('a', state(day(0), day(1)));
        await store.putAccountState('b', state(day(0), day(3)));

        // `a`: a later sighting moves LastSeen on; `b`: an earlier one arriving late leaves it.
        await store.putAccountState('a', state(day(0), day(3), { ReviewCaseId: 'case-a' }));
        await store.putAccountState('b', state(day(0), day(1), { ReviewCaseId: 'case-b' }));
        await store.putAccountState('a', state(day(0), day(3), { ReviewStatus: 'GRANTED' }));

        expect(await store.readAccountStates('a', ALL_TIME)).toEqual([
          state(day(0), day(3), { ReviewStatus: 'GRANTED' }),
        ]);
        expect(await store.readAccountStates('b', ALL_TIME)).toEqual([
          state(day(0), day(3), { ReviewCaseId: 'case-b' }),
        ]);
      });

      it('keeps the latest LastSeen of concurrent rewrites', async () => {
        const store = await fresh();
        const seen = ['12:00', '12:15', '12:30', '12:45', '13:00'].map(
          (t) => `2026-11-28T${t}:00.000Z`,
        );

        await Promise.all(
          [2, 4, 0, 3, 1].map((i) =>
            store.putAccountState('account', state(day(0), seen[i] as string)),
          ),
        );

        expect(await store.readAccountStates('account', ALL_TIME)).toEqual([
          state(day(0), seen[4] as string),
        ]);
      });

      describe('with the metadata that counts them (putAccountChange)', () => {
        /** The metadata counting states up to `i`, as a caller would write it from `version`. */
        const counting = (i: number, version: number): DatasetMeta => ({
          ...accountMeta('account', version),
          count: i + 1,
          lastChange: day(i),
        });

        it('writes the state and the metadata when the version matches, creating and updating', async () => {
          const store = await fresh();
          const probation = state(day(1), day(1), { EnforcementStatus: 'PROBATION' });

          const created = await store.putAccountChange(
            'account',
            state(day(0), day(0)),
            counting(0, 0),
          );
          const updated = await store.putAccountChange('account', probation, counting(1, 1));

          expect([created, updated]).toEqual([true, true]);
          expect(await store.readAccountStates('account', ALL_TIME)).toEqual([
            state(day(0), day(0)),
            probation,
          ]);
          expect(await store.getMeta('account')).toEqual(counting(1, 2));
        });

        it('writes neither when the version does not match: stale, ahead, or a create of a stored dataset', async () => {
          const store = await fresh();
          await store.putMeta(counting(0, 0));
          await store.putMeta(counting(0, 1));

          const answers = [
            await store.putAccountChange('account', state(day(1), day(1)), counting(1, 0)),
            await store.putAccountChange('account', state(day(2), day(2)), counting(2, 1)),
            await store.putAccountChange('account', state(day(3), day(3)), counting(3, 5)),
            await store.putAccountChange('ghost', state(day(1), day(1)), {
              ...counting(1, 3),
              name: 'ghost',
            }),
          ];

          expect(answers).toEqual([false, false, false, false]);
          expect(await store.readAccountStates('account', ALL_TIME)).toEqual([]);
          expect(await store.readAccountStates('ghost', ALL_TIME)).toEqual([]);
          expect(await store.getMeta('account')).toEqual(counting(0, 2));
          expect(await store.getMeta('ghost')).toBeUndefined();
        });

        it('lets exactly one of two concurrent changes from the same version write its state', async () => {
          const store = await fresh();
          await store.putMeta(counting(0, 0));
          const changes = [1, 2].map((i) => ({
            row: state(day(i), day(i), { MaxSendRate: i }),
            meta: counting(i, 1),
          }));

          const answers = await Promise.all(
            changes.map(({ row, meta }) => store.putAccountChange('account', row, meta)),
          );

          expect(answers.filter(Boolean)).toHaveLength(1);
          const winner = changes[answers.indexOf(true)];
          expect(await store.readAccountStates('account', ALL_TIME)).toEqual([winner?.row]);
          expect(await store.getMeta('account')).toEqual({ ...winner?.meta, version: 2 });
        });

        it('rewrites a state stored under the same FirstSeen as putAccountState does, keeping the later LastSeen', async () => {
          const store = await fresh();
          await store.putAccountState('account', state(day(0), day(3)));
          await store.putMeta(counting(0, 0));

          const written = await store.putAccountChange(
            'account',
            state(day(0), day(1), { ReviewCaseId: 'case-1' }),
            counting(0, 1),
          );

          expect(written).toBe(true);
          expect(await store.readAccountStates('account', ALL_TIME)).toEqual([
            state(day(0), day(3), { ReviewCaseId: 'case-1' }),
          ]);
          expect(await store.getMeta('account')).toEqual(counting(0, 2));
        });
      });
    });

    describe('reputation points', () => {
      const FETCH = '2026-11-28T12:00:00.000Z';
      const NEWER = '2026-11-28T13:00:00.000Z';
      const OLDER = '2026-11-28T11:00:00.000Z';
      // 240 hours: more than two DynamoDB transactions of 100.
      const hours = times('2026-11-18T00:00:00Z', 240, 60);
      const hour = (i: number) => hours[i] as string;
      const window = hours.map((t, i) => rates(t, i / 10_000, i % 7 === 0 ? null : i / 1e6));

      it('writes every point of a fetch, answering true for each, and reads them ascending with their fetch time', async () => {
        const store = await fresh();

        const won = await store.writeReputation('account', [...window].reverse(), FETCH);

        expect(won).toEqual(window.map(() => true));
        expect(await store.readReputation('account', ALL_TIME)).toEqual(
          window.map((r) => ({ ...r, fetchedAt: FETCH })),
        );
        expect(await store.readReputation('account2', ALL_TIME)).toEqual([]);
        expect(await store.readPoints('account', ALL_TIME)).toEqual([]);
      });

      it('round-trips null rates as null and zero as zero', async () => {
        const store = await fresh();
        const rows = [rates(hour(0), null, null), rates(hour(1), 0, null), rates(hour(2), null, 0)];

        await store.writeReputation('account', rows, FETCH);

        const read = await store.readReputation('account', ALL_TIME);
        expect(read).toEqual(rows.map((r) => ({ ...r, fetchedAt: FETCH })));
        expect(read[0]?.BounceRate).toBeNull();
        expect(read[1]?.BounceRate).toBe(0);
      });

      it('keeps a newer fetch’s point and replaces an older or the same fetch’s, answered in order', async () => {
        const store = await fresh();
        // Spread over the transactions: the first point, one inside the second, the last.
        const newer = [0, 150, 239];
        const older = [1, 57, 238];
        const same = [2, 120];
        await store.writeReputation(
          'account',
          newer.map((i) => rates(hour(i), 0.5)),
          NEWER,
        );
        await store.writeReputation(
          'account',
          older.map((i) => rates(hour(i), 0.6)),
          OLDER,
        );
        await store.writeReputation(
          'account',
          same.map((i) => rates(hour(i), 0.7)),
          FETCH,
        );

        const won = await store.writeReputation('account', window, FETCH);

        expect(won).toEqual(window.map((_, i) => !newer.includes(i)));
        expect(await store.readReputation('account', ALL_TIME)).toEqual(
          window.map((r, i) =>
            newer.includes(i)
              ? { ...rates(r.Timestamp, 0.5), fetchedAt: NEWER }
              : { ...r, fetchedAt: FETCH },
          ),
        );
      });

      it('never lets an older fetch overwrite a newer one, and rewrites with the same fetch time', async () => {
        const store = await fresh();
        await store.writeReputation('account', [rates(hour(0), 0.01)], FETCH);

        const newer = await store.writeReputation('account', [rates(hour(0), 0.02)], NEWER);
        const older = await store.writeReputation('account', [rates(hour(0), 0.03)], OLDER);
        const again = await store.writeReputation('account', [rates(hour(0), 0.04, null)], NEWER);

        expect([newer, older, again]).toEqual([[true], [false], [true]]);
        expect(await store.readReputation('account', ALL_TIME)).toEqual([
          { ...rates(hour(0), 0.04, null), fetchedAt: NEWER },
        ]);
      });

      it('writes a Timestamp given twice as two calls in that order would', async () => {
        const store = await fresh();

        const won = await store.writeReputation(
          'account',
          [rates(hour(0), 0.1), rates(hour(1), 0.2), rates(hour(0), 0.3)],
          FETCH,
        );

        expect(won).toEqual([true, true, true]);
        expect((await store.readReputation('account', ALL_TIME)).map((r) => r.BounceRate)).toEqual([
          0.3, 0.2,
        ]);
      });

      it('reads the half-open span with a limit, and accepts an empty list', async () => {
        const store = await fresh();
        await store.writeReputation('account', window.slice(0, 10), FETCH);

        const span = { from: hour(2), to: hour(8) };

        expect((await store.readReputation('account', span)).map((r) => r.Timestamp)).toEqual(
          hours.slice(2, 8),
        );
        expect((await store.readReputation('account', span, 3)).map((r) => r.Timestamp)).toEqual(
          hours.slice(2, 5),
        );
        expect(await store.writeReputation('account', [], FETCH)).toEqual([]);
        expect(await store.readReputation('account', ALL_TIME)).toHaveLength(10);
      });
    });

    describe('usage snapshots', () => {
      it('stores a snapshot per CollectedAt and replaces one written again', async () => {
        const store = await fresh();
        await store.putUsage('usage', usage('2026-11-28T12:00:00.000Z', 120));

        await store.putUsage('usage', usage('2026-11-28T12:00:00.000Z', 130, 14.5));
        await store.putUsage('usage', {
          ...usage('2026-11-28T12:15:00.000Z', 0),
          Max24HourSend: -1,
        });

        expect(await store.readUsage('usage', ALL_TIME)).toEqual([
          usage('2026-11-28T12:00:00.000Z', 130, 14.5),
          { ...usage('2026-11-28T12:15:00.000Z', 0), Max24HourSend: -1 },
        ]);
      });

      it('reads snapshots over the half-open span, ascending, per dataset', async () => {
        const store = await fresh();
        const times = ['12:00', '12:15', '12:30', '12:45'].map((t) => `2026-11-28T${t}:00.000Z`);
        for (const [i, t] of [...times.entries()].reverse())
          await store.putUsage('usage', usage(t, i));
        await store.putUsage('usage2', usage(times[1] as string, 99));

        const read = await store.readUsage('usage', {
          from: times[1] as string,
          to: times[3] as string,
        });

        expect(read).toEqual([usage(times[1] as string, 1), usage(times[2] as string, 2)]);
        expect(await store.readUsage('usage2', ALL_TIME)).toEqual([usage(times[1] as string, 99)]);
      });
    });

    describe('storeActivityResult on this store', () => {
      // Two days of 15-minute points inside the SES window of a fetch at 2026-11-28T12:00Z.
      const rows = times('2026-11-27T06:07:00Z', 96 + 8).map((t, i) =>
        row(t, (i * 7) % 13, i % 3, i % 5 === 0 ? 1 : 0, i % 11 === 0 ? 1 : 0),
      );
      const FETCH = '2026-11-28T12:00:00.000Z';

      it('writes nothing the second time the same fetch is stored, and its rollups equal the sums of its points', async () => {
        const store = await fresh();
        const first = await storeActivityResult(store, fetched(FETCH, rows), {
          fetchedAt: new Date(FETCH),
        });
        const before = {
          points: await store.readPoints('stats', ALL_TIME),
          hourly: await store.readRollups('stats', '1h', ALL_TIME),
          daily: await store.readRollups('stats', '1d', ALL_TIME),
        };

        const second = await storeActivityResult(store, fetched(FETCH, rows), {
          fetchedAt: new Date(FETCH),
        });

        expect(first).toMatchObject({ pointsWritten: rows.length, pointsSkipped: 0 });
        expect(second).toEqual({
          pointsWritten: 0,
          pointsSkipped: 0,
          hourlyWritten: 0,
          dailyWritten: 0,
          newGaps: [],
          repaired: [],
        });
        expect(before.points).toEqual(rows.map((r) => ({ ...r, fetchedAt: FETCH })));
        expect(await store.readPoints('stats', ALL_TIME)).toEqual(before.points);
        expect(before.hourly).toEqual(expectedRollups(before.points, '1h'));
        expect(before.daily).toEqual(expectedRollups(before.points, '1d'));
        expect(before.daily.map((d) => d.Timestamp)).toEqual([
          '2026-11-27T00:00:00Z',
          '2026-11-28T00:00:00Z',
        ]);
        expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual(before.hourly);
        expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual(before.daily);
        expect(await store.getMeta('stats')).toMatchObject({ count: rows.length, gaps: [] });
        expect(await store.getMeta('usage')).toMatchObject({ kind: 'usage', count: 1 });
        expect(await store.readUsage('usage', ALL_TIME)).toEqual([usage(FETCH, 120)]);
      });

      it('lets a revised point from a later fetch win, and an older fetch arriving late lose', async () => {
        const store = await fresh();
        await storeActivityResult(store, fetched(FETCH, rows), { fetchedAt: new Date(FETCH) });
        const target = rows[50] as StatisticsRow;
        const LATER = '2026-11-28T12:15:00.000Z';
        const EARLIER = '2026-11-28T11:45:00.000Z';
        const revise = (by: number) =>
          rows.map((r) =>
            r === target ? { ...r, DeliveryAttempts: r.DeliveryAttempts + by, Bounces: 9 } : r,
          );

        const revised = await storeActivityResult(store, fetched(LATER, revise(100)), {
          fetchedAt: new Date(LATER),
        });
        const late = await storeActivityResult(store, fetched(EARLIER, revise(500)), {
          fetchedAt: new Date(EARLIER),
        });

        expect(revised).toMatchObject({ pointsWritten: 1, hourlyWritten: 1, dailyWritten: 1 });
        expect(late).toMatchObject({ pointsWritten: 0, pointsSkipped: 1, hourlyWritten: 0 });
        const points = await store.readPoints('stats', ALL_TIME);
        expect(points.find((p) => p.Timestamp === target.Timestamp)).toEqual({
          ...target,
          DeliveryAttempts: target.DeliveryAttempts + 100,
          Bounces: 9,
          fetchedAt: LATER,
        });
        expect(points.filter((p) => p.fetchedAt === FETCH)).toHaveLength(rows.length - 1);
        expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual(
          expectedRollups(points, '1h'),
        );
        expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual(
          expectedRollups(points, '1d'),
        );
        expect((await store.getMeta('stats'))?.count).toBe(rows.length);
      });

      it('stores a first fetch through writePoints exactly as one writePoint per point does', async () => {
        const batched = counted(await fresh());
        const perItem = counted(await fresh(), true);

        const reports = [
          await storeActivityResult(batched.store, fetched(FETCH, rows), {
            fetchedAt: new Date(FETCH),
          }),
          await storeActivityResult(perItem.store, fetched(FETCH, rows), {
            fetchedAt: new Date(FETCH),
          }),
        ];

        expect(batched.calls).toEqual({ writePoint: 0, writePoints: 1 });
        expect(perItem.calls).toEqual({ writePoint: rows.length, writePoints: 0 });
        expect(reports[0]).toEqual(reports[1]);
        const state = await storedState(batched.store, NAMES);
        expect(state).toEqual(await storedState(perItem.store, NAMES));
        expect(state.points).toEqual(rows.map((r) => ({ ...r, fetchedAt: FETCH })));
        expect(state.hourly).toEqual(expectedRollups(state.points, '1h'));
        expect(state.daily).toEqual(expectedRollups(state.points, '1d'));
        expect(state.statsMeta).toMatchObject({ count: rows.length, gaps: [] });
      });

      it('writes a later fetch’s changed points one writePoint each', async () => {
        const { store, calls } = counted(await fresh());
        await storeActivityResult(store, fetched(FETCH, rows), { fetchedAt: new Date(FETCH) });
        const LATER = '2026-11-28T12:15:00.000Z';
        const revised = rows.map((r, i) => (i % 5 === 4 ? { ...r, Rejects: r.Rejects + 1 } : r));

        const report = await storeActivityResult(store, fetched(LATER, revised), {
          fetchedAt: new Date(LATER),
        });

        const changed = revised.filter((_, i) => i % 5 === 4).length;
        expect(changed).toBeGreaterThan(16);
        expect(report.pointsWritten).toBe(changed);
        expect(calls).toEqual({ writePoint: changed, writePoints: 1 });
      });

      it('never overwrites the points a newer fetch wrote while a backfill was under way', async () => {
        const store = await fresh();
        const NEWER = '2026-11-28T12:15:00.000Z';
        const newerRows = rows.map((r, i) => ({ ...r, DeliveryAttempts: 1_000 + i }));
        // The newer fetch stores everything between the backfill's reads and its first write.
        const racing = beforeBatch(store, async () => {
          await storeActivityResult(store, fetched(NEWER, newerRows), {
            fetchedAt: new Date(NEWER),
          });
        });

        const older = await storeActivityResult(racing, fetched(FETCH, rows), {
          fetchedAt: new Date(FETCH),
        });

        expect(older).toMatchObject({ pointsWritten: 0, pointsSkipped: rows.length });
        const expected = newerRows.map((r) => ({ ...r, fetchedAt: NEWER }));
        expect(await store.readPoints('stats', ALL_TIME)).toEqual(expected);
        expect(await store.readRollups('stats', '1h', ALL_TIME)).toEqual(
          expectedRollups(expected, '1h'),
        );
        expect(await store.readRollups('stats', '1d', ALL_TIME)).toEqual(
          expectedRollups(expected, '1d'),
        );
        expect(await store.getMeta('stats')).toMatchObject({
          count: rows.length,
          coverage: { from: '2026-11-14T12:00:00.000Z', to: NEWER },
        });
      });

      it('finishes a backfill cut short on the next run, storing what an uncut one stores', async () => {
        const reference = await fresh();
        await storeActivityResult(reference, fetched(FETCH, rows), { fetchedAt: new Date(FETCH) });
        const store = await fresh();

        await expect(
          storeActivityResult(cutShort(store, 40), fetched(FETCH, rows), {
            fetchedAt: new Date(FETCH),
          }),
        ).rejects.toThrow(`stopped after 40 of ${rows.length} points`);
        expect(await store.readPoints('stats', ALL_TIME)).toHaveLength(40);
        expect((await store.getMeta('stats'))?.staleRollups).toEqual([
          { from: '2026-11-27T00:00:00Z', to: '2026-11-29T00:00:00Z' },
        ]);
        const { store: rerun, calls } = counted(store);
        const report = await storeActivityResult(rerun, fetched(FETCH, rows), {
          fetchedAt: new Date(FETCH),
        });

        expect(calls).toEqual({ writePoint: 0, writePoints: 1 });
        expect(report.pointsWritten).toBe(rows.length - 40);
        expect(await storedState(store, NAMES)).toEqual(await storedState(reference, NAMES));
      });
    });
  });
}
