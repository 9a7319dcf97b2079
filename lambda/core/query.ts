import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  addCounts,
  isoUtc,
  REPUTATION_COLUMNS,
  type ReputationRow,
  STATISTICS_COLUMNS,
  type StatisticsRow,
  sumCounts,
  USAGE_COLUMNS,
  type UsageRow,
  utilisation,
  ZERO_COUNTS,
} from './datasets.ts';
import { QueryError, UnknownDatasetError } from './errors.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { exactRollups } from './rollups.ts';
import {
  type DatasetMeta,
  type DatasetStore,
  GRANULARITIES,
  type Granularity,
  type Span,
} from './store.ts';
import { ALL_TIME, DAY_MS, HOUR_MS, planSpan } from './time.ts';
import { isTimeZone, isUtc, localBucketStart, localIso, offsetAt, wallTimeToUtc } from './zones.ts';

export interface QueryOptions {
  /** ISO-8601; inclusive. Without an offset, in `tz` (UTC when no zone is given). */
  readonly from?: string | undefined;
  /** ISO-8601; exclusive. Without an offset, in `tz`. */
  readonly to?: string | undefined;
  /** A duration back from now (`90m`, `24h`, `7d`, `2w`): instead of `from`; `to` defaults to now. */
  readonly since?: string | undefined;
  /** `15m`, `1h`, `1d`; when absent, the finest that gives at most MAX_AUTO_BUCKETS rows. */
  readonly granularity?: string | undefined;
  /** IANA zone for hour and day boundaries, and for `from`/`to` written without an offset. */
  readonly tz?: string | undefined;
  /** Rows per page, 1 to MAX_LIMIT; absent: every row. A number, or its decimal text. */
  readonly limit?: string | number | undefined;
  /** The `nextToken` of the previous page of the same query. */
  readonly nextToken?: string | undefined;
  /** Account datasets: `state` (the default) or `reputation`; refused for the other kinds. */
  readonly series?: string | undefined;
}

/** The two series of an account dataset: its states (by FirstSeen) and its reputation hours. */
export const ACCOUNT_SERIES = ['state', 'reputation'] as const;
export type AccountSeries = (typeof ACCOUNT_SERIES)[number];

export interface QueryResult {
  readonly meta: DatasetMeta;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<UsageRow | StatisticsRow | AccountRow | ReputationRow>;
  /** The span read, in UTC (the whole query's, also on a later page). */
  readonly span: Span;
  /** The granularity used (chosen when none was given); null for a usage or account dataset. */
  readonly granularity: Granularity | null;
  /** The series read of an account dataset; null for the other kinds. */
  readonly series: AccountSeries | null;
  /** The zone of hour and day boundaries: `UTC` or the IANA zone given. */
  readonly tz: string;
  /** Present when more rows follow: pass it back as `nextToken` with the same parameters. */
  readonly nextToken?: string;
}

/** A page holds at most this many rows. */
export const MAX_LIMIT = 1000;
/** Without a granularity, the finest one whose buckets over the stored range number at most this. */
export const MAX_AUTO_BUCKETS = 1500;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const DURATION = /^([1-9]\d{0,5})(m|h|d|w)$/;
const DURATION_MS = { m: 60_000, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS } as const;
const UNIT_MS: Record<Granularity, number> = { '15m': 15 * 60_000, '1h': HOUR_MS, '1d': DAY_MS };

/** Query parameters checked and in the stored keys' form. */
export interface ParsedQuery {
  readonly span: Span;
  /** Undefined: chosen from the stored range when the dataset is read. */
  readonly granularity: Granularity | undefined;
  /** Undefined for UTC. */
  readonly tz: string | undefined;
  readonly limit: number | undefined;
  /** Undefined: `state` for an account dataset, none for the other kinds. */
  readonly series: AccountSeries | undefined;
}

/**
 * Checks every query parameter without touching a store (the CLI calls it before opening one);
 * throws a QueryError naming the first parameter that cannot be used. `now` anchors `since`.
 */
