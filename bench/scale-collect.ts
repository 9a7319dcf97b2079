/**
 * `collect` of many sources at once: SOURCES sessions (default 1,000), each its own account (a
 * distinct access key), each answering a full 14-day window of 15-minute points (1,344), from the
 * fake SES with LATENCY_MS (default 100) per call. Runs the built CLI (`collect --config FILE
 * --no-store --format json`, stdout read and counted, not kept) and `collectAll` in a process of
 * its own, and prints wall time against the sequential lower bound (2 calls × latency × sources)
 * and against the ideal for the concurrency (sources ÷ concurrency × latency: a source's two
 * calls run side by side), the peak RSS of the collecting process, and the fake's count of
 * pacing violations (calls of one identity and action less than 1 s apart), which must be 0.
 *
 *   npx tsx bench/scale-collect.ts                     # both runs
 *   SOURCES=200 CONCURRENCY=64 npx tsx bench/scale-collect.ts cli
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONCURRENCY } from '../lambda/config/defaults.ts';
import { startFakeSes, twoWeekWindow } from '../test/support/fake-ses.ts';

const SOURCES = Number(process.env.SOURCES ?? 1000);
const LATENCY_MS = Number(process.env.LATENCY_MS ?? 100);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? DEFAULT_CONCURRENCY);
const SECRET = 'scaleBenchSecretKey/0123456789abcdefghijk';
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'ses-stats.mjs');

export interface ScaleFigures {
  readonly label: string;
  readonly wallMs: number;
  readonly peakRssMb: number;
  readonly outputBytes: number;
  readonly violations: number;
}

/** Access key ids the fake accepts: one account per source. */
const keyOf = (i: number) => `AKIASCALE${String(i).padStart(11, '0')}`;

/** The config: one session (account) and one activity per source, all on the fake. */
function configFor(url: string): object {
  const sessions: Record<string, object> = {};
  const activities: object[] = [];
  for (let i = 0; i < SOURCES; i++) {
    sessions[`s${i}`] = {
      serviceUrl: url,
      region: 'us-east-1',
      maxErrorRetry: 0,
      credentials: { type: 'keys', accessKeyId: keyOf(i), secretAccessKey: { env: 'SCALE_KEY' } },
    };
    activities.push({
      name: `a${i}`,
      session: `s${i}`,
      usageDataset: `usage${i}`,
      statisticsDataset: `stats${i}`,
    });
  }
  return { concurrency: CONCURRENCY, sessions, activities };
}

/**
 * Runs `args` under /usr/bin/time -v; stdout is counted, not kept. Fails on a non-zero exit.
 * Returns the wall time, the peak RSS and the bytes written.
 */
function measured(
  label: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<Omit<ScaleFigures, 'violations' | 'label'>> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-v', process.execPath, ...args], {
      env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let bytes = 0;
    let last = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      last = chunk.toString().slice(-2);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-20_000);
    });
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      const cpu = /User time \(seconds\): ([\d.]+)/.exec(err);
      if (process.env.SCALE_DEBUG) console.error(label, 'user s', cpu?.[1]);
      if (code !== 0 || rss === null) return fail(new Error(`${label} exited ${code}: ${err}`));
      if (label === 'cli' && last !== '}\n')
        return fail(new Error(`${label}: the JSON document does not end with "}": ${last}`));
      done({ wallMs, peakRssMb: Number(rss[1]) / 1024, outputBytes: bytes });
    });
  });
}

/** The in-process run: imported by the child (`node --import tsx bench/scale-collect.ts child`). */
async function child(configPath: string): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { parseConfig } = await import('../lambda/config/schema.ts');
  const { createSecretReader } = await import('../lambda/adapters/secrets.ts');
  const { sourcesFor } = await import('../lambda/adapters/ses-statistics-source.ts');
  const { systemClock } = await import('../lambda/adapters/system-clock.ts');
  const { collectAll } = await import('../lambda/core/activity.ts');
  const config = parseConfig(JSON.parse(readFileSync(configPath, 'utf8')));
  const runs = sourcesFor(config.activities, {
    secrets: createSecretReader({ env: process.env }),
  });
  let points = 0;
  const outcome = await collectAll(runs, {
    clock: systemClock,
    concurrency: config.concurrency,
    onResult: (result) => {
      points += result.statistics.rows.length;
    },
  });
  for (const run of runs) run.source.destroy();
  if (outcome.failures.length > 0) throw new Error(outcome.failures[0]?.message);
  process.stdout.write(`${outcome.collected} ${points}\n`);
}

export async function benchScaleCollect(
  which: readonly ('cli' | 'core')[] = ['cli', 'core'],
): Promise<ScaleFigures[]> {
  const fake = await startFakeSes({
    latencyMs: LATENCY_MS,
    points: twoWeekWindow(new Date(), { emptyEvery: 0 }),
  });
  for (let i = 0; i < SOURCES; i++) fake.addKey(keyOf(i), SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'ses-stats-scale-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(fake.url)));
  const env = { SCALE_KEY: SECRET, HOME: dir };
  const figures: ScaleFigures[] = [];
  try {
    for (const label of which) {
      fake.reset();
      const args =
        label === 'cli'
          ? [BIN, 'collect', '--config', config, '--no-store', '--format', 'json']
          : ['--import', 'tsx', join(ROOT, 'bench', 'scale-collect.ts'), 'child', config];
      const cpuBefore = process.cpuUsage();
      const run = await measured(label, args, env);
      if (process.env.SCALE_DEBUG) console.error(label, 'fake cpu', process.cpuUsage(cpuBefore));
      figures.push({ label, ...run, violations: fake.pacingViolations.length });
    }
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

export function report(figures: readonly ScaleFigures[]): string {
  const sequentialMs = 2 * LATENCY_MS * SOURCES;
  const idealMs = Math.ceil(SOURCES / CONCURRENCY) * LATENCY_MS;
  const lines = [
    `${SOURCES} sources, ${LATENCY_MS} ms per call, concurrency ${CONCURRENCY}: sequential calls ${(sequentialMs / 1000).toFixed(1)} s, ideal ${(idealMs / 1000).toFixed(1)} s`,
  ];
  for (const f of figures)
    lines.push(
      `  ${f.label.padEnd(4)} ${(f.wallMs / 1000).toFixed(1)} s: ${(sequentialMs / f.wallMs).toFixed(1)}x faster than sequential, ${(f.wallMs / idealMs).toFixed(2)}x the ideal; peak RSS ${f.peakRssMb.toFixed(0)} MB; ${(f.outputBytes / 1e6).toFixed(1)} MB out; ${f.violations} pacing violations`,
    );
  return lines.join('\n');
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] ?? '');
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] === undefined ? undefined : [process.argv[2] as 'cli' | 'core'];
  if (which === undefined || which.includes('cli'))
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')]);
  console.log(report(await benchScaleCollect(which)));
}
