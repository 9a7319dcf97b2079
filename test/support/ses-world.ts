import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import type { FetchedDatasets } from '../../lambda/core/results.ts';
import type { FakePoint } from './fake-ses.ts';

const MINUTE = 60_000;
const BUCKET = 15 * MINUTE;
const WINDOW = 14 * 24 * 60 * MINUTE;

/**
 * A deterministic model of one SES account over time, for simulations: every 15-minute bucket
 * (at :07/:22/:37/:52) has final counts; SES shows a bucket only once it has opened, and while
 * it is newer than `settleMs` it shows a fraction of the final counts (the newest bucket is
 * partial, closed buckets are revised for hours). The oldest bucket of a window is cut by the
 * window's edge and shows part of its counts. Empty buckets are left out, as SES does.
 */
export class SesWorld {
  constructor(
    private readonly settleMs = 3 * 60 * MINUTE,
    private readonly phaseMs = 7 * MINUTE,
  ) {}

  /** The statistics dataset an activity builds from `view(now)`: the activity's columns, ascending. */
  rows(now: number): StatisticsRow[] {
    return this.view(now)
      .map((p) => ({
        Timestamp: p.timestamp,
        DeliveryAttempts: p.deliveryAttempts,
        Bounces: p.bounces,
        Complaints: p.complaints,
        Rejects: p.rejects,
      }))
      .sort((a, b) => a.Timestamp.localeCompare(b.Timestamp));
  }

  /** What GetSendStatistics returns at `now`, unsorted. */
  view(now: number): FakePoint[] {
    const points: FakePoint[] = [];
    const newest = Math.floor((now - this.phaseMs) / BUCKET) * BUCKET + this.phaseMs;
    for (let t = newest; t > now - WINDOW; t -= BUCKET) {
      const shown = this.observed(t, now);
      if (shown.deliveryAttempts + shown.rejects > 0) points.push(shown);
    }
    return points.reverse().sort((a, b) => (hash(a.timestamp) % 3) - (hash(b.timestamp) % 3));
  }

  /** A bucket as SES shows it at `now`. */
  observed(t: number, now: number): FakePoint {
    const final = this.final(t);
    const age = now - t;
    let share = age >= this.settleMs ? 1 : Math.max(0, age) / this.settleMs;
    if (t < now - WINDOW + BUCKET) share = Math.min(share, (t - (now - WINDOW)) / BUCKET);
    const part = (n: number) => Math.floor(n * share);
    return {
      timestamp: new Date(t).toISOString().replace('.000Z', 'Z'),
      deliveryAttempts: part(final.deliveryAttempts),
      bounces: part(final.bounces),
      complaints: part(final.complaints),
      rejects: part(final.rejects),
    };
  }

  /** True when `t` is the window's oldest bucket at `now` (cut by the edge). */
  isEdge(t: number, now: number): boolean {
    return t < now - WINDOW + BUCKET;
  }

  private final(t: number): FakePoint {
    const h = hash(String(t));
    const quiet = h % 11 === 0;
    const attempts = quiet ? 0 : 20 + (h % 400);
    return {
      timestamp: new Date(t).toISOString(),
      deliveryAttempts: attempts,
      bounces: Math.floor((attempts * ((h >>> 8) % 6)) / 100),
      complaints: (h >>> 12) % 97 === 0 ? 1 : 0,
      rejects: (h >>> 16) % 53 === 0 ? 1 : 0,
    };
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The one activity of the store tests: datasets `usage` and `stats`. */
export const WORLD_ACTIVITY = {
  name: 'stats',
  source: 'S1',
  usageDataset: 'usage',
  statisticsDataset: 'stats',
};

/** What a fetch at `now` hands the store: a usage snapshot and the world's rows (or `rows`). */
export function worldFetch(now: number, rows = new SesWorld().rows(now)): FetchedDatasets {
  return {
    activity: WORLD_ACTIVITY,
    usage: {
      name: 'usage',
      rows: [
        {
          CollectedAt: new Date(now).toISOString(),
          Max24HourSend: 200,
          MaxSendRate: 1,
          SentLast24Hours: 2,
        },
      ],
    },
    statistics: { name: 'stats', rows },
  };
}
