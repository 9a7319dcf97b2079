import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it, vi } from 'vitest';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../../lambda/api/metrics.ts';
import { isoUtc, type StatisticsRow, type UsageRow } from '../../lambda/core/datasets.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import type { FetchedDatasets } from '../../lambda/core/results.ts';
import type { Span } from '../../lambda/core/store.ts';
import { fillAccountHistory } from '../support/account-history.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';
import { row, series } from '../support/rows.ts';

const QUARTER_MS = 15 * 60_000;
const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/** On a point (SES buckets start at :07, :22, :37, :52): points at now − 24 h and now − 14 d. */
const NOW_ON_POINT = new Date('2026-03-15T12:07:00.000Z');
/** Between points, with milliseconds. */
const NOW_RAGGED = new Date('2026-03-15T12:14:59.250Z');

const usage = (CollectedAt: string, Max24HourSend: number, SentLast24Hours: number): UsageRow => ({
  CollectedAt,
  Max24HourSend,
  MaxSendRate: 14,
  SentLast24Hours,
});

/** Totals of the points with from <= Timestamp < to, computed without the core. */
function totalsOf(rows: readonly StatisticsRow[], from: number, to: number) {
  const inside = rows.filter(
    (r) => Date.parse(r.Timestamp) >= from && Date.parse(r.Timestamp) < to,
  );
  const sum = (key: 'DeliveryAttempts' | 'Bounces' | 'Complaints' | 'Rejects') =>
    inside.reduce((total, r) => total + r[key], 0);
  return {
    points: inside.length,
    DeliveryAttempts: sum('DeliveryAttempts'),
    Bounces: sum('Bounces'),
    Complaints: sum('Complaints'),
    Rejects: sum('Rejects'),
  };
}

interface Fetch {
  readonly rows: StatisticsRow[];
  readonly quota: UsageRow | undefined;
  readonly fetchedAt: Date;
}

/** Stores fetches through the real write path, as one activity writing `usage` and `stats`. */
async function seeded(
  fetches: readonly Fetch[],
  names = { usage: 'usage', stats: 'stats' },
): Promise<MemoryDatasetStore> {
  const store = new MemoryDatasetStore();
  for (const { rows, quota, fetchedAt } of fetches) {
    const result: FetchedDatasets = {
      activity: {
        name: 'email',
        source: 'S1',
        usageDataset: names.usage,
        statisticsDataset: names.stats,
      },
      usage: { name: names.usage, rows: quota === undefined ? [] : [quota] },
      statistics: { name: names.stats, rows },
    };
    await storeActivityResult(store, result, { fetchedAt });
  }
  return store;
}

/** Points from 15 days before NOW_ON_POINT to an hour after it, fetched just after the last. */
const ROWS = series('2026-02-28T12:07:00Z', '2026-03-15T13:07:00Z');
const FETCHED_AT = new Date('2026-03-15T13:10:00.000Z');
const QUOTA = usage(FETCHED_AT.toISOString(), 50_000, 12_345);

type Parsed = ReturnType<typeof parsePrometheusTextFormat>;

/** Renders, checks every line against the grammar, and parses. */
async function scrape(
  store: MemoryDatasetStore,
  now: Date,
): Promise<{ text: string; parsed: Parsed }> {
  const text = await renderMetrics(store, now);
  expect(expositionProblems(text)).toEqual([]);
  return { text, parsed: parsePrometheusTextFormat(text) };
}

/** The value of `family` for `dataset` as a number; undefined when that series is absent. */
function sampleValue(parsed: Parsed, family: string, dataset: string): number | undefined {
  const found = parsed
    .find((f) => f.name === family)
    ?.metrics.filter((m) => m.labels?.dataset === dataset);
  if (found === undefined || found.length === 0) return undefined;
  expect(found).toHaveLength(1);
  return Number(found[0]?.value);
}

/** Every series name (family) present for `dataset`. */
function familiesOf(parsed: Parsed, dataset: string): string[] {
  return parsed
    .filter((f) => f.metrics.some((m) => m.labels?.dataset === dataset))
    .map((f) => f.name);
}

