import { ConfigError } from '../../lambda/config/errors.ts';
import { parseConfig } from '../../lambda/config/schema.ts';

/** The problems `parseConfig` reports for `input`; fails the test if it accepts it. */
export function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}
