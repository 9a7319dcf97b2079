import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError } from '../../lambda/config/file.ts';
import { parseConfig } from '../../lambda/config/schema.ts';
import { ConfigError } from '../../lambda/core/errors.ts';
import {
  leaks,
  nastyNumber,
  nastyString,
  PROTOTYPE_NAMES,
  password,
  SEED,
  secretKey,
  userInfoUrl,
} from '../support/planted.ts';

const RUNS = { documents: 1000, mutations: 1000, json: 1000, shorthand: 500 };

/** A problem line starts with the field it is about: `config`, or a path from a top-level field. */
const NAMES_A_FIELD = /^(config|[a-z][A-Za-z]*)([.[][^\n]*)?: \S/;

/** What parseConfig does with `input`: accepted, or refused naming fields and leaking nothing. */
function checkParse(input: unknown): 'accepted' | 'refused' {
  let problems: readonly string[];
  try {
    const config = parseConfig(input);
    for (const activity of config.activities) {
      expect(Object.hasOwn(activity.connection, 'credentials')).toBe(true);
      expect(typeof activity.connection.userAgent).toBe('string');
    }
    return 'accepted';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.lines;
  }
  expect(problems.length).toBeGreaterThan(0);
  for (const problem of problems) expect(problem).toMatch(NAMES_A_FIELD);
  expect(leaks(problems.join('\n'))).toEqual([]);
  return 'refused';
}

const TOP_LEVEL = ['scheduleMinutes', 'rawRetentionDays', 'alarms', 'sessions', 'activities'];
const SESSION_FIELDS = [
  'region',
  'serviceUrl',
  'credentials',
  'userAgent',
  'maxErrorRetry',
  'timeoutSeconds',
  'proxy',
  'signatureMethod',
  'signatureVersion',
  'regions',
  'accounts',
  'externalId',
];

const key = fc.oneof(
  fc.constantFrom(...TOP_LEVEL, ...SESSION_FIELDS, ...PROTOTYPE_NAMES),
  fc.string({ maxLength: 8 }),
  secretKey,
);
const leaf = fc.oneof(nastyString, nastyNumber, fc.jsonValue({ maxDepth: 2 }));
const jsonish = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  ),
})).node;

const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,11}$/);
const secretRef = fc.oneof(
  fc.record({ env: fc.constantFrom('PROXY_PWD', 'AWS_SECRET') }),
  fc.record({
    secretId: fc.constantFrom('ses/key', 'arn:aws:secretsmanager:us-east-1:1:secret:k'),
  }),
);
const connection = fc.record(
  {
    region: fc.constantFrom('us-east-1', 'eu-west-1'),
    userAgent: fc.constantFrom('AutoMate', 'ses-stats/test'),
    maxErrorRetry: fc.integer({ min: 0, max: 10 }),
    timeoutSeconds: fc.constantFrom(0.1, 30, 300),
    signatureVersion: fc.constantFrom(4, '4', 'v4'),
    credentials: fc.oneof(
      fc.constant({ type: 'role' }),
      secretRef.map((ref) => ({
        type: 'keys',
        accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
        secretAccessKey: ref,
      })),
    ),
    proxy: secretRef.map((ref) => ({
      host: 'proxy.corp',
      port: 3128,
      user: 'ops',
      passwordSecret: ref,
    })),
  },
  { requiredKeys: [] },
);
const validConfig = fc
  .tuple(
    fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
    fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  )
  .chain(([sessionNames, picks]) =>
    fc
      .tuple(
        fc.array(connection, { minLength: sessionNames.length, maxLength: sessionNames.length }),
        connection,
      )
      .map(([connections, inline]) => ({
        sessions: Object.fromEntries(sessionNames.map((n, i) => [n, connections[i]])),
        activities: picks.map((pick, i) => ({
          ...(pick % (sessionNames.length + 1) === sessionNames.length
            ? { connection: inline }
            : { session: sessionNames[pick % (sessionNames.length + 1)] }),
          usageDataset: `usage${i}`,
          statisticsDataset: `stats${i}`,
        })),
      })),
  );

