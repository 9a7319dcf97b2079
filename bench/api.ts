/**
 * The read API's Lambda handler (lambda/handlers/api.ts) on one year of a busy account stored in
 * DynamoDB Local through the real write path (27 collections of a two-week SES window):
 * 1. warm latency p50/p99 of a one-year daily query and a one-week 15-minute query, through the
 *    handler bundled as the CDK bundles it, against the naive handler (bench/naive-api-handler.ts:
 *    Query every raw point of the span and sum them in the handler), in the same process;
 * 2. items read per row returned (GetItem items + each Query's ScannedCount, counted by a
 *    middleware on the DynamoDB client) for a one-year daily query, a one-week 15-minute query, a
 *    one-year hourly query followed through every page and a 30-day summary;
 * 3. the cold request (a fresh Node process: load the bundle, then the one-year daily query),
 *    against the naive handler's esbuild bundle doing the same query, medians of ROUNDS.
 */

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type ConsumedCapacity,
  DynamoDBClient,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { DynamoDbDatasetStore } from '../lambda/adapters/dynamodb-dataset-store.ts';
import { ensureTable } from '../lambda/adapters/dynamodb-table.ts';
import { startEmbeddedDynamoDb } from '../lambda/adapters/embedded-dynamodb.ts';
import { handleApiRequest } from '../lambda/api/router.ts';
import { ENV } from '../lambda/constants.ts';
import { mapLimited } from '../lambda/core/concurrency.ts';
import { buildStatisticsRows } from '../lambda/core/datasets.ts';
import { storeActivityResult } from '../lambda/core/persist.ts';
import { DAY_MS, planSpan } from '../lambda/core/time.ts';
import type { ApiGatewayEvent, ApiGatewayResult } from '../lambda/handlers/api.ts';
import { twoWeekWindow } from '../test/support/fake-ses.ts';
import { type Timing, timeColdStart } from './cold-start.ts';

/** Cold starts of each bundle (API_BENCH_ROUNDS, at least 7 for the figures). */
const ROUNDS = Number(process.env.API_BENCH_ROUNDS ?? 9);
/** Warm requests of each query and handler after WARM_UP untimed ones (API_BENCH_REQUESTS). */
const REQUESTS = Number(process.env.API_BENCH_REQUESTS ?? 50);
const WARM_UP = 10;
/** Timed requests of the naive one-year daily query (API_BENCH_NAIVE_DAILY_REQUESTS). */
const NAIVE_DAILY_REQUESTS = Number(process.env.API_BENCH_NAIVE_DAILY_REQUESTS ?? 7);
const TABLE_NAME = 'api-bench';
const DATASET = 'statsData';
const START = Date.parse('2025-12-01T00:00:00Z');
const YEAR = { from: '2025-12-01', to: '2026-12-01' };
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

const QUERIES = {
  daily: `granularity=1d&from=${YEAR.from}&to=${YEAR.to}`,
  week: 'granularity=15m&from=2026-06-01&to=2026-06-08',
  hourly: `granularity=1h&from=${YEAR.from}&to=${YEAR.to}`,
  // Ragged edges: raw points and hourly rollups at both ends, daily rollups between.
  summary: 'from=2026-10-01T09:30:00Z&to=2026-10-31T09:30:00Z',
} as const;

type Handler = (event: ApiGatewayEvent) => Promise<ApiGatewayResult>;

/** An HTTP API (payload 2.0) event on the `$default` stage. */
function event(leaf: 'records' | 'summary', query: string): ApiGatewayEvent {
  return {
    version: '2.0',
    rawPath: `/datasets/${DATASET}/${leaf}`,
    rawQueryString: query,
    requestContext: { http: { method: 'GET' }, stage: '$default' },
  };
}

// The two bundles: ours as lib/defaults.ts LAMBDA_BUNDLING has the CDK build it (esbuild, minified
// ESM, main fields module then main, the createRequire banner, a source map without sources,
// the SDK bundled, target of the Node 24 runtime), the naive one with esbuild's defaults.
const dir = mkdtempSync(join(tmpdir(), 'api-bench-'));
const ours = join(dir, 'ours', 'index.mjs');
const naive = join(dir, 'naive', 'index.js');
await build({
  entryPoints: [join(import.meta.dirname, '..', 'lambda', 'handlers', 'api.ts')],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  outfile: ours,
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'silent',
});
await build({
  entryPoints: [join(import.meta.dirname, 'naive-api-handler.ts')],
  bundle: true,
  platform: 'node',
  outfile: naive,
  logLevel: 'silent',
});

