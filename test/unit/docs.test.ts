import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parameterTable } from '../../lambda/config/parameters.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_MAX_LINES = 200;
const GENERATED_START = '<!-- generated: parameters (npm run docs) -->';
const GENERATED_END = '<!-- end generated -->';

/** README.md, CONTRIBUTING.md and every docs/*.md, as absolute paths. */
function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name));
  return [join(ROOT, 'README.md'), join(ROOT, 'CONTRIBUTING.md'), ...docs];
}

/** The lines outside fenced code blocks, each with its 1-based line number. */
function proseLines(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line: index + 1, text });
  });
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a file's headings make, with GitHub's `-1`, `-2` suffixes for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

interface Link {
  readonly line: number;
  readonly target: string;
}

/** Relative links `[text](target)` outside code; web and mail links are not ours to check. */
function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  for (const { line, text } of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] ?? '';
      if (/^(https?:|mailto:)/i.test(target)) continue;
      links.push({ line, target });
    }
  }
  return links;
}

/** `file:line: target (why)` for every link of `file` that does not resolve. */
function brokenLinks(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const { line, target } of relativeLinks(markdown)) {
    const [path = '', anchor] = target.split('#', 2);
    const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const where = `${relative(ROOT, file)}:${line}: ${target}`;
    if (path !== '' && !existsSync(destination)) {
      problems.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (path !== '' && (statSync(destination).isDirectory() || !destination.endsWith('.md'))) {
      problems.push(`${where} (an anchor into a file that has no headings)`);
      continue;
    }
    const text = destination === file ? markdown : readFileSync(destination, 'utf8');
    if (!anchorsOf(text).has(anchor)) problems.push(`${where} (no heading #${anchor})`);
  }
  return problems;
}

/** The text between the generated-block markers; undefined when a marker is missing. */
function generatedBlock(markdown: string): string | undefined {
  const start = markdown.indexOf(GENERATED_START);
  const end = markdown.indexOf(GENERATED_END);
  if (start < 0 || end < start) return undefined;
  return markdown.slice(start + GENERATED_START.length, end).trim();
}

/**
 * A markdown table as rows of trimmed cells, so the comparison ignores the column padding the
 * formatter adds (`npm run format` aligns tables; `parameterTable()` does not).
 */
function tableCells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((row) =>
      row
        .trim()
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim())
        .map((cell) => (/^:?-+:?$/.test(cell) ? '---' : cell)),
    );
}

const readRoot = (name: string) => readFileSync(join(ROOT, name), 'utf8');

describe('documentation', () => {
  it('has no relative link to a missing file or heading in README, CONTRIBUTING or docs/', () => {
    const files = docFiles();

    const problems = files.flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8')));

    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(problems).toEqual([]);
  });

  it('finds a planted missing file, missing heading and missing same-file anchor (the check is live)', () => {
    const file = join(ROOT, 'docs', 'planted.md');
    const planted = [
      '# Planted',
      '## The `ses-stats` command, again',
      'See [cli](cli.md#ses-stats-collect), [here](#the-ses-stats-command-again) and [web](https://example.com/x.md).',
      '`[in code](nowhere.md)` is not a link.',
      'Broken: [a](nowhere.md), [b](cli.md#no-such-heading), [c](#nor-here), [d](../README.md#commandz).',
      '```md',
      '[in a fence](nowhere-either.md)',
      '```',
    ].join('\n');

    const problems = brokenLinks(file, planted);

    expect(problems).toEqual([
      'docs/planted.md:5: nowhere.md (no such file)',
      'docs/planted.md:5: cli.md#no-such-heading (no heading #no-such-heading)',
      'docs/planted.md:5: #nor-here (no heading #nor-here)',
      'docs/planted.md:5: ../README.md#commandz (no heading #commandz)',
    ]);
  });

  it('makes anchors as GitHub does', () => {
    expect(slug("The activity's parameters")).toBe('the-activitys-parameters');
    expect(slug('`ses-stats import-aml`')).toBe('ses-stats-import-aml');
    expect(slug('What is stored, and how')).toBe('what-is-stored-and-how');
    expect(slug('Deploy: the scheduled collector in your AWS account')).toBe(
      'deploy-the-scheduled-collector-in-your-aws-account',
    );
  });

  it(`keeps the README a front page of at most ${README_MAX_LINES} lines`, () => {
    const lines = readRoot('README.md').trimEnd().split('\n').length;

    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('holds in docs/configuration.md the parameters table the records generate (npm run docs)', () => {
    const block = generatedBlock(readRoot('docs/configuration.md'));

    expect(
      block,
      `docs/configuration.md lacks ${GENERATED_START} … ${GENERATED_END}`,
    ).toBeDefined();
    expect(tableCells(block ?? '')).toEqual(tableCells(parameterTable()));
  });

  it('tells a parameters table that differs from the records (the check is live)', () => {
    const generated = parameterTable();
    const edited = generated.replace('`--max-error-retry N`', '`--max-retries N`');

    expect(edited).not.toBe(generated);
    expect(tableCells(edited)).not.toEqual(tableCells(generated));
    expect(tableCells('| a   | b |\n| :-- | - |\n| 1 | `x \\| y` |')).toEqual([
      ['a', 'b'],
      ['---', '---'],
      ['1', '`x \\| y`'],
    ]);
  });

  it('shows in CONTRIBUTING.md a parameter record exactly as parameters.ts holds it', () => {
    const section = readRoot('CONTRIBUTING.md').split(
      '## Adding a parameter touches one record',
    )[1];
    const example = /```ts\n([\s\S]*?)\n```/.exec(section ?? '')?.[1];
    const source = readRoot('lambda/config/parameters.ts');
    const trimmed = (text: string) =>
      text
        .split('\n')
        .map((line) => line.trim())
        .join('\n');

    expect(example, 'CONTRIBUTING.md: no ```ts block under "Adding a parameter"').toBeDefined();
    expect(trimmed(source)).toContain(trimmed(example ?? 'missing'));
  });
});