export function parseQueryOptions(options: QueryOptions, now: Date = new Date()): ParsedQuery {
  const tz = parseZone(options.tz);
  return {
    span: parseSpan(options, now),
    granularity:
      options.granularity === undefined ? undefined : parseGranularity(options.granularity),
    tz,
    limit: parseLimit(options.limit),
    series: options.series === undefined ? undefined : parseSeries(options.series),
  };
}

/**
 * Rows of a dataset in time order: raw points or rollups for statistics, snapshots for usage;
 * with `limit`, one page of them and the token of the next. Every read is by key and, paged,
 * reads about as many items as the page returns.
 */
export async function queryDataset(
  store: DatasetStore,
  name: string,
  options: QueryOptions,
  now: Date = new Date(),
): Promise<QueryResult> {
  const parsed = parseQueryOptions(options, now);
  const identity = { dataset: name, ...options };
  const page =
    options.nextToken === undefined ? undefined : decodePageToken(options.nextToken, identity);
  // Without `since`, the span is the request's own: a token may not move it.
  if (page !== undefined && options.since === undefined && !sameSpan(page.span, parsed.span))
    throw new QueryError(
      'nextToken',
      'belongs to another range: repeat the from and to of the request that returned it',
    );
  const span = page?.span ?? parsed.span;
  const from = page?.cursor ?? span.from;
  const limit = parsed.limit;
  // With the granularity known, the rows are read alongside the metadata (one round trip, not
  // two); they are used once the metadata confirms a statistics dataset without stale days.
  const known = isUtc(parsed.tz) ? (page?.granularity ?? parsed.granularity) : undefined;
  const read = { from, to: span.to };
  const earlyPoints = known === '15m' ? store.readPoints(name, read, plusOne(limit)) : undefined;
  const earlyRollups =
    known === '1h' || known === '1d'
      ? store.readRollups(name, known, read, plusOne(limit))
      : undefined;
  earlyPoints?.catch(() => {});
  earlyRollups?.catch(() => {});
  const meta = await requireMeta(store, name);
  const tz = parsed.tz ?? 'UTC';
  const paged = <Row>(
    rows: Row[],
    keyOf: (row: Row) => string,
    granularity: Granularity | null,
  ) => {
    const next = limit === undefined ? undefined : rows[limit];
    return {
      rows: limit === undefined ? rows : rows.slice(0, limit),
      next: next === undefined ? undefined : keyOf(next),
      granularity,
    };
  };
  let out: {
    rows: Array<UsageRow | StatisticsRow | AccountRow | ReputationRow>;
    next: string | undefined;
    granularity: Granularity | null;
  };
  if (options.series !== undefined && meta.kind !== 'account')
    throw new QueryError(
      'series',
      `"${name}" is a ${meta.kind} dataset; series applies to account datasets only`,
    );
  const series = meta.kind === 'account' ? (parsed.series ?? 'state') : null;
  if (meta.kind === 'account') {
    if (options.granularity !== undefined)
      throw new QueryError(
        'granularity',
        `"${name}" is an account dataset of states and reputation hours; granularity applies to statistics datasets only`,
      );
    if (series === 'reputation') {
      const rows = await store.readReputation(name, read, plusOne(limit));
      out = paged(
        rows.map(({ fetchedAt: _, ...row }) => row),
        (r) => r.Timestamp,
        null,
      );
    } else {
      // The first page starts with the state in force at `from`, so a range always shows what
      // the account was in; it is read alongside the states that begin inside the range.
      const [before, rows] = await Promise.all([
        page === undefined ? stateInForce(store, meta, span.from) : undefined,
        store.readAccountStates(name, usageSpan(read), plusOne(limit)),
      ]);
      out = paged(before === undefined ? rows : [before, ...rows], (r) => r.FirstSeen, null);
    }
  } else if (meta.kind === 'usage') {
    if (options.granularity !== undefined)
      throw new QueryError(
        'granularity',
        `"${name}" is a usage dataset of snapshots; granularity applies to statistics datasets only`,
      );
    const rows = await store.readUsage(name, usageSpan({ from, to: span.to }), plusOne(limit));
    out = paged(rows, (r) => r.CollectedAt, null);
  } else {
    const granularity = page?.granularity ?? parsed.granularity ?? autoGranularity(meta, span);
    if (isUtc(parsed.tz)) {
      const rows =
        granularity === '15m'
          ? ((await earlyPoints) ?? (await store.readPoints(name, read, plusOne(limit)))).map(
              ({ fetchedAt: _, ...row }) => row,
            )
          : (
              (earlyRollups !== undefined && !hasStaleDays(meta, read)
                ? await earlyRollups
                : undefined) ?? (await exactRollups(store, meta, granularity, read, plusOne(limit)))
            ).map(({ Points: _, ...row }) => row);
      out = paged(rows, (r) => r.Timestamp, granularity);
    } else {
      out = await zonedPage(store, meta, read, granularity, tz, limit);
    }
  }
  return {
    meta,
    columns: columnsOf(meta.kind, series),
    rows: out.rows,
    span,
    granularity: out.granularity,
    series,
    tz,
    ...(out.next === undefined
      ? {}
      : {
          nextToken: encodePageToken(identity, {
            cursor: out.next,
            span,
            granularity: out.granularity,
          }),
        }),
  };
}

