import {
  addCounts,
  isoUtc,
  STATISTICS_COLUMNS,
  type StatisticsRow,
  sumCounts,
  USAGE_COLUMNS,
  type UsageRow,
  utilisation,
  ZERO_COUNTS,
} from './datasets.ts';
import { QueryError, UnknownDatasetError } from './errors.ts';
import { exactRollups } from './rollups.ts';
import {
  type DatasetMeta,
  type DatasetStore,
  GRANULARITIES,
  type Granularity,
  type Span,
} from './store.ts';
import { ALL_TIME, DAY_MS, HOUR_MS, planSpan } from './time.ts';
import { isTimeZone, isUtc, localBucketStart, localIso, offsetAt } from './zones.ts';

export interface QueryOptions {
  /** ISO-8601; inclusive. Without an offset, UTC. */
  readonly from?: string;
  /** ISO-8601; exclusive. */
  readonly to?: string;
  readonly granularity?: string;
  /** IANA zone for hour and day boundaries (statistics rollups). */
  readonly tz?: string;
}

export interface QueryResult {
  readonly meta: DatasetMeta;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<UsageRow | StatisticsRow>;
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Query parameters checked and in the stored keys' form. */
export interface ParsedQuery {
  readonly span: Span;
  readonly granularity: Granularity;
  /** Undefined for UTC. */
  readonly tz: string | undefined;
}

/**
 * Checks every query parameter without touching a store (the CLI calls it before opening one);
 * throws a QueryError naming the first parameter that cannot be used.
 */
export function parseQueryOptions(options: QueryOptions): ParsedQuery {
  return {
    span: parseSpan(options),
    granularity: parseGranularity(options.granularity),
    tz: parseZone(options.tz),
  };
}

/** Rows of a dataset in time order: raw points or rollups for statistics, snapshots for usage. */
export async function queryDataset(
  store: DatasetStore,
  name: string,
  options: QueryOptions,
): Promise<QueryResult> {
  const { span, granularity, tz } = parseQueryOptions(options);
  const meta = await requireMeta(store, name);
  if (meta.kind === 'usage') {
    if (options.granularity !== undefined)
      throw new QueryError(
        'granularity',
        `"${name}" is a usage dataset of snapshots; granularity applies to statistics datasets only`,
      );
    return { meta, columns: USAGE_COLUMNS, rows: await store.readUsage(name, usageSpan(span)) };
  }
  return {
    meta,
    columns: STATISTICS_COLUMNS,
    rows: await statisticsRows(store, meta, span, granularity, tz),
  };
}

export async function requireMeta(store: DatasetStore, name: string): Promise<DatasetMeta> {
  const meta = await store.getMeta(name);
  if (meta === undefined)
    throw new UnknownDatasetError(
      name,
      (await store.listMeta()).map((m) => m.name),
    );
  return meta;
}

async function statisticsRows(
  store: DatasetStore,
  meta: DatasetMeta,
  span: Span,
  granularity: Granularity,
  tz: string | undefined,
): Promise<StatisticsRow[]> {
  const { name } = meta;
  if (granularity === '15m')
    return (await store.readPoints(name, span)).map(({ fetchedAt: _, ...row }) => row);
  if (isUtc(tz))
    return (await exactRollups(store, meta, granularity, span)).map(({ Points: _, ...row }) => row);
  const zone = tz as string;
  const unit = granularity === '1h' ? HOUR_MS : DAY_MS;
  // Local days (and hours) are whole UTC hours in most zones: sum hourly rollups. Zones with
  // half- or quarter-hour offsets need the raw points. Reading one UTC day either side covers
  // local days that straddle the span's UTC edges; as in UTC, a bucket is whole and belongs to
  // the span when it starts inside it.
  const wide = {
    from: isoUtc(new Date(Math.max(Date.parse(span.from) - DAY_MS, Date.parse(ALL_TIME.from)))),
    to: isoUtc(new Date(Math.min(Date.parse(span.to) + DAY_MS, Date.parse(ALL_TIME.to)))),
  };
  const hourly = await exactRollups(store, meta, '1h', wide);
  const whole = hourly.every((r) => offsetAt(zone, Date.parse(r.Timestamp)) % HOUR_MS === 0);
  const source: StatisticsRow[] = whole ? hourly : await store.readPoints(name, wide);
  const from = Date.parse(span.from);
  const buckets = new Map<number, StatisticsRow>();
  for (const row of source) {
    const start = localBucketStart(zone, Date.parse(row.Timestamp), unit);
    if (start < from || start >= Date.parse(span.to)) continue;
    const sum = buckets.get(start);
    buckets.set(start, {
      Timestamp: sum?.Timestamp ?? localIso(zone, start),
      ...addCounts(sum ?? ZERO_COUNTS, row),
    });
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
}

/** Totals and window rates of a statistics dataset; latest and peak quota use of a usage dataset. */
export async function summarize(
  store: DatasetStore,
  name: string,
  options: Pick<QueryOptions, 'from' | 'to'>,
): Promise<Record<string, unknown>> {
  const span = parseSpan(options);
  const meta = await requireMeta(store, name);
  const range = {
    from: options.from === undefined ? null : span.from,
    to: options.to === undefined ? null : span.to,
  };
  if (meta.kind === 'usage')
    return {
      dataset: name,
      kind: meta.kind,
      ...range,
      ...usageSummary(await store.readUsage(name, usageSpan(span))),
    };
  const pieces =
    options.from === undefined && options.to === undefined
      ? [{ ...ALL_TIME, granularity: '1d' as const }]
      : planSpan(span);
  const parts = await Promise.all(
    pieces.map((p) =>
      p.granularity === '15m'
        ? store.readPoints(name, p)
        : exactRollups(store, meta, p.granularity, p),
    ),
  );
  const totals = sumCounts(parts.flat());
  const rate = (count: number) =>
    totals.DeliveryAttempts === 0 ? null : count / totals.DeliveryAttempts;
  return {
    dataset: name,
    kind: meta.kind,
    ...range,
    ...totals,
    BounceRate: rate(totals.Bounces),
    ComplaintRate: rate(totals.Complaints),
    RejectRate: rate(totals.Rejects),
    gaps: meta.gaps.filter(
      (g) => Date.parse(g.to) > Date.parse(span.from) && Date.parse(g.from) < Date.parse(span.to),
    ),
  };
}

function usageSummary(rows: readonly UsageRow[]): Record<string, unknown> {
  const latest = rows.at(-1);
  let peak: UsageRow | undefined;
  for (const row of rows) {
    const u = utilisation(row);
    if (u !== null && (peak === undefined || u > (utilisation(peak) ?? -1))) peak = row;
  }
  return {
    snapshots: rows.length,
    latest:
      latest === undefined
        ? null
        : { ...latest, Utilisation: utilisation(latest), Unlimited: latest.Max24HourSend === -1 },
    peak: peak === undefined ? null : { ...peak, Utilisation: utilisation(peak) },
  };
}

/** The span of `from` and `to`, checked without touching a store (`summarize`'s parameters). */
export function parseSpan(options: Pick<QueryOptions, 'from' | 'to'>): Span {
  const from = options.from === undefined ? ALL_TIME.from : parseTime('from', options.from);
  const to = options.to === undefined ? ALL_TIME.to : parseTime('to', options.to);
  if (from >= to) {
    if (options.from === undefined)
      throw new QueryError(
        'to',
        `received ${shown(options.to ?? '')}; expected a time after ${ALL_TIME.from}`,
      );
    throw new QueryError(
      'from',
      `received ${shown(options.from)}, which is not before to ${shown(options.to ?? ALL_TIME.to)}`,
    );
  }
  return { from, to };
}

/** A received value as written in a message: quoted, control characters escaped (whole: a caller masks secrets). */
function shown(value: string): string {
  return JSON.stringify(value);
}

/** Whole seconds, UTC, in the stored keys' form; fractions round up so that bounds stay exact. */
function parseTime(parameter: string, value: string): string {
  const ms =
    ISO.test(value) && realCalendar(value)
      ? Date.parse(
          value.length === 10
            ? `${value}T00:00:00Z`
            : /Z|[+-]\d{2}:\d{2}$/.test(value)
              ? value
              : `${value}Z`,
        )
      : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new QueryError(
      parameter,
      `received ${shown(value)}; expected an ISO-8601 date or time such as 2026-11-28 or 2026-11-28T10:00:00Z`,
    );
  }
  const rounded = Math.ceil(ms / 1000) * 1000;
  // An offset can move a time in year 0000 or 9999 outside the keys' four-digit years.
  if (rounded < Date.parse(ALL_TIME.from) || rounded > Date.parse(ALL_TIME.to))
    throw new QueryError(
      parameter,
      `received ${shown(value)}; expected a time from ${ALL_TIME.from} to ${ALL_TIME.to}`,
    );
  return isoUtc(new Date(rounded));
}

/** Date.parse rolls 2026-02-30 over to March; a date must exist, and hours run 00-23. */
function realCalendar(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(y, m - 1, d);
  const [hh = 0, mm = 0, ss = 0] = (value.slice(11, 19).match(/\d{2}/g) ?? []).map(Number);
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === m - 1 &&
    date.getUTCDate() === d &&
    hh < 24 &&
    mm < 60 &&
    ss < 60
  );
}

/** Usage keys carry milliseconds; the same bounds in that form. */
function usageSpan(span: Span): Span {
  const form = (iso: string) =>
    iso === ALL_TIME.from || iso === ALL_TIME.to ? iso : new Date(iso).toISOString();
  return { from: form(span.from), to: form(span.to) };
}

function parseGranularity(value: string | undefined): Granularity {
  if (value === undefined) return '15m';
  if ((GRANULARITIES as readonly string[]).includes(value)) return value as Granularity;
  throw new QueryError(
    'granularity',
    `received ${shown(value)}; allowed: ${GRANULARITIES.join(', ')}`,
  );
}

function parseZone(value: string | undefined): string | undefined {
  if (value === undefined || isTimeZone(value)) return value;
  throw new QueryError(
    'tz',
    `received ${shown(value)}; expected an IANA time zone such as Europe/Paris or UTC`,
  );
}
