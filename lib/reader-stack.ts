import {
  BootstraplessSynthesizer,
  CfnOutput,
  CfnParameter,
  Duration,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { ArnPrincipal, PolicyDocument, Role } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { DEFAULT_READER_ROLE_NAME } from '../lambda/config/defaults.ts';
import {
  ACCOUNT_ACTIONS,
  resourceStarAcknowledgement,
  SES_ACTIONS,
  sesStatement,
} from './collector-permissions.ts';

/** The stack id: `cdk deploy SesStatsReader -c reader=true`. */
export const READER_STACK_ID = 'SesStatsReader';

/**
 * The CloudFormation parameter patterns (CloudFormation matches the whole value). The role ARN
 * and external id rules are the config schema's, so a value the stack accepts is one the
 * collector's config accepts too.
 */
export const READER_PARAMETER_PATTERNS = {
  RoleName: '[\\w+=,.@-]{1,64}',
  CollectorRoleArn: 'arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}',
  ExternalId: '[\\w+=,.@:/-]{2,1224}',
} as const;

/**
 * The longest session of the reader role: IAM's smallest maximum. The collector asks for
 * 15-minute sessions (lambda/adapters/ses-statistics-source.ts); a longer maximum would only let
 * a leaked session live longer.
 */
export const READER_MAX_SESSION_DURATION = Duration.hours(1);

/** What the reader role may call: the SES statistics and the account dataset's actions. */
export const READER_ACTIONS = [...SES_ACTIONS, ...ACCOUNT_ACTIONS] as const;

/**
 * The member-account reader: one IAM role (`role`) that the ses-stats collector assumes to read
 * this account's SES statistics. It trusts exactly the collector's role (parameter
 * `CollectorRoleArn`, the SesStats stack's output of that name) and only with the external id
 * (parameter `ExternalId`), and may call only `ses:GetSendQuota`, `ses:GetSendStatistics`,
 * `ses:GetAccount` and `cloudwatch:GetMetricData`. The last two serve an account dataset; the
 * role always has them, as this stack is deployed without the collector's config (a StackSet
 * template for every account), and an account without an account dataset never calls them.
 *
 * The template is self-contained so that a CloudFormation StackSet can deploy it to every account
 * of an organization: no assets, no bootstrap version parameter or rule, no CDK metadata
 * resource. The BootstraplessSynthesizer refuses an asset at synth; `cdk deploy` into one
 * account needs no `cdk bootstrap` there (the CLI says it cannot assume the bootstrap deploy
 * role and proceeds with the current credentials).
 */
export class ReaderStack extends Stack {
  /** The role the collector assumes. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description:
        'ses-stats reader: a role the ses-stats collector assumes to read SES sending statistics, quota, account state and reputation rates',
      synthesizer: new BootstraplessSynthesizer(),
      analyticsReporting: false,
      ...props,
    });
    const roleName = new CfnParameter(this, 'RoleName', {
      type: 'String',
      default: DEFAULT_READER_ROLE_NAME,
      allowedPattern: READER_PARAMETER_PATTERNS.RoleName,
      constraintDescription: 'must be an IAM role name: 1-64 letters, digits and +=,.@_-',
      description: `Name of the role; the collector config's accounts[].roleName (default ${DEFAULT_READER_ROLE_NAME})`,
    });
    const collectorRoleArn = new CfnParameter(this, 'CollectorRoleArn', {
      type: 'String',
      allowedPattern: READER_PARAMETER_PATTERNS.CollectorRoleArn,
      constraintDescription:
        'must be an IAM role ARN such as arn:aws:iam::123456789012:role/name: the CollectorRoleArn output of the SesStats stack',
      description:
        'The only principal that may assume the role: the SesStats stack output CollectorRoleArn',
    });
    const externalId = new CfnParameter(this, 'ExternalId', {
      type: 'String',
      allowedPattern: READER_PARAMETER_PATTERNS.ExternalId,
      constraintDescription: 'must be 2-1224 characters of letters, digits and +=,.@:/_-',
      description:
        "The external id the collector must present: the collector config's externalId of these accounts",
    });

    this.role = new Role(this, 'Role', {
      roleName: roleName.valueAsString,
      description:
        'ses-stats reader: the collector reads SES sending statistics, quota, account state and reputation rates',
      assumedBy: new ArnPrincipal(collectorRoleArn.valueAsString),
      externalIds: [externalId.valueAsString],
      maxSessionDuration: READER_MAX_SESSION_DURATION,
      inlinePolicies: {
        SesStatistics: new PolicyDocument({ statements: [sesStatement(true)] }),
      },
    });
    Validations.of(this.role).acknowledge(
      resourceStarAcknowledgement(true, 'the role has no other permission'),
    );

    new CfnOutput(this, 'RoleArn', {
      value: this.role.roleArn,
      description:
        "The reader role's ARN (the collector config builds it from accounts[].id and roleName)",
    });
  }
}
