import { readFileSync } from 'node:fs';
import { type App, type Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { DEFAULT_READER_ROLE_NAME } from '../../lambda/config/defaults.ts';
import type { ConfigInput, SecretRef } from '../../lambda/config/schema.ts';
import {
  ACCOUNT_ACTIONS,
  ASSUME_ROLE_STATEMENT_BUDGET,
  assumedRoleArns,
  assumeRoleAcknowledgements,
  assumeRoleResources,
  assumeRoleStatement,
  referencedSecrets,
} from '../../lib/collector-permissions.ts';
import type { DeploymentConfig } from '../../lib/deployment-config.ts';
import { nagPacks } from '../../lib/nag-packs.ts';
import type { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import {
  actionsOf,
  config,
  DEFAULT_ACTIVITY,
  document,
  EXAMPLE_CONFIG,
  identityStatements,
  logicalId,
  newStack,
  sesStatsStack,
  THIS_ACCOUNTS_ALARMS,
} from '../support/infra.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function collectorStatements(stack: SesStatsStack) {
  const collector = stack.node.findChild('Collector');
  return {
    role: logicalId(collector.node.findChild('Role')),
    dlq: logicalId(collector.node.findChild('DeadLetterQueue')),
    logGroup: logicalId(collector.node.findChild('LogGroup')),
    table: logicalId(stack.table),
  };
}

const SES_STATISTICS = ['ses:GetSendQuota', 'ses:GetSendStatistics'];

/**
 * The collector role's policy must be exactly these statements, in this order: the SES statement
 * on "*" holds `sesActions` (sorted, as CDK renders them).
 */
function expectCollectorPolicy(
  template: Template,
  stack: SesStatsStack,
  extra: readonly object[],
  sesActions: readonly string[] = SES_STATISTICS,
): void {
  const ids = collectorStatements(stack);
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: ids.role }],
    PolicyDocument: {
      Statement: Match.exact([
        {
          Action: 'sqs:SendMessage',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
        },
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [ids.logGroup, 'Arn'] },
        },
        {
          Action: [...sesActions],
          Effect: 'Allow',
          Resource: '*',
        },
        ...extra,
        {
          Action: [
            'dynamodb:BatchWriteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
          ],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
        },
      ]),
      Version: '2012-10-17',
    },
  });
}

const keysSession = (secretAccessKey: SecretRef) => ({
  credentials: { type: 'keys' as const, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey },
});

