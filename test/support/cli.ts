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

/** The built CLI (dist/cli/): the global setup builds it from the current sources. */
const BIN = resolve(import.meta.dirname, '../..', pkg.bin['ses-stats']);

/** The environment that signs requests with the fake SES's own key pair. */
export const FAKE_KEYS_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
};

/**
 * `collect` of the default datasets from a fake SES, as JSON: `usageData` and `statsData` named,
 * and the account dataset `accountData` (state and reputation) by default, as a user gets it.
 */
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

/**
 * Runs `main()` in this process with captured output: for many runs (fuzzing), where spawning
 * the binary each time would be too slow. `cwd` is the command's working directory.
 */
export async function runMain(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../lambda/cli/main.ts');
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    env: options.env ?? {},
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}
