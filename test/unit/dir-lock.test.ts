import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDir } from '../../lambda/adapters/embedded-dynamodb.ts';
import { StoreError } from '../../lambda/core/errors.ts';

const WORKER = resolve(import.meta.dirname, '../support/dir-lock-worker.ts');

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'ses-stats-lock-'));
}

/** The pid of a process that has exited: a lock left by it is stale. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((done) => child.once('exit', done));
  return child.pid as number;
}

function run(args: string[]): Promise<number | null> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' });
    child.once('error', fail);
    child.once('exit', done);
  });
}

describe('lockDir', () => {
  it('writes this process id into the lock file and removes it on release', async () => {
    const dir = scratch();

    const lock = await lockDir(dir, 0);
    const content = readFileSync(join(dir, LOCK_FILE), 'utf8');
    lock.release();

    expect(content).toBe(`${process.pid}\n`);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock whose process is gone', async () => {
    const dir = scratch();
    writeFileSync(join(dir, LOCK_FILE), `${await deadPid()}\n`);

    const lock = await lockDir(dir, 0);

    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
  });

  it('rejects after the wait when a live process holds the lock, naming it and the directory', async () => {
    const dir = scratch();
    const holder = process.ppid;
    writeFileSync(join(dir, LOCK_FILE), `${holder}\n`);
    const told: number[] = [];

    const taking = lockDir(dir, 300, (pid) => told.push(pid));

    await expect(taking).rejects.toBeInstanceOf(StoreError);
    await expect(taking).rejects.toThrow(
      `the local store ${dir} is in use by another ses-stats (pid ${holder}, lock file ${join(dir, LOCK_FILE)}); waited 0 s`,
    );
    expect(told).toEqual([holder]);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${holder}\n`);
  });

  it('waits for a holder in the same process and takes the lock once it is released', async () => {
    const dir = scratch();
    const first = await lockDir(dir, 0);
    const order: string[] = [];

    const second = lockDir(dir, 10_000).then((lock) => {
      order.push('second');
      return lock;
    });
    await delay(300);
    order.push('released');
    first.release();
    (await second).release();

    expect(order).toEqual(['released', 'second']);
  });

  it('lets one process at a time hold it when six race for a stale lock', {
    timeout: 120_000,
  }, async () => {
    const dir = scratch();
    writeFileSync(join(dir, LOCK_FILE), `${await deadPid()}\n`);

    const codes = await Promise.all(Array.from({ length: 6 }, () => run([WORKER, dir])));

    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(12);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]?.split(' ')[1];
      expect([lines[i], lines[i + 1]]).toEqual([`in ${pid}`, `out ${pid}`]);
    }
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(6);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
