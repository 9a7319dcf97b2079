/**
 * The CLI as a user meets it: whole processes of the compiled `ses-stats` (dist/cli), each
 * against `node -e ''` started the same way, medians of ROUNDS runs. One year of a busy account's
 * history in the local SQLite store for `datasets` and `query`; a first collect of a two-week
 * window into an empty store against the same collect with `--no-store`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatasetStore } from '../lambda/adapters/sqlite-dataset-store.ts';
import { buildStatisticsRows } from '../lambda/core/datasets.ts';
import { storeActivityResult } from '../lambda/core/persist.ts';
import { DAY_MS } from '../lambda/core/time.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  startFakeSes,
  twoWeekWindow,
} from '../test/support/fake-ses.ts';

const ROUNDS = Number(process.env.CLI_BENCH_ROUNDS ?? 9);
const BIN = join(import.meta.dirname, '..', 'dist', 'cli', 'ses-stats.mjs');
execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-cli.mjs')]);

const ENV = {
  PATH: process.env.PATH ?? '',
  AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
  AWS_EC2_METADATA_DISABLED: 'true',
};

/** Wall time of one process from spawn to exit, in ms; fails on a non-zero exit. */
function timed(args: readonly string[], cwd: string): Promise<number> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      cwd,
      env: ENV,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) done(ms);
      else fail(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

/** Median of ROUNDS runs; `fresh` gives each run its own working directory. */
async function median(args: () => readonly string[], cwd: () => string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await timed(args(), cwd()));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

const scratches: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-bench-'));
  scratches.push(dir);
  return dir;
};

// One year of a busy account: 26 fetches 14 days apart, every 15-minute bucket sending.
const yearDir = scratch();
const START = Date.parse('2025-12-01T00:00:00Z');
const year = SqliteDatasetStore.open(join(yearDir, 'ses-stats.sqlite'));
for (let k = 1; k <= 26; k++) {
  const fetchedAt = new Date(START + k * 14 * DAY_MS);
  const rows = buildStatisticsRows(
    twoWeekWindow(fetchedAt, { seed: k, emptyEvery: 0 }).map((p) => ({
      ...p,
      timestamp: new Date(p.timestamp),
    })),
  );
  await storeActivityResult(
    year,
    {
      activity: {
        name: 'bench',
        source: 'SESSession1',
        usageDataset: 'usageData',
        statisticsDataset: 'statsData',
      },
      usage: {
        name: 'usageData',
        rows: [
          {
            CollectedAt: fetchedAt.toISOString(),
            Max24HourSend: 200_000,
            MaxSendRate: 50,
            SentLast24Hours: 90_000,
          },
        ],
      },
      statistics: { name: 'statsData', rows },
    },
    { fetchedAt },
  );
}
const stored = (await year.getMeta('statsData'))?.count ?? 0;
year.close();

const node = () => median(() => ['-e', ''], scratch);
const base = await node();
const help = await median(() => [BIN, '--help'], scratch);
const datasets = await median(
  () => [BIN, 'datasets', '--data-dir', yearDir, '--format', 'json'],
  scratch,
);
const daily = await median(
  () => [
    BIN,
    'query',
    'statsData',
    '--granularity',
    '1d',
    '--data-dir',
    yearDir,
    '--format',
    'json',
  ],
  scratch,
);

const fake = await startFakeSes();
fake.points = twoWeekWindow(new Date(), { seed: 3, emptyEvery: 0 });
const collect = ['collect', '--service-url', fake.url, '--region', 'us-east-1', '--format', 'json'];
const noStore = await median(() => [BIN, ...collect, '--no-store'], scratch);
const firstCollect = await median(() => [BIN, ...collect], scratch);
fake.close();
for (const dir of scratches) rmSync(dir, { recursive: true, force: true });

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const ms = (v: number) => Math.round(v);
console.log(`CLI (compiled, ${ROUNDS} runs each, medians; node -e '' takes ${ms(base)} ms)`);
console.log(
  `  --help                         ${ms(help)} ms  ${ratio(help, base)}× node   (target ≤ 3×)`,
);
console.log(
  `  datasets, one year (${stored} points)  ${ms(datasets)} ms  ${ratio(datasets, base)}× node   (target ≤ 4×)`,
);
console.log(
  `  query statsData --granularity 1d     ${ms(daily)} ms  ${ratio(daily, base)}× node   (target ≤ 4×)`,
);
console.log(
  `  first collect (${fake.points.length} points) ${ms(firstCollect)} ms against ${ms(noStore)} ms with --no-store: ${ratio(firstCollect, noStore)}×   (target ≤ 1.5×)`,
);
console.log(
  JSON.stringify({
    benchmark: 'cli',
    rounds: ROUNDS,
    nodeMs: ms(base),
    helpMs: ms(help),
    helpRatio: ratio(help, base),
    storedPoints: stored,
    datasetsMs: ms(datasets),
    datasetsRatio: ratio(datasets, base),
    queryDailyMs: ms(daily),
    queryDailyRatio: ratio(daily, base),
    collectPoints: fake.points.length,
    firstCollectMs: ms(firstCollect),
    noStoreMs: ms(noStore),
    firstCollectRatio: ratio(firstCollect, noStore),
  }),
);
