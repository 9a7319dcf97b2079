import { ConfigError, type Problem, problemText } from '../core/errors.ts';
import {
  type ConfigInput,
  type ConnectionInput,
  DEFAULT_SESSION,
  MAX_ERROR_RETRY_LIMIT,
  maskSecrets,
  parseConfig,
} from './schema.ts';

/** What `importAml` returns. */
export interface AmlImport {
  /** A config that `parseConfig` accepts. */
  readonly config: ConfigInput;
  /** What the import changed, ignored or left for the user to do: one line each, `line N: …`, in line order. */
  readonly notes: string[];
}

type ActivityInput = ConfigInput['activities'][number];
type CredentialsInput = NonNullable<ConnectionInput['credentials']>;
type ProxyInput = NonNullable<ConnectionInput['proxy']>;

/** One `<AMAWSSES …>` tag: attribute names upper-cased, values entity-decoded. */
interface Step {
  readonly line: number;
  readonly attributes: ReadonlyMap<string, string>;
}

interface Message {
  readonly line: number;
  readonly text: string;
}

class Log {
  readonly notes: Message[] = [];
  readonly problems: Message[] = [];
  note(line: number, text: string): void {
    this.notes.push({ line, text });
  }
  problem(line: number, text: string): void {
    this.problems.push({ line, text });
  }
  add(other: Log, withNotes: boolean): void {
    if (withNotes) this.notes.push(...other.notes);
    this.problems.push(...other.problems);
  }
}

const CONNECTION_ATTRIBUTES = [
  'ACCESSKEY',
  'SECRETKEY',
  'USERAGENT',
  'MAXERRORRETRY',
  'SERVICEURL',
  'REGION',
  'PROXYHOST',
  'PROXYPORT',
  'PROXYUSER',
  'PROXYPWD',
  'SIGNMETHOD',
  'SIGNVERSION',
];
const DATASET_ATTRIBUTES = [
  'ACTIVITY',
  'PROVIDER',
  'RESULTDATSET',
  'RESULTDATASET',
  'STATISTICSDATASET',
];
const CREATE_SESSION_USES = new Set(['ACTIVITY', 'SESSION', ...CONNECTION_ATTRIBUTES]);
const HOST_STEP_USES = new Set([...DATASET_ATTRIBUTES, ...CONNECTION_ATTRIBUTES]);
const SESSION_STEP_USES = new Set([...DATASET_ATTRIBUTES, 'SESSION']);

const SES_V4_ONLY = 'SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01';

/**
 * Turns the `<AMAWSSES …/>` steps of a workflow-automation task file into a ses-stats config
 * (DESIGN.md §2, §7). `create_session` steps become `sessions`, `email_statistics` steps become
 * `activities`; other tags and activities are skipped. Secret values (SECRETKEY, PROXYPWD) are
 * never copied: the config refers to Secrets Manager secrets the user creates, as the notes say.
 * Throws ConfigError naming the line, attribute and value of every step that cannot be imported,
 * or the `parseConfig` error when the result is not a valid config.
 */
export function importAml(markup: string): AmlImport {
  const log = new Log();
  const steps = scanSteps(markup, log);
  const sessions = importSessions(steps, log);
  const activities = importActivities(steps, sessions, log);
  // An unreadable tag may well be the step the file is about: report it, not a missing step.
  if (log.problems.length === 0 && !steps.some((step) => activityOf(step) === 'email_statistics')) {
    log.problem(
      0,
      'no <AMAWSSES ACTIVITY="email_statistics"> step found; there is nothing to import',
    );
  }
  if (log.problems.length > 0) throw new ConfigError(inLineOrder(log.problems));
  const config: ConfigInput =
    sessions.size > 0 ? { sessions: connections(sessions), activities } : { activities };
  parseConfig(config);
  return { config, notes: format(log.notes) };
}

interface Created {
  readonly line: number;
  readonly connection: ConnectionInput;
}

function importSessions(steps: readonly Step[], log: Log): Map<string, Created> {
  const sessions = new Map<string, Created>();
  for (const step of steps.filter((s) => activityOf(s) === 'create_session')) {
    const name = value(step, 'SESSION') ?? DEFAULT_SESSION;
    const local = new Log();
    const connection = connectionOf(step, name, local);
    noteIgnored(step, CREATE_SESSION_USES, 'a create_session step', local);
    const earlier = sessions.get(name);
    log.add(local, earlier === undefined);
    if (earlier === undefined) sessions.set(name, { line: step.line, connection });
    else if (same(earlier.connection, connection)) {
      log.note(
        step.line,
        `session "${name}" is created again with the settings of line ${earlier.line}; imported once`,
      );
    } else {
      log.problem(
        step.line,
        `SESSION "${name}" is created again with other settings (first on line ${earlier.line}); give each create_session step its own SESSION name`,
      );
    }
  }
  return sessions;
}