const sameSpan = (a: Span, b: Span) => a.from === b.from && a.to === b.to;

function columnsOf(kind: DatasetMeta['kind'], series: AccountSeries | null): readonly string[] {
  if (kind === 'usage') return USAGE_COLUMNS;
  if (kind === 'statistics') return STATISTICS_COLUMNS;
  return series === 'reputation' ? REPUTATION_COLUMNS : ACCOUNT_COLUMNS;
}

/**
 * The state in force at `at`: the latest one first seen before it, when a fetch still saw it at
 * or after `at` (a state last seen earlier may have changed before `at`, unseen). States are one
 * row per change, so the read before `at` is short; with the metadata's last change before `at`,
 * it starts there (one or two items).
 */
async function stateInForce(
  store: DatasetStore,
  meta: DatasetMeta,
  at: string,
): Promise<AccountRow | undefined> {
  if (at === ALL_TIME.from) return undefined;
  const before = new Date(at).toISOString();
  const from =
    meta.lastChange !== undefined && Date.parse(meta.lastChange) < Date.parse(at)
      ? meta.lastChange
      : ALL_TIME.from;
  const state = (await store.readAccountStates(meta.name, { from, to: before })).at(-1);
  return state !== undefined && Date.parse(state.LastSeen) >= Date.parse(at) ? state : undefined;
}

/** The states seen in `span`: the one in force at its start, then those first seen inside it. */
async function statesSeenIn(
  store: DatasetStore,
  meta: DatasetMeta,
  span: Span,
): Promise<AccountRow[]> {
  const [before, rows] = await Promise.all([
    stateInForce(store, meta, span.from),
    store.readAccountStates(meta.name, usageSpan(span)),
  ]);
  return before === undefined ? rows : [before, ...rows];
}

/** True when days an interrupted run left stale overlap `span` (their rollups are re-summed). */
function hasStaleDays(meta: DatasetMeta, span: Span): boolean {
  return (meta.staleRollups ?? []).some((s) => s.from < span.to && span.from < s.to);
}

const plusOne = (limit: number | undefined) => (limit === undefined ? undefined : limit + 1);

export async function requireMeta(store: DatasetStore, name: string): Promise<DatasetMeta> {
  const meta = await store.getMeta(name);
  if (meta === undefined)
    throw new UnknownDatasetError(
      name,
      (await store.listMeta()).map((m) => m.name),
    );
  return meta;
}

/**
 * The finest granularity whose buckets over the part of `span` that holds rows number at most
 * MAX_AUTO_BUCKETS (a dataset's rows lie between its first and last time).
 */
