import { ConfigError, type Problem, problemText } from '../core/errors.ts';
import { type LineMessage, type Step, scanSteps } from './aml-scanner.ts';
import { DEFAULT_SESSION } from './defaults.ts';
import { maskSecrets } from './masking.ts';
import {
  ACTIVITY_PARAMETERS,
  PARAMETERS,
  type Parameter,
  PROXY_PARAMETERS,
  parameterValue,
  withField,
} from './parameters.ts';
import { type ConfigInput, type ConnectionInput, connectionSchema, parseConfig } from './schema.ts';

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

class Log {
  readonly notes: LineMessage[] = [];
  readonly problems: LineMessage[] = [];
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

/** Connection parameters read from a step's attributes; credentials and secrets are mapped by hand. */
const CONNECTION_MARKUP = PARAMETERS.filter(
  (p) =>
    p.scope === 'connection' && p.markup.length > 0 && p.kind !== 'special' && p.kind !== 'secret',
);
/** Activity parameters read from a step's attributes; the session and datasets are mapped by hand. */
const ACTIVITY_MARKUP = PARAMETERS.filter(
  (p) =>
    p.scope === 'activity' && p.markup.length > 0 && p.kind !== 'special' && p.kind !== 'secret',
);
const CONNECTION_ATTRIBUTES = PARAMETERS.filter((p) => p.scope === 'connection').flatMap(
  (p) => p.markup,
);
const DATASET_ATTRIBUTES = [
  'ACTIVITY',
  'PROVIDER',
  ...ACTIVITY_PARAMETERS.usageDataset.markup,
  ...ACTIVITY_PARAMETERS.statisticsDataset.markup,
  ...ACTIVITY_MARKUP.flatMap((p) => p.markup),
];
/** A connection's fields in the schema's order, the order the imported config shows them in. */
const CONNECTION_FIELDS = Object.keys(connectionSchema.in.shape);
const CREATE_SESSION_USES = new Set(['ACTIVITY', 'SESSION', ...CONNECTION_ATTRIBUTES]);
const HOST_STEP_USES = new Set([...DATASET_ATTRIBUTES, ...CONNECTION_ATTRIBUTES]);
const SESSION_STEP_USES = new Set([...DATASET_ATTRIBUTES, ...ACTIVITY_PARAMETERS.session.markup]);

/**
 * Turns the `<AMAWSSES …/>` steps of a workflow-automation task file into a ses-stats config
 * (docs/configuration.md). `create_session` steps become `sessions`, `email_statistics` steps become
 * `activities`; other tags and activities are skipped. Secret values (SECRETKEY, PROXYPWD) are
 * never copied: the config refers to Secrets Manager secrets the user creates, as the notes say.
 * Throws ConfigError naming the line, attribute and value of every step that cannot be imported,
 * or the `parseConfig` error when the result is not a valid config.
 */
export function importAml(markup: string): AmlImport {
  const log = new Log();
  const scanned = scanSteps(markup);
  for (const p of scanned.problems) log.problem(p.line, p.text);
  const steps = scanned.steps;
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
  let fields: Record<string, unknown> = {};
  for (const p of ACTIVITY_MARKUP) {
    const given = markupValue(step, p, log);
    if (given !== undefined) fields = withField(fields, p.field, given);
  }
  if (value(step, 'PROVIDER')?.toLowerCase() !== 'session_based' && session === undefined) {
    noteIgnored(step, HOST_STEP_USES, 'a Host email_statistics step', log);
    // Inline connections are named after the activity, whose name defaults to its statistics dataset.
    return {
      connection: connectionOf(step, statisticsDataset, log),
      usageDataset,
      statisticsDataset,
      ...fields,
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
  return { session: name, usageDataset, statisticsDataset, ...fields };
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
    if (dataset === undefined || dataset === '') continue;
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
  let connection: Record<string, unknown> = {};
  for (const p of CONNECTION_MARKUP) {
    const given = markupValue(step, p, log);
    if (given !== undefined) connection = withField(connection, p.field, given);
  }
  const proxy = proxyOf(step, connection.proxy as ProxyInput | undefined, owner, log);
  const fields: Record<string, unknown> = {
    ...connection,
    credentials: credentialsOf(step, owner, log),
    proxy,
  };
  return compact(Object.fromEntries(CONNECTION_FIELDS.map((field) => [field, fields[field]])));
}

/** A parameter's attribute as its field's value, upgraded or refused by the field's own rule. */
function markupValue(step: Step, p: Parameter, log: Log): unknown {
  const attribute = p.markup[0] ?? '';
  const given = value(step, attribute);
  if (given === undefined) return undefined;
  if (p.upgrade?.outdated.test(given.trim())) {
    log.note(
      step.line,
      `warning: ${attribute} "${given}" changed to "${p.upgrade.to}" because ${p.upgrade.because}`,
    );
    return p.upgrade.to;
  }
  const parsed = p.schema.safeParse(parameterValue(p, given));
  if (parsed.success) return parameterValue(p, given);
  log.problem(step.line, `${attribute} is "${given}"; ${parsed.error.issues[0]?.message}`);
  return undefined;
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

function proxyOf(
  step: Step,
  read: ProxyInput | undefined,
  owner: string,
  log: Log,
): ProxyInput | undefined {
  const markupOf = (p: Parameter): string => p.markup[0] ?? p.field;
  const host = markupOf(PROXY_PARAMETERS.host);
  const port = markupOf(PROXY_PARAMETERS.port);
  const user = markupOf(PROXY_PARAMETERS.user);
  const password = markupOf(PROXY_PARAMETERS.passwordSecret);
  const given = [port, user, password].filter((name) => value(step, name) !== undefined);
  if (value(step, host) === undefined) {
    if (given.length > 0)
      log.problem(
        step.line,
        `${host} is missing; ${given.join(', ')} cannot be used without a proxy host`,
      );
    return undefined;
  }
  if (!given.includes(port))
    log.problem(step.line, `${port} is missing; a proxy needs a port from 1 to 65535`);
  const hasPassword = given.includes(password);
  if (hasPassword && !given.includes(user))
    log.problem(step.line, `${password} is given without ${user}; add the proxy user name`);
  const proxy = { ...read, port: read?.port ?? 0 } as ProxyInput;
  if (!hasPassword) return proxy;
  const secretId = `ses-stats/${owner}/proxy-password`;
  log.note(step.line, secretNote(password, secretId, 'the proxy password', 'proxy.passwordSecret'));
  return { ...proxy, passwordSecret: { secretId } };
}

function secretNote(attribute: string, secretId: string, what: string, field: string): string {
  return `${attribute} is encrypted in the markup and is never copied; create the Secrets Manager secret "${secretId}" holding ${what} (for CLI use, replace ${field} with {"env": "VAR"})`;
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

function inLineOrder(messages: readonly LineMessage[]): Problem[] {
  return [...messages]
    .sort((a, b) => a.line - b.line)
    .map((m) => ({ path: m.line > 0 ? `line ${m.line}` : '', message: maskSecrets(m.text) }));
}

function format(messages: readonly LineMessage[]): string[] {
  return inLineOrder(messages).map(problemText);
}
