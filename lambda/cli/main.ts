import { redact } from '../adapters/secrets.ts';
import { ConfigError } from '../config/errors.ts';
import { QueryError } from '../core/query.ts';
import { UnknownDatasetError } from '../core/store.ts';
import { UsageError } from './args.ts';
import { collectCommand } from './collect-command.ts';
import { importAmlCommand } from './import-aml-command.ts';
import { datasetsCommand, queryCommand, summaryCommand } from './read-commands.ts';

/** Where the CLI writes and what it reads from its environment. */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const COMMANDS: Readonly<Record<string, (args: string[], io: Io) => Promise<number>>> = {
  collect: collectCommand,
  query: queryCommand,
  datasets: datasetsCommand,
  summary: summaryCommand,
  'import-aml': importAmlCommand,
};

const USAGE = `Usage: ses-stats <command> [options]

Commands:
  collect      run the email statistics activity (GetSendQuota + GetSendStatistics) and print both datasets
  query        print a stored dataset's rows (raw 15-minute points, hourly or daily rollups, snapshots)
  datasets     list the stored datasets with their coverage and gaps
  summary      totals and window rates of a statistics dataset, or quota use of a usage dataset
  import-aml   turn <AMAWSSES .../> steps of a task file into a ses-stats config

Run "ses-stats <command> --help" for a command's options.
Exit codes: 0 ok, 1 a source or the run failed, 2 usage or configuration error.
`;

/** The ses-stats command; returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    io.stderr.write(
      `ses-stats: unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`,
    );
    return EXIT_USAGE;
  }
  try {
    return await run(args, io);
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof QueryError ||
      error instanceof UnknownDatasetError;
    // Query parameters are flags here.
    const message = error instanceof QueryError ? `--${error.message}` : (error as Error).message;
    io.stderr.write(`ses-stats ${command}: ${redact(message)}\n`);
    if (!usage && args.includes('--verbose'))
      io.stderr.write(`${redact(String((error as Error).stack))}\n`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}
