import { isoUtc, type StatisticsRow } from '../../lambda/core/datasets.ts';

/** A statistics row: a 15-minute point as SES sends it, counts not given are 0. */
export const row = (
  Timestamp: string,
  DeliveryAttempts: number,
  Bounces = 0,
  Complaints = 0,
  Rejects = 0,
): StatisticsRow => ({ Timestamp, DeliveryAttempts, Bounces, Complaints, Rejects });

/**
 * SES-like points over [from, to): one every 15 minutes (every `every` quarter hours), each with
 * counts differing from the next.
 */
export function series(from: string, to: string, every = 1): StatisticsRow[] {
  const rows: StatisticsRow[] = [];
  for (let ms = Date.parse(from), i = 0; ms < Date.parse(to); ms += 15 * 60_000 * every, i++)
    rows.push(
      row(isoUtc(new Date(ms)), 10 + (i % 7), i % 3, i % 5 === 0 ? 1 : 0, i % 11 === 0 ? 1 : 0),
    );
  return rows;
}
