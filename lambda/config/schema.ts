import * as z from 'zod';
import { ConfigError, type Problem } from '../core/errors.ts';
import {
  DEFAULT_ACCOUNT_DATASET,
  DEFAULT_API_ENABLED,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_FAN_OUT_CONCURRENCY,
  DEFAULT_MIN_DELIVERY_ATTEMPTS,
  DEFAULT_QUOTA_UTILISATION,
  DEFAULT_READER_ROLE_NAME,
  DEFAULT_SCHEDULE_MINUTES,
  DEFAULT_SESSION,
  DEFAULT_STATISTICS_DATASET,
  DEFAULT_USAGE_DATASET,
  DEFAULT_WARNING_FRACTION,
  MAX_BATCH_SIZE,
  MAX_CONCURRENCY,
  MAX_FAN_OUT_CONCURRENCY,
  MAX_RAW_RETENTION_DAYS,
  MAX_SCHEDULE_MINUTES,
  MIN_FAN_OUT_CONCURRENCY,
  MIN_RAW_RETENTION_DAYS,
  MIN_SCHEDULE_MINUTES,
  REPUTATION_BOUNCE_REVIEW,
  REPUTATION_BOUNCE_WARNING,
  REPUTATION_COMPLAINT_REVIEW,
  REPUTATION_COMPLAINT_WARNING,
  REVIEW_BOUNCE_RATE,
  REVIEW_COMPLAINT_RATE,
} from './defaults.ts';
import {
  type ActivityOrigin,
  expandActivities,
  type RegionTarget,
  type SourceSpec,
  type ActivityToExpand as ToExpand,
} from './expand.ts';
import {
  accountIdSchema,
  externalIdSchema,
  NAME_RULE,
  nameSchema,
  nameTemplateSchema,
  roleNameSchema,
  type secretRefSchema,
  strict,
  text,
  uniqueList,
} from './fields.ts';
import { formatIssue } from './issues.ts';
import { describe } from './masking.ts';
import {
  ACTIVITY_PARAMETERS,
  CONNECTION_PARAMETERS,
  PROXY_PARAMETERS,
  schemas,
} from './parameters.ts';
import {
  endpointOf,
  isAwsHost,
  REGION_PATTERN,
  type ResolvedEndpoint,
  resolveServiceUrl,
} from './service-url.ts';

/**
 * The configuration schema (docs/configuration.md): one source of truth for `cdk synth`, the Lambda's cold
 * start and the CLI. The activity's parameters come from parameters.ts; this file arranges them
 * into sessions, activities and deployment settings.
 */

export type SecretRef = z.infer<typeof secretRefSchema>;

const proxySchema = strict(schemas(PROXY_PARAMETERS)).superRefine((p, ctx) => {
  if (p.passwordSecret !== undefined && p.user === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['user'],
      input: undefined,
      message: 'expected a user name, since passwordSecret is set',
    });
});

const { signatureMethod, signatureVersion, ...connectionFields } = schemas(CONNECTION_PARAMETERS);

const connectionShape = {
  ...connectionFields,
  proxy: proxySchema.optional(),
  signatureMethod,
  signatureVersion,
};

/** The connection with its endpoint and signing region resolved; an issue under `serviceUrl` if they cannot be. */
function resolveConnection<C extends { serviceUrl?: string; region?: string }>(
  c: C,
  ctx: z.core.$RefinementCtx,
): (C & ResolvedEndpoint) | typeof z.NEVER {
  try {
    return { ...c, serviceUrl: c.serviceUrl?.trim(), ...resolveServiceUrl(c.serviceUrl, c.region) };
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      path: ['serviceUrl'],
      input: c.serviceUrl,
      message: (error as Error).message,
    });
    return z.NEVER;
  }
}

/** A connection to SES (a named session or an activity's inline Host connection). */
export const connectionSchema = strict(connectionShape).transform(resolveConnection);
export type ConnectionInput = z.input<typeof connectionSchema>;
/**
 * A resolved connection; `cloudWatchEndpoint` is set by `parseConfig` (`withCloudWatch`): where
 * the account dataset's CloudWatch calls go, absent for the SDK's endpoint of the region.
 */
export type Connection = z.output<typeof connectionSchema> & {
  readonly cloudWatchEndpoint?: string;
};

const REGIONS_RULE = 'a non-empty list of AWS regions such as ["us-east-1", "eu-west-1"]';
const ACCOUNTS_RULE =
  'a non-empty list of accounts such as [{"id": "111122223333", "roleName": "SesStatsReader"}]';

