import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ArnPrincipal, PolicyDocument, Role } from 'aws-cdk-lib/aws-iam';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { beforeAll, describe, expect, it } from 'vitest';
import { credentialsSchema, externalIdSchema, roleNameSchema } from '../../lambda/config/fields.ts';
import { ACCOUNT_ACTIONS, SES_ACTIONS, sesStatement } from '../../lib/collector-permissions.ts';
import { nagPacks } from '../../lib/nag-packs.ts';
import {
  READER_ACTIONS,
  READER_PARAMETER_PATTERNS,
  READER_STACK_ID,
  ReaderStack,
} from '../../lib/reader-stack.ts';
import { defineSesStatsApp, READER_CONTEXT_KEY, STACK_ID } from '../../lib/ses-stats-app.ts';
import { cfnLintProblems } from '../support/cfn-lint.ts';
import {
  actionsOf,
  CDK_CONTEXT,
  identityStatements,
  logicalId,
  newApp,
  REPO_ROOT,
} from '../support/infra.ts';

const run = promisify(execFile);

function readerStack(): { stack: ReaderStack; template: Template } {
  const stack = new ReaderStack(newApp(), READER_STACK_ID);
  return { stack, template: Template.fromStack(stack) };
}

/** Every cdk-nag finding (AwsSolutions and Serverless) left unacknowledged in the app. */
function nagFindings(app: App): string[] {
  return nagPacks(app).flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
      ),
  );
}

/** The stacks a synth of the whole app (as `cdk synth` runs it, with cdk-nag) produces. */
function synthesizedStacks(context: Record<string, unknown>): string[] {
  const app = new App({
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
    // The built-in CloudFormation schema validation adds ~15 s; cfn-lint runs below instead.
    builtinCloudFormationValidation: false,
  });
  defineSesStatsApp(app);
  return app
    .synth()
    .stacks.map((s) => s.stackName)
    .sort();
}