const db = await startEmbeddedDynamoDb(undefined);
const client = new DynamoDBClient({
  endpoint: db.endpoint,
  region: 'us-east-1',
  credentials: CREDENTIALS,
});
// What Lambda and the stack give the function.
const functionEnv = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  [ENV.TABLE_NAME]: TABLE_NAME,
};
try {
  const fill = await fillYear();
  const reads = await readsPerRow();
  Object.assign(process.env, functionEnv);
  const handlers = {
    ours: (await import(pathToFileURL(ours).href)).handler as Handler,
    naive: (await import(pathToFileURL(naive).href)).handler as Handler,
  };
  await sameAnswers(handlers);
  const warm = await warmLatency(handlers);
  const cold = await coldStarts();
  print(fill, reads, warm, cold);
} finally {
  client.destroy();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * One year of a busy account, every 15-minute bucket sending: collections 14 days apart, and a
 * last one on the year's end, each storing its SES window, usage snapshot and rollups through
 * storeActivityResult and DynamoDbDatasetStore, as the collector does. The store's conditional
 * PutItems of raw points (one request each: about 2 minutes for a year on DynamoDB Local) are
 * held back by a middleware and written after each collection by BatchWriteItem, item for item as
 * the store built them; into an empty table, every one of their conditions holds.
 */
async function fillYear() {
  const started = performance.now();
  await ensureTable(client, TABLE_NAME, { where: 'DynamoDB Local' });
  const filler = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  let held: Array<Record<string, AttributeValue>> = [];
  filler.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Partial<PutItemCommandInput>;
      if (context.commandName !== 'PutItemCommand' || !input.Item?.pk?.S?.endsWith('#15m'))
        return next(args);
      held.push(input.Item);
      return { output: { $metadata: {} }, response: undefined };
    },
    { step: 'build', name: 'benchHoldPointWrites' },
  );
  const store = new DynamoDbDatasetStore(filler, { tableName: TABLE_NAME });
  const fetches = [...Array.from({ length: 26 }, (_, k) => (k + 1) * 14), 365];
  let written = 0;
  try {
    for (const [k, days] of fetches.entries()) {
      const fetchedAt = new Date(START + days * DAY_MS);
      const rows = buildStatisticsRows(
        twoWeekWindow(fetchedAt, { seed: k + 1, emptyEvery: 0 }).map((p) => ({
          ...p,
          timestamp: new Date(p.timestamp),
        })),
      );
      const report = await storeActivityResult(
        store,
        {
          activity: {
            name: 'bench',
            source: 'SESSession1',
            usageDataset: 'usageData',
            statisticsDataset: DATASET,
          },
          usage: {
            name: 'usageData',
            rows: [
              {
                CollectedAt: fetchedAt.toISOString(),
                Max24HourSend: 200_000,
                MaxSendRate: 50,
                SentLast24Hours: 90_000,
              },
            ],
          },
          statistics: { name: DATASET, rows },
        },
        { fetchedAt },
      );
      written += report.pointsWritten;
      const batches: Array<Array<Record<string, AttributeValue>>> = [];
      for (let i = 0; i < held.length; i += 25) batches.push(held.slice(i, i + 25));
      held = [];
      await mapLimited(batches, 4, async (batch) => {
        let pending = batch.map((Item) => ({ PutRequest: { Item } }));
        while (pending.length > 0) {
          const out = await client.send(
            new BatchWriteItemCommand({ RequestItems: { [TABLE_NAME]: pending } }),
          );
          pending = (out.UnprocessedItems?.[TABLE_NAME] ?? []) as typeof pending;
        }
      });
    }
  } finally {
    filler.destroy();
  }
  const meta = await new DynamoDbDatasetStore(client, { tableName: TABLE_NAME }).getMeta(DATASET);
  if (meta?.count !== 365 * 96)
    throw new Error(`the year holds ${meta?.count} points after ${written} point writes`);
  return {
    points: meta.count,
    written,
    collections: fetches.length,
    seconds: (performance.now() - started) / 1000,
  };
}

interface ReadCount {
  readonly items: number;
  readonly units: number;
  readonly rows: number;
  readonly pages: number;
  /** What the naive handler reads for the same answer: every raw point of the span. */
  readonly naiveItems: number;
}