/**
 * A named session: a connection, or with `regions` and `accounts` the shorthand for one
 * connection per account × region (expand.ts). Each account's role is assumed with the
 * collector's own identity, so `accounts` takes no other `credentials`.
 */
const sessionSchema = strict({
  ...connectionShape,
  regions: uniqueList(
    text('an AWS region such as us-east-1', REGION_PATTERN),
    REGIONS_RULE,
    'regions',
  ).optional(),
  accounts: uniqueList(
    strict({ id: accountIdSchema, roleName: roleNameSchema.default(DEFAULT_READER_ROLE_NAME) }),
    ACCOUNTS_RULE,
    'accounts',
    (account) => account.id,
  ).optional(),
  externalId: externalIdSchema.optional(),
}).transform((s, ctx) => {
  const { regions, accounts, externalId, ...rest } = s;
  const issue = (field: string, input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path: [field], input, message });
  if (regions !== undefined && rest.region !== undefined)
    issue(
      'region',
      rest.region,
      'give either "region" (one region) or "regions" (a list), not both',
    );
  if (accounts !== undefined && rest.credentials.type !== 'role')
    issue(
      'credentials',
      rest.credentials.type,
      'expected no "credentials" (other than {"type": "role"}) together with "accounts": the collector assumes each account\'s role with its own identity; remove "credentials" or "accounts"',
    );
  if (accounts !== undefined && externalId === undefined)
    issue(
      'externalId',
      undefined,
      'expected an external id with "accounts": each account\'s SesStatsReader role trusts the collector only with it (the ExternalId parameter of the reader stack)',
    );
  if (externalId !== undefined && accounts === undefined)
    issue(
      'externalId',
      undefined,
      'expected "accounts" as well: the shared externalId is sent when assuming each account\'s role (for one role, use credentials {"type": "assumeRole", "roleArn", "externalId"})',
    );
  const connection =
    regions === undefined
      ? resolveConnection(rest, ctx)
      : { ...rest, serviceUrl: rest.serviceUrl?.trim() };
  let targets: RegionTarget[] | undefined;
  if (regions !== undefined) {
    try {
      targets = regionTargets(rest.serviceUrl, regions);
    } catch (error) {
      issue('serviceUrl', rest.serviceUrl, (error as Error).message);
    }
  }
  return {
    connection,
    ...(targets === undefined ? {} : { regions: targets }),
    ...(accounts === undefined ? {} : { accounts }),
    ...(externalId === undefined ? {} : { externalId }),
  };
});

/**
 * Each region with its endpoint: the SDK's own for the region, or `serviceUrl` signed for it (a
 * local or VPC endpoint). An SES host names one region, so it cannot serve a list of others.
 */
function regionTargets(serviceUrl: string | undefined, regions: readonly string[]): RegionTarget[] {
  if (serviceUrl === undefined) return regions.map((region) => ({ region }));
  let inferred: string | undefined;
  try {
    inferred = resolveServiceUrl(serviceUrl, undefined).region;
  } catch {
    inferred = undefined; // not an SES host: each region below signs for it
  }
  const other = regions.find((r) => inferred !== undefined && r !== inferred);
  if (other !== undefined)
    throw new Error(
      `its host is in region ${inferred}, but "regions" lists ${other}; leave serviceUrl out with "regions" (each region then uses its own SES endpoint)`,
    );
  return regions.map((region) => {
    const { endpoint } = resolveServiceUrl(serviceUrl, region);
    return endpoint === undefined ? { region } : { region, endpoint };
  });
}

const { session } = schemas(ACTIVITY_PARAMETERS);

/** Dataset names and the activity's name may be templates (`{account}-{region}-stats`), filled per source. */
const activitySchema = strict({
  name: nameTemplateSchema.optional(),
  session,
  connection: connectionSchema.optional(),
  usageDataset: nameTemplateSchema.optional(),
  statisticsDataset: nameTemplateSchema.optional(),
  accountDataset: nameTemplateSchema.optional(),
});

const RAW_RETENTION_RULE = `expected whole days from ${MIN_RAW_RETENTION_DAYS} to ${MAX_RAW_RETENTION_DAYS}`;

const ratio = (rule: string) =>
  z
    .number({ error: `expected ${rule}` })
    .gt(0, `expected ${rule}`)
    .lte(1, `expected ${rule}`);

const MIN_ATTEMPTS_RULE = 'a whole number of delivery attempts, at least 1';

