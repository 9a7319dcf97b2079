import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { PER_DATASET_ALARM_LIMIT } from '../../lambda/core/metrics.ts';
import { Monitoring, type MonitoringProps } from '../../lib/monitoring.ts';
import type { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { expectEveryAlarmDelivers } from '../support/alarm-delivery.ts';
import {
  document,
  EXAMPLE_CONFIG,
  logicalId,
  newStack,
  sesStatsStack,
  THIS_ACCOUNTS_ALARMS,
} from '../support/infra.ts';

const run = promisify(execFile);

interface LintMatch {
  readonly Level: string;
  readonly Rule: { readonly Id: string };
  readonly Message: string;
}

/** cfn-lint's findings on a template, or undefined when cfn-lint is not installed. */
async function cfnLint(templateJson: string): Promise<LintMatch[] | undefined> {
  try {
    await run('cfn-lint', ['--version']);
  } catch {
    return undefined;
  }
  const file = join(mkdtempSync(join(tmpdir(), 'ses-stats-monitoring-')), 'template.json');
  writeFileSync(file, templateJson);
  try {
    await run('cfn-lint', ['--format', 'json', file], { maxBuffer: 16 * 1024 * 1024 });
    return [];
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    return JSON.parse(stdout ?? '[]');
  }
}

const datasetDimensions = (dataset: string) => [
  { Name: 'Dataset', Value: dataset },
  { Name: 'service', Value: 'ses-stats' },
];

function alarmActions(stack: SesStatsStack) {
  const topic = { Ref: logicalId(stack.topic) };
  return { AlarmActions: [topic], OKActions: [topic] };
}

function expectAlarm(template: Template, properties: Record<string, unknown>): void {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', Match.objectLike(properties));
}

/** The default stack, built once: the tests below only read its template. */
let built: { stack: SesStatsStack; template: Template } | undefined;
function defaultStack(): { stack: SesStatsStack; template: Template } {
  built ??= sesStatsStack(document());
  return built;
}

interface MetricStat {
  readonly Id: string;
  readonly Expression?: string;
  readonly Label?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: {
    readonly Metric: { Namespace: string; MetricName: string; Dimensions: unknown };
    readonly Period: number;
    readonly Stat: string;
  };
}

/** The metric-math rate alarms of one dataset, in template order, as what decides them. */
function rateAlarms(template: Template, dataset: string) {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .map((r) => r.Properties)
    .filter((p) => (p.Metrics as MetricStat[] | undefined)?.some((m) => m.Expression))
    .filter((p) =>
      (p.Metrics as MetricStat[]).some(
        (m) =>
          JSON.stringify(m.MetricStat?.Metric.Dimensions) ===
          JSON.stringify(datasetDimensions(dataset)),
      ),
    )
    .map((p) => {
      const metrics = p.Metrics as MetricStat[];
      const inputs = metrics.filter((m) => m.MetricStat !== undefined);
      return {
        expression: metrics.find((m) => m.Expression)?.Expression,
        returned: metrics.filter((m) => m.ReturnData !== false).map((m) => m.Id),
        inputs: Object.fromEntries(
          inputs.map((m) => [
            m.Id,
            `${m.MetricStat?.Metric.Namespace}/${m.MetricStat?.Metric.MetricName} ${m.MetricStat?.Stat}`,
          ]),
        ),
        periods: inputs.map((m) => m.MetricStat?.Period),
        threshold: p.Threshold as number,
        comparison: p.ComparisonOperator as string,
        evaluationPeriods: p.EvaluationPeriods as number,
        datapointsToAlarm: p.DatapointsToAlarm as number,
        treatMissingData: p.TreatMissingData as string,
        label: metrics.find((m) => m.Expression)?.Label,
      };
    });
}

function expectedRateAlarm(a: {
  noun: string;
  window: string;
  attempts: string;
  events: string;
  threshold: number;
  minAttempts: number;
  period: number;
}) {
  const attempts = `attempts${a.window}`;
  const events = `events${a.window}`;
  return {
    expression: `IF(${attempts} >= ${a.minAttempts}, ${events} / ${attempts}, 0)`,
    returned: ['expr_1'],
    inputs: {
      [attempts]: `SesStats/${a.attempts} Average`,
      [events]: `SesStats/${a.events} Average`,
    },
    periods: [a.period, a.period],
    threshold: a.threshold,
    comparison: 'GreaterThanOrEqualToThreshold',
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: 'notBreaching',
    label: `${a.noun} rate, ${a.window === 'Window' ? '14-day SES window' : 'last 24 hours'}`,
  };
}

function monitoring(props: Partial<MonitoringProps> = {}): () => Monitoring {
  return () => {
    const stack = newStack();
    const collectorFunction = new LambdaFunction(stack, 'Fn', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => {}'),
    });
    return new Monitoring(stack, 'Monitoring', {
      collectorFunction,
      collectorTimeout: Duration.minutes(5),
      deadLetterQueue: new Queue(stack, 'Dlq'),
      rate: Duration.hours(1),
      statisticsDatasets: ['stats'],
      usageDatasets: ['usage'],
      ...props,
    });
  };
}

