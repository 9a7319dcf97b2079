/**
 * CloudWatch `GetMetricData` as @aws-sdk/client-cloudwatch 3.1164.0 speaks it, for the fake SES
 * (./fake-ses.ts) to mount: JSON 1.0 (`POST /`, `X-Amz-Target:
 * GraniteServiceVersion20100801.GetMetricData`, `x-amzn-query-mode: true`, times as epoch
 * seconds), signed for `monitoring`, errors in the awsQuery-compatible form (a JSON body with
 * `__type` and the query code in `x-amzn-query-error: Code;Sender`, which the SDK names the error
 * after). The fake SES serves it beside SES on one URL; `startFakeCloudWatch` (fake-ses.ts) serves
 * it alone.
 *
 * Only AWS's account-level reputation series are held: `AWS/SES` `Reputation.BounceRate` and
 * `Reputation.ComplaintRate`, hourly averages without dimensions. A query for them with Period
 * 3600 and Stat Average gets their points in [StartTime, EndTime); any other query gets none.
 */
import { createHash } from 'node:crypto';

/** The `X-Amz-Target` prefix of CloudWatch's JSON operations. */
export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801.';

/** CloudWatch's SigV4 signing name. */
export const CLOUDWATCH_SIGNING_NAME = 'monitoring';

/** One hourly average; `timestamp` is ISO 8601 (UTC). */
export interface FakeMetricPoint {
  timestamp: string;
  value: number;
}

/** The two reputation series, in any order; assign a new object or arrays to revise them. */
export interface FakeReputation {
  bounceRate: FakeMetricPoint[];
  complaintRate: FakeMetricPoint[];
}

/** One query of a recorded `GetMetricData` call, as the client sent it. */
export interface RecordedMetricQuery {
  id: string;
  namespace?: string;
  metricName?: string;
  dimensions: Array<{ name: string; value: string }>;
  period?: number;
  stat?: string;
}

/** One `GetMetricData` call that passed its checks (signature, token). */
export interface GetMetricDataCall {
  queries: RecordedMetricQuery[];
  startTime: Date;
  endTime: Date;
  nextToken?: string;
  at: Date;
}

/** A JSON answer: its status, extra headers and body. */
export interface JsonAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const SERIES: Readonly<Record<string, keyof FakeReputation>> = {
  'Reputation.BounceRate': 'bounceRate',
  'Reputation.ComplaintRate': 'complaintRate',
};

/** CloudWatch's own limit on the data points of one page. */
export const MAX_DATAPOINTS = 100_800;

/** The operation an `X-Amz-Target` header names, or undefined when it is not CloudWatch's. */
export function cloudWatchOperation(target: string | undefined): string | undefined {
  return target?.startsWith(CLOUDWATCH_TARGET_PREFIX)
    ? target.slice(CLOUDWATCH_TARGET_PREFIX.length)
    : undefined;
}

/** The `__type` real CloudWatch sends with a query code. */
const ERROR_TYPES: Readonly<Record<string, string>> = {
  AccessDenied: 'com.amazon.coral.service#AccessDeniedException',
  Throttling: 'com.amazon.coral.availability#ThrottlingException',
};

/** An error in CloudWatch's awsQuery-compatible JSON form; `code` is the query code (`AccessDenied`). */
export function cloudWatchError(status: number, code: string, message: string): JsonAnswer {
  return {
    status,
    headers: { 'x-amzn-query-error': `${code};${status >= 500 ? 'Receiver' : 'Sender'}` },
    body: JSON.stringify({
      __type: ERROR_TYPES[code] ?? `com.amazonaws.cloudwatch#${code}`,
      message,
    }),
  };
}

/**
 * Answers one `GetMetricData` request body from `reputation`, at most `pageSize` points a page
 * (and at most the request's `MaxDatapoints`): the queries' points in query order, each query's
 * newest first unless `ScanBy` is `TimestampAscending`. `call` is set when the request was valid.
 */
export function answerGetMetricData(
  body: Buffer,
  reputation: FakeReputation,
  pageSize: number,
): { answer: JsonAnswer; call?: GetMetricDataCall } {
  let request: GetMetricDataRequest;
  try {
    request = parseRequest(body);
  } catch (error) {
    return { answer: cloudWatchError(400, 'InvalidParameterValue', (error as Error).message) };
  }
  const { queries, startTime, endTime } = request;
  const fingerprint = createHash('sha256').update(JSON.stringify(request.raw)).digest('hex');
  const offset = request.nextToken === undefined ? 0 : offsetOf(request.nextToken, fingerprint);
  if (offset === undefined)
    return {
      answer: cloudWatchError(400, 'InvalidNextToken', 'The service cannot decode NextToken.'),
    };
  const entries = queries.flatMap((q) =>
    pointsFor(q, reputation, startTime, endTime, request.ascending).map((p) => ({
      id: q.id,
      ...p,
    })),
  );
  const size = Math.max(1, Math.min(pageSize, request.maxDatapoints ?? MAX_DATAPOINTS));
  const page = entries.slice(offset, offset + size);
  const end = offset + page.length;
  const results = queries.map((q) => {
    const mine = page.filter((e) => e.id === q.id);
    const remaining = entries.slice(end).some((e) => e.id === q.id);
    return {
      Id: q.id,
      Label: q.metricName ?? q.id,
      Timestamps: mine.map((e) => e.t / 1000),
      Values: mine.map((e) => e.value),
      StatusCode: remaining ? 'PartialData' : 'Complete',
    };
  });
  const nextToken = end < entries.length ? tokenOf(end, fingerprint) : undefined;
  const call: GetMetricDataCall = {
    queries,
    startTime,
    endTime,
    ...(request.nextToken === undefined ? {} : { nextToken: request.nextToken }),
    at: new Date(),
  };
  return {
    call,
    answer: {
      status: 200,
      headers: {},
      body: JSON.stringify({
        MetricDataResults: results,
        Messages: [],
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      }),
    },
  };
}

