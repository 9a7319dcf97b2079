import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir } from '../support/cli.ts';
import { type FakePoint, type FakeSes, startFakeSes } from '../support/fake-ses.ts';

const keys = FAKE_KEYS_ENV;
const HOUR_MS = 3_600_000;
const BUCKET_MS = 15 * 60_000;
let fake: FakeSes;

/** A point in the SES bucket (at :07, :22, :37 or :52) `hoursAgo` before now. */
function point(hoursAgo: number, counts: Omit<FakePoint, 'timestamp'>): FakePoint {
  const at = Date.now() - hoursAgo * HOUR_MS - 7 * 60_000;
  const bucket = Math.floor(at / BUCKET_MS) * BUCKET_MS + 7 * 60_000;
  return { timestamp: new Date(bucket).toISOString().replace('.000Z', 'Z'), ...counts };
}

/** In the last 24 hours: 1000 attempts, 20 bounces (2%), 1 complaint (0.1%). */
const RECENT = [1, 2, 3, 4].map((h) =>
  point(h, { deliveryAttempts: 250, bounces: 5, complaints: h === 1 ? 1 : 0, rejects: 0 }),
);
/** Three days ago: rates far above, which --since 24h leaves out. */
const OLD = point(72, { deliveryAttempts: 1000, bounces: 300, complaints: 50, rejects: 3 });

/**
 * A local store holding two collects of `points` under `quota`, as a scheduled collector leaves
 * it: the statistics once, two usage snapshots.
 */
async function collected(
  points: FakePoint[],
  quota = { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 40000 },
): Promise<string> {
  const dir = scratchDir();
  fake.points = points;
  fake.quota = quota;
  for (const _ of [1, 2]) {
    const run = await runCli(collectArgs(fake.url), keys, dir);
    expect(run.code).toBe(0);
  }
  return dir;
}

let dir: string;
beforeAll(async () => {
  fake = await startFakeSes();
  dir = await collected([...RECENT, OLD]);
});
afterAll(() => fake.close());

const check = (args: string[], cwd = dir) => runCli(['check', ...args], {}, cwd);

/** The verdict is one line on stdout; stderr stays empty. */
function oneLine(run: { stdout: string; stderr: string }): string {
  expect(run.stderr).toBe('');
  expect(run.stdout.split('\n')).toHaveLength(2);
  return run.stdout.trimEnd();
}

const STORED = 'stored up to \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';