// Generous: the first stack of a file pays for loading aws-cdk-lib and cdk-nag (28 s seen on a busy host).
describe('collector permissions', { timeout: 120_000 }, () => {
  it('grants only SES statistics, the table, its log group and its dead-letter queue by default', () => {
    const { stack, template } = sesStatsStack(document());

    expectCollectorPolicy(template, stack, []);
  });

  it('adds ses:GetAccount and cloudwatch:GetMetricData on "*" to the SES statement, nothing else, with an account dataset', () => {
    const input = document({
      activities: [{ ...DEFAULT_ACTIVITY, accountDataset: 'accountData' }],
    });

    const { stack, template } = sesStatsStack(input);

    expectCollectorPolicy(template, stack, [], [...ACCOUNT_ACTIONS, ...SES_STATISTICS].sort());
    expect(ACCOUNT_ACTIONS).toEqual(['ses:GetAccount', 'cloudwatch:GetMetricData']);
  });

  it('grants the account actions when any one activity has an account dataset', () => {
    const input = document({
      activities: [
        DEFAULT_ACTIVITY,
        {
          session: 'SESSession1',
          usageDataset: 'u2',
          statisticsDataset: 's2',
          accountDataset: 'a2',
        },
      ],
    });

    const actions = identityStatements(sesStatsStack(input).template).flatMap(actionsOf);

    expect(actions.filter((a) => ACCOUNT_ACTIONS.includes(a as never))).toEqual([
      'cloudwatch:GetMetricData',
      'ses:GetAccount',
    ]);
  });

  it('grants neither account action without an account dataset', () => {
    const actions = identityStatements(sesStatsStack(document()).template).flatMap(actionsOf);

    expect(actions).toEqual(expect.arrayContaining(SES_STATISTICS));
    expect(actions).not.toContain('ses:GetAccount');
    expect(actions).not.toContain('cloudwatch:GetMetricData');
  });

  it('has no sts:AssumeRole statement without assume-role sessions', () => {
    const { template } = sesStatsStack(document());

    const actions = identityStatements(template).flatMap(actionsOf);

    expect(actions).not.toContain('sts:AssumeRole');
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
  });

  it('allows sts:AssumeRole on exactly the configured role ARNs, once each', () => {
    const role = (name: string) => ({
      credentials: {
        type: 'assumeRole' as const,
        roleArn: `arn:aws:iam::111122223333:role/${name}`,
      },
    });
    const input: ConfigInput = {
      sessions: { a: role('reader-a'), b: role('reader-b') },
      activities: [
        { session: 'a', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'b', usageDataset: 'u2', statisticsDataset: 's2' },
        { connection: role('reader-a'), usageDataset: 'u3', statisticsDataset: 's3' },
      ],
    };

    const { stack, template } = sesStatsStack(input);

    expectCollectorPolicy(template, stack, [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Resource: [
          'arn:aws:iam::111122223333:role/reader-a',
          'arn:aws:iam::111122223333:role/reader-b',
        ],
      },
    ]);
  });

  it('scopes secretsmanager:GetSecretValue to the referenced secrets: names in this account and region, ARNs as given', () => {
    const givenArn = 'arn:aws:secretsmanager:us-east-1:444455556666:secret:proxy-password-AbCdEf';
    const input: ConfigInput = {
      sessions: {
        keys: keysSession({ secretId: 'ses/keys', jsonKey: 'secret' }),
        proxied: {
          proxy: {
            host: 'proxy.internal',
            port: 3128,
            user: 'ses',
            passwordSecret: { secretId: givenArn },
          },
        },
      },
      activities: [
        { session: 'keys', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'proxied', usageDataset: 'u2', statisticsDataset: 's2' },
      ],
    };

    const { stack, template } = sesStatsStack(input, { env: ENV });

    expectCollectorPolicy(template, stack, [
      {
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: [
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ses/keys-??????',
          givenArn,
        ],
      },
    ]);
  });

  it('grants a secret given without its 6-character suffix as NAME-??????, by name or partial ARN; a complete ARN stays exact', () => {
    const partial = 'arn:aws:secretsmanager:us-east-1:444455556666:secret:team/proxy';
    const complete = 'arn:aws:secretsmanager:us-east-1:444455556666:secret:team/keys-Ab12Cd';
    const input: ConfigInput = {
      sessions: {
        byName: keysSession({ secretId: 'ses/keys' }),
        byPartialArn: keysSession({ secretId: partial }),
        byArn: keysSession({ secretId: complete }),
      },
      activities: [
        { session: 'byName', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'byPartialArn', usageDataset: 'u2', statisticsDataset: 's2' },
        { session: 'byArn', usageDataset: 'u3', statisticsDataset: 's3' },
      ],
    };

    const { stack, template } = sesStatsStack(input, { env: ENV });

    expectCollectorPolicy(template, stack, [
      {
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: [
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ses/keys-??????',
          complete,
          `${partial}-??????`,
        ],
      },
    ]);
  });

  it('rejects a secretId with "*" or "?" before it reaches the policy, naming the field', () => {
    const withSecret = (secretId: string) =>
      ({
        settings: {
          activities: [
            {
              source: 'keys',
              origin: { entry: 0, session: 'keys' },
              connection: {
                credentials: { type: 'keys', secretAccessKey: { secretId } },
                proxy: { passwordSecret: { secretId: 'ok' } },
              },
            },
          ],
        },
        document: { activities: [{ session: 'keys' }] },
      }) as unknown as DeploymentConfig;

    expect(() => referencedSecrets(withSecret('ses/*'))).toThrow(
      'sessions.keys.credentials.secretAccessKey.secretId: received "ses/*"; expected a Secrets Manager secret name or ARN without "*" or "?"',
    );
    expect(() => referencedSecrets(withSecret('ses/key?'))).toThrow(/received "ses\/key\?"/);
    expect(referencedSecrets(withSecret('ses/keys'))).toEqual([
      { field: 'sessions.keys.credentials.secretAccessKey', secretId: 'ses/keys' },
      { field: 'sessions.keys.proxy.passwordSecret', secretId: 'ok' },
    ]);
  });

  it('builds the name-based secret ARN from the deployment account and region when they are not known', () => {
    const input = document({
      sessions: { SESSession1: keysSession({ secretId: 'ses/keys' }) },
    });

    const { template } = sesStatsStack(input);

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'secretsmanager:GetSecretValue',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':secretsmanager:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':secret:ses/keys-??????',
                ],
              ],
            },
          },
        ]),
      },
    });
  });

  it('grants nothing for sessions no activity uses', () => {
    const input: ConfigInput = {
      sessions: {
        used: {},
        unused: {
          credentials: {
            type: 'assumeRole' as const,
            roleArn: 'arn:aws:iam::111122223333:role/unused',
          },
        },
        unusedKeys: keysSession({ env: 'SECRET' }),
      },
      activities: [{ ...DEFAULT_ACTIVITY, session: 'used' }],
    };

    const { stack, template } = sesStatsStack(input);

    expectCollectorPolicy(template, stack, []);
  });

  it.each([
    [
      'a session secret key',
      document({ sessions: { SESSession1: keysSession({ env: 'SES_SECRET' }) } }),
      /sessions\.SESSession1\.credentials\.secretAccessKey: received \{"env": "SES_SECRET"\}; the deployed collector cannot read environment variable secrets, use \{"secretId": "name-or-arn"\}/,
    ],
    [
      'a proxy password',
      document({
        sessions: {
          SESSession1: {
            proxy: {
              host: 'proxy',
              port: 8080,
              user: 'u',
              passwordSecret: { env: 'PROXY_PASSWORD' },
            },
          },
        },
      }),
      /sessions\.SESSession1\.proxy\.passwordSecret: received \{"env": "PROXY_PASSWORD"\}/,
    ],
    [
      'an inline connection',
      document({
        sessions: {},
        activities: [
          { connection: keysSession({ env: 'INLINE' }), usageDataset: 'u', statisticsDataset: 's' },
        ],
      }),
      /activities\[0\]\.connection\.credentials\.secretAccessKey: received \{"env": "INLINE"\}/,
    ],
  ])('rejects an {env} secret reference in %s', (_case, input, message) => {
    expect(() => sesStatsStack(input)).toThrow(message);
  });

  it('lets the scheduler invoke only the collector and write only to its dead-letter queue', () => {
    const { stack, template } = sesStatsStack(document());
    const collector = stack.node.findChild('Collector');
    const fn = logicalId(stack.collectorFunction);

    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(collector.node.findChild('SchedulerRole')) }],
      PolicyDocument: {
        Statement: Match.exact([
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: [
              { 'Fn::GetAtt': [fn, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn, 'Arn'] }, ':*']] },
            ],
          },
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: {
              'Fn::GetAtt': [logicalId(collector.node.findChild('DeadLetterQueue')), 'Arn'],
            },
          },
        ]),
        Version: '2012-10-17',
      },
    });
  });

  it('attaches no managed policy to any role', () => {
    const { template } = sesStatsStack(document());

    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it('has no wildcard action in any identity policy, with every kind of source configured', () => {
    const input = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
    const { template } = sesStatsStack(input);

    const actions = identityStatements(template).flatMap(actionsOf);

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('gives kms:* in the alarm key policy only to the account, and CloudWatch only kms:GenerateDataKey* for its own alarms', () => {
    const { template } = sesStatsStack(document());
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));

    const wildcards = (key?.Properties.KeyPolicy.Statement ?? []).filter(
      (s: { Action: string | string[] }) => [s.Action].flat().some((a) => a.includes('*')),
    );

    // GenerateDataKey* is what AWS documents for a service publishing to an encrypted topic.
    expect(wildcards).toEqual([
      {
        Action: 'kms:*',
        Effect: 'Allow',
        Principal: {
          AWS: {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
            ],
          },
        },
        Resource: '*',
      },
      {
        Sid: 'AllowCloudWatchAlarmsToUseTheKey',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Resource: '*',
        Condition: THIS_ACCOUNTS_ALARMS,
      },
    ]);
  });
});

