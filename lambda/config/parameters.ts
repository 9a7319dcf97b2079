import * as z from 'zod';
import {
  DEFAULT_ACCOUNT_DATASET,
  DEFAULT_MAX_ERROR_RETRY,
  DEFAULT_SESSION,
  DEFAULT_SIGNATURE_METHOD,
  DEFAULT_SIGNATURE_VERSION,
  DEFAULT_STATISTICS_DATASET,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_USAGE_DATASET,
  DEFAULT_USER_AGENT,
  MAX_ERROR_RETRY_LIMIT,
  MAX_TIMEOUT_SECONDS,
  MIN_TIMEOUT_SECONDS,
} from './defaults.ts';
import {
  between,
  credentialsSchema,
  integer,
  nameSchema,
  PRINTABLE,
  SES_V4_ONLY,
  secretRefSchema,
  signatureMethodSchema,
  signatureVersionSchema,
  text,
} from './fields.ts';
import { endpointUrlProblem, REGION_PATTERN } from './service-url.ts';

/**
 * The email statistics activity's parameters, one record each. The config schema,
 * `collect`'s flags and help, the `import-aml` mapping and the table in docs/configuration.md are
 * all generated from these records: a new parameter is one new record (see CONTRIBUTING.md).
 */
export interface Parameter<S extends z.ZodType = z.ZodType> {
  /** The config field: a path inside a connection (`proxy.host`) or an activity (`usageDataset`). */
  readonly field: string;
  readonly scope: 'connection' | 'activity';
  /** `collect`'s flag (without `--`) and its value's placeholder; absent when there is none. */
  readonly flag?: readonly [name: string, value: string];
  /** The activity markup's attribute(s) (`<AMAWSSES …/>`), the product's own spelling first. */
  readonly markup: readonly string[];
  /** What it is: one line of `collect --help`, and the docs. */
  readonly help: string;
  /** The default, as help and docs show it. */
  readonly default?: string;
  /** More for the docs table. */
  readonly notes?: string;
  /**
   * How a flag's text becomes the field's value: as is (`text`), as a number (`number`), or as an
   * environment variable secret reference (`secret`: `{"env": VAR}`). `import-aml` maps `text`
   * and `number` attributes from the record; `secret` ones by hand (a secret is never copied from
   * markup, the config names a Secrets Manager secret instead), and `special` ones (session,
   * credentials, dataset names) by hand too.
   */
  readonly kind: 'text' | 'number' | 'secret' | 'special';
  /** Values the product offered that SES now refuses: `import-aml` upgrades them with a warning. */
  readonly upgrade?: { readonly outdated: RegExp; readonly to: string; readonly because: string };
  /** The field's rule in the config schema (defaults included). */
  readonly schema: S;
}

const parameter = <S extends z.ZodType>(p: Parameter<S>): Parameter<S> => p;

/** Fields of `proxy`, inside a connection. */
export const PROXY_PARAMETERS = {
  host: parameter({
    field: 'proxy.host',
    scope: 'connection',
    flag: ['proxy-host', 'HOST'],
    markup: ['PROXYHOST'],
    help: 'proxy host name or IP address, without scheme',
    notes: 'an HTTP proxy (CONNECT for https), used for SES and STS calls',
    kind: 'text',
    schema: text(
      'a proxy host name or IP address, without scheme',
      /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/,
    ),
  }),
  port: parameter({
    field: 'proxy.port',
    scope: 'connection',
    flag: ['proxy-port', 'PORT'],
    markup: ['PROXYPORT'],
    help: 'proxy port, 1-65535',
    notes: 'required with a proxy host',
    kind: 'number',
    schema: z
      .number({ error: 'expected a port number' })
      .int('expected an integer port from 1 to 65535')
      .min(1, 'expected an integer port from 1 to 65535')
      .max(65535, 'expected an integer port from 1 to 65535'),
  }),
  user: parameter({
    field: 'proxy.user',
    scope: 'connection',
    flag: ['proxy-user', 'USER'],
    markup: ['PROXYUSER'],
    help: 'proxy user name (basic auth)',
    notes: 'basic auth',
    kind: 'text',
    schema: text('a user name (printable characters)', /^[\x21-\x7e]{1,256}$/).optional(),
  }),
  passwordSecret: parameter({
    field: 'proxy.passwordSecret',
    scope: 'connection',
    flag: ['proxy-password-env', 'VAR'],
    markup: ['PROXYPWD'],
    help: 'read the proxy password from environment variable VAR',
    notes: 'a secret reference; never copied by `import-aml`',
    kind: 'secret',
    schema: secretRefSchema.optional(),
  }),
} as const;

