import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSecretReader, redact } from '../adapters/secrets.ts';
import { powertoolsSecretsManager } from '../adapters/secrets-manager.ts';
import { sourcesFor } from '../adapters/ses-statistics-source.ts';
import { systemClock } from '../adapters/system-clock.ts';
import {
  DEFAULT_ACCOUNT_DATASET,
  DEFAULT_SESSION,
  DEFAULT_STATISTICS_DATASET,
  DEFAULT_USAGE_DATASET,
  MAX_CONCURRENCY,
} from '../config/defaults.ts';
import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { readJsonFile, shownPath } from '../config/file.ts';
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
import { oneOf, parseFlags, wholeNumberFlag } from './args.ts';
import { EXIT_FAILED, EXIT_OK, type Io } from './io.ts';
import {
  accountTables,
  csvOnlyOne,
  datasetFileText,
  type Format,
  formatOf,
  OUT_FORMATS,
  type OutFormat,
  type Table,
  TableStream,
  writeFileAtomically,
} from './output.ts';
import {
  type OpenStore,
  openStore,
  STORE_FLAGS,
  STORE_HELP,
  type StoreSpec,
  shown,
  storeChoice,
} from './store-options.ts';

const HELP = `Usage: ses-stats collect [options]

Runs the email statistics activity (SES GetSendQuota + GetSendStatistics) for every activity in
--config (default: one activity on the default credential chain and region, datasets usageData
and statsData, and the account dataset accountData: SES API v2 GetAccount and CloudWatch's
hourly Reputation.BounceRate / ComplaintRate), or for one activity given by the flags below, and
prints its datasets (an account dataset as two tables: NAME, the account state, and
NAME.reputation, the reputation hours).

Options:
  --config FILE                a ses-stats JSON config (see docs/configuration.md)
  --format table|json          output format (default: table on a terminal, json otherwise); for
                               CSV use --out (CSV holds one table, collect prints up to four
                               tables per activity)
  --out DIR                    write each dataset to DIR/<dataset>.<ext> instead of stdout (DIR is
                               created if missing; each file is replaced whole)
  --out-format csv|json|ndjson with --out: the files' format (default: csv)
  --no-store                   print only, do not store
  --no-account-dataset         leave the account datasets out (no GetAccount or GetMetricData:
                               for credentials allowed only the two SES actions)
  --concurrency N              sources collected at once, 1-256 (default: the config's
                               concurrency, 32); sources on one account and region still
                               call SES at most once per second per action
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
  out: { type: 'string' },
  'out-format': { type: 'string' },
  'no-store': { type: 'boolean' },
  'no-account-dataset': { type: 'boolean' },
  concurrency: { type: 'string' },
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
  const output = outputOf(values, io);
  const concurrency = wholeNumberFlag('--concurrency', values.concurrency, {
    min: 1,
    max: MAX_CONCURRENCY,
    what: 'sources collected at once',
  });
  if (values['no-account-dataset'] && flagText(values, 'account-dataset') !== undefined)
    throw new UsageError(
      '--no-account-dataset: cannot be combined with --account-dataset (which names the dataset it leaves out)',
    );
  const config = withoutAccounts(loadConfig(values, io.cwd), values['no-account-dataset'] === true);
  const secrets = createSecretReader({ env: io.env, secretsManager: powertoolsSecretsManager });
  const runs = sourcesFor(config.activities, { secrets });
  const target: OpenStore | undefined =
    spec === undefined ? undefined : await openStore(spec, { readOnly: false, io });
  const progress = io.stderr.isTTY === true && runs.length > 1;
  const stream = output.kind === 'stdout' ? new TableStream(output.format) : undefined;
  let written = true;
  try {
    const outcome = await collectAll(runs, {
      clock: systemClock,
      store: target?.store,
      concurrency: concurrency ?? config.concurrency,
      // Each activity's datasets are written as they arrive (completion order) and then dropped.
      onResult: async (result) => {
        const tables = tablesOf(result);
        if (stream !== undefined)
          for (const table of tables) await writeOut(io.stdout, stream.next(table));
        else if (output.kind === 'files') written = writeFiles(tables, output, io) && written;
        reportStored(result, target?.where ?? '', io);
      },
      onProgress: progress
        ? (done, total) =>
            io.stderr.write(`\rcollected ${done}/${total} activities${done === total ? '\n' : ''}`)
        : undefined,
    });
    if (stream !== undefined) await writeOut(io.stdout, stream.end());
    for (const failure of outcome.failures) {
      io.stderr.write(`error: ${redact(failure.message)}\n`);
      if (values.verbose && failure.cause instanceof Error)
        io.stderr.write(`${redact(String(failure.cause.stack))}\n`);
    }
    return outcome.failures.length > 0 || !written ? EXIT_FAILED : EXIT_OK;
  } finally {
    for (const run of runs) run.source.destroy();
    await target?.close();
  }
}

/** The one wait for `drain` of each stream: sources finishing at once share it. */
const draining = new WeakMap<object, Promise<void>>();

/**
 * Writes `text` and, when the stream's buffer is full (a slow reader of the pipe), waits for it
 * to drain: the collector holds no more output than one activity's per source running.
 */
async function writeOut(stream: Io['stdout'], text: string): Promise<void> {
  if (text === '' || stream.write(text) !== false) return;
  const { once } = stream;
  if (once === undefined) return;
  let drained = draining.get(stream);
  if (drained === undefined) {
    drained = new Promise<void>((resolve) => once.call(stream, 'drain', resolve)).finally(() =>
      draining.delete(stream),
    );
    draining.set(stream, drained);
  }
  await drained;
}

/** Where the datasets go: stdout in a --format, or one file each in --out. */
type Output =
  | { readonly kind: 'stdout'; readonly format: Exclude<Format, 'csv'> }
  | {
      readonly kind: 'files';
      readonly dir: string;
      readonly given: string;
      readonly format: OutFormat;
    };

/** --format, --out and --out-format checked together, touching nothing. */
function outputOf(values: Values, io: Io): Output {
  const out = values.out;
  if (out === undefined) {
    if (values['out-format'] !== undefined)
      throw new UsageError(
        '--out-format: applies to the files of --out DIR, and --out is not given',
      );
    const format = formatOf(values.format, io.stdout);
    if (format === 'csv')
      throw csvOnlyOne(
        'collect',
        'two or three datasets per activity (usage, statistics, account)',
        'use --out DIR --out-format csv (one file per dataset) or --format json',
      );
    return { kind: 'stdout', format };
  }
  if (values.format !== undefined)
    throw new UsageError(
      '--format: cannot be combined with --out (the datasets go to files; --out-format chooses their format)',
    );
  if (out === '' || out.includes('\0'))
    throw new UsageError(`--out: received ${shown(out)}; expected a directory path`);
  const dir = resolve(io.cwd, out);
  let isFile = false;
  try {
    isFile = !statSync(dir).isDirectory();
  } catch {
    // Missing: created when the first file is written.
  }
  if (isFile) throw new UsageError(`--out: ${shownPath(out)} is a file, not a directory`);
  const format = oneOf('--out-format', values['out-format'], OUT_FORMATS, 'csv');
  return { kind: 'files', dir, given: out, format };
}

/**
 * Each dataset to `DIR/<dataset>.<ext>`, replaced whole, and a `wrote` line on stderr (stdout
 * stays empty); a file that cannot be written is an error line. False when one failed.
 */
function writeFiles(
  tables: readonly Table[],
  output: Extract<Output, { kind: 'files' }>,
  io: Io,
): boolean {
  let ok = true;
  for (const table of tables) {
    const file = `${table.name}.${output.format}`;
    const path = shownPath(join(output.given, file));
    try {
      mkdirSync(output.dir, { recursive: true });
      writeFileAtomically(join(output.dir, file), datasetFileText(table, output.format));
      const rows = table.rows.length;
      io.stderr.write(`wrote ${path} (${rows} ${rows === 1 ? 'row' : 'rows'})\n`);
    } catch (error) {
      ok = false;
      io.stderr.write(`error: --out: cannot write ${path} (${reason(error)})\n`);
    }
  }
  return ok;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'not found' : (code ?? String(error));
}

function reportStored(result: ActivityResult, where: string, io: Io): void {
  const s = result.stored;
  if (s === undefined) return;
  const skipped = s.pointsSkipped > 0 ? `, ${s.pointsSkipped} points left to a newer fetch` : '';
  io.stderr.write(
    `stored ${result.statistics.name}: ${s.pointsWritten} points, ${s.hourlyWritten} hourly and ${s.dailyWritten} daily rollups written${skipped} (${where})\n`,
  );
  const a = result.accountStored;
  if (a !== undefined && result.account !== undefined) {
    const state = result.account.rows[0];
    const change =
      state === undefined
        ? 'no state fetched'
        : a.changed
          ? a.previous === undefined
            ? `first state ${state.EnforcementStatus}`
            : `state changed from ${a.previous.EnforcementStatus} to ${state.EnforcementStatus}`
          : `state ${state.EnforcementStatus} unchanged since ${a.lastChange ?? state.FirstSeen}`;
    const sandbox = state?.ProductionAccessEnabled === false ? ', in the sandbox' : '';
    const sending = state?.SendingEnabled === false ? ', sending disabled' : '';
    const left = a.reputationSkipped > 0 ? `, ${a.reputationSkipped} left to a newer fetch` : '';
    io.stderr.write(
      `stored ${result.account.name}: ${change}${sending}${sandbox}; ${a.reputationWritten} reputation ${a.reputationWritten === 1 ? 'hour' : 'hours'} written${left} (${where})\n`,
    );
  }
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
    ...(result.account === undefined ? [] : accountTables(result.account)),
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
  // A session of accounts × regions names its datasets from templates unless the flags do.
  const expands = base.regions !== undefined || base.accounts !== undefined;
  let activity: Record<string, unknown> = expands
    ? { session }
    : {
        session,
        usageDataset: DEFAULT_USAGE_DATASET,
        statisticsDataset: DEFAULT_STATISTICS_DATASET,
        accountDataset: DEFAULT_ACCOUNT_DATASET,
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

/** The config with no account dataset anywhere, when `--no-account-dataset` says so. */
function withoutAccounts(config: Config, drop: boolean): Config {
  if (!drop) return config;
  return {
    ...config,
    activities: config.activities.map(({ accountDataset: _, ...activity }) => activity),
  };
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
