import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { formatAccountDataset } from '../../lambda/cli/output.ts';
import { buildAccountRow } from '../../lambda/core/datasets.ts';
import { fillAccountHistory, PROBATION, REPUTATION } from '../support/account-history.ts';
import { runMain } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ses-stats-cli-account-'));
const STORE = ['--data-dir', join(dir, 'store')];

beforeAll(async () => {
  mkdirSync(join(dir, 'store'));
  const store = SqliteDatasetStore.open(join(dir, 'store', 'ses-stats.sqlite'));
  try {
    await fillAccountHistory(store, 'accountData');
    await store.putMeta({
      name: 'statsData',
      kind: 'statistics',
      source: 'S1',
      activity: 'a',
      count: 0,
      gaps: [],
      version: 0,
    });
  } finally {
    store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (argv: string[]) => runMain([...argv, ...STORE], { cwd: dir });

describe('ses-stats query, summary and datasets of an account dataset', () => {
  it('prints the account states as CSV: booleans true/false, nulls empty', async () => {
    const out = await run(['query', 'accountData', '--format', 'csv']);

    expect(out.stderr).toBe('');
    expect(out.stdout).toBe(
      [
        'FirstSeen,LastSeen,EnforcementStatus,SendingEnabled,ProductionAccessEnabled,ReviewStatus,ReviewCaseId,Max24HourSend,MaxSendRate',
        '2026-11-01T00:00:00.000Z,2026-11-01T02:00:00.000Z,HEALTHY,true,true,GRANTED,case-1,50000,14',
        '2026-11-01T03:00:00.000Z,2026-11-01T04:00:00.000Z,PROBATION,true,true,PENDING,case-2,50000,14',
        '2026-11-01T05:00:00.000Z,2026-11-01T06:00:00.000Z,HEALTHY,true,false,,,200,1',
        '',
      ].join('\n'),
    );
  });

  it('prints the reputation hours with --series reputation, the state in force at --from first without it', async () => {
    const reputation = await run([
      'query',
      'accountData',
      '--series',
      'reputation',
      '--from',
      '2026-11-01T04:00:00Z',
      '--format',
      'json',
    ]);
    const states = await run([
      'query',
      'accountData',
      '--from',
      '2026-11-01T04:00:00Z',
      '--format',
      'table',
    ]);

    expect(JSON.parse(reputation.stdout)).toEqual({ accountData: REPUTATION.slice(-2) });
    const lines = states.stdout.split('\n');
    expect(lines[0]).toBe('accountData (2 rows)');
    expect(lines[2]).toMatch(
      /^2026-11-01T03:00:00\.000Z {2}2026-11-01T04:00:00\.000Z {2}PROBATION /,
    );
    // Null review cells are blank: the columns close up around them.
    expect(lines[3]?.split(/ {2,}/)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      'HEALTHY',
      'true',
      'false',
      '200',
      '1',
    ]);
  });

  it.each([
    [
      ['query', 'accountData', '--granularity', '1h'],
      /^ses-stats query: --granularity: "accountData" is an account dataset/,
    ],
    [
      ['query', 'statsData', '--series', 'state'],
      /^ses-stats query: --series: "statsData" is a statistics dataset; series applies to account datasets only\n$/,
    ],
    [
      ['query', 'accountData', '--series', 'rates'],
      /^ses-stats query: --series: received "rates"; allowed: state, reputation/,
    ],
  ])('refuses %j with exit 2 naming the flag', async (argv, message) => {
    const out = await run(argv);

    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it('summarises the account state in a few plain lines, the sandbox said in words', async () => {
    const out = await run(['summary', 'accountData', '--format', 'table']);

    expect(out.stdout).toBe(
      [
        'summary of accountData',
        'state          HEALTHY, sending enabled, in the SANDBOX (no production access)',
        'review         none',
        'quota          200 per 24 hours, 1 per second',
        'last change    2026-11-01T05:00:00.000Z (first seen in this state)',
        'last seen      2026-11-01T06:00:00.000Z',
        'state changes  2 in the range (3 states seen)',
        'reputation     bounce 4.00% at 2026-11-01T05:00:00Z, complaint 0.20% at 2026-11-01T04:00:00Z (latest)',
        'highest        bounce 6.00% at 2026-11-01T02:00:00Z, complaint 0.40% at 2026-11-01T03:00:00Z (highest)',
        'coverage       full',
        '',
      ].join('\n'),
    );
  });

  it('summarises a past range: the state then, its review case, and a range outside said so', async () => {
    const then = await run([
      'summary',
      'accountData',
      '--from',
      '2026-11-01T03:30:00Z',
      '--to',
      '2026-11-01T04:30:00Z',
      '--format',
      'table',
    ]);
    const outside = await run([
      'summary',
      'accountData',
      '--to',
      '2026-01-01',
      '--format',
      'table',
    ]);

    expect(then.stdout).toContain('state          PROBATION, sending enabled, production access\n');
    expect(then.stdout).toContain('review         PENDING (case case-2)\n');
    expect(then.stdout).toContain('state changes  0 in the range (1 state seen)\n');
    expect(outside.stdout).toContain('state          unknown: no state was seen in the range\n');
    expect(outside.stdout).toMatch(/coverage {7}none: the range lies outside the stored history/);
  });

  it('prints the account summary as CSV with every field, whether or not it is null', async () => {
    const out = await run(['summary', 'accountData', '--format', 'csv']);

    const [header = '', row = ''] = out.stdout.split('\n');
    const fields = header.split(',');
    const cells = row.split(',');
    const cell = (field: string) => cells[fields.indexOf(field)];
    expect(fields).toContain('coverage.note');
    expect(cell('kind')).toBe('account');
    expect(cell('stateChanges')).toBe('2');
    expect(cell('latest.EnforcementStatus')).toBe('HEALTHY');
    expect(cell('latest.Sandbox')).toBe('true');
    expect(cell('latest.ReviewStatus')).toBe('');
    expect(cell('peakReputation.BounceRate')).toBe('0.06');
  });

  it('lists the account dataset with its kind and last change', async () => {
    const out = await run(['datasets', '--format', 'csv']);

    const [header = '', ...rows] = out.stdout.trimEnd().split('\n');
    expect(header).toBe(
      'name,kind,source,activity,firstTime,lastTime,count,lastChange,coverageFrom,coverageTo,gaps',
    );
    expect(rows[0]).toBe(
      'accountData,account,S1,a,2026-11-01T00:00:00.000Z,2026-11-01T06:00:00.000Z,3,2026-11-01T05:00:00.000Z,2026-11-01T00:00:00.000Z,2026-11-01T06:00:00.000Z,',
    );
  });
});

describe('formatAccountDataset', () => {
  it('prints a fetched account dataset as two tables, the state seen and the reputation hours', () => {
    const account = {
      name: 'accountData',
      rows: [buildAccountRow(PROBATION, new Date('2026-11-01T03:00:00Z'))],
      reputation: REPUTATION.slice(-2),
    };

    const json = JSON.parse(formatAccountDataset(account, 'json'));
    const table = formatAccountDataset(account, 'table');

    expect(json).toEqual({
      accountData: account.rows,
      'accountData.reputation': REPUTATION.slice(-2),
    });
    expect(table.split('\n')).toEqual([
      'accountData (1 row)',
      'FirstSeen                 LastSeen                  EnforcementStatus  SendingEnabled  ProductionAccessEnabled  ReviewStatus  ReviewCaseId  Max24HourSend  MaxSendRate',
      '2026-11-01T03:00:00.000Z  2026-11-01T03:00:00.000Z  PROBATION          true            true                     PENDING       case-2                50000           14',
      '',
      'accountData.reputation (2 rows)',
      'Timestamp             BounceRate  ComplaintRate',
      '2026-11-01T04:00:00Z        0.06          0.002',
      '2026-11-01T05:00:00Z        0.04',
      '',
    ]);
  });
});