function autoGranularity(meta: DatasetMeta, span: Span): Granularity {
  if (meta.firstTime === undefined || meta.lastTime === undefined) return '15m';
  const from = Math.max(Date.parse(span.from), Date.parse(meta.firstTime));
  const to = Math.min(Date.parse(span.to), Date.parse(meta.lastTime) + UNIT_MS['15m']);
  const length = Math.max(0, to - from);
  return GRANULARITIES.find((g) => length / UNIT_MS[g] <= MAX_AUTO_BUCKETS) ?? '1d';
}

/**
 * Hourly or daily rows on the zone's local boundaries. Local days (and hours) are whole UTC hours
 * in most zones: sum hourly rollups. Zones with half- or quarter-hour offsets need the raw points.
 * Reading one UTC day either side covers local buckets that straddle the span's UTC edges; as in
 * UTC, a bucket is whole and belongs to the span when it starts inside it. Paged, a page covers
 * `limit` buckets' worth of time from its start, so it holds at most `limit` rows (fewer where
 * nothing was sent) and the next page starts where it ended.
 */
async function zonedPage(
  store: DatasetStore,
  meta: DatasetMeta,
  span: Span,
  granularity: Granularity,
  zone: string,
  limit: number | undefined,
): Promise<{ rows: StatisticsRow[]; next: string | undefined; granularity: Granularity }> {
  if (granularity === '15m') {
    const rows = (await store.readPoints(meta.name, span, plusOne(limit))).map(
      ({ fetchedAt: _, ...row }) => row,
    );
    const next = limit === undefined ? undefined : rows[limit]?.Timestamp;
    return { rows: limit === undefined ? rows : rows.slice(0, limit), next, granularity };
  }
  const unit = UNIT_MS[granularity];
  // Only buckets holding stored rows can have a row: from the one holding the first row to the
  // last row, widened by stale days (a run stopped before its metadata may have left points past
  // the recorded first and last time there). Pages start there, however far back the span reaches.
  const stale = meta.staleRollups ?? [];
  const starts = [
    ...(meta.firstTime === undefined ? [] : [Date.parse(meta.firstTime)]),
    ...stale.map((s) => Date.parse(s.from)),
  ];
  const ends = [
    ...(meta.lastTime === undefined ? [] : [Date.parse(meta.lastTime) + 1]),
    ...stale.map((s) => Date.parse(s.to)),
  ];
  if (starts.length === 0) return { rows: [], next: undefined, granularity };
  const from = Math.max(Date.parse(span.from), localBucketStart(zone, Math.min(...starts), unit));
  const spanTo = Math.min(Date.parse(span.to), Math.max(...ends));
  if (from >= spanTo) return { rows: [], next: undefined, granularity };
  // A local day lasts 23 to 25 hours: `limit` nominal days from a bucket start hold at most
  // `limit` + 1 bucket starts; the first `limit` are returned.
  const to = limit === undefined ? spanTo : Math.min(spanTo, from + limit * unit);
  const wide = {
    from: isoUtc(new Date(Math.max(from - DAY_MS, Date.parse(ALL_TIME.from)))),
    // A bucket starting just before `to` may last 25 hours (a local day when clocks go back).
    to: isoUtc(new Date(Math.min(to + DAY_MS + HOUR_MS, Date.parse(ALL_TIME.to)))),
  };
  const hourly = await exactRollups(store, meta, '1h', wide);
  const whole = hourly.every((r) => offsetAt(zone, Date.parse(r.Timestamp)) % HOUR_MS === 0);
  const source: StatisticsRow[] = whole ? hourly : await store.readPoints(meta.name, wide);
  const buckets = new Map<number, StatisticsRow>();
  for (const row of source) {
    const start = localBucketStart(zone, Date.parse(row.Timestamp), unit);
    if (start < from || start >= to) continue;
    const sum = buckets.get(start);
    buckets.set(start, {
      Timestamp: sum?.Timestamp ?? localIso(zone, start),
      ...addCounts(sum ?? ZERO_COUNTS, row),
    });
  }
  const ordered = [...buckets.entries()].sort(([a], [b]) => a - b);
  if (limit === undefined)
    return { rows: ordered.map(([, row]) => row), next: undefined, granularity };
  const beyond = ordered[limit]?.[0] ?? (to < spanTo ? to : undefined);
  return {
    rows: ordered.slice(0, limit).map(([, row]) => row),
    next: beyond === undefined ? undefined : isoUtc(new Date(beyond)),
    granularity,
  };
}

