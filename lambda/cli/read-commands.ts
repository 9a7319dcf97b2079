import { datasetInfo } from '../api/datasets.ts';
import { ACCOUNT_COLUMNS, STATISTICS_COLUMNS, USAGE_COLUMNS } from '../core/datasets.ts';
import { UsageError } from '../core/errors.ts';
import { parseQueryOptions, queryDataset, summarize } from '../core/query.ts';
import type { DatasetMeta } from '../core/store.ts';
import { parseFlags } from './args.ts';
import type { Io } from './io.ts';
import { accountSummaryText, type Format, formatOf, formatRecord, formatTables } from './output.ts';
import { help, onlyDataset, withStore } from './read-support.ts';
import { STORE_FLAGS, STORE_HELP, shown } from './store-options.ts';

const COMMON = {
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
  ...STORE_FLAGS,
} as const;
const RANGE = {
  from: { type: 'string' },
  to: { type: 'string' },
  since: { type: 'string' },
  tz: { type: 'string' },
} as const;

const SINCE_HELP = `--since DURATION (7d, 24h, 90m, 2w) is the range from that long ago until now, instead of
--from/--to.`;

const QUERY_HELP = `Usage: ses-stats query DATASET [--from ISO] [--to ISO] [--since DURATION] [--granularity 15m|1h|1d] [--series state|reputation] [--tz ZONE] [--format table|json|csv]

Prints every stored row of DATASET in time order, from (inclusive) to (exclusive); times without
an offset are read in --tz when given, else UTC.
${SINCE_HELP}
Statistics datasets: 15m (raw SES points, the default), 1h or 1d rollups; --tz (an IANA zone,
e.g. Europe/Paris) sets hour and day boundaries. Usage datasets: every snapshot.
Account datasets: --series state (the default) prints the account states by FirstSeen, the
state in force at --from first; --series reputation prints AWS's hourly reputation rates
(fractions) by Timestamp. --granularity applies to statistics datasets only, --series to
account datasets only.
CSV is plain: one header row, then the rows (booleans true/false, nothing for a null).

${STORE_HELP}`;

const DATASETS_HELP = `Usage: ses-stats datasets [--format table|json|csv]

Lists every stored dataset: kind (usage, statistics or account), source session and activity,
first and last time, rows stored (account datasets: states), the last change of an account
dataset, the span fetches covered and any gaps (time SES no longer had when ses-stats collected
again).

${STORE_HELP}`;

const SUMMARY_HELP = `Usage: ses-stats summary DATASET [--from ISO] [--to ISO] [--since DURATION] [--tz ZONE] [--format table|json|csv]

Statistics datasets: totals and window rates (Bounces, Complaints and Rejects divided by
DeliveryAttempts over the range; AWS computes its reputation rates over its own representative
volume). Usage datasets: the latest and the peak quota utilisation (SentLast24Hours /
Max24HourSend; an unlimited quota, -1, has none). Account datasets: the latest state seen in the
range (EnforcementStatus, sending, production access or the sandbox, review, quota), its last
change, the state changes in the range, and the latest and highest reputation rates with their
hours. Each says which part of the range is stored.
${SINCE_HELP} --tz (an IANA zone) is the zone of a --from/--to given without an offset.
The table lists one field a line, rates as percentages (an account dataset's state in a few
plain lines); JSON and CSV (a header and one row) keep fractions.

${STORE_HELP}`;

export async function queryCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(
    'query',
    args,
    { ...COMMON, ...RANGE, granularity: { type: 'string' }, series: { type: 'string' } },
    true,
  );
  if (values.help) return help(io, QUERY_HELP);
  // Everything is checked before the store is opened (starting it can take seconds).
  const name = onlyDataset('query', positionals);
  const format = formatOf(values.format, io.stdout);
  const options = {
    from: values.from,
    to: values.to,
    since: values.since,
    granularity: values.granularity,
    tz: values.tz,
    series: values.series,
  };
  parseQueryOptions(options);
  return withStore(values, io, async (store) => {
    // Every stored row: raw points unless a coarser granularity is asked for (the core would
    // pick one for at most 1,500 rows, which suits a chart, not a command whose output is read).
    const statistics = (await store.getMeta(name))?.kind === 'statistics';
    const granularity = options.granularity ?? (statistics ? '15m' : undefined);
    const result = await queryDataset(store, name, { ...options, granularity });
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
      'lastChange',
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
  const options = { from: values.from, to: values.to, since: values.since, tz: values.tz };
  parseQueryOptions(options);
  return withStore(values, io, async (store) => {
    const summary = await summarize(store, name, options);
    const title = `summary of ${name}`;
    if (summary.kind === 'account' && format === 'table') {
      io.stdout.write(accountSummaryText(title, summary));
      return;
    }
    const fields =
      summary.kind === 'usage'
        ? USAGE_SUMMARY_FIELDS
        : summary.kind === 'account'
          ? ACCOUNT_SUMMARY_FIELDS
          : STATISTICS_SUMMARY_FIELDS;
    io.stdout.write(formatRecord(title, summary, format, fields));
  });
}

/** A summary's fields in CSV and table order, whether or not they are null (see formatRecord). */
const SUMMARY_FIELDS = [
  'dataset',
  'kind',
  'from',
  'to',
  'coverage.status',
  'coverage.covered.from',
  'coverage.covered.to',
  'coverage.gaps',
  'coverage.note',
];
const STATISTICS_SUMMARY_FIELDS = [
  ...SUMMARY_FIELDS,
  ...STATISTICS_COLUMNS.filter((c) => c !== 'Timestamp'),
  'BounceRate',
  'ComplaintRate',
  'RejectRate',
];
const SNAPSHOT_FIELDS = [...USAGE_COLUMNS, 'Utilisation'];
const USAGE_SUMMARY_FIELDS = [
  ...SUMMARY_FIELDS,
  'snapshots',
  ...SNAPSHOT_FIELDS.map((f) => `latest.${f}`),
  'latest.Unlimited',
  ...SNAPSHOT_FIELDS.map((f) => `peak.${f}`),
];

const RATE_AT_FIELDS = ['BounceRate', 'BounceRateAt', 'ComplaintRate', 'ComplaintRateAt'];
const ACCOUNT_SUMMARY_FIELDS = [
  ...SUMMARY_FIELDS,
  'states',
  'stateChanges',
  ...ACCOUNT_COLUMNS.map((c) => `latest.${c}`),
  'latest.Sandbox',
  'reputationHours',
  ...RATE_AT_FIELDS.map((f) => `latestReputation.${f}`),
  ...RATE_AT_FIELDS.map((f) => `peakReputation.${f}`),
];

/**
 * The read API's projection of a dataset (datasetInfo), flattened for a table or CSV: the coverage
 * in two columns and, but in JSON, the gaps as `from/to` text.
 */
function datasetRow(meta: DatasetMeta, format: Format): Record<string, unknown> {
  const { coverage, gaps, ...info } = datasetInfo(meta);
  return {
    ...info,
    coverageFrom: coverage?.from ?? null,
    coverageTo: coverage?.to ?? null,
    gaps: format === 'json' ? gaps : gaps.map((g) => `${g.from}/${g.to}`).join(' '),
  };
}