/** CloudFormation matches an AllowedPattern against the whole value. */
const accepts = (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`).test(value);

const COLLECTOR_ROLE_ARN = 'arn:aws:iam::123456789012:role/SesStats-CollectorRoleBDA6D9F1-AbC123';

// Generous: the first stack of a file pays for loading aws-cdk-lib and cdk-nag, slow on a busy host.
describe('the SesStatsReader stack (member accounts)', { timeout: 120_000 }, () => {
  it('trusts exactly the collector role parameter, only with the external id parameter', () => {
    const { template } = readerStack();

    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { AWS: { Ref: 'CollectorRoleArn' } },
            Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
          },
        ],
      }),
    });
  });

  it('allows exactly the SES statistics and account dataset actions on "*", in one inline policy, nothing else', () => {
    const { template } = readerStack();

    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: Match.exact([
        {
          PolicyName: 'SesStatistics',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: [
                  'cloudwatch:GetMetricData',
                  'ses:GetAccount',
                  'ses:GetSendQuota',
                  'ses:GetSendStatistics',
                ],
                Resource: '*',
              },
            ],
          },
        },
      ]),
      ManagedPolicyArns: Match.absent(),
    });
    expect(identityStatements(template).flatMap(actionsOf)).toEqual([...READER_ACTIONS].sort());
    expect(READER_ACTIONS).toEqual([...SES_ACTIONS, ...ACCOUNT_ACTIONS]);
  });

  it('names the role from the RoleName parameter, with 1-hour sessions, and outputs its ARN', () => {
    const { stack, template } = readerStack();
    const role = logicalId(stack.role);

    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: { Ref: 'RoleName' },
      MaxSessionDuration: 3600,
    });
    template.hasOutput('RoleArn', { Value: { 'Fn::GetAtt': [role, 'Arn'] } });
  });

  it('holds only the role: no bootstrap version parameter or rule, no CDK metadata, no assets', () => {
    const app = newApp();
    new ReaderStack(app, READER_STACK_ID);

    const artifact = app.synth().getStackByName(READER_STACK_ID);

    expect(Object.keys(artifact.template).sort()).toEqual([
      'Description',
      'Outputs',
      'Parameters',
      'Resources',
    ]);
    expect(
      Object.values(artifact.template.Resources).map((r) => (r as { Type: string }).Type),
    ).toEqual(['AWS::IAM::Role']);
    expect(artifact.assets).toEqual([]);
    // The template goes to CloudFormation as it is, not through a bootstrap bucket.
    expect(artifact.stackTemplateAssetObjectUrl).toBeUndefined();
    expect(artifact.dependencies.map((d) => d.id)).toEqual([]);
  });

  it('refuses an asset at synth, so the template stays deployable by a StackSet', () => {
    const { stack } = readerStack();

    expect(() => new Asset(stack, 'Code', { path: join(REPO_ROOT, 'cdk.json') })).toThrow(
      /Cannot add assets to a Stack that uses the BootstraplessSynthesizer/,
    );
  });

  it('has exactly the parameters RoleName (default SesStatsReader), CollectorRoleArn and ExternalId, with their patterns', () => {
    const { template } = readerStack();

    expect(template.toJSON().Parameters).toEqual({
      RoleName: expect.objectContaining({
        Type: 'String',
        Default: 'SesStatsReader',
        AllowedPattern: READER_PARAMETER_PATTERNS.RoleName,
      }),
      CollectorRoleArn: expect.objectContaining({
        Type: 'String',
        AllowedPattern: READER_PARAMETER_PATTERNS.CollectorRoleArn,
      }),
      ExternalId: expect.objectContaining({
        Type: 'String',
        AllowedPattern: READER_PARAMETER_PATTERNS.ExternalId,
      }),
    });
    expect(template.toJSON().Parameters.CollectorRoleArn.Default).toBeUndefined();
    expect(template.toJSON().Parameters.ExternalId.Default).toBeUndefined();
  });

  it.each([
    ['RoleName', 'the default', true, 'SesStatsReader'],
    ['RoleName', 'every allowed sign', true, 'team+ses=reader,@.-_'],
    ['RoleName', '64 characters', true, 'a'.repeat(64)],
    ['RoleName', '65 characters', false, 'a'.repeat(65)],
    ['RoleName', 'nothing', false, ''],
    ['RoleName', 'a path', false, 'path/reader'],
    ['RoleName', 'a space', false, 'ses reader'],
    ['CollectorRoleArn', 'the collector role', true, COLLECTOR_ROLE_ARN],
    ['CollectorRoleArn', 'a path in aws-cn', true, 'arn:aws-cn:iam::123456789012:role/path/c'],
    ['CollectorRoleArn', 'nothing', false, ''],
    ['CollectorRoleArn', '"*"', false, '*'],
    ['CollectorRoleArn', 'an account root', false, 'arn:aws:iam::123456789012:root'],
    ['CollectorRoleArn', 'a user', false, 'arn:aws:iam::123456789012:user/collector'],
    ['CollectorRoleArn', 'any account', false, 'arn:aws:iam::*:role/collector'],
    ['CollectorRoleArn', 'a trailing space', false, `${COLLECTOR_ROLE_ARN} `],
    ['ExternalId', 'a short id', true, 'org-7d1c'],
    ['ExternalId', 'every allowed sign', true, 'a:b/c@d.e=f+g,h_i-j'],
    ['ExternalId', '1224 characters', true, 'x'.repeat(1224)],
    ['ExternalId', '1225 characters', false, 'x'.repeat(1225)],
    ['ExternalId', 'nothing', false, ''],
    ['ExternalId', 'one character', false, 'x'],
    ['ExternalId', 'a space', false, 'has space'],
  ] as const)(
    'the %s pattern given %s accepts it: %s, as the config schema does',
    (parameter, _case, ok, value) => {
      const schemaAccepts = {
        RoleName: () => roleNameSchema.safeParse(value).success,
        CollectorRoleArn: () =>
          credentialsSchema.safeParse({ type: 'assumeRole', roleArn: value }).success,
        ExternalId: () => externalIdSchema.safeParse(value).success,
      }[parameter];

      expect(accepts(READER_PARAMETER_PATTERNS[parameter], value)).toBe(ok);
      expect(schemaAccepts()).toBe(ok);
    },
  );

  it('finds nothing unacknowledged with cdk-nag, and acknowledges only Resource "*" of the SES and account actions', () => {
    const app = newApp();
    const stack = new ReaderStack(app, READER_STACK_ID);

    expect(nagFindings(app)).toEqual([]);
    const acknowledged = stack.role.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledged).toEqual([
      [
        'Annotation::AwsSolutions-IAM5[Resource::*]',
        'ses:GetSendQuota and ses:GetSendStatistics have no resource-level permissions, so their statement needs Resource "*"; ses:GetAccount and cloudwatch:GetMetricData have no resource-level permissions, so their statement needs Resource "*"; the role has no other permission',
      ],
    ]);
    expect(
      stack.node
        .findAll()
        .filter((c) => c !== stack.role)
        .flatMap((c) =>
          c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY),
        ),
    ).toEqual([]);
  });

  it('would be flagged for Resource "*" without that acknowledgement (the check is live)', () => {
    const app = newApp();
    new Role(new Stack(app, 'Bare'), 'Role', {
      assumedBy: new ArnPrincipal(COLLECTOR_ROLE_ARN),
      inlinePolicies: { SesStatistics: new PolicyDocument({ statements: [sesStatement(true)] }) },
    });

    expect(nagFindings(app)).toEqual(['AwsSolutions-IAM5[Resource::*] at Bare/Role/Resource']);
  });
});

describe('the app with and without -c reader=true', { timeout: 120_000 }, () => {
  it('synthesizes only SesStats by default, so `cdk deploy` needs no stack name', () => {
    expect(synthesizedStacks({})).toEqual([STACK_ID]);
  });

  it('synthesizes SesStats and SesStatsReader with -c reader=true, cdk-nag clean', () => {
    expect(synthesizedStacks({ [READER_CONTEXT_KEY]: 'true' })).toEqual([
      STACK_ID,
      READER_STACK_ID,
    ]);
  });

  it.each([
    ['false', [STACK_ID]],
    [false, [STACK_ID]],
    [true, [STACK_ID, READER_STACK_ID]],
  ])('reads -c reader=%s', (value, stacks) => {
    expect(synthesizedStacks({ [READER_CONTEXT_KEY]: value })).toEqual(stacks);
  });

  it('rejects any other reader value, naming it', () => {
    expect(() => synthesizedStacks({ [READER_CONTEXT_KEY]: 'yes' })).toThrow(
      '-c reader: received "yes"; expected true (add the SesStatsReader stack) or false',
    );
  });
});

describe('the StackSet template from the documented command', () => {
  let stdout: string;

  // `npx cdk synth SesStatsReader -c reader=true --json`, offline, as docs/deploy.md shows it.
  beforeAll(async () => {
    ({ stdout } = await run(
      'npx',
      ['cdk', 'synth', READER_STACK_ID, '-c', 'reader=true', '--no-notices', '--json'],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          CDK_DISABLE_CLI_TELEMETRY: 'true',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    ));
  }, 240_000);

  it('prints exactly the reader template on stdout (the CLI adds only path metadata)', () => {
    const printed = JSON.parse(stdout);
    for (const resource of Object.values<{ Metadata?: unknown }>(printed.Resources))
      delete resource.Metadata;

    expect(printed).toEqual(readerStack().template.toJSON());
  });

  it('passes cfn-lint (when cfn-lint is installed)', async () => {
    const problems = await cfnLintProblems({ json: stdout });
    if (problems === undefined) return;

    expect(problems).toEqual([]);
  }, 60_000);
});
