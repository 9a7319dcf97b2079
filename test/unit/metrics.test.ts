import { describe, expect, it } from 'vitest';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import {
  alarmMode,
  alarmRate,
  datasetMetrics,
  PER_DATASET_ALARM_LIMIT,
  staleDatasets,
} from '../../lambda/core/metrics.ts';
import type { ActivityResult } from '../../lambda/core/results.ts';
import { row } from '../support/rows.ts';

const FETCHED_AT = '2026-03-15T12:00:00.000Z';

function result(rows: StatisticsRow[], max24HourSend = 50_000): ActivityResult {
  return {
    activity: { name: 'a', source: 'S1', usageDataset: 'usage', statisticsDataset: 'stats' },
    usage: {
      name: 'usage',
      rows: [
        {
          // The quota call answered a little later; the last 24 hours follow the statistics fetch.
          CollectedAt: '2026-03-15T12:00:40.000Z',
          Max24HourSend: max24HourSend,
          MaxSendRate: 14,
          SentLast24Hours: 500,
        },
      ],
    },
    statistics: { name: 'stats', rows },
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

describe('datasetMetrics in the per-kind alarm mode', () => {
  const rows = [
    // 10 days ago: 900 attempts at a 10 % bounce rate, in the window only.
    row('2026-03-05T12:00:00Z', 900, 90, 3, 2),
    // The last 24 hours: 100 attempts, 3 bounces, 1 complaint.
    row('2026-03-14T12:00:00Z', 60, 2, 0, 1),
    row('2026-03-15T11:45:00Z', 40, 1, 1, 0),
  ];

  it('emits 4 metrics: attempts, the two alarm rates (the higher window over the minimum) and quota', () => {
    const metrics = datasetMetrics(result(rows), { mode: 'perKind', minDeliveryAttempts: 100 });

    expect(values(metrics)).toEqual({
      'stats DeliveryAttempts': 100,
      // Window 93/1000 beats the last 24 hours' 3/100; complaints 1/100 beat 4/1000.
      'stats AlarmBounceRate': 93 / 1000,
      'stats AlarmComplaintRate': 1 / 100,
      'usage QuotaUtilisation': 500 / 50_000,
    });
    expect(metrics.map((m) => m.unit)).toEqual(['Count', 'None', 'None', 'None']);
  });

  it('ignores a window below the minimum volume, and emits 0 when both are', () => {
    const over500 = datasetMetrics(result(rows), { mode: 'perKind', minDeliveryAttempts: 500 });
    const over5000 = datasetMetrics(result(rows, -1), {
      mode: 'perKind',
      minDeliveryAttempts: 5000,
    });

    // Only the window (1000 attempts) counts: complaints 4/1000, not the last day's 1/100.
    expect(values(over500)['stats AlarmComplaintRate']).toBe(4 / 1000);
    expect(values(over5000)).toEqual({
      'stats DeliveryAttempts': 100,
      'stats AlarmBounceRate': 0,
      'stats AlarmComplaintRate': 0,
    });
  });

  it('rejects a minimum volume that is not a whole number of at least 1', () => {
    expect(() => datasetMetrics(result(rows), { mode: 'perKind', minDeliveryAttempts: 0 })).toThrow(
      'datasetMetrics minDeliveryAttempts: received 0; expected a whole number of delivery attempts, at least 1',
    );
  });

  it('keeps the 11 per-dataset metrics by default and in the per-dataset mode', () => {
    expect(datasetMetrics(result(rows), { mode: 'perDataset' })).toEqual(
      datasetMetrics(result(rows)),
    );
    expect(datasetMetrics(result(rows))).toHaveLength(11);
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
