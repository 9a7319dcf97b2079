import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';

/**
 * Walks every alarm action of a template to its topic, the topic's policy and the topic's key
 * policy, and evaluates the requests CloudWatch makes when an alarm fires, as IAM would for a
 * resource-based policy: an explicit Deny wins, otherwise an Allow must match. The Allow must
 * also hold the confused-deputy conditions: the same request from another account's alarm
 * must be refused.
 */

export const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
export const REGION = 'eu-west-1';
const PARTITION = 'aws';
export const CLOUDWATCH = 'cloudwatch.amazonaws.com';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
  readonly [other: string]: unknown;
}

interface Request {
  readonly service: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string>;
}

/** Resolves the intrinsics CDK emits for ARNs, as CloudFormation would in ACCOUNT and REGION. */
function resolve(value: unknown, resources: Resources): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) {
    const ref = object.Ref as string;
    const pseudo: Record<string, string> = {
      'AWS::Partition': PARTITION,
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (ref in pseudo) return pseudo[ref];
    if (resources[ref]?.Type === 'AWS::SNS::Topic') return topicArn(ref);
    return `ref:${ref}`;
  }
  if ('Fn::GetAtt' in object) {
    const [id, attribute] = object['Fn::GetAtt'] as [string, string];
    if (resources[id]?.Type === 'AWS::KMS::Key' && attribute === 'Arn') return keyArn(id);
    if (resources[id]?.Type === 'AWS::SNS::Topic' && attribute === 'TopicArn') return topicArn(id);
    return `getatt:${id}.${attribute}`;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return (resolve(parts, resources) as unknown[]).join(separator);
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v, resources)]));
}

const topicArn = (id: string) => `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:${id}`;
const keyArn = (id: string) => `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${id}`;

/** IAM wildcards: `*` any run of characters, `?` any one character. */
function wildcard(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '').test(value);
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);

function principalMatches(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const p = principal as Record<string, unknown>;
  return list(p.AWS).includes('*') || list(p.Service).includes(service);
}

const CONDITIONS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => wildcard(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => wildcard(p, v),
  Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
};

function conditionsMatch(statement: Statement, context: Record<string, string>): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) => {
    const test = CONDITIONS[operator];
    if (test === undefined) throw new Error(`unsupported condition operator ${operator}`);
    return Object.entries(keys).every(([key, patterns]) => {
      const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase());
      return actual !== undefined && list(patterns).some((p) => test(p, actual[1]));
    });
  });
}

function statementMatches(statement: Statement, request: Request): boolean {
  for (const unsupported of ['NotPrincipal', 'NotAction', 'NotResource'])
    if (unsupported in statement) throw new Error(`unsupported policy element ${unsupported}`);
  return (
    principalMatches(statement.Principal, request.service) &&
    list(statement.Action).some((a) => wildcard(a, request.action, true)) &&
    list(statement.Resource).some((r) => wildcard(r, request.resource)) &&
    conditionsMatch(statement, request.context)
  );
}

/** Why the policy refuses the request, or undefined when it allows it. */
function refusal(statements: readonly Statement[], request: Request): string | undefined {
  const deny = statements.find((s) => s.Effect === 'Deny' && statementMatches(s, request));
  if (deny !== undefined) return `denied by ${JSON.stringify(deny)}`;
  const allow = statements.find((s) => s.Effect === 'Allow' && statementMatches(s, request));
  return allow === undefined ? 'no statement allows it' : undefined;
}

function alarmContext(alarm: string, account = ACCOUNT): Record<string, string> {
  return {
    'aws:SourceAccount': account,
    'aws:SourceArn': `arn:${PARTITION}:cloudwatch:${REGION}:${account}:alarm:${alarm}`,
    'aws:SecureTransport': 'true',
  };
}

export interface Delivery {
  /** Alarm actions walked (ALARM and OK). */
  readonly actions: number;
  readonly problems: string[];
}

/** Every way an alarm action of the template cannot reach its topic. */
export function deliveryProblems(template: Template): Delivery {
  const resources = template.toJSON().Resources as Resources;
  const problems: string[] = [];
  let actions = 0;
  const policiesOf = (topic: string) =>
    Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::SNS::TopicPolicy' &&
          list(resolve(r.Properties?.Topics, resources)).includes(topic),
      )
      .flatMap(
        (r) =>
          (resolve(r.Properties?.PolicyDocument, resources) as { Statement: Statement[] })
            .Statement,
      );
  const topicOf = (arn: string) =>
    Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::SNS::Topic' && topicArn(id) === arn,
    );
  for (const [alarm, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const props = resource.Properties ?? {};
    for (const arn of [
      ...list(resolve(props.AlarmActions, resources)),
      ...list(resolve(props.OKActions, resources)),
    ]) {
      actions++;
      const where = `${alarm} → ${arn}`;
      const topic = topicOf(arn);
      if (topic === undefined) {
        problems.push(`${where}: not a topic of this stack`);
        continue;
      }
      const [topicId, topicResource] = topic;
      const statements = policiesOf(arn);
      if (statements.length === 0) problems.push(`${where}: the topic has no topic policy`);
      const publish = (account?: string): Request => ({
        service: CLOUDWATCH,
        action: 'sns:Publish',
        resource: arn,
        context: alarmContext(alarm, account),
      });
      const refused = refusal(statements, publish());
      if (refused !== undefined) problems.push(`${where}: sns:Publish ${refused}`);
      if (refusal(statements, publish(OTHER_ACCOUNT)) === undefined)
        problems.push(`${where}: sns:Publish is allowed for another account's alarms too`);

      const keyRef = resolve(topicResource.Properties?.KmsMasterKeyId, resources);
      if (keyRef === undefined) continue;
      const keyId = Object.keys(resources).find((id) => keyArn(id) === keyRef);
      if (keyId === undefined) {
        problems.push(
          `${where}: topic ${topicId} is encrypted with ${String(keyRef)}, not a key of this stack`,
        );
        continue;
      }
      const keyPolicy = resolve(resources[keyId]?.Properties?.KeyPolicy, resources) as {
        Statement: Statement[];
      };
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        const use = (account?: string): Request => ({
          service: CLOUDWATCH,
          action,
          resource: keyArn(keyId),
          context: alarmContext(alarm, account),
        });
        const keyRefused = refusal(keyPolicy.Statement, use());
        if (keyRefused !== undefined)
          problems.push(`${where}: ${action} on ${keyId} ${keyRefused}`);
        if (refusal(keyPolicy.Statement, use(OTHER_ACCOUNT)) === undefined)
          problems.push(
            `${where}: ${action} on ${keyId} is allowed for another account's alarms too`,
          );
      }
    }
  }
  return { actions, problems };
}

/** Every alarm of the template has an ALARM and an OK action, and each can deliver. */
export function expectEveryAlarmDelivers(template: Template): void {
  const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length;
  const delivery = deliveryProblems(template);

  expect(alarms).toBeGreaterThan(0);
  // Every alarm has an ALARM and an OK action.
  expect(delivery.actions).toBe(2 * alarms);
  expect(delivery.problems).toEqual([]);
}
