import { existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir } from '../support/cli.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

const keys = FAKE_KEYS_ENV;
let fake: FakeSes;
let collect: string[];

beforeAll(async () => {
  fake = await startFakeSes();
  fake.points = twoWeekWindow(new Date(), { seed: 7 });
  collect = collectArgs(fake.url);
});
afterAll(() => fake.close());

describe('ses-stats with the local store', () => {
  it('stores by default in ./.ses-stats/ses-stats.sqlite and round-trips the statistics exactly', async () => {
    const dir = scratchDir();

    const collected = await runCli(collect, keys, dir);
    const queried = await runCli(
      ['query', 'statsData', '--granularity', '15m', '--format', 'json'],
      keys,
      dir,
    );
    const listed = await runCli(['datasets', '--format', 'json'], keys, dir);

    expect(collected.code).toBe(0);
    expect(collected.stderr).toMatch(
      /^stored statsData: \d+ points, \d+ hourly and 15 daily rollups written \(the local store in .*\.ses-stats\)$/m,
    );
    expect(collected.stderr).toMatch(
      /^stored accountData: first state HEALTHY; 0 reputation hours written \(the local store in .*\.ses-stats\)$/m,
    );
    expect(existsSync(join(dir, '.ses-stats', 'ses-stats.sqlite'))).toBe(true);
    expect(queried.code).toBe(0);
    expect(JSON.parse(queried.stdout).statsData).toEqual(JSON.parse(collected.stdout).statsData);
    expect(
      JSON.parse(listed.stdout).datasets.map((d: { name: string; kind: string }) => [
        d.name,
        d.kind,
      ]),
    ).toEqual([
      ['accountData', 'account'],
      ['statsData', 'statistics'],
      ['usageData', 'usage'],
    ]);
  });

  it('uses --data-dir, else SES_STATS_HOME (relative to the working directory)', async () => {
    const dir = scratchDir();

    const home = await runCli(collect, { ...keys, SES_STATS_HOME: 'home-store' }, dir);
    const flagged = await runCli([...collect, '--data-dir', join(dir, 'flag-store')], keys, dir);
    const fromHome = await runCli(
      ['datasets', '--format', 'csv'],
      { SES_STATS_HOME: 'home-store' },
      dir,
    );
    const fromFlag = await runCli(
      ['datasets', '--data-dir', 'flag-store', '--format', 'csv'],
      {},
      dir,
    );

    expect([home.code, flagged.code]).toEqual([0, 0]);
    expect(existsSync(join(dir, 'home-store', 'ses-stats.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'flag-store', 'ses-stats.sqlite'))).toBe(true);
    expect(existsSync(join(dir, '.ses-stats'))).toBe(false);
    expect(fromHome.stdout).toMatch(/^name,kind,.*\naccountData,account,.*\nstatsData,statistics,/);
    expect(fromFlag.stdout).toMatch(/^name,kind,.*\naccountData,account,.*\nstatsData,statistics,/);
  });

  it('reads an empty history where nothing was collected, creating nothing', async () => {
    const dir = scratchDir();

    const listed = await runCli(['datasets', '--format', 'json'], {}, dir);
    const queried = await runCli(['query', 'statsData'], {}, dir);
    const summary = await runCli(['summary', 'statsData', '--data-dir', 'elsewhere'], {}, dir);

    expect([listed.code, listed.stdout]).toEqual([0, '{\n  "datasets": []\n}\n']);
    expect([queried.code, queried.stderr]).toEqual([
      2,
      'ses-stats query: unknown dataset "statsData"; nothing is stored yet\n',
    ]);
    expect(summary.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a --data-dir that is a file, naming it', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'file'), '');

    const run = await runCli(['datasets', '--data-dir', 'file'], {}, dir);

    expect(run.stderr).toBe(
      `ses-stats datasets: --data-dir: ${join(dir, 'file')} is a file, not a directory; the local store needs a directory\n`,
    );
    expect(run.code).toBe(2);
  });
});

describe('ses-stats with --table and --dynamodb-endpoint', () => {
  const table = ['--table', `cli-${Date.now()}`, '--dynamodb-endpoint', inject('dynamodbEndpoint')];

  it('creates the table, stores, and round-trips the statistics exactly', {
    timeout: 120_000,
  }, async () => {
    const collected = await runCli([...collect, ...table], keys);
    const again = await runCli([...collect, ...table], keys);
    const queried = await runCli(
      ['query', 'statsData', '--granularity', '15m', '--format', 'json', ...table],
      keys,
    );

    expect(collected.code).toBe(0);
    expect(again.stderr).toMatch(
      /^stored statsData: 0 points, 0 hourly and 0 daily rollups written/m,
    );
    expect(JSON.parse(queried.stdout).statsData).toEqual(JSON.parse(collected.stdout).statsData);
  });

  it('summarises the stored statistics and the quota use', async () => {
    const stats = await runCli(['summary', 'statsData', '--format', 'json', ...table], keys);
    const usage = await runCli(['summary', 'usageData', '--format', 'json', ...table], keys);

    const total = fake.points.reduce((sum, p) => sum + p.deliveryAttempts, 0);
    const bounces = fake.points.reduce((sum, p) => sum + p.bounces, 0);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      dataset: 'statsData',
      kind: 'statistics',
      DeliveryAttempts: total,
      Bounces: bounces,
      BounceRate: bounces / total,
    });
    expect(JSON.parse(usage.stdout)).toMatchObject({
      kind: 'usage',
      snapshots: 2,
      latest: { Max24HourSend: 50000, Utilisation: 1234 / 50000 },
    });
  });

  it('prints daily rollups in a time zone as CSV', async () => {
    const run = await runCli(
      [
        'query',
        'statsData',
        '--granularity',
        '1d',
        '--tz',
        'Europe/Paris',
        '--format',
        'csv',
        ...table,
      ],
      keys,
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Timestamp,DeliveryAttempts,Bounces,Complaints,Rejects\n\d{4}-\d\d-\d\dT00:00:00\+01:00,\d+/,
    );
  });

  it.each([
    [
      ['query', 'nope'],
      'unknown dataset "nope"; stored datasets: accountData, statsData, usageData',
    ],
    [['summary', 'nope'], 'unknown dataset "nope"'],
    [
      ['query', 'statsData', '--from', '2026-11-20', '--to', '2026-11-10'],
      '--from: received "2026-11-20", which is not before to "2026-11-10"',
    ],
    [
      ['query', 'statsData', '--from', 'last week'],
      '--from: received "last week"; expected an ISO-8601 date or time',
    ],
    [
      ['query', 'statsData', '--granularity', '5m'],
      '--granularity: received "5m"; allowed: 15m, 1h, 1d',
    ],
    [
      ['query', 'statsData', '--tz', 'Mars/Olympus'],
      '--tz: received "Mars/Olympus"; expected an IANA time zone',
    ],
    [
      ['query', 'usageData', '--granularity', '1h'],
      '--granularity: "usageData" is a usage dataset of snapshots',
    ],
    [['query'], 'expected exactly one DATASET, received 0'],
  ])('exits 2 for %j naming the problem', async (args, message) => {
    const run = await runCli([...args, ...table], keys);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('exits 1 naming the endpoint when the store cannot be reached', async () => {
    const run = await runCli([
      'datasets',
      '--table',
      'table1',
      '--dynamodb-endpoint',
      'http://127.0.0.1:9',
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /cannot reach DynamoDB at http:\/\/127\.0\.0\.1:9: network error: .*ECONNREFUSED/,
    );
  });

  it('reads a missing table as an error and does not create it', async () => {
    const missing = [
      '--table',
      `missing-${Date.now()}`,
      '--dynamodb-endpoint',
      inject('dynamodbEndpoint'),
    ];

    const first = await runCli(['datasets', ...missing], keys);
    const second = await runCli(['query', 'statsData', ...missing], keys);

    for (const run of [first, second]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /table "missing-\d+" does not exist at http:.*: nothing is stored there/,
      );
    }
  });

  it('exits 2 for --dynamodb-endpoint without --table', async () => {
    const run = await runCli(['datasets', '--dynamodb-endpoint', 'http://127.0.0.1:9']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--dynamodb-endpoint: needs --table NAME as well');
  });
});

/** A PATH with node and nothing else: no java, no other tool. */
function nodeOnlyPath(): string {
  const bin = mkdtempSync(join(tmpdir(), 'node-only-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  return bin;
}

describe('ses-stats without Java', () => {
  it('collects and queries with no java on PATH', async () => {
    const dir = scratchDir();
    const env = { ...keys, PATH: nodeOnlyPath() };

    const collected = await runCli(collect, env, dir);
    const queried = await runCli(['query', 'statsData', '--format', 'json'], env, dir);

    expect(collected.code, collected.stderr).toBe(0);
    expect(queried.code, queried.stderr).toBe(0);
    expect(JSON.parse(queried.stdout).statsData).toEqual(JSON.parse(collected.stdout).statsData);
  });
});

// Bad input is refused before any store is opened: no local store appears, and a table that
// cannot be reached (nothing listens at port 1) is never asked.
describe('ses-stats validation before opening anything', () => {
  const unreachable = ['--table', 'table1', '--dynamodb-endpoint', 'http://127.0.0.1:1'];

  it.each([
    [
      ['query', 'statsData', '--from', 'last week'],
      'ses-stats query: --from: received "last week"; expected an ISO-8601 date or time such as 2026-11-28 or 2026-11-28T10:00:00Z\n',
    ],
    [
      ['query', 'statsData', '--tz', 'Mars/Olympus'],
      'ses-stats query: --tz: received "Mars/Olympus"; expected an IANA time zone such as Europe/Paris or UTC\n',
    ],
    [
      ['query', 'statsData', '--granularity', '5m'],
      'ses-stats query: --granularity: received "5m"; allowed: 15m, 1h, 1d\n',
    ],
    [
      ['summary', 'statsData', '--to', '2026-02-30'],
      'ses-stats summary: --to: received "2026-02-30"; expected an ISO-8601 date or time such as 2026-11-28 or 2026-11-28T10:00:00Z\n',
    ],
    [
      ['query', ''],
      'ses-stats query: DATASET: received ""; expected a dataset name of 1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit)\n',
    ],
    [
      ['summary', 'stats/data'],
      'ses-stats summary: DATASET: received "stats/data"; expected a dataset name of 1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit)\n',
    ],
    [
      ['datasets', '--format', 'yaml'],
      'ses-stats datasets: --format: received "yaml"; allowed: table, json, csv\n',
    ],
    [
      ['datasets', '--table-region', 'eu-west-1'],
      'ses-stats datasets: --table-region: needs --table NAME as well\n',
    ],
    [
      ['datasets', '--data-dir', ''],
      'ses-stats datasets: --data-dir: received ""; expected a directory path\n',
    ],
    [
      ['datasets', '--data-dir', 'x', '--table', 'table1'],
      "ses-stats datasets: --data-dir: is the local store's directory; it cannot be combined with --table (pick one store)\n",
    ],
  ])('rejects %j with exit 2, creating nothing', async (args, message) => {
    const dir = scratchDir();
    const run = await runCli(args, {}, dir);

    expect(run.stderr).toBe(message);
    expect(run.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    [
      ['query', 'statsData', '--from', '2026-11-28T24:00:00Z'],
      'ses-stats query: --from: received "2026-11-28T24:00:00Z"; expected',
    ],
    [['summary', '', '--from', '2026-11-28'], 'ses-stats summary: DATASET: received ""; expected'],
    [
      ['query', 'statsData', '--table-region', 'Europe'],
      'ses-stats query: --table-region: received "Europe"; expected an AWS region',
    ],
  ])('rejects %j with exit 2 when the table is unreachable', async (args, message) => {
    const run = await runCli([...args, ...unreachable]);

    expect(run.stderr.slice(0, message.length)).toBe(message);
    expect(run.stderr).not.toContain('cannot reach DynamoDB');
    expect(run.code).toBe(2);
  });

  it('says the table region is missing, not an SES region, when no region is set', async () => {
    const run = await runCli(['datasets', '--table', 'table1']);

    expect(run.stderr).toBe(
      'ses-stats datasets: --table-region: the region of table "table1" is missing: pass --table-region REGION (e.g. --table-region eu-west-1), or set AWS_REGION or a region in the AWS profile\n',
    );
    expect(run.code).toBe(2);
  });
});
