import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lambda/config/schema.ts';
import { COLLECT_HANDLER_ENTRY } from '../../lib/collector.ts';
import { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { CDK_CONTEXT, REPO_ROOT } from '../support/infra.ts';

/** Bundles the collector for real (local esbuild, no Docker) and returns its asset directory. */
function bundleCollector(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'ses-stats-bundle-'));
  const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new SesStatsStack(app, 'SesStats');
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  const key: string = fn?.Properties.Code.S3Key;
  app.synth();
  return join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

describe('collector bundle', () => {
  let asset: string;
  beforeAll(() => {
    asset = bundleCollector();
  }, 120_000);

  it('holds one ES module and its source map', () => {
    expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('is minified and points at its source map', () => {
    const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
    const lines = code.split('\n');

    expect(code.length / lines.length).toBeGreaterThan(1000);
    // Minification drops JSDoc blocks and renames locals.
    expect(code).not.toMatch(/\/\*\*\s*\n\s*\*/);
    expect(code).toContain('SES_STATS_CONFIG');
    expect(code).not.toContain('function parseConfig(');
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
  });

  it('maps back to the TypeScript sources, without embedding them', () => {
    const map = JSON.parse(readFileSync(join(asset, 'index.mjs.map'), 'utf8'));

    expect(map.version).toBe(3);
    expect(map.mappings.length).toBeGreaterThan(1000);
    expect(map.sources).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/lambda\/config\/schema\.ts$/),
        expect.stringContaining(relative(REPO_ROOT, COLLECT_HANDLER_ENTRY)),
      ]),
    );
    expect(map.sourcesContent).toBeUndefined();
  });

  it('loads as an ES module and exports the handler', async () => {
    process.env.SES_STATS_CONFIG = JSON.stringify(DEFAULT_CONFIG);
    process.env.SES_STATS_TABLE_NAME = 'ses-stats-bundle-test';
    process.env.AWS_REGION ??= 'us-east-1';

    const bundle = await import(pathToFileURL(join(asset, 'index.mjs')).href);

    expect(typeof bundle.handler).toBe('function');
  });
});
