import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { DEFAULT_READER_ROLE_NAME } from '../lambda/config/defaults.ts';
import type { Connection, SecretRef } from '../lambda/config/schema.ts';
import { ConfigError, IAM_ACTIONS, type Problem } from '../lambda/core/errors.ts';
import type { DeploymentConfig } from './deployment-config.ts';

/** The SES actions the activity calls; neither supports resource-level permissions. */
export const SES_ACTIONS = ['ses:GetSendQuota', 'ses:GetSendStatistics'] as const;

/**
 * The actions an account dataset calls besides: SES API v2 GetAccount and CloudWatch
 * GetMetricData (AWS/SES `Reputation.*`); neither supports resource-level permissions.
 */
export const ACCOUNT_ACTIONS = [IAM_ACTIONS.GetAccount, IAM_ACTIONS.GetMetricData] as const;

/** Whether any configured activity has an account dataset, so the role needs ACCOUNT_ACTIONS. */
export function hasAccountDataset(config: DeploymentConfig): boolean {
  return config.settings.activities.some((activity) => activity.accountDataset !== undefined);
}

/** Exactly the DynamoDB actions the collector's store uses. */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
] as const;

/** A Secrets Manager secret an activity reads, with the config field that names it. */
export interface SecretReference {
  readonly field: string;
  readonly secretId: string;
}

interface UsedConnection {
  readonly field: string;
  readonly connection: Connection;
}

/**
 * The connections the configured activities use (sessions nobody references are skipped), once
 * per session or inline connection: the accounts × regions a session expands to share its
 * secrets.
 */
function usedConnections(config: DeploymentConfig): UsedConnection[] {
  const seen = new Set<string>();
  const used: UsedConnection[] = [];
  for (const { origin, connection } of config.settings.activities) {
    // The origin, not `activity.source`, tells an inline connection from a session named "inline".
    const field =
      origin.session === undefined
        ? `activities[${origin.entry}].connection`
        : `sessions.${origin.session}`;
    if (seen.has(field)) continue;
    seen.add(field);
    used.push({ field, connection });
  }
  return used;
}

/**
 * Every Secrets Manager secret the activities read. A `{env}` reference is refused: a Lambda
 * function has no secret environment variables, and putting a secret value there would expose it.
 */
