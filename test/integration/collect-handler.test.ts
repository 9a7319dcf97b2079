import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV, METRICS } from '../../lambda/constants.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
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

let fake: FakeSes;
let bundle: string;

beforeAll(async () => {
  fake = await startFakeSes();
  bundle = join(bundleCollectorWithCdk(), 'index.mjs');
}, 120_000);
afterAll(() => fake.close());

/** The collector exactly as `cdk deploy` ships it: the stack synthesized with real esbuild bundling. */
function bundleCollectorWithCdk(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'collect-bundle-'));
  const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new SesStatsStack(app, 'SesStats');
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  app.synth();
  return join(outdir, `asset.${String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
}

/** The function's environment as the stack sets it, plus the role's credentials Lambda provides. */
function lambdaEnvironment(config: unknown, tableName: string): Record<string, string> {
  return {
    [ENV.CONFIG]: JSON.stringify(config),
    [ENV.TABLE_NAME]: tableName,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
  };
}

/** Invokes the bundled handler in a fresh Node process, as a Lambda cold start would. */
function invoke(
  env: Record<string, string>,
  remainingMs = 300_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A Lambda context whose deadline is `remainingMs` after the invocation starts.
  const context = `{ getRemainingTimeInMillis: ((end) => () => end - Date.now())(Date.now() + ${remainingMs}) }`;
  const script = `import(${JSON.stringify(bundle)}).then((m) => m.handler({}, ${context})).then((r) => console.log('RESULT ' + JSON.stringify(r)), (e) => { console.log('ERROR ' + e.message); process.exitCode = 1; });`;
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--input-type=module', '-e', script],
      {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('the bundled collect handler', () => {
  it('collects from SES, stores both datasets in DynamoDB and prints EMF metrics', async () => {
    fake.points = twoWeekWindow(new Date(), { seed: 3 });
    const { tableName, store } = await freshStore();
    const config = {
      sessions: { main: { serviceUrl: fake.url, region: 'us-east-1' } },
      activities: [{ session: 'main', usageDataset: 'usageData', statisticsDataset: 'statsData' }],
    };

    const run = await invoke(lambdaEnvironment(config, tableName));

    expect(run.stdout).toContain('RESULT {"collected":1,"failed":0,"skipped":0}');
    expect((await store.readPoints('statsData', ALL_TIME)).length).toBe(fake.points.length);
    expect(await store.readUsage('usageData', ALL_TIME)).toHaveLength(1);
    const emf = run.stdout
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    const names = emf.flatMap((e) =>
      e._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name),
    );
    expect(names).toEqual(
      expect.arrayContaining([
        METRICS.DELIVERY_ATTEMPTS,
        METRICS.BOUNCE_RATE,
        METRICS.COMPLAINT_RATE,
        METRICS.QUOTA_UTILISATION,
        METRICS.COLLECTION_SUCCEEDED,
        // The rate alarms' metric math divides these.
        METRICS.WINDOW_DELIVERY_ATTEMPTS,
        METRICS.WINDOW_BOUNCES,
        METRICS.WINDOW_COMPLAINTS,
      ]),
    );
    const window = emf.find((e) => e[METRICS.WINDOW_DELIVERY_ATTEMPTS] !== undefined);
    expect(window?.[METRICS.WINDOW_DELIVERY_ATTEMPTS]).toBe(
      fake.points.reduce((n, p) => n + p.deliveryAttempts, 0),
    );
    const quota = emf.find((e) => e[METRICS.QUOTA_UTILISATION] !== undefined);
    expect(quota).toMatchObject({
      Dataset: 'usageData',
      [METRICS.QUOTA_UTILISATION]: 1234 / 50000,
      service: METRICS.SERVICE,
      // The alarms select metrics by exactly these dimensions.
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: METRICS.NAMESPACE,
            Dimensions: [expect.arrayContaining([METRICS.DATASET_DIMENSION, 'service'])],
          },
        ],
      },
    });
  });

  it('ends in error naming the failed activity after storing the others', async () => {
    const { tableName, store } = await freshStore();
    const config = {
      sessions: {
        main: { serviceUrl: fake.url, region: 'us-east-1', maxErrorRetry: 0 },
        other: { serviceUrl: fake.url, region: 'eu-west-1', maxErrorRetry: 0 },
      },
      activities: [
        { session: 'main', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'other', usageDataset: 'u2', statisticsDataset: 's2' },
      ],
    };

    const run = await invoke(lambdaEnvironment(config, tableName));

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /ERROR 1 of 2 activities failed: activity "s2" \(session other\): GetSend/,
    );
    expect(await store.getMeta('s1')).toBeDefined();
    expect(run.stdout).not.toContain(FAKE_SECRET_ACCESS_KEY);
  });

  it('skips the sources whose worst case does not fit the time left, and stores the others', async () => {
    fake.points = twoWeekWindow(new Date(), { seed: 4 });
    const { tableName, store } = await freshStore();
    const config = {
      sessions: {
        // Worst case 5 s × 1 attempt + pacing and store margin: 36 s.
        quick: { serviceUrl: fake.url, region: 'us-east-1', maxErrorRetry: 0, timeoutSeconds: 5 },
        // Worst case 3 × 30 s + backoff, pacing and store margin: 123 s.
        slow: { serviceUrl: fake.url, region: 'eu-west-1' },
      },
      activities: [
        { session: 'slow', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'quick', usageDataset: 'u2', statisticsDataset: 's2' },
      ],
    };

    const run = await invoke(lambdaEnvironment(config, tableName), 60_000);

    expect(run.stdout).toContain('RESULT {"collected":1,"failed":0,"skipped":1}');
    const logs = run.stdout + run.stderr;
    expect(logs).toContain('sources skipped: the time left could not fit them');
    expect(logs).toContain('"skipped":["s1"]');
    expect(await store.getMeta('s1')).toBeUndefined();
    expect(await store.readPoints('s2', ALL_TIME)).toHaveLength(fake.points.length);
  });

  it('fails its cold start naming the field of a bad config', async () => {
    const run = await invoke({
      [ENV.CONFIG]: JSON.stringify({
        activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
        scheduleMinutes: 1,
      }),
      [ENV.TABLE_NAME]: 't',
    });

    expect(run.stdout).toContain('ERROR');
    expect(run.stdout).toContain('scheduleMinutes: received 1');
  });
});
