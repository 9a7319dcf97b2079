import type { StatisticsRow } from '../../lambda/core/datasets.ts';

/** A statistics row: a 15-minute point as SES sends it, counts not given are 0. */
export const row = (
  Timestamp: string,
  DeliveryAttempts: number,
  Bounces = 0,
  Complaints = 0,
  Rejects = 0,
): StatisticsRow => ({ Timestamp, DeliveryAttempts, Bounces, Complaints, Rejects });
