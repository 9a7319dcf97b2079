import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import type { Connection, SecretRef } from '../lambda/config/schema.ts';
import { ConfigError, type Problem } from '../lambda/core/errors.ts';
import type { DeploymentConfig } from './deployment-config.ts';

/** The SES actions the activity calls; neither supports resource-level permissions. */
export const SES_ACTIONS = ['ses:GetSendQuota', 'ses:GetSendStatistics'] as const;

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

/** The connections the configured activities use (sessions nobody references are skipped). */
function usedConnections(config: DeploymentConfig): UsedConnection[] {
  const seen = new Set<string>();
  const used: UsedConnection[] = [];
  config.settings.activities.forEach((activity, i) => {
    // The document, not `activity.source`, tells an inline connection from a session named "inline".
    const inline = config.document.activities[i]?.connection !== undefined;
    const field = inline ? `activities[${i}].connection` : `sessions.${activity.source}`;
    if (seen.has(field)) return;
    seen.add(field);
    used.push({ field, connection: activity.connection });
  });
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

/** The distinct role ARNs of `assumeRole` credentials the activities use. */
export function assumedRoleArns(config: DeploymentConfig): string[] {
  const arns = usedConnections(config).flatMap(({ connection: { credentials } }) =>
    credentials.type === 'assumeRole' ? [credentials.roleArn] : [],
  );
  return [...new Set(arns)];
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

export function sesStatement(): PolicyStatement {
  return new PolicyStatement({ actions: [...SES_ACTIONS], resources: ['*'] });
}

export function assumeRoleStatement(roleArns: readonly string[]): PolicyStatement | undefined {
  if (roleArns.length === 0) return undefined;
  return new PolicyStatement({ actions: ['sts:AssumeRole'], resources: [...roleArns] });
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
