import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir, startCli } from '../support/cli.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

// The local store is SQLite in WAL mode: commands on one data directory run side by side, and a
// command stopped anywhere leaves what it stored intact.
const keys = FAKE_KEYS_ENV;
let fake: FakeSes;
let collect: string[];
const query = ['query', 'statsData', '--granularity', '15m', '--format', 'json'];

beforeAll(async () => {
  fake = await startFakeSes();
  fake.points = twoWeekWindow(new Date(), { seed: 11 });
  collect = collectArgs(fake.url);
});
afterAll(() => fake.close());

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (check()) return;
    await delay(25);
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('ses-stats on signals and concurrent use of the local store', () => {
  it('exits 130 on SIGINT while SES is slow, keeping what was stored', async () => {
    const dir = scratchDir();
    fake.reset();
    const first = await runCli(collect, keys, dir);
    expect(first.code).toBe(0);
    fake.inject({ kind: 'slow', delayMs: 30_000 }, { times: 2 });
    const seen = fake.requests.length;

    const cli = startCli(collect, keys, dir);
    await until(() => fake.requests.length > seen, 'the SES request');
    cli.child.kill('SIGINT');
    const stopped = await cli.done;
    const queried = await runCli(query, keys, dir);

    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toBe('ses-stats: stopped by SIGINT\n');
    expect(queried.code).toBe(0);
    expect(JSON.parse(queried.stdout).statsData).toEqual(JSON.parse(first.stdout).statsData);
  });

  it('after SIGKILL at any moment of a first collect, a rerun stores exactly what an uninterrupted run does', {
    timeout: 120_000,
  }, async () => {
    fake.reset();
    const clean = scratchDir();
    expect((await runCli(collect, keys, clean)).code).toBe(0);
    const expected = await runCli(query, keys, clean);
    const summary = await runCli(['datasets', '--format', 'json'], keys, clean);

    for (const afterMs of [0, 150, 300, 450, 600]) {
      const dir = scratchDir();
      const cli = startCli(collect, keys, dir);
      await delay(afterMs);
      cli.child.kill('SIGKILL');
      await cli.done;
      const rerun = await runCli(collect, keys, dir);
      const queried = await runCli(query, keys, dir);
      const listed = await runCli(['datasets', '--format', 'json'], keys, dir);

      expect(rerun.code, rerun.stderr).toBe(0);
      expect(queried.stdout, `killed after ${afterMs} ms`).toBe(expected.stdout);
      expect(countsOf(listed.stdout), `killed after ${afterMs} ms`).toEqual(
        countsOf(summary.stdout),
      );
    }
  });

  it('runs collects and queries side by side on one data directory', {
    timeout: 120_000,
  }, async () => {
    const dir = scratchDir();
    fake.reset();
    expect((await runCli(collect, keys, dir)).code).toBe(0);
    // SES revised every point: the next collects rewrite the whole window while queries read.
    fake.points = twoWeekWindow(new Date(), { seed: 12 });

    const runs = await Promise.all([
      runCli(collect, keys, dir),
      runCli(collect, keys, dir),
      ...Array.from({ length: 4 }, () => runCli(query, keys, dir)),
      runCli(['datasets'], keys, dir),
    ]);
    const after = await runCli(query, keys, dir);

    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    // Every point but the window's oldest (cut by the window's edge, its fuller stored copy is
    // kept, as after any later fetch) is stored as SES revised it.
    const stored = JSON.parse(after.stdout).statsData;
    expect(stored.slice(1)).toEqual(JSON.parse(runs[0]?.stdout ?? '').statsData.slice(1));
    expect(stored).toHaveLength(fake.points.length);
    const written = runs
      .slice(0, 2)
      .map((r) => Number(/^stored statsData: (\d+) points/m.exec(r.stderr)?.[1]));
    // The revised window was written by one collect or both (the newer fetch wins).
    expect((written[0] ?? 0) + (written[1] ?? 0)).toBeGreaterThan(0);
  });
});

/**
 * The statistics dataset's count, first and last time and gaps from `datasets --format json` (a
 * killed run may have stored its usage snapshot: the rerun adds one, as a later run would).
 */
function countsOf(stdout: string) {
  const { datasets } = JSON.parse(stdout) as {
    datasets: Array<{
      name: string;
      count: number;
      firstTime: string;
      lastTime: string;
      gaps: unknown;
    }>;
  };
  return datasets
    .filter((d) => d.name === 'statsData')
    .map(({ name, count, firstTime, lastTime, gaps }) => ({
      name,
      count,
      firstTime,
      lastTime,
      gaps,
    }));
}
