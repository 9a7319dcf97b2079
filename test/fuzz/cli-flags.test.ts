import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FLAGGED } from '../../lambda/config/parameters.ts';
import { ENCRYPTED, markup } from '../support/aml.ts';
import { runMain } from '../support/cli.ts';
import { FAKE_SECRET_ACCESS_KEY } from '../support/fake-ses.ts';
import {
  leaks,
  nastyNumber,
  nastyString,
  PASSWORDS,
  PROTOTYPE_NAMES,
  SEED,
  userInfoUrl,
} from '../support/planted.ts';

// Nothing is ever collected or opened: a run that passes every check stops at these.
const REACHED = 'fuzz: reached the store';
vi.mock('../../lambda/core/activity.ts', async (original) => ({
  ...(await original<typeof import('../../lambda/core/activity.ts')>()),
  collectAll: vi.fn(async () => ({ collected: 0, failures: [], skipped: [] })),
}));
vi.mock('../../lambda/adapters/embedded-dynamodb.ts', async (original) => ({
  ...(await original<typeof import('../../lambda/adapters/embedded-dynamodb.ts')>()),
  startEmbeddedDynamoDb: vi.fn(async () => {
    throw new Error(REACHED);
  }),
}));
vi.mock('../../lambda/adapters/dynamodb-table.ts', async (original) => ({
  ...(await original<typeof import('../../lambda/adapters/dynamodb-table.ts')>()),
  ensureTable: vi.fn(async () => {
    throw new Error(REACHED);
  }),
}));