function importActivities(
  steps: readonly Step[],
  sessions: Map<string, Created>,
  log: Log,
): ActivityInput[] {
  const activities: { line: number; activity: ActivityInput }[] = [];
  const datasets = new Map<string, number>();
  for (const step of steps) {
    const kind = activityOf(step);
    if (kind === 'create_session') continue;
    if (kind !== 'email_statistics') {
      log.note(step.line, skipReason(step));
      continue;
    }
    const local = new Log();
    const activity = activityStep(step, sessions, local);
    const twin = activities.find((a) => same(a.activity, activity));
    log.add(local, twin === undefined);
    if (twin !== undefined) {
      log.note(step.line, `same email_statistics step as line ${twin.line}; imported once`);
      continue;
    }
    claimDatasets(step, activity, datasets, log);
    activities.push({ line: step.line, activity });
  }
  return activities.map((a) => a.activity);
}

function activityStep(step: Step, sessions: Map<string, Created>, log: Log): ActivityInput {
  const usageDataset = usageDatasetOf(step, log) ?? '';
  const statisticsDataset =
    required(step, 'STATISTICSDATASET', 'a statistics dataset name', log) ?? '';
  const session = value(step, 'SESSION');
  if (value(step, 'PROVIDER')?.toLowerCase() !== 'session_based' && session === undefined) {
    noteIgnored(step, HOST_STEP_USES, 'a Host email_statistics step', log);
    // Inline connections are named after the activity, whose name defaults to its statistics dataset.
    return {
      connection: connectionOf(step, statisticsDataset, log),
      usageDataset,
      statisticsDataset,
    };
  }
  const name = session ?? DEFAULT_SESSION;
  noteIgnored(step, SESSION_STEP_USES, 'a session_based email_statistics step', log);
  if (!sessions.has(name)) {
    sessions.set(name, { line: step.line, connection: {} });
    log.note(
      step.line,
      `session "${name}" has no create_session step; added it with default settings (the default AWS credential chain and region)`,
    );
  }
  return { session: name, usageDataset, statisticsDataset };
}

/** Dataset names must be unique across activities; say where each was first used. */
function claimDatasets(
  step: Step,
  activity: ActivityInput,
  datasets: Map<string, number>,
  log: Log,
): void {
  const usageAttribute = step.attributes.has('RESULTDATSET') ? 'RESULTDATSET' : 'RESULTDATASET';
  const claims = [
    [usageAttribute, activity.usageDataset],
    ['STATISTICSDATASET', activity.statisticsDataset],
  ] as const;
  for (const [attribute, dataset] of claims) {
    if (dataset === '') continue;
    const first = datasets.get(dataset);
    if (first === undefined) datasets.set(dataset, step.line);
    else
      log.problem(
        step.line,
        `${attribute} is "${dataset}", a dataset name already used on line ${first}; every dataset needs its own name`,
      );
  }
}

function usageDatasetOf(step: Step, log: Log): string | undefined {
  const productSpelling = value(step, 'RESULTDATSET');
  const spelledOut = value(step, 'RESULTDATASET');
  if (productSpelling !== undefined && spelledOut !== undefined && productSpelling !== spelledOut) {
    log.problem(
      step.line,
      `RESULTDATSET is "${productSpelling}" but RESULTDATASET is "${spelledOut}"; give one usage dataset name`,
    );
    return undefined;
  }
  if (productSpelling !== undefined || spelledOut !== undefined)
    return productSpelling ?? spelledOut;
  log.problem(
    step.line,
    'RESULTDATSET is missing; the email_statistics step needs a usage dataset name (RESULTDATSET or RESULTDATASET)',
  );
  return undefined;
}

function connectionOf(step: Step, owner: string, log: Log): ConnectionInput {
  return compact({
    credentials: credentialsOf(step, owner, log),
    userAgent: value(step, 'USERAGENT'),
    maxErrorRetry: integerOf(step, 'MAXERRORRETRY', 0, MAX_ERROR_RETRY_LIMIT, log),
    serviceUrl: value(step, 'SERVICEURL'),
    region: value(step, 'REGION'),
    proxy: proxyOf(step, owner, log),
    signatureVersion: upgraded(step, 'SIGNVERSION', /^v?[23]$/i, '4', log),
    signatureMethod: upgraded(step, 'SIGNMETHOD', /^hmac[-_]?sha1$/i, 'HmacSHA256', log),
  });
}

