import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = resolve(import.meta.dirname, '../..', pkg.bin['ses-stats']);

/**
 * Spawns the real `ses-stats` binary (package.json `bin`) with a clean environment: no AWS
 * profile, no instance metadata, a scratch HOME and working directory.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd = scratchDir(),
): Promise<CliRun> {
  return new Promise((done, fail) => {
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
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'ses-stats-cli-'));
}
