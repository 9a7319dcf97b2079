import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { ConfigInput } from '../../lambda/config/schema.ts';
import { DeploymentConfig } from '../../lib/deployment-config.ts';
import { SesStatsStack } from '../../lib/ses-stats-stack.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const EXAMPLE_CONFIG = fileURLToPath(
  new URL('../../config/example-multi-session.json', import.meta.url),
);

/** The feature flags of cdk.json, so tests build what `cdk synth` builds. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/** A fresh app with cdk.json's context, skipping esbuild (bundling.test.ts bundles for real). */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context } });
}

/** A fresh app and an empty stack to put one construct in. */
export function newStack(props: StackProps = {}): Stack {
  return new Stack(newApp(), 'Test', props);
}

export function config(document: ConfigInput): DeploymentConfig {
  return DeploymentConfig.fromDocument(document);
}

/** The whole stack built from a config document (default: the embedded default config). */
export function sesStatsStack(
  document?: ConfigInput,
  props: StackProps = {},
): { stack: SesStatsStack; template: Template } {
  const stack = new SesStatsStack(newApp(), 'SesStats', {
    ...props,
    ...(document === undefined ? {} : { config: config(document) }),
  });
  return { stack, template: Template.fromStack(stack) };
}

export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every identity policy (AWS::IAM::Policy and inline role policies). */
export function identityStatements(template: Template): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).map(
    (r) => r.Properties.PolicyDocument,
  );
  const inline = Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
    (r.Properties.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument),
  );
  return [...policies, ...inline].flatMap((doc) => doc.Statement as Statement[]);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export const DEFAULT_SESSION = 'SESSession1';
export const DEFAULT_ACTIVITY = {
  session: DEFAULT_SESSION,
  usageDataset: 'usageData',
  statisticsDataset: 'statsData',
};

/** A config document with the default session and activity, plus the given fields. */
export function document(fields: Partial<ConfigInput> = {}): ConfigInput {
  return { sessions: { [DEFAULT_SESSION]: {} }, activities: [DEFAULT_ACTIVITY], ...fields };
}

/** CloudWatch may use the topic and its key only for this account's alarms. */
export const THIS_ACCOUNTS_ALARMS = {
  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  ArnLike: {
    'aws:SourceArn': {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':cloudwatch:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':alarm:*',
        ],
      ],
    },
  },
};
