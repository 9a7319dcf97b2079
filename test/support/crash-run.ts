import { collectAll } from '../../lambda/core/activity.ts';
import type { ActivitySpec } from '../../lambda/core/results.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';
import { FakeClock, FakeSource, point } from './fakes.ts';

export const CRASH_ACTIVITY: ActivitySpec = {
  name: 'crash',
  source: 'SESSession1',
  usageDataset: 'crashUsage',
  statisticsDataset: 'crashStats',
};

const at = (day: number, hour: number, minute: number) =>
  `2026-11-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`;

/**
 * Two fetches of one source, small enough to crash at every store call in turn: the first stores
 * two days of points; the second (a day later) revises three of them, adds eight across midnight
 * and repeats the rest. Deterministic, with the server's time fixed per fetch.
 */
export const CRASH_FETCHES = [
  {
    now: '2026-11-27T12:00:00Z',
    points: [
      ...[7, 22, 37, 52].flatMap((m) => [point(at(26, 9, m), 10 + m), point(at(26, 18, m), 3)]),
      ...[7, 22, 37, 52].flatMap((m) => [point(at(27, 9, m), 20 + m, 1), point(at(27, 11, m), 5)]),
    ],
  },
  {
    now: '2026-11-28T01:00:00Z',
    points: [
      ...[7, 22, 37, 52].flatMap((m) => [point(at(26, 9, m), 10 + m), point(at(26, 18, m), 3)]),
      ...[7, 22, 37, 52].map((m) => point(at(27, 9, m), 20 + m, 1)),
      point(at(27, 11, 7), 6, 1),
      point(at(27, 11, 22), 5),
      point(at(27, 11, 37), 9, 0, 1),
      point(at(27, 11, 52), 7),
      ...[7, 22, 37, 52].flatMap((m) => [point(at(27, 23, m), 4), point(at(28, 0, m), 2, 0, 0, 1)]),
    ],
  },
] as const;

/** Runs fetch `index` of CRASH_FETCHES through the collector's core into `store`. */
export async function runCrashFetch(store: DatasetStore, index: 0 | 1): Promise<void> {
  const fetch = CRASH_FETCHES[index];
  const clock = new FakeClock(Date.parse(fetch.now));
  const source = new FakeSource(clock, 'crash@us-east-1', undefined, [...fetch.points]);
  source.serverTime = () => new Date(fetch.now);
  const outcome = await collectAll([{ activity: CRASH_ACTIVITY, source }], { clock, store });
  const failure = outcome.failures[0];
  if (failure !== undefined) throw new Error(failure.message);
}
