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
 * `json`: one object with each table's rows under its name; `csv`: one section per table, each
 * a `# name` line, a header and the rows, sections separated by a blank line; `table`: aligned text.
 */
export function formatTables(tables: readonly Table[], format: Format): string {
  if (format === 'json')
    return `${JSON.stringify(Object.fromEntries(tables.map((t) => [t.name, t.rows])), null, 2)}\n`;
  const render = format === 'csv' ? csvSection : textSection;
  return `${tables.map(render).join('\n')}`;
}

function csvSection(table: Table): string {
  const lines = [`# ${table.name}`, table.columns.map(csvCell).join(',')];
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
