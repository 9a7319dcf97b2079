import { createSecretReader, redact } from '../adapters/secrets.ts';
import { powertoolsSecretsManager } from '../adapters/secrets-manager.ts';
import { sourcesFor } from '../adapters/ses-statistics-source.ts';
import { systemClock } from '../adapters/system-clock.ts';
import { DEFAULT_SESSION } from '../config/defaults.ts';
import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { readJsonFile } from '../config/file.ts';
import { describe, maskSecrets } from '../config/masking.ts';
import { type Config, type ConfigInput, DEFAULT_CONFIG, parseConfig } from '../config/schema.ts';
import { collectAll } from '../core/activity.ts';
import { STATISTICS_COLUMNS, USAGE_COLUMNS } from '../core/datasets.ts';
import { ConfigError, type Problem, problemText, UsageError } from '../core/errors.ts';
import type { ActivityResult } from '../core/results.ts';
import { numeric, parseFlags } from './args.ts';
import { EXIT_FAILED, EXIT_OK, type Io } from './io.ts';
import { formatOf, formatTables, type Table } from './output.ts';
import {
  type OpenStore,
  openStore,
  STORE_FLAGS,
  STORE_HELP,
  storeChoice,
} from './store-options.ts';

const HELP = `Usage: ses-stats collect [options]

Runs the email statistics activity (SES GetSendQuota + GetSendStatistics) for every activity in
--config (default: one activity on the default credential chain and region, datasets usageData
and statsData), or for one activity given by the flags below, and prints both datasets.

Options:
  --config FILE                a ses-stats JSON config (see README, "Configuration")
  --format table|json|csv      output format (default: table on a terminal, json otherwise)
  --no-store                   print only, do not store
  --verbose                    stack traces with errors

One activity from flags (each maps to an AMAWSSES attribute; flags override a --config session):
  --session NAME               SESSION: session name; with --config, the session to start from
  --region REGION              signing region (needed with a non-AWS --service-url)
  --service-url URL            SERVICEURL: e.g. email.eu-west-1.amazonaws.com or http://127.0.0.1:4566
  --user-agent TEXT            USERAGENT (default ses-stats/<version>)
  --max-error-retry N          MAXERRORRETRY: retries after the first attempt, 0-10 (default 2)
  --proxy-host HOST            PROXYHOST
  --proxy-port PORT            PROXYPORT
  --proxy-user USER            PROXYUSER
  --proxy-password-env VAR     PROXYPWD: read the proxy password from environment variable VAR
  --sign-method METHOD         SIGNMETHOD: HmacSHA256 (SES refuses HmacSHA1)
  --sign-version VERSION       SIGNVERSION: 4 (SES refuses 2 and 3)
  --usage-dataset NAME         RESULTDATSET: usage dataset name (default usageData)
  --statistics-dataset NAME    STATISTICSDATASET: statistics dataset name (default statsData)

${STORE_HELP}
Credentials come from the default AWS chain unless the config says otherwise.
Exit codes: 0 ok, 1 a source failed, 2 usage or configuration error.
`;

