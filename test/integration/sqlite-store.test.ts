import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { SCHEMA_VERSION } from '../../lambda/adapters/sqlite-schema.ts';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import { StoreError } from '../../lambda/core/errors.ts';
import type { DatasetMeta, DatasetStore } from '../../lambda/core/store.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { WRITER_FETCHED_AT, writerTimestamp } from '../support/sqlite-writer.ts';

const WRITER = resolve(import.meta.dirname, '../support/sqlite-writer.ts');
const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ses-stats-sqlite-'));
  scratchDirs.push(dir);
  return dir;
}

const row = (Timestamp: string, DeliveryAttempts: number): StatisticsRow => ({
  Timestamp,
  DeliveryAttempts,
  Bounces: 1,
  Complaints: 0,
  Rejects: 0,
});

const META: DatasetMeta = {
  name: 'stats',
  kind: 'statistics',
  source: 'SESSession1',
  activity: 'daily-stats',
  firstTime: '2026-11-28T10:07:00Z',
  lastTime: '2026-11-28T10:07:00Z',
  count: 1,
  coverage: { from: '2026-11-14T12:00:00.000Z', to: '2026-11-28T12:00:00.000Z' },
  gaps: [],
  rawRetentionDays: 30,
  version: 0,
};

/** One row of every kind, as a collect would leave them. */
async function fill(store: DatasetStore): Promise<void> {
  await store.putMeta(META);
  await store.writePoint('stats', row('2026-11-28T10:07:00Z', 5), '2026-11-28T12:00:00.000Z', 30);
  await store.writeRollups('stats', '1h', [{ ...row('2026-11-28T10:00:00Z', 5), Points: 1 }]);
  await store.writeRollups('stats', '1d', [{ ...row('2026-11-28T00:00:00Z', 5), Points: 1 }]);
  await store.putUsage('usage', {
    CollectedAt: '2026-11-28T12:00:00.000Z',
    Max24HourSend: 50_000,
    MaxSendRate: 14,
    SentLast24Hours: 120,
  });
}

async function contents(store: DatasetStore) {
  return {
    meta: await store.listMeta(),
    points: await store.readPoints('stats', ALL_TIME),
    hourly: await store.readRollups('stats', '1h', ALL_TIME),
    daily: await store.readRollups('stats', '1d', ALL_TIME),
    usage: await store.readUsage('usage', ALL_TIME),
  };
}

const EMPTY = { meta: [], points: [], hourly: [], daily: [], usage: [] };

/** The error `call` throws or rejects with; fails the test when it succeeds. */
async function errorOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, the call succeeded');
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The four writes of the port, each refused by a read-only store. */
const WRITES: Array<[string, (store: DatasetStore) => Promise<unknown>]> = [
  ['putMeta', (store) => store.putMeta({ ...META, name: 'new' })],
  ['writePoint', (store) => store.writePoint('new', row('2026-11-28T11:07:00Z', 1), 'x')],
  ['writeRollups', (store) => store.writeRollups('new', '1h', [])],
  [
    'putUsage',
    (store) =>
      store.putUsage('new', {
        CollectedAt: 'x',
        Max24HourSend: 1,
        MaxSendRate: 1,
        SentLast24Hours: 1,
      }),
  ],
];