describe('ses-stats check on a statistics dataset', () => {
  it('exits 0 with "ok: …" when every rate over the last 24h is within its threshold', async () => {
    const run = await check([
      'statsData',
      '--max-bounce-rate',
      '5%',
      '--max-complaint-rate',
      '0.005',
    ]);

    expect(run.code).toBe(0);
    expect(oneLine(run)).toMatch(
      new RegExp(
        `^ok: statsData: bounce rate 2\\.00% \\(max 5\\.00%\\), complaint rate 0\\.10% \\(max 0\\.50%\\) over the last 24h, ${STORED} \\(1000 delivery attempts\\)$`,
      ),
    );
  });

  it('exits 1 naming the bounce rate, its count, the threshold, the span and the attempts', async () => {
    const run = await check(['statsData', '--max-bounce-rate', '1%']);

    expect(run.code).toBe(1);
    expect(oneLine(run)).toMatch(
      new RegExp(
        `^crossed: statsData: bounce rate 2\\.00% \\(20 Bounces\\) is above --max-bounce-rate 1\\.00% over the last 24h, ${STORED} \\(1000 delivery attempts\\)$`,
      ),
    );
  });

  it('exits 1 naming the complaint rate when it crosses, the bounce rate within', async () => {
    const run = await check([
      'statsData',
      '--max-bounce-rate',
      '5%',
      '--max-complaint-rate',
      '0.0005',
    ]);

    expect(run.code).toBe(1);
    expect(oneLine(run)).toMatch(
      /^crossed: statsData: complaint rate 0\.10% \(1 Complaints\) is above --max-complaint-rate 0\.05% over the last 24h, /,
    );
  });

  it('names both rates on the one line when both cross', async () => {
    const run = await check([
      'statsData',
      '--max-bounce-rate',
      '1%',
      '--max-complaint-rate',
      '0.05%',
    ]);

    expect(run.code).toBe(1);
    expect(oneLine(run)).toMatch(
      /^crossed: statsData: bounce rate 2\.00% \(20 Bounces\) is above --max-bounce-rate 1\.00%; complaint rate 0\.10% \(1 Complaints\) is above --max-complaint-rate 0\.05% over /,
    );
  });

  it('holds a rate equal to its threshold, given as a fraction or a percentage', async () => {
    const [fraction, percentage] = await Promise.all([
      check(['statsData', '--max-bounce-rate', '0.02']),
      check(['statsData', '--max-bounce-rate', '2%']),
    ]);

    expect([fraction.code, percentage.code]).toEqual([0, 0]);
    expect(oneLine(fraction)).toMatch(/^ok: statsData: bounce rate 2\.00% \(max 2\.00%\) /);
    expect(fraction.stdout.replace(/\d{4}-[\d-]+T[\d:.]+Z/, 'T')).toBe(
      percentage.stdout.replace(/\d{4}-[\d-]+T[\d:.]+Z/, 'T'),
    );
  });

  it('computes the rates over --since', async () => {
    const run = await check(['statsData', '--max-bounce-rate', '5%', '--since', '7d']);

    expect(run.code).toBe(1);
    expect(oneLine(run)).toMatch(
      /^crossed: statsData: bounce rate 16\.00% \(320 Bounces\) is above --max-bounce-rate 5\.00% over the last 7d, .*\(2000 delivery attempts\)$/,
    );
  });

  it('exits 0 and says so when the span holds no delivery attempts', async () => {
    const quiet = await collected([OLD]);

    const run = await check(['statsData', '--max-bounce-rate', '5%'], quiet);

    expect(run.code).toBe(0);
    expect(oneLine(run)).toMatch(
      /^ok: statsData: no delivery attempts in the last 24h, stored up to .*, so no rate crossed --max-bounce-rate 5\.00%$/,
    );
  });

  it('exits 1 with "unchecked: …" when nothing stored covers the span', async () => {
    // A history whose last collect was five days ago.
    const stale = scratchDir();
    mkdirSync(join(stale, '.ses-stats'));
    const store = SqliteDatasetStore.open(join(stale, '.ses-stats', 'ses-stats.sqlite'));
    const fetchedAt = new Date(Date.now() - 120 * HOUR_MS);
    await storeActivityResult(
      store,
      {
        activity: {
          name: 'statsData',
          source: 'SESSession1',
          usageDataset: 'usageData',
          statisticsDataset: 'statsData',
        },
        usage: {
          name: 'usageData',
          rows: [
            {
              CollectedAt: fetchedAt.toISOString(),
              Max24HourSend: 50000,
              MaxSendRate: 14,
              SentLast24Hours: 49000,
            },
          ],
        },
        statistics: {
          name: 'statsData',
          rows: [{ Timestamp: point(121, OLD).timestamp, ...counts(OLD) }],
        },
      },
      { fetchedAt },
    );
    store.close();

    const [stats, usage] = await Promise.all([
      check(['statsData', '--max-bounce-rate', '5%'], stale),
      check(['usageData', '--max-quota-utilisation', '90%'], stale),
    ]);

    expect([stats.code, usage.code]).toEqual([1, 1]);
    expect(oneLine(stats)).toMatch(
      /^unchecked: statsData: nothing stored covers the last 24h: the range lies outside the stored history/,
    );
    expect(oneLine(usage)).toMatch(/^unchecked: usageData: no usage snapshot in the last 24h/);
  });
});