/** The summary's count, with the least it could read: the metadata and the items of its pieces. */
interface SummaryCount extends ReadCount {
  readonly minimum: number;
}

/**
 * Items read per row returned, in process through the router over a store whose client counts
 * the items of every GetItem and Query (ScannedCount) and whose `onConsumed` sums read units.
 */
async function readsPerRow(): Promise<
  Record<Exclude<keyof typeof QUERIES, 'summary'>, ReadCount> & { summary: SummaryCount }
> {
  const counted = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  let items = 0;
  let units = 0;
  counted.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const output = out.output as { ScannedCount?: number; Item?: unknown };
      if (context.commandName === 'QueryCommand') items += output.ScannedCount ?? 0;
      else if (context.commandName === 'GetCommand' || context.commandName === 'GetItemCommand')
        items += output.Item === undefined ? 0 : 1;
      else throw new Error(`unexpected ${context.commandName} on the read path`);
      return out;
    },
    { step: 'initialize', name: 'benchItemCounter' },
  );
  const store = new DynamoDbDatasetStore(counted, {
    tableName: TABLE_NAME,
    onConsumed: (_operation, capacity: ConsumedCapacity | ConsumedCapacity[] | undefined) => {
      for (const c of [capacity ?? []].flat()) units += c.CapacityUnits ?? 0;
    },
  });
  const rawCounts = new Map<string, number>();
  const rawPoints = async (query: string) => {
    const params = new URLSearchParams(query);
    const key = `${params.get('from')} ${params.get('to')}`;
    const known = rawCounts.get(key);
    if (known !== undefined) return known;
    const before = items;
    await store.readPoints(DATASET, {
      from: new Date(params.get('from') ?? '').toISOString().replace('.000Z', 'Z'),
      to: new Date(params.get('to') ?? '').toISOString().replace('.000Z', 'Z'),
    });
    rawCounts.set(key, items - before);
    return items - before;
  };
  const measure = async (leaf: 'records' | 'summary', query: string): Promise<ReadCount> => {
    const naiveItems = await rawPoints(query);
    items = 0;
    units = 0;
    let rows = 0;
    let pages = 0;
    let token: string | null = null;
    do {
      const page = await handleApiRequest(
        {
          method: 'GET',
          path: `/datasets/${DATASET}/${leaf}`,
          query: [
            ...new URLSearchParams(query),
            ...(token === null ? [] : [['nextToken', token] as const]),
          ],
        },
        { store },
      );
      if (page.status !== 200) throw new Error(`${leaf}?${query}: ${page.status} ${page.body}`);
      const body = JSON.parse(page.body) as { rows?: unknown[]; nextToken?: string | null };
      rows += body.rows?.length ?? 1;
      token = body.nextToken ?? null;
      pages++;
    } while (token !== null);
    return { items, units, rows, pages, naiveItems };
  };
  // The summary's pieces (raw points and hourly rollups at ragged edges, daily rollups between):
  // the items inside each, counted apart from what the store read for them.
  const params = new URLSearchParams(QUERIES.summary);
  let inPieces = 0;
  for (const piece of planSpan({ from: params.get('from') ?? '', to: params.get('to') ?? '' }))
    inPieces += (
      piece.granularity === '15m'
        ? await store.readPoints(DATASET, piece)
        : await store.readRollups(DATASET, piece.granularity, piece)
    ).length;
  try {
    return {
      daily: await measure('records', QUERIES.daily),
      week: await measure('records', QUERIES.week),
      hourly: await measure('records', QUERIES.hourly),
      summary: { ...(await measure('summary', QUERIES.summary)), minimum: 1 + inPieces },
    };
  } finally {
    counted.destroy();
  }
}

/** Both handlers give the same daily sums and the same week of points. */
async function sameAnswers(handlers: Record<'ours' | 'naive', Handler>): Promise<void> {
  for (const [query, rows] of [
    [QUERIES.daily, 365],
    [QUERIES.week, 672],
  ] as const) {
    const [a, b] = await Promise.all(
      [handlers.ours, handlers.naive].map(async (h) => {
        const out = await h(event('records', query));
        if (out.statusCode !== 200) throw new Error(`${query}: ${out.statusCode} ${out.body}`);
        return (JSON.parse(out.body) as { rows: Array<Record<string, unknown>> }).rows;
      }),
    );
    const key = (r: Record<string, unknown>) =>
      `${Date.parse(String(r.Timestamp))} ${r.DeliveryAttempts} ${r.Bounces} ${r.Complaints} ${r.Rejects}`;
    if (a?.length !== rows || JSON.stringify(a.map(key)) !== JSON.stringify(b?.map(key)))
      throw new Error(`${query}: the handlers disagree (${a?.length} and ${b?.length} rows)`);
  }
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
}

