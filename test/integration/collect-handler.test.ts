import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV, METRICS } from '../../lambda/constants.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { DeploymentConfig } from '../../lib/deployment-config.ts';
import {
  bundleCollectorWithCdk,
  configFile,
  type Invocation,
  invokeBundle,
  lambdaEnvironment,
} from '../support/collect-bundle.ts';
import { freshStore } from '../support/dynamodb.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  startFakeSes,
  twoWeekWindow,
} from '../support/fake-ses.ts';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.ts';

let fake: FakeSes;
let bundle: string;

beforeAll(async () => {
  fake = await startFakeSes();
  bundle = bundleCollectorWithCdk();
}, 120_000);
afterAll(() => fake.close());

/** Invokes the bundled handler (`code`, default the default stack's) as a Lambda cold start would. */
function invoke(
  env: Record<string, string>,
  remainingMs = 300_000,
  { event = {}, code = bundle }: { event?: unknown; code?: string } = {},
): Promise<Invocation> {
  return invokeBundle(code, env, { event, remainingMs });
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
      [ENV.CONFIG_FILE]: configFile({
        activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
        scheduleMinutes: 1,
      }),
      [ENV.TABLE_NAME]: 't',
    });

    expect(run.stdout).toContain('ERROR');
    expect(run.stdout).toContain('scheduleMinutes: received 1');
  });
});