/** A Lambda role in a fresh stack holding only the collector's sts:AssumeRole statement. */
function roleWithAssumeStatement(input: ConfigInput) {
  const deployment = config(input);
  const stack = newStack();
  const role = new Role(stack, 'Collector', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
  });
  const statement = assumeRoleStatement(assumedRoleArns(deployment));
  if (statement !== undefined) role.addToPolicy(statement);
  return { deployment, stack, role };
}

/** The resources of the sts:AssumeRole statement as synthesized. */
function assumeRoleResourcesOf(stack: Stack): unknown {
  const statements = identityStatements(Template.fromStack(stack)).filter((s) =>
    actionsOf(s).includes('sts:AssumeRole'),
  );
  expect(statements).toHaveLength(1);
  return statements[0]?.Resource;
}

/** Every cdk-nag finding (AwsSolutions and Serverless) left unacknowledged in the stack's app. */
function nagFindings(stack: Stack): string[] {
  const app = stack.node.root as App;
  return nagPacks(app).flatMap((pack) =>
    pack.validateScope(app).violations.flatMap((v) => v.violatingResources.map(() => v.ruleName)),
  );
}

const readerArn = (id: string, roleName = DEFAULT_READER_ROLE_NAME) =>
  `arn:aws:iam::${id}:role/${roleName}`;