/** How much of a summary's range the store covers. */
export interface SummaryCoverage {
  /** `full`: the whole range; `partial`: part of it; `none`: the range lies outside what is stored. */
  readonly status: 'full' | 'partial' | 'none';
  /** The part of the range that successful collections covered (null with `none`). */
  readonly covered: Span | null;
  /** Spans inside the covered part that no collection saw (data SES no longer had). */
  readonly gaps: readonly Span[];
  /** One plain sentence, for `partial` and `none`. */
  readonly note?: string;
}

/**
 * Totals and window rates of a statistics dataset; latest and peak quota use of a usage dataset;
 * both with the part of the range the store covers. A range outside the coverage has no totals
 * (null), not zeros.
 */
export async function summarize(
  store: DatasetStore,
  name: string,
  options: Pick<QueryOptions, 'from' | 'to' | 'since' | 'tz'>,
  now: Date = new Date(),
): Promise<Record<string, unknown>> {
  parseZone(options.tz);
  const span = parseSpan(options, now);
  const meta = await requireMeta(store, name);
  const bounded =
    options.from !== undefined || options.to !== undefined || options.since !== undefined;
  const range = {
    from: bounded && span.from !== ALL_TIME.from ? span.from : null,
    to: bounded && span.to !== ALL_TIME.to ? span.to : null,
  };
  const coverage = coverageOf(meta, bounded ? span : undefined);
  if (meta.kind === 'account')
    return {
      dataset: name,
      kind: meta.kind,
      ...range,
      coverage,
      ...(await accountSummary(store, meta, span, coverage)),
    };
  if (meta.kind === 'usage') {
    const rows = await store.readUsage(name, usageSpan(span));
    return { dataset: name, kind: meta.kind, ...range, coverage, ...usageSummary(rows) };
  }
  if (coverage.status === 'none')
    return {
      dataset: name,
      kind: meta.kind,
      ...range,
      coverage,
      DeliveryAttempts: null,
      Bounces: null,
      Complaints: null,
      Rejects: null,
      BounceRate: null,
      ComplaintRate: null,
      RejectRate: null,
    };
  const pieces = bounded ? planSpan(span) : [{ ...ALL_TIME, granularity: '1d' as const }];
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
    coverage,
    ...totals,
    BounceRate: rate(totals.Bounces),
    ComplaintRate: rate(totals.Complaints),
    RejectRate: rate(totals.Rejects),
  };
}

/**
 * The stored coverage within `range` (all of it without one). Statistics: the span successful
 * fetches covered; usage: first to last snapshot, the last included.
 */
