// The read API as the dashboard calls it: same origin, relative paths (so the page also works
// behind a path prefix), JSON only.

import type { DatasetInfo } from '../lambda/api/datasets.ts';
import type { AccountRow, StatisticsRow, UsageRow } from '../lambda/core/datasets.ts';
import type { Span } from '../lambda/core/store.ts';

// The API's shapes are the server's own types (type-only imports: esbuild drops them, so nothing
// of lambda/ is bundled). A quota snapshot's `Max24HourSend` -1 means unlimited.
export type { DatasetInfo as Dataset, Span, StatisticsRow, UsageRow };

export type Granularity = '15m' | '1h' | '1d';

export interface RecordsPage<Row> {
  readonly dataset: string;
  readonly granularity: Granularity | null;
  readonly tz: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly rows: readonly Row[];
  readonly nextToken: string | null;
}

export interface Coverage {
  readonly status: 'full' | 'partial' | 'none';
  readonly covered: Span | null;
  readonly gaps: readonly Span[];
}

/** Counts are null for a range outside the stored history (nothing is known, not zero). */
export interface StatisticsSummary {
  readonly DeliveryAttempts: number | null;
  readonly Bounces: number | null;
  readonly Complaints: number | null;
  readonly Rejects: number | null;
  /** Fractions; null without delivery attempts. */
  readonly BounceRate: number | null;
  readonly ComplaintRate: number | null;
  readonly RejectRate: number | null;
  readonly coverage?: Coverage;
}

/** Each reputation rate with its hour (fractions), as the account summary gives them. */
export interface RatesAt {
  readonly BounceRate: number | null;
  readonly BounceRateAt: string | null;
  readonly ComplaintRate: number | null;
  readonly ComplaintRateAt: string | null;
}

/** The summary of an account dataset: its latest state and AWS's reputation rates. */
export interface AccountSummary {
  readonly latest: AccountRow | null;
  readonly stateChanges: number | null;
  readonly latestReputation: RatesAt | null;
}

/** An answer the API refused, with its own message (which names the parameter). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Rows per page; the API allows 1-1000. */
const PAGE_LIMIT = 1000;
/** A runaway token chain stops here (200,000 rows) rather than loading forever. */
const MAX_PAGES = 200;

export function datasetPath(name: string, route?: 'records' | 'summary'): string {
  const path = `datasets/${encodeURIComponent(name)}`;
  return route === undefined ? path : `${path}/${route}`;
}

export async function getJson<T>(
  path: string,
  params: URLSearchParams | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const query = params === undefined || params.size === 0 ? '' : `?${params}`;
  const response = await fetch(`${path}${query}`, {
    signal,
    headers: { accept: 'application/json' },
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
    throw new ApiError(
      typeof message === 'string' ? message : `${path}: HTTP ${response.status}`,
      response.status,
    );
  }
  if (body === undefined) throw new ApiError(`${path}: the answer is not JSON`, response.status);
  return body as T;
}

/** Every row of a records query, following nextToken; the first page carries the query's echo. */
export async function allRecords<Row>(
  name: string,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<{ first: RecordsPage<Row>; rows: Row[]; complete: boolean }> {
  const rows: Row[] = [];
  let first: RecordsPage<Row> | undefined;
  let token: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams(params);
    query.set('limit', String(PAGE_LIMIT));
    if (token !== null) query.set('nextToken', token);
    const answer: RecordsPage<Row> = await getJson(datasetPath(name, 'records'), query, signal);
    first ??= answer;
    rows.push(...answer.rows);
    token = answer.nextToken;
    if (token === null) return { first, rows, complete: true };
  }
  if (first === undefined) throw new ApiError(`${name}: no page read`, 0);
  return { first, rows, complete: false };
}