function credentialsOf(step: Step, owner: string, log: Log): CredentialsInput | undefined {
  const accessKeyId = value(step, 'ACCESSKEY');
  if (accessKeyId === undefined) {
    if (value(step, 'SECRETKEY') !== undefined) {
      log.problem(
        step.line,
        'SECRETKEY is given without ACCESSKEY; add the access key id, or drop SECRETKEY to use the default AWS credential chain',
      );
    }
    return undefined;
  }
  const secretId = `ses-stats/${owner}/secret-access-key`;
  log.note(
    step.line,
    secretNote('SECRETKEY', secretId, 'the secret access key', 'secretAccessKey'),
  );
  return { type: 'keys', accessKeyId, secretAccessKey: { secretId } };
}

function proxyOf(step: Step, owner: string, log: Log): ProxyInput | undefined {
  const host = value(step, 'PROXYHOST');
  const port = integerOf(step, 'PROXYPORT', 1, 65535, log);
  const user = value(step, 'PROXYUSER');
  const hasPassword = value(step, 'PROXYPWD') !== undefined;
  const given = ['PROXYPORT', 'PROXYUSER', 'PROXYPWD'].filter(
    (name) => value(step, name) !== undefined,
  );
  if (host === undefined) {
    if (given.length > 0)
      log.problem(
        step.line,
        `PROXYHOST is missing; ${given.join(', ')} cannot be used without a proxy host`,
      );
    return undefined;
  }
  if (!given.includes('PROXYPORT'))
    log.problem(step.line, 'PROXYPORT is missing; a proxy needs a port from 1 to 65535');
  if (hasPassword && user === undefined)
    log.problem(step.line, 'PROXYPWD is given without PROXYUSER; add the proxy user name');
  if (!hasPassword) return compact({ host, port: port ?? 0, user });
  const secretId = `ses-stats/${owner}/proxy-password`;
  log.note(
    step.line,
    secretNote('PROXYPWD', secretId, 'the proxy password', 'proxy.passwordSecret'),
  );
  return compact({ host, port: port ?? 0, user, passwordSecret: { secretId } });
}

function secretNote(attribute: string, secretId: string, what: string, field: string): string {
  return `${attribute} is encrypted in the markup and is never copied; create the Secrets Manager secret "${secretId}" holding ${what} (for CLI use, replace ${field} with {"env": "VAR"})`;
}

/** SIGNVERSION 2/3 and HmacSHA1 are what the product offered; SES now refuses them, so they become V4. */
function upgraded(
  step: Step,
  attribute: string,
  outdated: RegExp,
  to: string,
  log: Log,
): string | undefined {
  const given = value(step, attribute);
  if (given === undefined || !outdated.test(given.trim())) return given;
  log.note(step.line, `warning: ${attribute} "${given}" changed to "${to}" because ${SES_V4_ONLY}`);
  return to;
}

function integerOf(
  step: Step,
  attribute: string,
  min: number,
  max: number,
  log: Log,
): number | undefined {
  const given = value(step, attribute);
  if (given === undefined) return undefined;
  const number = /^\s*[+-]?\d+\s*$/.test(given) ? Number(given) : Number.NaN;
  if (number >= min && number <= max) return number;
  log.problem(
    step.line,
    `${attribute} is "${given}"; expected a whole number from ${min} to ${max}`,
  );
  return undefined;
}

function required(step: Step, attribute: string, what: string, log: Log): string | undefined {
  const given = value(step, attribute);
  if (given === undefined)
    log.problem(step.line, `${attribute} is missing; the email_statistics step needs ${what}`);
  return given;
}

function noteIgnored(step: Step, uses: ReadonlySet<string>, what: string, log: Log): void {
  const ignored = [...step.attributes.keys()].filter(
    (name) => !uses.has(name) && value(step, name) !== undefined,
  );
  if (ignored.length > 0)
    log.note(step.line, `ignored ${ignored.join(', ')}: not used by ses-stats in ${what}`);
}

function skipReason(step: Step): string {
  const activity = step.attributes.get('ACTIVITY');
  if (activity === undefined) return 'skipped an AMAWSSES step without ACTIVITY';
  return `skipped ACTIVITY "${activity}": ses-stats imports only create_session and email_statistics steps`;
}

function activityOf(step: Step): string | undefined {
  return step.attributes.get('ACTIVITY')?.trim().toLowerCase();
}

/** An attribute's value as given; an empty one counts as absent, as the product writes unset fields. */
function value(step: Step, attribute: string): string | undefined {
  const given = step.attributes.get(attribute);
  return given === undefined || given.trim() === '' ? undefined : given;
}