export function coverageOf(meta: DatasetMeta, range: Span | undefined): SummaryCoverage {
  // A usage dataset covers its first snapshot to its last, inclusive: [first, last + 1 ms); an
  // account dataset its first sighting to its last, inclusive, the same way.
  const stored =
    (meta.kind === 'account' ? undefined : meta.coverage) ??
    (meta.firstTime === undefined || meta.lastTime === undefined
      ? undefined
      : { from: meta.firstTime, to: new Date(Date.parse(meta.lastTime) + 1).toISOString() });
  if (stored === undefined)
    return { status: 'none', covered: null, gaps: [], note: `"${meta.name}" holds no history yet` };
  const covered = range === undefined ? stored : overlap(stored, range);
  const described = `the stored history runs from ${stored.from} to ${stored.to}`;
  if (covered === undefined)
    return {
      status: 'none',
      covered: null,
      gaps: [],
      note: `the range lies outside the stored history: nothing is known about it (${described})`,
    };
  const gaps = meta.gaps.flatMap((g) => overlap(g, covered) ?? []);
  const length = (x: Span) => Date.parse(x.to) - Date.parse(x.from);
  // Gaps never overlap one another: what they leave of the covered part is known.
  if (gaps.reduce((total, g) => total + length(g), 0) >= length(covered))
    return {
      status: 'none',
      covered: null,
      gaps,
      note: `the range lies inside a gap: SES no longer had that time when ses-stats collected again, so nothing is known about it (${described})`,
    };
  const full =
    range === undefined ||
    (Date.parse(stored.from) <= Date.parse(range.from) &&
      Date.parse(stored.to) >= Date.parse(range.to));
  if (full && gaps.length === 0) return { status: 'full', covered, gaps };
  const missed =
    gaps.length === 0 ? '' : ` except ${gaps.length === 1 ? 'a gap' : `${gaps.length} gaps`}`;
  return {
    status: range === undefined && gaps.length === 0 ? 'full' : 'partial',
    covered,
    gaps,
    note: `${covered.from} to ${covered.to} of the range is covered${missed} (${described})`,
  };
}

