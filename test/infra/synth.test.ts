import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectEveryAlarmDelivers } from '../support/alarm-delivery.ts';
import { cfnLintProblems } from '../support/cfn-lint.ts';
import { EXAMPLE_CONFIG, REPO_ROOT } from '../support/infra.ts';

const run = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly stderr: string;
  readonly outdir: string;
}

/** `npx cdk synth` offline: no AWS account, no Docker, no telemetry, no notices. */
async function cdkSynth(...context: string[]): Promise<Outcome> {
  const outdir = mkdtempSync(join(tmpdir(), 'ses-stats-synth-'));
  const args = ['cdk', 'synth', '--no-notices', '--quiet', '-o', outdir, ...context];
  try {
    const { stderr } = await run('npx', args, {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stderr, outdir };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? 1, stderr: failed.stderr ?? String(error), outdir };
  }
}

describe('cdk synth (the CLI, offline)', () => {
  let withDefault: Outcome;
  let withExample: Outcome;
  let withBadConfig: Outcome;

  // Three synths at once, each bundling two functions (the collector and the read API).
  beforeAll(async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'ses-stats-bad-')), 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ scheduleMinutes: 3, activities: [{ connection: { maxErrorRetry: 99 } }] }),
    );
    [withDefault, withExample, withBadConfig] = await Promise.all([
      cdkSynth(),
      cdkSynth('-c', `config=${EXAMPLE_CONFIG}`),
      cdkSynth('-c', `config=${bad}`),
    ]);
  }, 240_000);

  it.each([
    ['the default config', () => withDefault],
    ['the example multi-session config', () => withExample],
  ])('synthesizes with %s', (_case, outcome) => {
    const { code, stderr, outdir } = outcome();

    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('puts the example config into the template', () => {
    const template = readFileSync(join(withExample.outdir, 'SesStats.template.json'), 'utf8');

    expect(template).toContain('rate(30 minutes)');
    expect(template).toContain('arn:aws:iam::111122223333:role/ses-stats-reader');
    expect(template).toContain(':secret:ses-stats/marketing-??????');
    expect(template).toContain('ses-alerts@example.com');
  });

  it.each([
    ['the default config', () => withDefault],
    ['the example multi-session config', () => withExample],
  ])('synthesizes a template in which every alarm can deliver, with %s', (_case, outcome) => {
    const template = JSON.parse(
      readFileSync(join(outcome().outdir, 'SesStats.template.json'), 'utf8'),
    );

    expectEveryAlarmDelivers(Template.fromJSON(template));
  });

  it('fails on a bad config, naming each field and value', () => {
    expect(withBadConfig.code).not.toBe(0);
    expect(withBadConfig.stderr).toMatch(
      /scheduleMinutes: received 3; expected whole minutes from 5 to 10080/,
    );
    expect(withBadConfig.stderr).toMatch(
      /activities\[0\]\.connection\.maxErrorRetry: received 99; expected an integer from 0 to 10/,
    );
  });

  it.each([
    ['the default config', () => withDefault],
    ['the example multi-session config', () => withExample],
  ])('passes cfn-lint with %s (when cfn-lint is installed)', async (_case, outcome) => {
    const problems = await cfnLintProblems({
      file: join(outcome().outdir, 'SesStats.template.json'),
    });
    if (problems === undefined) return;

    expect(problems).toEqual([]);
  });
});

describe('cdk synth of 1,000 sources written with the accounts × regions shorthand', () => {
  let outcome: Outcome;
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ses-stats-org-')), 'org.json');
    const accounts = Array.from({ length: 200 }, (_, i) => ({
      id: String(100_000_000_000 + i * 7919),
    }));
    writeFileSync(
      file,
      JSON.stringify({
        sessions: { org: { accounts, externalId: 'ses-stats-org', regions } },
        activities: [{ session: 'org' }],
      }),
    );
    outcome = await cdkSynth('-c', `config=${file}`);
  }, 300_000);

  it('synthesizes with no finding, fanning out through the batch queue', () => {
    expect({ code: outcome.code, stderr: outcome.code === 0 ? '' : outcome.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const report = JSON.parse(readFileSync(join(outcome.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
    const template = JSON.parse(
      readFileSync(join(outcome.outdir, 'SesStats.template.json'), 'utf8'),
    );
    const types = Object.values(template.Resources).map((r) => (r as { Type: string }).Type);
    // Far below CloudFormation's 500 resources: nothing is made per source.
    expect(types.length).toBeLessThan(100);
    expect(types.filter((t) => t === 'AWS::Lambda::EventSourceMapping')).toHaveLength(1);
    expectEveryAlarmDelivers(Template.fromJSON(template));
  });

  it('ships all 1,000 sources in the asset, in their shorthand', () => {
    const assets = JSON.parse(readFileSync(join(outcome.outdir, 'SesStats.assets.json'), 'utf8'));
    const shipped = Object.values(assets.files as Record<string, { source: { path: string } }>)
      .map((f) => join(outcome.outdir, f.source.path, 'ses-stats-config.json'))
      .filter((path) => existsSync(path));

    expect(shipped).toHaveLength(1);
    const config = JSON.parse(readFileSync(shipped[0] as string, 'utf8'));
    expect(config.sessions.org.accounts).toHaveLength(200);
    expect(config.sessions.org.regions).toEqual(regions);
  });

  it('passes cfn-lint (when cfn-lint is installed)', async () => {
    const problems = await cfnLintProblems({
      file: join(outcome.outdir, 'SesStats.template.json'),
    });
    if (problems === undefined) return;

    expect(problems).toEqual([]);
  });
});
