// Builds the web dashboard `ses-stats serve` hands out at `/`: dashboard/app.ts with uPlot and the
// CSS bundled by esbuild, minified, and inlined into dashboard/index.html, so
// dist/dashboard/index.html is one file that makes no request but to the API beside it (it works
// offline). Plain JavaScript like build-cli.mjs, which calls it; `node scripts/build-dashboard.mjs`
// builds the page alone.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPLATE = join(ROOT, 'dashboard', 'index.html');
export const DASHBOARD_FILE = join(ROOT, 'dist', 'dashboard', 'index.html');

const CSS_SLOT = '<!-- dashboard.css -->';
const JS_SLOT = '<!-- dashboard.js -->';
const SCRIPT_HASH_SLOT = '%SCRIPT_HASH%';
const STYLE_HASH_SLOT = '%STYLE_HASH%';

/** Inline code must not close its own element early. */
function inlineable(text, tag) {
  if (new RegExp(`</${tag}`, 'i').test(text) || text.includes('<!--'))
    throw new Error(`the bundled ${tag} holds "</${tag}" or "<!--": it cannot be inlined as is`);
  return text;
}

/** Puts `value` where `slot` is, exactly once (a function replacement: `$&` in code stays). */
function fill(html, slot, value) {
  const parts = html.split(slot);
  if (parts.length !== 2) throw new Error(`${relative(ROOT, TEMPLATE)}: expected one ${slot}`);
  return parts.join(value);
}

export async function buildDashboard() {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['dashboard/app.ts'],
    outdir: join(ROOT, 'dist', 'dashboard', 'bundle'),
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'],
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
    write: false,
  });
  const text = (ext) =>
    result.outputFiles
      .filter((file) => file.path.endsWith(ext))
      .map((file) => file.text)
      .join('\n');
  const js = inlineable(text('.js').trim(), 'script');
  const css = inlineable(text('.css').trim(), 'style');
  const hash = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  let html = readFileSync(TEMPLATE, 'utf8');
  html = fill(html, SCRIPT_HASH_SLOT, hash(js));
  html = fill(html, STYLE_HASH_SLOT, hash(css));
  html = fill(html, CSS_SLOT, `<style>${css}</style>`);
  html = fill(html, JS_SLOT, `<script>${js}</script>`);
  mkdirSync(dirname(DASHBOARD_FILE), { recursive: true });
  // Written aside, then renamed: a running `serve` never reads half a page.
  const aside = `${DASHBOARD_FILE}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(aside, html);
  renameSync(aside, DASHBOARD_FILE);
  const bytes = Buffer.byteLength(html);
  return { file: relative(ROOT, DASHBOARD_FILE), bytes, gzipBytes: gzipSync(html).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { file, bytes, gzipBytes } = await buildDashboard();
  console.log(`ses-stats dashboard: ${file}, ${bytes} bytes (${gzipBytes} gzipped)`);
}
