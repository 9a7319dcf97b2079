import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir, startCli } from '../support/cli.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

// Each CLI run here starts a DynamoDB Local on disk (Java, seconds each): few runs, long timeouts.
const LOCK = join('.ses-stats', 'ses-stats.lock');
const keys = FAKE_KEYS_ENV;
let fake: FakeSes;
let collect: string[];

beforeAll(async () => {
  fake = await startFakeSes();
  fake.points = twoWeekWindow(new Date(), { seed: 11 });
  collect = collectArgs(fake.url);
});
afterAll(() => fake.close());

/** The child processes of `parent` named `name`, from /proc. */
function childrenNamed(parent: ChildProcess, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent.pid && comm === name) found.push(Number(entry));
    } catch {
      // Exited while listed.
    }
  }
  return found;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (check()) return;
    await delay(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('ses-stats on signals and concurrent use of the local store', () => {
  it('stops its DynamoDB Local on SIGINT and exits 130, keeping the stored data', {
    timeout: 600_000,
  }, async () => {
    const dir = scratchDir();
    fake.reset();
    const first = await runCli(collect, keys, dir);
    expect(first.code).toBe(0);
    fake.inject({ kind: 'slow', delayMs: 30_000 }, { times: 2 });
    const seen = fake.requests.length;

    const cli = startCli(collect, keys, dir);
    // SES is asked only after the store is open: a request means DynamoDB Local is running.
    await until(() => fake.requests.length > seen, 'the SES request');
    const java = childrenNamed(cli.child, 'java');
    cli.child.kill('SIGINT');
    const stopped = await cli.done;
    const queried = await runCli(
      ['query', 'statsData', '--granularity', '15m', '--format', 'json'],
      keys,
      dir,
    );

    expect(java).toHaveLength(1);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toBe(
      'ses-stats: stopped by SIGINT; the embedded DynamoDB Local was stopped\n',
    );
    expect(isRunning(java[0] as number)).toBe(false);
    expect(existsSync(join(dir, LOCK))).toBe(false);
    expect(queried.code).toBe(0);
    expect(JSON.parse(queried.stdout).statsData).toEqual(JSON.parse(first.stdout).statsData);
  });

  it('stops its DynamoDB Local on SIGTERM and exits 143', { timeout: 600_000 }, async () => {
    const dir = scratchDir();
    fake.reset();
    fake.inject({ kind: 'slow', delayMs: 30_000 }, { times: 2 });
    const seen = fake.requests.length;

    const cli = startCli(collect, keys, dir);
    await until(() => fake.requests.length > seen, 'the SES request');
    const java = childrenNamed(cli.child, 'java');
    cli.child.kill('SIGTERM');
    const stopped = await cli.done;

    expect(java).toHaveLength(1);
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toBe(
      'ses-stats: stopped by SIGTERM; the embedded DynamoDB Local was stopped\n',
    );
    expect(isRunning(java[0] as number)).toBe(false);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('runs two commands on one data directory in turn, taking over a stale lock', {
    timeout: 600_000,
  }, async () => {
    const dir = scratchDir();
    fake.reset();
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((done) => dead.once('exit', done));
    mkdirSync(join(dir, '.ses-stats'), { recursive: true });
    writeFileSync(join(dir, LOCK), `${dead.pid}\n`);

    // The second waits for the first however slow the machine (here Java can take a minute).
    const turn = [...collect, '--lock-wait', '3600'];
    const [a, b] = await Promise.all([runCli(turn, keys, dir), runCli(turn, keys, dir)]);
    const queried = await runCli(
      ['query', 'statsData', '--granularity', '15m', '--format', 'json'],
      keys,
      dir,
    );

    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const stored = [a.stderr, b.stderr]
      .map((text) => /^stored statsData: (\d+) points, (\d+) hourly and (\d+) daily/m.exec(text))
      .map((m) => m?.slice(1).map(Number));
    const [none, all] = stored.sort((x, y) => (x?.[0] ?? 0) - (y?.[0] ?? 0));
    expect(none).toEqual([0, 0, 0]);
    expect(all?.[0]).toBeGreaterThan(0);
    expect(all?.[2]).toBe(15);
    expect(JSON.parse(queried.stdout).statsData).toEqual(JSON.parse(a.stdout).statsData);
    expect(JSON.parse(b.stdout).statsData).toEqual(JSON.parse(a.stdout).statsData);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('refuses clearly when a live process holds the local store past --lock-wait', async () => {
    const dir = scratchDir();
    mkdirSync(join(dir, '.ses-stats'));
    writeFileSync(join(dir, LOCK), `${process.pid}\n`);

    const run = await runCli(['datasets', '--lock-wait', '1'], keys, dir);

    const store = join(dir, '.ses-stats');
    expect(run.stderr).toBe(
      `waiting for ses-stats pid ${process.pid}, which is using ${store} (up to 1 s)\n` +
        `ses-stats datasets: the local store ${store} is in use by another ses-stats (pid ${process.pid}, lock file ${join(dir, LOCK)}); waited 1 s: let it finish or stop it, then run again (--lock-wait SECONDS waits longer)\n`,
    );
    expect(run.code).toBe(1);
    expect(readFileSync(join(dir, LOCK), 'utf8')).toBe(`${process.pid}\n`);
  });
});
