import { describe, expect, it } from 'vitest';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import {
  type AlarmLevels,
  alarmMode,
  alarmRate,
  BREACH_NAMES_LIMIT,
  datasetMetrics,
  PER_DATASET_ALARM_LIMIT,
  RunTally,
  staleDatasets,
} from '../../lambda/core/metrics.ts';
import type { ActivityResult } from '../../lambda/core/results.ts';
import { row } from '../support/rows.ts';

const FETCHED_AT = '2026-03-15T12:00:00.000Z';

function result(
  rows: StatisticsRow[],
  max24HourSend = 50_000,
  name = 'stats',
  sentLast24Hours = 500,
): ActivityResult {
  const usageName = name === 'stats' ? 'usage' : `${name}-usage`;
  return {
    activity: { name, source: 'S1', usageDataset: usageName, statisticsDataset: name },
    usage: {
      name: usageName,
      rows: [
        {
          // The quota call answered a little later; the last 24 hours follow the statistics fetch.
          CollectedAt: '2026-03-15T12:00:40.000Z',
          Max24HourSend: max24HourSend,
          MaxSendRate: 14,
          SentLast24Hours: sentLast24Hours,
        },
      ],
    },
    statistics: { name, rows },
    fetchedAt: new Date(FETCHED_AT),
    clockSkewMs: 0,
  };
}

const values = (metrics: ReturnType<typeof datasetMetrics>) =>
  Object.fromEntries(metrics.map((m) => [`${m.dataset} ${m.name}`, m.value]));

describe('datasetMetrics', () => {
  it('emits last-24-hour counts and whole-window sums that the rate alarms divide', () => {
    const rows = [
      // 10 days ago: in the window, not in the last 24 hours.
      row('2026-03-05T12:00:00Z', 900, 90, 3, 2),
      // 24 hours before the statistics fetch exactly: counted in the last 24 hours.
      row('2026-03-14T12:00:00Z', 60, 2, 0, 1),
      row('2026-03-15T11:45:00Z', 40, 1, 1, 0),
    ];

    const metrics = datasetMetrics(result(rows));

    expect(values(metrics)).toEqual({
      'stats DeliveryAttempts': 100,
      'stats Bounces': 3,
      'stats Complaints': 1,
      'stats Rejects': 1,
      'stats WindowDeliveryAttempts': 1000,
      'stats WindowBounces': 93,
      'stats WindowComplaints': 4,
      'stats CollectionSucceeded': 1,
      'stats BounceRate': 93 / 1000,
      'stats ComplaintRate': 4 / 1000,
      'usage QuotaUtilisation': 500 / 50_000,
    });
    expect(metrics.filter((m) => m.name.startsWith('Window')).map((m) => m.unit)).toEqual([
      'Count',
      'Count',
      'Count',
    ]);
  });

  it('emits zero window sums and no rates when nothing was sent, and no utilisation when unlimited', () => {
    const metrics = datasetMetrics(result([], -1));

    expect(values(metrics)).toEqual({
      'stats DeliveryAttempts': 0,
      'stats Bounces': 0,
      'stats Complaints': 0,
      'stats Rejects': 0,
      'stats WindowDeliveryAttempts': 0,
      'stats WindowBounces': 0,
      'stats WindowComplaints': 0,
      'stats CollectionSucceeded': 1,
    });
  });
});