describe('SqliteDatasetStore', () => {
  it('keeps everything across close and reopen, read-write and read-only', async () => {
    const file = join(scratch(), 'store.sqlite');
    const first = SqliteDatasetStore.open(file);
    await fill(first);
    const written = await contents(first);
    first.close();

    const again = SqliteDatasetStore.open(file);
    const reopened = await contents(again);
    again.close();
    const readOnly = SqliteDatasetStore.open(file, { readOnly: true });
    const readBack = await contents(readOnly);
    readOnly.close();

    expect(written.meta).toEqual([{ ...META, version: 1 }]);
    expect(written.points).toHaveLength(1);
    expect(written.usage).toHaveLength(1);
    expect(reopened).toEqual(written);
    expect(readBack).toEqual(written);
  });

  it('stores absent metadata fields as absent (no undefined or null keys)', async () => {
    const store = SqliteDatasetStore.open(join(scratch(), 'store.sqlite'));
    const { firstTime, lastTime, coverage, rawRetentionDays, ...minimal } = META;

    await store.putMeta(minimal);

    expect(Object.keys((await store.getMeta('stats')) ?? {}).sort()).toEqual([
      'activity',
      'count',
      'gaps',
      'kind',
      'name',
      'source',
      'version',
    ]);
    store.close();
  });

  it('creates the file in WAL mode with the current schema version', () => {
    const file = join(scratch(), 'store.sqlite');

    SqliteDatasetStore.open(file).close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  describe('read-only', () => {
    it('reads a missing file as an empty store and creates nothing', async () => {
      const dir = scratch();
      const file = join(dir, 'store.sqlite');

      const store = SqliteDatasetStore.open(file, { readOnly: true });
      const read = await contents(store);
      store.close();

      expect(read).toEqual(EMPTY);
      expect(readdirSync(dir)).toEqual([]);
    });

    it('leaves an existing database file byte for byte as it was', async () => {
      const file = join(scratch(), 'store.sqlite');
      const writer = SqliteDatasetStore.open(file);
      await fill(writer);
      writer.close();
      const before = sha256(file);

      const store = SqliteDatasetStore.open(file, { readOnly: true });
      const read = await contents(store);
      store.close();

      expect(read.points).toHaveLength(1);
      expect(sha256(file)).toBe(before);
    });

    it.each([
      ['a missing file', false],
      ['an existing file', true],
    ])(
      'rejects every write through a read-only store on %s, naming the file',
      async (_, exists) => {
        const dir = scratch();
        const file = join(dir, 'store.sqlite');
        if (exists) SqliteDatasetStore.open(file).close();
        const listing = readdirSync(dir);
        const store = SqliteDatasetStore.open(file, { readOnly: true });

        for (const [operation, write] of WRITES) {
          const error = await errorOf(() => write(store));
          expect(error, operation).toBeInstanceOf(StoreError);
          expect((error as Error).message).toContain(file);
          expect((error as Error).message).toContain(`read-only: ${operation}`);
        }
        expect(await contents(store)).toEqual(EMPTY);
        store.close();
        if (!exists) expect(readdirSync(dir)).toEqual(listing);
      },
    );

    it('rejects a file with an older schema, saying how to upgrade it; a writing open upgrades it', async () => {
      const file = join(scratch(), 'store.sqlite');
      const old = new Database(file);
      old.pragma('journal_mode = WAL'); // a valid database, user_version 0, no tables
      old.close();

      const error = await errorOf(() => SqliteDatasetStore.open(file, { readOnly: true }));
      SqliteDatasetStore.open(file).close();
      const upgraded = SqliteDatasetStore.open(file, { readOnly: true });

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toContain(
        'run ses-stats collect (or any writing command) once to upgrade',
      );
      expect(await contents(upgraded)).toEqual(EMPTY);
      upgraded.close();
    });
  });

  describe('refusals', () => {
    it.each([false, true])(
      'rejects a file written by a newer ses-stats (readOnly: %s), changing nothing',
      async (readOnly) => {
        const file = join(scratch(), 'store.sqlite');
        SqliteDatasetStore.open(file).close();
        const newer = new Database(file);
        newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
        newer.close();

        const error = await errorOf(() => SqliteDatasetStore.open(file, { readOnly }));

        expect(error).toBeInstanceOf(StoreError);
        expect((error as Error).message).toContain(
          `the store ${file} was written by a newer ses-stats`,
        );
        const db = new Database(file, { readonly: true });
        expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
        db.close();
      },
    );

    it.each([false, true])(
      'rejects a file that is not a SQLite database (readOnly: %s), leaving it untouched',
      async (readOnly) => {
        const file = join(scratch(), 'store.sqlite');
        const text = 'Timestamp,DeliveryAttempts\n'.repeat(20);
        writeFileSync(file, text);

        const error = await errorOf(() => SqliteDatasetStore.open(file, { readOnly }));

        expect(error).toBeInstanceOf(StoreError);
        expect((error as Error).message).toContain(`${file} is not a SQLite database`);
        expect((error as StoreError).cause).toHaveProperty('code', 'SQLITE_NOTADB');
        expect(readFileSync(file, 'utf8')).toBe(text);
      },
    );

    it('rejects a SQLite database that is not a ses-stats store, adding no table to it', async () => {
      const file = join(scratch(), 'other.sqlite');
      const other = new Database(file);
      other.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)');
      other.close();

      const error = await errorOf(() => SqliteDatasetStore.open(file));

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(
        `${file} is a SQLite database but not a ses-stats store`,
      );
      const db = new Database(file, { readonly: true });
      const tables = db.prepare('SELECT name FROM sqlite_master').pluck().all();
      db.close();
      expect(tables).toEqual(['customers']);
    });

    it('rejects a file in a directory that does not exist, naming the file', async () => {
      const file = join(scratch(), 'missing', 'store.sqlite');

      const error = await errorOf(() => SqliteDatasetStore.open(file));

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`SQLite open on ${file} failed`);
      expect(existsSync(file)).toBe(false);
    });

    it('rejects a call after close with a StoreError naming the operation and the file', async () => {
      const file = join(scratch(), 'store.sqlite');
      const store = SqliteDatasetStore.open(file);
      store.close();

      const error = await errorOf(() => store.readPoints('stats', ALL_TIME));

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`SQLite readPoints on ${file} failed`);
      expect((error as StoreError).cause).toBeInstanceOf(Error);
    });
  });

  describe('concurrency', () => {
    it('fails a write with "busy" when another writer holds the lock past the busy timeout; readers go on', async () => {
      const file = join(scratch(), 'store.sqlite');
      const store = SqliteDatasetStore.open(file, { busyTimeoutMs: 200 });
      await store.writePoint('stats', row('2026-11-28T10:07:00Z', 1), '2026-11-28T12:00:00.000Z');
      const holder = new Database(file);
      holder.exec('BEGIN EXCLUSIVE');

      const started = Date.now();
      const error = await errorOf(() =>
        store.writePoint('stats', row('2026-11-28T10:22:00Z', 2), '2026-11-28T12:00:00.000Z'),
      );
      const waited = Date.now() - started;
      const readMeanwhile = await store.readPoints('stats', ALL_TIME);
      holder.exec('ROLLBACK');
      holder.close();
      const afterRelease = await store.writePoint(
        'stats',
        row('2026-11-28T10:22:00Z', 2),
        '2026-11-28T12:00:00.000Z',
      );

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`the store ${file} is busy`);
      expect((error as Error).message).toContain('200 ms busy timeout (writePoint)');
      expect((error as StoreError).cause).toHaveProperty('code', 'SQLITE_BUSY');
      // The store's own timeout, not better-sqlite3's default of 5 s.
      expect(waited).toBeGreaterThanOrEqual(150);
      expect(waited).toBeLessThan(2_000);
      expect(readMeanwhile.map((p) => p.DeliveryAttempts)).toEqual([1]);
      expect(afterRelease).toBe(true);
      store.close();
    });

    it('lets this process read a growing, consistent prefix while another process writes', async () => {
      const file = join(scratch(), 'store.sqlite');
      const count = 3_000;
      const writer = startWriter(file, 'child', count);
      await writer.ready;
      const reader = SqliteDatasetStore.open(file, { readOnly: true });
      const lengths: number[] = [];

      while (!writer.exited) {
        const points = await reader.readPoints('child', ALL_TIME);
        expectPrefix(points);
        expect(points.length).toBeGreaterThanOrEqual(lengths.at(-1) ?? 0);
        lengths.push(points.length);
        await yieldToEvents();
      }
      const final = await reader.readPoints('child', ALL_TIME);
      reader.close();

      expect(await writer.result).toEqual({
        code: 0,
        stdout: `ready\ndone ${count}\n`,
        stderr: '',
      });
      expectPrefix(final);
      expect(final).toHaveLength(count);
      // The reads overlapped the writes: several saw a part of them.
      expect(new Set(lengths.filter((n) => n > 0 && n < count)).size).toBeGreaterThanOrEqual(3);
    });

    it('lets two processes write at once without a busy error, keeping every point of both', async () => {
      const file = join(scratch(), 'store.sqlite');
      const count = 2_000;
      const writer = startWriter(file, 'child', count);
      await writer.ready;
      const store = SqliteDatasetStore.open(file);
      let written = 0;
      let whileChildRan = 0;

      while (!writer.exited || written < count) {
        await store.writePoint('parent', row(writerTimestamp(written), written), WRITER_FETCHED_AT);
        written++;
        if (!writer.exited) whileChildRan++;
        if (written % 10 === 0) await yieldToEvents();
      }

      expect(await writer.result).toEqual({
        code: 0,
        stdout: `ready\ndone ${count}\n`,
        stderr: '',
      });
      expect(whileChildRan).toBeGreaterThan(10);
      const child = await store.readPoints('child', ALL_TIME);
      const parent = await store.readPoints('parent', ALL_TIME);
      expectPrefix(child);
      expect(child).toHaveLength(count);
      expect(parent.map((p) => p.DeliveryAttempts)).toEqual(
        Array.from({ length: written }, (_, i) => i),
      );
      store.close();
    });
  });
});

/** Points 0..n-1 exactly as the writer script writes them, in order, none missing. */
function expectPrefix(points: readonly StatisticsRow[]): void {
  const wrong = points.findIndex(
    (p, i) => p.Timestamp !== writerTimestamp(i) || p.DeliveryAttempts !== i,
  );
  expect(wrong, 'first point that breaks the prefix').toBe(-1);
}

interface Writer {
  readonly ready: Promise<void>;
  readonly result: Promise<{ code: number | null; stdout: string; stderr: string }>;
  readonly exited: boolean;
}

/** Runs test/support/sqlite-writer.ts in its own process. */
function startWriter(file: string, dataset: string, count: number): Writer {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', WRITER, file, dataset, String(count)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const ready = new Promise<void>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) done();
    });
    child.once('exit', () => fail(new Error(`the writer exited before it was ready: ${stderr}`)));
  });
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (done, fail) => {
      child.once('error', fail);
      child.once('close', (code) => {
        exited = true;
        done({ code, stdout, stderr });
      });
    },
  );
  return {
    ready,
    result,
    get exited() {
      return exited;
    },
  };
}
