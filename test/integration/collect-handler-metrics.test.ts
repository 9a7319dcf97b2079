import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV, METRICS } from '../../lambda/constants.ts';
import { PER_DATASET_ALARM_LIMIT } from '../../lambda/core/metrics.ts';
import { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { freshStore } from '../support/dynamodb.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  startFakeSes,
  twoWeekWindow,
} from '../support/fake-ses.ts';
import { CDK_CONTEXT } from '../support/infra.ts';

// The bundle-and-invoke pattern of collect-handler.test.ts, for the per-kind metrics and logs.
let fake: FakeSes;
let bundle: string;

beforeAll(async () => {
  fake = await startFakeSes();
  const outdir = mkdtempSync(join(tmpdir(), 'collect-metrics-bundle-'));
  const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new SesStatsStack(app, 'SesStats');
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  app.synth();
  bundle = join(
    outdir,
    `asset.${String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
    'index.mjs',
  );
}, 120_000);
afterAll(() => fake.close());

/** Runs the bundled handler's scheduled run in a fresh Node process; its JSON lines, stdout first. */
function scheduledRun(config: unknown, tableName: string): Promise<Record<string, unknown>[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'collect-metrics-config-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const script = `import(${JSON.stringify(bundle)}).then((m) => m.handler({}, { getRemainingTimeInMillis: () => 300000 })).then((r) => console.log(JSON.stringify({ RESULT: r })))`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        [ENV.CONFIG_FILE]: file,
        [ENV.TABLE_NAME]: tableName,
        AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('close', (code) =>
      code === 0
        ? // Powertools writes warnings and errors to stderr; Lambda sends both to the log group.
          done(
            `${stdout}\n${stderr}`
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l)),
          )
        : fail(new Error(`the handler exited with ${code}: ${stderr.slice(-2000)}`)),
    );
  });
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
