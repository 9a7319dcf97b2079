import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lambda/config/schema.ts';
import { CONFIG_FILE_NAME } from '../../lambda/constants.ts';
import { COLLECT_HANDLER_ENTRY } from '../../lib/collector.ts';
import { API_HANDLER_ENTRY } from '../../lib/read-api.ts';
import { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { CDK_CONTEXT, logicalId, REPO_ROOT } from '../support/infra.ts';

interface Assets {
  readonly collector: string;
  readonly api: string;
}

/** Bundles both functions for real (local esbuild, no Docker); returns their asset directories. */
function bundleFunctions(): Assets {
  const outdir = mkdtempSync(join(tmpdir(), 'ses-stats-bundle-'));
  const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new SesStatsStack(app, 'SesStats');
  const template = Template.fromStack(stack);
  const asset = (construct: IConstruct): string => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(construct)];
    const key: string = fn?.Properties.Code.S3Key;
    return join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
  };
  if (stack.readApi === undefined) throw new Error('expected the read API');
  const assets = {
    collector: asset(stack.collectorFunction),
    api: asset(stack.readApi.apiFunction),
  };
  app.synth();
  return assets;
}

let assets: Assets;
beforeAll(() => {
  assets = bundleFunctions();
}, 180_000);

describe('collector bundle', () => {
  let asset: string;
  beforeAll(() => {
    asset = assets.collector;
  });

  it('holds one ES module, its source map and the config document', () => {
    expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map', CONFIG_FILE_NAME]);
    expect(readFileSync(join(asset, CONFIG_FILE_NAME), 'utf8')).toBe(
      JSON.stringify(DEFAULT_CONFIG),
    );
  });

  it('is minified and points at its source map', () => {
    const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
    const lines = code.split('\n');

    expect(code.length / lines.length).toBeGreaterThan(1000);
    // Minification drops JSDoc blocks and renames locals.
    expect(code).not.toMatch(/\/\*\*\s*\n\s*\*/);
    expect(code).toContain(CONFIG_FILE_NAME);
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

  it('loads as an ES module, reading the config shipped next to it, and exports the handler', async () => {
    delete process.env.SES_STATS_CONFIG_FILE;
    process.env.SES_STATS_TABLE_NAME = 'ses-stats-bundle-test';
    process.env.AWS_REGION ??= 'us-east-1';

    const bundle = await import(pathToFileURL(join(asset, 'index.mjs')).href);

    expect(typeof bundle.handler).toBe('function');
  });
});

describe('read API bundle', () => {
  it('holds one minified ES module and its source map, apart from the collector', () => {
    expect(assets.api).not.toBe(assets.collector);
    expect(readdirSync(assets.api).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(join(assets.api, 'index.mjs'), 'utf8');
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
  });

  it('maps back to the API handler, without embedding the sources', () => {
    const map = JSON.parse(readFileSync(join(assets.api, 'index.mjs.map'), 'utf8'));

    expect(map.sources).toEqual(
      expect.arrayContaining([expect.stringContaining(relative(REPO_ROOT, API_HANDLER_ENTRY))]),
    );
    expect(map.sourcesContent).toBeUndefined();
  });

  it('loads as an ES module and exports the handler', async () => {
    process.env.SES_STATS_TABLE_NAME = 'ses-stats-bundle-test';
    process.env.AWS_REGION ??= 'us-east-1';

    const bundle = await import(pathToFileURL(join(assets.api, 'index.mjs')).href);

    expect(typeof bundle.handler).toBe('function');
  });
});
