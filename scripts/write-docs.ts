/**
 * `npm run docs`: writes the parameters table (`parameterTable()`, from the records in
 * lambda/config/parameters.ts) into docs/configuration.md between its generated markers, then
 * formats the page with Biome. test/unit/docs.test.ts fails while the page and the records differ.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parameterTable } from '../lambda/config/parameters.ts';

const ROOT = join(import.meta.dirname, '..');
const PAGE = join(ROOT, 'docs', 'configuration.md');
const START = '<!-- generated: parameters (npm run docs) -->';
const END = '<!-- end generated -->';

const page = readFileSync(PAGE, 'utf8');
const start = page.indexOf(START);
const end = page.indexOf(END);
if (start < 0 || end < start) {
  process.stderr.write(`error: ${PAGE}: expected the markers "${START}" and "${END}", in order\n`);
  process.exit(1);
}
writeFileSync(
  PAGE,
  `${page.slice(0, start + START.length)}\n${parameterTable()}\n${page.slice(end)}`,
);
execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', PAGE], {
  stdio: 'inherit',
});
process.stdout.write(`wrote the parameters table into ${PAGE}\n`);
