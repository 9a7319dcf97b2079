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
    'lambda/core/uses-adapter.ts':
      "import { a } from '../adapters/uses-sdk.ts';\nexport const i = a;\n",
    'lambda/core/uses-config.ts': "import { c } from '../config/ok.ts';\nexport const j = c;\n",
    'lambda/config/uses-adapter.ts':
      "import { g } from '../adapters/uses-sdk.ts';\nexport const k = g;\n",
    'lambda/config/uses-cli.ts': "import { m } from '../cli/ok.ts';\nexport const l = m;\n",
    'lambda/adapters/uses-handler.ts':
      "import { n } from '../handlers/ok.ts';\nexport const o = n;\n",
    'lambda/api/uses-adapter.ts':
      "import { g } from '../adapters/uses-sdk.ts';\nexport const r = g;\n",
    'lambda/api/uses-sdk.ts':
      "import { SESClient } from '@aws-sdk/client-ses';\nexport const s = SESClient;\n",
    'lambda/api/ok.ts':
      "import { c } from '../config/ok.ts';\nimport { a } from '../core/cycle-a.ts';\nexport const t = [c, a];\n",
    'lib/uses-adapter.ts':
      "import { g } from '../lambda/adapters/uses-sdk.ts';\nexport const p = g;\n",
    // Allowed: adapters may use SDK clients, Powertools and config; config may use core; handlers
    // and the CLI anything in lambda/; lib/ the CDK, config, constants and core errors.
    'lambda/config/ok.ts':
      "import { a } from '../core/cycle-a.ts';\nimport { TABLE } from '../constants.ts';\nexport const c = [a, TABLE];\n",
    'lambda/adapters/ok.ts':
      "import { c } from '../config/ok.ts';\nimport { a } from '../core/cycle-a.ts';\nexport const q = [c, a];\n",
    'lambda/handlers/ok.ts':
      "import { g } from '../adapters/uses-sdk.ts';\nimport { c } from '../config/ok.ts';\nexport const n = [g, c];\n",
    'lambda/cli/ok.ts':
      "import { n } from '../handlers/ok.ts';\nimport { g } from '../adapters/uses-sdk.ts';\nexport const m = [n, g];\n",
    'lambda/constants.ts': "export const TABLE = 't';\n",
    'lambda/adapters/uses-sdk.ts':
      "import { SESClient } from '@aws-sdk/client-ses';\nimport { Logger } from '@aws-lambda-powertools/logger';\nexport const g = [SESClient, Logger];\n",
    'lib/uses-cdk.ts':
      "import { Duration } from 'aws-cdk-lib';\nimport { Construct } from 'constructs';\nimport { a } from '../lambda/core/cycle-a.ts';\nimport { c } from '../lambda/config/ok.ts';\nexport const h = [Duration, Construct, a, c];\n",
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

  /** The planted files a rule refused with a message starting with `prefix`, sorted. */
  function refused(rule: string, prefix = ''): string[] {
    return findings
      .filter((f) => f.rule === rule && f.message.startsWith(prefix))
      .map((f) => f.path)
      .sort();
  }

  const RESTRICTED = 'lint/style/noRestrictedImports';

  it('rejects SDK, Smithy and Powertools imports in lambda/core, naming the layer rule', () => {
    expect(refused(RESTRICTED, 'lambda/core is pure: ')).toEqual([
      'lambda/core/uses-powertools.ts',
      'lambda/core/uses-sdk.ts',
      'lambda/core/uses-smithy.ts',
    ]);
  });

  it('rejects aws-cdk-lib (and its modules) and constructs anywhere in lambda/', () => {
    expect(refused(RESTRICTED, 'lambda/ is the runtime: ')).toEqual([
      'lambda/adapters/uses-cdk.ts',
      'lambda/cli/uses-constructs.ts',
      'lambda/handlers/uses-cdk-module.ts',
    ]);
  });

  it('rejects an import from a layer built on top: core from any, config from adapters or CLI, adapters from handlers, lib from adapters', () => {
    expect(refused(RESTRICTED, 'lambda/core imports only core')).toEqual([
      'lambda/core/uses-adapter.ts',
      'lambda/core/uses-config.ts',
    ]);
    expect(refused(RESTRICTED, 'lambda/config imports only core and config')).toEqual([
      'lambda/config/uses-adapter.ts',
      'lambda/config/uses-cli.ts',
    ]);
    expect(refused(RESTRICTED, 'lambda/api is the read side')).toEqual([
      'lambda/api/uses-adapter.ts',
    ]);
    expect(refused(RESTRICTED, 'lambda/api takes a DatasetStore')).toEqual([
      'lambda/api/uses-sdk.ts',
    ]);
    expect(refused(RESTRICTED, 'lambda/adapters never import')).toEqual([
      'lambda/adapters/uses-handler.ts',
    ]);
    expect(refused(RESTRICTED, 'lib/ takes config, constants and core errors')).toEqual([
      'lib/uses-adapter.ts',
    ]);
  });

  it('rejects an import cycle, also one closed by a type-only import', () => {
    expect(refused('lint/suspicious/noImportCycles')).toEqual([
      'lambda/core/cycle-a.ts',
      'lambda/core/cycle-b.ts',
      'lambda/core/cycle-c.ts',
    ]);
  });

  it('accepts what each layer may import', () => {
    const flagged = new Set(findings.map((f) => f.path));
    const allowed = [
      'lambda/adapters/uses-sdk.ts',
      'lambda/adapters/ok.ts',
      'lambda/config/ok.ts',
      'lambda/api/ok.ts',
      'lambda/handlers/ok.ts',
      'lambda/cli/ok.ts',
      'lambda/constants.ts',
      'lib/uses-cdk.ts',
    ];

    expect(allowed.filter((path) => flagged.has(path))).toEqual([]);
  });

  it('finds nothing else: every finding is one of the planted ones', () => {
    expect(findings.every((f) => f.path in plant)).toBe(true);
    expect(findings).toHaveLength(17);
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
