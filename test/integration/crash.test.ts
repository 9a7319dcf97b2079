import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, inject, it } from 'vitest';
import { mapLimited } from '../../lambda/core/concurrency.ts';
import { BACKFILL_NAMES, runBackfillFetch } from '../support/backfill-run.ts';
import { CRASH_ACTIVITY, runCrashFetch } from '../support/crash-run.ts';
import { freshStore } from '../support/dynamodb.ts';
import { rollupsOf, storedState } from '../support/stored-state.ts';

const CHILD = fileURLToPath(new URL('../support/crash-child.ts', import.meta.url));
const BACKFILL_CHILD = fileURLToPath(
  new URL('../support/backfill-crash-child.ts', import.meta.url),
);
const NAMES = { usage: CRASH_ACTIVITY.usageDataset, statistics: CRASH_ACTIVITY.statisticsDataset };

/** The child bundled once, so each of the many processes starts in a fraction of a second. */
async function bundleChild(entry = CHILD): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'ses-stats-crash-')), 'crash-child.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}

/** Runs the second fetch in a child process that SIGKILLs itself at store call `killAt`. */
function crashAt(child: string, tableName: string, killAt: number, when: 'before' | 'after') {
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string }>(
    (resolve, reject) => {
      const proc = spawn(process.execPath, [child], {
        env: {
          ...process.env,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
          TABLE: tableName,
          KILL_AT: String(killAt),
          KILL_WHEN: when,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      proc.once('error', reject);
      proc.once('exit', (code, signal) => resolve({ code, signal, stdout }));
    },
  );
}

describe('crash anywhere, run again', () => {
  it('stores exactly what an uninterrupted run stores after a SIGKILL at every store call, before or after it', async () => {
    const reference = await freshStore();
    await runCrashFetch(reference.store, 0);
    await runCrashFetch(reference.store, 1);
    const expected = await storedState(reference.store, NAMES);
    // The reference itself is exact: rollups equal the sums of the raw points.
    expect(expected.hourly).toEqual(rollupsOf(expected.points, '1h'));
    expect(expected.daily).toEqual(rollupsOf(expected.points, '1d'));
    expect(expected.statsMeta?.count).toBe(expected.points.length);

    const child = await bundleChild();
    const probe = await freshStore();
    await runCrashFetch(probe.store, 0);
    const uninterrupted = await crashAt(child, probe.tableName, 0, 'before');
    const total = Number(/calls (\d+)/.exec(uninterrupted.stdout)?.[1]);
    expect(total).toBeGreaterThan(15);

    const cases = Array.from({ length: total }, (_, i) => i + 1).flatMap((n) => [
      { n, when: 'before' as const },
      { n, when: 'after' as const },
    ]);
    const killed = await mapLimited(cases, 3, async ({ n, when }) => {
      const { tableName, store } = await freshStore();
      await runCrashFetch(store, 0);
      const crash = await crashAt(child, tableName, n, when);
      await runCrashFetch(store, 1);
      const actual = await storedState(store, NAMES);
      expect(actual, `killed ${when} store call ${n} of ${total}`).toEqual(expected);
      return crash.signal === 'SIGKILL';
    });

    // Every case really died mid-run, and the counts for the table in docs/reliability.md.
    expect(killed.filter(Boolean)).toHaveLength(cases.length);
    console.info(
      `crash test: ${cases.length} kill points (${total} store calls × before/after), data lost: 0`,
    );
  }, 600_000);

  it('finishes a first fetch (a backfill in transactions and batches) killed at any DynamoDB write request, before or after it, on the next run', async () => {
    const reference = await freshStore();
    await runBackfillFetch(reference.store);
    const expected = await storedState(reference.store, BACKFILL_NAMES);
    expect(expected.points).toHaveLength(250);
    expect(expected.hourly).toEqual(rollupsOf(expected.points, '1h'));
    expect(expected.daily).toEqual(rollupsOf(expected.points, '1d'));
    expect(expected.statsMeta?.count).toBe(250);

    const child = await bundleChild(BACKFILL_CHILD);
    const probe = await freshStore();
    const uninterrupted = await crashAt(child, probe.tableName, 0, 'before');
    const total = Number(/requests (\d+)/.exec(uninterrupted.stdout)?.[1]);
    // The stale mark, the usage snapshot, 3 transactions, 4 rollup batches, 2 metadata.
    expect(total).toBe(11);
    expect(await storedState(probe.store, BACKFILL_NAMES)).toEqual(expected);

    const cases = Array.from({ length: total }, (_, i) => i + 1).flatMap((n) => [
      { n, when: 'before' as const },
      { n, when: 'after' as const },
    ]);
    const killed = await mapLimited(cases, 3, async ({ n, when }) => {
      const { tableName, store } = await freshStore();
      const crash = await crashAt(child, tableName, n, when);
      await runBackfillFetch(store);
      const actual = await storedState(store, BACKFILL_NAMES);
      expect(actual, `killed ${when} request ${n} of ${total}`).toEqual(expected);
      return crash.signal === 'SIGKILL';
    });

    expect(killed.filter(Boolean)).toHaveLength(cases.length);
    console.info(
      `backfill crash test: ${cases.length} kill points (${total} DynamoDB write requests × before/after), data lost: 0`,
    );
  }, 600_000);
});
