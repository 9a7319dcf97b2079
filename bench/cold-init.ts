/**
 * Cold init of the collector: a fresh Node process loads the bundle, builds its clients and runs
 * the first invocation against the local fakes (fake SES, DynamoDB Local). The real collector
 * bundle (built as the CDK builds it: esbuild, minified ESM, source maps) against a naive esbuild
 * bundle of the same SDK clients and logger. An hourly schedule makes every run a cold start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { ensureTable } from '../lambda/adapters/dynamodb-table.ts';
import { startEmbeddedDynamoDb } from '../lambda/adapters/embedded-dynamodb.ts';
import { ENV } from '../lambda/constants.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  startFakeSes,
  twoWeekWindow,
} from '../test/support/fake-ses.ts';

const ROUNDS = 7;
const dir = mkdtempSync(join(tmpdir(), 'cold-init-'));
const ours = join(dir, 'ours', 'index.mjs');
const naive = join(dir, 'naive', 'index.js');
await build({
  entryPoints: ['lambda/handlers/collect.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: true,
  outfile: ours,
  banner: { js: "import{createRequire}from'module';const require=createRequire(import.meta.url);" },
  logLevel: 'silent',
});
await build({
  entryPoints: ['bench/naive-collect-handler.ts'],
  bundle: true,
  platform: 'node',
  outfile: naive,
  logLevel: 'silent',
});

const fake = await startFakeSes();
fake.points = twoWeekWindow(new Date(), { seed: 5 });
const db = await startEmbeddedDynamoDb(undefined);
const client = new DynamoDBClient({
  endpoint: db.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
});
try {
  const times = { ours: [] as number[], naive: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, bundle] of [
      ['ours', ours],
      ['naive', naive],
    ] as const) {
      const table = `cold-${name}-${round}`;
      await ensureTable(client, table, { where: 'DynamoDB Local' });
      // Steady state, as on every hourly run: the window is already stored (by an untimed run).
      await coldStart(ours, table, db.endpoint, fake.url);
      times[name].push(await coldStart(bundle, table, db.endpoint, fake.url));
    }
  }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const [o, n] = [median(times.ours), median(times.naive)];
  const size = (file: string) => statSync(file).size;
  console.log(
    `cold init: fresh process, module load + client construction + first invocation (steady state, ${fake.points.length} points in the window), median of ${ROUNDS}`,
  );
  console.log('                 init ms   bundle bytes');
  console.log(`  ses-stats   ${o.toFixed(0).padStart(9)}   ${String(size(ours)).padStart(12)}`);
  console.log(`  naive       ${n.toFixed(0).padStart(9)}   ${String(size(naive)).padStart(12)}`);
  console.log(`  ses-stats / naive: ${(o / n).toFixed(2)}x (target <= 0.7x)`);
  console.log(
    JSON.stringify({
      bench: 'cold-init',
      initMs: { sesStats: Math.round(o), naive: Math.round(n) },
      ratio: +(o / n).toFixed(3),
      bundleBytes: { sesStats: size(ours), naive: size(naive) },
      targetMet: o / n <= 0.7,
    }),
  );
} finally {
  client.destroy();
  await db.stop();
  await fake.close();
}

/** Milliseconds from spawning Node to the first invocation's answer (Lambda's init + first run). */
function coldStart(bundle: string, table: string, dynamodb: string, ses: string): Promise<number> {
  const config = {
    sessions: { main: { serviceUrl: ses, region: 'us-east-1' } },
    activities: [{ session: 'main', usageDataset: 'usage', statisticsDataset: 'stats' }],
  };
  const script = `import(${JSON.stringify(bundle)}).then((m) => m.handler({})).then(() => process.stdout.write('\\nDONE\\n'), (e) => { console.error(e); process.exitCode = 1; });`;
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--input-type=module', '-e', script],
      {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
          [ENV.CONFIG]: JSON.stringify(config),
          [ENV.TABLE_NAME]: table,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('close', (code) =>
      code === 0 && out.includes('DONE')
        ? done(performance.now() - started)
        : fail(new Error(`${bundle} failed: ${err}`)),
    );
  });
}
