import { collectAll } from '../../lambda/core/activity.ts';
import type { SendDataPoint } from '../../lambda/core/datasets.ts';
import type { ActivitySpec } from '../../lambda/core/results.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';
import { FakeClock, FakeSource, point } from './fakes.ts';
import { series } from './rows.ts';

export const BACKFILL_ACTIVITY: ActivitySpec = {
  name: 'backfill',
  source: 'SESSession1',
  usageDataset: 'backfillUsage',
  statisticsDataset: 'backfillStats',
};

export const BACKFILL_NAMES = {
  usage: BACKFILL_ACTIVITY.usageDataset,
  statistics: BACKFILL_ACTIVITY.statisticsDataset,
};

/** The first fetch's server time. */
export const BACKFILL_NOW = '2026-11-28T12:00:00Z';

/**
 * A first fetch large enough to take several requests of each kind, small enough to stop it at
 * every one of them: 250 points over 2.6 days (3 transactions of up to 100 points on DynamoDB),
 * 63 hourly rollups (3 batches of 25) and 4 daily ones.
 */
export function backfillPoints(): SendDataPoint[] {
  return series('2026-11-25T21:37:00Z', '2026-11-28T12:07:00Z').map((r) =>
    point(r.Timestamp, r.DeliveryAttempts, r.Bounces, r.Complaints, r.Rejects),
  );
}

/**
 * Runs a fetch at `now` of `points` through the collector's core (`collectAll`, so the store is
 * prepared while SES answers, as in the deployed collector) into `store`; throws its failure.
 */
export async function runBackfillFetch(
  store: DatasetStore,
  now = BACKFILL_NOW,
  points: readonly SendDataPoint[] = backfillPoints(),
): Promise<void> {
  const clock = new FakeClock(Date.parse(now));
  const source = new FakeSource(clock, 'backfill@us-east-1', undefined, [...points]);
  source.serverTime = () => new Date(now);
  const outcome = await collectAll([{ activity: BACKFILL_ACTIVITY, source }], { clock, store });
  const failure = outcome.failures[0];
  if (failure !== undefined) throw new Error(failure.message);
}