/**
 * Warm requests through each bundle in this process: WARM_UP untimed, then REQUESTS timed, the
 * naive handler's requests spread among ours so that both meet the same DynamoDB Local. The naive
 * one-year daily query reads every raw point (seconds each): NAIVE_DAILY_REQUESTS of it.
 */
async function warmLatency(handlers: Record<'ours' | 'naive', Handler>) {
  const run = async (query: string, naiveRequests: number) => {
    const times = { ours: [] as number[], naive: [] as number[] };
    const timed = async (name: 'ours' | 'naive', keep: boolean) => {
      const t0 = performance.now();
      const out = await handlers[name](event('records', query));
      const ms = performance.now() - t0;
      if (out.statusCode !== 200) throw new Error(`${name} ${query}: ${out.statusCode}`);
      if (keep) times[name].push(ms);
    };
    const total = WARM_UP + REQUESTS;
    const naiveWarmUp = Math.min(WARM_UP, Math.ceil(naiveRequests / 5));
    const naiveTotal = naiveWarmUp + naiveRequests;
    for (let i = 0, n = 0; i < total; i++) {
      await timed('ours', i >= WARM_UP);
      // The naive handler's n-th request once ours has done its share of the run.
      for (; n < naiveTotal && n * total <= i * naiveTotal; n++)
        await timed('naive', n >= naiveWarmUp);
    }
    return { ours: percentiles(times.ours), naive: percentiles(times.naive), naiveRequests };
  };
  return {
    daily: await run(QUERIES.daily, NAIVE_DAILY_REQUESTS),
    week: await run(QUERIES.week, REQUESTS),
  };
}

/** p50 and p99 by nearest rank (of 50 requests, p99 is the slowest). */
function percentiles(xs: number[]): Latency {
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return { p50: rank(0.5), p99: rank(0.99) };
}

/** ROUNDS cold requests of each bundle, alternating which goes first. */
async function coldStarts() {
  // As deployed: the stack sets NODE_OPTIONS=--enable-source-maps on the API function.
  const variants = [
    { bundle: ours, flags: ['--enable-source-maps'] },
    { bundle: naive, flags: [] as string[] },
  ];
  const times = variants.map(() => [] as Timing[]);
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < variants.length; k++) {
      const i = (k + round) % variants.length;
      const v = variants[i] as (typeof variants)[number];
      times[i]?.push(await coldStart(v.bundle, v.flags));
    }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const part = (i: number) => ({
    total: median((times[i] ?? []).map((t) => t.total)),
    load: median((times[i] ?? []).map((t) => t.load)),
    run: median((times[i] ?? []).map((t) => t.run)),
    bytes: statSync(variants[i]?.bundle ?? '').size,
  });
  return { ours: part(0), naive: part(1) };
}

function coldStart(bundle: string, flags: readonly string[]): Promise<Timing> {
  const script = `const t0 = performance.now(); import(${JSON.stringify(pathToFileURL(bundle).href)}).then(async (m) => { const t1 = performance.now(); const out = await m.handler(${JSON.stringify(event('records', QUERIES.daily))}); const t2 = performance.now(); const rows = JSON.parse(out.body).rows?.length; if (out.statusCode !== 200 || rows !== 365) throw new Error('answered ' + out.statusCode + ' with ' + rows + ' rows: ' + out.body.slice(0, 300)); process.stdout.write('\\nDONE ' + (t1 - t0) + ' ' + (t2 - t1) + '\\n'); }).catch((e) => { console.error(e); process.exitCode = 1; });`;
  return timeColdStart(bundle, script, functionEnv, flags);
}

