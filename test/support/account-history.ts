import {
  type AccountState,
  buildAccountRow,
  type ReputationRow,
} from '../../lambda/core/datasets.ts';
import { storeAccountResult } from '../../lambda/core/persist-account.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';

export const HEALTHY: AccountState = {
  enforcementStatus: 'HEALTHY',
  sendingEnabled: true,
  productionAccessEnabled: true,
  reviewStatus: 'GRANTED',
  reviewCaseId: 'case-1',
  max24HourSend: 50_000,
  maxSendRate: 14,
};
export const PROBATION: AccountState = {
  ...HEALTHY,
  enforcementStatus: 'PROBATION',
  reviewStatus: 'PENDING',
  reviewCaseId: 'case-2',
};
/** Back to healthy, but in the sandbox (production access withdrawn) and without a review. */
export const SANDBOX: AccountState = {
  enforcementStatus: 'HEALTHY',
  sendingEnabled: true,
  productionAccessEnabled: false,
  max24HourSend: 200,
  maxSendRate: 1,
};

/**
 * Hourly fetches on 1 November 2026 from 00:00 to 06:00: HEALTHY at 00:00-02:00, PROBATION at
 * 03:00-04:00, the sandbox at 05:00-06:00; three states, two changes.
 */
export const FETCHES: ReadonlyArray<readonly [string, AccountState]> = [
  ['2026-11-01T00:00:00.000Z', HEALTHY],
  ['2026-11-01T01:00:00.000Z', HEALTHY],
  ['2026-11-01T02:00:00.000Z', HEALTHY],
  ['2026-11-01T03:00:00.000Z', PROBATION],
  ['2026-11-01T04:00:00.000Z', PROBATION],
  ['2026-11-01T05:00:00.000Z', SANDBOX],
  ['2026-11-01T06:00:00.000Z', SANDBOX],
];

/**
 * Reputation hours from 31 October 20:00 (before the first fetch: CloudWatch's backfill) to
 * 1 November 05:00; a rate CloudWatch left out is null. Highest bounce 0.06 at 02:00 (also
 * reached at 04:00: the first hour counts), highest complaint 0.004 at 03:00; the last hour has
 * no complaint rate, so the latest one is 04:00's.
 */
export const REPUTATION: readonly ReputationRow[] = [
  { Timestamp: '2026-10-31T20:00:00Z', BounceRate: 0.01, ComplaintRate: 0.0001 },
  { Timestamp: '2026-10-31T21:00:00Z', BounceRate: 0.012, ComplaintRate: null },
  { Timestamp: '2026-11-01T00:00:00Z', BounceRate: 0.02, ComplaintRate: 0.0002 },
  { Timestamp: '2026-11-01T01:00:00Z', BounceRate: 0.03, ComplaintRate: 0.0003 },
  { Timestamp: '2026-11-01T02:00:00Z', BounceRate: 0.06, ComplaintRate: 0.001 },
  { Timestamp: '2026-11-01T03:00:00Z', BounceRate: 0.05, ComplaintRate: 0.004 },
  { Timestamp: '2026-11-01T04:00:00Z', BounceRate: 0.06, ComplaintRate: 0.002 },
  { Timestamp: '2026-11-01T05:00:00Z', BounceRate: 0.04, ComplaintRate: null },
];

/**
 * Stores account dataset `name` through the real write path (storeAccountResult), one fetch at a
 * time; each fetch brings the reputation hours up to its own time.
 */
export async function fillAccountHistory(store: DatasetStore, name = 'acct'): Promise<void> {
  const activity = {
    name: 'a',
    source: 'S1',
    usageDataset: `${name}-usage`,
    statisticsDataset: `${name}-stats`,
    accountDataset: name,
  };
  for (const [at, state] of FETCHES) {
    const fetchedAt = new Date(at);
    await storeAccountResult(
      store,
      activity,
      {
        name,
        rows: [buildAccountRow(state, fetchedAt)],
        reputation: REPUTATION.filter((r) => Date.parse(r.Timestamp) <= fetchedAt.getTime()),
      },
      fetchedAt,
    );
  }
}