const FLAGS = {
  config: { type: 'string' },
  format: { type: 'string' },
  'no-store': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  session: { type: 'string' },
  region: { type: 'string' },
  'service-url': { type: 'string' },
  'user-agent': { type: 'string' },
  'max-error-retry': { type: 'string' },
  'proxy-host': { type: 'string' },
  'proxy-port': { type: 'string' },
  'proxy-user': { type: 'string' },
  'proxy-password-env': { type: 'string' },
  'sign-method': { type: 'string' },
  'sign-version': { type: 'string' },
  'usage-dataset': { type: 'string' },
  'statistics-dataset': { type: 'string' },
  ...STORE_FLAGS,
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

/** Config field path (inside a session or activity) → the flag that sets it. */
const FIELD_FLAGS: Readonly<Record<string, keyof typeof FLAGS>> = {
  region: 'region',
  serviceUrl: 'service-url',
  userAgent: 'user-agent',
  maxErrorRetry: 'max-error-retry',
  'proxy.host': 'proxy-host',
  'proxy.port': 'proxy-port',
  'proxy.user': 'proxy-user',
  'proxy.passwordSecret.env': 'proxy-password-env',
  signatureMethod: 'sign-method',
  signatureVersion: 'sign-version',
  usageDataset: 'usage-dataset',
  statisticsDataset: 'statistics-dataset',
};

export async function collectCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseFlags('collect', args, FLAGS);
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const storeFlags = Object.keys(STORE_FLAGS).filter(
    (flag) => values[flag as keyof typeof STORE_FLAGS] !== undefined,
  );
  if (values['no-store'] && storeFlags.length > 0)
    throw new UsageError(
      `--no-store: cannot be combined with ${storeFlags.map((f) => `--${f}`).join(', ')} (store flags)`,
    );
  // Every flag is checked before a store or SES is touched.
  checkStoreFlags(values, io.cwd);
  const format = formatOf(values.format, io.stdout);
  const config = loadConfig(values, io.cwd);
  const secrets = createSecretReader({ env: io.env, secretsManager: powertoolsSecretsManager });
  const runs = sourcesFor(config.activities, { secrets });
  const target: OpenStore | undefined = values['no-store']
    ? undefined
    : await openStore(values, io.cwd, io);
  const progress = io.stderr.isTTY === true && runs.length > 1;
  try {
    const outcome = await collectAll(runs, {
      clock: systemClock,
      store: target?.store,
      onProgress: progress
        ? (done, total) =>
            io.stderr.write(`\rcollected ${done}/${total} activities${done === total ? '\n' : ''}`)
        : undefined,
    });
    io.stdout.write(formatTables(outcome.results.flatMap(tablesOf), format));
    for (const result of outcome.results) reportStored(result, target?.where ?? '', io);
    for (const failure of outcome.failures) {
      io.stderr.write(`error: ${redact(failure.message)}\n`);
      if (values.verbose && failure.cause instanceof Error)
        io.stderr.write(`${redact(String(failure.cause.stack))}\n`);
    }
    return outcome.failures.length > 0 ? EXIT_FAILED : EXIT_OK;
  } finally {
    for (const run of runs) run.source.destroy();
    await target?.close();
  }
}

function reportStored(result: ActivityResult, where: string, io: Io): void {
  const s = result.stored;
  if (s === undefined) return;
  const skipped = s.pointsSkipped > 0 ? `, ${s.pointsSkipped} points left to a newer fetch` : '';
  io.stderr.write(
    `stored ${result.statistics.name}: ${s.pointsWritten} points, ${s.hourlyWritten} hourly and ${s.dailyWritten} daily rollups written${skipped} (${where})\n`,
  );
  for (const gap of s.newGaps) {
    io.stderr.write(
      `warning: ${result.statistics.name}: no data from ${gap.from} to ${gap.to}: more than 14 days passed since the last collection and SES no longer has it\n`,
    );
  }
}

function tablesOf(result: ActivityResult): Table[] {
  return [
    {
      name: result.usage.name,
      columns: USAGE_COLUMNS,
      rows: result.usage.rows as unknown as Table['rows'],
    },
    {
      name: result.statistics.name,
      columns: STATISTICS_COLUMNS,
      rows: result.statistics.rows as unknown as Table['rows'],
    },
  ];
}

const ACTIVITY_FLAGS = Object.values(FIELD_FLAGS).concat('session');