describe('RunTally', () => {
  const LEVELS: AlarmLevels = {
    bounceRateWarning: 0.025,
    bounceRate: 0.05,
    complaintRateWarning: 0.0005,
    complaintRate: 0.001,
    quotaUtilisation: 0.8,
    minDeliveryAttempts: 100,
  };
  // The last 24 hours before FETCHED_AT, and 10 days earlier (in the window only).
  const lastDay = (attempts: number, bounces: number, complaints = 0) =>
    row('2026-03-15T11:45:00Z', attempts, bounces, complaints);
  const tenDaysAgo = (attempts: number, bounces: number, complaints = 0) =>
    row('2026-03-05T12:00:00Z', attempts, bounces, complaints);
  const counts = (tally: RunTally) =>
    Object.fromEntries(tally.metrics().map((m) => [m.name, m.value]));

  it('counts the datasets at or over each level, by the higher of the two windows', () => {
    const tally = new RunTally(LEVELS);

    // 3 % in the last 24 hours: over the bounce warning only.
    tally.add(result([lastDay(1000, 30)], 50_000, 'warn'));
    // 0.5 % in the last day, but 6 % over the window: over both bounce levels.
    tally.add(result([lastDay(200, 1), tenDaysAgo(5000, 320)], 50_000, 'window'));
    // Exactly the complaint review level (1 in 1,000), and 90 % of its quota.
    tally.add(result([lastDay(1000, 0, 1)], 1000, 'complaint', 900));
    // Quiet: under every level.
    tally.add(result([lastDay(1000, 1)], 50_000, 'quiet'));

    expect(counts(tally)).toEqual({
      DatasetsOverBounceWarning: 2,
      DatasetsOverBounceReview: 1,
      DatasetsOverComplaintWarning: 1,
      DatasetsOverComplaintReview: 1,
      DatasetsOverQuota: 1,
      SourcesCollected: 4,
      SourcesFailed: 0,
      SourcesSkipped: 0,
    });
    expect(tally.breaches()).toEqual([
      {
        metric: 'DatasetsOverBounceWarning',
        threshold: 0.025,
        count: 2,
        datasets: ['warn', 'window'],
      },
      { metric: 'DatasetsOverBounceReview', threshold: 0.05, count: 1, datasets: ['window'] },
      {
        metric: 'DatasetsOverComplaintWarning',
        threshold: 0.0005,
        count: 1,
        datasets: ['complaint'],
      },
      {
        metric: 'DatasetsOverComplaintReview',
        threshold: 0.001,
        count: 1,
        datasets: ['complaint'],
      },
      // The quota is named by its usage dataset.
      { metric: 'DatasetsOverQuota', threshold: 0.8, count: 1, datasets: ['complaint-usage'] },
    ]);
  });

  it('returns the numbers it compared, for the collected log line', () => {
    const tally = new RunTally(LEVELS);

    expect(tally.add(result([lastDay(1000, 30, 2), tenDaysAgo(1000, 10)], 1000, 'a', 250))).toEqual(
      {
        deliveryAttempts: 1000,
        alarmBounceRate: 0.03,
        alarmComplaintRate: 0.002,
        quotaUtilisation: 0.25,
      },
    );
  });

  it('ignores a window below the minimum volume, so a small sender breaches nothing', () => {
    const tally = new RunTally(LEVELS);

    // 20 % bounces over 99 attempts, and 1.8 % over the window's 1,099: under the warning.
    tally.add(result([lastDay(99, 20), tenDaysAgo(1000, 0)], 50_000, 'small'));
    // 5 bounces in 10 attempts and nothing else: no rate at all.
    tally.add(result([lastDay(10, 5, 5)], 50_000, 'tiny'));

    expect(counts(tally)).toMatchObject({
      DatasetsOverBounceWarning: 0,
      DatasetsOverComplaintWarning: 0,
      SourcesCollected: 2,
    });
    expect(tally.breaches()).toEqual([]);
    expect(
      new RunTally({ ...LEVELS, minDeliveryAttempts: 10 }).add(result([lastDay(10, 5, 5)])),
    ).toMatchObject({ alarmBounceRate: 0.5, alarmComplaintRate: 0.5 });
  });

  it('never counts an unlimited quota, and leaves its utilisation out', () => {
    const tally = new RunTally(LEVELS);

    const numbers = tally.add(result([lastDay(1000, 0)], -1, 'unlimited', 1_000_000));

    expect(numbers).not.toHaveProperty('quotaUtilisation');
    expect(counts(tally).DatasetsOverQuota).toBe(0);
  });

  it('names at most BREACH_NAMES_LIMIT datasets per level and counts them all', () => {
    const tally = new RunTally(LEVELS);

    for (let i = 0; i < BREACH_NAMES_LIMIT + 5; i++)
      tally.add(result([lastDay(1000, 60)], 50_000, `d${i}`));
    const [warning] = tally.breaches();

    expect(warning?.count).toBe(BREACH_NAMES_LIMIT + 5);
    expect(warning?.datasets).toHaveLength(BREACH_NAMES_LIMIT);
    expect(warning?.datasets.at(-1)).toBe(`d${BREACH_NAMES_LIMIT - 1}`);
    expect(counts(tally).SourcesCollected).toBe(BREACH_NAMES_LIMIT + 5);
  });

  it('publishes the 8 counts, 0 included, with the failed and skipped sources', () => {
    const tally = new RunTally(LEVELS);

    tally.addFailed(2);
    tally.addSkipped(3);
    tally.addSkipped(1);

    expect(tally.metrics()).toEqual([
      { name: 'DatasetsOverBounceWarning', value: 0 },
      { name: 'DatasetsOverBounceReview', value: 0 },
      { name: 'DatasetsOverComplaintWarning', value: 0 },
      { name: 'DatasetsOverComplaintReview', value: 0 },
      { name: 'DatasetsOverQuota', value: 0 },
      { name: 'SourcesCollected', value: 0 },
      { name: 'SourcesFailed', value: 2 },
      { name: 'SourcesSkipped', value: 4 },
    ]);
  });

  it('counts a source added and then failed (an account call) as failed only', () => {
    const tally = new RunTally(LEVELS);
    tally.add(result([]));
    tally.add(result([]));
    tally.addFailed(3, 1);
    const byName = Object.fromEntries(tally.metrics().map((m) => [m.name, m.value]));
    expect([byName.SourcesCollected, byName.SourcesFailed]).toEqual([1, 3]);
    expect(() => tally.addFailed(1, 2)).toThrow(
      'RunTally addFailed: received 2 sources counted by add, of 1 failed and 1 collected; expected at most both',
    );
  });

  it('rejects levels that are not fractions and a minimum volume below 1', () => {
    expect(() => new RunTally({ ...LEVELS, bounceRate: 5 })).toThrow(
      'RunTally bounceRate: received 5; expected a fraction above 0 and at most 1',
    );
    expect(() => new RunTally({ ...LEVELS, quotaUtilisation: 0 })).toThrow(
      'RunTally quotaUtilisation: received 0; expected a fraction above 0 and at most 1',
    );
    expect(() => new RunTally({ ...LEVELS, minDeliveryAttempts: 0 })).toThrow(
      'RunTally minDeliveryAttempts: received 0; expected a whole number of delivery attempts, at least 1',
    );
    expect(() => new RunTally(LEVELS).addFailed(-1)).toThrow(
      'RunTally addFailed: received -1; expected a whole number of sources, 0 or more',
    );
  });
});

