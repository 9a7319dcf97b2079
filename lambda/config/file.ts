import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

/** Reads a JSON config document; a missing file or bad JSON is a ConfigError naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([
      `${path}: cannot read the file (${code === 'ENOENT' ? 'not found' : (code ?? (error as Error).message)})`,
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${path}: not valid JSON (${(error as Error).message})`]);
  }
}
