import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { READ_API_PATHS } from '../constants.ts';
import { QueryError, StoreError, UnknownDatasetError } from '../core/errors.ts';
import { queryDataset, requireMeta, summarize } from '../core/query.ts';
import type { DatasetStore } from '../core/store.ts';
import { datasetInfo } from './datasets.ts';
import openapi from './openapi.json' with { type: 'json' };

/** One HTTP request as the routes see it, whichever server received it. */
export interface ApiRequest {
  readonly method: string;
  /** The path without the query string, still percent-encoded. */
  readonly path: string;
  /** Every query parameter in order, decoded; a name given twice appears twice. */
  readonly query: ReadonlyArray<readonly [string, string]>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface ApiDependencies {
  readonly store: DatasetStore;
  /** Anchors `since`; the reader's clock (no write depends on it). */
  readonly now?: () => Date;
  /** Told about a failure that is not the client's (a 5xx), with the error itself. */
  readonly onServerError?: (error: unknown) => void;
}

/** A request the routes refuse before any query: an unknown route, method or parameter. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 404 | 405,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';
const CSV_TYPE = 'text/csv; charset=utf-8';
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
/** The records route's query parameters; any other is refused by name. */
export const RECORD_PARAMETERS = [
  'from',
  'to',
  'since',
  'granularity',
  'tz',
  'limit',
  'nextToken',
  'format',
  'series',
];
const SUMMARY_PARAMETERS = ['from', 'to', 'since', 'tz'];
/** The limit of a page when none is given. */
export const DEFAULT_LIMIT = 1000;

/**
 * The read API: `GET /datasets`, `/datasets/{name}`, `/datasets/{name}/records`,
 * `/datasets/{name}/summary` and `/openapi.json`, over any store. Every refusal is a 4xx with
 * `{"error": {"code", "message"}}` naming what was wrong; only a store that cannot be read or a
 * bug gives a 5xx.
 */
export async function handleApiRequest(
  request: ApiRequest,
  dependencies: ApiDependencies,
): Promise<ApiResponse> {
  try {
    return await route(request, dependencies);
  } catch (error) {
    const response = errorResponse(error);
    if (response.status >= 500) dependencies.onServerError?.(error);
    return response;
  }
}

async function route(request: ApiRequest, { store, now }: ApiDependencies): Promise<ApiResponse> {
  const segments = pathSegments(request.path);
  const [root, rawName, leaf, ...extra] = segments;
  const known =
    segments.every((segment) => segment !== '') &&
    ((segments.length === 1 && (root === 'datasets' || root === 'openapi.json')) ||
      (root === 'datasets' &&
        rawName !== undefined &&
        extra.length === 0 &&
        (leaf === undefined || leaf === 'records' || leaf === 'summary')));
  if (!known)
    throw new ApiError(
      404,
      'NotFound',
      `no route ${JSON.stringify(request.path)}; routes: GET ${READ_API_PATHS.join(', ')}`,
    );
  if (request.method !== 'GET')
    throw new ApiError(405, 'MethodNotAllowed', `method ${request.method} is not allowed; use GET`);
  if (root === 'openapi.json') {
    parameters(request, []);
    return json(200, openapi);
  }
  if (rawName === undefined) {
    parameters(request, []);
    return json(200, { datasets: (await store.listMeta()).map(datasetInfo) });
  }
  const name = datasetName(rawName);
  if (leaf === undefined) {
    parameters(request, []);
    return json(200, datasetInfo(await requireMeta(store, name)));
  }
  const clock = now?.() ?? new Date();
  if (leaf === 'summary') {
    const p = parameters(request, SUMMARY_PARAMETERS);
    return json(200, await summarize(store, name, p, clock));
  }
  const p = parameters(request, RECORD_PARAMETERS);
  const format = p.format ?? 'json';
  if (format !== 'json' && format !== 'csv')
    throw new QueryError('format', `received ${JSON.stringify(format)}; allowed: json, csv`);
  const result = await queryDataset(store, name, { ...p, limit: p.limit ?? DEFAULT_LIMIT }, clock);
  const nextToken = result.nextToken ?? null;
  if (format === 'csv')
    return {
      status: 200,
      headers: {
        'content-type': CSV_TYPE,
        ...COMMON_HEADERS,
        ...(nextToken === null ? {} : { 'x-next-token': nextToken }),
      },
      body: csv(result.columns, result.rows as unknown as ReadonlyArray<Record<string, unknown>>),
    };
  return json(200, {
    dataset: name,
    kind: result.meta.kind,
    granularity: result.granularity,
    series: result.series,
    tz: result.tz,
    from: result.span.from,
    to: result.span.to,
    columns: result.columns,
    rows: result.rows,
    nextToken,
  });
}

/** Decoded path segments; an empty segment (`//`, a trailing `/`) makes an unknown route. */
function pathSegments(path: string): string[] {
  const parts = path.split('/').slice(1);
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    throw new ApiError(
      400,
      'InvalidPath',
      `the path ${JSON.stringify(path)} is not valid percent-encoding`,
    );
  }
}

function datasetName(name: string): string {
  if (NAME_PATTERN.test(name)) return name;
  throw new ApiError(
    400,
    'InvalidParameter',
    `name: received ${JSON.stringify(name)}; expected a dataset name of ${NAME_RULE}`,
  );
}

/** The query parameters, each allowed at most once; anything else is refused by name. */
function parameters(request: ApiRequest, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of request.query) {
    if (!allowed.includes(key))
      throw new ApiError(
        400,
        'UnknownParameter',
        `${JSON.stringify(key)} is not a parameter of this route; ${allowed.length === 0 ? 'it takes none' : `allowed: ${allowed.join(', ')}`}`,
      );
    if (Object.hasOwn(out, key))
      throw new ApiError(400, 'InvalidParameter', `${key}: given more than once; give it once`);
    out[key] = value;
  }
  return out;
}

/** The one place errors become responses. */
export function errorResponse(error: unknown): ApiResponse {
  if (error instanceof ApiError) return failure(error.status, error.code, error.message);
  if (error instanceof QueryError)
    return failure(
      400,
      error.parameter === 'nextToken' ? 'InvalidNextToken' : 'InvalidParameter',
      error.message,
    );
  if (error instanceof UnknownDatasetError)
    return failure(404, 'UnknownDataset', `no dataset "${error.dataset}" is stored`);
  if (error instanceof StoreError)
    return failure(503, 'StoreUnavailable', 'the history store could not be read; try again later');
  return failure(500, 'InternalError', 'the request failed on the server; it has been logged');
}

/** An error answer, `{"error": {"code", "message"}}`: the one shape every refusal has. */
export function failure(status: number, code: string, message: string): ApiResponse {
  return json(status, { error: { code, message } });
}

function json(status: number, body: unknown): ApiResponse {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, ...COMMON_HEADERS },
    body: JSON.stringify(body),
  };
}

/** One header row and the rows: plain CSV (RFC 4180), nothing else. */
function csv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns, ...rows.map((row) => columns.map((c) => row[c]))]
    .map((line) => line.map(cell).join(','))
    .join('\r\n')
    .concat('\r\n');
}