function loadConfig(values: Values, cwd: string): Config {
  const file = values.config === undefined ? undefined : readConfigFile(values.config, cwd);
  const fromFlags = ACTIVITY_FLAGS.some((flag) => values[flag] !== undefined);
  if (!fromFlags) return parseConfig(file ?? DEFAULT_CONFIG);
  const session = values.session ?? DEFAULT_SESSION;
  if (!NAME_PATTERN.test(session))
    throw new UsageError(`--session: received ${describe(session)}; expected ${NAME_RULE}`);
  const base = sessionOf(file, session);
  const input: ConfigInput = {
    sessions: { [session]: { ...base, ...connectionFlags(values, base) } },
    activities: [
      {
        session,
        usageDataset: values['usage-dataset'] ?? 'usageData',
        statisticsDataset: values['statistics-dataset'] ?? 'statsData',
      },
    ],
  };
  try {
    return parseConfig(input);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.problems.map((p) => toFlagProblem(p, session, values, base)));
  }
}

/** The store flags checked without opening anything; a password in --dynamodb-endpoint is not echoed. */
function checkStoreFlags(values: Values, cwd: string): void {
  if (values['no-store']) return;
  try {
    storeChoice(values, cwd);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(maskSecrets(error.message));
    throw error;
  }
}

function readConfigFile(path: string, cwd: string): unknown {
  try {
    return readJsonFile(path, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.problems.map((p) => ({ path: '--config', message: problemText(p) })),
    );
  }
}

/** The config file's session `name` (own properties only: "constructor" is not a session). */
function sessionOf(file: unknown, name: string): Record<string, unknown> {
  if (file === undefined) return {};
  const sessions = isRecord(file) && Object.hasOwn(file, 'sessions') ? file.sessions : undefined;
  const known = isRecord(sessions) ? sessions : {};
  if (!Object.hasOwn(known, name))
    throw new UsageError(
      `--session: received ${describe(name)}; the config file has no such session (it has: ${Object.keys(known).map(describe).join(', ') || 'none'})`,
    );
  const session = known[name];
  if (!isRecord(session))
    throw new ConfigError([
      { path: `sessions.${name}`, message: `received ${describe(session)}; expected an object` },
    ]);
  return session;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function connectionFlags(v: Values, base: Record<string, unknown>): Record<string, unknown> {
  const proxyGiven = [
    v['proxy-host'],
    v['proxy-port'],
    v['proxy-user'],
    v['proxy-password-env'],
  ].some((x) => x !== undefined);
  const baseProxy = (base.proxy ?? {}) as Record<string, unknown>;
  const fields: Record<string, unknown> = {
    region: v.region,
    serviceUrl: v['service-url'],
    userAgent: v['user-agent'],
    maxErrorRetry: numeric(v['max-error-retry']),
    signatureMethod: v['sign-method'],
    signatureVersion: v['sign-version'],
    proxy: proxyGiven
      ? {
          ...baseProxy,
          ...defined({
            host: v['proxy-host'],
            port: numeric(v['proxy-port']),
            user: v['proxy-user'],
            passwordSecret:
              v['proxy-password-env'] === undefined ? undefined : { env: v['proxy-password-env'] },
          }),
        }
      : undefined,
  };
  return defined(fields);
}

function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** `sessions.S.maxErrorRetry` → `--max-error-retry`, unless the value came from the config file. */
function toFlagProblem(
  problem: Problem,
  session: string,
  values: Values,
  base: Record<string, unknown>,
): Problem {
  if (problem.path === 'sessions' || problem.path === `sessions.${session}`)
    return { ...problem, path: '--session' };
  const field = [`sessions.${session}.`, 'activities[0].']
    .filter((prefix) => problem.path.startsWith(prefix))
    .map((prefix) => problem.path.slice(prefix.length))[0];
  const flag = field === undefined ? undefined : FIELD_FLAGS[field];
  if (field === undefined || flag === undefined) return problem;
  const fromFile =
    field
      .split('.')
      .reduce<unknown>(
        (node, key) => (node as Record<string, unknown> | undefined)?.[key],
        base,
      ) !== undefined;
  return values[flag] !== undefined || !fromFile ? { ...problem, path: `--${flag}` } : problem;
}
