import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { type CopyReport, copyDatasets } from '../core/copy.ts';
import { UnknownDatasetError, UsageError } from '../core/errors.ts';
import { parseFlags } from './args.ts';
import { EXIT_OK, type Io } from './io.ts';
import { formatOf, formatTables } from './output.ts';
import {
  describeStore,
  LOCAL_FILE,
  type OpenStore,
  openStore,
  parseStoreSpec,
  sameStore,
  shown,
} from './store-options.ts';

const HELP = `Usage: ses-stats copy --from STORE --to STORE [--dataset NAME] [--format table|json|csv]

Copies stored history between two stores: every dataset, or only --dataset NAME. Writes only what
differs (a point the target holds from a newer fetch is kept), merges coverage and gaps, and can
be stopped and run again: the rerun finishes the job and writes nothing once both agree.

STORE:
  local[:DIR]              the local SQLite store (default DIR: $SES_STATS_HOME, else ./.ses-stats)
  table:NAME[@REGION]      a DynamoDB table with the default AWS credentials (a target table is
                           created if missing; REGION defaults to AWS_REGION or the profile's)
  dynamodb-local:DIR       --from only: the store of ses-stats 0.1 in DIR (DynamoDB Local files),
                           read once to move it; needs Java 17+
  --dynamodb-endpoint URL  the endpoint of every table: store, e.g. http://127.0.0.1:8000

Examples:
  ses-stats copy --from local --to table:SesStats@eu-west-1     after cdk deploy
  ses-stats copy --from table:SesStats@eu-west-1 --to local     the deployed history on a laptop
`;

const FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  dataset: { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;

const COLUMNS = [
  'dataset',
  'kind',
  'pointsWritten',
  'pointsKeptNewer',
  'hourlyWritten',
  'dailyWritten',
  'usageWritten',
  'statesWritten',
  'metaWritten',
];

export async function copyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('copy', args, FLAGS, true);
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `takes no arguments, received ${positionals.map(shown).join(' ')} (see ses-stats copy --help)`,
    );
  // Everything is checked before either store is opened.
  const context = { cwd: io.cwd, env: io.env, endpoint: values['dynamodb-endpoint'] };
  const from = parseStoreSpec('--from', values.from, context);
  const to = parseStoreSpec('--to', values.to, context);
  if (values['dynamodb-endpoint'] !== undefined && from.kind !== 'table' && to.kind !== 'table')
    throw new UsageError('--dynamodb-endpoint: applies to table:NAME stores, and neither is one');
  if (sameStore(from, to))
    throw new UsageError(`--to: is the same store as --from (${describeStore(from)})`);
  const dataset = values.dataset;
  if (dataset !== undefined && !NAME_PATTERN.test(dataset))
    throw new UsageError(
      `--dataset: received ${shown(dataset)}; expected a dataset name of ${NAME_RULE}`,
    );
  const format = formatOf(values.format, io.stdout);
  if (from.kind === 'local' && !existsSync(join(from.dir, LOCAL_FILE)))
    throw new UsageError(
      `--from: there is no local store in ${from.dir} (no ${LOCAL_FILE}); nothing to copy`,
    );

  const source = await openStore(from, { readOnly: true, io });
  let target: OpenStore | undefined;
  try {
    // The target is opened (and created) only when there is something to copy.
    const stored = (await source.store.listMeta()).map((m) => m.name);
    if (dataset !== undefined && !stored.includes(dataset))
      throw new UnknownDatasetError(dataset, stored);
    if (stored.length === 0) {
      io.stderr.write(`nothing is stored in ${source.where}; nothing copied\n`);
      return EXIT_OK;
    }
    target = await openStore(to, {
      readOnly: false,
      io,
      legacyNote: from.kind !== 'dynamodb-local',
    });
    const terminal = io.stderr.isTTY === true;
    const reports = await copyDatasets(source.store, target.store, dataset, {
      now: new Date(),
      onProgress: terminal
        ? ({ dataset: name, done, total }) =>
            io.stderr.write(
              `\r\x1b[Kcopying ${name}: ${done}/${total}${done === total ? '\n' : ''}`,
            )
        : undefined,
    });
    io.stdout.write(
      formatTables([{ name: 'copied', columns: COLUMNS, rows: reports.map(row) }], format),
    );
    io.stderr.write(`${summaryLine(reports, describeStore(from), describeStore(to))}\n`);
    return EXIT_OK;
  } finally {
    await target?.close();
    await source.close();
  }
}

function row(report: CopyReport): Record<string, unknown> {
  return { ...report };
}

function summaryLine(reports: readonly CopyReport[], from: string, to: string): string {
  const writes = reports.reduce(
    (n, r) =>
      n +
      r.pointsWritten +
      r.hourlyWritten +
      r.dailyWritten +
      r.usageWritten +
      r.statesWritten +
      (r.metaWritten ? 1 : 0),
    0,
  );
  const what = reports.length === 1 ? '1 dataset' : `${reports.length} datasets`;
  return writes === 0
    ? `copied ${what} from ${from} to ${to}: already identical, nothing written`
    : `copied ${what} from ${from} to ${to}: ${writes} items written`;
}