export function referencedSecrets(config: DeploymentConfig): SecretReference[] {
  const refs: Array<readonly [string, SecretRef | undefined]> = usedConnections(config).flatMap(
    ({ field, connection }) => [
      [
        `${field}.credentials.secretAccessKey`,
        connection.credentials.type === 'keys' ? connection.credentials.secretAccessKey : undefined,
      ],
      [`${field}.proxy.passwordSecret`, connection.proxy?.passwordSecret],
    ],
  );
  const problems: Problem[] = [];
  const secrets: SecretReference[] = [];
  for (const [field, ref] of refs) {
    if (ref === undefined) continue;
    if ('env' in ref)
      problems.push({
        path: field,
        message: `received {"env": "${ref.env}"}; the deployed collector cannot read environment variable secrets, use {"secretId": "name-or-arn"} (Secrets Manager)`,
      });
    else if (/[*?]/.test(ref.secretId))
      // The schema refuses these too; a wildcard here would grant other secrets.
      problems.push({
        path: `${field}.secretId`,
        message: `received "${ref.secretId}"; expected a Secrets Manager secret name or ARN without "*" or "?"`,
      });
    else secrets.push({ field, secretId: ref.secretId });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}

/**
 * The distinct role ARNs of `assumeRole` credentials the activities use, in config order. Read from
 * every resolved activity rather than once per session: a session that expands to accounts ×
 * regions holds one role ARN per account.
 */
export function assumedRoleArns(config: DeploymentConfig): string[] {
  const arns = config.settings.activities.flatMap(({ connection: { credentials } }) =>
    credentials.type === 'assumeRole' ? [credentials.roleArn] : [],
  );
  return [...new Set(arns)];
}

/** IAM's limit on the total size of a role's inline policies, in characters without whitespace. */
export const ROLE_INLINE_POLICIES_LIMIT = 10_240;

/**
 * The most characters the `sts:AssumeRole` statement may take: half the collector role's inline
 * policy limit, leaving the other half to its other statements (logs, SES, the table, the
 * queues, the secrets). About 100 exact ARNs of the reader role fit.
 */
export const ASSUME_ROLE_STATEMENT_BUDGET = ROLE_INLINE_POLICIES_LIMIT / 2;

/** `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, as the config schema accepts it. */
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::\d{12}:role\/(.+)$/;

/** The ARN naming a role of this path and name in every account: `arn:aws:iam::*:role/NAME`. */
function anyAccountArn(roleArn: string): string | undefined {
  const match = ROLE_ARN.exec(roleArn);
  return match === null ? undefined : `arn:${match[1]}:iam::*:role/${match[2]}`;
}

/** The statement's size as IAM counts it (JSON without whitespace). */
function assumeRoleStatementSize(resources: readonly string[]): number {
  const resource = resources.length === 1 ? resources[0] : resources;
  return JSON.stringify({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: resource }).length;
}

/** The ARNs with every role of a collapsed name replaced by its any-account ARN, in order. */
function withCollapsed(roleArns: readonly string[], collapsed: ReadonlySet<string>): string[] {
  const resources = roleArns.map((arn) => {
    const any = anyAccountArn(arn);
    return any !== undefined && collapsed.has(any) ? any : arn;
  });
  return [...new Set(resources)];
}

/**
 * The resources of the collector's `sts:AssumeRole` statement: the exact role ARNs while the
 * statement fits ASSUME_ROLE_STATEMENT_BUDGET; above it, the roles sharing a partition, path and
 * name (the reader stack's `RoleName` in every member account) become one
 * `arn:PARTITION:iam::*:role/NAME`, the name with the most accounts first, until it fits. Names
 * used by one account only stay exact.
 *
 * Why no condition narrows the collapsed ARN: a list of the accounts (`aws:ResourceAccount`) is
 * 15 characters an account, so 2,000 accounts take 30,000 characters, three times the role's
 * whole limit; the organization (`aws:ResourceOrgID`) is constant-size but the config does not
 * know it, and it would refuse the accounts outside the organization; `sts:ExternalId` is set by
 * the caller, so only the trusted side can condition on it. What keeps the grant narrow is the
 * other side: an account's role can be assumed only if its own trust policy names this collector
 * role (the SesStatsReader stack's role trusts exactly it, with the external id). AWS's own
 * StackSets administration role is granted `arn:*:iam::*:role/AWSCloudFormationStackSetExecutionRole`
 * for the same reason.
 *
 * Throws ConfigError when even the collapsed statement does not fit (about 100 different role names).
 */
export function assumeRoleResources(roleArns: readonly string[]): string[] {
  const exact = [...new Set(roleArns)];
  if (assumeRoleStatementSize(exact) <= ASSUME_ROLE_STATEMENT_BUDGET) return exact;
  const collapsed = new Set<string>();
  for (const any of collapseOrder(exact)) {
    collapsed.add(any);
    const resources = withCollapsed(exact, collapsed);
    if (assumeRoleStatementSize(resources) <= ASSUME_ROLE_STATEMENT_BUDGET) return resources;
  }
  const resources = withCollapsed(exact, collapsed);
  throw new ConfigError([
    {
      path: 'credentials.roleArn',
      message: `received ${exact.length} assume-role ARNs under ${resources.length} role names; even with one "arn:…:iam::*:role/NAME" for each name used by several accounts, the collector's sts:AssumeRole statement would be ${assumeRoleStatementSize(resources)} characters, over its budget of ${ASSUME_ROLE_STATEMENT_BUDGET} (IAM allows ${ROLE_INLINE_POLICIES_LIMIT} for all of a role's inline policies): give the member accounts' roles fewer distinct names (the reader stack's RoleName, default ${DEFAULT_READER_ROLE_NAME})`,
    },
  ]);
}

/** Any-account ARNs of the names used by several accounts, the biggest saving first. */
function collapseOrder(roleArns: readonly string[]): string[] {
  const saving = new Map<string, number>();
  const count = new Map<string, number>();
  for (const arn of roleArns) {
    const any = anyAccountArn(arn);
    if (any === undefined) continue;
    count.set(any, (count.get(any) ?? 0) + 1);
    saving.set(any, (saving.get(any) ?? 0) + arn.length + 3);
  }
  return [...count]
    .filter(([, n]) => n > 1)
    .map(([any]) => any)
    .sort((a, b) => (saving.get(b) ?? 0) - (saving.get(a) ?? 0) || a.localeCompare(b));
}

/** A cdk-nag acknowledgement: the exact finding id and why it is accepted. */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * The cdk-nag findings the collector role's `sts:AssumeRole` statement raises, to acknowledge on
 * the role: one `AwsSolutions-IAM5[Resource::arn:…:iam::*:role/NAME]` for each collapsed name
 * (see assumeRoleResources); none while the statement lists exact ARNs.
 */
export function assumeRoleAcknowledgements(config: DeploymentConfig): Acknowledgement[] {
  const arns = assumedRoleArns(config);
  return assumeRoleResources(arns)
    .filter((resource) => resource.includes(':iam::*:'))
    .map((any) => {
      const accounts = arns.filter((arn) => anyAccountArn(arn) === any).length;
      return {
        id: `AwsSolutions-IAM5[Resource::${any}]`,
        reason: `${accounts} accounts' roles of this name are assumed: their exact ARNs would overflow IAM's ${ROLE_INLINE_POLICIES_LIMIT}-character limit on the role's policies, so sts:AssumeRole names the role in any account; a role can still be assumed only if its own trust policy names this collector role (the SesStatsReader stack's role trusts only it, with the external id)`,
      };
    });
}

/** A secret ARN ending in the 6 random characters Secrets Manager appends to the name. */
const COMPLETE_SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * The ARN pattern of a secret. Secrets Manager appends `-` and 6 random characters to every
 * secret's ARN, and IAM checks that full ARN, so a secret given without them gets `-??????`:
 * a name becomes a name-based ARN in the function's account and region, and a partial ARN
 * (one without the suffix) gets the suffix pattern. A complete ARN stays exact.
 */
export function secretArn(scope: IConstruct, secretId: string): string {
  if (secretId.startsWith('arn:'))
    return COMPLETE_SECRET_ARN.test(secretId) ? secretId : `${secretId}-??????`;
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretId}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Only the function's own log group: no managed policy granting every log group in the account. */
export function logStatement(logGroup: ILogGroup): PolicyStatement {
  return new PolicyStatement({
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn],
  });
}

