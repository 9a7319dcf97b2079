import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { describe, expect, it } from 'vitest';
import { collectAll } from '../../lambda/core/activity.ts';
import type { SendDataPoint } from '../../lambda/core/datasets.ts';
import { queryDataset, summarize } from '../../lambda/core/query.ts';
import type { ActivityResult } from '../../lambda/core/results.ts';
import type { DatasetStore, RollupRow, Span } from '../../lambda/core/store.ts';
import { CRASH_ACTIVITY, CRASH_FETCHES, runCrashFetch } from '../support/crash-run.ts';
import { freshStore, localClient } from '../support/dynamodb.ts';
import { loseWriteAnswers } from '../support/dynamodb-faults.ts';
import { FakeClock, FakeSource, point } from '../support/fakes.ts';
import { rollupsOf, storedState } from '../support/stored-state.ts';

const NAMES = { usage: CRASH_ACTIVITY.usageDataset, statistics: CRASH_ACTIVITY.statisticsDataset };
const DAY = 86_400_000;

/** One fetch through the collector's core: the host clock `skewMs` off the server's time. */
async function fetchInto(
  store: DatasetStore,
  serverNow: string,
  points: readonly SendDataPoint[],
  options: { skewMs?: number; rawRetentionDays?: number } = {},
) {
  const clock = new FakeClock(Date.parse(serverNow) + (options.skewMs ?? 0));
  const source = new FakeSource(clock, 'k@us-east-1', undefined, [...points]);
  source.serverTime = () => new Date(serverNow);
  const results: ActivityResult[] = [];
  const outcome = await collectAll([{ activity: CRASH_ACTIVITY, source }], {
    clock,
    store,
    rawRetentionDays: options.rawRetentionDays,
    onResult: (result) => {
      results.push(result);
    },
  });
  return { ...outcome, results };
}

/** A store whose rollup writes fail, as a run that stops after writing its points. */
function failingRollups(store: DatasetStore): DatasetStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'writeRollups')
        return () => Promise.reject(new Error('simulated failure before the rollups'));
      return Reflect.get(target, key, receiver);
    },
  });
}

describe('rollups repair themselves', () => {
  it('re-sums the days a failed run left stale, even when SES no longer returns them', async () => {
    const { store } = await freshStore();
    await fetchInto(store, '2026-11-01T00:00:00Z', [
      point('2026-10-31T10:07:00Z', 100, 2),
      point('2026-10-31T10:22:00Z', 50),
    ]);
    const failed = await fetchInto(failingRollups(store), '2026-11-01T12:00:00Z', [
      point('2026-10-31T10:07:00Z', 120, 3),
      point('2026-10-31T10:22:00Z', 50),
      point('2026-10-31T23:07:00Z', 40, 1),
      point('2026-11-01T11:07:00Z', 7),
    ]);
    expect(failed.failures[0]?.message).toMatch(/storing failed: simulated failure/);
    const broken = await storedState(store, NAMES);
    expect(broken.daily).not.toEqual(rollupsOf(broken.points, '1d'));
    expect(broken.statsMeta?.staleRollups).toEqual([
      { from: '2026-10-31T00:00:00Z', to: '2026-11-02T00:00:00Z' },
    ]);
    // Until a run repairs them, reads sum the raw points of the stale days instead.
    const withoutPoints = (rows: RollupRow[]) => rows.map(({ Points: _, ...r }) => r);
    for (const granularity of ['1h', '1d'] as const)
      expect((await queryDataset(store, NAMES.statistics, { granularity })).rows).toEqual(
        withoutPoints(rollupsOf(broken.points, granularity)),
      );
    expect(
      await summarize(store, NAMES.statistics, {
        from: '2026-10-31T00:00:00Z',
        to: '2026-11-01T00:00:00Z',
      }),
    ).toMatchObject({ DeliveryAttempts: 210, Bounces: 4 });

    // 19 days later SES's window holds none of those days.
    const later = await fetchInto(store, '2026-11-20T00:00:00Z', [
      point('2026-11-19T20:07:00Z', 9),
    ]);

    const repaired = await storedState(store, NAMES);
    expect(later.results[0]?.stored?.repaired).toEqual([
      { from: '2026-10-31T00:00:00Z', to: '2026-11-02T00:00:00Z' },
    ]);
    expect(repaired.hourly).toEqual(rollupsOf(repaired.points, '1h'));
    expect(repaired.daily).toEqual(rollupsOf(repaired.points, '1d'));
    expect(repaired.statsMeta?.count).toBe(repaired.points.length);
    expect(repaired.statsMeta?.staleRollups).toBeUndefined();
    const summary = await summarize(store, NAMES.statistics, {
      from: '2026-10-31T00:00:00Z',
      to: '2026-11-01T00:00:00Z',
    });
    expect(summary).toMatchObject({ DeliveryAttempts: 210, Bounces: 4 });
  });
});