const accountIds = (n: number, first = 100_000_000_000) =>
  Array.from({ length: n }, (_, i) => String(first + i));
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];

/**
 * A config written out by hand: one assumeRole session and one activity per account × region,
 * what a session's `accounts` × `regions` shorthand expands to.
 */
function explicitAccounts(
  ids: readonly string[],
  regions: readonly string[],
  roleName = DEFAULT_READER_ROLE_NAME,
): ConfigInput {
  const sessions: NonNullable<ConfigInput['sessions']> = {};
  const activities: ConfigInput['activities'] = [];
  for (const id of ids)
    for (const region of regions) {
      const name = `${id}-${region}`;
      sessions[name] = {
        region,
        credentials: {
          type: 'assumeRole',
          roleArn: readerArn(id, roleName),
          externalId: 'org-7d1c',
        },
      };
      activities.push({ session: name, usageDataset: `${name}-u`, statisticsDataset: `${name}-s` });
    }
  return { sessions, activities };
}

describe("the collector's sts:AssumeRole statement with many accounts", {
  timeout: 120_000,
}, () => {
  it(`keeps exact role ARNs while the statement fits its ${ASSUME_ROLE_STATEMENT_BUDGET}-character budget (105 accounts × 2 regions)`, () => {
    const ids = accountIds(105);
    const { deployment, stack } = roleWithAssumeStatement(
      explicitAccounts(ids, REGIONS.slice(0, 2)),
    );

    expect(assumeRoleResourcesOf(stack)).toEqual(ids.map((id) => readerArn(id)));
    expect(assumeRoleAcknowledgements(deployment)).toEqual([]);
    expect(nagFindings(stack)).toEqual([]);
  });

  it('names the role in any account once the exact ARNs would not fit (106 accounts)', () => {
    const { stack } = roleWithAssumeStatement(explicitAccounts(accountIds(106), ['eu-west-1']));

    expect(assumeRoleResourcesOf(stack)).toBe('arn:aws:iam::*:role/SesStatsReader');
  });

  it('collapses 2,000 accounts × 5 regions to one any-account ARN of the role name, and the acknowledgement clears cdk-nag', () => {
    const { deployment, stack, role } = roleWithAssumeStatement(
      explicitAccounts(accountIds(2000), REGIONS),
    );

    expect(assumeRoleResourcesOf(stack)).toBe('arn:aws:iam::*:role/SesStatsReader');
    expect(nagFindings(stack)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:iam::*:role/SesStatsReader]',
    ]);
    const acknowledgements = assumeRoleAcknowledgements(deployment);
    expect(acknowledgements).toEqual([
      {
        id: 'AwsSolutions-IAM5[Resource::arn:aws:iam::*:role/SesStatsReader]',
        reason: expect.stringMatching(
          /^2000 accounts' roles of this name are assumed: .* its own trust policy names this collector role/,
        ),
      },
    ]);
    Validations.of(role).acknowledge(...acknowledgements);
    expect(nagFindings(stack)).toEqual([]);
  });

  it('collapses the ARNs a session of 2,000 accounts × 5 regions expands to, keeping an exact ARN of another session', () => {
    const input: ConfigInput = {
      sessions: {
        org: {
          regions: REGIONS,
          accounts: [
            ...accountIds(1999).map((id) => ({ id })),
            { id: '555555555555', roleName: 'audit-reader' },
          ],
          externalId: 'org-7d1c',
        },
        partner: {
          region: 'eu-west-1',
          credentials: { type: 'assumeRole', roleArn: readerArn('666666666666', 'partner') },
        },
      },
      activities: [
        { session: 'org' },
        { session: 'partner', usageDataset: 'p-u', statisticsDataset: 'p-s' },
      ],
    };

    const { deployment, stack } = roleWithAssumeStatement(input);

    expect(deployment.settings.activities).toHaveLength(10_001);
    expect(assumeRoleResourcesOf(stack)).toEqual([
      'arn:aws:iam::*:role/SesStatsReader',
      readerArn('555555555555', 'audit-reader'),
      readerArn('666666666666', 'partner'),
    ]);
    expect(assumeRoleAcknowledgements(deployment).map(({ id }) => id)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:iam::*:role/SesStatsReader]',
    ]);
  });

  it('collapses only the names that must be, the most used first: other names, paths and partitions stay exact', () => {
    const many = accountIds(150).map((id) => readerArn(id));
    const team = accountIds(20, 200_000_000_000).map((id) => readerArn(id, 'team/ses-reader'));
    const china = 'arn:aws-cn:iam::300000000000:role/SesStatsReader';
    const single = readerArn('400000000000', 'legacy-reader');

    const resources = assumeRoleResources([single, ...many, china, ...team, ...many]);

    expect(resources).toEqual([single, 'arn:aws:iam::*:role/SesStatsReader', china, ...team]);
  });

  it('collapses the next name too when the first is not enough, each once', () => {
    const ids = accountIds(150);
    const arns = [
      ...ids.map((id) => readerArn(id)),
      ...ids.map((id) => readerArn(id, 'Other')),
      'arn:aws-us-gov:iam::500000000000:role/Other',
    ];

    expect(assumeRoleResources(arns)).toEqual([
      'arn:aws:iam::*:role/SesStatsReader',
      'arn:aws:iam::*:role/Other',
      'arn:aws-us-gov:iam::500000000000:role/Other',
    ]);
  });

  it('rejects role ARNs that do not fit even collapsed, naming the counts and the budget', () => {
    const arns = accountIds(120).map((id, i) => readerArn(id, `reader-${i}`));

    expect(() => assumeRoleResources(arns)).toThrow(
      /^credentials\.roleArn: received 120 assume-role ARNs under 120 role names; .* would be 5\d{3} characters, over its budget of 5120 \(IAM allows 10240 for all of a role's inline policies\): give the member accounts' roles fewer distinct names \(the reader stack's RoleName, default SesStatsReader\)$/,
    );
  });
});