/**
 * The SES statistics actions and, with `account`, ACCOUNT_ACTIONS: one statement on Resource "*",
 * the only one of the role (see resourceStarAcknowledgement).
 */
export function sesStatement(account = false): PolicyStatement {
  return new PolicyStatement({
    actions: [...SES_ACTIONS, ...(account ? ACCOUNT_ACTIONS : [])],
    resources: ['*'],
  });
}

/**
 * The cdk-nag finding sesStatement raises on its role, `AwsSolutions-IAM5[Resource::*]`, with
 * why each of its action lists needs Resource "*"; `rest` says what else the role may do.
 */
export function resourceStarAcknowledgement(account: boolean, rest: string): Acknowledgement {
  const why = (actions: readonly string[]) =>
    `${actions.join(' and ')} have no resource-level permissions, so their statement needs Resource "*"`;
  return {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: [why(SES_ACTIONS), ...(account ? [why(ACCOUNT_ACTIONS)] : []), rest].join('; '),
  };
}

/** `sts:AssumeRole` on the role ARNs, collapsed as assumeRoleResources says; none without ARNs. */
export function assumeRoleStatement(roleArns: readonly string[]): PolicyStatement | undefined {
  if (roleArns.length === 0) return undefined;
  return new PolicyStatement({
    actions: ['sts:AssumeRole'],
    resources: assumeRoleResources(roleArns),
  });
}

export function secretsStatement(
  scope: IConstruct,
  secrets: readonly SecretReference[],
): PolicyStatement | undefined {
  if (secrets.length === 0) return undefined;
  const ids = [...new Set(secrets.map(({ secretId }) => secretId))];
  const arns = ids.map((id) => secretArn(scope, id));
  return new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: arns });
}

/** On the table only: the collector queries by key and never touches an index. */
export function tableStatement(table: ITable): PolicyStatement {
  return new PolicyStatement({ actions: [...TABLE_ACTIONS], resources: [table.tableArn] });
}