/** Fields of a connection: a named session, or an activity's inline Host connection. */
export const CONNECTION_PARAMETERS = {
  region: parameter({
    field: 'region',
    scope: 'connection',
    flag: ['region', 'REGION'],
    markup: ['REGION'],
    help: 'signing region (needed with a non-AWS --service-url)',
    notes: 'signing region',
    kind: 'text',
    schema: text('an AWS region such as us-east-1', REGION_PATTERN).optional(),
  }),
  serviceUrl: parameter({
    field: 'serviceUrl',
    scope: 'connection',
    flag: ['service-url', 'URL'],
    markup: ['SERVICEURL'],
    help: 'e.g. email.eu-west-1.amazonaws.com or http://127.0.0.1:4566',
    notes: 'see [Service URL rules](#service-url-rules)',
    kind: 'text',
    schema: z.string({ error: 'expected a URL or host name' }).optional(),
  }),
  cloudWatchUrl: parameter({
    field: 'cloudWatchUrl',
    scope: 'connection',
    flag: ['cloudwatch-url', 'URL'],
    markup: [],
    help: 'CloudWatch endpoint for the reputation rates of an account dataset (tests, private endpoints)',
    notes:
      "the SDK's CloudWatch endpoint for the region; with a `serviceUrl` that is not an AWS host (a local endpoint), that same URL",
    kind: 'text',
    schema: z
      .string({ error: 'expected a URL such as https://monitoring.us-east-1.amazonaws.com' })
      .superRefine((value, ctx) => {
        const problem = endpointUrlProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', input: value, message: problem });
      })
      .optional(),
  }),
  credentials: parameter({
    field: 'credentials',
    scope: 'connection',
    markup: ['ACCESSKEY', 'SECRETKEY'],
    help: 'how to sign: the default credential chain or a role (`role`), a role to assume (`assumeRole`), or an access key (`keys`) with its secret in Secrets Manager or an environment variable',
    default: '{"type": "role"}',
    notes:
      'ACCESSKEY is `accessKeyId`; SECRETKEY becomes a secret reference and is never copied by `import-aml`. The CLI takes keys from the default chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`) or a config session',
    kind: 'special',
    schema: credentialsSchema.default({ type: 'role' }),
  }),
  userAgent: parameter({
    field: 'userAgent',
    scope: 'connection',
    flag: ['user-agent', 'TEXT'],
    markup: ['USERAGENT'],
    help: 'custom user agent',
    default: 'ses-stats/<version>',
    notes:
      "appended to the SDK's own user agent (the product's default was `AutoMate`); `import-aml` copies a given value as is",
    kind: 'text',
    schema: text('1-256 printable ASCII characters', PRINTABLE)
      .max(256, 'expected at most 256 characters')
      .default(DEFAULT_USER_AGENT),
  }),
  maxErrorRetry: parameter({
    field: 'maxErrorRetry',
    scope: 'connection',
    flag: ['max-error-retry', 'N'],
    markup: ['MAXERRORRETRY'],
    help: `retries after the first attempt, 0-${MAX_ERROR_RETRY_LIMIT}`,
    default: String(DEFAULT_MAX_ERROR_RETRY),
    notes: 'SDK `maxAttempts = maxErrorRetry + 1`, standard retry mode (backoff with jitter)',
    kind: 'number',
    schema: integer(0, MAX_ERROR_RETRY_LIMIT).default(DEFAULT_MAX_ERROR_RETRY),
  }),
  timeoutSeconds: parameter({
    field: 'timeoutSeconds',
    scope: 'connection',
    flag: ['timeout-seconds', 'S'],
    markup: [],
    help: `time allowed for one SES call attempt, ${MIN_TIMEOUT_SECONDS}-${MAX_TIMEOUT_SECONDS} seconds`,
    default: String(DEFAULT_TIMEOUT_SECONDS),
    notes: 'the deployed stack checks that the worst case of every retry fits the function timeout',
    kind: 'number',
    schema: between(
      MIN_TIMEOUT_SECONDS,
      MAX_TIMEOUT_SECONDS,
      `a number of seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS}`,
    ).default(DEFAULT_TIMEOUT_SECONDS),
  }),
  signatureMethod: parameter({
    field: 'signatureMethod',
    scope: 'connection',
    flag: ['sign-method', 'METHOD'],
    markup: ['SIGNMETHOD'],
    help: 'HmacSHA256 only: SES refuses HmacSHA1',
    default: DEFAULT_SIGNATURE_METHOD,
    notes: '`HmacSHA256` only',
    kind: 'text',
    upgrade: { outdated: /^hmac[-_]?sha1$/i, to: DEFAULT_SIGNATURE_METHOD, because: SES_V4_ONLY },
    schema: signatureMethodSchema.default(DEFAULT_SIGNATURE_METHOD),
  }),
  signatureVersion: parameter({
    field: 'signatureVersion',
    scope: 'connection',
    flag: ['sign-version', 'VERSION'],
    markup: ['SIGNVERSION'],
    help: '4 only: SES refuses 2 and 3',
    default: DEFAULT_SIGNATURE_VERSION,
    notes: '`4` only',
    kind: 'text',
    upgrade: { outdated: /^v?[23]$/i, to: DEFAULT_SIGNATURE_VERSION, because: SES_V4_ONLY },
    schema: signatureVersionSchema.default(DEFAULT_SIGNATURE_VERSION),
  }),
} as const;