interface GetMetricDataRequest {
  raw: unknown;
  queries: RecordedMetricQuery[];
  startTime: Date;
  endTime: Date;
  nextToken?: string;
  maxDatapoints?: number;
  ascending: boolean;
}

/** The request's fields, checked as CloudWatch checks them; throws naming what is wrong. */
function parseRequest(body: Buffer): GetMetricDataRequest {
  const json = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  const { MetricDataQueries, StartTime, EndTime, NextToken, MaxDatapoints, ScanBy } = json;
  if (typeof StartTime !== 'number' || typeof EndTime !== 'number')
    throw new Error('StartTime and EndTime are required (epoch seconds).');
  if (StartTime >= EndTime) throw new Error('The parameter StartTime must be less than EndTime.');
  if (!Array.isArray(MetricDataQueries) || MetricDataQueries.length === 0)
    throw new Error('MetricDataQueries is required and must not be empty.');
  const queries = MetricDataQueries.map(parseQuery);
  return {
    // What a token is tied to: the same query over the same range.
    raw: { MetricDataQueries, StartTime, EndTime, MaxDatapoints, ScanBy },
    queries,
    startTime: new Date(StartTime * 1000),
    endTime: new Date(EndTime * 1000),
    ...(typeof NextToken === 'string' ? { nextToken: NextToken } : {}),
    ...(typeof MaxDatapoints === 'number' ? { maxDatapoints: MaxDatapoints } : {}),
    ascending: ScanBy === 'TimestampAscending',
  };
}

function parseQuery(query: unknown): RecordedMetricQuery {
  const q = query as {
    Id?: unknown;
    MetricStat?: {
      Metric?: {
        Namespace?: string;
        MetricName?: string;
        Dimensions?: Array<{ Name: string; Value: string }>;
      };
      Period?: number;
      Stat?: string;
    };
  };
  // CloudWatch's own rule: an id starts with a lower-case letter.
  if (typeof q.Id !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(q.Id))
    throw new Error(
      `The value ${String(q.Id)} for parameter MetricDataQueries.member.Id is invalid.`,
    );
  const stat = q.MetricStat;
  return {
    id: q.Id,
    namespace: stat?.Metric?.Namespace,
    metricName: stat?.Metric?.MetricName,
    dimensions: (stat?.Metric?.Dimensions ?? []).map((d) => ({ name: d.Name, value: d.Value })),
    period: stat?.Period,
    stat: stat?.Stat,
  };
}

function pointsFor(
  q: RecordedMetricQuery,
  reputation: FakeReputation,
  start: Date,
  end: Date,
  ascending: boolean,
): Array<{ t: number; value: number }> {
  const series = q.metricName === undefined ? undefined : SERIES[q.metricName];
  const served =
    series !== undefined &&
    q.namespace === 'AWS/SES' &&
    q.dimensions.length === 0 &&
    q.period === 3600 &&
    q.stat === 'Average';
  if (!served) return [];
  return reputation[series]
    .map((p) => ({ t: Date.parse(p.timestamp), value: p.value }))
    .filter((p) => p.t >= start.getTime() && p.t < end.getTime())
    .sort((a, b) => (ascending ? a.t - b.t : b.t - a.t));
}

function tokenOf(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ offset, fingerprint })).toString('base64url');
}

/** A token is good only for the request it was issued for. */
function offsetOf(token: string, fingerprint: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      offset?: unknown;
      fingerprint?: unknown;
    };
    return parsed.fingerprint === fingerprint && typeof parsed.offset === 'number'
      ? parsed.offset
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Hourly points from `from` for `hours` hours with values `value(i)` (the i-th hour): a series
 * a test can assign to `fake.reputation.bounceRate` or `.complaintRate`.
 */
export function hourlySeries(
  from: Date,
  hours: number,
  value: (i: number) => number,
): FakeMetricPoint[] {
  const start = Math.floor(from.getTime() / 3600_000) * 3600_000;
  return Array.from({ length: hours }, (_, i) => ({
    timestamp: new Date(start + i * 3600_000).toISOString().replace('.000Z', 'Z'),
    value: value(i),
  }));
}
