import type { Problem } from '../core/errors.ts';
import { NAME_PATTERN, NAME_RULE } from './fields.ts';
import { describe } from './masking.ts';

/**
 * A session listing `regions` and `accounts` stands for one source per account × region; this file
 * turns the activities naming it into one activity each (docs/configuration.md, "Many accounts and
 * regions"), fills the name templates and finds names two expansions share. It is plain code, not
 * zod: a shorthand of 2,000 accounts × 5 regions expands to 10,000 activities in milliseconds.
 */

/** What a template may hold, in the order messages list them. */
export const PLACEHOLDERS = ['account', 'region', 'session'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
const ALLOWED = PLACEHOLDERS.map((p) => `{${p}}`).join(', ');

/** At most this many collisions are listed; the rest are counted, so 10,000 do not print 10,000 lines. */
export const MAX_LISTED_COLLISIONS = 10;

export interface Account {
  readonly id: string;
  readonly roleName: string;
}

/** One region a session expands to, with its endpoint when the session has a `serviceUrl`. */
export interface RegionTarget {
  readonly region: string;
  readonly endpoint?: string;
}

/** The least an expanded connection needs: where it signs and goes. */
interface BaseConnection {
  readonly region?: string;
  readonly endpoint?: string;
}

/** A session (or an activity's inline connection) as its activities see it, before expansion. */
export interface SourceSpec<C extends BaseConnection> {
  /** The session's name; absent for an inline connection. */
  readonly session?: string;
  readonly connection: C;
  /** Absent: the connection's own region (or none) is the one region. */
  readonly regions?: readonly RegionTarget[];
  /** Absent: the connection's own credentials sign every call. */
  readonly accounts?: readonly Account[];
  readonly externalId?: string;
}

/** An activity entry as written: names may be templates, dataset names may be left out. */
export interface ActivityEntry {
  readonly name?: string;
  readonly usageDataset?: string;
  readonly statisticsDataset?: string;
  /** Left out: the activity has no account dataset. */
  readonly accountDataset?: string;
}

/** An activity entry with its index and source; no source when its session is unknown (a problem already). */
export interface ActivityToExpand<C extends BaseConnection> {
  readonly index: number;
  readonly entry: ActivityEntry;
  readonly spec?: SourceSpec<C>;
}

/** Where an activity comes from in the config document. */
export interface ActivityOrigin {
  /** Its index in `activities`. */
  readonly entry: number;
  /** The session it names; absent for an inline connection. */
  readonly session?: string;
  /** The account it reads, when the session lists `accounts`. */
  readonly account?: string;
  /** The region it reads, when the session lists `regions`. */
  readonly region?: string;
}

export interface ExpandedActivity<C> {
  readonly name: string;
  readonly source: string;
  readonly connection: C;
  readonly usageDataset: string;
  readonly statisticsDataset: string;
  readonly accountDataset?: string;
  readonly origin: ActivityOrigin;
}

/** The IAM partition of a region's ARNs. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

type Field = 'usageDataset' | 'statisticsDataset' | 'accountDataset' | 'name';
const DATASET_FIELDS = ['usageDataset', 'statisticsDataset'] as const;
const SUFFIX = { usageDataset: 'usage', statisticsDataset: 'stats' } as const;

/** A template cut into literal text (even indexes) and placeholder names (odd indexes). */
type Compiled = readonly string[];

interface Template {
  readonly field: Field;
  readonly text: string;
  /** Left out, so the default template applies. */
  readonly isDefault: boolean;
  readonly parts: Compiled;
}

interface Values {
  readonly session?: string;
  readonly account?: string;
  readonly region?: string;
}

/** One use of a name, kept to say who used it first. */
interface Use {
  readonly path: string;
  readonly template: Template;
  readonly values: Values;
  /** Made by an expanding session (one of several sources), not a plain activity. */
  readonly expanded: boolean;
}

/**
 * Expands every activity to its account × region sources (accounts outer, regions inner, in the
 * order given). Problems are pushed to `problems`; an activity with one gives no expansion.
 */
export function expandActivities<C extends BaseConnection>(
  entries: ReadonlyArray<ActivityToExpand<C>>,
  problems: Problem[],
): ExpandedActivity<C>[] {
  const out: ExpandedActivity<C>[] = [];
  const collisions = new Collisions();
  for (const { index, entry, spec } of entries) {
    if (spec === undefined) {
      unresolved(index, entry, collisions, problems);
      continue;
    }
    const templates = templatesOf(index, entry, spec, problems);
    if (templates === undefined) continue;
    const expanded = expandOne(index, spec, templates, problems);
    if (expanded === undefined) continue;
    for (const { activity, values } of expanded) {
      const use = (t: Template): Use => ({
        path: `activities[${index}].${t.field}`,
        template: t,
        values,
        expanded: spec.regions !== undefined || spec.accounts !== undefined,
      });
      collisions.dataset(activity.usageDataset, use(templates.usageDataset));
      const statsFree = collisions.dataset(
        activity.statisticsDataset,
        use(templates.statisticsDataset),
      );
      if (templates.accountDataset !== undefined && activity.accountDataset !== undefined) {
        const accountUse = use(templates.accountDataset);
        if (collisions.dataset(activity.accountDataset, accountUse))
          collisions.reputationTable(`${activity.accountDataset}.reputation`, accountUse);
      }
      // A name left out is the statistics dataset's: its collision is already reported.
      if (templates.name !== undefined) collisions.name(activity.name, use(templates.name));
      else if (statsFree)
        collisions.name(activity.name, {
          ...use(templates.statisticsDataset),
          path: `activities[${index}].name`,
        });
      out.push(activity);
    }
  }
  problems.push(...collisions.problems());
  return out;
}

interface Templates {
  readonly usageDataset: Template;
  readonly statisticsDataset: Template;
  readonly accountDataset?: Template;
  readonly name?: Template;
}

/** The activity's templates, checked for unknown placeholders and values its source lacks. */
function templatesOf<C extends BaseConnection>(
  index: number,
  entry: ActivityEntry,
  spec: SourceSpec<C>,
  problems: Problem[],
): Templates | undefined {
  const expanding = spec.regions !== undefined || spec.accounts !== undefined;
  const before = problems.length;
  const template = (field: Field, given: string | undefined): Template | undefined => {
    const path = `activities[${index}].${field}`;
    let text = given;
    if (text === undefined) {
      if (field === 'name' || field === 'accountDataset') return undefined;
      if (!expanding) {
        problems.push({
          path,
          message: `received nothing; ${REQUIRED}`,
        });
        return undefined;
      }
      text = defaultTemplate(field, spec);
    }
    const parts = compile(text);
    const problem = placeholderProblem(parts, spec, given === undefined);
    if (problem !== undefined) {
      problems.push({ path, message: `received ${describe(text)}; ${problem}` });
      return undefined;
    }
    return { field, text, isDefault: given === undefined, parts };
  };
  const usageDataset = template('usageDataset', entry.usageDataset);
  const statisticsDataset = template('statisticsDataset', entry.statisticsDataset);
  const accountDataset = template('accountDataset', entry.accountDataset);
  const name = template('name', entry.name);
  if (problems.length > before || usageDataset === undefined || statisticsDataset === undefined)
    return undefined;
  return {
    usageDataset,
    statisticsDataset,
    ...(accountDataset === undefined ? {} : { accountDataset }),
    ...(name === undefined ? {} : { name }),
  };
}

/**
 * An activity whose session is unknown (already a problem): its plain dataset names still count
 * for collisions, and those it must give unless its session expands are asked for.
 */
function unresolved(
  index: number,
  entry: ActivityEntry,
  collisions: Collisions,
  problems: Problem[],
): void {
  for (const field of [...DATASET_FIELDS, 'accountDataset'] as const) {
    const text = entry[field];
    if (text === undefined && field === 'accountDataset') continue;
    const path = `activities[${index}].${field}`;
    if (text === undefined) problems.push({ path, message: `received nothing; ${REQUIRED}` });
    else if (!text.includes('{'))
      collisions.dataset(text, {
        path,
        template: { field, text, isDefault: false, parts: [text] },
        values: {},
        expanded: false,
      });
  }
}

const REQUIRED = `expected ${NAME_RULE} (required unless the session lists "regions" or "accounts")`;

/** `{account}-{region}-stats`, without the parts the session does not have. */
function defaultTemplate(
  field: 'usageDataset' | 'statisticsDataset',
  spec: SourceSpec<BaseConnection>,
): string {
  return [...(spec.accounts === undefined ? [] : ['{account}']), '{region}', SUFFIX[field]].join(
    '-',
  );
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

function compile(text: string): Compiled {
  return text.split(PLACEHOLDER);
}

/** Why a template cannot be filled for this source, or undefined when it can. */
function placeholderProblem(
  parts: Compiled,
  spec: SourceSpec<BaseConnection>,
  isDefault: boolean,
): string | undefined {
  const owner = spec.session === undefined ? 'the inline connection' : `session "${spec.session}"`;
  for (let i = 1; i < parts.length; i += 2) {
    const p = parts[i] as string;
    if (!(PLACEHOLDERS as readonly string[]).includes(p))
      return `unknown placeholder {${p}}; allowed: ${ALLOWED}`;
    const placeholder = p as Placeholder;
    if (placeholder === 'account' && spec.accounts === undefined)
      return `{account} needs a session that lists "accounts", and ${owner} lists none`;
    if (placeholder === 'session' && spec.session === undefined)
      return '{session} needs a named session; this activity has an inline connection';
    if (
      placeholder === 'region' &&
      spec.regions === undefined &&
      spec.connection.region === undefined
    )
      return `{region} needs a region, and ${owner} has neither "region" nor "regions"${isDefault ? ' (the default name of an expanding session holds {region}: give the session a region, or name the datasets)' : ''}`;
  }
  return undefined;
}

function fill(parts: Compiled, values: Values): string {
  if (parts.length === 1) return parts[0] as string;
  let out = '';
  for (let i = 0; i < parts.length; i++)
    out += i % 2 === 0 ? (parts[i] as string) : (values[parts[i] as Placeholder] ?? '');
  return out;
}

/** The activity's sources, or undefined (with a problem) when a filled template breaks the name rule. */
function expandOne<C extends BaseConnection>(
  index: number,
  spec: SourceSpec<C>,
  templates: Templates,
  problems: Problem[],
): Array<{ activity: ExpandedActivity<C>; values: Values }> | undefined {
  // Each region's connection is built once, then copied per account with that account's role.
  const regions = (spec.regions ?? [undefined]).map((target) => ({
    target,
    connection: regionalConnection(spec, target),
  }));
  const accounts: ReadonlyArray<Account | undefined> = spec.accounts ?? [undefined];
  const out: Array<{ activity: ExpandedActivity<C>; values: Values }> = [];
  for (const account of accounts)
    for (const { target, connection } of regions) {
      const region = target?.region ?? spec.connection.region;
      const values: Values = { session: spec.session, account: account?.id, region };
      const names = {} as Record<Field, string>;
      for (const t of [
        templates.usageDataset,
        templates.statisticsDataset,
        templates.accountDataset,
        templates.name,
      ]) {
        if (t === undefined) continue;
        const value = fill(t.parts, values);
        // A plain name passed the schema already; a filled template is checked here, once.
        if (t.parts.length > 1 || t.text.includes('{')) {
          if (!NAME_PATTERN.test(value)) {
            problems.push({
              path: `activities[${index}].${t.field}`,
              message: `${shown(t)} expands to ${describe(value)}${forValues(values)}; expected ${NAME_RULE}`,
            });
            return undefined;
          }
        }
        names[t.field] = value;
      }
      out.push({
        activity: {
          name: names.name ?? names.statisticsDataset,
          source: sourceName(spec, account, target),
          connection: connectionFor(connection, spec, account, target),
          usageDataset: names.usageDataset,
          statisticsDataset: names.statisticsDataset,
          ...(names.accountDataset === undefined ? {} : { accountDataset: names.accountDataset }),
          origin: {
            entry: index,
            ...(spec.session === undefined ? {} : { session: spec.session }),
            ...(account === undefined ? {} : { account: account.id }),
            ...(target === undefined ? {} : { region: target.region }),
          },
        },
        values,
      });
    }
  return out;
}

/**
 * The name sources are told apart by: each account × region gets its own SES client (and its own
 * pace), since `sourcesFor` shares one client per name.
 */
function sourceName(
  spec: SourceSpec<BaseConnection>,
  account: Account | undefined,
  target: RegionTarget | undefined,
): string {
  if (spec.session === undefined) return 'inline';
  if (account === undefined && target === undefined) return spec.session;
  const region = target?.region ?? spec.connection.region;
  return [spec.session, account?.id, region].filter((p) => p !== undefined).join('/');
}

/** The session's connection in one region (its own when it lists no regions). */
function regionalConnection<C extends BaseConnection>(
  spec: SourceSpec<C>,
  target: RegionTarget | undefined,
): C {
  if (target === undefined) return spec.connection;
  return {
    ...withoutEndpoint(spec.connection),
    region: target.region,
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
  } as C;
}

/** A regional connection assuming one account's role, when the session lists accounts. */
function connectionFor<C extends BaseConnection>(
  regional: C,
  spec: SourceSpec<C>,
  account: Account | undefined,
  target: RegionTarget | undefined,
): C {
  if (account === undefined) return regional;
  const partition = partitionOf(target?.region ?? spec.connection.region);
  return {
    ...regional,
    credentials: {
      type: 'assumeRole',
      roleArn: `arn:${partition}:iam::${account.id}:role/${account.roleName}`,
      ...(spec.externalId === undefined ? {} : { externalId: spec.externalId }),
    },
  } as C;
}

function withoutEndpoint<C extends BaseConnection>(c: C): Omit<C, 'endpoint' | 'region'> {
  const { endpoint: _endpoint, region: _region, ...rest } = c;
  return rest;
}

function shown(t: Template): string {
  return `${t.isDefault ? 'the default ' : ''}${describe(t.text)}`;
}

/** ` for account A and region R`, naming only what the source has. */
function forValues(v: Values): string {
  const parts = [
    ...(v.account === undefined ? [] : [`account ${v.account}`]),
    ...(v.region === undefined ? [] : [`region ${v.region}`]),
  ];
  return parts.length === 0 ? '' : ` for ${parts.join(' and ')}`;
}

/** `account A in region R (path)`, or the path alone for a source that did not expand. */
function byValues(use: Use): string {
  const who = [
    ...(use.values.account === undefined ? [] : [`account ${use.values.account}`]),
    ...(use.values.region === undefined ? [] : [`region ${use.values.region}`]),
  ];
  return use.expanded && who.length > 0 ? `${who.join(' in ')} (${use.path})` : use.path;
}

function isTemplate(t: Template): boolean {
  return t.parts.length > 1;
}

/**
 * Names seen so far, one Map for datasets (usage and statistics share one namespace) and one for
 * activity names. Each repeat is a problem at the field whose template made it; past
 * MAX_LISTED_COLLISIONS they are only counted.
 */
class Collisions {
  private readonly datasets = new Map<string, Use>();
  private readonly names = new Map<string, Use>();
  private readonly listed: Problem[] = [];
  private more = 0;

  /** Whether `value` was still free. */
  dataset(value: string, use: Use): boolean {
    return this.check(this.datasets, value, use, 'dataset names must be unique across activities');
  }

  /** An account dataset's reputation table (`NAME.reputation` in output and files). */
  reputationTable(value: string, use: Use): void {
    this.check(
      this.datasets,
      value,
      use,
      'dataset names must be unique across activities, and an account dataset NAME also names its reputation table NAME.reputation',
    );
  }

  name(value: string, use: Use): void {
    this.check(
      this.names,
      value,
      use,
      'activity names (default: the statistics dataset name) must be unique',
    );
  }

  problems(): Problem[] {
    return this.more === 0
      ? this.listed
      : [
          ...this.listed,
          {
            path: 'activities',
            message: `and ${this.more} more name collisions like these (only the first ${MAX_LISTED_COLLISIONS} are listed)`,
          },
        ];
  }

  private check(seen: Map<string, Use>, value: string, use: Use, rule: string): boolean {
    const earlier = seen.get(value);
    if (earlier === undefined) {
      seen.set(value, use);
      return true;
    }
    if (this.listed.length >= MAX_LISTED_COLLISIONS) this.more++;
    else this.listed.push({ path: use.path, message: collisionMessage(value, use, earlier, rule) });
    return false;
  }
}

function collisionMessage(value: string, use: Use, earlier: Use, rule: string): string {
  const plain = (u: Use) => !u.expanded && !isTemplate(u.template) && !u.template.isDefault;
  if (plain(use) && plain(earlier))
    return `received ${describe(value)}, already used by ${earlier.path}; ${rule}`;
  return `${shown(use.template)} expands to ${describe(value)}${forValues(use.expanded ? use.values : {})}, already used by ${byValues(earlier)}; ${hint(use, earlier, rule)}`;
}

/** What would make the two names differ. */
function hint(use: Use, earlier: Use, rule: string): string {
  if (use.path !== earlier.path) return rule;
  const has = (p: Placeholder) => use.template.parts.some((part, i) => i % 2 === 1 && part === p);
  const missing = [
    ...(use.values.account !== earlier.values.account && !has('account') ? ['{account}'] : []),
    ...(use.values.region !== earlier.values.region && !has('region') ? ['{region}'] : []),
  ];
  return missing.length > 0
    ? `add ${missing.join(' and ')} to the template`
    : `each of the activity's sources needs its own name; ${rule}`;
}
