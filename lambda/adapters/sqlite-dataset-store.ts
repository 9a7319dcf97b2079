import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AccountRow, ReputationRow, StatisticsRow, UsageRow } from '../core/datasets.ts';
import { StoreError } from '../core/errors.ts';
import type {
  DatasetMeta,
  DatasetStore,
  RollupRow,
  Span,
  StoredPoint,
  StoredReputation,
} from '../core/store.ts';
import { MIGRATIONS, READABLE_FROM, SCHEMA_VERSION } from './sqlite-schema.ts';

/** How long a write waits for another process's lock by default before it fails. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export interface SqliteDatasetStoreOptions {
  /**
   * Never create or change the store: a missing file reads as an empty store (nothing is created)
   * and every write throws a StoreError. Reading a WAL file still creates SQLite's `-wal` and
   * `-shm` side files, which readers share with writers; the database itself is not changed.
   * @default false
   */
  readonly readOnly?: boolean;
  /** How long a call waits for another connection's lock before failing with SQLITE_BUSY. @default 10_000 */
  readonly busyTimeoutMs?: number;
}

type Granularity = '1h' | '1d';

interface MetaRow {
  readonly name: string;
  readonly version: number;
  readonly body: string;
}

// Columns are renamed to the rows' field names in SQL, so `.all()` returns the port's rows as they
// are: no per-row mapping.
const POINT_COLUMNS = `key AS Timestamp, delivery_attempts AS DeliveryAttempts, bounces AS Bounces,
  complaints AS Complaints, rejects AS Rejects`;

/** An account state as SQLite returns it: the two booleans as 0 or 1. */
type AccountRecord = Omit<AccountRow, 'SendingEnabled' | 'ProductionAccessEnabled'> & {
  readonly SendingEnabled: number;
  readonly ProductionAccessEnabled: number;
};

type AccountArgs = [
  string,
  string,
  string,
  string,
  number,
  number,
  string | null,
  string | null,
  number,
  number,
];
type ReputationArgs = [string, string, number | null, number | null, string];

/** The statements of the account tables (schema version 2). */
function prepareAccount(db: Database.Database) {
  const writeReputation = db.prepare<ReputationArgs>(
    // `<=`: as for raw points, a retried write whose first attempt landed must still win.
    `INSERT INTO reputation_points (name, key, bounce_rate, complaint_rate, fetched_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name, key) DO UPDATE SET
       bounce_rate = excluded.bounce_rate, complaint_rate = excluded.complaint_rate,
       fetched_at = excluded.fetched_at
     WHERE reputation_points.fetched_at <= excluded.fetched_at`,
  );
  return {
    readStates: db.prepare<[string, string, string, number], AccountRecord>(
      `SELECT key AS FirstSeen, last_seen AS LastSeen, enforcement_status AS EnforcementStatus,
         sending_enabled AS SendingEnabled, production_access_enabled AS ProductionAccessEnabled,
         review_status AS ReviewStatus, review_case_id AS ReviewCaseId,
         max_24_hour_send AS Max24HourSend, max_send_rate AS MaxSendRate
       FROM account_states WHERE name = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    ),
    // max() of two TEXT values compares them as the keys are compared: byte-wise.
    putState: db.prepare<AccountArgs>(
      `INSERT INTO account_states
         (name, key, last_seen, enforcement_status, sending_enabled, production_access_enabled,
          review_status, review_case_id, max_24_hour_send, max_send_rate)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name, key) DO UPDATE SET
         last_seen = max(account_states.last_seen, excluded.last_seen),
         enforcement_status = excluded.enforcement_status,
         sending_enabled = excluded.sending_enabled,
         production_access_enabled = excluded.production_access_enabled,
         review_status = excluded.review_status, review_case_id = excluded.review_case_id,
         max_24_hour_send = excluded.max_24_hour_send, max_send_rate = excluded.max_send_rate`,
    ),
    readReputation: db.prepare<[string, string, string, number], StoredReputation>(
      `SELECT key AS Timestamp, bounce_rate AS BounceRate, complaint_rate AS ComplaintRate,
         fetched_at AS fetchedAt
       FROM reputation_points WHERE name = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    ),
    writeReputation: db.transaction((batch: readonly ReputationArgs[]) =>
      batch.map((args) => writeReputation.run(...args).changes === 1),
    ),
  };
}

