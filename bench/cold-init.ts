/**
 * Cold init of the collector: a fresh Node process loads the bundle, builds its clients and runs
 * the first invocation against the local fakes (fake SES, DynamoDB Local). The real collector
 * bundle (built as the CDK builds it: esbuild, minified ESM, source maps) against a naive esbuild
 * bundle of the same SDK clients and logger. An hourly schedule makes every run a cold start.
 */

import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
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
import { type Timing, timeColdStart } from './cold-start.ts';

// COLD_INIT_ROUNDS and COLD_INIT_PROFILE (a directory for --cpu-prof files) help investigate.
const ROUNDS = Number(process.env.COLD_INIT_ROUNDS ?? 11);
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
  // The collector as deployed (NODE_OPTIONS=--enable-source-maps), and the naive bundle.
  const variants = [
    { name: 'ses-stats', bundle: ours, flags: ['--enable-source-maps'] },
    { name: 'naive', bundle: naive, flags: [] as string[] },
  ];
  const times = variants.map(() => [] as Timing[]);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so that no variant always meets a warmer DynamoDB Local.
    for (let k = 0; k < variants.length; k++) {
      const i = (k + round) % variants.length;
      const variant = variants[i] as (typeof variants)[number];
      const table = `cold-${i}-${round}`;
      await ensureTable(client, table, { where: 'DynamoDB Local' });
      // Steady state, as on every hourly run: the window is already stored (by an untimed run).
      await coldStart(ours, table, db.endpoint, fake.url);
      times[i]?.push(await coldStart(variant.bundle, table, db.endpoint, fake.url, variant.flags));
    }
  }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const part = (i: number, key: keyof Timing) => median((times[i] ?? []).map((t) => t[key]));
  const [o, n] = [part(0, 'total'), part(1, 'total')];
  const size = (file: string) => statSync(file).size;
  console.log(
    `cold init: fresh process, module load + client construction + first invocation (steady state, ${fake.points.length} points in the window), median of ${ROUNDS}`,
  );
  console.log('             init ms   (module load   first invocation)   bundle bytes');
  variants.forEach((v, i) => {
    console.log(
      `  ${v.name.padEnd(9)} ${part(i, 'total').toFixed(0).padStart(7)}   (${part(i, 'load').toFixed(0).padStart(11)}   ${part(i, 'run').toFixed(0).padStart(16)})   ${String(size(v.bundle)).padStart(12)}`,
    );
  });
  console.log(`  ses-stats / naive: ${(o / n).toFixed(2)}x (target <= 0.7x)`);
  console.log(
    JSON.stringify({
      bench: 'cold-init',
      initMs: {
        sesStats: Math.round(o),
        naive: Math.round(n),
      },
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

function coldStart(
  bundle: string,
  table: string,
  dynamodb: string,
  ses: string,
  flags: readonly string[] = [],
): Promise<Timing> {
  const config = {
    sessions: { main: { serviceUrl: ses, region: 'us-east-1' } },
    activities: [{ session: 'main', usageDataset: 'usage', statisticsDataset: 'stats' }],
  };
  const configFile = join(mkdtempSync(join(tmpdir(), 'cold-init-config-')), 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const script = `const t0 = performance.now(); import(${JSON.stringify(bundle)}).then(async (m) => { const t1 = performance.now(); await m.handler({}); process.stdout.write('\\nDONE ' + (t1 - t0) + ' ' + (performance.now() - t1) + '\\n'); }).catch((e) => { console.error(e); process.exitCode = 1; });`;
  const profile =
    process.env.COLD_INIT_PROFILE === undefined
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${process.env.COLD_INIT_PROFILE}`];
  return timeColdStart(
    bundle,
    script,
    {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
      // The naive handler reads its config from the environment, ses-stats from a file.
      SES_STATS_CONFIG: JSON.stringify(config),
      [ENV.CONFIG_FILE]: configFile,
      [ENV.TABLE_NAME]: table,
    },
    [...flags, ...profile],
  );
}
