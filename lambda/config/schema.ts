import * as z from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { ConfigError, type Problem } from '../core/errors.ts';
import { REGION_PATTERN, resolveServiceUrl } from './service-url.ts';

/** The activity markup's default session name (`SESSION`). */
export const DEFAULT_SESSION = 'SESSession1';
export const DEFAULT_USER_AGENT = `ses-stats/${pkg.version}`;
export const DEFAULT_MAX_ERROR_RETRY = 2;
export const MAX_ERROR_RETRY_LIMIT = 10;
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Dataset and activity names: safe in a DynamoDB key, a URL path segment and a file name. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const NAME_RULE =
  '1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit)';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

const SES_V4_ONLY =
  'SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01 and rejects Signature Version 2 and 3';

/** Strict object whose unknown-field error lists the allowed fields. */
function strict<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed}`
        : 'expected an object',
  });
}

const text = (rule: string, pattern: RegExp) =>
  z.string({ error: `expected ${rule}` }).regex(pattern, `expected ${rule}`);

/** Where a secret value lives: a Secrets Manager secret (name or ARN, optional JSON key) or, in the CLI, an env var. */
export const secretRefSchema = z.union(
  [
    strict({
      secretId: text('a Secrets Manager secret name or ARN', /^\S{1,2048}$/).refine(
        (id) => !/[*?]/.test(id),
        'expected a Secrets Manager secret name or ARN without "*" or "?": a wildcard would widen the IAM grant to other secrets',
      ),
      jsonKey: text('the key of the value inside a JSON secret', /^\S{1,256}$/).optional(),
    }),
    strict({ env: text('an environment variable name', ENV_NAME) }),
  ],
  {
    error:
      'expected a secret reference {"secretId": "name-or-arn"} (optionally with "jsonKey") or {"env": "VAR"}; a secret value never belongs in the config',
  },
);
export type SecretRef = z.infer<typeof secretRefSchema>;

const credentialsSchema = z.discriminatedUnion(
  'type',
  [
    strict({ type: z.literal('role') }),
    strict({
      type: z.literal('assumeRole'),
      roleArn: text('an IAM role ARN (arn:aws:iam::123456789012:role/name)', ROLE_ARN),
      externalId: text('2-1224 characters without spaces', /^[\w+=,.@:/-]{2,1224}$/).optional(),
    }),
    strict({
      type: z.literal('keys'),
      accessKeyId: text('an access key id (16-128 upper-case letters and digits)', ACCESS_KEY_ID),
      secretAccessKey: secretRefSchema,
    }),
  ],
  { error: 'expected "type" to be one of "role", "assumeRole", "keys"' },
);
export type Credentials = z.infer<typeof credentialsSchema>;

const proxySchema = strict({
  host: text(
    'a proxy host name or IP address, without scheme',
    /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/,
  ),
  port: z
    .number({ error: 'expected a port number' })
    .int('expected an integer port from 1 to 65535')
    .min(1, 'expected an integer port from 1 to 65535')
    .max(65535, 'expected an integer port from 1 to 65535'),
  user: text('a user name (printable characters)', /^[\x21-\x7e]{1,256}$/).optional(),
  passwordSecret: secretRefSchema.optional(),
}).superRefine((p, ctx) => {
  if (p.passwordSecret !== undefined && p.user === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['user'],
      input: undefined,
      message: 'expected a user name, since passwordSecret is set',
    });
});
export type Proxy = z.infer<typeof proxySchema>;

const signatureVersionSchema = z
  .union([z.string(), z.number()], { error: 'expected 4' })
  .transform((value, ctx) => {
    const v = String(value).trim().toLowerCase().replace(/^v/, '');
    if (v === '4') return '4' as const;
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: v === '2' || v === '3' ? `${SES_V4_ONLY}; use 4` : 'expected 4',
    });
    return z.NEVER;
  });

const signatureMethodSchema = z.string({ error: 'expected HmacSHA256' }).transform((value, ctx) => {
  const v = value.trim().toLowerCase().replace(/[-_]/g, '');
  if (v === 'hmacsha256') return 'HmacSHA256' as const;
  ctx.addIssue({
    code: 'custom',
    input: value,
    message: v === 'hmacsha1' ? `${SES_V4_ONLY}; use HmacSHA256` : 'expected HmacSHA256',
  });
  return z.NEVER;
});

const connectionFields = {
  region: text('an AWS region such as us-east-1', REGION_PATTERN).optional(),
  serviceUrl: z.string({ error: 'expected a URL or host name' }).optional(),
  credentials: credentialsSchema.default({ type: 'role' }),
  userAgent: text('1-256 printable ASCII characters', PRINTABLE)
    .max(256, 'expected at most 256 characters')
    .default(DEFAULT_USER_AGENT),
  maxErrorRetry: z
    .number({ error: `expected an integer from 0 to ${MAX_ERROR_RETRY_LIMIT}` })
    .int(`expected an integer from 0 to ${MAX_ERROR_RETRY_LIMIT}`)
    .min(0, `expected an integer from 0 to ${MAX_ERROR_RETRY_LIMIT}`)
    .max(MAX_ERROR_RETRY_LIMIT, `expected an integer from 0 to ${MAX_ERROR_RETRY_LIMIT}`)
    .default(DEFAULT_MAX_ERROR_RETRY),
  timeoutSeconds: z
    .number({ error: 'expected a number of seconds from 0.1 to 300' })
    .min(0.1, 'expected a number of seconds from 0.1 to 300')
    .max(300, 'expected a number of seconds from 0.1 to 300')
    .default(DEFAULT_TIMEOUT_SECONDS),
  proxy: proxySchema.optional(),
  signatureMethod: signatureMethodSchema.default('HmacSHA256'),
  signatureVersion: signatureVersionSchema.default('4'),
};

/** A connection to SES (a named session or an activity's inline Host connection). */
export const connectionSchema = strict(connectionFields).transform((c, ctx) => {
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
});
export type ConnectionInput = z.input<typeof connectionSchema>;
export type Connection = z.output<typeof connectionSchema>;

const nameSchema = text(NAME_RULE, NAME_PATTERN);

const activitySchema = strict({
  name: nameSchema.optional(),
  session: z
    .string({ error: 'expected a session name' })
    .min(1, 'expected a session name')
    .optional(),
  connection: connectionSchema.optional(),
  usageDataset: nameSchema,
  statisticsDataset: nameSchema,
});

export const MIN_SCHEDULE_MINUTES = 5;
/** Seven days: a collector stopped for longer than SES's 14-day window loses data for good. */
export const MAX_SCHEDULE_MINUTES = 7 * 24 * 60;
export const MIN_RAW_RETENTION_DAYS = 30;
/** 100 years: beyond this a TTL date is meaningless (and at 2e11 days it is not a valid date). */
export const MAX_RAW_RETENTION_DAYS = 36_500;
const RAW_RETENTION_RULE = `expected whole days from ${MIN_RAW_RETENTION_DAYS} to ${MAX_RAW_RETENTION_DAYS}`;

const ratio = (rule: string) =>
  z
    .number({ error: `expected ${rule}` })
    .gt(0, `expected ${rule}`)
    .lte(1, `expected ${rule}`);

/** AWS puts an account under review at these rates (and may pause sending at 0.1 and 0.005). */
export const REVIEW_BOUNCE_RATE = 0.05;
export const REVIEW_COMPLAINT_RATE = 0.001;
/** A warning level defaults to this fraction of its review level. */
export const DEFAULT_WARNING_FRACTION = 0.5;
/** Rates over fewer delivery attempts than this are ignored by the rate alarms. */
export const DEFAULT_MIN_DELIVERY_ATTEMPTS = 100;
export const DEFAULT_QUOTA_UTILISATION = 0.8;

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
}).transform((alarms, ctx) => {
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

const configSchema = strict({
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
    .default(60),
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
  sessions: z
    .record(nameSchema, connectionSchema, {
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
  /** The session name, or `inline` for an activity's own Host connection. */
  readonly source: string;
  readonly connection: Connection;
  readonly usageDataset: string;
  readonly statisticsDataset: string;
}

export interface Config {
  readonly activities: readonly Activity[];
  /** How often the deployed collector runs. */
  readonly scheduleMinutes: number;
  /** Raw 15-minute points expire after this many days (DynamoDB TTL); rollups never expire. */
  readonly rawRetentionDays?: number;
  readonly alarms: AlarmSettings;
}

/** The configuration used when none is given: the default credential chain, the default region. */
export const DEFAULT_CONFIG: ConfigInput = {
  sessions: { [DEFAULT_SESSION]: {} },
  activities: [
    { session: DEFAULT_SESSION, usageDataset: 'usageData', statisticsDataset: 'statsData' },
  ],
};

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
  const resolved = activities.map((a, i): Activity | undefined => {
    const where = `activities[${i}]`;
    if (a.connection !== undefined && a.session !== undefined) {
      problems.push({ path: where, message: 'give either "session" or "connection", not both' });
      return undefined;
    }
    const sessionName = a.session ?? DEFAULT_SESSION;
    // Own properties only: "constructor" or "toString" must not find Object.prototype's.
    const connection =
      a.connection ?? (Object.hasOwn(sessions, sessionName) ? sessions[sessionName] : undefined);
    if (connection === undefined) {
      const known = Object.keys(sessions);
      problems.push({
        path: `${where}.session`,
        message: `received ${describe(sessionName)}; allowed: ${known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'none, "sessions" is empty'} (or an inline "connection")`,
      });
      return undefined;
    }
    const source = a.connection === undefined ? sessionName : 'inline';
    return {
      name: a.name ?? a.statisticsDataset,
      source,
      connection,
      usageDataset: a.usageDataset,
      statisticsDataset: a.statisticsDataset,
    };
  });
  problems.push(
    ...duplicates(
      activities.flatMap(
        (a, i) =>
          [
            [`activities[${i}].usageDataset`, a.usageDataset],
            [`activities[${i}].statisticsDataset`, a.statisticsDataset],
          ] as const,
      ),
      'dataset names must be unique across activities',
    ),
  );
  problems.push(
    ...duplicates(
      resolved.flatMap((a, i) =>
        a === undefined ? [] : [[`activities[${i}].name`, a.name] as const],
      ),
      'activity names (default: the statistics dataset name) must be unique',
    ),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...settings, activities: resolved as Activity[] };
}

function duplicates(entries: ReadonlyArray<readonly [string, string]>, rule: string): Problem[] {
  const first = new Map<string, string>();
  const problems: Problem[] = [];
  for (const [where, value] of entries) {
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, where);
    else
      problems.push({
        path: where,
        message: `received ${describe(value)}, already used by ${earlier}; ${rule}`,
      });
  }
  return problems;
}

const SECRET_PATH = /secretAccessKey|passwordSecret/;
/** Shown up to this many characters: a secret key pasted here must not be echoed. */
const ACCESS_KEY_SHOWN = 4;

function formatIssue(issue: z.core.$ZodIssue): Problem {
  const path = formatPath(issue.path);
  const secret = SECRET_PATH.test(path);
  // Unknown field names under a secret reference may be the secret itself.
  if (secret && issue.code === 'unrecognized_keys')
    return {
      path,
      message:
        'unknown field; expected a secret reference {"secretId": "name-or-arn"} (optionally with "jsonKey") or {"env": "VAR"}',
    };
  const value = fieldValue(issue);
  const shown =
    path.endsWith('.accessKeyId') && typeof value === 'string'
      ? `"${value.slice(0, ACCESS_KEY_SHOWN)}..." (${value.length} characters, the rest hidden)`
      : describe(value);
  const received =
    issue.code === 'unrecognized_keys' || secret || !('input' in issue)
      ? ''
      : `received ${shown}; `;
  // A key or an unknown field's name may be a pasted secret, too.
  return { path: path || 'config', message: `${received}${maskSecrets(issue.message)}` };
}

/** A discriminator issue carries the whole object; show only the field the path names. */
function fieldValue(issue: z.core.$ZodIssue): unknown {
  const key = issue.path.at(-1);
  const input = issue.input;
  if (
    issue.code === 'invalid_union' &&
    typeof key === 'string' &&
    typeof input === 'object' &&
    input !== null
  ) {
    return Object.hasOwn(input, key) ? (input as Record<string, unknown>)[key] : undefined;
  }
  return input;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) =>
      typeof key === 'number'
        ? `${out}[${key}]`
        : out === ''
          ? maskSecrets(String(key))
          : `${out}.${maskSecrets(String(key))}`,
    '',
  );
}

/** A received value for an error message: JSON, secrets masked, user info stripped, at most 80 characters. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let json: string;
  try {
    json =
      typeof value === 'number' || typeof value === 'bigint'
        ? String(value)
        : (JSON.stringify(value, hideSecretFields) ?? `a ${typeof value}`);
  } catch {
    json = `an unprintable ${typeof value}`;
  }
  const safe = maskSecrets(json);
  return safe.length > 80 ? `${safe.slice(0, 77)}...` : safe;
}

/** A secret value pasted under a secret's field, deep in an echoed object, is not shown. */
function hideSecretFields(key: string, value: unknown): unknown {
  return /secret|password|pwd/i.test(key) && typeof value !== 'object' ? '***' : value;
}

/** 40 or more base64 characters in a row: what an AWS secret access key looks like. */
const SECRET_LOOKING = /[A-Za-z0-9/+=]{40,}/g;
/** `scheme://user:password@` or `user:password@`: the user info of a URL. */
const USER_INFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s]*@|(^|[\s"'(])[^\s"'(@:/]*:(?!\/\/)[^\s]*@/gi;

/** Longer texts are cut before masking, which keeps the masking quick on any input. */
const MASKED_LENGTH = 2000;

/**
 * Masks what may be a secret in text shown to a user: secret-looking runs keep their first 4
 * characters, URL user info becomes `***`. A long text is cut, and the fragment the cut runs
 * through is dropped whole: it may be the start of a secret.
 */
export function maskSecrets(text: string): string {
  const bounded =
    text.length > MASKED_LENGTH
      ? `${text.slice(0, MASKED_LENGTH).replace(/[^\s"'(]*$/, '')}...`
      : text;
  return bounded
    .replace(SECRET_LOOKING, (run) => `${run.slice(0, 4)}...(${run.length} characters hidden)`)
    .replace(USER_INFO, (_, scheme?: string, before?: string) => `${scheme ?? before ?? ''}***@`);
}
