import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { QueryError } from './errors.ts';
import { GRANULARITIES, type Granularity, type Span } from './store.ts';

/**
 * Where the next page of a paged query starts, and the query it belongs to. The token carries the
 * span resolved on the first page (a `since` range would otherwise move between pages) and the
 * granularity chosen then.
 */
export interface PageCursor {
  /** The next row's key (UTC): the page starts there. */
  readonly cursor: string;
  readonly span: Span;
  readonly granularity: Granularity | null;
}

/** The parameters that make a query: a token is honoured only with the same ones. */
export interface QueryIdentity {
  readonly dataset: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly since?: string | undefined;
  readonly granularity?: string | undefined;
  readonly tz?: string | undefined;
  /** Account datasets: `state` or `reputation`, as given (absent and `state` are two queries). */
  readonly series?: string | undefined;
}

// The MAC makes a token tamper-evident, not secret: anyone allowed to call the API may read every
// row anyway, so a forged token could only reveal what an honest query returns. A fixed key keeps
// tokens valid across Lambda instances and `serve` restarts without any stored secret.
const KEY = 'ses-stats/page-token/v1';
const MAC_BYTES = 16;

export function encodePageToken(identity: QueryIdentity, page: PageCursor): string {
  const body = Buffer.from(
    JSON.stringify({
      q: fingerprint(identity),
      c: page.cursor,
      f: page.span.from,
      t: page.span.to,
      g: page.granularity,
    }),
  ).toString('base64url');
  return `${body}.${mac(body).toString('base64url')}`;
}

/** The cursor in `token`; a QueryError (parameter nextToken) when it was altered or belongs to another query. */
export function decodePageToken(token: string, identity: QueryIdentity): PageCursor {
  const [body, signature, ...rest] = token.split('.');
  const given = Buffer.from(signature ?? '', 'base64url');
  const expected = body === undefined ? undefined : mac(body);
  if (
    rest.length > 0 ||
    body === undefined ||
    expected === undefined ||
    given.length !== expected.length ||
    !timingSafeEqual(given, expected)
  )
    throw new QueryError(
      'nextToken',
      'is not a token this API issued, or it was altered; pass nextToken exactly as a response returned it',
    );
  const page = payload(body);
  if (page.q !== fingerprint(identity))
    throw new QueryError(
      'nextToken',
      'belongs to another query: repeat the dataset, from, to, since, granularity, tz and series of the request that returned it',
    );
  if (identity.granularity !== undefined && page.g !== identity.granularity)
    throw new QueryError('nextToken', 'was issued for another granularity');
  return { cursor: page.c, span: { from: page.f, to: page.t }, granularity: page.g };
}

const KEY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * The token's payload, checked field by field: the key is public (see KEY), so a well-signed
 * token may still carry anything. A cursor must lie inside its span.
 */
function payload(body: string): {
  q: string;
  c: string;
  f: string;
  t: string;
  g: Granularity | null;
} {
  let page: unknown;
  try {
    page = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    page = undefined;
  }
  const p = (page ?? {}) as Record<string, unknown>;
  // A real instant, written as the stored keys are (Date.parse would roll 30 February over).
  const time = (v: unknown): v is string =>
    typeof v === 'string' &&
    KEY_TIME.test(v) &&
    !Number.isNaN(Date.parse(v)) &&
    [v, v.replace(/Z$/, '.000Z')].includes(new Date(v).toISOString());
  if (
    typeof p.q === 'string' &&
    time(p.c) &&
    time(p.f) &&
    time(p.t) &&
    (p.g === null || (GRANULARITIES as readonly unknown[]).includes(p.g)) &&
    Date.parse(p.f) <= Date.parse(p.c) &&
    Date.parse(p.c) < Date.parse(p.t)
  )
    return p as { q: string; c: string; f: string; t: string; g: Granularity | null };
  throw new QueryError(
    'nextToken',
    'does not hold a page of a query; pass nextToken exactly as a response returned it',
  );
}

function fingerprint(identity: QueryIdentity): string {
  const { dataset, from, to, since, granularity, tz, series } = identity;
  return createHash('sha256')
    .update(
      JSON.stringify([
        dataset,
        from ?? null,
        to ?? null,
        since ?? null,
        granularity ?? null,
        tz ?? null,
        // Only when given: the tokens of the other kinds' queries stay what they were.
        ...(series === undefined ? [] : [series]),
      ]),
    )
    .digest('base64url')
    .slice(0, 22);
}

function mac(body: string): Buffer {
  return createHmac('sha256', KEY).update(body).digest().subarray(0, MAC_BYTES);
}
