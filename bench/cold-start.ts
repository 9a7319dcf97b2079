import { spawn } from 'node:child_process';

/** One cold start of a Lambda bundle in a fresh Node process. */
export interface Timing {
  /** From spawning Node to the first invocation's answer (Lambda's init + first invocation). */
  readonly total: number;
  /** Importing the bundle: parse, module evaluation, client construction. */
  readonly load: number;
  /** The first invocation. */
  readonly run: number;
}

/**
 * Spawns Node on `script`, an ES module that imports a bundle, invokes its handler and prints
 * `DONE <load ms> <first invocation ms>` on a line of its own; `env` is the whole environment.
 */
export function timeColdStart(
  label: string,
  script: string,
  env: Readonly<Record<string, string>>,
  flags: readonly string[] = [],
): Promise<Timing> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('close', (code) => {
      const parts = /DONE ([\d.]+) ([\d.]+)/.exec(out);
      if (code !== 0 || parts === null) return fail(new Error(`${label} failed: ${err}`));
      done({ total: performance.now() - started, load: Number(parts[1]), run: Number(parts[2]) });
    });
  });
}