/** Deployment settings (`cdk deploy`); the CLI ignores them. */
const alarmsSchema = strict({
  email: text('an e-mail address', /^[^\s@]+@[^\s@]+\.[^\s@]+$/).optional(),
  bounceRate: ratio(
    `a fraction above 0 and at most 1 (AWS reviews accounts at ${REVIEW_BOUNCE_RATE})`,
  ).default(REVIEW_BOUNCE_RATE),
  bounceRateWarning: ratio(
    'a fraction above 0 and below bounceRate (default: half of bounceRate)',
  ).optional(),
  complaintRate: ratio(
    `a fraction above 0 and at most 1 (AWS reviews accounts at ${REVIEW_COMPLAINT_RATE})`,
  ).default(REVIEW_COMPLAINT_RATE),
  complaintRateWarning: ratio(
    'a fraction above 0 and below complaintRate (default: half of complaintRate)',
  ).optional(),
  minDeliveryAttempts: z
    .number({ error: `expected ${MIN_ATTEMPTS_RULE}` })
    .int(`expected ${MIN_ATTEMPTS_RULE}`)
    .min(1, `expected ${MIN_ATTEMPTS_RULE}`)
    .max(Number.MAX_SAFE_INTEGER, `expected ${MIN_ATTEMPTS_RULE}`)
    .default(DEFAULT_MIN_DELIVERY_ATTEMPTS),
  quotaUtilisation: ratio('a fraction above 0 and at most 1').default(DEFAULT_QUOTA_UTILISATION),
  reputationBounceWarning: ratio(
    `a fraction above 0 and below reputationBounceReview (AWS's warning level is ${REPUTATION_BOUNCE_WARNING})`,
  ).default(REPUTATION_BOUNCE_WARNING),
  reputationBounceReview: ratio(
    `a fraction above 0 and at most 1 (AWS's review level is ${REPUTATION_BOUNCE_REVIEW})`,
  ).default(REPUTATION_BOUNCE_REVIEW),
  reputationComplaintWarning: ratio(
    `a fraction above 0 and below reputationComplaintReview (AWS's warning level is ${REPUTATION_COMPLAINT_WARNING})`,
  ).default(REPUTATION_COMPLAINT_WARNING),
  reputationComplaintReview: ratio(
    `a fraction above 0 and at most 1 (AWS's review level is ${REPUTATION_COMPLAINT_REVIEW})`,
  ).default(REPUTATION_COMPLAINT_REVIEW),
}).transform((alarms, ctx) => {
  for (const rate of ['Bounce', 'Complaint'] as const) {
    const [warning, review] = [`reputation${rate}Warning`, `reputation${rate}Review`] as const;
    if (alarms[warning] >= alarms[review])
      ctx.addIssue({
        code: 'custom',
        path: [warning],
        input: alarms[warning],
        message: `expected a warning level below alarms.${review} (${alarms[review]}); the warning must come before the review level`,
      });
  }
  // Each rate alarms first at its warning level, then at its review level.
  const warning = (rate: 'bounceRate' | 'complaintRate') => {
    const field = `${rate}Warning` as const;
    const given = alarms[field];
    const value = given ?? alarms[rate] * DEFAULT_WARNING_FRACTION;
    if (given !== undefined && given >= alarms[rate])
      ctx.addIssue({
        code: 'custom',
        path: [field],
        input: given,
        message: `expected a warning level below alarms.${rate} (${alarms[rate]}); the warning must come before the review level`,
      });
    return value;
  };
  return {
    ...alarms,
    bounceRateWarning: warning('bounceRate'),
    complaintRateWarning: warning('complaintRate'),
  };
});
export type AlarmSettings = z.output<typeof alarmsSchema>;

const ORIGIN_RULE =
  'an origin such as https://dashboard.example.com (http or https, a host name, an optional port, no path)';
const ORIGINS_RULE = `a list of origins, each ${ORIGIN_RULE}, or ["*"] for any origin; leave apiCorsOrigins out for no CORS`;

