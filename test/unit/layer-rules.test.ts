import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/infra.ts';

const BIOME = join(REPO_ROOT, 'node_modules', '.bin', 'biome');

interface Finding {
  readonly rule: string;
  readonly path: string;
  readonly message: string;
}

/**
 * The layer rules of CONTRIBUTING.md, checked with the repo's own biome.json on a scratch tree
 * with planted violations (never planted in the repo itself). `npm run lint` runs the same rules
 * on the repo, and `npm test` runs `npm run lint`.
 */
describe('layer rules (biome.json)', () => {
  let scratch: string;
  let findings: Finding[];

  const plant: Record<string, string> = {
    'lambda/core/uses-sdk.ts':
      "import { SESClient } from '@aws-sdk/client-ses';\nexport const a = SESClient;\n",
    'lambda/core/uses-smithy.ts':
      "import { NodeHttpHandler } from '@smithy/node-http-handler';\nexport const b = NodeHttpHandler;\n",
    'lambda/core/uses-powertools.ts':
      "import { Logger } from '@aws-lambda-powertools/logger';\nexport const c = Logger;\n",
    'lambda/core/cycle-a.ts': "import { b } from './cycle-b.ts';\nexport const a = b + 1;\n",
    'lambda/core/cycle-b.ts':
      "import type { A } from './cycle-c.ts';\nexport const b = 1;\nexport type B = A;\n",
    'lambda/core/cycle-c.ts': "import type { a } from './cycle-a.ts';\nexport type A = typeof a;\n",
    'lambda/adapters/uses-cdk.ts':
      "import { Duration } from 'aws-cdk-lib';\nexport const d = Duration;\n",
    'lambda/cli/uses-constructs.ts':
      "import { Construct } from 'constructs';\nexport const e = Construct;\n",
    'lambda/handlers/uses-cdk-module.ts':
      "import { Table } from 'aws-cdk-lib/aws-dynamodb';\nexport const f = Table;\n",
    // Allowed: adapters may use SDK clients and Powertools, lib/ may use the CDK and lambda/.
    'lambda/adapters/uses-sdk.ts':
      "import { SESClient } from '@aws-sdk/client-ses';\nimport { Logger } from '@aws-lambda-powertools/logger';\nexport const g = [SESClient, Logger];\n",
    'lib/uses-cdk.ts':
      "import { Duration } from 'aws-cdk-lib';\nimport { Construct } from 'constructs';\nimport { a } from '../lambda/core/cycle-a.ts';\nexport const h = [Duration, Construct, a];\n",
  };

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ses-stats-layers-'));
    const config = JSON.parse(readFileSync(join(REPO_ROOT, 'biome.json'), 'utf8'));
    // The scratch tree is no git repository: biome must not look for its ignore file.
    writeFileSync(
      join(scratch, 'biome.json'),
      JSON.stringify({ ...config, vcs: { enabled: false } }),
    );
    for (const [path, text] of Object.entries(plant)) {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
    findings = lint(scratch);
  });

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function pathsOf(rule: string): string[] {
    return findings
      .filter((f) => f.rule === rule)
      .map((f) => f.path)
      .sort();
  }

  it('rejects SDK, Smithy and Powertools imports in lambda/core, naming the layer rule', () => {
    const core = findings.filter(
      (f) => f.rule === 'lint/style/noRestrictedImports' && f.path.startsWith('lambda/core/'),
    );

    expect(core.map((f) => f.path).sort()).toEqual([
      'lambda/core/uses-powertools.ts',
      'lambda/core/uses-sdk.ts',
      'lambda/core/uses-smithy.ts',
    ]);
    for (const finding of core) expect(finding.message).toMatch(/^lambda\/core is pure: /);
  });

  it('rejects aws-cdk-lib (and its modules) and constructs anywhere in lambda/', () => {
    const cdk = findings.filter(
      (f) => f.rule === 'lint/style/noRestrictedImports' && !f.path.startsWith('lambda/core/'),
    );

    expect(cdk.map((f) => f.path).sort()).toEqual([
      'lambda/adapters/uses-cdk.ts',
      'lambda/cli/uses-constructs.ts',
      'lambda/handlers/uses-cdk-module.ts',
    ]);
    for (const finding of cdk) expect(finding.message).toMatch(/^lambda\/ is the runtime: /);
  });

  it('rejects an import cycle, also one closed by a type-only import', () => {
    expect(pathsOf('lint/suspicious/noImportCycles')).toEqual([
      'lambda/core/cycle-a.ts',
      'lambda/core/cycle-b.ts',
      'lambda/core/cycle-c.ts',
    ]);
  });

  it('accepts SDK clients and Powertools in adapters and the CDK in lib/', () => {
    const flagged = new Set(findings.map((f) => f.path));

    expect(flagged.has('lambda/adapters/uses-sdk.ts')).toBe(false);
    expect(flagged.has('lib/uses-cdk.ts')).toBe(false);
  });

  it('finds nothing else: every finding is one of the planted ones', () => {
    expect(findings.every((f) => f.path in plant)).toBe(true);
    expect(findings).toHaveLength(9);
  });
});

/** Runs `biome lint` on a directory and returns its findings (biome exits 1 when there are any). */
function lint(directory: string): Finding[] {
  let output: string;
  try {
    output = execFileSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], {
      cwd: directory,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failed = error as { stdout?: string; status?: number };
    if (failed.status !== 1 || !failed.stdout) throw error;
    output = failed.stdout;
  }
  const report = JSON.parse(output) as {
    diagnostics: { category: string; message: string; location: { path: string } }[];
  };
  return report.diagnostics.map((d) => ({
    rule: d.category,
    path: d.location.path,
    message: d.message,
  }));
}
