import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_LOG_MESSAGE, METRICS } from '../../lambda/constants.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import {
  bundleCollectorWithCdk,
  invokeBundle,
  jsonLines,
  lambdaEnvironment,
} from '../support/collect-bundle.ts';
import { freshStore } from '../support/dynamodb.ts';
import { hourlySeries } from '../support/fake-cloudwatch.ts';
import { type FakeSes, HEALTHY_ACCOUNT, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

let fake: FakeSes;
let bundle: string;

beforeAll(async () => {
  fake = await startFakeSes();
  bundle = bundleCollectorWithCdk();
}, 120_000);
afterEach(() => fake.reset());
afterAll(() => fake.close());

/** The bundled handler's scheduled run in a fresh Node process: its JSON log and EMF lines. */
async function scheduledRun(config: unknown, tableName: string) {
  const run = await invokeBundle(bundle, lambdaEnvironment(config, tableName));
  return { ...run, lines: jsonLines(run) };
}

const ACCOUNT_COUNTS = [
  METRICS.ACCOUNTS_NOT_HEALTHY,
  METRICS.ACCOUNTS_SENDING_DISABLED,
  METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_WARNING,
  METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_REVIEW,
  METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_WARNING,
  METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_REVIEW,
];

describe('the bundled collect handler with an account dataset', () => {
  it('stores the account states in DynamoDB, logs each account and publishes the six account counts', async () => {
    const { tableName, store } = await freshStore();
    const config = {
      sessions: { main: { serviceUrl: fake.url, region: 'us-east-1' } },
      activities: [
        {
          session: 'main',
          usageDataset: 'usage',
          statisticsDataset: 'stats',
          accountDataset: 'account',
        },
      ],
    };
    fake.points = twoWeekWindow(new Date(), { seed: 3 });
    const start = new Date(Date.now() - 4 * 3600_000);
    fake.account = {
      ...HEALTHY_ACCOUNT,
      enforcementStatus: 'PROBATION',
      reviewDetails: { status: 'PENDING', caseId: 'case-7' },
    };
    fake.reputation = {
      bounceRate: hourlySeries(start, 3, (i) => [0.02, 0.04, 0.06][i] ?? 0),
      complaintRate: hourlySeries(start, 3, () => 0.0006),
    };

    const first = await scheduledRun(config, tableName);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    const account = first.lines.filter((l) => l.message === ACCOUNT_LOG_MESSAGE);
    expect(account).toEqual([
      expect.objectContaining({
        dataset: 'account',
        enforcementStatus: 'PROBATION',
        sendingEnabled: true,
        productionAccessEnabled: true,
        reviewStatus: 'PENDING',
        reputationBounceRate: 0.06,
        reputationComplaintRate: 0.0006,
      }),
    ]);
    const counts = first.lines.find((l) => METRICS.ACCOUNTS_NOT_HEALTHY in l);
    expect(counts).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'SesStats', Dimensions: [['service']] }] },
    });
    expect(Object.fromEntries(ACCOUNT_COUNTS.map((m) => [m, counts?.[m]]))).toEqual({
      AccountsNotHealthy: 1,
      AccountsSendingDisabled: 0,
      AccountsOverReputationBounceWarning: 1,
      AccountsOverReputationBounceReview: 0,
      AccountsOverReputationComplaintWarning: 0,
      AccountsOverReputationComplaintReview: 0,
    });

    fake.account = { ...HEALTHY_ACCOUNT };
    // The fake's Date has second precision: the second run's answer is 2 s later whatever the
    // two runs' real spacing (a state seen in the same second as the last is no newer).
    fake.clockSkewMs += 2000;
    const second = await scheduledRun(config, tableName).finally(() => {
      fake.clockSkewMs = 0;
    });
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    const states = await store.readAccountStates('account', ALL_TIME);
    expect(states.map((s) => [s.EnforcementStatus, s.ReviewCaseId])).toEqual([
      ['PROBATION', 'case-7'],
      ['HEALTHY', null],
    ]);
    expect(await store.getMeta('account')).toMatchObject({
      kind: 'account',
      count: 2,
      lastChange: states[1]?.FirstSeen,
    });
    expect((await store.readReputation('account', ALL_TIME)).map((r) => r.BounceRate)).toEqual([
      0.02, 0.04, 0.06,
    ]);
    expect((await store.getMeta('stats'))?.count).toBe(fake.points.length);
  });

  it('with GetAccount denied: the run ends in error naming ses:GetAccount, the other datasets are stored', async () => {
    const { tableName, store } = await freshStore();
    const config = {
      sessions: { main: { serviceUrl: fake.url, region: 'us-east-1' } },
      activities: [
        { session: 'main', usageDataset: 'u', statisticsDataset: 's', accountDataset: 'a' },
      ],
    };
    fake.points = twoWeekWindow(new Date(), { seed: 4 });
    fake.inject({ kind: 'denied' }, { action: 'GetAccount' });
    const run = await scheduledRun(config, tableName);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('ses:GetAccount');
    expect((await store.getMeta('s'))?.count).toBe(fake.points.length);
    expect((await store.getMeta('u'))?.count).toBe(1);
    expect(await store.readAccountStates('a', ALL_TIME)).toEqual([]);
  });

  it('per kind: a source whose account call failed counts as failed only, not also as collected', async () => {
    const { tableName } = await freshStore();
    const names = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const config = {
      sessions: { main: { serviceUrl: fake.url, region: 'us-east-1', maxErrorRetry: 0 } },
      activities: names.map((n) => ({
        session: 'main',
        usageDataset: `${n}-usage`,
        statisticsDataset: `${n}-stats`,
        accountDataset: `${n}-account`,
      })),
    };
    fake.inject({ kind: 'denied' }, { action: 'GetAccount', times: 3 });
    const run = await scheduledRun(config, tableName);
    expect(run.code).not.toBe(0);
    const tally = run.lines.find((l) => 'SourcesCollected' in l);
    expect([tally?.SourcesCollected, tally?.SourcesFailed]).toEqual([9, 3]);
  });
});
