import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY } from './fake-ses.ts';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = resolve(import.meta.dirname, '../..', pkg.bin['ses-stats']);

/** The environment that signs requests with the fake SES's own key pair. */
export const FAKE_KEYS_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
};

/** `collect` of the default datasets `usageData` and `statsData` from a fake SES, as JSON. */
export function collectArgs(serviceUrl: string): string[] {
  return [
    'collect',
    '--service-url',
    serviceUrl,
    '--region',
    'us-east-1',
    '--usage-dataset',
    'usageData',
    '--statistics-dataset',
    'statsData',
    '--format',
    'json',
  ];
}

/**
 * Spawns the real `ses-stats` binary (package.json `bin`) with a clean environment: no AWS
 * profile, no instance metadata, a scratch HOME and working directory. `child` can be signalled;
 * `done` settles when it has exited.
 */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd = scratchDir(),
): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(BIN, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: cwd,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(cwd, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'none'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

/** Runs the real `ses-stats` binary to its end (see `startCli`). */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd = scratchDir(),
): Promise<CliRun> {
  return startCli(args, env, cwd).done;
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'ses-stats-cli-'));
}
