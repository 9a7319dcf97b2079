import { createSecretReader, redact } from '../adapters/secrets.ts';
import { powertoolsSecretsManager } from '../adapters/secrets-manager.ts';
import { sourcesFor } from '../adapters/ses-statistics-source.ts';
import { systemClock } from '../adapters/system-clock.ts';
import {
  DEFAULT_SESSION,
  DEFAULT_STATISTICS_DATASET,
  DEFAULT_USAGE_DATASET,
} from '../config/defaults.ts';
import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { readJsonFile } from '../config/file.ts';
import { describe, maskSecrets } from '../config/masking.ts';
import {
  ACTIVITY_PARAMETERS,
  FLAGGED,
  fieldAt,
  flaggedParameterAt,
  helpLines,
  parameterValue,
  withField,
} from '../config/parameters.ts';
import { type Config, type ConfigInput, DEFAULT_CONFIG, parseConfig } from '../config/schema.ts';
import { collectAll } from '../core/activity.ts';
import { STATISTICS_COLUMNS, USAGE_COLUMNS } from '../core/datasets.ts';
import { ConfigError, type Problem, problemText, UsageError } from '../core/errors.ts';
import type { ActivityResult } from '../core/results.ts';
import { parseFlags } from './args.ts';
import { EXIT_FAILED, EXIT_OK, type Io } from './io.ts';
import { formatOf, formatTables, type Table } from './output.ts';
import {
  type OpenStore,
  openStore,
  STORE_FLAGS,
  STORE_HELP,
  type StoreSpec,
  storeChoice,
} from './store-options.ts';

const HELP = `Usage: ses-stats collect [options]

Runs the email statistics activity (SES GetSendQuota + GetSendStatistics) for every activity in
--config (default: one activity on the default credential chain and region, datasets usageData
and statsData), or for one activity given by the flags below, and prints both datasets.

Options:
  --config FILE                a ses-stats JSON config (see docs/configuration.md)
  --format table|json|csv      output format (default: table on a terminal, json otherwise)
  --no-store                   print only, do not store
  --verbose                    stack traces with errors

One activity from flags (most map to an AMAWSSES attribute; flags override a --config session):
${helpLines()}

${STORE_HELP}
Credentials come from the default AWS chain unless the config says otherwise.
Exit codes: 0 ok, 1 a source failed, 2 usage or configuration error.
`;

/** One string flag per flagged parameter record (`--max-error-retry`, `--proxy-host`, …). */
const PARAMETER_FLAGS: Readonly<Record<string, { readonly type: 'string' }>> = Object.fromEntries(
  FLAGGED.map((p) => [p.flag[0], { type: 'string' }]),
);

const FLAGS = {
  config: { type: 'string' },
  format: { type: 'string' },
  'no-store': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...PARAMETER_FLAGS,
  ...STORE_FLAGS,
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

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
  const spec = checkStoreFlags(values, io);
  const format = formatOf(values.format, io.stdout);
  const config = loadConfig(values, io.cwd);
  const secrets = createSecretReader({ env: io.env, secretsManager: powertoolsSecretsManager });
  const runs = sourcesFor(config.activities, { secrets });
  const target: OpenStore | undefined =
    spec === undefined ? undefined : await openStore(spec, { readOnly: false, io });
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

function loadConfig(values: Values, cwd: string): Config {
  const file = values.config === undefined ? undefined : readConfigFile(values.config, cwd);
  const given = FLAGGED.filter((p) => flagText(values, p.flag[0]) !== undefined);
  if (given.length === 0) return parseConfig(file ?? DEFAULT_CONFIG);
  const session = flagText(values, 'session') ?? DEFAULT_SESSION;
  if (!NAME_PATTERN.test(session))
    throw new UsageError(`--session: received ${describe(session)}; expected ${NAME_RULE}`);
  const base = sessionOf(file, session);
  let connection: Record<string, unknown> = base;
  let activity: Record<string, unknown> = {
    session,
    usageDataset: DEFAULT_USAGE_DATASET,
    statisticsDataset: DEFAULT_STATISTICS_DATASET,
  };
  for (const p of given) {
    if (p === ACTIVITY_PARAMETERS.session) continue;
    const value = parameterValue(p, flagText(values, p.flag[0]) ?? '');
    if (p.scope === 'connection') connection = withField(connection, p.field, value);
    else activity = withField(activity, p.field, value);
  }
  const input = { sessions: { [session]: connection }, activities: [activity] } as ConfigInput;
  try {
    return parseConfig(input);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.problems.map((p) => toFlagProblem(p, session, values, base)));
  }
}

/** The text of a flag given on the command line (the parameter flags are all strings). */
function flagText(values: Values, name: string): string | undefined {
  const given = (values as Readonly<Record<string, unknown>>)[name];
  return typeof given === 'string' ? given : undefined;
}

/** The store flags checked without opening anything; a password in --dynamodb-endpoint is not echoed. */
function checkStoreFlags(values: Values, io: Io): StoreSpec | undefined {
  if (values['no-store']) return undefined;
  try {
    return storeChoice(values, io);
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

/**
 * `sessions.S.maxErrorRetry` → `--max-error-retry`, unless the value came from the config file;
 * a problem with the session itself is `--session`'s when the flags made it (no --config).
 */
function toFlagProblem(
  problem: Problem,
  session: string,
  values: Values,
  base: Record<string, unknown>,
): Problem {
  if (
    problem.path === 'sessions' ||
    (problem.path === `sessions.${session}` && values.config === undefined)
  )
    return { ...problem, path: '--session' };
  const field = [`sessions.${session}.`, 'activities[0].']
    .filter((prefix) => problem.path.startsWith(prefix))
    .map((prefix) => problem.path.slice(prefix.length))[0];
  const parameter = field === undefined ? undefined : flaggedParameterAt(field);
  if (field === undefined || parameter === undefined) return problem;
  const flag = parameter.flag[0];
  const fromFile = fieldAt(base, field) !== undefined;
  return flagText(values, flag) !== undefined || !fromFile
    ? { ...problem, path: `--${flag}` }
    : problem;
}
