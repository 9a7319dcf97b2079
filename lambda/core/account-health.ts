import { METRICS } from '../constants.ts';
import type { ReputationRow } from './datasets.ts';
import type { Breach, RunMetric } from './metrics.ts';
import { BREACH_NAMES_LIMIT } from './metrics.ts';
import type { ActivityResult } from './results.ts';

/** AWS's reputation levels as the config's `alarms` sets them (fractions). */
export interface ReputationLevels {
  readonly reputationBounceWarning: number;
  readonly reputationBounceReview: number;
  readonly reputationComplaintWarning: number;
  readonly reputationComplaintReview: number;
}

/**
 * One fetched account dataset as its `account` log line shows it (the dashboard's account table
 * reads these fields): the state seen, its last change, and the latest reputation rates.
 */
export interface AccountHealth {
  readonly dataset: string;
  readonly enforcementStatus?: string;
  readonly sendingEnabled?: boolean;
  readonly productionAccessEnabled?: boolean;
  readonly reviewStatus?: string | null;
  readonly lastChange?: string;
  readonly reputationBounceRate?: number;
  readonly reputationComplaintRate?: number;
  /** The hour of the latest reputation rate. */
  readonly reputationAt?: string;
}

/** The account health of a result, or undefined when the activity has no account dataset. */
export function accountHealth(result: ActivityResult): AccountHealth | undefined {
  const account = result.account;
  if (account === undefined) return undefined;
  // When GetAccount failed, the last state stored: an account under review stays counted.
  const state = account.rows[0] ?? result.accountStored?.latest;
  const bounce = latest(account.reputation, 'BounceRate');
  const complaint = latest(account.reputation, 'ComplaintRate');
  const at = [bounce?.Timestamp, complaint?.Timestamp]
    .filter((t) => t !== undefined)
    .sort()
    .at(-1);
  return {
    dataset: account.name,
    ...(state === undefined
      ? {}
      : {
          enforcementStatus: state.EnforcementStatus,
          sendingEnabled: state.SendingEnabled,
          productionAccessEnabled: state.ProductionAccessEnabled,
          reviewStatus: state.ReviewStatus,
          lastChange: result.accountStored?.lastChange ?? state.FirstSeen,
        }),
    ...(bounce?.BounceRate == null ? {} : { reputationBounceRate: bounce.BounceRate }),
    ...(complaint?.ComplaintRate == null
      ? {}
      : { reputationComplaintRate: complaint.ComplaintRate }),
    ...(at === undefined ? {} : { reputationAt: at }),
  };
}

/** The last row with a value of `rate` (rows ascending). */
function latest(
  rows: readonly ReputationRow[],
  rate: 'BounceRate' | 'ComplaintRate',
): ReputationRow | undefined {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]?.[rate] != null) return rows[i];
  return undefined;
}

/** Each count: its metric and when an account counts in it. */
const ACCOUNT_RULES: readonly (readonly [
  string,
  (h: AccountHealth, levels: ReputationLevels) => boolean,
])[] = [
  [
    METRICS.ACCOUNTS_NOT_HEALTHY,
    (h) => h.enforcementStatus !== undefined && h.enforcementStatus !== 'HEALTHY',
  ],
  [METRICS.ACCOUNTS_SENDING_DISABLED, (h) => h.sendingEnabled === false],
  [
    METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_WARNING,
    (h, l) => (h.reputationBounceRate ?? 0) >= l.reputationBounceWarning,
  ],
  [
    METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_REVIEW,
    (h, l) => (h.reputationBounceRate ?? 0) >= l.reputationBounceReview,
  ],
  [
    METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_WARNING,
    (h, l) => (h.reputationComplaintRate ?? 0) >= l.reputationComplaintWarning,
  ],
  [
    METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_REVIEW,
    (h, l) => (h.reputationComplaintRate ?? 0) >= l.reputationComplaintReview,
  ],
];

/** The level each reputation count compares with (the two state counts have none). */
const LEVEL_OF: Readonly<Record<string, keyof ReputationLevels>> = {
  [METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_WARNING]: 'reputationBounceWarning',
  [METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_REVIEW]: 'reputationBounceReview',
  [METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_WARNING]: 'reputationComplaintWarning',
  [METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_REVIEW]: 'reputationComplaintReview',
};

/**
 * The account counts of one invocation, in both alarm modes: how many of the account datasets it
 * fetched are not HEALTHY, cannot send, or have a latest AWS reputation rate at or over each level.
 * Six counts per invocation, whatever the number of accounts; the names go to the log.
 */
export class AccountTally {
  private readonly over = new Map<string, { count: number; datasets: string[] }>(
    ACCOUNT_RULES.map(([metric]) => [metric, { count: 0, datasets: [] }]),
  );
  private seen = 0;

  constructor(private readonly levels: ReputationLevels) {
    for (const level of Object.values(LEVEL_OF)) {
      const value = levels[level];
      if (!(Number.isFinite(value) && value > 0 && value <= 1))
        throw new Error(
          `AccountTally ${level}: received ${value}; expected a fraction above 0 and at most 1`,
        );
    }
  }

  /** Counts one result's account dataset (none: nothing) and returns its health. */
  add(result: ActivityResult): AccountHealth | undefined {
    const health = accountHealth(result);
    if (health === undefined) return undefined;
    this.seen += 1;
    for (const [metric, over] of ACCOUNT_RULES) {
      if (!over(health, this.levels)) continue;
      const tally = this.over.get(metric);
      if (tally === undefined) continue;
      tally.count += 1;
      if (tally.datasets.length < BREACH_NAMES_LIMIT) tally.datasets.push(health.dataset);
    }
    return health;
  }

  /** Account datasets counted. */
  get accounts(): number {
    return this.seen;
  }

  /** The six counts, 0 included. */
  metrics(): RunMetric[] {
    return ACCOUNT_RULES.map(([name]) => ({ name, value: this.over.get(name)?.count ?? 0 }));
  }

  /** The counts above 0, with the datasets in them (threshold 1 for the two state counts). */
  breaches(): Breach[] {
    return ACCOUNT_RULES.flatMap(([metric]) => {
      const over = this.over.get(metric);
      if (over === undefined || over.count === 0) return [];
      const level = LEVEL_OF[metric];
      return [
        {
          metric,
          threshold: level === undefined ? 1 : this.levels[level],
          count: over.count,
          datasets: [...over.datasets],
        },
      ];
    });
  }
}
