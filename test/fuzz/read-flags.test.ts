import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.ts';
import { leaks, nastyString, SEED } from '../support/planted.ts';

// No mocks: every input carries a store that cannot be reached, so an input that passes every
// check fails with that store's error (exit 1), told apart from a refusal (exit 2).
const UNREACHABLE = 'http://127.0.0.1:1';
const STORE = ['--table', 'fuzz-table', '--dynamodb-endpoint', UNREACHABLE];
const REACHED = `cannot reach DynamoDB at ${UNREACHABLE}`;
const RUNS = { modelled: 2000, raw: 2000 };
const COMMANDS = ['query', 'summary', 'datasets', 'check'] as const;
type Command = (typeof COMMANDS)[number];

const dir = mkdtempSync(join(tmpdir(), 'ses-stats-fuzz-read-'));
const saved = { ...process.env };
beforeAll(() => {
  // One attempt, credentials at hand: a reached store answers in milliseconds.
  Object.assign(process.env, {
    AWS_MAX_ATTEMPTS: '1',
    AWS_ACCESS_KEY_ID: 'AKIAFUZZREADFLAGS001',
    AWS_SECRET_ACCESS_KEY: 'fuzz',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
});
afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

type Run = Awaited<ReturnType<typeof runMain>>;

function run(argv: string[]): Promise<Run> {
  return runMain(argv, { cwd: dir });
}

/**
 * One generated piece of a command line: its tokens and, when it is invalid, the names a refusal
 * may give (the flag, or DATASET). Values are passed as `--flag=value`, so a value starting with
 * "-" stays a value.
 */
interface Piece {
  readonly tokens: readonly string[];
  readonly bad?: readonly string[];
  /** For --from/--to: the instant, to tell a span whose from is not before its to. */
  readonly at?: number;
}

const flag = (name: string, value: string, bad: boolean, at?: number): Piece => ({
  tokens: [`--${name}=${value}`],
  ...(bad ? { bad: [`--${name}`] } : {}),
  ...(at === undefined ? {} : { at }),
});

const DATE_MIN = Date.UTC(1970, 0, 1);
const DATE_MAX = Date.UTC(2100, 0, 1);
const time = fc
  .tuple(fc.integer({ min: DATE_MIN / 1000, max: DATE_MAX / 1000 }), fc.boolean())
  .map(([s, dateOnly]) => {
    const ms = dateOnly ? Math.floor((s * 1000) / 86_400_000) * 86_400_000 : s * 1000;
    const iso = new Date(ms).toISOString();
    return { text: dateOnly ? iso.slice(0, 10) : `${iso.slice(0, 19)}Z`, ms };
  });
const NOT_TIMES = [
  '2026-02-30',
  '2026-11-28T24:00:00Z',
  '2026-13-01',
  '28/11/2026',
  'last week',
  '9999-12-31T23:59:59.500Z',
  '0000-01-01T00:00:00+01:00',
  '',
];
const isTime = (text: string) => /^\d{4}-\d{2}-\d{2}/.test(text) && !NOT_TIMES.includes(text);
const timeFlag = (name: 'from' | 'to') =>
  fc.oneof(
    time.map(({ text, ms }) => flag(name, text, false, ms)),
    fc.constantFrom(...NOT_TIMES).map((v) => flag(name, v, true)),
    nastyString.filter((v) => !isTime(v)).map((v) => flag(name, v, true)),
  );

/** A flag with listed valid and invalid values, and nasty ones the rule `accepts` does not. */
const oneOfFlag = (
  name: string,
  valid: readonly string[],
  invalid: readonly string[],
  accepts: (value: string) => boolean = (v) => valid.includes(v),
) =>
  fc.oneof(
    fc.constantFrom(...valid).map((v) => flag(name, v, false)),
    fc.constantFrom(...invalid).map((v) => flag(name, v, true)),
    nastyString.filter((v) => !accepts(v)).map((v) => flag(name, v, true)),
  );

/** The platform's own answer, independent of the code under test. */
function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const dataset = fc.oneof(
  fc.stringMatching(DATASET).map((v) => ({ value: v, bad: false })),
  fc
    .oneof(fc.constantFrom('', '__proto__', 'stats/data', 'a'.repeat(65), '.hidden'), nastyString)
    .filter((v) => !DATASET.test(v) && !v.startsWith('-'))
    .map((v) => ({ value: v, bad: true })),
);

const storePiece = fc.oneof(
  // DynamoDB's table name rule and the AWS region form, as documented.
  oneOfFlag('table', ['fuzz-other', 'a.b_c-d'], ['ab', 'a b', 't'.repeat(256)], (v) =>
    /^[A-Za-z0-9_.-]{3,255}$/.test(v),
  ),
  oneOfFlag('table-region', ['eu-west-1', 'us-east-1'], ['Europe', 'EU-WEST-1', 'mars-1'], (v) =>
    /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v),
  ),
  // Any http(s) value is left out: it could point at a real endpoint.
  oneOfFlag('dynamodb-endpoint', [UNREACHABLE], ['ftp://x', 'http://a b', '127.0.0.1:1'], (v) =>
    /^https?:/i.test(v),
  ),
  // With --table, --data-dir is always refused (it is the local store's directory).
  fc.constantFrom('store', '', '/tmp/x').map((v) => flag('data-dir', v, true)),
);

const unknownFlag = fc
  .constantFrom('--nope', '--granularity-x', '--TZ', '-x')
  .map((f): Piece => ({ tokens: [f], bad: [f] }));

/** The documented duration: 1 to 6 digits (no leading 0) and m, h, d or w. */
const sinceFlag = oneOfFlag(
  'since',
  ['90m', '24h', '7d', '2w', '999999w'],
  ['1y', '0d', '24', 'h', '', '1.5h', '-1d', '24H', '1000000m'],
  (v) => /^[1-9]\d{0,5}[mhdw]$/.test(v),
);

/** R as documented: a fraction (0.05) or a percentage (5%), above 0 and at most 1 (100%). */
const acceptsRatio = (v: string) => {
  const match = /^(\d+(\.\d*)?|\.\d+)(%?)$/.exec(v);
  const value = match === null ? 0 : Number(match[1]) / (match[3] === '%' ? 100 : 1);
  return value > 0 && value <= 1;
};
const ratioFlag = (name: string) =>
  oneOfFlag(
    name,
    ['0.05', '5%', '1', '100%', '.5', '0.001%'],
    ['0', '0%', '5', '101%', '-0.1', 'abc', '', '5 %', '1e-2'],
    acceptsRatio,
  );
const THRESHOLDS = ['max-bounce-rate', 'max-complaint-rate', 'max-quota-utilisation'];

const commonPieces = [
  oneOfFlag('format', ['table', 'json', 'csv'], ['yaml', 'JSON', '']),
  fc.constant<Piece>({ tokens: ['--verbose'] }),
  storePiece,
  unknownFlag,
];
const tzFlag = oneOfFlag(
  'tz',
  ['UTC', 'Europe/Paris', 'Asia/Kolkata', 'America/St_Johns'],
  ['Mars/Olympus', '', 'Z', '+01:00', 'Europe/Nowhere'],
  knownZone,
);
const rangePieces = [timeFlag('from'), timeFlag('to'), sinceFlag, tzFlag];
const queryPieces = [
  oneOfFlag('granularity', ['15m', '1h', '1d'], ['5m', '1H', '', '15']),
  oneOfFlag('series', ['state', 'reputation'], ['states', 'State', '', 'rates']),
];
// summary takes no --series (a summary holds the states and the reputation rates both).
const notSummary = fc.constant<Piece>({ tokens: ['--series=state'], bad: ['--series'] });
// check takes no --format, --from, --to, --tz or --granularity: they are unknown options there.
const notCheck = fc
  .constantFrom('--format=json', '--from=2026-11-28', '--tz=UTC', '--granularity=1h')
  .map((t): Piece => ({ tokens: [t], bad: [t.split('=')[0] ?? t] }));
const PIECES: Record<Command, fc.Arbitrary<Piece>> = {
  query: fc.oneof(...commonPieces, ...rangePieces, ...queryPieces),
  summary: fc.oneof(...commonPieces, ...rangePieces, notSummary),
  datasets: fc.oneof(...commonPieces),
  check: fc.oneof(
    fc.constant<Piece>({ tokens: ['--verbose'] }),
    storePiece,
    unknownFlag,
    sinceFlag,
    notCheck,
    ...THRESHOLDS.map(ratioFlag),
  ),
};

/** A command line from the model, and the names a refusal may give (none: it is valid). */
const modelled = fc
  .constantFrom(...COMMANDS)
  .chain((command) =>
    fc.tuple(
      fc.constant(command),
      fc.array(PIECES[command], { maxLength: 5 }),
      // Mostly one DATASET where one is needed, so that enough lines pass every check.
      command === 'datasets'
        ? fc.array(dataset, { maxLength: 2 })
        : fc.oneof(
            fc.array(dataset, { maxLength: 2 }),
            dataset.map((d) => [d]),
          ),
      // check needs a threshold: most of its lines start with a valid one (a later piece may undo it).
      command === 'check'
        ? fc.option(
            fc.constantFrom(...THRESHOLDS).map((t): Piece => ({ tokens: [`--${t}=5%`] })),
            { freq: 4 },
          )
        : fc.constant(null),
    ),
  )
  .map(([command, generated, datasets, threshold]) => {
    const pieces = threshold === null ? generated : [threshold, ...generated];
    // parseArgs keeps the last of a repeated flag: an earlier value is never read.
    const last = new Map<string, Piece>();
    for (const p of pieces) last.set((p.tokens[0] ?? '').split('=')[0] ?? '', p);
    const badNow = [...last.values()].flatMap((p) => p.bad ?? []);
    const from = last.get('--from');
    const to = last.get('--to');
    if (from?.at !== undefined && to?.at !== undefined && from.at >= to.at) badNow.push('--from');
    if (from !== undefined && last.has('--since')) badNow.push('--since');
    if (command === 'check' && !THRESHOLDS.some((t) => last.has(`--${t}`)))
      badNow.push('expected at least one threshold');
    if (command === 'datasets' && datasets.length > 0) badNow.push('takes no arguments');
    if (command !== 'datasets' && datasets.length !== 1) badNow.push('DATASET');
    if (command !== 'datasets' && datasets.some((d) => d.bad)) badNow.push('DATASET');
    const argv = [
      command,
      ...STORE,
      ...pieces.flatMap((p) => p.tokens),
      ...(datasets.length > 0 ? ['--', ...datasets.map((d) => d.value)] : []),
    ];
    return { command, argv, bad: [...new Set(badNow)] };
  });

/** The refusal names `name` first: a flag, an unknown option, the dataset argument. */
function names(message: string, name: string): boolean {
  return (
    message.startsWith(`${name}: `) ||
    message.startsWith(`Unknown option '${name}'`) ||
    (name === 'DATASET' && message.startsWith('expected exactly one DATASET')) ||
    (name === 'takes no arguments' && message.startsWith(name)) ||
    (name === 'expected at least one threshold' && message.startsWith(name))
  );
}

/**
 * Never a secret, an escaped exception, or a stack trace (except the one --verbose asks for with
 * a failure); exit 2 is one line, prefixed.
 */
function checkClean(command: string, argv: readonly string[], { code, stdout, stderr }: Run): void {
  const asked = code === 1 && argv.includes('--verbose');
  expect(
    leaks(`${stdout}\n${stderr}`).filter((leak) => !(asked && !leak.startsWith('secret'))),
  ).toEqual([]);
  expect([0, 1, 2]).toContain(code);
  if (code === 2) {
    expect(stderr.startsWith(`ses-stats ${command}: `)).toBe(true);
    expect(stderr.endsWith('\n')).toBe(true);
  }
  // Nothing was created here: no local store directory appeared.
  expect(existsSync(join(dir, '.ses-stats'))).toBe(false);
}

const counts = { modelled: { refused: 0, reached: 0 }, raw: { help: 0, refused: 0, reached: 0 } };
afterAll(() => {
  // Recorded in docs/reliability.md.
  console.info(`read-flags fuzz (seed ${SEED}): ${JSON.stringify(counts)}`);
});

describe('ses-stats query, summary, datasets and check flags (fuzzed)', () => {
  it('refuses every invalid modelled command line with exit 2 naming a bad flag or argument, before any store', {
    timeout: 300_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(modelled, async ({ command, argv, bad }) => {
        const result = await run(argv);

        checkClean(command, argv, result);
        if (bad.length === 0) {
          expect(result.stderr).toContain(REACHED);
          expect(result.code).toBe(1);
          counts.modelled.reached++;
          return;
        }
        expect(result.code).toBe(2);
        const message = result.stderr.slice(`ses-stats ${command}: `.length);
        expect(
          bad.filter((name) => names(message, name)),
          message,
        ).not.toEqual([]);
        counts.modelled.refused++;
      }),
      { seed: SEED, numRuns: RUNS.modelled },
    );

    expect(counts.modelled.refused + counts.modelled.reached).toBe(RUNS.modelled);
    expect(counts.modelled.reached).toBeGreaterThan(RUNS.modelled / 20);
    expect(counts.modelled.refused).toBeGreaterThan(RUNS.modelled / 2);
  });

  it('answers arbitrary tokens with help, a refusal naming a flag or argument, or the store error', {
    timeout: 300_000,
  }, async () => {
    const token = fc.oneof(
      nastyString,
      fc.constantFrom(
        '--from',
        '--to',
        '--granularity',
        '--tz',
        '--format',
        '--table',
        '--table-region',
        '--data-dir',
        '--verbose',
        '--help',
        '-h',
        '--',
        '-',
        '--from=2026-11-28',
        '--tz=Europe/Paris',
        '--since=24h',
        '--since',
        '--max-bounce-rate=5%',
        '--max-quota-utilisation',
        'statsData',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COMMANDS),
        fc.array(token, { maxLength: 6 }),
        async (command, tokens) => {
          const argv = [command, ...STORE, ...tokens];
          const result = await run(argv);

          checkClean(command, argv, result);
          if (result.code === 0) {
            expect(result.stdout).toMatch(/^Usage: ses-stats /);
            counts.raw.help++;
          } else if (result.code === 1) {
            expect(result.stderr).toContain(REACHED);
            counts.raw.reached++;
          } else {
            expect(result.stderr.slice(`ses-stats ${command}: `.length)).toMatch(
              /^(--[a-z]|-\w|DATASET: |expected exactly one DATASET|expected at least one threshold|takes no arguments|Unknown option|Unexpected argument|Option '|Short option)/,
            );
            counts.raw.refused++;
          }
        },
      ),
      { seed: SEED, numRuns: RUNS.raw },
    );

    expect(counts.raw.help + counts.raw.refused + counts.raw.reached).toBe(RUNS.raw);
    expect(counts.raw.refused).toBeGreaterThan(0);
  });
});