/** Fields of an activity (besides its `name` and inline `connection`). */
export const ACTIVITY_PARAMETERS = {
  session: parameter({
    field: 'session',
    scope: 'activity',
    flag: ['session', 'NAME'],
    markup: ['SESSION'],
    help: 'session name; with --config, the session to start from',
    default: DEFAULT_SESSION,
    notes: 'names an entry of `sessions`; many activities may share one session',
    kind: 'special',
    schema: z
      .string({ error: 'expected a session name' })
      .min(1, 'expected a session name')
      .optional(),
  }),
  usageDataset: parameter({
    field: 'usageDataset',
    scope: 'activity',
    flag: ['usage-dataset', 'NAME'],
    markup: ['RESULTDATSET', 'RESULTDATASET'],
    help: 'usage dataset name',
    default: DEFAULT_USAGE_DATASET,
    notes: 'both spellings; if both are given they must agree',
    kind: 'special',
    schema: nameSchema,
  }),
  statisticsDataset: parameter({
    field: 'statisticsDataset',
    scope: 'activity',
    flag: ['statistics-dataset', 'NAME'],
    markup: ['STATISTICSDATASET'],
    help: 'statistics dataset name',
    default: DEFAULT_STATISTICS_DATASET,
    kind: 'special',
    schema: nameSchema,
  }),
  accountDataset: parameter({
    field: 'accountDataset',
    scope: 'activity',
    flag: ['account-dataset', 'NAME'],
    markup: [],
    help: 'account dataset name (SES API v2 account state and AWS reputation rates)',
    default: DEFAULT_ACCOUNT_DATASET,
    notes:
      'not part of the original activity: the default configuration and `collect` without `--config` keep it as `accountData`; in a config file an activity has one only when it names it; `import-aml` adds none',
    kind: 'special',
    schema: nameSchema,
  }),
} as const;

/** Every parameter, in the order help and docs list them. */
export const PARAMETERS: readonly Parameter[] = [
  ACTIVITY_PARAMETERS.session,
  CONNECTION_PARAMETERS.region,
  CONNECTION_PARAMETERS.serviceUrl,
  CONNECTION_PARAMETERS.cloudWatchUrl,
  CONNECTION_PARAMETERS.credentials,
  CONNECTION_PARAMETERS.userAgent,
  CONNECTION_PARAMETERS.maxErrorRetry,
  CONNECTION_PARAMETERS.timeoutSeconds,
  ...Object.values(PROXY_PARAMETERS),
  CONNECTION_PARAMETERS.signatureMethod,
  CONNECTION_PARAMETERS.signatureVersion,
  ACTIVITY_PARAMETERS.usageDataset,
  ACTIVITY_PARAMETERS.statisticsDataset,
  ACTIVITY_PARAMETERS.accountDataset,
];

type Schemas<T extends Record<string, Parameter>> = { [K in keyof T]: T[K]['schema'] };

