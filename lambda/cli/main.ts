import pkg from '../../package.json' with { type: 'json' };
import {
  killAllEmbeddedDynamoDbNow,
  stopAllEmbeddedDynamoDb,
} from '../adapters/embedded-dynamodb.ts';
import { redact } from '../adapters/secrets.ts';
import { describe, maskSecrets } from '../config/masking.ts';
import { QueryError, UserError } from '../core/errors.ts';
import { closest } from './args.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_SIGNAL, EXIT_USAGE, type Io } from './io.ts';

type Command = (args: string[], io: Io) => Promise<number>;

/**
 * Every command: its line in the usage text and its module, which loads only when the command
 * runs: `--help` or a refusal never loads an SDK client.
 */
const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  collect: {
    summary:
      'run the email statistics activity and print its usage, statistics and account datasets',
    load: async () => (await import('./collect-command.ts')).collectCommand,
  },
  query: {
    summary:
      "print a stored dataset's rows (points, rollups, snapshots, account states or reputation)",
    load: async () => (await import('./read-commands.ts')).queryCommand,
  },
  datasets: {
    summary: 'list the stored datasets with their coverage and gaps',
    load: async () => (await import('./read-commands.ts')).datasetsCommand,
  },
  summary: {
    summary:
      'totals and rates (statistics), quota use (usage), account state and reputation (account)',
    load: async () => (await import('./read-commands.ts')).summaryCommand,
  },
  check: {
    summary: 'exit 1 with a one-line reason when a rate or the quota use crosses a threshold',
    load: async () => (await import('./check-command.ts')).checkCommand,
  },
  serve: {
    summary: 'serve the read API, a web dashboard and /metrics on 127.0.0.1',
    load: async () => (await import('./serve-command.ts')).serveCommand,
  },
  copy: {
    summary: 'copy stored history between stores (local, a table), writing only what differs',
    load: async () => (await import('./copy-command.ts')).copyCommand,
  },
  'import-aml': {
    summary: 'turn <AMAWSSES .../> steps of a task file into a ses-stats config',
    load: async () => (await import('./import-aml-command.ts')).importAmlCommand,
  },
};

const NAMES = Object.keys(COMMANDS);
const WIDTH = Math.max(...NAMES.map((name) => name.length)) + 3;

const USAGE = `Usage: ses-stats <command> [options]

Commands:
${NAMES.map((name) => `  ${name.padEnd(WIDTH)}${COMMANDS[name]?.summary}\n`).join('')}
Run "ses-stats <command> --help" or "ses-stats help <command>" for a command's options;
"ses-stats --version" prints the version.
Exit codes: 0 ok, 1 a source or the run failed, 2 usage or configuration error,
130/143 stopped by SIGINT/SIGTERM.
`;

const TOP_FLAGS = ['--help', '--version'];

/** The ses-stats command; returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) {
    io.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  if (command === '--version' || command === '-V') {
    io.stdout.write(`ses-stats ${pkg.version}\n`);
    return EXIT_OK;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const [topic] = args;
    if (command !== 'help' || topic === undefined || topic === 'help') {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    return run(topic, ['--help'], io);
  }
  return run(command, args, io);
}

async function run(command: string, args: string[], io: Io): Promise<number> {
  const load = COMMANDS[command]?.load;
  if (load === undefined) {
    io.stderr.write(`ses-stats: ${unknown(command)}\n`);
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

/** One line (`describe` quotes, masks and shortens what was typed), with a near name if any. */
function unknown(typed: string): string {
  const option = typed.startsWith('-');
  const near = closest(typed, option ? TOP_FLAGS : NAMES);
  const what = `unknown ${option ? 'option' : 'command'} ${redact(describe(typed))}`;
  if (near !== undefined) return `${what}; did you mean "${near}"?`;
  const commands = `${what}; commands: ${NAMES.join(', ')}`;
  return option ? `${commands}; options: ${TOP_FLAGS.join(', ')}` : commands;
}

/**
 * On SIGINT or SIGTERM: stops every DynamoDB Local this process started (and releases the local
 * store's lock), says so, and returns the exit code to end with. The binary installs it.
 */
export async function stopForSignal(signal: keyof typeof EXIT_SIGNAL, io: Io): Promise<number> {
  const stopped = await stopAllEmbeddedDynamoDb();
  io.stderr.write(
    `ses-stats: stopped by ${signal}${stopped > 0 ? '; the DynamoDB Local it started was stopped' : ''}\n`,
  );
  return EXIT_SIGNAL[signal];
}

/** At exit, whatever the reason: no DynamoDB Local outlives the CLI, no lock stays held. */
export function stopAtExit(): void {
  killAllEmbeddedDynamoDbNow();
}
