import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ACCOUNT_COLUMNS, REPUTATION_COLUMNS } from '../core/datasets.ts';
import { UsageError } from '../core/errors.ts';
import type { AccountDataset } from '../core/results.ts';
import { oneOf } from './args.ts';

export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** `--format`, defaulting to a table on a terminal and JSON when piped. */
export function formatOf(value: string | undefined, stdout: { readonly isTTY?: boolean }): Format {
  return oneOf('--format', value, FORMATS, stdout.isTTY ? 'table' : 'json');
}

/** A named table to print: a dataset, or any list of rows. */
export interface Table {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/**
 * `json`: one object with each table's rows under its name; `csv`: plain CSV of exactly one table
 * (a header row, then the rows: a reader never skips lines); `table`: aligned text, a title line
 * per table, tables separated by a blank line.
 */
export function formatTables(tables: readonly Table[], format: Format): string {
  if (format === 'json')
    return `${JSON.stringify(Object.fromEntries(tables.map((t) => [t.name, t.rows])), null, 2)}\n`;
  if (format === 'csv') {
    const [only, ...more] = tables;
    // Commands that print several tables refuse --format csv before running (see csvOnlyOne).
    if (only === undefined || more.length > 0)
      throw new Error(`CSV holds one table, received ${tables.length}`);
    return csvTable(only);
  }
  return tables.map(textSection).join('\n');
}

/**
 * The refusal of `--format csv` where a command prints several tables on stdout: CSV has no
 * place for a second header, and sections (`# name` lines) break every CSV reader.
 */
export function csvOnlyOne(command: string, tables: string, instead: string): UsageError {
  return new UsageError(
    `--format: received "csv", but ${command} prints ${tables} and CSV holds one table; ${instead}`,
  );
}

/**
 * One record (a summary): `json` keeps its nesting and its fractions; `csv` is a header and one
 * row, nested fields joined by dots (`latest.Utilisation`); `table` is a title line and aligned
 * `field  value` lines, rates shown as percentages. `fields`, the dotted fields the record can
 * have, come first and always (empty when absent or null), so that every CSV of one kind of
 * record has the same header; fields of the record not listed follow.
 */
export function formatRecord(
  title: string,
  record: Readonly<Record<string, unknown>>,
  format: Format,
  fields: readonly string[] = [],
): string {
  if (format === 'json') return `${JSON.stringify(record, null, 2)}\n`;
  const flat = flatten(record);
  const columns = [
    ...fields,
    ...Object.keys(flat).filter(
      (key) => !fields.includes(key) && !fields.some((f) => f.startsWith(`${key}.`)),
    ),
  ];
  if (format === 'csv') return csvTable({ name: title, columns, rows: [flat] });
  const entries = columns.map((c) => [c, flat[c]] as const);
  const width = Math.max(0, ...entries.map(([field]) => field.length));
  const lines = entries.map(([field, value]) =>
    `${field.padEnd(width)}  ${fieldText(field, value)}`.trimEnd(),
  );
  return `${[title, ...lines].join('\n')}\n`;
}

/** Fields holding a fraction, shown as a percentage in tables (MaxSendRate is a send rate, not one). */
const RATE_FIELDS = new Set(['BounceRate', 'ComplaintRate', 'RejectRate', 'Utilisation']);

function fieldText(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  const last = field.slice(field.lastIndexOf('.') + 1);
  return RATE_FIELDS.has(last) && typeof value === 'number' ? percent(value) : cellText(value);
}

/**
 * A fraction as a percentage: two decimals (`0.0125` → `1.25%`), more for a small rate that two
 * would show as 0 (`0.000012` → `0.0012%`), so a non-zero rate never reads as zero.
 */
export function percent(fraction: number): string {
  const value = fraction * 100;
  const magnitude = Math.abs(value);
  const digits =
    magnitude === 0 || magnitude >= 0.01 ? 2 : Math.min(12, Math.ceil(-Math.log10(magnitude)) + 1);
  return `${value.toFixed(digits)}%`;
}

/** Nested objects become dotted fields; lists of spans become `from/to` words. */
function flatten(value: Readonly<Record<string, unknown>>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${key}.`));
    else out[`${prefix}${key}`] = Array.isArray(v) ? v.map(spanText).join(' ') : v;
  }
  return out;
}

function spanText(item: unknown): string {
  if (item !== null && typeof item === 'object' && 'from' in item && 'to' in item)
    return `${String(item.from)}/${String(item.to)}`;
  return cellText(item);
}

/** Plain CSV (RFC 4180 quoting): a header row, then one line per row. */
export function csvTable(table: Table): string {
  const lines = [table.columns.map(csvCell).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(row[c])).join(','));
  return `${lines.join('\n')}\n`;
}

function csvCell(value: unknown): string {
  const text = cellText(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function textSection(table: Table): string {
  const cells = table.rows.map((row) => table.columns.map((c) => cellText(row[c])));
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  // Numbers align right, text left.
  const numeric = table.columns.map(
    (c) =>
      table.rows.length > 0 &&
      table.rows.every((row) => typeof row[c] === 'number' || row[c] === null),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const body = cells.length === 0 ? ['(no rows)'] : cells.map(line);
  const title = `${table.name} (${table.rows.length} ${table.rows.length === 1 ? 'row' : 'rows'})`;
  return `${[title, line(table.columns), ...body].join('\n')}\n`;
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The two tables of a fetched account dataset, as `collect` prints the other datasets: `NAME`,
 * the account state seen (ACCOUNT_COLUMNS), and `NAME.reputation`, the reputation hours fetched
 * (REPUTATION_COLUMNS). In a table or CSV, booleans are `true`/`false` and nulls empty cells.
 */
export function accountTables(account: AccountDataset): Table[] {
  return [
    {
      name: account.name,
      columns: ACCOUNT_COLUMNS,
      rows: account.rows as unknown as Table['rows'],
    },
    {
      name: `${account.name}.reputation`,
      columns: REPUTATION_COLUMNS,
      rows: account.reputation as unknown as Table['rows'],
    },
  ];
}

/**
 * An account summary (see `summarize`) as text to read at a glance: the state in one line (what is
 * wrong in capitals: sending DISABLED, the SANDBOX), the review, the quota, the last change, the
 * changes in the range and the reputation rates as percentages, then the coverage.
 */
export function accountSummaryText(
  title: string,
  summary: Readonly<Record<string, unknown>>,
): string {
  const latest = summary.latest as Readonly<Record<string, unknown>> | null;
  const coverage = summary.coverage as { status: string; note?: string };
  const lines: Array<readonly [string, string]> = [];
  if (summary.from !== null || summary.to !== null)
    lines.push(['range', `${summary.from ?? 'the start'} to ${summary.to ?? 'now'}`]);
  if (latest === null) lines.push(['state', 'unknown: no state was seen in the range']);
  else {
    const sending = latest.SendingEnabled ? 'sending enabled' : 'sending DISABLED';
    const access = latest.ProductionAccessEnabled
      ? 'production access'
      : 'in the SANDBOX (no production access)';
    lines.push(['state', `${String(latest.EnforcementStatus)}, ${sending}, ${access}`]);
    lines.push([
      'review',
      latest.ReviewStatus === null
        ? 'none'
        : `${String(latest.ReviewStatus)}${latest.ReviewCaseId === null ? '' : ` (case ${String(latest.ReviewCaseId)})`}`,
    ]);
    const max = latest.Max24HourSend === -1 ? 'unlimited' : `${String(latest.Max24HourSend)}`;
    lines.push(['quota', `${max} per 24 hours, ${String(latest.MaxSendRate)} per second`]);
    lines.push(['last change', `${String(latest.FirstSeen)} (first seen in this state)`]);
    lines.push(['last seen', String(latest.LastSeen)]);
  }
  lines.push([
    'state changes',
    summary.stateChanges === null
      ? 'unknown'
      : `${String(summary.stateChanges)} in the range (${String(summary.states)} ${summary.states === 1 ? 'state' : 'states'} seen)`,
  ]);
  lines.push(['reputation', ratesText(summary.latestReputation, 'latest')]);
  lines.push(['highest', ratesText(summary.peakReputation, 'highest')]);
  lines.push([
    'coverage',
    coverage.note === undefined ? coverage.status : `${coverage.status}: ${coverage.note}`,
  ]);
  const width = Math.max(...lines.map(([label]) => label.length));
  return `${[title, ...lines.map(([label, text]) => `${label.padEnd(width)}  ${text}`)].join('\n')}\n`;
}

/** `bounce 4.00% at HOUR, complaint 0.20% at HOUR`; `none stored` without reputation hours. */
function ratesText(value: unknown, which: string): string {
  if (value === null || value === undefined) return 'no reputation hours stored in the range';
  const r = value as Readonly<Record<string, number | string | null>>;
  const one = (name: string, rate: number | string | null | undefined, at: unknown) =>
    typeof rate === 'number' ? `${name} ${percent(rate)} at ${String(at)}` : `${name} none`;
  return `${one('bounce', r.BounceRate, r.BounceRateAt)}, ${one('complaint', r.ComplaintRate, r.ComplaintRateAt)} (${which})`;
}

export const OUT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type OutFormat = (typeof OUT_FORMATS)[number];

/**
 * A dataset as a file: `csv` and `json` exactly what `ses-stats query NAME --format csv|json`
 * prints for the same rows; `ndjson` one JSON object per row, one a line.
 */
export function datasetFileText(table: Table, format: OutFormat): string {
  if (format === 'csv') return csvTable(table);
  if (format === 'json') return formatTables([table], 'json');
  return table.rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

/**
 * Writes `text` to `path` so that a reader sees the old file or the whole new one, never a part:
 * a temporary file beside it, flushed to disk, then renamed over it.
 */
export function writeFileAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const fd = openSync(temporary, 'wx');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * `formatTables` a table at a time, for tables that arrive one after another: the texts of
 * `next` for each table, then `end()`, join into exactly what `formatTables` prints for them all
 * (JSON: one object, each dataset's rows under its name, written as it comes).
 */
export class TableStream {
  private written = 0;

  constructor(private readonly format: Exclude<Format, 'csv'>) {}

  next(table: Table): string {
    const first = this.written++ === 0;
    if (this.format === 'table') return first ? textSection(table) : `\n${textSection(table)}`;
    // JSON.stringify escapes line breaks inside strings: each raw one starts a nested line.
    const rows = JSON.stringify(table.rows, null, 2).replaceAll('\n', '\n  ');
    return `${first ? '{\n' : ',\n'}  ${JSON.stringify(table.name)}: ${rows}`;
  }

  end(): string {
    if (this.format === 'table') return '';
    return this.written === 0 ? '{}\n' : '\n}\n';
  }
}
