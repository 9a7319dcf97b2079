/**
 * The collector exactly as `cdk deploy` ships it, run as Lambda would: the stack synthesized with
 * real esbuild bundling, and the bundle's handler invoked in a fresh Node process (a cold start).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { inject } from 'vitest';
import { ENV } from '../../lambda/constants.ts';
import type { DeploymentConfig } from '../../lib/deployment-config.ts';
import { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY } from './fake-ses.ts';
import { CDK_CONTEXT } from './infra.ts';

/** The bundled handler (`index.mjs` in the collector's asset) of a stack built from `config`. */
export function bundleCollectorWithCdk(config?: DeploymentConfig): string {
  const outdir = mkdtempSync(join(tmpdir(), 'collect-bundle-'));
  const app = new App({ outdir, context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new SesStatsStack(app, 'SesStats', config === undefined ? {} : { config });
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  app.synth();
  const asset = `asset.${String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '')}`;
  return join(outdir, asset, 'index.mjs');
}

/** A config document written to a file of its own, as the asset would ship it. */
export function configFile(config: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'collect-config-')), 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** The function's environment as the stack sets it, plus the role's credentials Lambda provides. */
export function lambdaEnvironment(config: unknown, tableName: string): Record<string, string> {
  return {
    [ENV.CONFIG_FILE]: configFile(config),
    [ENV.TABLE_NAME]: tableName,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
  };
}

export interface Invocation {
  readonly code: number | null;
  /** `RESULT <json>` or `ERROR <message>` last, after the handler's own lines. */
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Invokes `bundle`'s handler with `event` in a fresh Node process, with a Lambda context whose
 * deadline is `remainingMs` after the invocation starts.
 */
export function invokeBundle(
  bundle: string,
  env: Record<string, string>,
  { event = {}, remainingMs = 300_000 }: { event?: unknown; remainingMs?: number } = {},
): Promise<Invocation> {
  const context = `{ getRemainingTimeInMillis: ((end) => () => end - Date.now())(Date.now() + ${remainingMs}) }`;
  const script = `import(${JSON.stringify(bundle)}).then((m) => m.handler(${JSON.stringify(event)}, ${context})).then((r) => console.log('RESULT ' + JSON.stringify(r)), (e) => { console.log('ERROR ' + e.message); process.exitCode = 1; });`;
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--input-type=module', '-e', script],
      {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * The JSON lines of an invocation (Powertools logs, EMF documents, `RESULT` as `{"RESULT": …}`),
 * stdout first: Powertools writes warnings and errors to stderr, and Lambda sends both to the log.
 */
export function jsonLines(run: Invocation): Record<string, unknown>[] {
  return `${run.stdout}\n${run.stderr}`
    .split('\n')
    .map((l) => (l.startsWith('RESULT ') ? `{"RESULT":${l.slice('RESULT '.length)}}` : l))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