describe('alarmRate', () => {
  const counts = (DeliveryAttempts: number, Bounces: number) => ({
    DeliveryAttempts,
    Bounces,
    Complaints: 0,
    Rejects: 0,
  });

  it('is the highest rate among the windows at or over the minimum volume', () => {
    expect(alarmRate('Bounces', [counts(100, 10), counts(1000, 20)], 100)).toBe(0.1);
    expect(alarmRate('Bounces', [counts(99, 10), counts(1000, 20)], 100)).toBe(0.02);
    expect(alarmRate('Bounces', [counts(0, 0)], 1)).toBe(0);
  });
});

describe('alarmMode', () => {
  it('keeps per-dataset alarms up to the limit and alarms per kind beyond it', () => {
    expect(alarmMode(0)).toBe('perDataset');
    expect(alarmMode(PER_DATASET_ALARM_LIMIT)).toBe('perDataset');
    expect(alarmMode(PER_DATASET_ALARM_LIMIT + 1)).toBe('perKind');
    expect(alarmMode(10_000)).toBe('perKind');
  });

  it('rejects a count that is not a whole number', () => {
    expect(() => alarmMode(-1)).toThrow(
      'alarmMode statisticsDatasets: received -1; expected a whole number of datasets, 0 or more',
    );
    expect(() => alarmMode(1.5)).toThrow(/received 1.5;/);
  });
});

describe('staleDatasets', () => {
  const now = Date.parse('2026-03-15T12:00:00Z');
  const hours = (n: number) => n * 3_600_000;
  const meta = (name: string, to?: string) => ({
    name,
    ...(to === undefined ? {} : { coverage: { from: '2026-03-01T00:00:00Z', to } }),
  });

  it('names the configured datasets whose coverage ended longer ago than allowed, or never began', () => {
    const metas = [
      meta('fresh', '2026-03-15T11:07:00Z'),
      meta('edge', '2026-03-15T10:00:00Z'),
      meta('old', '2026-03-15T09:59:59Z'),
      meta('uncovered'),
      meta('notConfigured', '2026-01-01T00:00:00Z'),
    ];

    expect(
      staleDatasets(metas, ['fresh', 'edge', 'old', 'uncovered', 'new'], now, hours(2)),
    ).toEqual(['old', 'uncovered', 'new']);
  });

  it('rejects a staleness limit that is not positive', () => {
    expect(() => staleDatasets([], [], now, 0)).toThrow(
      'staleDatasets staleAfterMs: received 0; expected a positive number of milliseconds',
    );
  });
});
