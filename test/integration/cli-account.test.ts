import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_KEYS_ENV, runCli, scratchDir } from '../support/cli.ts';
import { hourlySeries } from '../support/fake-cloudwatch.ts';
import { type FakeSes, HEALTHY_ACCOUNT, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

let fake: FakeSes;
let target: string[];

beforeAll(async () => {
  fake = await startFakeSes();
  target = ['--service-url', fake.url, '--region', 'us-east-1'];
});
afterEach(() => {
  fake.reset();
  fake.account = { ...HEALTHY_ACCOUNT };
  fake.reputation = { bounceRate: [], complaintRate: [] };
  fake.points = [];
});
afterAll(() => fake.close());

const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('the account dataset through the CLI', () => {
  it('collect against the fake prints three datasets: usage, statistics and the account (state and reputation)', async () => {
    fake.points = twoWeekWindow(new Date());
    fake.reputation = {
      bounceRate: hourlySeries(new Date(Date.now() - 5 * 3600_000), 3, (i) => 0.01 * (i + 1)),
      complaintRate: hourlySeries(new Date(Date.now() - 5 * 3600_000), 3, () => 0.0002),
    };
    const run = await runCli(
      ['collect', '--no-store', ...target, '--format', 'json'],
      FAKE_KEYS_ENV,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = json(run.stdout);
    expect(Object.keys(out)).toEqual([
      'usageData',
      'statsData',
      'accountData',
      'accountData.reputation',
    ]);
    expect(out.accountData).toEqual([
      {
        FirstSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        LastSeen: expect.stringMatching(/Z$/),
        EnforcementStatus: 'HEALTHY',
        SendingEnabled: true,
        ProductionAccessEnabled: true,
        ReviewStatus: null,
        ReviewCaseId: null,
        Max24HourSend: 50000,
        MaxSendRate: 14,
      },
    ]);
    expect(out['accountData.reputation']).toEqual([
      { Timestamp: expect.any(String), BounceRate: 0.01, ComplaintRate: 0.0002 },
      { Timestamp: expect.any(String), BounceRate: 0.02, ComplaintRate: 0.0002 },
      { Timestamp: expect.any(String), BounceRate: 0.03, ComplaintRate: 0.0002 },
    ]);
    const account = fake.requests.filter((r) => r.action === 'GetAccount');
    expect(account).toHaveLength(1);
    expect(fake.requests.filter((r) => r.action === 'GetMetricData')).toHaveLength(1);
  });

  it('keeps HEALTHY → PROBATION → HEALTHY as three states (two changes) in the local store, served by query, summary and datasets', async () => {
    const dir = scratchDir();
    const collect = (...more: string[]) =>
      runCli(
        ['collect', ...target, '--account-dataset', 'acct', '--format', 'json', ...more],
        FAKE_KEYS_ENV,
        dir,
      );
    const seen: string[] = [];
    for (const status of ['HEALTHY', 'PROBATION', 'PROBATION', 'HEALTHY']) {
      fake.account = {
        ...HEALTHY_ACCOUNT,
        enforcementStatus: status,
        ...(status === 'PROBATION'
          ? { reviewDetails: { status: 'PENDING', caseId: 'case-42' } }
          : {}),
      };
      const run = await collect();
      expect(run.code).toBe(0);
      seen.push((json(run.stdout).acct as Array<{ FirstSeen: string }>)[0]?.FirstSeen ?? '');
      // The fake's Date header has second precision: keep each run in its own second.
      await new Promise((r) => setTimeout(r, 1100));
    }
    const query = await runCli(['query', 'acct', '--format', 'json'], {}, dir);
    expect(query.code).toBe(0);
    const rows = json(query.stdout).acct as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.EnforcementStatus, r.FirstSeen, r.LastSeen, r.ReviewCaseId])).toEqual(
      [
        ['HEALTHY', seen[0], seen[0], null],
        ['PROBATION', seen[1], seen[2], 'case-42'],
        ['HEALTHY', seen[3], seen[3], null],
      ],
    );
    const summary = await runCli(['summary', 'acct', '--format', 'json'], {}, dir);
    expect(json(summary.stdout)).toMatchObject({
      kind: 'account',
      states: 3,
      stateChanges: 2,
      latest: { EnforcementStatus: 'HEALTHY', FirstSeen: seen[3] },
    });
    const datasets = await runCli(['datasets', '--format', 'json'], {}, dir);
    expect(json(datasets.stdout).datasets).toContainEqual(
      expect.objectContaining({ name: 'acct', kind: 'account', count: 3, lastChange: seen[3] }),
    );
  });

  it('--no-account-dataset leaves the account calls out (credentials allowed only the SES actions)', async () => {
    fake.inject({ kind: 'denied' }, { action: 'GetAccount' });
    const run = await runCli(
      ['collect', '--no-store', ...target, '--no-account-dataset', '--format', 'json'],
      FAKE_KEYS_ENV,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(Object.keys(json(run.stdout))).toEqual(['usageData', 'statsData']);
    expect(fake.requests.map((r) => r.action).sort()).toEqual([
      'GetSendQuota',
      'GetSendStatistics',
    ]);
    const both = await runCli(
      ['collect', '--no-store', ...target, '--no-account-dataset', '--account-dataset', 'a'],
      FAKE_KEYS_ENV,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(
      '--no-account-dataset: cannot be combined with --account-dataset',
    );
  });

  it('says the account is in the sandbox', async () => {
    const dir = scratchDir();
    fake.account = { ...HEALTHY_ACCOUNT, productionAccessEnabled: false };
    const run = await runCli(['collect', ...target, '--format', 'json'], FAKE_KEYS_ENV, dir);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('stored accountData: first state HEALTHY, in the sandbox;');
    const summary = await runCli(['summary', 'accountData', '--format', 'table'], {}, dir);
    expect(summary.stdout.toLowerCase()).toContain('sandbox');
  });

  it('stores revised reputation values and nothing for an unchanged hour', async () => {
    const dir = scratchDir();
    const start = new Date(Date.now() - 6 * 3600_000);
    fake.reputation = { bounceRate: hourlySeries(start, 4, () => 0.01), complaintRate: [] };
    const first = await runCli(['collect', ...target, '--format', 'json'], FAKE_KEYS_ENV, dir);
    expect(first.stderr).toContain('4 reputation hours written');
    fake.reputation = {
      bounceRate: hourlySeries(start, 4, (i) => (i === 3 ? 0.06 : 0.01)),
      complaintRate: [],
    };
    const second = await runCli(['collect', ...target, '--format', 'json'], FAKE_KEYS_ENV, dir);
    expect(second.stderr).toContain('1 reputation hour written');
    const query = await runCli(
      ['query', 'accountData', '--series', 'reputation', '--format', 'json'],
      {},
      dir,
    );
    const rates = (json(query.stdout).accountData as Array<{ BounceRate: number }>).map(
      (r) => r.BounceRate,
    );
    expect(rates).toEqual([0.01, 0.01, 0.01, 0.06]);
  });

  it('fails the source naming ses:GetAccount when it is denied, and still stores the usage and statistics datasets', async () => {
    const dir = scratchDir();
    fake.points = twoWeekWindow(new Date());
    fake.inject({ kind: 'denied' }, { action: 'GetAccount' });
    const run = await runCli(['collect', ...target, '--format', 'json'], FAKE_KEYS_ENV, dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error: activity "statsData" \(session SESSession1\): GetAccount failed .*ses:GetAccount/,
    );
    expect(Object.keys(json(run.stdout))).toEqual([
      'usageData',
      'statsData',
      'accountData',
      'accountData.reputation',
    ]);
    const datasets = await runCli(['datasets', '--format', 'json'], {}, dir);
    const stored = json(datasets.stdout).datasets as Array<{ name: string; count: number }>;
    expect(stored.find((d) => d.name === 'statsData')?.count).toBe(fake.points.length);
    expect(stored.find((d) => d.name === 'usageData')?.count).toBe(1);
    // Listed (its reputation may be stored), with no state.
    expect(stored.find((d) => d.name === 'accountData')).toMatchObject({ count: 0 });
  });
});