describe('ses-stats check on a usage dataset', () => {
  it('exits 0 when the latest snapshot’s quota utilisation is within', async () => {
    const run = await check(['usageData', '--max-quota-utilisation', '90%']);

    expect(run.code).toBe(0);
    expect(oneLine(run)).toMatch(
      /^ok: usageData: quota utilisation 80\.00% \(max 90\.00%\) \(40000 of Max24HourSend 50000 sent in the 24 hours before the snapshot at \d{4}-[\d-]+T[\d:.]+Z\)$/,
    );
  });

  it('exits 1 naming the utilisation, the threshold and the figures when it crosses', async () => {
    const run = await check(['usageData', '--max-quota-utilisation', '0.75']);

    expect(run.code).toBe(1);
    expect(oneLine(run)).toMatch(
      /^crossed: usageData: quota utilisation 80\.00% is above --max-quota-utilisation 75\.00% \(40000 of Max24HourSend 50000 sent /,
    );
  });

  it('says an unlimited quota has no utilisation, exit 0', async () => {
    const unlimited = await collected(RECENT, {
      max24HourSend: -1,
      maxSendRate: 14,
      sentLast24Hours: 40000,
    });

    const run = await check(['usageData', '--max-quota-utilisation', '50%'], unlimited);

    expect(run.code).toBe(0);
    expect(oneLine(run)).toMatch(
      /^ok: usageData: the sending quota is unlimited \(Max24HourSend -1\)/,
    );
  });
});

describe('ses-stats check refusals', () => {
  it.each([
    ['5', 'max-bounce-rate'],
    ['0', 'max-bounce-rate'],
    ['0%', 'max-complaint-rate'],
    ['101%', 'max-complaint-rate'],
    ['1.5', 'max-quota-utilisation'],
    ['-0.1', 'max-bounce-rate'],
    ['abc', 'max-bounce-rate'],
    ['5 %', 'max-bounce-rate'],
    ['', 'max-bounce-rate'],
  ])('rejects R %j for --%s with exit 2 naming the flag, opening nothing', async (value, flag) => {
    const cwd = scratchDir();

    const run = await runCli(['check', 'statsData', `--${flag}=${value}`], {}, cwd);

    expect(run.stderr).toBe(
      `ses-stats check: --${flag}: received ${JSON.stringify(value)}; expected a fraction above 0 and at most 1 (0.05) or a percentage above 0% and at most 100% (5%)\n`,
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each([
    [
      ['statsData'],
      'expected at least one threshold: --max-bounce-rate R, --max-complaint-rate R, --max-quota-utilisation R (see ses-stats check --help)',
    ],
    [
      ['statsData', '--max-bounce-rate', '5%', '--since', '1y'],
      '--since: received "1y"; expected a duration such as 90m, 24h, 7d or 2w',
    ],
    [
      ['--max-bounce-rate', '5%'],
      'expected exactly one DATASET, received 0 (see ses-stats check --help)',
    ],
    [
      ['statsData', '--max-bounce-rat', '5%'],
      "Unknown option '--max-bounce-rat'; did you mean --max-bounce-rate? (see ses-stats check --help)",
    ],
  ])('rejects %j before opening a store', async (args, message) => {
    const cwd = scratchDir();

    const run = await runCli(['check', ...args], {}, cwd);

    expect(run.stderr).toBe(`ses-stats check: ${message}\n`);
    expect(run.code).toBe(2);
    expect(existsSync(join(cwd, '.ses-stats'))).toBe(false);
  });

  it.each([
    [
      ['statsData', '--max-quota-utilisation', '80%'],
      '--max-quota-utilisation: applies to usage datasets; "statsData" is a statistics dataset',
    ],
    [
      ['usageData', '--max-bounce-rate', '5%'],
      '--max-bounce-rate: applies to statistics datasets; "usageData" is a usage dataset',
    ],
    [
      ['nope', '--max-bounce-rate', '5%'],
      'unknown dataset "nope"; stored datasets: accountData, statsData, usageData',
    ],
  ])('rejects %j with exit 2 naming the threshold or the dataset', async (args, message) => {
    const run = await check(args);

    expect(run.stderr).toBe(`ses-stats check: ${message}\n`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('prints its help for --help and for help check', async () => {
    const [flag, word] = await Promise.all([
      runCli(['check', '--help']),
      runCli(['help', 'check']),
    ]);

    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/^Usage: ses-stats check DATASET \[--max-bounce-rate R\]/);
    expect(flag.stdout).toContain('--data-dir DIR');
    expect(word).toEqual(flag);
  });
});

function counts(p: FakePoint) {
  return {
    DeliveryAttempts: p.deliveryAttempts,
    Bounces: p.bounces,
    Complaints: p.complaints,
    Rejects: p.rejects,
  };
}