function compact<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function connections(sessions: Map<string, Created>): Record<string, ConnectionInput> {
  return Object.fromEntries([...sessions].map(([name, created]) => [name, created.connection]));
}

function inLineOrder(messages: readonly Message[]): Problem[] {
  return [...messages]
    .sort((a, b) => a.line - b.line)
    .map((m) => ({ path: m.line > 0 ? `line ${m.line}` : '', message: maskSecrets(m.text) }));
}

function format(messages: readonly Message[]): string[] {
  return inLineOrder(messages).map(problemText);
}

// --- The scanner: just enough XML to find AMAWSSES tags exactly, with their line numbers.

const TAG_NAME = /<\/?([A-Za-z_][\w:.-]*)/y;
// `<` ends an unclosed tag so one broken tag cannot swallow the steps after it.
const TAG_REST = /(?:[^<>"']|"[^"]*"|'[^']*')*>/y;
const ATTRIBUTE = /\s+([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const TAG_CLOSE = /^\s*\/?$/;
const SKIPPED = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
  ['<!', '>'],
] as const;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9A-Fa-f]+));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function scanSteps(markup: string, log: Log): Step[] {
  const steps: Step[] = [];
  const lineAt = lineCounter(markup);
  let at = markup.indexOf('<');
  while (at !== -1) {
    const next =
      skipDeclaration(markup, at, lineAt, log) ?? readTag(markup, at, lineAt, steps, log);
    at = markup.indexOf('<', next);
  }
  return steps;
}

/** Comments, CDATA, processing instructions: steps inside them are not steps. */
function skipDeclaration(
  markup: string,
  at: number,
  lineAt: (index: number) => number,
  log: Log,
): number | undefined {
  const kind = SKIPPED.find(([open]) => markup.startsWith(open, at));
  if (kind === undefined) return undefined;
  const [open, close] = kind;
  const end = markup.indexOf(close, at + open.length);
  if (end !== -1) return end + close.length;
  log.problem(lineAt(at), `${open} is never closed with ${close}`);
  return markup.length;
}

function readTag(
  markup: string,
  at: number,
  lineAt: (index: number) => number,
  steps: Step[],
  log: Log,
): number {
  TAG_NAME.lastIndex = at;
  const name = TAG_NAME.exec(markup);
  if (name === null) return at + 1;
  TAG_REST.lastIndex = TAG_NAME.lastIndex;
  const rest = TAG_REST.exec(markup);
  const isStep = name[1]?.toUpperCase() === 'AMAWSSES' && !name[0].startsWith('</');
  if (!isStep) return rest === null ? at + 1 : TAG_REST.lastIndex;
  const line = lineAt(at);
  if (rest === null) {
    log.problem(line, 'the AMAWSSES tag is not closed with ">"');
    return at + 1;
  }
  const attributes = readAttributes(rest[0].slice(0, -1), line, log);
  if (attributes !== undefined) steps.push({ line, attributes });
  return TAG_REST.lastIndex;
}

function readAttributes(body: string, line: number, log: Log): Map<string, string> | undefined {
  const attributes = new Map<string, string>();
  let end = 0;
  ATTRIBUTE.lastIndex = 0;
  for (let match = ATTRIBUTE.exec(body); match !== null; match = ATTRIBUTE.exec(body)) {
    const name = (match[1] ?? '').toUpperCase();
    if (attributes.has(name))
      log.problem(line, `${name} is given twice; an attribute may appear once`);
    attributes.set(name, decode(match[2] ?? match[3] ?? ''));
    end = ATTRIBUTE.lastIndex;
  }
  if (TAG_CLOSE.test(body.slice(end))) return attributes;
  const after = [...attributes.keys()].at(-1);
  // The unreadable text is not quoted back: it may be part of an encrypted value.
  log.problem(
    line,
    `the AMAWSSES tag has text that is not NAME="value" or NAME='value' after ${after ?? 'the tag name'}`,
  );
  return undefined;
}

function decode(text: string): string {
  return text.replace(ENTITY, (entity, name?: string, decimal?: string, hex?: string) => {
    if (name !== undefined) return NAMED[name] ?? entity;
    const code = decimal !== undefined ? Number(decimal) : Number.parseInt(hex ?? '', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

/** Line numbers for increasing offsets, counted once over the text. */
function lineCounter(text: string): (index: number) => number {
  let line = 1;
  let counted = 0;
  return (index) => {
    for (; counted < index; counted++) if (text.charCodeAt(counted) === 10) line++;
    return line;
  };
}
