import { describe, expect, it } from 'vitest';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import { datasetMetrics } from '../../lambda/core/metrics.ts';
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
