import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type AppProps, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lambda/config/schema.ts';
import { addNagPacks, nagPacks } from '../../lib/nag-packs.ts';
import { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import {
  CDK_CONTEXT,
  config,
  DEFAULT_ACTIVITY,
  document,
  EXAMPLE_CONFIG,
  newApp,
} from '../support/infra.ts';

function appWith(input: ConfigInput, props: AppProps = {}): App {
  const app = new App({ ...props, context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  new SesStatsStack(app, 'SesStats', { config: config(input) });
  return app;
}

/** Every finding the packs report (errors and warnings), as `rule at path`. */
function findings(app: App): string[] {
  return nagPacks(app).flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`),
      ),
  );
}

function acknowledgements(scope: IConstruct): Array<[string, string]> {
  return scope.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]): [string, string] => [
            `${c.node.path} ${id.replace(/^annotation::/i, '')}`,
            reason,
          ]),
        ),
    );
}

const exampleConfig = (): ConfigInput => JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));

describe('cdk-nag (AwsSolutions and Serverless)', () => {
  it('finds nothing unacknowledged in the default stack', () => {
    expect(findings(appWith(document()))).toEqual([]);
  });

  it('finds nothing unacknowledged with assume-role and key sessions, secrets and an alarm e-mail', () => {
    expect(findings(appWith(exampleConfig()))).toEqual([]);
  });

  it.each<[string, Partial<ConfigInput>]>([
    ['with CORS on the read API', { apiCorsOrigins: ['https://dashboard.example.com'] }],
    ['without the read API', { api: false }],
  ])('finds nothing unacknowledged %s', (_case, fields) => {
    expect(findings(appWith(document(fields)))).toEqual([]);
  });

  it('finds nothing unacknowledged with an account dataset, acknowledging Resource "*" of its two actions on the same finding', () => {
    const app = appWith(
      document({ activities: [{ ...DEFAULT_ACTIVITY, accountDataset: 'accountData' }] }),
    );

    const acknowledged = acknowledgements(app);
    const where = (list: Array<[string, string]>) => list.map(([at]) => at).sort();

    expect(findings(app)).toEqual([]);
    // One acknowledgement per finding: no second one for the account actions.
    expect(where(acknowledged)).toEqual(where(acknowledgements(appWith(document()))));
    expect(
      Object.fromEntries(acknowledged)['SesStats/Collector/Role AwsSolutions-IAM5[Resource::*]'],
    ).toBe(
      'ses:GetSendQuota and ses:GetSendStatistics have no resource-level permissions, so their statement needs Resource "*"; ses:GetAccount and cloudwatch:GetMetricData have no resource-level permissions, so their statement needs Resource "*"; every other statement names its resources',
    );
  });

  it('does find problems in a construct that has them (the check is live)', () => {
    const app = newApp();
    new Queue(new Stack(app, 'Bad'), 'Plain', { enforceSSL: false });

    expect(findings(app)).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-SQS3 at Bad/Plain/Resource',
        'error AwsSolutions-SQS4 at Bad/Plain/Resource',
        'error Serverless-SQSRedrivePolicy at Bad/Plain/Resource',
      ]),
    );
  });

  it('acknowledges only these findings, each on its own resource with a reason', () => {
    const app = appWith(exampleConfig());

    const acknowledged = acknowledgements(app);

    expect(acknowledged.map(([where]) => where).sort()).toEqual([
      'SesStats/Collector/DeadLetterQueue Serverless-SQSRedrivePolicy',
      'SesStats/Collector/Function Serverless-LambdaTracing',
      'SesStats/Collector/Function/EventInvokeConfig Serverless-LambdaAsyncFailureDestination',
      'SesStats/Collector/Role AwsSolutions-IAM5[Resource::*]',
      'SesStats/Collector/SchedulerRole AwsSolutions-IAM5[Resource::<CollectorFunctionE9933A71.Arn>:*]',
      'SesStats/Monitoring/AlarmEmail Serverless-SNSRedrivePolicy',
      'SesStats/ReadApi/Function Serverless-LambdaDLQ',
      'SesStats/ReadApi/Function Serverless-LambdaTracing',
    ]);
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
    expect(
      Object.fromEntries(acknowledged)['SesStats/Collector/Role AwsSolutions-IAM5[Resource::*]'],
    ).toBe(
      'ses:GetSendQuota and ses:GetSendStatistics have no resource-level permissions, so their statement needs Resource "*"; every other statement names its resources',
    );
  });

  it('lets synth pass with the packs attached, with an empty validation report', () => {
    // The built-in CloudFormation schema validation adds ~15 s here; the cdk synth test runs it.
    const app = appWith(exampleConfig(), { builtinCloudFormationValidation: false });
    addNagPacks(app);

    const assembly = app.synth();

    const report = JSON.parse(
      readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
    );
    expect(report.pluginReports).toEqual([]);
  });

  it('fails synth when the packs find an error', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    new Queue(new Stack(app, 'Bad'), 'Plain', { enforceSSL: false });
    addNagPacks(app);

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
