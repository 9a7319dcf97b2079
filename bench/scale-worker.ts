/**
 * One warm Lambda container of the collector, for bench/scale.ts, which bundles this file with the
 * handler as the CDK bundles the function (esbuild, minified ESM, source maps): a child process that imports
 * the real handler (lambda/handlers/collect.ts) on its first invocation (the cold start) and then
 * runs every event the parent sends it, one at a time, as Lambda does. Its environment (config
 * file, table, endpoints) is set by the parent. After each invocation it reports the wall time,
 * the process's peak RSS so far (what a container's memory must hold) and the handler's answer.
 *
 * `noStore` invocations collect a batch's sources with `collectAll` and no store (SES time only),
 * through the same sources and pacing as the handler: the 10,000-source run, whose backfill
 * DynamoDB Local on 2 cores cannot take in bench time.
 */
import { readFileSync } from 'node:fs';

export interface Invocation {
  readonly id: number;
  /** An SQS event, or `{}` for the scheduled run. */
  readonly event: unknown;
  /** Collect the named activities without a store instead of calling the handler. */
  readonly noStore?: readonly string[];
}

export interface InvocationReport {
  readonly id: number;
  readonly wallMs: number;
  /** Only on a container's first invocation: importing the handler (config, clients). */
  readonly initMs?: number;
  /** process.resourceUsage().maxRSS: the container's peak so far, in KB. */
  readonly maxRssKb: number;
  /** CPU time (user + system) the invocation took, in ms. */
  readonly cpuMs: number;
  readonly answer?: unknown;
  readonly error?: string;
}

/** Lambda's default timeout for the collector (lib/defaults.ts DEFAULT_TIMEOUT): 5 minutes. */
const TIMEOUT_MS = 300_000;

let cpuAtStart = process.cpuUsage();
type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => unknown;
let handler: Handler | undefined;

async function loadHandler(): Promise<{ handler: Handler; initMs?: number }> {
  if (handler !== undefined) return { handler };
  const started = performance.now();
  handler = (await import('../lambda/handlers/collect.ts')).handler as Handler;
  return { handler, initMs: performance.now() - started };
}

let config: import('../lambda/config/schema.ts').Config | undefined;

/** SES time only: the named activities of the config, collected and dropped. */
async function collectWithoutStore(names: readonly string[]): Promise<unknown> {
  const { parseConfig } = await import('../lambda/config/schema.ts');
  const { createSecretReader } = await import('../lambda/adapters/secrets.ts');
  const { sourcesFor } = await import('../lambda/adapters/ses-statistics-source.ts');
  const { systemClock } = await import('../lambda/adapters/system-clock.ts');
  const { collectAll } = await import('../lambda/core/activity.ts');
  config ??= parseConfig(JSON.parse(readFileSync(process.env.SES_STATS_CONFIG_FILE ?? '', 'utf8')));
  const wanted = new Set(names);
  const runs = sourcesFor(
    config.activities.filter((a) => wanted.has(a.name)),
    { secrets: createSecretReader({ env: {} }) },
  );
  const outcome = await collectAll(runs, { clock: systemClock, concurrency: config.concurrency });
  return { collected: outcome.collected, failed: outcome.failures.length };
}

async function invoke(invocation: Invocation): Promise<InvocationReport> {
  const started = performance.now();
  cpuAtStart = process.cpuUsage();
  try {
    if (invocation.noStore !== undefined) {
      const answer = await collectWithoutStore(invocation.noStore);
      return report(invocation.id, started, { answer });
    }
    const loaded = await loadHandler();
    const called = performance.now();
    const deadline = Date.now() + TIMEOUT_MS;
    const answer = await loaded.handler(invocation.event, {
      getRemainingTimeInMillis: () => deadline - Date.now(),
    });
    return report(invocation.id, called, { answer, initMs: loaded.initMs });
  } catch (error) {
    return report(invocation.id, started, {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

function report(
  id: number,
  started: number,
  rest: Pick<InvocationReport, 'answer' | 'error' | 'initMs'>,
): InvocationReport {
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    id,
    wallMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKb: process.resourceUsage().maxRSS,
    ...rest,
  };
}

process.on('message', (message: Invocation) => {
  void invoke(message).then((answer) => process.send?.(answer));
});