const RUNS = { collect: 1000, importAml: 1000 };
const dir = mkdtempSync(join(tmpdir(), 'ses-stats-fuzz-'));
// Relative paths (--out, FILE, --config) are the command's: they must land in `dir`, not here.
const hereBefore = readdirSync(process.cwd()).sort();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Each line of an exit-2 message names a flag, an argument or a config field. */
const NAMES_A_FLAG =
  /^(--[A-Za-z]|-[A-Za-z]|Unknown option|Unexpected argument|Option '|expected exactly one FILE|FILE |line \d+: |no <AMAWSSES |invalid configuration:$|(config|[a-z][A-Za-z]*)([.[][^\n]*)?: )/;

type Run = Awaited<ReturnType<typeof runMain>>;

function run(argv: string[]): Promise<Run> {
  return runMain(argv, {
    env: { PROXY_PWD: PASSWORDS[0], AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY },
    cwd: dir,
  });
}

/** Exit 0, or exit 2 naming the flag or field, or the store reached; never a leak. */
function checkRun(
  command: string,
  { code, stdout, stderr }: Run,
  verbose = false,
): 'ran' | 'refused' | 'reached' {
  if (code === 1) {
    // The stand-in store error, with its stack only when --verbose asked for it.
    const [first = '', ...stack] = stderr.split('\n');
    expect(first).toBe(`ses-stats ${command}: ${REACHED}`);
    expect(stack.length <= 1 || verbose).toBe(true);
    expect(leaks(`${stdout}\n${first}`)).toEqual([]);
    expect(leaks(stack.join('\n')).filter((leak) => leak !== 'a stack trace')).toEqual([]);
    return 'reached';
  }
  // import-aml's stdout is the imported config: it holds what the markup says (ENCRYPTED aside).
  expect(leaks(command === 'import-aml' && code === 0 ? stderr : `${stdout}\n${stderr}`)).toEqual(
    [],
  );
  if (code === 0) return 'ran';
  expect(code).toBe(2);
  const prefix = `ses-stats ${command}: `;
  expect(stderr.startsWith(prefix)).toBe(true);
  const lines = stderr.slice(prefix.length).trimEnd().split('\n');
  for (const line of lines) expect(line.trim()).toMatch(NAMES_A_FLAG);
  return 'refused';
}

/** Every flag the collect fuzzer gives; each parameter record's flag must be among them. */
const FUZZED = new Set<string>();

const stringFlag = (name: string, valid: fc.Arbitrary<string>) => {
  FUZZED.add(name);
  return fc.tuple(fc.constant(`--${name}`), fc.oneof(valid, nastyString, nastyNumber.map(String)));
};

const configFile = fc
  .oneof(
    fc.jsonValue({ maxDepth: 3 }).map((doc) => JSON.stringify(doc)),
    fc.constantFrom(
      '{"sessions":{"S1":{"region":"eu-west-1"}},"activities":[{"session":"S1","usageDataset":"u","statisticsDataset":"s"}]}',
      `{"sessions":{"S1":{"proxy":{"host":"p","port":1,"user":"u","passwordSecret":"${PASSWORDS[1]}"}}},"activities":[{"session":"S1","usageDataset":"u","statisticsDataset":"s"}]}`,
      `{"sessions":{"S1":{"credentials":{"type":"keys","accessKeyId":"${FAKE_SECRET_ACCESS_KEY}","secretAccessKey":{"env":"K"}}}}, "x": }`,
      '{"activities":[{"session":"constructor","usageDataset":"u","statisticsDataset":"s"}]}',
      '{"sessions":"S1","activities":[]}',
    ),
  )
  .map((text) => {
    const path = join(dir, `config-${files++}.json`);
    writeFileSync(path, text);
    return path;
  });

const collectArg = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constant('--config'), fc.oneof(configFile, nastyString)) },
  { weight: 2, arbitrary: stringFlag('session', fc.constantFrom('S1', ...PROTOTYPE_NAMES)) },
  { weight: 1, arbitrary: stringFlag('region', fc.constantFrom('us-east-1', 'mars-1')) },
  {
    weight: 2,
    arbitrary: stringFlag(
      'service-url',
      fc.oneof(
        fc.constantFrom('email.us-east-1.amazonaws.com', 'http://127.0.0.1:4566'),
        userInfoUrl,
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: stringFlag(
      'cloudwatch-url',
      fc.oneof(fc.constantFrom('http://127.0.0.1:4566', 'ftp://monitoring', ''), userInfoUrl),
    ),
  },
  { weight: 1, arbitrary: stringFlag('user-agent', fc.constant('AutoMate')) },
  {
    weight: 1,
    arbitrary: stringFlag(
      'max-error-retry',
      fc.constantFrom('0', '10', '11', '1e3', '99999999999999999999'),
    ),
  },
  {
    weight: 1,
    arbitrary: stringFlag('timeout-seconds', fc.constantFrom('30', '0.1', '0', '301', '1e3')),
  },
  {
    weight: 1,
    arbitrary: stringFlag('proxy-host', fc.oneof(fc.constant('127.0.0.1'), userInfoUrl)),
  },
  { weight: 1, arbitrary: stringFlag('proxy-port', fc.constantFrom('3128', '0', '65536', '-1')) },
  { weight: 1, arbitrary: stringFlag('proxy-user', fc.constantFrom('ops', `ops:${PASSWORDS[0]}`)) },
  {
    weight: 1,
    arbitrary: stringFlag('proxy-password-env', fc.constantFrom('PROXY_PWD', PASSWORDS[1] ?? '')),
  },
  { weight: 1, arbitrary: stringFlag('sign-method', fc.constantFrom('HmacSHA256', 'HmacSHA1')) },
  { weight: 1, arbitrary: stringFlag('sign-version', fc.constantFrom('4', '2')) },
  { weight: 1, arbitrary: stringFlag('usage-dataset', fc.constantFrom('usageData', 'statsData')) },
  { weight: 1, arbitrary: stringFlag('statistics-dataset', fc.constantFrom('statsData', 'x y')) },
  {
    weight: 1,
    arbitrary: stringFlag('account-dataset', fc.constantFrom('accountData', 'usageData', 'x y')),
  },
  { weight: 1, arbitrary: stringFlag('format', fc.constantFrom('json', 'csv', 'table')) },
  { weight: 1, arbitrary: stringFlag('table', fc.constantFrom('ses-stats', 'x')) },
  { weight: 1, arbitrary: stringFlag('table-region', fc.constantFrom('eu-west-1', 'x')) },
  {
    weight: 1,
    arbitrary: stringFlag(
      'dynamodb-endpoint',
      fc.oneof(fc.constant('http://127.0.0.1:9'), userInfoUrl),
    ),
  },
  // No nasty strings here: a valid command line would create that directory.
  {
    weight: 1,
    arbitrary: fc.constantFrom(['--data-dir', 'store'], ['--data-dir', ''], ['--data-dir']),
  },
  { weight: 3, arbitrary: fc.constant(['--no-store']) },
  { weight: 1, arbitrary: fc.constantFrom(['--verbose'], ['--no-store=1'], ['--config']) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom(...PROTOTYPE_NAMES).map((n) => [`--${n}`]),
      fc.constantFrom(...PROTOTYPE_NAMES).map((n) => [`--${n}=1`]),
      nastyString.map((s) => [s]),
      nastyString.map((s) => [`--${s}`]),
    ),
  },
);