describe('renderMetrics', () => {
  describe.each([
    ['on a point', NOW_ON_POINT],
    ['between points, with milliseconds', NOW_RAGGED],
  ])('with now %s', (_, now) => {
    it('gives last-24-hour counts equal to the sum of the points with Timestamp in [now − 24 h, now)', async () => {
      const store = await seeded([{ rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT }]);
      const expected = totalsOf(ROWS, now.getTime() - DAY_MS, now.getTime());

      const { parsed } = await scrape(store, now);

      expect(expected.points).toBe(96);
      expect(sampleValue(parsed, 'ses_stats_last_24h_delivery_attempts', 'stats')).toBe(
        expected.DeliveryAttempts,
      );
      expect(sampleValue(parsed, 'ses_stats_last_24h_bounces', 'stats')).toBe(expected.Bounces);
      expect(sampleValue(parsed, 'ses_stats_last_24h_complaints', 'stats')).toBe(
        expected.Complaints,
      );
      expect(sampleValue(parsed, 'ses_stats_last_24h_rejects', 'stats')).toBe(expected.Rejects);
    });

    it('gives window counts and rates over the points with Timestamp in [now − 14 days, now)', async () => {
      const store = await seeded([{ rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT }]);
      const w = totalsOf(ROWS, now.getTime() - 14 * DAY_MS, now.getTime());

      const { parsed } = await scrape(store, now);

      expect(w.points).toBe(14 * 96);
      expect(sampleValue(parsed, 'ses_stats_window_delivery_attempts', 'stats')).toBe(
        w.DeliveryAttempts,
      );
      expect(sampleValue(parsed, 'ses_stats_window_bounces', 'stats')).toBe(w.Bounces);
      expect(sampleValue(parsed, 'ses_stats_window_complaints', 'stats')).toBe(w.Complaints);
      expect(sampleValue(parsed, 'ses_stats_window_rejects', 'stats')).toBe(w.Rejects);
      expect(sampleValue(parsed, 'ses_stats_window_bounce_ratio', 'stats')).toBe(
        w.Bounces / w.DeliveryAttempts,
      );
      expect(sampleValue(parsed, 'ses_stats_window_complaint_ratio', 'stats')).toBe(
        w.Complaints / w.DeliveryAttempts,
      );
      expect(sampleValue(parsed, 'ses_stats_window_reject_ratio', 'stats')).toBe(
        w.Rejects / w.DeliveryAttempts,
      );
    });
  });

  it('counts the point at now − 24 h and leaves out the point at now', async () => {
    const at = (ms: number) => isoUtc(new Date(NOW_ON_POINT.getTime() + ms));
    const rows = [
      row(at(-DAY_MS - QUARTER_MS), 1000),
      row(at(-DAY_MS), 1),
      row(at(-QUARTER_MS), 20),
      row(at(0), 300),
    ];
    const store = await seeded([{ rows, quota: undefined, fetchedAt: FETCHED_AT }]);

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(sampleValue(parsed, 'ses_stats_last_24h_delivery_attempts', 'stats')).toBe(21);
    expect(sampleValue(parsed, 'ses_stats_window_delivery_attempts', 'stats')).toBe(1021);
  });

  it('gives the latest quota snapshot, its utilisation and time, and a limited quota', async () => {
    const earlier = new Date(FETCHED_AT.getTime() - DAY_MS);
    const store = await seeded([
      { rows: [], quota: usage(earlier.toISOString(), 50_000, 49_000), fetchedAt: earlier },
      { rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT },
    ]);

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(sampleValue(parsed, 'ses_stats_quota_max_24h_send', 'usage')).toBe(50_000);
    expect(sampleValue(parsed, 'ses_stats_quota_max_send_rate', 'usage')).toBe(14);
    expect(sampleValue(parsed, 'ses_stats_quota_sent_last_24h', 'usage')).toBe(12_345);
    expect(sampleValue(parsed, 'ses_stats_quota_utilisation_ratio', 'usage')).toBe(12_345 / 50_000);
    expect(sampleValue(parsed, 'ses_stats_quota_unlimited', 'usage')).toBe(0);
    expect(sampleValue(parsed, 'ses_stats_last_collection_timestamp_seconds', 'usage')).toBe(
      FETCHED_AT.getTime() / 1000,
    );
    expect(sampleValue(parsed, 'ses_stats_dataset_rows', 'usage')).toBe(2);
  });

  it('leaves out the quota and its utilisation and marks it unlimited when Max24HourSend is −1', async () => {
    const store = await seeded([
      { rows: ROWS, quota: usage(FETCHED_AT.toISOString(), -1, 777), fetchedAt: FETCHED_AT },
    ]);

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(sampleValue(parsed, 'ses_stats_quota_unlimited', 'usage')).toBe(1);
    expect(sampleValue(parsed, 'ses_stats_quota_sent_last_24h', 'usage')).toBe(777);
    expect(sampleValue(parsed, 'ses_stats_quota_utilisation_ratio', 'usage')).toBeUndefined();
    expect(sampleValue(parsed, 'ses_stats_quota_max_24h_send', 'usage')).toBeUndefined();
  });

  it('takes a snapshot newer than the metadata counts (a run stopped before its metadata write)', async () => {
    const store = await seeded([{ rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT }]);
    const later = new Date(FETCHED_AT.getTime() + QUARTER_MS).toISOString();
    await store.putUsage('usage', usage(later, 50_000, 20_000));

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(sampleValue(parsed, 'ses_stats_quota_sent_last_24h', 'usage')).toBe(20_000);
    expect(sampleValue(parsed, 'ses_stats_last_collection_timestamp_seconds', 'usage')).toBe(
      Date.parse(later) / 1000,
    );
  });

  it('finds the latest snapshot in the day before lastTime when no snapshot is at lastTime', async () => {
    const store = new MemoryDatasetStore();
    const snapshot = usage('2026-03-15T11:00:00.000Z', 200, 50);
    await store.putUsage('quota', usage('2026-03-15T10:00:00.000Z', 200, 10));
    await store.putUsage('quota', snapshot);
    await store.putMeta({
      ...{ name: 'quota', kind: 'usage', source: 'S1', activity: 'a', count: 2, gaps: [] },
      lastTime: '2026-03-15T11:30:00Z',
      version: 0,
    });

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(sampleValue(parsed, 'ses_stats_quota_utilisation_ratio', 'quota')).toBe(50 / 200);
  });

  it('gives the end of the last stored fetch window as the statistics collection time', async () => {
    const store = await seeded([{ rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT }]);
    const coverage = (await store.getMeta('stats'))?.coverage;

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(coverage?.to).toBe(FETCHED_AT.toISOString());
    expect(sampleValue(parsed, 'ses_stats_last_collection_timestamp_seconds', 'stats')).toBe(
      FETCHED_AT.getTime() / 1000,
    );
  });

  it('gives the stored row count, the gap count and an info series with kind, source and activity', async () => {
    // Fetched 20 days apart: the SES window (14 days) leaves 6 days unseen.
    const first = new Date(FETCHED_AT.getTime() - 20 * DAY_MS);
    const firstRows = series(isoUtc(new Date(first.getTime() - DAY_MS)), first.toISOString());
    const lastRows = series(
      isoUtc(new Date(FETCHED_AT.getTime() - DAY_MS)),
      '2026-03-15T13:07:00Z',
    );
    const store = await seeded([
      { rows: firstRows, quota: undefined, fetchedAt: first },
      { rows: lastRows, quota: QUOTA, fetchedAt: FETCHED_AT },
    ]);
    const meta = await store.getMeta('stats');

    const { parsed } = await scrape(store, NOW_ON_POINT);

    expect(meta?.gaps).toHaveLength(1);
    expect(sampleValue(parsed, 'ses_stats_dataset_gaps', 'stats')).toBe(1);
    expect(sampleValue(parsed, 'ses_stats_dataset_gaps', 'usage')).toBe(0);
    expect(sampleValue(parsed, 'ses_stats_dataset_rows', 'stats')).toBe(
      firstRows.length + lastRows.length,
    );
    expect(parsed.find((f) => f.name === 'ses_stats_dataset_info')?.metrics).toEqual([
      {
        value: '1',
        labels: { dataset: 'stats', kind: 'statistics', source: 'S1', activity: 'email' },
      },
      { value: '1', labels: { dataset: 'usage', kind: 'usage', source: 'S1', activity: 'email' } },
    ]);
  });

  it('leaves out the rates, rather than writing NaN, when the window has no delivery attempts', async () => {
    const store = await seeded([
      {
        rows: [row('2026-03-15T10:07:00Z', 0), row('2026-03-15T10:22:00Z', 0)],
        quota: QUOTA,
        fetchedAt: FETCHED_AT,
      },
    ]);

    const { text, parsed } = await scrape(store, NOW_ON_POINT);

    expect(sampleValue(parsed, 'ses_stats_window_delivery_attempts', 'stats')).toBe(0);
    expect(sampleValue(parsed, 'ses_stats_window_bounces', 'stats')).toBe(0);
    expect(familiesOf(parsed, 'stats')).not.toContain('ses_stats_window_bounce_ratio');
    expect(familiesOf(parsed, 'stats')).not.toContain('ses_stats_window_complaint_ratio');
    expect(familiesOf(parsed, 'stats')).not.toContain('ses_stats_window_reject_ratio');
    expect(text).not.toMatch(/NaN|Inf/);
  });

  it('keeps a dataset name with punctuation as its dataset label', async () => {
    const names = { usage: 'eu-west-1.quota_v2', stats: '0.Stats-eu_west-1' };
    const store = await seeded([{ rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT }], names);

    const { text, parsed } = await scrape(store, NOW_ON_POINT);

    expect(text).toContain('ses_stats_quota_unlimited{dataset="eu-west-1.quota_v2"} 0\n');
    expect(sampleValue(parsed, 'ses_stats_dataset_rows', '0.Stats-eu_west-1')).toBe(ROWS.length);
  });

  it('escapes backslash, double quote and line feed in label values', async () => {
    // Not a name the config allows, but a store may hold anything: the page must stay parseable.
    const name = 'a\\b"c\nd';
    const store = new MemoryDatasetStore();
    await store.putUsage(name, usage('2026-03-15T11:00:00.000Z', 200, 50));
    await store.putMeta({
      ...{ name, kind: 'usage', source: 'S"1\\', activity: 'x\ny', count: 1, gaps: [] },
      lastTime: '2026-03-15T11:00:00.000Z',
      version: 0,
    });

    const { text, parsed } = await scrape(store, NOW_ON_POINT);

    expect(text).toContain(
      'ses_stats_dataset_info{dataset="a\\\\b\\"c\\nd",kind="usage",source="S\\"1\\\\",activity="x\\ny"} 1\n',
    );
    expect(parsed.find((f) => f.name === 'ses_stats_dataset_info')?.metrics).toEqual([
      { value: '1', labels: { dataset: name, kind: 'usage', source: 'S"1\\', activity: 'x\ny' } },
    ]);
    expect(sampleValue(parsed, 'ses_stats_quota_utilisation_ratio', name)).toBe(0.25);
  });

  it('gives the latest account state, its last change and the latest reputation rates of an account dataset', async () => {
    const store = new MemoryDatasetStore();
    await fillAccountHistory(store, 'acct');

    const { parsed } = await scrape(store, new Date('2026-11-01T06:30:00Z'));

    const value = (family: string) => sampleValue(parsed, family, 'acct');
    // The latest state: HEALTHY, sending, in the sandbox; first seen at 05:00, last at 06:00.
    expect(value('ses_stats_account_healthy')).toBe(1);
    expect(value('ses_stats_account_sending_enabled')).toBe(1);
    expect(value('ses_stats_account_production_access')).toBe(0);
    expect(value('ses_stats_account_last_change_timestamp_seconds')).toBe(
      Date.parse('2026-11-01T05:00:00Z') / 1000,
    );
    expect(value('ses_stats_last_collection_timestamp_seconds')).toBe(
      Date.parse('2026-11-01T06:00:00Z') / 1000,
    );
    expect(value('ses_stats_dataset_rows')).toBe(3);
    // The last hour has no complaint rate: each rate is its latest hour's.
    expect(value('ses_stats_account_reputation_bounce_ratio')).toBe(0.04);
    expect(value('ses_stats_account_reputation_complaint_ratio')).toBe(0.002);
    expect(value('ses_stats_account_reputation_timestamp_seconds')).toBe(
      Date.parse('2026-11-01T05:00:00Z') / 1000,
    );
    const info = parsed.find((f) => f.name === 'ses_stats_account_status_info')?.metrics;
    expect(info?.map((m) => m.labels)).toEqual([
      { dataset: 'acct', enforcement_status: 'HEALTHY', review_status: '' },
    ]);
    expect(familiesOf(parsed, 'acct').filter((f) => f.includes('window'))).toEqual([]);
  });

  it('reads an account dataset by key and little: from its last change, and two days of reputation', async () => {
    const store = new MemoryDatasetStore();
    await fillAccountHistory(store, 'acct');
    const states = vi.spyOn(store, 'readAccountStates');
    const reputation = vi.spyOn(store, 'readReputation');

    await scrape(store, new Date('2026-11-01T06:30:00Z'));

    expect(states.mock.calls.map((call) => call[1])).toEqual([
      { from: '2026-11-01T05:00:00.000Z', to: '9999-12-31T23:59:59Z' },
    ]);
    expect(reputation.mock.calls.map((call) => call[1])).toEqual([
      { from: '2026-10-30T06:00:00.000Z', to: '9999-12-31T23:59:59Z' },
    ]);
  });

  it('gives every family as a gauge with its help and no series for an empty store', async () => {
    const { text, parsed } = await scrape(new MemoryDatasetStore(), NOW_ON_POINT);

    expect(parsed.length).toBeGreaterThanOrEqual(20);
    for (const family of parsed) {
      expect(family.name).toMatch(/^ses_stats_/);
      expect(family.type).toBe('GAUGE');
      expect(family.help).not.toBe('');
      expect(family.metrics).toEqual([]);
    }
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('reads by key and little: the edges of the two windows and the last snapshot, never a whole history', async () => {
    const store = await seeded([
      {
        rows: [],
        quota: usage('2026-03-14T13:10:00.000Z', 50_000, 1),
        fetchedAt: new Date('2026-03-14T13:10:00.000Z'),
      },
      { rows: ROWS, quota: QUOTA, fetchedAt: FETCHED_AT },
    ]);
    const points = vi.spyOn(store, 'readPoints');
    const rollups = vi.spyOn(store, 'readRollups');
    const snapshots = vi.spyOn(store, 'readUsage');
    // Bounds are whole seconds (the stored keys' form), rounded up.
    const end = Math.ceil(NOW_RAGGED.getTime() / 1000) * 1000;
    const start = end - 14 * DAY_MS;

    await scrape(store, NOW_RAGGED);

    const spans = [...points.mock.calls, ...rollups.mock.calls].map(
      (call) =>
        call.find((a): a is Span => typeof a === 'object' && a !== null && 'from' in a) as Span,
    );
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.filter((s) => Date.parse(s.from) < start || Date.parse(s.to) > end)).toEqual([]);
    const read = await Promise.all(
      [...points.mock.results, ...rollups.mock.results].map((r) => r.value as Promise<unknown[]>),
    );
    // 15 days of points stored (1,444); about one item per day, hour at the edges, point at the ragged ends.
    expect(read.flat().length).toBeLessThan(100);
    expect(snapshots.mock.calls.map((call) => call[1])).toEqual([
      { from: FETCHED_AT.toISOString(), to: '9999-12-31T23:59:59Z' },
    ]);
  });
});

describe('METRICS_CONTENT_TYPE', () => {
  it('names the text format version 0.0.4 in UTF-8', () => {
    expect(METRICS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});

// A strict check of the exposition text, line by line, so that a lenient parser cannot let a bad
// line through: the 0.0.4 grammar, kept to what OpenMetrics also accepts (no blank lines, no
// timestamps, `# EOF` last, a family's lines together with HELP and TYPE before its samples).
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const VALUE = String.raw`(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (${VALUE})$`);
const HELP = new RegExp(String.raw`^# HELP (${NAME}) ((?:[^\\\n]|\\[\\n])*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith('\n')) problems.push('the last line does not end with a line feed');
  const lines = text.split('\n').slice(0, -1);
  if (lines.at(-1) !== '# EOF') problems.push('the last line is not # EOF');
  const done = new Set<string>();
  const series = new Set<string>();
  let family: string | undefined;
  let helped = false;
  let typed = false;
  const enter = (name: string, line: string) => {
    if (name === family) return;
    if (done.has(name)) problems.push(`family ${name} is split: ${line}`);
    if (family !== undefined) done.add(family);
    family = name;
    helped = false;
    typed = false;
  };
  lines.forEach((line, i) => {
    const help = HELP.exec(line);
    const type = TYPE.exec(line);
    const sample = SAMPLE.exec(line);
    if (help?.[1] !== undefined) {
      enter(help[1], line);
      if (helped || typed) problems.push(`HELP repeated or after TYPE: ${line}`);
      helped = true;
    } else if (type?.[1] !== undefined) {
      enter(type[1], line);
      if (typed) problems.push(`TYPE repeated: ${line}`);
      if (type[2] !== 'gauge') problems.push(`not a gauge: ${line}`);
      typed = true;
    } else if (sample?.[1] !== undefined) {
      enter(sample[1], line);
      if (!typed) problems.push(`sample before its TYPE: ${line}`);
      const names = [...(sample[2] ?? '').matchAll(/(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map(
        (m) => m[1],
      );
      if (new Set(names).size !== names.length) problems.push(`label repeated: ${line}`);
      const key = `${sample[1]}{${sample[2] ?? ''}}`;
      if (series.has(key)) problems.push(`series repeated: ${line}`);
      series.add(key);
    } else if (!(line === '# EOF' && i === lines.length - 1)) {
      problems.push(`not a HELP, TYPE or sample line: ${JSON.stringify(line)}`);
    }
  });
  return problems;
}

describe('expositionProblems (the test grammar)', () => {
  const ok = '# HELP a_b Help.\n# TYPE a_b gauge\na_b{dataset="x\\"y"} 1.5e-3\n# EOF\n';

  it('accepts a well-formed page', () => {
    expect(expositionProblems(ok)).toEqual([]);
  });

  it.each([
    ['an unescaped quote', ok.replace('x\\"y', 'x"y')],
    ['an unknown escape', ok.replace('x\\"y', 'x\\ty')],
    ['JavaScript Infinity', ok.replace('1.5e-3', 'Infinity')],
    ['a timestamp', ok.replace('1.5e-3', '1 1700000000')],
    ['a sample before TYPE', '# HELP a_b Help.\na_b 1\n# TYPE a_b gauge\n# EOF\n'],
    ['a split family', `${ok.replace('# EOF\n', '')}# HELP c c.\n# TYPE c gauge\na_b 2\n# EOF\n`],
    ['a repeated series', ok.replace('# EOF', 'a_b{dataset="x\\"y"} 2\n# EOF')],
    ['a repeated label', ok.replace('dataset="x\\"y"', 'd="1",d="2"')],
    ['a blank line', ok.replace('# TYPE', '\n# TYPE')],
    ['no # EOF', ok.replace('# EOF\n', '')],
    ['no final line feed', ok.slice(0, -1)],
    ['a trailing space', ok.replace('1.5e-3', '1.5e-3 ')],
  ])('rejects %s', (_, text) => {
    expect(expositionProblems(text)).not.toEqual([]);
  });
});
