import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { UsageError } from '../core/errors.ts';
import { parseQueryOptions, parseSpan, queryDataset, summarize } from '../core/query.ts';
import type { DatasetMeta, DatasetStore } from '../core/store.ts';
import { parseFlags } from './args.ts';
import { EXIT_OK, type Io } from './io.ts';
import { type Format, formatOf, formatTables } from './output.ts';
import {
  openStore,
  STORE_FLAGS,
  STORE_HELP,
  type StoreFlagValues,
  shown,
  storeChoice,
} from './store-options.ts';

const COMMON = {
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
  ...STORE_FLAGS,
} as const;
const RANGE = { from: { type: 'string' }, to: { type: 'string' } } as const;

const QUERY_HELP = `Usage: ses-stats query DATASET [--from ISO] [--to ISO] [--granularity 15m|1h|1d] [--tz ZONE] [--format table|json|csv]

Prints every stored row of DATASET in time order, from (inclusive) to (exclusive); times without
an offset are UTC. Statistics datasets: 15m (raw SES points, the default), 1h or 1d rollups; --tz
(an IANA zone, e.g. Europe/Paris) sets hour and day boundaries. Usage datasets: every snapshot.

${STORE_HELP}`;

const DATASETS_HELP = `Usage: ses-stats datasets [--format table|json|csv]

Lists every stored dataset: kind, source session and activity, first and last time, rows stored,
the span fetches covered and any gaps (time SES no longer had when ses-stats collected again).

${STORE_HELP}`;

const SUMMARY_HELP = `Usage: ses-stats summary DATASET [--from ISO] [--to ISO] [--format table|json|csv]

Statistics datasets: totals and window rates (Bounces, Complaints and Rejects divided by
DeliveryAttempts over the range; AWS computes its reputation rates over its own representative
volume). Usage datasets: the latest and the peak quota utilisation (SentLast24Hours /
Max24HourSend; an unlimited quota, -1, has none).

${STORE_HELP}`;

export async function queryCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(
    'query',
    args,
    { ...COMMON, ...RANGE, granularity: { type: 'string' }, tz: { type: 'string' } },
    true,
  );
  if (values.help) return help(io, QUERY_HELP);
  // Everything is checked before the store is opened (starting it can take seconds).
  const name = onlyDataset('query', positionals);
  const format = formatOf(values.format, io.stdout);
  const options = {
    from: values.from,
    to: values.to,
    granularity: values.granularity,
    tz: values.tz,
  };
  parseQueryOptions(options);
  return withStore(values, io, async (store) => {
    const result = await queryDataset(store, name, options);
    io.stdout.write(
      formatTables(
        [
          {
            name,
            columns: result.columns,
            rows: result.rows as unknown as Array<Record<string, unknown>>,
          },
        ],
        format,
      ),
    );
  });
}

export async function datasetsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('datasets', args, COMMON, true);
  if (values.help) return help(io, DATASETS_HELP);
  if (positionals.length > 0)
    throw new UsageError(
      `takes no arguments, received ${positionals.map(shown).join(' ')} (see ses-stats datasets --help)`,
    );
  const format = formatOf(values.format, io.stdout);
  return withStore(values, io, async (store) => {
    const rows = (await store.listMeta()).map((m) => datasetRow(m, format));
    const columns = [
      'name',
      'kind',
      'source',
      'activity',
      'firstTime',
      'lastTime',
      'count',
      'coverageFrom',
      'coverageTo',
      'gaps',
    ];
    io.stdout.write(formatTables([{ name: 'datasets', columns, rows }], format));
  });
}

export async function summaryCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('summary', args, { ...COMMON, ...RANGE }, true);
  if (values.help) return help(io, SUMMARY_HELP);
  const name = onlyDataset('summary', positionals);
  const format = formatOf(values.format, io.stdout);
  const range = { from: values.from, to: values.to };
  parseSpan(range);
  return withStore(values, io, async (store) => {
    const summary = await summarize(store, name, range);
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const flat = flatten(summary);
    const rows =
      format === 'csv' ? [flat] : Object.entries(flat).map(([field, value]) => ({ field, value }));
    io.stdout.write(
      formatTables(
        [
          {
            name: `summary of ${name}`,
            columns: format === 'csv' ? Object.keys(flat) : ['field', 'value'],
            rows,
          },
        ],
        format,
      ),
    );
  });
}

function datasetRow(meta: DatasetMeta, format: Format): Record<string, unknown> {
  const gaps = format === 'json' ? meta.gaps : meta.gaps.map((g) => `${g.from}/${g.to}`).join(' ');
  return {
    name: meta.name,
    kind: meta.kind,
    source: meta.source,
    activity: meta.activity,
    firstTime: meta.firstTime ?? null,
    lastTime: meta.lastTime ?? null,
    count: meta.count,
    coverageFrom: meta.coverage?.from ?? null,
    coverageTo: meta.coverage?.to ?? null,
    gaps,
  };
}

function flatten(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${key}.`));
    else
      out[`${prefix}${key}`] = Array.isArray(v) ? v.map((g) => `${g.from}/${g.to}`).join(' ') : v;
  }
  return out;
}

function onlyDataset(command: string, positionals: string[]): string {
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0)
    throw new UsageError(
      `expected exactly one DATASET, received ${positionals.length}${positionals.length > 0 ? ` (${positionals.map(shown).join(' ')})` : ''} (see ses-stats ${command} --help)`,
    );
  if (!NAME_PATTERN.test(name))
    throw new UsageError(
      `DATASET: received ${shown(name)}; expected a dataset name of ${NAME_RULE}`,
    );
  return name;
}

function help(io: Io, text: string): number {
  io.stdout.write(text);
  return EXIT_OK;
}

/**
 * Checks the store flags, then opens the store read-only (the last step: nothing is opened for
 * bad input, and reading creates nothing).
 */
async function withStore(
  values: StoreFlagValues,
  io: Io,
  work: (store: DatasetStore) => Promise<void>,
): Promise<number> {
  const opened = await openStore(storeChoice(values, io), { readOnly: true, io });
  try {
    await work(opened.store);
    return EXIT_OK;
  } finally {
    await opened.close();
  }
}
