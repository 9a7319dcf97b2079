import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir } from '../support/cli.ts';
import { hourlySeries } from '../support/fake-cloudwatch.ts';
import { type FakePoint, type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

const keys = FAKE_KEYS_ENV;
const DAY_MS = 86_400_000;
let fake: FakeSes;
let collect: string[];
/** A store holding one collect of `points`. */
let dir: string;
let points: FakePoint[];

beforeAll(async () => {
  fake = await startFakeSes();
  // No point near 24 hours ago: a --since 24h boundary read a moment later cannot move past one.
  const edge = Date.now() - DAY_MS;
  points = twoWeekWindow(new Date(), { seed: 11 }).filter(
    (p) => Math.abs(Date.parse(p.timestamp) - edge) > 10 * 60_000,
  );
  fake.points = points;
  // Complaint rates for only the first half of the hours: the rest have an empty (null) cell.
  const hoursAgo = new Date(Date.now() - 8 * 3_600_000);
  fake.reputation = {
    bounceRate: hourlySeries(hoursAgo, 6, (i) => 0.01 * (i + 1)),
    complaintRate: hourlySeries(hoursAgo, 3, () => 0.0004),
  };
  collect = collectArgs(fake.url);
  dir = scratchDir();
  const run = await runCli(collect, keys, dir);
  expect(run.code).toBe(0);
});
afterEach(() => {
  fake.points = points;
});
afterAll(() => fake.close());

/** RFC 4180, written here apart from the CLI's writer: quoted cells, doubled quotes, CRLF or LF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') [cell, i] = [`${cell}"`, i + 1];
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') [record, cell] = [[...record, cell], ''];
    else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      records.push([...record, cell]);
      [record, cell] = [[], ''];
    } else cell += c;
  }
  if (cell !== '' || record.length > 0) records.push([...record, cell]);
  return records;
}

/** The rows as CSV would write their cells: the header's columns, in order, as text. */
function asCells(columns: readonly string[], rows: readonly Record<string, unknown>[]): string[][] {
  return rows.map((row) => columns.map((c) => (row[c] === null ? '' : String(row[c]))));
}

function pointsIn(from: string, to: string): FakePoint[] {
  return points.filter(
    (p) => Date.parse(p.timestamp) >= Date.parse(from) && Date.parse(p.timestamp) < Date.parse(to),
  );
}

describe('ses-stats CSV output', () => {
  it.each([
    ['statsData', '15m'],
    ['statsData', '1d'],
    ['usageData', undefined],
  ])(
    'prints %s (%s) as plain CSV: one header row and the JSON rows, nothing else',
    async (name, granularity) => {
      const flags = granularity === undefined ? [] : ['--granularity', granularity];

      const [csv, json] = await Promise.all([
        runCli(['query', name, ...flags, '--format', 'csv'], {}, dir),
        runCli(['query', name, ...flags, '--format', 'json'], {}, dir),
      ]);

      expect([csv.code, json.code]).toEqual([0, 0]);
      const [header, ...rows] = parseCsv(csv.stdout);
      const expected: Record<string, unknown>[] = JSON.parse(json.stdout)[name];
      expect(header).toEqual(Object.keys(expected[0] ?? {}));
      expect(rows).toEqual(asCells(header ?? [], expected));
      expect(rows.length).toBeGreaterThan(0);
      expect(csv.stdout).not.toMatch(/^#/m);
    },
  );

  it('prints the datasets list as plain CSV', async () => {
    const run = await runCli(['datasets', '--format', 'csv'], {}, dir);

    const [header, ...rows] = parseCsv(run.stdout);
    expect(header?.slice(0, 2)).toEqual(['name', 'kind']);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['accountData', 'account'],
      ['statsData', 'statistics'],
      ['usageData', 'usage'],
    ]);
  });

  it('refuses collect --format csv before touching SES or a store, pointing at --out', async () => {
    const cwd = scratchDir();
    fake.reset();

    const run = await runCli([...collect.slice(0, -2), '--format', 'csv'], keys, cwd);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'ses-stats collect: --format: received "csv", but collect prints two or three datasets per activity (usage, statistics, account) and CSV holds one table; use --out DIR --out-format csv (one file per dataset) or --format json\n',
    );
    expect(fake.requests).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('ses-stats collect --out', () => {
  const bare = () => collect.slice(0, -2); // without --format json

  it('writes DIR/<dataset>.csv, creating DIR, each equal to what query prints; stdout stays empty', async () => {
    const cwd = scratchDir();

    const run = await runCli([...bare(), '--out', 'exports/today'], keys, cwd);
    const [stats, usage, account, reputation] = await Promise.all([
      runCli(['query', 'statsData', '--granularity', '15m', '--format', 'csv'], {}, cwd),
      runCli(['query', 'usageData', '--format', 'csv'], {}, cwd),
      runCli(['query', 'accountData', '--format', 'csv'], {}, cwd),
      runCli(['query', 'accountData', '--series', 'reputation', '--format', 'csv'], {}, cwd),
    ]);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    const out = join(cwd, 'exports', 'today');
    expect(readdirSync(out).sort()).toEqual([
      'accountData.csv',
      'accountData.reputation.csv',
      'statsData.csv',
      'usageData.csv',
    ]);
    expect(readFileSync(join(out, 'statsData.csv'), 'utf8')).toBe(stats.stdout);
    expect(readFileSync(join(out, 'usageData.csv'), 'utf8')).toBe(usage.stdout);
    expect(readFileSync(join(out, 'accountData.csv'), 'utf8')).toBe(account.stdout);
    expect(readFileSync(join(out, 'accountData.reputation.csv'), 'utf8')).toBe(reputation.stdout);
    expect(parseCsv(reputation.stdout)).toHaveLength(1 + 6);
    expect(run.stderr).toContain('wrote exports/today/usageData.csv (1 row)\n');
    expect(run.stderr).toContain(`wrote exports/today/statsData.csv (${points.length} rows)\n`);
    expect(run.stderr).toContain('wrote exports/today/accountData.csv (1 row)\n');
    expect(run.stderr).toContain('wrote exports/today/accountData.reputation.csv (6 rows)\n');
  });

  it('writes JSON equal to query --format json, and NDJSON one row a line', async () => {
    const cwd = scratchDir();

    const json = await runCli([...bare(), '--out', 'j', '--out-format', 'json'], keys, cwd);
    const ndjson = await runCli(
      [...bare(), '--no-store', '--out', 'n', '--out-format', 'ndjson'],
      keys,
      cwd,
    );
    const [queried, account, reputation] = await Promise.all([
      runCli(['query', 'statsData', '--granularity', '15m', '--format', 'json'], {}, cwd),
      runCli(['query', 'accountData', '--format', 'json'], {}, cwd),
      runCli(['query', 'accountData', '--series', 'reputation', '--format', 'json'], {}, cwd),
    ]);

    expect([json.code, ndjson.code]).toEqual([0, 0]);
    expect(readFileSync(join(cwd, 'j', 'statsData.json'), 'utf8')).toBe(queried.stdout);
    expect(readFileSync(join(cwd, 'j', 'accountData.json'), 'utf8')).toBe(account.stdout);
    // The reputation file is keyed by its table's name, as collect prints it; its rows are query's.
    const hours = JSON.parse(reputation.stdout).accountData;
    expect(hours).toHaveLength(6);
    expect(JSON.parse(readFileSync(join(cwd, 'j', 'accountData.reputation.json'), 'utf8'))).toEqual(
      { 'accountData.reputation': hours },
    );
    const lines = readFileSync(join(cwd, 'n', 'statsData.ndjson'), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual(
      JSON.parse(queried.stdout).statsData,
    );
    const hourLines = readFileSync(join(cwd, 'n', 'accountData.reputation.ndjson'), 'utf8');
    expect(
      hourLines
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line)),
    ).toEqual(hours);
    expect(readdirSync(join(cwd, 'n')).sort()).toEqual([
      'accountData.ndjson',
      'accountData.reputation.ndjson',
      'statsData.ndjson',
      'usageData.ndjson',
    ]);
  });

  it('replaces an existing file whole and leaves no temporary file', async () => {
    const cwd = scratchDir();
    mkdirSync(join(cwd, 'out'));
    writeFileSync(join(cwd, 'out', 'statsData.csv'), 'old,content\n'.repeat(100_000));

    const run = await runCli([...bare(), '--no-store', '--out', 'out'], keys, cwd);

    expect(run.code).toBe(0);
    expect(readdirSync(join(cwd, 'out')).sort()).toEqual([
      'accountData.csv',
      'accountData.reputation.csv',
      'statsData.csv',
      'usageData.csv',
    ]);
    const [header, ...rows] = parseCsv(readFileSync(join(cwd, 'out', 'statsData.csv'), 'utf8'));
    expect(header).toEqual(['Timestamp', 'DeliveryAttempts', 'Bounces', 'Complaints', 'Rejects']);
    expect(rows).toHaveLength(points.length);
  });

  it.each([
    [
      ['--out-format', 'csv'],
      '--out-format: applies to the files of --out DIR, and --out is not given',
    ],
    [
      ['--out', 'o', '--format', 'json'],
      '--format: cannot be combined with --out (the datasets go to files; --out-format chooses their format)',
    ],
    [
      ['--out', 'o', '--out-format', 'xml'],
      '--out-format: received "xml"; allowed: csv, json, ndjson',
    ],
    [['--out', 'a-file'], '--out: a-file is a file, not a directory'],
    [['--out', ''], '--out: received ""; expected a directory path'],
  ])('rejects %j before touching SES or a store', async (flags, message) => {
    const cwd = scratchDir();
    writeFileSync(join(cwd, 'a-file'), '');
    fake.reset();

    const run = await runCli([...bare(), ...flags], keys, cwd);

    expect(run.stderr).toBe(`ses-stats collect: ${message}\n`);
    expect(run.code).toBe(2);
    expect(fake.requests).toEqual([]);
    expect(readdirSync(cwd)).toEqual(['a-file']);
  });

  it('exits 1 naming the file when DIR cannot be written, after storing', async () => {
    const cwd = scratchDir();
    mkdirSync(join(cwd, 'out'));
    // A directory where the file goes: the rename over it fails.
    mkdirSync(join(cwd, 'out', 'statsData.csv'));

    const run = await runCli([...bare(), '--out', 'out'], keys, cwd);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: --out: cannot write out\/statsData\.csv \(E[A-Z]+\)$/m);
    expect(run.stderr).toContain('wrote out/usageData.csv (1 row)\n');
    expect(run.stderr).toMatch(/^stored statsData: /m);
    expect(run.stderr).toMatch(/^stored accountData: /m);
    expect(readdirSync(join(cwd, 'out')).sort()).toEqual([
      'accountData.csv',
      'accountData.reputation.csv',
      'statsData.csv',
      'usageData.csv',
    ]);
  });
});

describe('ses-stats query', () => {
  it('prints every raw point without --granularity, however long the history', async () => {
    const cwd = scratchDir();
    const now = Date.now();
    // 28 days: more 15-minute buckets than the core's 1,500-row choice allows.
    fake.points = [
      ...twoWeekWindow(new Date(now), { seed: 3 }),
      ...twoWeekWindow(new Date(now - 14 * DAY_MS), { seed: 4 }),
    ];
    const stored = await runCli(collect, keys, cwd);

    const run = await runCli(['query', 'statsData', '--format', 'json'], {}, cwd);

    expect(stored.code).toBe(0);
    const rows = JSON.parse(run.stdout).statsData;
    expect(rows.length).toBeGreaterThan(1500);
    expect(rows).toEqual(JSON.parse(stored.stdout).statsData);
  });
});

describe('ses-stats summary output', () => {
  it('lists a statistics summary as aligned field/value lines, rates as percentages', async () => {
    const [table, json] = await Promise.all([
      runCli(['summary', 'statsData', '--format', 'table'], {}, dir),
      runCli(['summary', 'statsData', '--format', 'json'], {}, dir),
    ]);

    const summary = JSON.parse(json.stdout);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe('summary of statsData');
    expect(table.stdout).not.toMatch(/\(\d+ rows?\)/);
    expect(lines).toContain(`BounceRate             ${(summary.BounceRate * 100).toFixed(2)}%`);
    expect(lines).toContain(`ComplaintRate          ${(summary.ComplaintRate * 100).toFixed(2)}%`);
    expect(lines).toContain(`DeliveryAttempts       ${summary.DeliveryAttempts}`);
    expect(lines).toContain('dataset                statsData');
    // Every value starts in the same column.
    const starts = lines.slice(1, -1).map((line) => /^\S+\s+/.exec(line)?.[0].length);
    expect(new Set(starts).size).toBe(1);
  });

  it('keeps fractions in JSON and CSV', async () => {
    const [json, csv] = await Promise.all([
      runCli(['summary', 'statsData', '--format', 'json'], {}, dir),
      runCli(['summary', 'statsData', '--format', 'csv'], {}, dir),
    ]);

    const summary = JSON.parse(json.stdout);
    const bounces = points.reduce((n, p) => n + p.bounces, 0);
    const attempts = points.reduce((n, p) => n + p.deliveryAttempts, 0);
    expect(summary.BounceRate).toBe(bounces / attempts);
    const [header, row, ...more] = parseCsv(csv.stdout);
    expect(more).toEqual([]);
    const cell = (field: string) => row?.[header?.indexOf(field) ?? -1];
    expect(cell('BounceRate')).toBe(String(bounces / attempts));
    expect(cell('DeliveryAttempts')).toBe(String(attempts));
    expect(cell('coverage.status')).toBe('full');
  });

  it('shows the quota utilisation of a usage dataset as a percentage', async () => {
    const run = await runCli(['summary', 'usageData', '--format', 'table'], {}, dir);

    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('summary of usageData');
    expect(lines).toContain(`latest.Utilisation      ${((1234 / 50000) * 100).toFixed(2)}%`);
    expect(lines).toContain('latest.MaxSendRate      14');
  });

  it('gives summaries of one kind the same CSV header, whatever is null', async () => {
    const [all, none] = await Promise.all([
      runCli(['summary', 'statsData', '--format', 'csv'], {}, dir),
      runCli(['summary', 'statsData', '--to', '2000-01-01', '--format', 'csv'], {}, dir),
    ]);

    expect(none.code).toBe(0);
    expect(parseCsv(none.stdout)[0]).toEqual(parseCsv(all.stdout)[0]);
    expect(parseCsv(none.stdout)[1]?.[4]).toBe('none');
  });
});

describe('ses-stats query and summary --since', () => {
  it('summarises the last 24 hours only', async () => {
    const run = await runCli(
      ['summary', 'statsData', '--since', '24h', '--format', 'json'],
      {},
      dir,
    );

    const summary = JSON.parse(run.stdout);
    expect(Date.parse(summary.to) - Date.parse(summary.from)).toBe(DAY_MS);
    const inside = pointsIn(summary.from, summary.to);
    expect(inside.length).toBeLessThan(points.length / 2);
    expect(summary.DeliveryAttempts).toBe(inside.reduce((n, p) => n + p.deliveryAttempts, 0));
    expect(summary.Bounces).toBe(inside.reduce((n, p) => n + p.bounces, 0));
  });

  it('queries the last 24 hours only', async () => {
    const run = await runCli(
      ['query', 'statsData', '--since', '24h', '--granularity', '15m', '--format', 'json'],
      {},
      dir,
    );

    const expected = pointsIn(new Date(Date.now() - DAY_MS).toISOString(), '9999-12-31');
    expect(JSON.parse(run.stdout).statsData.map((r: { Timestamp: string }) => r.Timestamp)).toEqual(
      expected.map((p) => p.timestamp).sort(),
    );
  });

  it('reads --from and --to of summary in --tz', async () => {
    const [zoned, offset] = await Promise.all([
      runCli(
        ['summary', 'statsData', '--from', fromDay(3), '--tz', 'Asia/Kolkata', '--format', 'json'],
        {},
        dir,
      ),
      runCli(
        ['summary', 'statsData', '--from', `${fromDay(3)}T00:00:00+05:30`, '--format', 'json'],
        {},
        dir,
      ),
    ]);

    expect([zoned.code, offset.code]).toEqual([0, 0]);
    const pick = ({ from, DeliveryAttempts, Bounces }: Record<string, unknown>) => ({
      from,
      DeliveryAttempts,
      Bounces,
    });
    expect(pick(JSON.parse(zoned.stdout))).toEqual(pick(JSON.parse(offset.stdout)));
    expect(JSON.parse(zoned.stdout).from).toBe(
      new Date(Date.parse(`${fromDay(3)}T00:00:00+05:30`)).toISOString().replace('.000Z', 'Z'),
    );
  });

  it.each([
    [
      ['query', 'statsData', '--since', '24h', '--from', '2026-11-01'],
      '--since: received "24h" together with from "2026-11-01"; give one of them',
    ],
    [
      ['summary', 'statsData', '--since', '1y'],
      '--since: received "1y"; expected a duration such as 90m, 24h, 7d or 2w',
    ],
    [
      ['summary', 'statsData', '--tz', 'Mars/Olympus'],
      '--tz: received "Mars/Olympus"; expected an IANA time zone such as Europe/Paris or UTC',
    ],
  ])('rejects %j naming the flag, opening nothing', async (argv, message) => {
    const cwd = scratchDir();

    const run = await runCli(argv, {}, cwd);

    expect(run.stderr).toBe(`ses-stats ${argv[0]}: ${message}\n`);
    expect(run.code).toBe(2);
    expect(existsSync(join(cwd, '.ses-stats'))).toBe(false);
  });
});

/** The UTC date `days` ago, YYYY-MM-DD. */
function fromDay(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);
}
