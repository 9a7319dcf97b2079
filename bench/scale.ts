/**
 * Thousands of sources (issue 12): the real collect handler, run as the deployment runs it, over
 * sources in distinct accounts (the `accounts` shorthand: one role per account, assumed through
 * the fake STS, so every source is its own SES identity and pace key), against the fake SES with
 * LATENCY_MS (default 100) per call and per-identity pacing recorded, on DynamoDB Local.
 *
 * A run: the scheduled invocation (a child process, the handler unchanged) orders the sources
 * stalest first and sends one message per identity and region to a fake SQS queue (SendMessageBatch,
 * 10 at a time); the event source mapping is simulated by a pool of `fanOutConcurrency` (5) warm
 * containers (child processes importing the handler once), each taking SQS events of up to
 * at most 10 messages (the FIFO queue's limit), as Lambda's mapping hands them. Wall time is from the scheduled
 * invocation's start to the last batch's end. Every DynamoDB request goes through a meter that
 * asks for its consumed capacity (bench/scale-servers.ts).
 *
 * Measured, by default (2-4 minutes on 2 cores; docs/benchmarks.md "Thousands of sources"):
 * - STORE_SOURCES (50, one batch) busy sources in one batch invocation, storing: the backfill of
 *   full 14-day windows into an empty table, then a steady run (SES's view an hour later) in
 *   the same warm container. DynamoDB Local takes about 3.5 s per source's backfill, so more
 *   does not fit in bench time.
 * - SES_SOURCES (1,000) busy sources fanned out, the scheduled invocation real, the batch
 *   invocations collecting without a store (roles, calls, pacing, parsing).
 * - Storing at 1,000 and 10,000 sources, extrapolated: the scheduled invocation + rounds of
 *   `fanOutConcurrency` batches × the measured batch time.
 * - 1,000 busy sources in one process (collectAll, no store): bench/scale-collect.ts.
 * SCALE_LONG=1 adds 10,000 quiet sources fanned out (SES side only) and the CLI over 1,000
 * (about 9 minutes); SCALE_FULL=1 stores every run (10,000 backfills: hours); SCALE_INLINE=0
 * skips the one-process runs.
 *
 *   npx tsx bench/scale.ts
 *   SCALE_LONG=1 npx tsx bench/scale.ts
 *   STORE_SOURCES=100 SES_SOURCES=500,2000 SCALE_DEBUG=1 npx tsx bench/scale.ts
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { ensureTable } from '../lambda/adapters/dynamodb-table.ts';
import { startEmbeddedDynamoDb } from '../lambda/adapters/embedded-dynamodb.ts';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_FAN_OUT_CONCURRENCY,
} from '../lambda/config/defaults.ts';
import { ENV } from '../lambda/constants.ts';
import { FIFO_MAX_BATCH_SIZE } from '../lib/collector.ts';
import { FAKE_KEYS_ENV } from '../test/support/cli.ts';
import { type FakeSes, startFakeSes } from '../test/support/fake-ses.ts';
import { SesWorld } from '../test/support/ses-world.ts';
import { benchScaleCollect, type ScaleFigures } from './scale-collect.ts';
import {
  type DynamoDbMeter,
  type FakeSqs,
  startDynamoDbMeter,
  startFakeSqs,
} from './scale-servers.ts';
import type { Invocation, InvocationReport } from './scale-worker.ts';

/** The collector's memory (lib/defaults.ts DEFAULT_MEMORY_SIZE_MB), which GB-seconds are billed at. */
const MEMORY_MB = 256;
/** Messages (here one source each) a batch invocation gets: a FIFO queue's mapping hands at most 10. */
const EVENT_MESSAGES = Math.min(FIFO_MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE);
const STORE_SOURCES = Number(process.env.STORE_SOURCES ?? EVENT_MESSAGES);
/** SCALE_LONG=1: also 10,000 sources (quiet) and the CLI over 1,000: about 9 minutes. */
const LONG = process.env.SCALE_LONG === '1';
const SES_SOURCES = (process.env.SES_SOURCES ?? (LONG ? '1000,10000' : '1000'))
  .split(',')
  .map(Number);
/** Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. */
const LAMBDA_VCPU = MEMORY_MB / 1769;
const LATENCY_MS = Number(process.env.LATENCY_MS ?? 100);
const FULL = process.env.SCALE_FULL === '1';
const INLINE = process.env.SCALE_INLINE !== '0';
const HOUR_MS = 3_600_000;
const RUNS_PER_MONTH = 730;

/** Public us-east-1 prices (December 2026), in dollars. */
const PRICE = {
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  storageGbMonth: 0.25,
  sqsRequest: 0.4 / 1e6,
};
/**
 * Lambda's SQS event source mapping long-polls the queue even when it is empty: it starts with 5
 * pollers, each a ReceiveMessage of up to 20 s, so about 5 × 3 a minute, billed like any request.
 */
const IDLE_RECEIVES_PER_MONTH = 5 * 3 * 60 * RUNS_PER_MONTH;

/**
 * The container's code: bench/scale-worker.ts and the handler it imports, bundled as
 * lib/defaults.ts LAMBDA_BUNDLING bundles the function (as bench/cold-init.ts does), so init
 * time and memory are the deployed artifact's, not tsx's.
 */
async function bundleWorker(dir: string): Promise<string> {
  const outfile = join(dir, 'worker', 'index.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'scale-worker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: true,
    outfile,
    banner: {
      js: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return outfile;
}
let WORKER = '';

/** What one run of the collector did, measured. */
interface RunFigures {
  readonly label: string;
  readonly sources: number;
  readonly wallMs: number;
  readonly invocations: readonly InvocationReport[];
  readonly sesCalls: number;
  readonly assumeRoles: number;
  readonly violations: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly sqsSends: number;
  readonly batches: number;
  readonly stored: boolean;
  /** Its first invocation is the scheduled one (a fanned-out run), the rest batches. */
  readonly scheduled: boolean;
  /** CPU time of this process (fake SES and STS, the DynamoDB meter) during the run. */
  readonly benchCpuMs: number;
}

const accountId = (i: number) => String(100_000_000_000 + i);

/** The accounts of `n` sources: 12-digit ids, one region, every account's role on the fake STS. */
function writeConfig(dir: string, name: string, n: number, ses: FakeSes, batchSize: number) {
  const accounts = Array.from({ length: n }, (_, i) => ({ id: accountId(i) }));
  const config = {
    batchSize,
    sessions: {
      org: { serviceUrl: ses.url, region: ses.region, accounts, externalId: 'ses-stats-bench' },
    },
    activities: [{ session: 'org' }],
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** A warm container: one child process, invoked one event at a time. */
class Container {
  private readonly child: ChildProcess;
  private stderr = '';
  private waiting = new Map<number, (r: InvocationReport) => void>();
  private next = 0;

  constructor(env: Record<string, string>) {
    this.child = fork(WORKER, [], {
      execArgv: ['--enable-source-maps'],
      env: { PATH: process.env.PATH ?? '', ...env },
      // The handler's log lines (one per source) go nowhere: CloudWatch is costed elsewhere.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.child.on('message', (report: InvocationReport) => {
      this.waiting.get(report.id)?.(report);
      this.waiting.delete(report.id);
    });
    this.child.on('exit', (code) => {
      if (this.waiting.size > 0)
        throw new Error(`a container exited (${code}) mid-invocation: ${this.stderr}`);
    });
  }

  invoke(event: unknown, noStore?: readonly string[]): Promise<InvocationReport> {
    const id = this.next++;
    const invocation: Invocation = { id, event, noStore };
    return new Promise((done) => {
      this.waiting.set(id, done);
      this.child.send(invocation);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

interface Deps {
  readonly ses: FakeSes;
  readonly sqs: FakeSqs;
  readonly meter: DynamoDbMeter;
  readonly dir: string;
  readonly dbEndpoint: string;
}

function containerEnv(deps: Deps, config: string, table: string, queue: boolean) {
  return {
    ...FAKE_KEYS_ENV,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_STS: deps.ses.url,
    AWS_ENDPOINT_URL_DYNAMODB: deps.meter.url,
    AWS_ENDPOINT_URL_SQS: deps.sqs.url,
    POWERTOOLS_METRICS_NAMESPACE: 'ses-stats-bench',
    [ENV.CONFIG_FILE]: config,
    [ENV.TABLE_NAME]: table,
    ...(queue ? { [ENV.BATCH_QUEUE_URL]: deps.sqs.queueUrl } : {}),
  };
}

/** One batch invocation's event: the messages as Lambda's SQS event source mapping hands them. */
function sqsEvent(bodies: readonly string[], first: number) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${first + i}`,
      receiptHandle: `r${first + i}`,
      body,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ses-stats-bench-batches',
      awsRegion: 'us-east-1',
    })),
  };
}

/**
 * One fanned-out run: the scheduled invocation on the first container, then the queue's messages
 * in events of `batchSize`, taken by the `fanOut` containers as each becomes free.
 */
async function fannedOutRun(
  deps: Deps,
  containers: readonly Container[],
  label: string,
  sources: number,
  stored: boolean,
): Promise<RunFigures> {
  deps.ses.reset();
  deps.meter.take();
  deps.sqs.sendRequests = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const [first] = containers;
  if (first === undefined) throw new Error('no containers');
  const scheduled = await first.invoke({});
  if (process.env.SCALE_DEBUG)
    console.error(
      label,
      'scheduled',
      s(scheduled.wallMs),
      scheduled.initMs,
      JSON.stringify(scheduled.answer),
    );
  check(scheduled, label);
  const dispatched = (scheduled.answer as { dispatched?: number }).dispatched;
  if (dispatched !== sources)
    throw new Error(`${label}: the scheduled run dispatched ${dispatched}; expected ${sources}`);
  const bodies = deps.sqs.drain();
  const events: { event: unknown; names: string[] }[] = [];
  for (let i = 0; i < bodies.length; i += EVENT_MESSAGES) {
    const chunk = bodies.slice(i, i + EVENT_MESSAGES);
    events.push({
      event: sqsEvent(chunk, i),
      names: chunk.flatMap((b) => (JSON.parse(b) as { activities: string[] }).activities),
    });
  }
  const invocations: InvocationReport[] = [scheduled];
  let nextEvent = 0;
  await Promise.all(
    containers.map(async (container) => {
      for (let e = events[nextEvent++]; e !== undefined; e = events[nextEvent++]) {
        const report = await container.invoke(e.event, stored ? undefined : e.names);
        if (process.env.SCALE_DEBUG)
          console.error(label, 'batch', s(report.wallMs), mb(report.maxRssKb));
        check(report, label);
        invocations.push(report);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const usage = deps.meter.take();
  return {
    label,
    sources,
    wallMs,
    invocations,
    ...sesFigures(deps.ses),
    writeUnits: usage.writeUnits,
    readUnits: usage.readUnits,
    sqsSends: deps.sqs.sendRequests,
    batches: events.length,
    stored,
    scheduled: true,
    benchCpuMs: cpuMs(cpu),
  };
}

/**
 * One batch invocation of `sources` busy sources (one message each, as the scheduled run plans
 * them for distinct identities), storing: the unit every fanned-out run is made of.
 */
async function batchRun(deps: Deps, container: Container, label: string, sources: number) {
  deps.ses.reset();
  deps.meter.take();
  const bodies = Array.from({ length: sources }, (_, i) =>
    JSON.stringify({ v: 1, activities: [`${accountId(i)}-${deps.ses.region}-stats`] }),
  );
  const cpu = process.cpuUsage();
  const started = performance.now();
  const report = await container.invoke(sqsEvent(bodies, 0));
  check(report, label);
  const usage = deps.meter.take();
  return {
    label,
    sources,
    wallMs: performance.now() - started,
    invocations: [report],
    ...sesFigures(deps.ses),
    writeUnits: usage.writeUnits,
    readUnits: usage.readUnits,
    sqsSends: 0,
    batches: 1,
    stored: true,
    scheduled: false,
    benchCpuMs: cpuMs(cpu),
  } satisfies RunFigures;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

function sesFigures(ses: FakeSes) {
  return {
    sesCalls: ses.requests.filter((r) => r.action.startsWith('GetSend')).length,
    assumeRoles: ses.assumeRoleCalls.length,
    violations: ses.pacingViolations.length,
  };
}

/** An invocation that threw, or a batch that names messages to retry, ends the bench. */
function check(report: InvocationReport, label: string): void {
  if (report.error !== undefined)
    throw new Error(`${label}: an invocation failed: ${report.error}`);
  const failures = (report.answer as { batchItemFailures?: unknown[] } | undefined)
    ?.batchItemFailures;
  if (failures !== undefined && failures.length > 0)
    throw new Error(`${label}: ${failures.length} messages reported failed`);
}

/** DynamoDB's item size: attribute names and values in UTF-8 (numbers about 1 byte per 2 digits). */
function itemBytes(item: Record<string, AttributeValue>): number {
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S);
    if (v.N !== undefined) return Math.ceil(v.N.replace(/[-.]/g, '').length / 2) + 1;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.L !== undefined) return 3 + v.L.reduce((s, e) => s + 1 + value(e), 0);
    if (v.M !== undefined)
      return (
        3 + Object.entries(v.M).reduce((s, [k, e]) => s + 1 + Buffer.byteLength(k) + value(e), 0)
      );
    return 0;
  };
  return Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k) + value(v), 0);
}

/** Average stored size of each kind of item (raw point, rollups, usage snapshot), from a sample. */
async function itemSizes(endpoint: string, table: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const sums = new Map<string, { bytes: number; items: number }>();
  try {
    const out = await client.send(new ScanCommand({ TableName: table, Limit: 5000 }));
    for (const item of out.Items ?? []) {
      const kind = /#(15m|1h|1d|usage)$/.exec(item.pk?.S ?? '')?.[1] ?? 'meta';
      const sum = sums.get(kind) ?? { bytes: 0, items: 0 };
      sum.bytes += itemBytes(item);
      sum.items++;
      sums.set(kind, sum);
    }
  } finally {
    client.destroy();
  }
  const average = (kind: string) => {
    const s = sums.get(kind);
    return s === undefined ? 0 : s.bytes / s.items;
  };
  return {
    point: average('15m'),
    hour: average('1h'),
    day: average('1d'),
    usage: average('usage'),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ses-stats-scale-'));
  WORKER = await bundleWorker(dir);
  const db = await startEmbeddedDynamoDb(undefined);
  const meter = await startDynamoDbMeter(db.endpoint);
  const sqs = await startFakeSqs();
  const ses = await startFakeSes({ latencyMs: LATENCY_MS, pacing: 'record' });
  const deps: Deps = { ses, sqs, meter, dir, dbEndpoint: db.endpoint };
  const world = new SesWorld();
  const now = Date.now();
  const tableClient = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const containers: Container[] = [];
  const startPool = (config: string, table: string) => {
    for (const c of containers.splice(0)) c.stop();
    for (let i = 0; i < DEFAULT_FAN_OUT_CONCURRENCY; i++)
      containers.push(new Container(containerEnv(deps, config, table, true)));
  };
  try {
    // 1. One batch invocation of STORE_SOURCES busy sources, storing: the backfill (SES's view
    //    three hours ago) in a fresh container; a steady run an hour on in another fresh one (an
    //    hour later no container is warm), and the next hour's in that one, warm (as a container
    //    takes batch after batch).
    const storeTable = 'scale-store';
    await ensureTable(tableClient, storeTable, { where: 'DynamoDB Local' });
    const storeConfig = writeConfig(dir, 'store', STORE_SOURCES, ses, DEFAULT_BATCH_SIZE);
    const fresh = () => {
      for (const c of containers.splice(0)) c.stop();
      const container = new Container(containerEnv(deps, storeConfig, storeTable, false));
      containers.push(container);
      return container;
    };
    ses.points = world.view(now - 3 * HOUR_MS);
    const backfill = await batchRun(deps, fresh(), 'backfill', STORE_SOURCES);
    progress(backfill);
    const container = fresh();
    ses.points = world.view(now - 2 * HOUR_MS);
    const steady = await batchRun(deps, container, 'steady', STORE_SOURCES);
    progress(steady);
    ses.points = world.view(now - HOUR_MS);
    const warm = await batchRun(deps, container, 'steady, warm', STORE_SOURCES);
    progress(warm);
    const sizes = await itemSizes(db.endpoint, storeTable);
    // 2. SES_SOURCES: every source's SES side (roles, calls, pacing), fanned out, without a store.
    const large: RunFigures[] = [];
    for (const n of SES_SOURCES) {
      const table = `scale-ses-${n}`;
      await ensureTable(tableClient, table, { where: 'DynamoDB Local' });
      startPool(writeConfig(dir, `ses-${n}`, n, ses, DEFAULT_BATCH_SIZE), table);
      // Beyond 1,000 sources SES answers empty windows (quiet accounts) unless SCALE_FULL: 2 cores
      // cannot parse 10,000 full windows (about 2 GB of XML) in bench time.
      const busy = FULL || n <= 1000;
      ses.points = busy ? world.view(now) : [];
      const label = FULL ? 'backfill' : busy ? 'SES only, busy' : 'SES only, quiet';
      large.push(await fannedOutRun(deps, containers, label, n, FULL));
      progress(large.at(-1) as RunFigures);
    }
    for (const c of containers.splice(0)) c.stop();
    // 3. One invocation over 1,000 busy sources without a store, and the CLI: bench/scale-collect.ts.
    if (INLINE)
      execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-cli.mjs')]);
    const oneProcess = INLINE ? await benchScaleCollect(LONG ? ['core', 'cli'] : ['core']) : [];
    print({ backfill, steady, warm, large, sizes, oneProcess });
  } finally {
    for (const c of containers) c.stop();
    tableClient.destroy();
    await ses.close();
    await sqs.close();
    await meter.close();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function progress(run: RunFigures): void {
  if (process.env.SCALE_DEBUG)
    console.error(
      run.label,
      run.sources,
      s(run.wallMs),
      JSON.stringify({ w: run.writeUnits, r: run.readUnits, calls: run.sesCalls }),
    );
}

interface Figures {
  readonly backfill: RunFigures;
  readonly steady: RunFigures;
  /** The next steady run in the same container. */
  readonly warm: RunFigures;
  readonly large: readonly RunFigures[];
  readonly sizes: Awaited<ReturnType<typeof itemSizes>>;
  readonly oneProcess: readonly ScaleFigures[];
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const peakKb = (run: RunFigures) => Math.max(...run.invocations.map((i) => i.maxRssKb));
/** The batch invocations of a fanned-out run (the first invocation is the scheduled one). */
const batchMs = (run: RunFigures) =>
  run.invocations.slice(run.scheduled ? 1 : 0).map((i) => i.wallMs);
/** Sources collected at once: fanned out, `fanOutConcurrency` invocations of `concurrency` each. */
const AT_ONCE = DEFAULT_FAN_OUT_CONCURRENCY * Math.min(DEFAULT_CONCURRENCY, EVENT_MESSAGES);

/** Sources ÷ sources at once × latency: a source's two calls run side by side, one latency each. */
function lowerBoundMs(sources: number, fannedOut: boolean): number {
  return (sources / (fannedOut ? AT_ONCE : DEFAULT_CONCURRENCY)) * LATENCY_MS;
}

/** The naive baseline: every call one after another, two per source. */
const sequentialMs = (sources: number) => 2 * sources * LATENCY_MS;

function runLine(run: RunFigures, fannedOut = true): string {
  const bound = lowerBoundMs(run.sources, fannedOut);
  return [
    `  ${run.label.padEnd(15)} ${String(run.sources).padStart(6)} sources ${s(run.wallMs).padStart(7)}`,
    `${(run.wallMs / bound).toFixed(1)}x the lower bound ${s(bound)}`,
    `${(sequentialMs(run.sources) / run.wallMs).toFixed(1)}x faster than sequential ${s(sequentialMs(run.sources))}`,
    `${run.sesCalls} SES calls, ${run.assumeRoles} roles assumed, ${run.violations} pacing violations, peak RSS ${mb(peakKb(run))}`,
    `CPU: invocations ${s(run.invocations.reduce((t, i) => t + i.cpuMs, 0))}, fake SES + meter ${s(run.benchCpuMs)}`,
  ].join('; ');
}

/** Fanned-out runs whose time storing is extrapolated. */
const EXTRAPOLATED = [1000, 10_000];

/**
 * A fanned-out run of `sources` storing, from measured parts: the scheduled invocation of the
 * measured run of that many sources (or of the largest one, scaled linearly), plus one measured
 * mean batch time of `stored` per round of `fanOutConcurrency` batches.
 */
function extrapolatedMs(
  measured: readonly RunFigures[],
  sources: number,
  stored: RunFigures,
): number {
  const ses =
    measured.find((r) => r.sources === sources) ??
    [...measured].sort((a, b) => b.sources - a.sources)[0];
  const scheduledMs = ((ses?.invocations[0]?.wallMs ?? 0) * sources) / (ses?.sources ?? sources);
  const rounds = Math.ceil(sources / EVENT_MESSAGES / DEFAULT_FAN_OUT_CONCURRENCY);
  return scheduledMs + rounds * mean(batchMs(stored));
}

/**
 * A batch's duration on Lambda: the longer of the measured wall time and its measured CPU time at
 * the function's share of a vCPU (this box's 2 cores are shared by 5 containers, the fakes and
 * DynamoDB Local, but a 256 MB function has only 256/1769 of a vCPU).
 */
function lambdaBatchMs(run: RunFigures): number {
  const invocations = run.invocations.slice(run.scheduled ? 1 : 0);
  return Math.max(
    mean(invocations.map((i) => i.wallMs)),
    mean(invocations.map((i) => i.cpuMs)) / LAMBDA_VCPU,
  );
}

function costPerSourceMonth(f: Figures, deployment: RunFigures) {
  const { steady, sizes } = f;
  const n = deployment.sources;
  const batches = Math.ceil(n / EVENT_MESSAGES);
  // Invocations of one hourly run: the scheduled one (measured at n) and n/50 batches at the
  // measured mean steady batch time; no container is warm an hour later, so each of the
  // fanOutConcurrency + 1 containers pays its init (billed since August 2025).
  const initMs = f.backfill.invocations[0]?.initMs ?? 0;
  const containers = DEFAULT_FAN_OUT_CONCURRENCY + 1;
  const scheduledMs = deployment.invocations[0]?.wallMs ?? 0;
  const batchLambdaMs = lambdaBatchMs(steady);
  const lambdaMs = scheduledMs + batches * batchLambdaMs + containers * initMs;
  const gbSeconds = (lambdaMs / 1000) * (MEMORY_MB / 1024);
  const requests = 1 + batches;
  const sqsPerRun = deployment.sqsSends + 2 * Math.ceil(n / 10);
  const perMonth = (perRun: number) => (perRun * RUNS_PER_MONTH) / n;
  const wru = steady.writeUnits / steady.sources;
  const rru = steady.readUnits / steady.sources;
  // A busy source adds, each hour, 4 raw points, an hourly rollup and a usage snapshot, and a
  // daily rollup a day; DynamoDB bills 100 bytes of overhead per item.
  const bytesPerMonth =
    RUNS_PER_MONTH * (4 * (sizes.point + 100) + (sizes.hour + 100) + (sizes.usage + 100)) +
    30.4 * (sizes.day + 100);
  const cost = {
    lambdaDuration: perMonth(gbSeconds) * PRICE.lambdaGbSecond,
    lambdaRequests: perMonth(requests) * PRICE.lambdaRequest,
    dynamoWrites: wru * RUNS_PER_MONTH * PRICE.writeUnit,
    dynamoReads: rru * RUNS_PER_MONTH * PRICE.readUnit,
    dynamoStorage: (bytesPerMonth / 1e9) * PRICE.storageGbMonth,
    sqs: (perMonth(sqsPerRun) + IDLE_RECEIVES_PER_MONTH / n) * PRICE.sqsRequest,
  };
  const total = Object.values(cost).reduce((a, b) => a + b, 0);
  const how = {
    lambdaDuration: `(${s(scheduledMs)} scheduled + ${batches} batches × ${s(batchLambdaMs)} + ${containers} inits × ${s(initMs)}) × ${MEMORY_MB / 1024} GB = ${gbSeconds.toFixed(1)} GB-s a run × ${RUNS_PER_MONTH} ÷ ${n} × $0.0000133334`,
    lambdaRequests: `${requests} invocations a run × ${RUNS_PER_MONTH} ÷ ${n} × $0.20/M`,
    dynamoWrites: `${wru.toFixed(1)} WRU a source-run × ${RUNS_PER_MONTH} × $0.625/M`,
    dynamoReads: `${rru.toFixed(1)} RRU a source-run × ${RUNS_PER_MONTH} × $0.125/M`,
    dynamoStorage: `${(bytesPerMonth / 1e6).toFixed(2)} MB added a month (point ${sizes.point.toFixed(0)} B, hour ${sizes.hour.toFixed(0)} B, day ${sizes.day.toFixed(0)} B, usage ${sizes.usage.toFixed(0)} B, +100 B an item) × $0.25/GB; a year of history costs 12x this`,
    sqs: `(${deployment.sqsSends} SendMessageBatch + ${Math.ceil(n / 10)} ReceiveMessage + ${Math.ceil(n / 10)} DeleteMessageBatch a run × ${RUNS_PER_MONTH} + ~${IDLE_RECEIVES_PER_MONTH.toLocaleString('en-US')} idle long polls a month) ÷ ${n} × $0.40/M`,
  };
  return { n, cost, total, how };
}

function print(f: Figures): void {
  const { backfill, steady, warm, large, oneProcess } = f;
  const peakMb = Math.max(peakKb(backfill), peakKb(steady), peakKb(warm)) / 1024;
  console.log(
    `scale: sources in distinct accounts (roles assumed through the fake STS), fake SES ${LATENCY_MS} ms per call, pacing per identity recorded, DynamoDB Local`,
  );
  console.log(
    `  fanned out: the real handler, batches of ${EVENT_MESSAGES}, ${DEFAULT_FAN_OUT_CONCURRENCY} invocations at once, concurrency ${DEFAULT_CONCURRENCY}; lower bound = sources ÷ ${AT_ONCE} at once × ${LATENCY_MS} ms (a source's 2 calls in parallel), sequential = 2 calls × ${LATENCY_MS} ms a source`,
  );
  console.log(
    `  measured, storing to DynamoDB Local: one batch invocation of ${steady.sources} busy sources (14-day windows), backfill then steady an hour later (lower bound: ${steady.sources} ÷ ${DEFAULT_CONCURRENCY} × ${LATENCY_MS} ms)`,
  );
  console.log(runLine(backfill, false));
  console.log(runLine(steady, false));
  console.log(runLine(warm, false));
  console.log(
    '  measured, SES side only (batch invocations collect and drop; the scheduled run is the real one):',
  );
  for (const run of large) console.log(runLine(run));
  console.log(
    `  extrapolated, storing (the scheduled run measured above + rounds of ${DEFAULT_FAN_OUT_CONCURRENCY} batches × the mean ${steady.sources}-source batch time on DynamoDB Local: steady ${s(mean(batchMs(steady)))}, backfill ${s(mean(batchMs(backfill)))}):`,
  );
  for (const target of EXTRAPOLATED) {
    const st = extrapolatedMs(large, target, steady);
    const bf = extrapolatedMs(large, target, backfill);
    console.log(
      `    ${String(target).padStart(6)} sources: steady ${s(st)} (${(st / lowerBoundMs(target, true)).toFixed(1)}x the lower bound ${s(lowerBoundMs(target, true))}, ${(sequentialMs(target) / st).toFixed(1)}x faster than sequential ${s(sequentialMs(target))}), backfill ${s(bf)}`,
    );
  }
  console.log(
    `  on Lambda at ${MEMORY_MB} MB (${LAMBDA_VCPU.toFixed(3)} vCPU): a steady batch's ${s(mean(steady.invocations.map((i) => i.cpuMs)))} of CPU takes >= ${s(lambdaBatchMs(steady))} (measured here: ${s(mean(batchMs(steady)))}); a backfill batch's ${s(mean(backfill.invocations.map((i) => i.cpuMs)))}, >= ${s(lambdaBatchMs(backfill))}`,
  );
  for (const p of oneProcess)
    console.log(
      `  one process, ${p.label === 'cli' ? 'CLI collect --no-store' : 'collectAll, no store'} over 1,000 busy sources (bench/scale-collect.ts): ${s(p.wallMs)}, peak RSS ${p.peakRssMb.toFixed(0)} MB, ${p.violations} pacing violations`,
    );
  console.log(
    `  peak RSS of one invocation (its container's): a batch of ${EVENT_MESSAGES} busy sources backfilling ${mb(peakKb(backfill))}, steady ${mb(peakKb(steady))}, steady warm ${mb(peakKb(warm))} (target <= ${MEMORY_MB} MB: ${peakMb <= MEMORY_MB ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  DynamoDB per source: steady run ${(steady.writeUnits / steady.sources).toFixed(1)} write units, ${(steady.readUnits / steady.sources).toFixed(1)} read units; backfill ${(backfill.writeUnits / backfill.sources).toFixed(0)} write units, ${(backfill.readUnits / backfill.sources).toFixed(1)} read units`,
  );
  const costs = large.map((run) => costPerSourceMonth(f, run));
  for (const c of costs) {
    console.log(
      `  cost per source-month, ${c.n} sources, us-east-1, ${RUNS_PER_MONTH} hourly runs (CloudWatch apart: docs/deploy.md "## Cost"): $${c.total.toFixed(4)} (target <= $0.05)`,
    );
    for (const [name, value] of Object.entries(c.cost))
      console.log(
        `    ${name.padEnd(15)} $${value.toFixed(6)} = ${c.how[name as keyof typeof c.how]}`,
      );
  }
  const runJson = (r: RunFigures, fannedOut = true) => ({
    label: r.label,
    sources: r.sources,
    stored: r.stored,
    wallS: +(r.wallMs / 1000).toFixed(2),
    overLowerBound: +(r.wallMs / lowerBoundMs(r.sources, fannedOut)).toFixed(2),
    sequentialOverWall: +(sequentialMs(r.sources) / r.wallMs).toFixed(1),
    peakRssMb: Math.round(peakKb(r) / 1024),
    pacingViolations: r.violations,
    writeUnitsPerSource: +(r.writeUnits / r.sources).toFixed(2),
    readUnitsPerSource: +(r.readUnits / r.sources).toFixed(2),
  });
  console.log(
    JSON.stringify({
      bench: 'scale',
      latencyMs: LATENCY_MS,
      runs: [
        runJson(backfill, false),
        runJson(steady, false),
        runJson(warm, false),
        ...large.map((r) => runJson(r)),
      ],
      extrapolatedSteadyS: Object.fromEntries(
        EXTRAPOLATED.map((n) => [n, +(extrapolatedMs(large, n, steady) / 1000).toFixed(1)]),
      ),
      extrapolatedBackfillS: Object.fromEntries(
        EXTRAPOLATED.map((n) => [n, +(extrapolatedMs(large, n, backfill) / 1000).toFixed(1)]),
      ),
      oneProcess: oneProcess.map((p) => ({
        label: p.label,
        wallS: +(p.wallMs / 1000).toFixed(1),
        peakRssMb: Math.round(p.peakRssMb),
        violations: p.violations,
      })),
      costPerSourceMonth: Object.fromEntries(costs.map((c) => [c.n, +c.total.toFixed(5)])),
      targetsMet:
        peakMb <= MEMORY_MB &&
        costs.every((c) => c.total <= 0.05) &&
        [backfill, steady, warm, ...large].every((r) => r.violations === 0),
    }),
  );
}

await main();
