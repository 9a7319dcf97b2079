import { join } from 'node:path';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { buildAccountRow, type StatisticsRow } from '../../lambda/core/datasets.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import { storeAccountResult } from '../../lambda/core/persist-account.ts';
import type { ActivitySpec } from '../../lambda/core/results.ts';
import type { Span } from '../../lambda/core/store.ts';

const MINUTE_MS = 60_000;
const BUCKET_MS = 15 * MINUTE_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WINDOW_MS = 14 * DAY_MS;

/** The main activity: 100 days of history with a gap of six days, and its usage snapshots. */
export const MAIN: ActivitySpec = {
  name: 'statsData',
  source: 'inline',
  usageDataset: 'usageData',
  statisticsDataset: 'statsData',
  accountDataset: 'accountData',
};

/**
 * A second account's activity: ten days, smaller volumes. Its activity name is markup, which the
 * page must show as text (the store accepts any name; the config would refuse this one).
 */
export const SECOND: ActivitySpec = {
  name: '<img src=x onerror="document.title=\'injected\'">',
  source: 'eu-account',
  usageDataset: 'transactional.usage',
  statisticsDataset: 'transactional',
};

export interface History {
  /** The main dataset's gaps as stored: the spans no fetch saw. */
  readonly gaps: readonly Span[];
  readonly now: Date;
}

/** A deterministic count in [0, 1) for a time and a salt. */
function noise(ms: number, salt: number): number {
  let h = Math.imul((ms / BUCKET_MS) ^ salt, 2654435761) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
  return ((h ^ (h >>> 13)) >>> 0) / 4294967296;
}

/**
 * One SES bucket: a daily rhythm, a bounce spike one day in three weeks, complaints rare. Null
 * for a bucket SES leaves out (nothing sent).
 */
function point(ms: number, scale: number): StatisticsRow | null {
  const hour = new Date(ms).getUTCHours();
  const day = Math.floor(ms / DAY_MS);
  const rhythm = 0.25 + 0.75 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
  const attempts = Math.round(scale * rhythm * (0.7 + 0.6 * noise(ms, 1)));
  if (attempts === 0) return null;
  const spike = day % 21 === 3 ? 0.07 : 0;
  return {
    Timestamp: new Date(ms).toISOString().replace('.000Z', 'Z'),
    DeliveryAttempts: attempts,
    Bounces: Math.round(attempts * (0.012 + spike + 0.02 * noise(ms, 2))),
    Complaints: noise(ms, 3) < (day % 17 === 5 ? 0.3 : 0.012) ? 1 : 0,
    Rejects: noise(ms, 4) < 0.05 ? 1 : 0,
  };
}

/** What SES returns at `at`: the 15-minute buckets of the 14 days before it, at :07/:22/:37/:52. */
function window(at: number, scale: number): StatisticsRow[] {
  const rows: StatisticsRow[] = [];
  const newest = Math.floor((at - 7 * MINUTE_MS) / BUCKET_MS) * BUCKET_MS + 7 * MINUTE_MS;
  for (let t = newest - WINDOW_MS + BUCKET_MS; t <= newest; t += BUCKET_MS) {
    const row = point(t, scale);
    if (row !== null) rows.push(row);
  }
  return rows;
}

/**
 * The main account as GetAccount and CloudWatch see it at `at`: on probation (review pending)
 * between 5 and 3 days before `end`, healthy otherwise; the reputation hours of the day before.
 */
async function collectAccount(store: SqliteDatasetStore, at: number, end: number): Promise<void> {
  const probation = at >= end - 5 * DAY_MS && at < end - 3 * DAY_MS;
  const fetchedAt = new Date(at);
  const reputation = [];
  for (let t = Math.floor(at / HOUR_MS) * HOUR_MS - DAY_MS; t < at; t += HOUR_MS)
    reputation.push({
      Timestamp: new Date(t).toISOString().replace('.000Z', 'Z'),
      BounceRate: 0.02 + 0.01 * noise(t, 5),
      ComplaintRate: 0.0004,
    });
  await storeAccountResult(
    store,
    MAIN,
    {
      name: ACCOUNT_DATASET,
      rows: [
        buildAccountRow(
          {
            enforcementStatus: probation ? 'PROBATION' : 'HEALTHY',
            sendingEnabled: true,
            productionAccessEnabled: true,
            ...(probation ? { reviewStatus: 'PENDING', reviewCaseId: '4242' } : {}),
            max24HourSend: 50_000,
            maxSendRate: 14,
          },
          fetchedAt,
        ),
      ],
      reputation,
    },
    fetchedAt,
  );
}

const ACCOUNT_DATASET = 'accountData';

async function collect(
  store: SqliteDatasetStore,
  activity: ActivitySpec,
  at: number,
  scale: number,
): Promise<void> {
  const statistics = window(at, scale);
  const dayBefore = statistics.filter((r) => Date.parse(r.Timestamp) > at - DAY_MS);
  const sent = dayBefore.reduce((sum, r) => sum + r.DeliveryAttempts, 0);
  await storeActivityResult(
    store,
    {
      activity,
      usage: {
        name: activity.usageDataset,
        rows: [
          {
            CollectedAt: new Date(at).toISOString(),
            Max24HourSend: 50_000,
            MaxSendRate: 14,
            SentLast24Hours: sent,
          },
        ],
      },
      statistics: { name: activity.statisticsDataset, rows: statistics },
    },
    { fetchedAt: new Date(at) },
  );
}

/**
 * Writes the local store `dir/ses-stats.sqlite` as `ses-stats collect` would have over 100 days:
 * the main activity collected weekly, then twice a day in the last week, but not for 3 weeks
 * between 65 and 44 days ago (a gap of a week: SES keeps 14 days); the second activity twice a
 * day for the last 7 days. The main activity's account dataset is collected with it in the last
 * 7 days: healthy, on probation 5 to 3 days ago, healthy again (two changes).
 */
export async function writeHistory(dir: string, now = new Date()): Promise<History> {
  const store = SqliteDatasetStore.open(join(dir, 'ses-stats.sqlite'));
  const end = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  const times: number[] = [];
  for (let at = end - 100 * DAY_MS; at < end - 7 * DAY_MS; at += 7 * DAY_MS)
    if (at <= end - 65 * DAY_MS || at >= end - 44 * DAY_MS) times.push(at);
  for (let at = end - 7 * DAY_MS; at <= end; at += 12 * HOUR_MS) times.push(at);
  try {
    for (const at of times) {
      await collect(store, MAIN, at, 400);
      if (at >= end - 7 * DAY_MS) await collectAccount(store, at, end);
      if (at >= end - 7 * DAY_MS) await collect(store, SECOND, at, 60);
    }
    const meta = await store.getMeta(MAIN.statisticsDataset);
    return { gaps: meta?.gaps ?? [], now: new Date(end) };
  } finally {
    store.close();
  }
}