describe('the bundled collect handler with more sources than one invocation takes', () => {
  let sqs: FakeSqs;
  let fanOut: string;
  // Two activities on one session share a pace key, so they travel in one message; the
  // assumed roles are two more identities; "down" (another region) answers nothing.
  const document = () => ({
    batchSize: 2,
    sessions: {
      shared: { serviceUrl: fake.url, region: 'us-east-1' },
      roleA: {
        serviceUrl: fake.url,
        region: 'us-east-1',
        credentials: {
          type: 'assumeRole',
          roleArn: 'arn:aws:iam::111122223333:role/SesStatsReader',
        },
      },
      roleB: {
        serviceUrl: fake.url,
        region: 'us-east-1',
        credentials: {
          type: 'assumeRole',
          roleArn: 'arn:aws:iam::444455556666:role/SesStatsReader',
        },
      },
      down: {
        serviceUrl: 'http://127.0.0.1:9',
        region: 'eu-west-1',
        maxErrorRetry: 0,
        timeoutSeconds: 1,
      },
    },
    activities: [
      { session: 'shared', usageDataset: 'u1', statisticsDataset: 's1' },
      { session: 'roleA', usageDataset: 'u2', statisticsDataset: 's2' },
      { session: 'shared', usageDataset: 'u3', statisticsDataset: 's3' },
      { session: 'roleB', usageDataset: 'u4', statisticsDataset: 's4' },
      { session: 'down', usageDataset: 'u5', statisticsDataset: 's5' },
    ],
  });
  const environment = (tableName: string) => ({
    [ENV.TABLE_NAME]: tableName,
    [ENV.BATCH_QUEUE_URL]: sqs.queueUrl,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
  });

  beforeAll(async () => {
    sqs = await startFakeSqs();
    // The config is read from the asset itself: no SES_STATS_CONFIG_FILE below.
    fanOut = bundleCollectorWithCdk(DeploymentConfig.fromDocument(document(), 'fan-out test'));
  }, 120_000);
  afterAll(() => sqs.close());

  it('hands the sources to the queue, stalest first, one message per identity and region', async () => {
    const { tableName, store } = await freshStore();
    fake.points = twoWeekWindow(new Date(), { seed: 5 });
    // s4 is covered already, the others never were: it goes last.
    await invoke(environment(tableName), 300_000, {
      code: fanOut,
      event: sqs.eventOf([{ messageId: 'first', body: '{"v":1,"activities":["s4"]}' }]),
    });
    const before = sqs.messages.length;

    const run = await invoke(environment(tableName), 300_000, { code: fanOut });

    expect(run.stdout).toContain('RESULT {"collected":0,"failed":0,"skipped":0,"dispatched":5}');
    expect(sqs.messages.slice(before).map((m) => JSON.parse(m.body))).toEqual([
      { v: 1, activities: ['s1', 's3'] },
      { v: 1, activities: ['s2'] },
      { v: 1, activities: ['s5'] },
      { v: 1, activities: ['s4'] },
    ]);
    // Handing over stores nothing.
    expect((await store.listMeta()).map((m) => m.name).sort()).toEqual(['s4', 'u4']);
  });

  it('collects the batches it is given and names only the message whose source failed', async () => {
    const { tableName, store } = await freshStore();
    fake.points = twoWeekWindow(new Date(), { seed: 6 });
    const before = sqs.messages.length;
    await invoke(environment(tableName), 300_000, { code: fanOut });
    const sent = sqs.messages.slice(before);
    const failing = sent.find((m) => m.body.includes('"s5"'));

    // The last run's message of the failing group, received again with this run's.
    const retried = { messageId: 'retried', body: failing?.body ?? '' };

    const run = await invoke(environment(tableName), 300_000, {
      code: fanOut,
      event: sqs.eventOf([...sent, retried]),
    });

    expect(run.stdout).toContain(
      `RESULT {"batchItemFailures":[{"itemIdentifier":"${failing?.messageId}"},{"itemIdentifier":"retried"}]}`,
    );
    // One group per identity and region: the shared session's two activities travel together.
    expect(new Set(sent.map((m) => m.groupId)).size).toBe(4);
    for (const name of ['s1', 's2', 's3', 's4'])
      expect(await store.readPoints(name, ALL_TIME)).toHaveLength(fake.points.length);
    expect(await store.getMeta('s5')).toBeUndefined();
    expect(run.stdout + run.stderr).toContain('activity failed');
  });

  it('collects a batch again to the same stored state (a retried message changes nothing)', async () => {
    const { tableName, store } = await freshStore();
    fake.points = twoWeekWindow(new Date(), { seed: 7 });
    const event = sqs.eventOf([{ messageId: 'again', body: '{"v":1,"activities":["s1","s3"]}' }]);
    await invoke(environment(tableName), 300_000, { code: fanOut, event });
    const first = await store.readPoints('s3', ALL_TIME);

    const run = await invoke(environment(tableName), 300_000, { code: fanOut, event });

    expect(run.stdout).toContain('RESULT {"batchItemFailures":[]}');
    expect(await store.readPoints('s3', ALL_TIME)).toEqual(first);
    expect(first).toHaveLength(fake.points.length);
  });

  it('refuses a message that is not a batch and still collects the others of the event', async () => {
    const { tableName, store } = await freshStore();
    fake.points = twoWeekWindow(new Date(), { seed: 8 });
    const event = sqs.eventOf([
      { messageId: 'bad', body: '{"activities":"s1"}' },
      { messageId: 'gone', body: '{"v":1,"activities":["removed-since"]}' },
      { messageId: 'good', body: '{"v":1,"activities":["s2"]}' },
    ]);

    const run = await invoke(environment(tableName), 300_000, { code: fanOut, event });

    expect(run.stdout).toContain('RESULT {"batchItemFailures":[{"itemIdentifier":"bad"}]}');
    expect(run.stdout + run.stderr).toContain('batch message refused');
    expect(run.stdout + run.stderr).toContain('batch names an activity the config no longer has');
    expect(await store.readPoints('s2', ALL_TIME)).toHaveLength(fake.points.length);
  });

  it('fails the scheduled run naming the activities SQS did not take', async () => {
    const { tableName } = await freshStore();
    sqs.failEntries(1, { senderFault: true });

    const run = await invoke(environment(tableName), 300_000, { code: fanOut });

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/ERROR SQS refused the batch of activities "s1", "s3"/);
  });
});
