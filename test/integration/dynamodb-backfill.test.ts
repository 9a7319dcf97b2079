import { describe, expect, it } from 'vitest';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { freshStore, localClient } from '../support/dynamodb.ts';
import { countRequests } from '../support/dynamodb-faults.ts';
import { SesWorld, worldFetch } from '../support/ses-world.ts';
import { rollupsOf, storedState } from '../support/stored-state.ts';

const NAMES = { usage: 'usage', statistics: 'stats' };
const NOW = Date.parse('2026-11-28T12:00:00Z');
const HOUR = 3_600_000;
const WRITES = ['PutItem', 'TransactWriteItems', 'BatchWriteItem'];

const fetchAt = worldFetch;

const writeRequests = (counts: Map<string, number>) =>
  WRITES.reduce((n, name) => n + (counts.get(name) ?? 0), 0);

describe('a first fetch on DynamoDB Local (backfill)', () => {
  it('writes its window in at most ceil(items / 25) + 3 write requests, later fetches one PutItem per changed point', async () => {
    const client = localClient();
    const counts = countRequests(client);
    const { store } = await freshStore({}, client);
    counts.clear();

    const first = await storeActivityResult(store, fetchAt(NOW), { fetchedAt: new Date(NOW) });

    const points = first.pointsWritten;
    expect(points).toBeGreaterThan(1_000);
    // Every point, every rollup, the usage snapshot, the stale mark and both metadata items.
    const items = points + first.hourlyWritten + first.dailyWritten + 1 + 3;
    expect(counts.get('TransactWriteItems')).toBe(Math.ceil(points / 100));
    expect(counts.get('BatchWriteItem')).toBe(
      Math.ceil(first.hourlyWritten / 25) + Math.ceil(first.dailyWritten / 25),
    );
    expect(counts.get('PutItem')).toBe(4);
    expect(writeRequests(counts)).toBeLessThanOrEqual(Math.ceil(items / 25) + 3);
    const stored = await storedState(store, NAMES);
    expect(stored.points).toHaveLength(points);
    expect(stored.hourly).toEqual(rollupsOf(stored.points, '1h'));
    expect(stored.daily).toEqual(rollupsOf(stored.points, '1d'));
    expect(stored.statsMeta?.count).toBe(points);

    counts.clear();
    const next = await storeActivityResult(store, fetchAt(NOW + HOUR), {
      fetchedAt: new Date(NOW + HOUR),
    });

    expect(next.pointsWritten).toBeGreaterThan(0);
    expect(counts.get('TransactWriteItems')).toBeUndefined();
    // One conditional PutItem per changed point, the stale mark, the usage snapshot and both
    // metadata items.
    expect(counts.get('PutItem')).toBe(next.pointsWritten + 4);
  }, 120_000);

  it('never overwrites what a newer fetch wrote while the older backfill’s transactions were under way', async () => {
    const olderClient = localClient();
    const { tableName, store: newerStore } = await freshStore();
    const { DynamoDbDatasetStore } = await import(
      '../../lambda/adapters/dynamodb-dataset-store.ts'
    );
    const older = new DynamoDbDatasetStore(olderClient, { tableName });
    const NEWER = NOW + 15 * 60_000;
    // The newer fetch saw every point revised (and its window moved on by a quarter hour).
    const newerRows = new SesWorld()
      .rows(NEWER)
      .map((r, i) => ({ ...r, DeliveryAttempts: r.DeliveryAttempts + 1 + (i % 4) }));
    // The older backfill's first transaction goes out; its later ones wait until the newer
    // fetch has stored everything (its own backfill), so they meet the newer copies.
    // The later transactions may leave while the first is still in flight: they wait for it to
    // land first, so the first (the window's oldest buckets) always precedes the newer fetch.
    let transactions = 0;
    let first: Promise<unknown> | undefined;
    let newer: Promise<unknown> | undefined;
    olderClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
        if (++transactions === 1) {
          const sent = next(args);
          first = sent.catch(() => undefined);
          return sent;
        }
        await first;
        newer ??= storeActivityResult(newerStore, fetchAt(NEWER, newerRows), {
          fetchedAt: new Date(NEWER),
        });
        await newer;
        return next(args);
      },
      { step: 'initialize', name: 'holdLaterTransactions' },
    );
    const olderRows = new SesWorld().rows(NOW);

    const report = await storeActivityResult(older, fetchAt(NOW, olderRows), {
      fetchedAt: new Date(NOW),
    });

    expect(newer).toBeDefined();
    const stored = await older.readPoints('stats', ALL_TIME);
    const byTime = new Map(stored.map((p) => [p.Timestamp, p]));
    // Every point the newer fetch saw holds its copy, written by it; but its window's oldest
    // bucket, which its edge cut, where the older backfill's fuller copy had landed first.
    const edge = NEWER - 14 * 24 * HOUR + 15 * 60_000;
    for (const r of newerRows) {
      const olderCopy = olderRows.find((o) => o.Timestamp === r.Timestamp);
      expect(byTime.get(r.Timestamp), r.Timestamp).toEqual(
        Date.parse(r.Timestamp) < edge && olderCopy !== undefined
          ? { ...olderCopy, fetchedAt: new Date(NOW).toISOString() }
          : { ...r, fetchedAt: new Date(NEWER).toISOString() },
      );
    }
    // The older fetch kept only what the newer one did not see (its window's first quarter hour).
    const onlyOlder = olderRows.filter((r) => !newerRows.some((n) => n.Timestamp === r.Timestamp));
    expect(stored).toHaveLength(newerRows.length + onlyOlder.length);
    expect(report.pointsSkipped).toBeGreaterThan(olderRows.length - 200);

    // The next run re-sums what the older run left stale: rollups equal the raw points.
    const LATER = NEWER + HOUR;
    await storeActivityResult(older, fetchAt(LATER, newerRowsAt(LATER, newerRows)), {
      fetchedAt: new Date(LATER),
    });
    const after = await storedState(older, NAMES);
    expect(after.hourly).toEqual(rollupsOf(after.points, '1h'));
    expect(after.daily).toEqual(rollupsOf(after.points, '1d'));
    expect(after.statsMeta?.count).toBe(after.points.length);
    expect(after.statsMeta?.staleRollups).toBeUndefined();
  }, 180_000);
});

/** The newer fetch's counts for the points it saw, SES's for those after it. */
function newerRowsAt(now: number, newerRows: readonly StatisticsRow[]): StatisticsRow[] {
  const known = new Map(newerRows.map((r) => [r.Timestamp, r]));
  return new SesWorld().rows(now).map((r) => known.get(r.Timestamp) ?? r);
}