type Mutation =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'addKey'; at: number; key: string; value: unknown }
  | { op: 'deleteKey'; at: number }
  | { op: 'pasteSecret'; at: number; value: unknown }
  | { op: 'sessionName'; at: number; value: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: jsonish }),
  fc.record({
    op: fc.constant('addKey' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES, ...SESSION_FIELDS), secretKey),
    value: jsonish,
  }),
  fc.record({ op: fc.constant('deleteKey' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('sessionName' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), nastyString),
  }),
  fc.record({
    op: fc.constant('pasteSecret' as const),
    at: fc.nat(),
    value: fc.oneof(
      password.map((pw) => ({
        type: 'keys',
        accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
        secretAccessKey: pw,
      })),
      secretKey.map((s) => ({ type: 'keys', accessKeyId: s, secretAccessKey: { env: 'K' } })),
      password.map((pw) => ({ host: 'proxy.corp', port: 1, user: 'ops', passwordSecret: pw })),
      userInfoUrl.map((url) => ({ host: url, port: 3128 })),
      userInfoUrl,
      fc.constantFrom({ secretId: 'ses/*' }, { secretId: 'ses-??????' }),
    ),
  }),
);

type Node = Record<string, unknown> | unknown[];

/** Every container in `doc` with the path to it. */
function containers(doc: unknown, out: Node[] = []): Node[] {
  if (typeof doc === 'object' && doc !== null) {
    out.push(doc as Node);
    for (const child of Object.values(doc)) containers(child, out);
  }
  return out;
}