const taskFile = markup.map((text) => {
  const path = join(dir, `task-${files++}.aml`);
  writeFileSync(path, text);
  return [path];
});

const importArg = fc.oneof(
  { weight: 2, arbitrary: taskFile },
  { weight: 1, arbitrary: fc.constantFrom([join(dir, 'missing.aml')], [dir], ['']) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      ['--out', join(dir, 'out.json')],
      ['--out', dir],
      ['--out', join(dir, 'no', 'such', 'dir.json')],
      ['--out', ''],
      ['--out'],
      ['--verbose'],
    ),
  },
  { weight: 1, arbitrary: nastyString.map((s) => [s]) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES).map((n) => [`--${n}`]) },
);

describe('the CLI flags under fuzzing', () => {
  it("fuzzes every parameter record's collect flag", () => {
    expect(FLAGGED.map((p) => p.flag[0]).filter((flag) => !FUZZED.has(flag))).toEqual([]);
  });

  it(`collect: exits 0 or 2 naming the flag, never leaking a secret, for ${RUNS.collect} argument lists`, async () => {
    const outcomes = { ran: 0, refused: 0, reached: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(collectArg, { minLength: 1, maxLength: 5 }), async (args) => {
        const argv = args.flat();
        outcomes[
          checkRun('collect', await run(['collect', ...argv]), argv.includes('--verbose'))
        ]++;
      }),
      { seed: SEED, numRuns: RUNS.collect },
    );
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.ran + outcomes.reached).toBeGreaterThan(0);
    console.info(`cli collect: ${JSON.stringify(outcomes)}`);
  });

  it(`import-aml: exits 0 or 2 naming the flag, line or field, never copying a secret, for ${RUNS.importAml} argument lists`, async () => {
    const outcomes = { ran: 0, refused: 0, reached: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(fc.option(taskFile, { freq: 5 }), fc.array(importArg, { maxLength: 2 }))
          .map(([file, rest]) => [...(file === null ? [] : [file]), ...rest]),
        async (args) => {
          rmSync(join(dir, 'out.json'), { force: true });
          const result = await run(['import-aml', ...args.flat()]);
          outcomes[checkRun('import-aml', result)]++;
          const written = (() => {
            try {
              return readFileSync(join(dir, 'out.json'), 'utf8');
            } catch {
              return '';
            }
          })();
          for (const text of [result.stdout, result.stderr, written])
            expect(ENCRYPTED.filter((secret) => text.includes(secret))).toEqual([]);
        },
      ),
      { seed: SEED, numRuns: RUNS.importAml },
    );
    expect(outcomes.ran).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.reached).toBe(0);
    console.info(`cli import-aml: ${JSON.stringify(outcomes)}`);
  });

  it('reads and writes relative paths in the working directory it gives the command', async () => {
    writeFileSync(
      join(dir, 'relative.xml'),
      '<AMAWSSES ACTIVITY="email_statistics" RESULTDATASET="u" STATISTICSDATASET="s" />',
    );

    const imported = await run(['import-aml', 'relative.xml', '--out', 'relative.json']);

    expect(imported.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'relative.json'), 'utf8'))).toMatchObject({
      activities: [{ usageDataset: 'u', statisticsDataset: 's' }],
    });
    expect(readdirSync(process.cwd()).sort()).toEqual(hereBefore);
  });
});