describe('Monitoring', () => {
  describe('topic', () => {
    it('encrypts the alarm topic with a rotating key that CloudWatch may use', () => {
      const { stack, template } = defaultStack();

      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringTopicKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToUseTheKey',
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Resource: '*',
              Condition: THIS_ACCOUNTS_ALARMS,
            },
          ]),
        },
      });
      expect(stack.topic.masterKey).toBeDefined();
    });

    it("lets CloudWatch publish for this account's alarms only", () => {
      const { stack, template } = defaultStack();

      template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: logicalId(stack.topic) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToPublish',
              Action: 'sns:Publish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Resource: { Ref: logicalId(stack.topic) },
              Condition: THIS_ACCOUNTS_ALARMS,
            },
          ]),
        },
      });
    });

    it('refuses publishing without TLS', () => {
      const { stack, template } = defaultStack();

      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: logicalId(stack.topic) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('subscribes the configured e-mail address', () => {
      const { stack, template } = sesStatsStack(document({ alarms: { email: 'ops@example.com' } }));

      template.resourceCountIs('AWS::SNS::Subscription', 1);
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: logicalId(stack.topic) },
      });
    });

    it('subscribes nobody without an e-mail address', () => {
      const { template } = defaultStack();

      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });
  });

  describe('alarms', () => {
    it('creates the collector, dead-letter and per-dataset alarms, all notifying the topic', () => {
      const input = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
      const { stack, template } = sesStatsStack(input);

      // errors, throttles, duration, dropped runs, dead-letter errors, dead letters; then per
      // activity: staleness, 2 rates × 2 windows × 2 levels, quota.
      template.resourceCountIs('AWS::CloudWatch::Alarm', 6 + 3 * (1 + 8 + 1));
      template.allResourcesProperties('AWS::CloudWatch::Alarm', alarmActions(stack));
    });

    it('alarms on any collector error within a schedule period', () => {
      const { stack, template } = defaultStack();

      expectAlarm(template, {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.collectorFunction) } }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        ...alarmActions(stack),
      });
    });

    it.each([
      ['Throttles', /a collector invocation was throttled in the last 1 hour/],
      ['AsyncEventsDropped', /Lambda dropped a scheduled run in the last 1 hour/],
      ['DeadLetterErrors', /could not write a dropped run to the dead-letter queue/],
    ])('alarms on any collector %s within a schedule period', (metric, description) => {
      const { stack, template } = defaultStack();

      expectAlarm(template, {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.collectorFunction) } }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp(description.source),
      });
    });

    it("alarms when a run's duration reaches 80 % of the function's timeout", () => {
      const { stack, template } = defaultStack();
      const tenMinutes = Template.fromStack(
        Stack.of(monitoring({ collectorTimeout: Duration.minutes(10) })()),
      );

      expectAlarm(template, {
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.collectorFunction) } }],
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: 240_000,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp('took 80 % or more of its 5 minutes timeout'),
      });
      expectAlarm(tenMinutes, { MetricName: 'Duration', Threshold: 480_000 });
    });

    it('alarms when the dead-letter queue is not empty', () => {
      const { stack, template } = defaultStack();
      const queue = logicalId(stack.node.findChild('Collector').node.findChild('DeadLetterQueue'));

      expectAlarm(template, {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms when a dataset had no successful collection in twice the schedule, no data included', () => {
      const { template } = defaultStack();

      expectAlarm(template, {
        Namespace: 'SesStats',
        MetricName: 'CollectionSucceeded',
        Dimensions: datasetDimensions('statsData'),
        Statistic: 'Sum',
        Period: 7200,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it('alarms on each rate at the warning and review levels, over the last 24 hours and the window, ignoring fewer than 100 attempts', () => {
      const { template } = defaultStack();

      expect(rateAlarms(template, 'statsData')).toEqual(
        [
          ['bounce', 'Last24Hours', 'DeliveryAttempts', 'Bounces', 0.025],
          ['bounce', 'Last24Hours', 'DeliveryAttempts', 'Bounces', 0.05],
          ['bounce', 'Window', 'WindowDeliveryAttempts', 'WindowBounces', 0.025],
          ['bounce', 'Window', 'WindowDeliveryAttempts', 'WindowBounces', 0.05],
          ['complaint', 'Last24Hours', 'DeliveryAttempts', 'Complaints', 0.0005],
          ['complaint', 'Last24Hours', 'DeliveryAttempts', 'Complaints', 0.001],
          ['complaint', 'Window', 'WindowDeliveryAttempts', 'WindowComplaints', 0.0005],
          ['complaint', 'Window', 'WindowDeliveryAttempts', 'WindowComplaints', 0.001],
        ].map(([noun, window, attempts, events, threshold]) =>
          expectedRateAlarm({
            noun: noun as string,
            window: window as string,
            attempts: attempts as string,
            events: events as string,
            threshold: threshold as number,
            minAttempts: 100,
            period: 3600,
          }),
        ),
      );
    });

    it('says in each rate alarm which window and which level it watches', () => {
      const { template } = defaultStack();

      const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
        .map((r) => r.Properties.AlarmDescription as string)
        .filter((d) => d.includes(' rate over the '));

      expect(descriptions).toEqual([
        'ses-stats: statsData bounce rate over the last 24 hours at or above 2.5 %, the warning level (review level 5 %; AWS reviews accounts at 5 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData bounce rate over the last 24 hours at or above 5 %, the review level (review level 5 %; AWS reviews accounts at 5 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData bounce rate over the 14-day SES window at or above 2.5 %, the warning level (review level 5 %; AWS reviews accounts at 5 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData bounce rate over the 14-day SES window at or above 5 %, the review level (review level 5 %; AWS reviews accounts at 5 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData complaint rate over the last 24 hours at or above 0.05 %, the warning level (review level 0.1 %; AWS reviews accounts at 0.1 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData complaint rate over the last 24 hours at or above 0.1 %, the review level (review level 0.1 %; AWS reviews accounts at 0.1 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData complaint rate over the 14-day SES window at or above 0.05 %, the warning level (review level 0.1 %; AWS reviews accounts at 0.1 %); rates over fewer than 100 delivery attempts are ignored',
        'ses-stats: statsData complaint rate over the 14-day SES window at or above 0.1 %, the review level (review level 0.1 %; AWS reviews accounts at 0.1 %); rates over fewer than 100 delivery attempts are ignored',
      ]);
    });

    it('takes the warning levels and the minimum volume from the config', () => {
      const { template } = sesStatsStack(
        document({
          alarms: {
            bounceRateWarning: 0.01,
            complaintRateWarning: 0.0009,
            minDeliveryAttempts: 500,
          },
        }),
      );

      const alarms = rateAlarms(template, 'statsData');

      expect(alarms.map((a) => a.threshold)).toEqual([
        0.01, 0.05, 0.01, 0.05, 0.0009, 0.001, 0.0009, 0.001,
      ]);
      for (const alarm of alarms) expect(alarm.expression).toMatch(/^IF\(attempts\w+ >= 500, /);
    });

    it('follows a custom schedule in the staleness and rate alarms', () => {
      const { template } = sesStatsStack(document({ scheduleMinutes: 15 }));

      expectAlarm(template, {
        MetricName: 'CollectionSucceeded',
        Period: 1800,
        EvaluationPeriods: 1,
      });
      for (const alarm of rateAlarms(template, 'statsData')) {
        expect(alarm.periods).toEqual([900, 900]);
        expect(alarm.evaluationPeriods).toBe(1);
      }
    });

    it('counts a staleness window over 1 day in hourly periods that must all be empty', () => {
      const { template } = sesStatsStack(document({ scheduleMinutes: 24 * 60 }));

      expectAlarm(template, {
        MetricName: 'CollectionSucceeded',
        Period: 3600,
        EvaluationPeriods: 48,
        DatapointsToAlarm: 48,
        TreatMissingData: 'breaching',
      });
      expectAlarm(template, {
        MetricName: 'Errors',
        Period: 86400,
        EvaluationPeriods: 1,
      });
    });

    it('caps the staleness window of a 7-day schedule at 7 days, with a warning', () => {
      const { stack, template } = sesStatsStack(document({ scheduleMinutes: 7 * 24 * 60 }));

      expectAlarm(template, {
        MetricName: 'CollectionSucceeded',
        Period: 3600,
        EvaluationPeriods: 168,
        DatapointsToAlarm: 168,
      });
      for (const alarm of rateAlarms(template, 'statsData')) {
        expect(alarm.periods).toEqual([3600, 3600]);
        expect(alarm.evaluationPeriods).toBe(168);
        expect(alarm.datapointsToAlarm).toBe(1);
      }
      Annotations.fromStack(stack).hasWarning(
        '/SesStats/Monitoring/Datasets/statsData',
        Match.stringLikeRegexp('looks back 7 days'),
      );
    });

    it('alarms at 80 % quota use by default', () => {
      const { template } = defaultStack();

      expectAlarm(template, {
        MetricName: 'QuotaUtilisation',
        Dimensions: datasetDimensions('usageData'),
        Statistic: 'Maximum',
        Threshold: 0.8,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('takes the thresholds from the config, for every dataset', () => {
      const input = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
      const { template } = sesStatsStack(input);

      for (const dataset of ['productionStats', 'marketingStats', 'productionEuStats']) {
        expect(rateAlarms(template, dataset).map((a) => a.threshold)).toEqual([
          0.02, 0.04, 0.02, 0.04, 0.0004, 0.0008, 0.0004, 0.0008,
        ]);
        expectAlarm(template, {
          MetricName: 'CollectionSucceeded',
          Dimensions: datasetDimensions(dataset),
          Period: 3600,
        });
      }
      for (const dataset of ['productionUsage', 'marketingUsage', 'productionEuUsage'])
        expectAlarm(template, {
          MetricName: 'QuotaUtilisation',
          Dimensions: datasetDimensions(dataset),
          Threshold: 0.9,
        });
    });
  });

  describe('datasets', () => {
    it('synthesizes datasets named like every construct beside the per-dataset ones', () => {
      const { stack } = defaultStack();
      const monitoringIds = stack.node
        .findChild('Monitoring')
        .node.children.map((c) => c.node.id)
        .filter((id) => id !== 'Datasets');
      const names = [...new Set([...monitoringIds, 'AlarmEmail', 'Datasets', 'Monitoring'])];
      // Two names per activity, so the deployment stays small enough for per-dataset alarms.
      const activities = names
        .filter((_, i) => i % 2 === 0)
        .map((name, i) => ({
          session: 'SESSession1',
          statisticsDataset: name,
          usageDataset: names[2 * i + 1] ?? `usage${i}`,
        }));

      const { template } = sesStatsStack(
        document({ activities, alarms: { email: 'ops@example.com' } }),
      );

      expect(names).toEqual(
        expect.arrayContaining([
          'AlarmTopic',
          'TopicKey',
          'Dashboard',
          'CollectorErrors',
          'DeadLetters',
          'AlarmEmail',
        ]),
      );
      for (const [i, name] of names.entries())
        expectAlarm(template, {
          MetricName: i % 2 === 0 ? 'CollectionSucceeded' : 'QuotaUtilisation',
          Dimensions: datasetDimensions(name),
        });
    });
  });

  describe('dashboard', () => {
    it('plots each dataset, both windows of each rate with its warning and review levels, the quota and the collector', () => {
      const { template } = defaultStack();

      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
      for (const metric of [
        'DeliveryAttempts',
        'Bounces',
        'Complaints',
        'Rejects',
        'WindowDeliveryAttempts',
        'WindowBounces',
        'WindowComplaints',
        'QuotaUtilisation',
        'Invocations',
        'Errors',
        'Throttles',
        'AsyncEventsDropped',
        'Duration',
      ])
        expect(body).toContain(`\\"${metric}\\"`);
      expect(body).toContain(
        'IF(attemptsLast24Hours >= 100, eventsLast24Hours / attemptsLast24Hours, 0)',
      );
      expect(body).toContain('IF(attemptsWindow >= 100, eventsWindow / attemptsWindow, 0)');
      expect(body).toContain('statsData: bounce rate');
      expect(body).toContain('statsData: complaint rate');
      expect(body).toContain('usageData: quota utilisation');
      for (const [value, label] of [
        ['0.025', 'bounce warning'],
        ['0.05', 'bounce review'],
        ['0.0005', 'complaint warning'],
        ['0.001', 'complaint review'],
        ['0.8', 'alarm'],
        ['240000', 'duration alarm'],
      ])
        expect(body).toContain(`\\"value\\":${value},\\"label\\":\\"${label}\\"`);
    });

    it('is exposed by the stack', () => {
      const { stack } = defaultStack();

      expect(logicalId(stack.dashboard)).toMatch(/^MonitoringDashboard/);
    });
  });

  describe('props', () => {
    it.each([
      [
        'bounceRateThreshold 0',
        { bounceRateThreshold: 0 },
        /Monitoring bounceRateThreshold: received 0; expected a fraction above 0 and at most 1/,
      ],
      [
        'complaintRateThreshold 1.5',
        { complaintRateThreshold: 1.5 },
        /Monitoring complaintRateThreshold: received 1.5;/,
      ],
      [
        'bounceRateWarningThreshold -1',
        { bounceRateWarningThreshold: -1 },
        /Monitoring bounceRateWarningThreshold: received -1; expected a fraction above 0 and at most 1/,
      ],
      [
        'a bounce warning at the review level',
        { bounceRateThreshold: 0.04, bounceRateWarningThreshold: 0.04 },
        /Monitoring bounceRateWarningThreshold: received 0.04; expected a warning level below the review level \(0.04\)/,
      ],
      [
        'a complaint warning above the default review level',
        { complaintRateWarningThreshold: 0.002 },
        /Monitoring complaintRateWarningThreshold: received 0.002; expected a warning level below the review level \(0.001\)/,
      ],
      [
        'minDeliveryAttempts 0',
        { minDeliveryAttempts: 0 },
        /Monitoring minDeliveryAttempts: received 0; expected a whole number of delivery attempts, at least 1/,
      ],
      [
        'minDeliveryAttempts 1.5',
        { minDeliveryAttempts: 1.5 },
        /Monitoring minDeliveryAttempts: received 1.5;/,
      ],
      [
        'a collectorTimeout not known at synth',
        { collectorTimeout: Duration.seconds(Token.asNumber({ Ref: 'Timeout' })) },
        /Monitoring collectorTimeout: received an unresolved token; expected a duration known at synth/,
      ],
      [
        'quotaUtilisationThreshold -0.1',
        { quotaUtilisationThreshold: -0.1 },
        /Monitoring quotaUtilisationThreshold: received -0.1;/,
      ],
      [
        'a bad e-mail',
        { alarmEmail: 'ops.example.com' },
        /Monitoring alarmEmail: received "ops.example.com"; expected an e-mail address/,
      ],
      [
        'a duplicate dataset',
        { usageDatasets: ['stats'] },
        /Monitoring datasets: received "stats" twice; every dataset name must be unique/,
      ],
      [
        'a dataset with "/"',
        { statisticsDatasets: ['a/b'] },
        /Monitoring datasets: received "a\/b"; expected a dataset name without "\/"/,
      ],
      [
        'a rate under a minute',
        { rate: Duration.seconds(30) },
        /Monitoring rate: received 30 seconds; expected at least 1 minute/,
      ],
    ])('rejects %s', (_case, props, message) => {
      expect(monitoring(props)).toThrow(message);
    });

    it('accepts review thresholds of exactly 1 and a minimum volume of 1', () => {
      expect(
        monitoring({
          bounceRateThreshold: 1,
          complaintRateThreshold: 1,
          quotaUtilisationThreshold: 1,
          minDeliveryAttempts: 1,
        }),
      ).not.toThrow();
    });
  });

  describe('per-kind alarms (more than PER_DATASET_ALARM_LIMIT statistics datasets)', () => {
    const names = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
    const fleet = (n: number, props: Partial<MonitoringProps> = {}) => {
      const built = monitoring({
        statisticsDatasets: names('stats', n),
        usageDatasets: names('usage', n),
        ...props,
      })();
      return { monitoring: built, template: Template.fromStack(Stack.of(built)) };
    };
    const query = (metric: string) =>
      `SELECT MAX(${metric}) FROM SCHEMA("SesStats", Dataset, service) GROUP BY Dataset ORDER BY MAX() DESC LIMIT 500`;
    /** What decides each Metrics Insights alarm, in template order. */
    const insightsAlarms = (template: Template) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm'))
        .map((r) => r.Properties)
        .filter((p) => p.Metrics !== undefined)
        .map((p) => ({
          metrics: p.Metrics,
          threshold: p.Threshold,
          comparison: p.ComparisonOperator,
          evaluationPeriods: p.EvaluationPeriods,
          datapointsToAlarm: p.DatapointsToAlarm,
          treatMissingData: p.TreatMissingData,
        }));
    const expected = (metric: string, label: string, threshold: number, period = 3600) => ({
      metrics: [
        { Id: 'expr_1', Expression: query(metric), Label: label, Period: period, ReturnData: true },
      ],
      threshold,
      comparison: 'GreaterThanOrEqualToThreshold',
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: 'notBreaching',
    });

    let thousand: ReturnType<typeof fleet> | undefined;
    const aThousand = () => {
      thousand ??= fleet(1000);
      return thousand;
    };

    it('keeps per-dataset alarms up to the limit and switches to a constant set beyond it', () => {
      const atLimit = fleet(PER_DATASET_ALARM_LIMIT);
      const overLimit = fleet(PER_DATASET_ALARM_LIMIT + 1);

      expect(atLimit.monitoring.alarmMode).toBe('perDataset');
      atLimit.template.resourceCountIs('AWS::CloudWatch::Alarm', 6 + PER_DATASET_ALARM_LIMIT * 10);
      expect(overLimit.monitoring.alarmMode).toBe('perKind');
      // 6 collector alarms, stale datasets, 2 rates × 2 levels, quota.
      overLimit.template.resourceCountIs('AWS::CloudWatch::Alarm', 12);
      aThousand().template.resourceCountIs('AWS::CloudWatch::Alarm', 12);
    }, 120_000);

    it('alarms on each rate at the warning and review levels and on quota, one Metrics Insights query each', () => {
      expect(insightsAlarms(aThousand().template)).toEqual([
        expected('AlarmBounceRate', 'bounce rate by dataset', 0.025),
        expected('AlarmBounceRate', 'bounce rate by dataset', 0.05),
        expected('AlarmComplaintRate', 'complaint rate by dataset', 0.0005),
        expected('AlarmComplaintRate', 'complaint rate by dataset', 0.001),
        expected('QuotaUtilisation', 'quota utilisation by dataset', 0.8),
      ]);
    });

    it('takes the levels from the props and says what each alarm watches', () => {
      const { template } = fleet(20, {
        bounceRateThreshold: 0.04,
        bounceRateWarningThreshold: 0.02,
        complaintRateThreshold: 0.0008,
        quotaUtilisationThreshold: 0.9,
        minDeliveryAttempts: 500,
      });

      expect(insightsAlarms(template).map((a) => a.threshold)).toEqual([
        0.02, 0.04, 0.0004, 0.0008, 0.9,
      ]);
      expectAlarm(template, {
        Threshold: 0.02,
        AlarmDescription:
          "ses-stats: a dataset's bounce rate is at or above 2 %, the warning level (review level 4 %; AWS reviews accounts at 5 %), over the last 24 hours or the 14-day SES window; each dataset is a contributor named by its Dataset dimension; rates over fewer than 500 delivery attempts are ignored",
      });
    });

    it('alarms when the collector counts a stale dataset, or no run counted them', () => {
      expectAlarm(aThousand().template, {
        Namespace: 'SesStats',
        MetricName: 'StaleDatasets',
        Dimensions: [{ Name: 'service', Value: 'ses-stats' }],
        Statistic: 'Maximum',
        Period: 7200,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'breaching',
      });
      // Beyond a 12-hour schedule, hourly periods: any count, and no run is not stale.
      expectAlarm(fleet(20, { rate: Duration.days(1) }).template, {
        MetricName: 'StaleDatasets',
        Period: 3600,
        EvaluationPeriods: 48,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('notifies the topic on ALARM and OK from every alarm, and every alarm can deliver', () => {
      const { monitoring: built, template } = aThousand();
      const topic = { Ref: logicalId(built.topic) };

      template.allResourcesProperties('AWS::CloudWatch::Alarm', {
        AlarmActions: [topic],
        OKActions: [topic],
      });
      expectEveryAlarmDelivers(template);
    });

    it('evaluates at most the 3 hours a Metrics Insights alarm can, with a warning', () => {
      const { monitoring: built, template } = fleet(20, { rate: Duration.hours(6) });

      for (const alarm of insightsAlarms(template)) expect(alarm.metrics[0].Period).toBe(3 * 3600);
      Annotations.fromStack(Stack.of(built)).hasWarning(
        '/Test/Monitoring',
        Match.stringLikeRegexp('look at the last 3 hours'),
      );
      expect(
        Annotations.fromStack(Stack.of(aThousand().monitoring)).findWarning('*', Match.anyValue()),
      ).toEqual([]);
    });

    it('builds a dashboard of top datasets that does not grow with the datasets', () => {
      const body = (t: Template) =>
        JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]);
      const small = body(fleet(PER_DATASET_ALARM_LIMIT + 1).template);
      const large = body(aThousand().template);

      for (const metric of [
        'AlarmBounceRate',
        'AlarmComplaintRate',
        'QuotaUtilisation',
        'DeliveryAttempts',
      ])
        expect(large).toContain(
          `SELECT MAX(${metric}) FROM SCHEMA(\\\\\\"SesStats\\\\\\", Dataset, service) GROUP BY Dataset ORDER BY MAX() DESC LIMIT 10`,
        );
      expect(large).toContain('StaleDatasets');
      expect(large).not.toContain('stats-00000');
      // Only the alarm ARNs' token names differ; the size is the same.
      expect(large.length).toBe(small.length);
    });

    it('synthesizes 10,000 datasets in well under 500 resources and 1 MB, in seconds', async () => {
      const started = performance.now();
      const { monitoring: built, template } = fleet(10_000);
      const json = JSON.stringify(template.toJSON());
      const seconds = (performance.now() - started) / 1000;

      expect(Object.keys(template.toJSON().Resources).length).toBeLessThan(500);
      expect(Buffer.byteLength(json)).toBeLessThan(1_000_000);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 12);
      expect(seconds).toBeLessThan(30);
      expect(Annotations.fromStack(Stack.of(built)).findWarning('*', Match.anyValue())).toEqual([]);
      const findings = await cfnLint(json);
      // W3005: CDK makes the function depend on its role twice (harmless; synth.test.ts too).
      const unexpected = (findings ?? []).filter((f) => f.Rule.Id !== 'W3005');
      expect(unexpected.map((f) => `${f.Level} ${f.Rule.Id}: ${f.Message}`)).toEqual([]);
    }, 60_000);

    it('warns when more datasets than a Metrics Insights query analyzes are configured', () => {
      const { monitoring: built } = fleet(10_001);

      Annotations.fromStack(Stack.of(built)).hasWarning(
        '/Test/Monitoring',
        Match.stringLikeRegexp(
          '10001 statistics datasets: a Metrics Insights alarm analyzes at most 10000',
        ),
      );
    }, 60_000);
  });
});