function setOwn(node: Node, key: string | number, value: unknown): void {
  // As JSON.parse does: "__proto__" becomes an own property, not the prototype.
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

function mutate(config: unknown, mutations: readonly Mutation[]): unknown {
  const doc = structuredClone(config);
  for (const m of mutations) {
    const all = containers(doc);
    const node = all[m.at % all.length] as Node;
    const keys = Object.keys(node);
    const existing = keys[m.at % Math.max(keys.length, 1)];
    if (m.op === 'sessionName') {
      const activities = (doc as { activities: unknown }).activities;
      const activity = Array.isArray(activities)
        ? (activities[m.at % Math.max(activities.length, 1)] as unknown)
        : undefined;
      if (typeof activity === 'object' && activity !== null && !Array.isArray(activity)) {
        const target = activity as Record<string, unknown>;
        delete target.connection;
        target.session = m.value;
      }
    } else if (m.op === 'addKey') {
      if (!Array.isArray(node)) setOwn(node, m.key, m.value);
    } else if (m.op === 'deleteKey') {
      if (existing !== undefined && !Array.isArray(node)) delete node[existing];
    } else if (existing !== undefined) {
      setOwn(node, Array.isArray(node) ? Number(existing) : existing, m.value);
    }
  }
  return doc;
}

/** Mostly `valid`, sometimes `broken`: both sides of the schema get exercised. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, broken: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: broken, weight: 1 });

/** A session shorthand: regions and accounts, sometimes broken, with templates that may not fit. */
const shorthand = fc
  .record({
    regions: mostly(
      fc.uniqueArray(
        fc.constantFrom('us-east-1', 'eu-west-1', 'cn-north-1', 'us-gov-west-1', 'ap-south-2'),
        { minLength: 1, maxLength: 4 },
      ),
      fc.array(fc.oneof(fc.constantFrom('us-east-1'), nastyString), { maxLength: 3 }),
    ),
    accounts: mostly(
      fc.uniqueArray(
        fc.record(
          { id: fc.stringMatching(/^\d{12}$/), roleName: fc.constantFrom('SesStatsReader', 'R.1') },
          { requiredKeys: ['id'] },
        ),
        { minLength: 1, maxLength: 5, selector: (a) => a.id },
      ),
      fc.array(fc.record({ id: fc.oneof(fc.constantFrom(111122223333, '0123'), nastyString) }), {
        maxLength: 3,
      }),
    ),
    externalId: mostly(fc.constantFrom('ext-1', 'org:ses/stats'), nastyString),
    extra: fc.constantFrom(
      {},
      {},
      { region: 'us-east-1' },
      { credentials: { type: 'assumeRole', roleArn: 'arn:aws:iam::111122223333:role/r' } },
      { serviceUrl: 'http://127.0.0.1:4566' },
      { serviceUrl: 'email.us-east-1.amazonaws.com' },
    ),
  })
  .chain(({ extra, ...fields }) =>
    fc
      .subarray(Object.keys(fields) as Array<keyof typeof fields>)
      .map((keys) => ({ ...extra, ...Object.fromEntries(keys.map((k) => [k, fields[k]])) })),
  );
const template = mostly(
  fc.constantFrom(
    '{account}-{region}-stats',
    '{region}-{account}-usage',
    '{session}.{account}.{region}',
    '{region}-stats',
    'plain',
  ),
  fc.oneof(fc.constantFrom('{acount}-x', '{}', '{region', '{account} {region}'), nastyString),
);
/** Default names half the time; given ones (often colliding) otherwise. */
const shorthandActivity = fc.oneof(
  fc.constant({}),
  fc.record(
    { name: template, usageDataset: template, statisticsDataset: template },
    { requiredKeys: [] },
  ),
);

describe('parseConfig under fuzzing', () => {
  it(`expands or refuses ${RUNS.shorthand} session shorthands, one source per account × region`, () => {
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(
        shorthand,
        fc.array(shorthandActivity, { minLength: 1, maxLength: 2 }),
        (org, acts) => {
          const input = {
            sessions: { org },
            activities: acts.map((a) => ({ ...a, session: 'org' })),
          };
          const outcome = checkParse(input);
          outcomes[outcome]++;
          if (outcome === 'refused') return;
          const listed = org as { regions?: unknown[]; accounts?: unknown[] };
          const sources = (listed.regions?.length ?? 1) * (listed.accounts?.length ?? 1);
          const { activities } = parseConfig(input);
          expect(activities).toHaveLength(acts.length * sources);
          expect(new Set(activities.map((a) => a.statisticsDataset)).size).toBe(activities.length);
          if ('accounts' in org)
            for (const a of activities)
              expect(a.connection.credentials).toMatchObject({
                type: 'assumeRole',
                roleArn: expect.stringMatching(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\//),
              });
        },
      ),
      { seed: SEED, numRuns: RUNS.shorthand },
    );
    expect(outcomes.accepted).toBeGreaterThan(0);
    console.info(`config shorthands: ${JSON.stringify(outcomes)}`);
  });

  it(`accepts or refuses naming the field for ${RUNS.documents} arbitrary documents`, () => {
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.oneof(jsonish, fc.dictionary(key, jsonish, { maxKeys: 6 }), fc.anything()),
        (doc) => {
          outcomes[checkParse(doc)]++;
        },
      ),
      { seed: SEED, numRuns: RUNS.documents },
    );
    expect(outcomes.accepted + outcomes.refused).toBe(RUNS.documents);
    console.info(`config documents: ${JSON.stringify(outcomes)}`);
  });

  it(`accepts or refuses naming the field for ${RUNS.mutations} mutated valid configs`, () => {
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(validConfig, fc.array(mutation, { minLength: 1, maxLength: 3 }), (config, ms) => {
        expect(checkParse(config)).toBe('accepted');
        outcomes[checkParse(mutate(config, ms))]++;
      }),
      { seed: SEED, numRuns: RUNS.mutations },
    );
    // Both sides are exercised: some mutations keep the config valid, most break it.
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(RUNS.mutations / 2);
    console.info(`config mutations: ${JSON.stringify(outcomes)}`);
  });

  it(`locates every JSON syntax error without quoting the text, for ${RUNS.json} broken documents`, () => {
    fc.assert(
      fc.property(
        validConfig,
        fc.nat(),
        fc.constantFrom('', '}', '"', ',', ':', 'x', '\n', '\\', '\u0001', ' '),
        (config, at, insert) => {
          const text = JSON.stringify(config, null, 2);
          const cut = at % (text.length + 1);
          const broken = `${text.slice(0, cut)}${insert}${text.slice(cut + (insert === '' ? 1 : 0))}`;
          let parses = true;
          try {
            JSON.parse(broken);
          } catch {
            parses = false;
          }
          const where = parses ? undefined : jsonSyntaxError(broken);
          if (where !== undefined) {
            expect(where).toMatch(/ at line \d+, column \d+$/);
            expect(leaks(where)).toEqual([]);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS.json },
    );
  });
});
