import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../lambda/adapters/sqlite-schema.ts';
import type { AccountRow } from '../../lambda/core/datasets.ts';
import { StoreError } from '../../lambda/core/errors.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const FETCH = '2026-11-28T12:00:00.000Z';
const POINT = {
  Timestamp: '2026-11-28T10:07:00Z',
  DeliveryAttempts: 5,
  Bounces: 1,
  Complaints: 0,
  Rejects: 0,
};
const STATE: AccountRow = {
  FirstSeen: FETCH,
  LastSeen: FETCH,
  EnforcementStatus: 'HEALTHY',
  SendingEnabled: true,
  ProductionAccessEnabled: false,
  ReviewStatus: null,
  ReviewCaseId: null,
  Max24HourSend: 200,
  MaxSendRate: 1,
};

/** A store file as the first schema (before account datasets) left it, holding one raw point. */
function versionOneFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ses-stats-sqlite-v1-'));
  dirs.push(dir);
  const file = join(dir, 'store.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(MIGRATIONS[0] as string);
  db.pragma('user_version = 1');
  db.prepare(
    `INSERT INTO raw_points (name, key, delivery_attempts, bounces, complaints, rejects, fetched_at)
     VALUES ('stats', ?, 5, 1, 0, 0, ?)`,
  ).run(POINT.Timestamp, FETCH);
  db.close();
  return file;
}

function schemaOf(file: string): { version: number; tables: string[] } {
  const db = new Database(file, { readonly: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    .all()
    .map((t) => t.name)
    .sort();
  db.close();
  return { version, tables };
}

describe('SQLite store written before account datasets (schema version 1)', () => {
  it('is read read-only as it is: its history, and empty account datasets, without changing it', async () => {
    const file = versionOneFile();
    const before = schemaOf(file);

    const store = SqliteDatasetStore.open(file, { readOnly: true });
    const points = await store.readPoints('stats', ALL_TIME);
    const states = await store.readAccountStates('account', ALL_TIME);
    const reputation = await store.readReputation('account', ALL_TIME);
    const write = store.putAccountState('account', STATE);
    await expect(write).rejects.toThrow(StoreError);
    await expect(write).rejects.toThrow(`the store ${file} is open read-only: putAccountState`);
    store.close();

    expect(points).toEqual([{ ...POINT, fetchedAt: FETCH }]);
    expect(states).toEqual([]);
    expect(reputation).toEqual([]);
    expect(schemaOf(file)).toEqual(before);
    expect(before.tables).not.toContain('account_states');
  });

  it('is upgraded by a writing open, keeping its history and storing account datasets', async () => {
    const file = versionOneFile();

    const store = SqliteDatasetStore.open(file);
    await store.putAccountState('account', STATE);
    const won = await store.writeReputation(
      'account',
      [{ Timestamp: '2026-11-28T10:00:00Z', BounceRate: 0.01, ComplaintRate: null }],
      FETCH,
    );
    store.close();

    const reopened = SqliteDatasetStore.open(file, { readOnly: true });
    expect(won).toEqual([true]);
    expect(await reopened.readPoints('stats', ALL_TIME)).toEqual([{ ...POINT, fetchedAt: FETCH }]);
    expect(await reopened.readAccountStates('account', ALL_TIME)).toEqual([STATE]);
    expect(await reopened.readReputation('account', ALL_TIME)).toHaveLength(1);
    reopened.close();
    expect(schemaOf(file).version).toBe(SCHEMA_VERSION);
    expect(schemaOf(file).tables).toEqual(
      expect.arrayContaining(['account_states', 'reputation_points']),
    );
  });

  it('lets a reader opened before another connection upgrades it see the account data written after', async () => {
    const file = versionOneFile();
    const reader = SqliteDatasetStore.open(file, { readOnly: true });
    expect(await reader.readAccountStates('account', ALL_TIME)).toEqual([]);

    const writer = SqliteDatasetStore.open(file);
    await writer.putAccountState('account', STATE);
    writer.close();

    expect(await reader.readAccountStates('account', ALL_TIME)).toEqual([STATE]);
    reader.close();
  });
});
