import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importAml } from '../../lambda/config/import-aml.ts';
import { parseConfig } from '../../lambda/config/schema.ts';
import { ConfigError } from '../../lambda/core/errors.ts';
import { ENCRYPTED, markup } from '../support/aml.ts';
import { leaks, SEED } from '../support/planted.ts';

const RUNS = { markup: 1000, garbage: 500 };

/** Each problem names its line and attribute (or the tag), or the config field, or says no step was found. */
const NAMES_A_FIELD =
  /^(line \d+: ([A-Z_][A-Z0-9_:.-]*|the AMAWSSES tag|<[!?][^ ]*) |no <AMAWSSES |(config|sessions|activities)[.[:])/;

/** importAml on `text`: a config parseConfig accepts, or a ConfigError naming fields; nothing leaked. */
function checkImport(text: string): 'imported' | 'refused' {
  let problems: readonly string[];
  try {
    const { config, notes } = importAml(text);
    expect(() => parseConfig(config)).not.toThrow();
    for (const note of notes) expect(note).toMatch(/^(line \d+: )/);
    expect(leaks(notes.join('\n'))).toEqual([]);
    const json = JSON.stringify(config);
    expect(ENCRYPTED.filter((secret) => json.includes(secret))).toEqual([]);
    return 'imported';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.lines;
  }
  expect(problems.length).toBeGreaterThan(0);
  for (const problem of problems) expect(problem).toMatch(NAMES_A_FIELD);
  expect(leaks(problems.join('\n'))).toEqual([]);
  expect(ENCRYPTED.filter((secret) => problems.join('\n').includes(secret))).toEqual([]);
  return 'refused';
}

describe('importAml under fuzzing', () => {
  it(`imports or refuses naming the line and attribute for ${RUNS.markup} generated task files`, () => {
    const outcomes = { imported: 0, refused: 0 };
    fc.assert(
      fc.property(markup, (text) => {
        outcomes[checkImport(text)]++;
      }),
      { seed: SEED, numRuns: RUNS.markup },
    );
    expect(outcomes.imported).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    console.info(`import-aml markup: ${JSON.stringify(outcomes)}`);
  });

  it(`refuses or imports ${RUNS.garbage} garbage texts without an uncaught error`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc
            .string({
              unit: fc.constantFrom(
                '<',
                '>',
                '"',
                "'",
                '=',
                '/',
                '!',
                '-',
                'A',
                'M',
                'W',
                'S',
                'E',
                ' ',
                '\n',
                '&',
                '#',
                ';',
              ),
              maxLength: 80,
            })
            .map((s) => `<AMAWSSES ${s}`),
        ),
        (text) => {
          checkImport(text);
        },
      ),
      { seed: SEED, numRuns: RUNS.garbage },
    );
  });
});