/** The zod shape of a group of parameters, keyed by field name. */
export function schemas<T extends Record<string, Parameter>>(group: T): Schemas<T> {
  return Object.fromEntries(Object.entries(group).map(([key, p]) => [key, p.schema])) as Schemas<T>;
}

/** The parameters that have a `collect` flag. */
export const FLAGGED = PARAMETERS.filter(
  (p): p is Parameter & { flag: readonly [string, string] } => p.flag !== undefined,
);

const HELP_WIDTH = 100;
const HELP_INDENT = 31;

/** `--flag VALUE    MARKUP: help (default …)` per flagged parameter, wrapped at 100 columns. */
export function helpLines(): string {
  return FLAGGED.map((p) => {
    const [name, value] = p.flag;
    const markup = p.markup.length > 0 ? `${p.markup[0]}: ` : '';
    const fallback = p.default === undefined ? '' : ` (default ${p.default})`;
    return wrap(
      `  ${`--${name} ${value}`.padEnd(HELP_INDENT - 2)}`,
      `${markup}${p.help}${fallback}`,
    );
  }).join('\n');
}

/** `text` after `head`, broken at spaces so no line passes HELP_WIDTH; later lines indented. */
function wrap(head: string, text: string): string {
  const lines: string[] = [];
  let line = head;
  for (const [index, word] of text.split(' ').entries()) {
    if (index === 0) line = `${line}${word}`;
    else if (line.length + 1 + word.length <= HELP_WIDTH) line = `${line} ${word}`;
    else {
      lines.push(line);
      line = `${' '.repeat(HELP_INDENT)}${word}`;
    }
  }
  return [...lines, line].join('\n');
}

/** The value a flag's or attribute's text stands for, as the schema expects it. */
export function parameterValue(p: Parameter, given: string): unknown {
  if (p.kind === 'secret') return { env: given };
  if (p.kind === 'number') return /^\s*-?\d+(\.\d+)?\s*$/.test(given) ? Number(given) : given;
  return given;
}

/**
 * `record` with a `proxy.host`-style field set to `value`; the records along the path are copied,
 * not changed, and a missing step becomes a new object. A step that holds something other than
 * an object is left as it is (and `value` dropped), so the schema reports it under its own path.
 */
export function withField(
  record: Readonly<Record<string, unknown>>,
  field: string,
  value: unknown,
): Record<string, unknown> {
  const [head = '', ...rest] = field.split('.');
  if (rest.length === 0) return { ...record, [head]: value };
  const inner = record[head] ?? {};
  if (!isRecord(inner)) return { ...record };
  return { ...record, [head]: withField(inner, rest.join('.'), value) };
}

/** The value at a `proxy.host`-style field of `record`, if any. */
export function fieldAt(record: unknown, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), record);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The flagged parameter whose field is `path` or holds it (`proxy.passwordSecret.env`). */
export function flaggedParameterAt(path: string): (typeof FLAGGED)[number] | undefined {
  return FLAGGED.find((p) => path === p.field || path.startsWith(`${p.field}.`));
}

/** Rows of the docs table that are structure, not parameters. */
const STRUCTURE_ROWS = [
  [
    '`Connection` = Host',
    'activity `connection` (inline)',
    'the flags describe one connection',
    '',
    '`import-aml`: a step without `SESSION` and without `PROVIDER="session_based"`',
  ],
  [
    '`Connection` = Session, `PROVIDER="session_based"`',
    '`sessions.<name>`',
    '`--session NAME`',
    '',
    'a named connection, shared by the activities that name it',
  ],
] as const;

/** The docs table of the parameters (markdown, no trailing newline); docs/configuration.md holds it. */
export function parameterTable(): string {
  const code = (s: string) => `\`${s}\``;
  const rows = [
    ...STRUCTURE_ROWS,
    ...PARAMETERS.map((p) => [
      p.markup.length > 0 ? p.markup.map(code).join(' / ') : '_(none)_',
      code(p.field),
      p.flag === undefined ? 'none' : code(`--${p.flag[0]} ${p.flag[1]}`),
      p.default === undefined ? '' : code(p.default),
      p.notes ?? p.help,
    ]),
  ];
  const header = ['markup attribute', 'config field', '`collect` flag', 'default', 'notes'];
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