function print(
  fill: Awaited<ReturnType<typeof fillYear>>,
  reads: Awaited<ReturnType<typeof readsPerRow>>,
  warm: Awaited<ReturnType<typeof warmLatency>>,
  cold: Awaited<ReturnType<typeof coldStarts>>,
): void {
  const ms = (n: number) => n.toFixed(1);
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(
    `read API: one year of a busy account (${fill.points} points, ${fill.collections} collections through storeActivityResult in ${fill.seconds.toFixed(0)} s), DynamoDB Local 3.3.1`,
  );
  console.log(
    `warm latency, in process (the bundles), ${REQUESTS} requests each after ${WARM_UP} (the naive daily query: ${warm.daily.naiveRequests})   ses-stats p50 / p99   naive p50 / p99   p50 ratio`,
  );
  for (const [label, w] of [
    ['one-year daily (365 rows)', warm.daily],
    ['one-week 15m (672 rows)', warm.week],
  ] as const)
    console.log(
      `  ${label.padEnd(26)} ${`${ms(w.ours.p50)} / ${ms(w.ours.p99)} ms`.padStart(56)}   ${`${ms(w.naive.p50)} / ${ms(w.naive.p99)} ms`.padStart(15)}   ${x(w.ours.p50, w.naive.p50).padStart(9)}`,
    );
  console.log(
    'items read (GetItem + Query ScannedCount)        items   rows   pages   items/row   read units   naive items',
  );
  for (const [label, r] of [
    ['one-year daily', reads.daily],
    ['one-week 15m', reads.week],
    ['one-year hourly, every page', reads.hourly],
    ['30-day summary (ragged edges)', reads.summary],
  ] as const)
    console.log(
      `  ${label.padEnd(44)} ${String(r.items).padStart(6)} ${String(r.rows).padStart(6)} ${String(r.pages).padStart(7)} ${(r === reads.summary ? '-' : (r.items / r.rows).toFixed(3)).padStart(11)} ${r.units.toFixed(1).padStart(12)} ${String(r.naiveItems).padStart(13)}`,
    );
  const recordQueries = [reads.daily, reads.week, reads.hourly];
  const worst = Math.max(...recordQueries.map((r) => r.items / r.rows));
  console.log(
    `  records: at most ${worst.toFixed(3)} items read per row returned (target <= 1.1); the summary answers one object from ${reads.summary.items} items (the least: ${reads.summary.minimum}, the metadata and the items inside its pieces)`,
  );
  console.log(
    `cold request: fresh process, load + one-year daily query, median of ${ROUNDS}   total ms   (load   first query)   bundle bytes`,
  );
  for (const [name, c] of [
    ['ses-stats', cold.ours],
    ['naive', cold.naive],
  ] as const)
    console.log(
      `  ${name.padEnd(76)} ${c.total.toFixed(0).padStart(8)}   (${c.load.toFixed(0).padStart(4)}   ${c.run.toFixed(0).padStart(11)})   ${String(c.bytes).padStart(12)}`,
    );
  const coldRatio = cold.ours.total / cold.naive.total;
  console.log(`  ses-stats / naive: ${coldRatio.toFixed(2)}x (target <= 0.7x)`);
  const round1 = (n: number) => Math.round(n * 10) / 10;
  console.log(
    JSON.stringify({
      bench: 'api',
      points: fill.points,
      warmMs: Object.fromEntries(
        Object.entries(warm).map(([k, w]) => [
          k,
          {
            sesStats: { p50: round1(w.ours.p50), p99: round1(w.ours.p99) },
            naive: { p50: round1(w.naive.p50), p99: round1(w.naive.p99) },
            p50Ratio: +(w.ours.p50 / w.naive.p50).toFixed(3),
          },
        ]),
      ),
      itemsRead: Object.fromEntries(
        Object.entries(reads).map(([k, r]) => [
          k,
          {
            items: r.items,
            rows: r.rows,
            pages: r.pages,
            ...('minimum' in r
              ? { minimum: r.minimum }
              : { perRow: +(r.items / r.rows).toFixed(3) }),
            readUnits: round1(r.units),
            naiveItems: r.naiveItems,
          },
        ]),
      ),
      coldMs: {
        sesStats: {
          total: Math.round(cold.ours.total),
          load: Math.round(cold.ours.load),
          firstQuery: Math.round(cold.ours.run),
        },
        naive: {
          total: Math.round(cold.naive.total),
          load: Math.round(cold.naive.load),
          firstQuery: Math.round(cold.naive.run),
        },
      },
      coldRatio: +coldRatio.toFixed(3),
      bundleBytes: { sesStats: cold.ours.bytes, naive: cold.naive.bytes },
      itemsPerRowMax: +worst.toFixed(3),
      targetsMet: worst <= 1.1 && coldRatio <= 0.7,
    }),
  );
}
