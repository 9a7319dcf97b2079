import {
  killAllEmbeddedDynamoDbNow,
  stopAllEmbeddedDynamoDb,
} from '../adapters/embedded-dynamodb.ts';
import { redact } from '../adapters/secrets.ts';
import { maskSecrets } from '../config/masking.ts';
import { QueryError, UserError } from '../core/errors.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_SIGNAL, EXIT_USAGE, type Io } from './io.ts';

type Command = (args: string[], io: Io) => Promise<number>;

/** Each command's module loads only when it runs: `--help` or a refusal never loads an SDK client. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  collect: async () => (await import('./collect-command.ts')).collectCommand,
  query: async () => (await import('./read-commands.ts')).queryCommand,
  datasets: async () => (await import('./read-commands.ts')).datasetsCommand,
  summary: async () => (await import('./read-commands.ts')).summaryCommand,
  'import-aml': async () => (await import('./import-aml-command.ts')).importAmlCommand,
};

const USAGE = `Usage: ses-stats <command> [options]

Commands:
  collect      run the email statistics activity (GetSendQuota + GetSendStatistics) and print both datasets
  query        print a stored dataset's rows (raw 15-minute points, hourly or daily rollups, snapshots)
  datasets     list the stored datasets with their coverage and gaps
  summary      totals and window rates of a statistics dataset, or quota use of a usage dataset
  import-aml   turn <AMAWSSES .../> steps of a task file into a ses-stats config

Run "ses-stats <command> --help" for a command's options.
Exit codes: 0 ok, 1 a source or the run failed, 2 usage or configuration error,
130/143 stopped by SIGINT/SIGTERM (after stopping the embedded DynamoDB Local).
`;

/** The ses-stats command; returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const load = COMMANDS[command];
  if (load === undefined) {
    io.stderr.write(
      `ses-stats: unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`,
    );
    return EXIT_USAGE;
  }
  try {
    return await (await load())(args, io);
  } catch (error) {
    const usage = error instanceof UserError;
    // Query parameters are flags here.
    const text = error instanceof Error ? error.message : String(error);
    const message = error instanceof QueryError ? `--${text}` : text;
    // A refusal echoes the value received, which may be a pasted secret; any line is masked.
    io.stderr.write(`ses-stats ${command}: ${redact(maskSecrets(message))}\n`);
    if (!usage && args.includes('--verbose') && error instanceof Error)
      io.stderr.write(`${redact(String(error.stack))}\n`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}

/**
 * On SIGINT or SIGTERM: stops every DynamoDB Local this process started (and releases the local
 * store's lock), says so, and returns the exit code to end with. The binary installs it.
 */
export async function stopForSignal(signal: keyof typeof EXIT_SIGNAL, io: Io): Promise<number> {
  const stopped = await stopAllEmbeddedDynamoDb();
  io.stderr.write(
    `ses-stats: stopped by ${signal}${stopped > 0 ? '; the embedded DynamoDB Local was stopped' : ''}\n`,
  );
  return EXIT_SIGNAL[signal];
}

/** At exit, whatever the reason: no DynamoDB Local outlives the CLI, no lock stays held. */
export function stopAtExit(): void {
  killAllEmbeddedDynamoDbNow();
}