/** The origins a browser may call the read API from: exact origins, or `*` alone. */
const corsOriginsSchema = z
  .array(
    z
      .string({ error: `expected ${ORIGIN_RULE}, or "*"` })
      .regex(/^\*$|^https?:\/\/[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$/, {
        error: `expected ${ORIGIN_RULE}, or "*"`,
      }),
    { error: `expected ${ORIGINS_RULE}` },
  )
  .min(1, `expected ${ORIGINS_RULE}`)
  .superRefine((origins, ctx) => {
    if (origins.includes('*') && origins.length > 1)
      ctx.addIssue({
        code: 'custom',
        input: origins,
        message: 'expected "*" alone: it already allows every origin',
      });
    origins.forEach((origin, i) => {
      if (origins.indexOf(origin) < i)
        ctx.addIssue({
          code: 'custom',
          path: [i],
          input: origin,
          message: `already listed at apiCorsOrigins[${origins.indexOf(origin)}]; expected each origin once`,
        });
    });
  });

/** A whole number from `min` to `max`, with the rule and why in every message. */
const wholeNumber = (min: number, max: number, what: string) => {
  const rule = `expected ${what}: a whole number from ${min} to ${max}`;
  return z.number({ error: rule }).int(rule).min(min, rule).max(max, rule);
};

const configSchema = strict({
  concurrency: wholeNumber(
    1,
    MAX_CONCURRENCY,
    'sources collected at once by one invocation or CLI run',
  ).default(DEFAULT_CONCURRENCY),
  batchSize: wholeNumber(
    1,
    MAX_BATCH_SIZE,
    'sources one collector invocation takes before the run fans out through a queue',
  ).default(DEFAULT_BATCH_SIZE),
  fanOutConcurrency: wholeNumber(
    MIN_FAN_OUT_CONCURRENCY,
    MAX_FAN_OUT_CONCURRENCY,
    'batch invocations running at once',
  ).default(DEFAULT_FAN_OUT_CONCURRENCY),
  scheduleMinutes: z
    .number({
      error: `expected whole minutes from ${MIN_SCHEDULE_MINUTES} to ${MAX_SCHEDULE_MINUTES} (7 days)`,
    })
    .int(`expected whole minutes from ${MIN_SCHEDULE_MINUTES} to ${MAX_SCHEDULE_MINUTES} (7 days)`)
    .min(
      MIN_SCHEDULE_MINUTES,
      `expected whole minutes from ${MIN_SCHEDULE_MINUTES} to ${MAX_SCHEDULE_MINUTES} (7 days); SES allows these calls once per second and more often gains nothing`,
    )
    .max(
      MAX_SCHEDULE_MINUTES,
      `expected whole minutes from ${MIN_SCHEDULE_MINUTES} to ${MAX_SCHEDULE_MINUTES} (7 days); a longer pause risks losing data, since SES keeps only 14 days`,
    )
    .default(DEFAULT_SCHEDULE_MINUTES),
  rawRetentionDays: z
    .number({ error: RAW_RETENTION_RULE })
    .int(RAW_RETENTION_RULE)
    .min(
      MIN_RAW_RETENTION_DAYS,
      `${RAW_RETENTION_RULE}; raw points must outlive SES's 14-day window`,
    )
    .max(
      MAX_RAW_RETENTION_DAYS,
      `${RAW_RETENTION_RULE} (100 years); leave rawRetentionDays out to keep raw points forever`,
    )
    .optional(),
  alarms: alarmsSchema.prefault({}),
  api: z
    .boolean({ error: 'expected true (deploy the read API) or false' })
    .default(DEFAULT_API_ENABLED),
  apiCorsOrigins: corsOriginsSchema.optional(),
  sessions: z
    .record(nameSchema, sessionSchema, {
      error: (issue) =>
        issue.code === 'invalid_key'
          ? `expected a session name of ${NAME_RULE}`
          : 'expected an object of named sessions',
    })
    .default({}),
  activities: z
    .array(activitySchema, { error: 'expected a list of activities' })
    .min(1, 'expected at least one activity'),
});
export type ConfigInput = z.input<typeof configSchema>;

/** An activity with its connection resolved: what the collector runs. */
export interface Activity {
  readonly name: string;
  /**
   * What the activity's SES client is shared by: the session name, `inline` for an activity's own
   * Host connection, or `<session>/<account>/<region>` (`<session>/<region>`) for one source of
   * a session listing accounts or regions.
   */
  readonly source: string;
  readonly connection: Connection;
  readonly usageDataset: string;
  readonly statisticsDataset: string;
  /** SES API v2 account state and AWS's reputation rates; absent: none. */
  readonly accountDataset?: string;
  /** Where the config document writes it: the entry of `activities`, its session, account, region. */
  readonly origin: ActivityOrigin;
}

export type { ActivityOrigin };

export interface Config {
  readonly activities: readonly Activity[];
  /** Sources collected at once by one invocation or one CLI run. */
  readonly concurrency: number;
  /** Sources one invocation takes; above it the scheduled run fans out batches through a queue. */
  readonly batchSize: number;
  /** Batch invocations running at once when the run fans out. */
  readonly fanOutConcurrency: number;
  /** How often the deployed collector runs. */
  readonly scheduleMinutes: number;
  /** Raw 15-minute points expire after this many days (DynamoDB TTL); rollups never expire. */
  readonly rawRetentionDays?: number;
  readonly alarms: AlarmSettings;
  /** Whether the deployment includes the read API (API Gateway with IAM auth). */
  readonly api: boolean;
  /** Origins a browser may call the read API from (CORS); absent: no CORS at all. */
  readonly apiCorsOrigins?: readonly string[];
}

/** The configuration used when none is given: the default credential chain, the default region. */
export const DEFAULT_CONFIG: ConfigInput = {
  sessions: { [DEFAULT_SESSION]: {} },
  activities: [
    {
      session: DEFAULT_SESSION,
      usageDataset: DEFAULT_USAGE_DATASET,
      statisticsDataset: DEFAULT_STATISTICS_DATASET,
      accountDataset: DEFAULT_ACCOUNT_DATASET,
    },
  ],
};

type ActivityToExpand = ToExpand<Connection>;

/** Validates a parsed config document; throws ConfigError naming every field that is wrong. */
export function parseConfig(input: unknown): Config {
  const parsed = configSchema.safeParse(input, { reportInput: true });
  // zod drops a "__proto__" record key without a word; a session may not be called that.
  const sessionsInput = (input as { sessions?: unknown } | null | undefined)?.sessions;
  const protoSession =
    typeof sessionsInput === 'object' &&
    sessionsInput !== null &&
    Object.hasOwn(sessionsInput, '__proto__')
      ? [{ path: 'sessions.__proto__', message: `expected a session name of ${NAME_RULE}` }]
      : [];
  if (!parsed.success || protoSession.length > 0)
    throw new ConfigError([
      ...protoSession,
      ...(parsed.success ? [] : parsed.error.issues.map(formatIssue)),
    ]);
  const { sessions, activities, ...settings } = parsed.data;
  const problems: Problem[] = [];
  if (!settings.api && settings.apiCorsOrigins !== undefined)
    problems.push({
      path: 'apiCorsOrigins',
      message: `received ${describe(settings.apiCorsOrigins)}, but "api" is false; CORS applies only to the read API: remove apiCorsOrigins or set "api": true`,
    });
  const entries = activities.map((a, i): ActivityToExpand => {
    const where = `activities[${i}]`;
    if (a.connection !== undefined && a.session !== undefined) {
      problems.push({ path: where, message: 'give either "session" or "connection", not both' });
      return { index: i, entry: a };
    }
    const sessionName = a.session ?? DEFAULT_SESSION;
    // Own properties only: "constructor" or "toString" must not find Object.prototype's.
    const named = Object.hasOwn(sessions, sessionName) ? sessions[sessionName] : undefined;
    const spec: SourceSpec<Connection> | undefined =
      a.connection !== undefined
        ? { connection: a.connection }
        : named === undefined
          ? undefined
          : { session: sessionName, ...named };
    if (spec === undefined) {
      const known = Object.keys(sessions);
      problems.push({
        path: `${where}.session`,
        message: `received ${describe(sessionName)}; allowed: ${known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'none, "sessions" is empty'} (or an inline "connection")`,
      });
      return { index: i, entry: a };
    }
    return { index: i, entry: a, spec };
  });
  const expanded = expandActivities<Connection>(entries, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...settings,
    activities: expanded.map((a) => ({ ...a, connection: withCloudWatch(a.connection) })),
  };
}

/**
 * The connection with its CloudWatch endpoint: `cloudWatchUrl` when given; else a `serviceUrl`
 * that is not an AWS host (a local endpoint serves every API the activity calls; an SES VPC
 * endpoint serves SES only); else none, the SDK's CloudWatch endpoint for the region.
 */
function withCloudWatch(c: Connection): Connection {
  const cloudWatchEndpoint =
    c.cloudWatchUrl !== undefined
      ? endpointOf(c.cloudWatchUrl)
      : c.endpoint !== undefined && !isAwsHost(c.endpoint)
        ? c.endpoint
        : undefined;
  return cloudWatchEndpoint === undefined ? c : { ...c, cloudWatchEndpoint };
}
