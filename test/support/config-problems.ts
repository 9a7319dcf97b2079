import { parseConfig } from '../../lambda/config/schema.ts';
import { ConfigError } from '../../lambda/core/errors.ts';

/** The problems `parseConfig` reports for `input`; fails the test if it accepts it. */
export function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.lines];
    throw error;
  }
  throw new Error('expected a ConfigError');
}
