/**
 * The SQLite store's schema, as an ordered list of migrations: migration i (0-based) takes a file
 * from `PRAGMA user_version` i to i + 1. Append a migration to change the schema; never edit one
 * that has shipped, since files written by it exist.
 *
 * Keys are plain TEXT with the default BINARY collation, so they compare byte-wise (UTF-8) as
 * DynamoDB compares its sort keys; ISO-8601 UTC times sort as time does. Every table is
 * WITHOUT ROWID: rows are stored in primary-key order, so a key-range read is one index walk.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    name    TEXT    NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    -- The DatasetMeta without name and version, as JSON: optional fields absent, not null.
    body    TEXT    NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE raw_points (
    name              TEXT    NOT NULL,
    key               TEXT    NOT NULL, -- Timestamp
    delivery_attempts INTEGER NOT NULL,
    bounces           INTEGER NOT NULL,
    complaints        INTEGER NOT NULL,
    rejects           INTEGER NOT NULL,
    fetched_at        TEXT    NOT NULL,
    -- Epoch seconds (Timestamp + retention days), as the deployed table's TTL attribute. Recorded so
    -- that a copy to DynamoDB keeps the rule; nothing deletes expired points locally.
    expires_at        INTEGER,
    PRIMARY KEY (name, key)
  ) WITHOUT ROWID;

  CREATE TABLE rollups (
    name              TEXT    NOT NULL,
    granularity       TEXT    NOT NULL CHECK (granularity IN ('1h', '1d')),
    key               TEXT    NOT NULL, -- bucket start
    delivery_attempts INTEGER NOT NULL,
    bounces           INTEGER NOT NULL,
    complaints        INTEGER NOT NULL,
    rejects           INTEGER NOT NULL,
    points            INTEGER NOT NULL,
    PRIMARY KEY (name, granularity, key)
  ) WITHOUT ROWID;

  CREATE TABLE usage_snapshots (
    name               TEXT NOT NULL,
    key                TEXT NOT NULL, -- CollectedAt
    max_24_hour_send   REAL NOT NULL,
    max_send_rate      REAL NOT NULL,
    sent_last_24_hours REAL NOT NULL,
    PRIMARY KEY (name, key)
  ) WITHOUT ROWID;
  `,
  // 2: account datasets. Only adds tables, so a read-only open of a version-1 file still reads it.
  `
  CREATE TABLE account_states (
    name                      TEXT    NOT NULL,
    key                       TEXT    NOT NULL, -- FirstSeen
    last_seen                 TEXT    NOT NULL,
    enforcement_status        TEXT    NOT NULL,
    sending_enabled           INTEGER NOT NULL CHECK (sending_enabled IN (0, 1)),
    production_access_enabled INTEGER NOT NULL CHECK (production_access_enabled IN (0, 1)),
    review_status             TEXT,
    review_case_id            TEXT,
    max_24_hour_send          REAL    NOT NULL,
    max_send_rate             REAL    NOT NULL,
    PRIMARY KEY (name, key)
  ) WITHOUT ROWID;

  CREATE TABLE reputation_points (
    name           TEXT NOT NULL,
    key            TEXT NOT NULL, -- Timestamp
    bounce_rate    REAL, -- NULL: CloudWatch published no value for the hour
    complaint_rate REAL,
    fetched_at     TEXT NOT NULL,
    PRIMARY KEY (name, key)
  ) WITHOUT ROWID;
  `,
];

/**
 * The oldest schema version a read-only open reads as it is: the migrations after it only add
 * tables, and a table a file lacks reads as empty until a writing open creates it.
 */
export const READABLE_FROM = 1;

/** The schema version this code writes and reads: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;
