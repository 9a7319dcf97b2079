import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_ACCOUNT_DATASET } from '../config/defaults.ts';
import { shownPath } from '../config/file.ts';
import { importAml } from '../config/import-aml.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import { parseFlags } from './args.ts';
import { EXIT_OK, type Io } from './io.ts';

const HELP = `Usage: ses-stats import-aml FILE [--out CONFIG.json]

Turns the <AMAWSSES .../> steps of a task file (ACTIVITY="email_statistics" and
"create_session") into a ses-stats config, printed or written to --out. Each change it makes
(secret references to fill in, Signature Version 2 upgraded to 4, skipped steps) is listed on
stderr. Encrypted SECRETKEY and PROXYPWD values are never copied. No account dataset is added
(the original activity has none); the last note says how to add one.
`;

/** The original activity keeps no account state: say how to add the dataset that does. */
export const ACCOUNT_DATASET_NOTE = `no account dataset added: the original activity has none; to keep the SES account state (GetAccount) and AWS's reputation rates, add "accountDataset": "<name>" to an activity (such as "${DEFAULT_ACCOUNT_DATASET}"; one name per activity)`;

const FLAGS = {
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;

export async function importAmlCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('import-aml', args, FLAGS, true);
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError(
      `expected exactly one FILE, received ${positionals.length} (see ses-stats import-aml --help)`,
    );
  // Paths are the user's, relative to the command's working directory.
  const { config, notes } = importAml(readMarkup(file, io.cwd));
  const json = `${JSON.stringify(config, null, 2)}\n`;
  // Written first: a file that cannot be written is the only thing to report.
  if (values.out !== undefined) writeConfig(values.out, io.cwd, json);
  for (const note of [...notes, ACCOUNT_DATASET_NOTE]) io.stderr.write(`note: ${note}\n`);
  if (values.out === undefined) io.stdout.write(json);
  else io.stderr.write(`wrote ${shownPath(values.out)}\n`);
  return EXIT_OK;
}

function readMarkup(file: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new ConfigError([
      { path: `FILE ${shownPath(file)}`, message: `cannot read the file (${reason(error)})` },
    ]);
  }
}

function writeConfig(out: string, cwd: string, json: string): void {
  try {
    writeFileSync(resolve(cwd, out), json);
  } catch (error) {
    throw new UsageError(`--out: cannot write ${shownPath(out)} (${reason(error)})`);
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'not found' : (code ?? 'unknown error');
}