type AccountStatements = ReturnType<typeof prepareAccount>;

/**
 * The DatasetStore in one SQLite file (better-sqlite3), the CLI's local store. WAL journal, so
 * readers never wait for a writer and a `query` can run beside a `collect`; `synchronous = NORMAL`,
 * so a committed write is not synced to disk one by one (a power loss may drop the last
 * commits, never corrupt the file). Calls run synchronously underneath the port's promises.
 * Every read is one prepared key-range SELECT over a primary key, ascending.
 */
export class SqliteDatasetStore implements DatasetStore {
  private readonly getMetaStatement;
  private readonly listMetaStatement;
  private readonly createMetaStatement;
  private readonly updateMetaStatement;
  private readonly readPointsStatement;
  private readonly writePointStatement;
  private readonly readRollupsStatement;
  private readonly writeRollupStatement;
  private readonly putUsageStatement;
  private readonly readUsageStatement;
  private readonly writeRollupsTransaction;
  private readonly writePointsTransaction;
  private readonly putAccountChangeTransaction;
  private pendingPoints: PendingPoint[] = [];
  /** Prepared on first use: a read-only open of a version-1 file has no account tables yet. */
  private accountStatements: AccountStatements | undefined;

  private constructor(
    private readonly db: Database.Database,
    /** The file, as given to `open`: every error message names it. */
    readonly file: string,
    readonly readOnly: boolean,
    private readonly busyTimeoutMs: number,
  ) {
    this.getMetaStatement = db.prepare<[string], MetaRow>(
      'SELECT name, version, body FROM meta WHERE name = ?',
    );
    this.listMetaStatement = db.prepare<[], MetaRow>(
      'SELECT name, version, body FROM meta ORDER BY name',
    );
    this.createMetaStatement = db.prepare<[string, string]>(
      'INSERT INTO meta (name, version, body) VALUES (?, 1, ?) ON CONFLICT (name) DO NOTHING',
    );
    this.updateMetaStatement = db.prepare<[number, string, string, number]>(
      'UPDATE meta SET version = ?, body = ? WHERE name = ? AND version = ?',
    );
    this.readPointsStatement = db.prepare<[string, string, string, number], StoredPoint>(
      `SELECT ${POINT_COLUMNS}, fetched_at AS fetchedAt FROM raw_points
       WHERE name = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    );
    // `<=`: a retried write whose first attempt landed (its answer lost) must still win.
    this.writePointStatement = db.prepare<
      [string, string, number, number, number, number, string, number | null]
    >(
      `INSERT INTO raw_points
         (name, key, delivery_attempts, bounces, complaints, rejects, fetched_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name, key) DO UPDATE SET
         delivery_attempts = excluded.delivery_attempts, bounces = excluded.bounces,
         complaints = excluded.complaints, rejects = excluded.rejects,
         fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
       WHERE raw_points.fetched_at <= excluded.fetched_at`,
    );
    this.readRollupsStatement = db.prepare<
      [string, Granularity, string, string, number],
      RollupRow
    >(
      `SELECT ${POINT_COLUMNS}, points AS Points FROM rollups
       WHERE name = ? AND granularity = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    );
    this.writeRollupStatement = db.prepare<
      [string, Granularity, string, number, number, number, number, number]
    >(
      `INSERT INTO rollups
         (name, granularity, key, delivery_attempts, bounces, complaints, rejects, points)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name, granularity, key) DO UPDATE SET
         delivery_attempts = excluded.delivery_attempts, bounces = excluded.bounces,
         complaints = excluded.complaints, rejects = excluded.rejects, points = excluded.points`,
    );
    this.putUsageStatement = db.prepare<[string, string, number, number, number]>(
      `INSERT INTO usage_snapshots
         (name, key, max_24_hour_send, max_send_rate, sent_last_24_hours)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name, key) DO UPDATE SET
         max_24_hour_send = excluded.max_24_hour_send, max_send_rate = excluded.max_send_rate,
         sent_last_24_hours = excluded.sent_last_24_hours`,
    );
    this.readUsageStatement = db.prepare<[string, string, string, number], UsageRow>(
      `SELECT key AS CollectedAt, max_24_hour_send AS Max24HourSend, max_send_rate AS MaxSendRate,
         sent_last_24_hours AS SentLast24Hours
       FROM usage_snapshots WHERE name = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    );
    this.writePointsTransaction = db.transaction((batch: readonly Pick<PendingPoint, 'args'>[]) =>
      batch.map((write) => this.writePointStatement.run(...write.args).changes === 1),
    );
    this.putAccountChangeTransaction = db.transaction(
      (name: string, row: AccountRow, meta: DatasetMeta) => {
        if (!this.runPutMeta(meta)) return false;
        this.writableAccount().putState.run(...accountArgs(name, row));
        return true;
      },
    );
    this.writeRollupsTransaction = db.transaction(
      (name: string, granularity: Granularity, rows: readonly RollupRow[]) => {
        for (const row of rows)
          this.writeRollupStatement.run(
            name,
            granularity,
            row.Timestamp,
            row.DeliveryAttempts,
            row.Bounces,
            row.Complaints,
            row.Rejects,
            row.Points,
          );
      },
    );
  }

  /**
   * Opens (read-write: creates, and upgrades the schema of) the store in `file`; the caller
   * creates its directory. Throws a StoreError naming the file when it is not a SQLite database,
   * is not a ses-stats store, was written by a newer ses-stats, or (read-only) has an older schema.
   */
  static open(file: string, options: SqliteDatasetStoreOptions = {}): SqliteDatasetStore {
    const readOnly = options.readOnly ?? false;
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    let db: Database.Database | undefined;
    try {
      if (readOnly && !existsSync(file)) {
        // Nothing stored yet: an empty schema in memory answers every read, and no file is created.
        db = new Database(':memory:');
        upgrade(db, file);
      } else {
        db = new Database(file, {
          readonly: readOnly,
          fileMustExist: readOnly,
          timeout: busyTimeoutMs,
        });
        if (!readOnly) {
          db.pragma('journal_mode = WAL');
          db.pragma('synchronous = NORMAL');
        }
        prepareSchema(db, file, readOnly);
      }
      return new SqliteDatasetStore(db, file, readOnly, busyTimeoutMs);
    } catch (error) {
      db?.close();
      throw storeError(file, 'open', error, busyTimeoutMs);
    }
  }

  /** Closes the file; later calls fail with a StoreError. */
  close(): void {
    this.db.close();
  }

  async getMeta(name: string): Promise<DatasetMeta | undefined> {
    return this.read('getMeta', () => {
      const row = this.getMetaStatement.get(name);
      return row === undefined ? undefined : toMeta(row);
    });
  }

  async listMeta(): Promise<DatasetMeta[]> {
    return this.read('listMeta', () => this.listMetaStatement.all().map(toMeta));
  }

  async putMeta(meta: DatasetMeta): Promise<boolean> {
    return this.write('putMeta', () => this.runPutMeta(meta));
  }

  /** `meta` if the stored version is still `meta.version`; true if it was written. */
  private runPutMeta(meta: DatasetMeta): boolean {
    const { name, version, ...rest } = meta;
    // Optional fields left undefined are dropped by JSON, so they read back absent.
    const body = JSON.stringify(rest);
    const out =
      version === 0
        ? this.createMetaStatement.run(name, body)
        : this.updateMetaStatement.run(version + 1, body, name, version);
    return out.changes === 1;
  }

  async readPoints(name: string, span: Span, limit?: number): Promise<StoredPoint[]> {
    return this.read('readPoints', () =>
      this.readPointsStatement.all(name, span.from, span.to, sqlLimit(limit)),
    );
  }

  async writePoint(
    name: string,
    point: StatisticsRow,
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean> {
    if (this.readOnly)
      throw new StoreError(`the store ${this.file} is open read-only: writePoint refused`);
    // Writes issued together (the core writes many points at once) share one transaction: one
    // commit instead of one per point. Each keeps its own condition and answer.
    return new Promise((resolve, reject) => {
      this.pendingPoints.push({
        args: pointArgs(name, point, fetchedAt, retentionDays),
        resolve,
        reject,
      });
      if (this.pendingPoints.length === 1) queueMicrotask(() => this.flushPoints());
    });
  }

  /** Every point in one write transaction, each with `writePoint`'s condition on `fetched_at`. */
  async writePoints(
    name: string,
    points: readonly StatisticsRow[],
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean[]> {
    const batch = points.map((point) => ({
      args: pointArgs(name, point, fetchedAt, retentionDays),
    }));
    return this.write('writePoints', () => this.writePointsTransaction.immediate(batch));
  }

  private flushPoints(): void {
    const batch = this.pendingPoints;
    this.pendingPoints = [];
    let won: boolean[];
    try {
      won = this.read('writePoint', () => this.writePointsTransaction.immediate(batch));
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => {
      write.resolve(won[i] === true);
    });
  }

  async readRollups(
    name: string,
    granularity: Granularity,
    span: Span,
    limit?: number,
  ): Promise<RollupRow[]> {
    return this.read('readRollups', () =>
      this.readRollupsStatement.all(name, granularity, span.from, span.to, sqlLimit(limit)),
    );
  }

  async writeRollups(
    name: string,
    granularity: Granularity,
    rows: readonly RollupRow[],
  ): Promise<void> {
    this.write('writeRollups', () =>
      this.writeRollupsTransaction.immediate(name, granularity, rows),
    );
  }

  async putUsage(name: string, row: UsageRow): Promise<void> {
    this.write('putUsage', () =>
      this.putUsageStatement.run(
        name,
        row.CollectedAt,
        row.Max24HourSend,
        row.MaxSendRate,
        row.SentLast24Hours,
      ),
    );
  }

  async readUsage(name: string, span: Span, limit?: number): Promise<UsageRow[]> {
    return this.read('readUsage', () =>
      this.readUsageStatement.all(name, span.from, span.to, sqlLimit(limit)),
    );
  }

  async readAccountStates(name: string, span: Span, limit?: number): Promise<AccountRow[]> {
    return this.read('readAccountStates', () =>
      (this.account()?.readStates.all(name, span.from, span.to, sqlLimit(limit)) ?? []).map(
        (r) => ({
          ...r,
          SendingEnabled: r.SendingEnabled === 1,
          ProductionAccessEnabled: r.ProductionAccessEnabled === 1,
        }),
      ),
    );
  }

  /** Keyed by FirstSeen; a rewrite keeps the later LastSeen of the stored and the new row. */
  async putAccountState(name: string, row: AccountRow): Promise<void> {
    this.write('putAccountState', () =>
      this.writableAccount().putState.run(...accountArgs(name, row)),
    );
  }

  /**
   * One IMMEDIATE transaction: `putMeta`'s versioned write first, then, only if it won,
   * `putAccountState`'s. A lost version check writes nothing.
   */
  async putAccountChange(name: string, row: AccountRow, meta: DatasetMeta): Promise<boolean> {
    return this.write('putAccountChange', () =>
      this.putAccountChangeTransaction.immediate(name, row, meta),
    );
  }

  async readReputation(name: string, span: Span, limit?: number): Promise<StoredReputation[]> {
    return this.read(
      'readReputation',
      () => this.account()?.readReputation.all(name, span.from, span.to, sqlLimit(limit)) ?? [],
    );
  }

  /** Every point in one write transaction, each with `writePoint`'s condition on `fetched_at`. */
  async writeReputation(
    name: string,
    rows: readonly ReputationRow[],
    fetchedAt: string,
  ): Promise<boolean[]> {
    const batch = rows.map(
      (r): ReputationArgs => [name, r.Timestamp, r.BounceRate, r.ComplaintRate, fetchedAt],
    );
    return this.write('writeReputation', () =>
      this.writableAccount().writeReputation.immediate(batch),
    );
  }

  /**
   * The account tables' statements, once the file has them: a writing open always creates them;
   * a read-only one of an older file reads them as empty until another process upgrades it.
   */
  private account(): AccountStatements | undefined {
    // Both tables come from one migration, run in one transaction: one present, both are.
    if (this.accountStatements === undefined && hasTable(this.db, 'account_states'))
      this.accountStatements = prepareAccount(this.db);
    return this.accountStatements;
  }

  /** A writing open created the account tables; a file without them here was changed under us. */
  private writableAccount(): AccountStatements {
    const statements = this.account();
    if (statements === undefined)
      throw new StoreError(
        `the store ${this.file} has no account_states table although it was opened for writing (schema version ${userVersion(this.db)}); reopen it to upgrade`,
      );
    return statements;
  }

  private read<T>(operation: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw storeError(this.file, operation, error, this.busyTimeoutMs);
    }
  }

  private write<T>(operation: string, body: () => T): T {
    if (this.readOnly)
      throw new StoreError(`the store ${this.file} is open read-only: ${operation} refused`);
    return this.read(operation, body);
  }
}

type PointArgs = readonly [string, string, number, number, number, number, string, number | null];

/** A point write waiting for the batch it is committed in. */
interface PendingPoint {
  readonly args: PointArgs;
  resolve(won: boolean): void;
  reject(error: unknown): void;
}

/** The account state statement's parameters for one state. */
function accountArgs(name: string, row: AccountRow): AccountArgs {
  return [
    name,
    row.FirstSeen,
    row.LastSeen,
    row.EnforcementStatus,
    row.SendingEnabled ? 1 : 0,
    row.ProductionAccessEnabled ? 1 : 0,
    row.ReviewStatus,
    row.ReviewCaseId,
    row.Max24HourSend,
    row.MaxSendRate,
  ];
}

/** The write statement's parameters for one point. */
function pointArgs(
  name: string,
  point: StatisticsRow,
  fetchedAt: string,
  retentionDays: number | undefined,
): PointArgs {
  // Recorded like the deployed table's TTL attribute, but not enforced here: nothing deletes
  // expired points from the local store.
  const expiresAt =
    retentionDays === undefined
      ? null
      : Math.floor(Date.parse(point.Timestamp) / 1000) + retentionDays * 86_400;
  return [
    name,
    point.Timestamp,
    point.DeliveryAttempts,
    point.Bounces,
    point.Complaints,
    point.Rejects,
    fetchedAt,
    expiresAt,
  ];
}

function toMeta(row: MetaRow): DatasetMeta {
  return {
    name: row.name,
    ...(JSON.parse(row.body) as object),
    version: row.version,
  } as DatasetMeta;
}

/** Checks the file's schema version; read-write, brings an older schema up to date. */
function prepareSchema(db: Database.Database, file: string, readOnly: boolean): void {
  const version = userVersion(db);
  if (version === SCHEMA_VERSION) return;
  checkKnown(db, file, version);
  // Later migrations only add tables: the reads of a missing one answer empty.
  if (readOnly && version >= READABLE_FROM) return;
  if (readOnly)
    throw new StoreError(
      `the store ${file} has schema version ${version}, older than the ${SCHEMA_VERSION} this ses-stats reads, and is open read-only: run ses-stats collect (or any writing command) once to upgrade it`,
    );
  upgrade(db, file);
}

/** Runs the missing migrations in one write transaction, so a concurrent open migrates once. */
function upgrade(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = userVersion(db);
    if (version === SCHEMA_VERSION) return;
    checkKnown(db, file, version);
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** Refuses a schema newer than this code and a SQLite file that ses-stats did not create. */
function checkKnown(db: Database.Database, file: string, version: number): void {
  if (version > SCHEMA_VERSION)
    throw new StoreError(
      `the store ${file} was written by a newer ses-stats (schema version ${version}; this one reads up to ${SCHEMA_VERSION}): upgrade ses-stats to use it`,
    );
  if (version === 0 && db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get() !== undefined)
    throw new StoreError(
      `${file} is a SQLite database but not a ses-stats store (it has tables and no ses-stats schema version); choose another data directory`,
    );
}

function hasTable(db: Database.Database, table: string): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !==
    undefined
  );
}

function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function storeError(
  file: string,
  operation: string,
  error: unknown,
  busyTimeoutMs: number,
): StoreError {
  if (error instanceof StoreError) return error;
  const code = error instanceof Database.SqliteError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (code?.startsWith('SQLITE_BUSY'))
    return new StoreError(
      `the store ${file} is busy: another process held its lock longer than the ${busyTimeoutMs} ms busy timeout (${operation}); try again when it has finished`,
      { cause: error },
    );
  if (code === 'SQLITE_NOTADB')
    return new StoreError(`${file} is not a SQLite database (${operation}: ${message})`, {
      cause: error,
    });
  return new StoreError(
    `SQLite ${operation} on ${file} failed: ${message}${code === undefined ? '' : ` (${code})`}`,
    { cause: error },
  );
}

/** SQLite reads a negative LIMIT as none. */
function sqlLimit(limit: number | undefined): number {
  return limit ?? -1;
}
