import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../lambda/constants.ts';
import { PER_DATASET_ALARM_LIMIT } from '../../lambda/core/metrics.ts';
import {
  bundleCollectorWithCdk,
  invokeBundle,
  jsonLines,
  lambdaEnvironment,
} from '../support/collect-bundle.ts';
import { freshStore } from '../support/dynamodb.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

let fake: FakeSes;
let bundle: string;

beforeAll(async () => {
  fake = await startFakeSes();
  bundle = bundleCollectorWithCdk();
}, 120_000);
afterAll(() => fake.close());

/** Runs the bundled handler's scheduled run in a fresh Node process; its JSON lines, stdout first. */
async function scheduledRun(
  config: unknown,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const run = await invokeBundle(bundle, lambdaEnvironment(config, tableName));
  if (run.code !== 0)
    throw new Error(`the handler exited with ${run.code}: ${run.stderr.slice(-2000)}`);
  return jsonLines(run);
}

/** More sources than PER_DATASET_ALARM_LIMIT, on one session (paced: one SES call a second). */
const SOURCES = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, '0')}`);

describe('the bundled collect handler in the per-kind alarm mode', () => {
  it('publishes one EMF document of counts per invocation, no metric per dataset, and logs the datasets over a level', async () => {
    fake.points = twoWeekWindow(new Date(), { seed: 5 });
    const { tableName } = await freshStore();
    const config = {
      sessions: { main: { serviceUrl: fake.url, region: 'us-east-1' } },
      activities: SOURCES.map((name) => ({
        session: 'main',
        usageDataset: `${name}-usage`,
        statisticsDataset: `${name}-stats`,
      })),
      // The fake's quota is 1234 of 50,000 (2.5 %): every dataset is over a 2 % level.
      alarms: { quotaUtilisation: 0.02 },
    };
    expect(SOURCES.length).toBeGreaterThan(PER_DATASET_ALARM_LIMIT);

    const lines = await scheduledRun(config, tableName);

    expect(lines.find((l) => 'RESULT' in l)).toEqual({
      RESULT: { collected: 12, failed: 0, skipped: 0 },
    });
    const emf = lines.filter((l) => l._aws !== undefined);
    // Nothing per dataset: every document has the service dimension only.
    for (const doc of emf)
      expect(doc).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: 'SesStats', Dimensions: [['service']] }] },
      });
    expect(emf.filter((d) => 'Dataset' in d)).toEqual([]);
    // The stale count (before anything was collected: all 12), then the run's one tally.
    expect(emf.map((d) => d[METRICS.STALE_DATASETS])).toEqual([12, undefined]);
    expect(emf[1]).toMatchObject({
      DatasetsOverQuota: 12,
      SourcesCollected: 12,
      SourcesFailed: 0,
      SourcesSkipped: 0,
    });
    const collected = lines.filter((l) => l.message === 'collected');
    expect(collected).toHaveLength(12);
    expect(collected[0]).toMatchObject({
      usageDataset: expect.stringMatching(/-usage$/),
      quotaUtilisation: 1234 / 50_000,
      deliveryAttempts: expect.any(Number),
      alarmBounceRate: expect.any(Number),
      alarmComplaintRate: expect.any(Number),
    });
    const quota = lines.find(
      (l) => l.message === 'datasets over an alarm level' && l.metric === 'DatasetsOverQuota',
    );
    expect(quota).toMatchObject({ threshold: 0.02, count: 12 });
    expect(new Set(quota?.datasets as string[])).toEqual(
      new Set(SOURCES.map((name) => `${name}-usage`)),
    );
  }, 180_000);
});