describe('lost answers', () => {
  it('counts nothing twice and skips no rollup when landed writes are retried by the SDK', async () => {
    const reference = await freshStore();
    const client = localClient(undefined, new ConfiguredRetryStrategy(3, () => 0));
    const faulty = await freshStore({}, client);
    // 30 of the 39 write calls of the two fetches lose their first answer.
    const log = loseWriteAnswers(client, 30);

    for (const index of [0, 1] as const) {
      await runCrashFetch(reference.store, index);
      await runCrashFetch(faulty.store, index);
      // Equal after each fetch: nothing is left for a later run to repair.
      expect(await storedState(faulty.store, NAMES)).toEqual(
        await storedState(reference.store, NAMES),
      );
    }
    expect(log.lost).toBe(30);
  });
});

describe('time comes from the server', () => {
  it('refuses to store when the host clock is two days fast, then stores exactly as without skew', async () => {
    const reference = await freshStore();
    await runCrashFetch(reference.store, 0);
    await runCrashFetch(reference.store, 1);
    const { store } = await freshStore();
    const [first, second] = CRASH_FETCHES;

    const skewed = await fetchInto(store, first.now, first.points, { skewMs: 2 * DAY });

    expect(skewed.failures.map((f) => f.message)).toEqual([
      'activity "crash" (session SESSession1): fetched, but not stored: the host clock is 2 d 0 min ahead of SES\'s (host 2026-11-29T12:00:00.000Z, SES 2026-11-27T12:00:00.000Z; at most 5 min is allowed); nothing was stored: synchronise the clock (NTP)',
    ]);
    expect(await store.listMeta()).toEqual([]);
    // Skews within the tolerance store the server's times, so history is the same as without.
    await fetchInto(store, first.now, first.points, { skewMs: 4 * 60_000 });
    await fetchInto(store, second.now, second.points, { skewMs: -3 * 60_000 });
    expect(await storedState(store, NAMES)).toEqual(await storedState(reference.store, NAMES));
  });

  it('cuts back a coverage a fast host clock once pushed into the future, so later gaps are right', async () => {
    const { store } = await freshStore();
    // What an earlier version stored under a host clock two days fast: coverage ending in the future.
    await fetchInto(store, '2026-11-03T00:00:00Z', [point('2026-11-02T10:07:00Z', 5)]);

    await fetchInto(store, '2026-11-01T00:00:00Z', [point('2026-10-31T10:07:00Z', 5)], {
      skewMs: 0,
    });
    // An outage: the next fetch comes 16 days later.
    const after = await fetchInto(store, '2026-11-17T00:00:00Z', [
      point('2026-11-16T10:07:00Z', 5),
    ]);

    expect(after.results[0]?.stored?.newGaps).toEqual([
      { from: '2026-11-01T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' },
    ] satisfies Span[]);
    expect((await store.getMeta(NAMES.statistics))?.coverage).toEqual({
      from: '2026-10-18T00:00:00.000Z',
      to: '2026-11-17T00:00:00.000Z',
    });
  });
});

describe('raw-point retention', () => {
  it('keeps the deployed rule for writers without the setting (the CLI on the deployed table)', async () => {
    const { client, tableName, store } = await freshStore();
    await fetchInto(store, '2026-11-01T00:00:00Z', [point('2026-10-31T10:07:00Z', 5)], {
      rawRetentionDays: 90,
    });

    await fetchInto(store, '2026-11-02T00:00:00Z', [point('2026-11-01T10:07:00Z', 5)]);

    const expiresAt = async (timestamp: string) => {
      const out = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: `${NAMES.statistics}#15m` }, sk: { S: timestamp } },
        }),
      );
      return Number(out.Item?.expiresAt?.N);
    };
    expect((await store.getMeta(NAMES.statistics))?.rawRetentionDays).toBe(90);
    expect(await expiresAt('2026-10-31T10:07:00Z')).toBe(
      Date.parse('2026-10-31T10:07:00Z') / 1000 + 90 * 86_400,
    );
    expect(await expiresAt('2026-11-01T10:07:00Z')).toBe(
      Date.parse('2026-11-01T10:07:00Z') / 1000 + 90 * 86_400,
    );
  });
});
