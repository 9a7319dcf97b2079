import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { describe, expect, it } from 'vitest';
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { freshStore, localClient } from '../support/dynamodb.ts';
import { injectDynamoDbFaults } from '../support/dynamodb-faults.ts';
import { worldFetch } from '../support/ses-world.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

const fetchAt = worldFetch;

/** Everything stored, for comparing a faulty run with a clean one. */
async function snapshot(store: DynamoDbDatasetStore) {
  const strip = <T extends { fetchedAt?: string }>(rows: T[]) =>
    rows.map(({ fetchedAt: _, ...r }) => r);
  return {
    points: strip(await store.readPoints('stats', ALL_TIME)),
    hourly: await store.readRollups('stats', '1h', ALL_TIME),
    daily: await store.readRollups('stats', '1d', ALL_TIME),
    usage: await store.readUsage('usage', ALL_TIME),
  };
}

describe('DynamoDbDatasetStore under DynamoDB faults', () => {
  it('loses nothing when calls are throttled, batches come back unprocessed and backfill transactions are cancelled', async () => {
    const clean = await freshStore();
    const faultyClient = localClient(undefined, new ConfiguredRetryStrategy(4, () => 10));
    const log = injectDynamoDbFaults(faultyClient, {
      throttleEvery: 7,
      unprocessedBatches: 10,
      cancelledTransactions: 6,
    });
    const faulty = await freshStore({}, faultyClient);

    for (const now of [NOW, NOW + 3_600_000]) {
      await storeActivityResult(clean.store, fetchAt(now), { fetchedAt: new Date(now) });
      await storeActivityResult(faulty.store, fetchAt(now), { fetchedAt: new Date(now) });
    }

    expect(log.throttled).toBeGreaterThan(10);
    expect(log.unprocessed).toBeGreaterThan(10);
    expect(log.cancelled).toBe(6);
    expect(log.conflicts).toBeGreaterThan(100);
    expect(await snapshot(faulty.store)).toEqual(await snapshot(clean.store));
  }, 180_000);

  it('fails clearly when backfill transactions stay cancelled, and the next run completes what is missing', async () => {
    const client = localClient();
    const log = injectDynamoDbFaults(client, { cancelledTransactions: Number.POSITIVE_INFINITY });
    const { tableName } = await freshStore({}, client);
    const stuck = new DynamoDbDatasetStore(client, { tableName, unprocessedDeadlineMs: 300 });
    const healthy = new DynamoDbDatasetStore(localClient(), { tableName });
    const reference = await freshStore();
    await storeActivityResult(reference.store, fetchAt(NOW), { fetchedAt: new Date(NOW) });

    await expect(
      storeActivityResult(stuck, fetchAt(NOW), { fetchedAt: new Date(NOW) }),
    ).rejects.toThrow(
      new RegExp(
        `^DynamoDB table "${tableName}": \\d+ raw points of dataset "stats" \\(2026-11-\\d\\dT\\S+Z to 2026-11-\\d\\dT\\S+Z\\) were still refused \\(transaction conflicts or throttling\\) at the 300 ms deadline; rerun to complete them$`,
      ),
    );
    expect(log.cancelled).toBeGreaterThan(1);
    expect(await healthy.readPoints('stats', ALL_TIME)).toEqual([]);
    const report = await storeActivityResult(healthy, fetchAt(NOW), { fetchedAt: new Date(NOW) });

    expect(report.pointsWritten).toBe(fetchAt(NOW).statistics.rows.length);
    expect(await snapshot(healthy)).toEqual(await snapshot(reference.store));
    expect((await healthy.getMeta('stats'))?.count).toBe(report.pointsWritten);
  }, 120_000);

  it('fails clearly when rollup batches stay unprocessed, and the next run completes what is missing', async () => {
    const client = localClient();
    injectDynamoDbFaults(client, { unprocessedBatches: Number.POSITIVE_INFINITY });
    const { tableName } = await freshStore({}, client);
    const stuck = new DynamoDbDatasetStore(client, { tableName, unprocessedDeadlineMs: 300 });
    const healthy = new DynamoDbDatasetStore(localClient(), { tableName });
    const reference = await freshStore();
    await storeActivityResult(reference.store, fetchAt(NOW), { fetchedAt: new Date(NOW) });

    await expect(
      storeActivityResult(stuck, fetchAt(NOW), { fetchedAt: new Date(NOW) }),
    ).rejects.toThrow(
      /^DynamoDB table "t-[0-9a-f-]+": \d+ rollup items stayed unprocessed \(throttled\) until the 300 ms deadline \(stats#1[hd]: .* to .*\); rerun to complete them$/,
    );
    const report = await storeActivityResult(healthy, fetchAt(NOW), { fetchedAt: new Date(NOW) });

    expect(report.pointsWritten).toBe(0);
    expect(report.hourlyWritten).toBeGreaterThan(0);
    const after = await snapshot(healthy);
    const expected = await snapshot(reference.store);
    // Both runs fetched at the same instant: one usage snapshot key.
    expect(after).toEqual(expected);
  }, 120_000);

  it('names the table and the cause when DynamoDB cannot be reached', async () => {
    const store = new DynamoDbDatasetStore(localClient('http://127.0.0.1:9'), {
      tableName: 'nowhere',
    });

    await expect(
      storeActivityResult(store, fetchAt(NOW), { fetchedAt: new Date(NOW) }),
    ).rejects.toThrow(
      /DynamoDB (GetItem|Query) on table "nowhere" failed: network error: .*ECONNREFUSED 127\.0\.0\.1:9/,
    );
  });
});