/** The overlap of two spans compared as times (keys mix `…00Z` and `…00.000Z`). */
function overlap(a: Span, b: Span): Span | undefined {
  const from = Date.parse(a.from) >= Date.parse(b.from) ? a.from : b.from;
  const to = Date.parse(a.to) <= Date.parse(b.to) ? a.to : b.to;
  return Date.parse(from) < Date.parse(to) ? { from, to } : undefined;
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

/** A rate's value at one hour: the latest or the highest of a range. */
export interface RateAt {
  readonly BounceRate: number | null;
  readonly BounceRateAt: string | null;
  readonly ComplaintRate: number | null;
  readonly ComplaintRateAt: string | null;
}

/**
 * An account dataset's summary over `span`: the latest state seen in it (the one in force at its
 * end; `Sandbox` when production access is off), how many times the state changed inside it (the
 * first state ever stored is a first sighting, not a change), and the reputation hours stored in
 * it: the latest value of each rate and the highest, with their hours. States are unknown (null)
 * for a range the coverage does not reach; reputation hours are reported wherever they are stored
 * (the first fetch stores CloudWatch's last two weeks, from before the first sighting).
 */
async function accountSummary(
  store: DatasetStore,
  meta: DatasetMeta,
  span: Span,
  coverage: SummaryCoverage,
): Promise<Record<string, unknown>> {
  const [states, reputation] = await Promise.all([
    coverage.status === 'none' ? [] : statesSeenIn(store, meta, span),
    store.readReputation(meta.name, span),
  ]);
  const latest = states.at(-1);
  const first = Date.parse(meta.firstTime ?? states[0]?.FirstSeen ?? ALL_TIME.to);
  const changes = states.filter(
    (s) => Date.parse(s.FirstSeen) >= Date.parse(span.from) && Date.parse(s.FirstSeen) > first,
  ).length;
  return {
    states: states.length,
    stateChanges: coverage.status === 'none' ? null : changes,
    latest: latest === undefined ? null : { ...latest, Sandbox: !latest.ProductionAccessEnabled },
    reputationHours: reputation.length,
    latestReputation: rateAt(reputation, 'latest'),
    peakReputation: rateAt(reputation, 'peak'),
  };
}

/**
 * Each rate's latest value (the last hour that has one) or highest (the first hour of a tie),
 * with its hour; null without rows.
 */
function rateAt(rows: readonly ReputationRow[], which: 'latest' | 'peak'): RateAt | null {
  if (rows.length === 0) return null;
  const pick = (rate: 'BounceRate' | 'ComplaintRate') => {
    let best: ReputationRow | undefined;
    for (const row of rows) {
      const value = row[rate];
      const held = best?.[rate] ?? null;
      if (value !== null && (which === 'latest' || held === null || value > held)) best = row;
    }
    return [best?.[rate] ?? null, best?.Timestamp ?? null] as const;
  };
  const [bounce, bounceAt] = pick('BounceRate');
  const [complaint, complaintAt] = pick('ComplaintRate');
  return {
    BounceRate: bounce,
    BounceRateAt: bounceAt,
    ComplaintRate: complaint,
    ComplaintRateAt: complaintAt,
  };
}

/**
 * The span of `from`/`to` or `since`, checked without touching a store. A time without an offset
 * is read in `tz` (UTC without one); `since` counts back from `now` and ends at `to` or now.
 */
export function parseSpan(
  options: Pick<QueryOptions, 'from' | 'to' | 'since' | 'tz'>,
  now: Date = new Date(),
): Span {
  const zone = options.tz !== undefined && isTimeZone(options.tz) ? options.tz : undefined;
  if (options.since !== undefined && options.from !== undefined)
    throw new QueryError(
      'since',
      `received ${shown(options.since)} together with from ${shown(options.from)}; give one of them`,
    );
  const to = options.to === undefined ? undefined : parseTime('to', options.to, zone);
  let from = options.from === undefined ? ALL_TIME.from : parseTime('from', options.from, zone);
  if (options.since !== undefined) {
    const match = DURATION.exec(options.since);
    if (match === null)
      throw new QueryError(
        'since',
        `received ${shown(options.since)}; expected a duration such as 90m, 24h, 7d or 2w`,
      );
    const back = Number(match[1]) * DURATION_MS[match[2] as keyof typeof DURATION_MS];
    const end = to === undefined ? Math.ceil(now.getTime() / 1000) * 1000 : Date.parse(to);
    from = isoUtc(new Date(Math.max(end - back, Date.parse(ALL_TIME.from))));
    return { from, to: to ?? isoUtc(new Date(end)) };
  }
  const until = to ?? ALL_TIME.to;
  if (from >= until) {
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
  return { from, to: until };
}

/** A received value as written in a message: quoted, control characters escaped (whole: a caller masks secrets). */
function shown(value: string): string {
  return JSON.stringify(value);
}

/**
 * Whole seconds, UTC, in the stored keys' form; fractions round up so that bounds stay exact. A
 * date or time without an offset is a wall-clock time in `zone` (UTC without one).
 */
function parseTime(parameter: string, value: string, zone: string | undefined): string {
  let ms = Number.NaN;
  if (ISO.test(value) && realCalendar(value)) {
    if (/Z|[+-]\d{2}:\d{2}$/.test(value)) ms = Date.parse(value);
    else {
      const wall = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`);
      ms = isUtc(zone) ? wall : wallTimeToUtc(zone as string, wall);
    }
  }
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

function parseGranularity(value: string): Granularity {
  if ((GRANULARITIES as readonly string[]).includes(value)) return value as Granularity;
  throw new QueryError(
    'granularity',
    `received ${shown(value)}; allowed: ${GRANULARITIES.join(', ')}`,
  );
}

function parseSeries(value: string): AccountSeries {
  if ((ACCOUNT_SERIES as readonly string[]).includes(value)) return value as AccountSeries;
  throw new QueryError(
    'series',
    `received ${shown(value)}; allowed: ${ACCOUNT_SERIES.join(', ')} (account datasets only)`,
  );
}

function parseZone(value: string | undefined): string | undefined {
  if (value === undefined || isTimeZone(value)) return value;
  throw new QueryError(
    'tz',
    `received ${shown(value)}; expected an IANA time zone such as Europe/Paris or UTC`,
  );
}

function parseLimit(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const limit = /^[1-9]\d{0,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit <= MAX_LIMIT))
    throw new QueryError(
      'limit',
      `received ${shown(text)}; expected a whole number from 1 to ${MAX_LIMIT}`,
    );
  return limit;
}
