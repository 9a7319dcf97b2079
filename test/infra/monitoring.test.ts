import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lambda/config/schema.ts';
import { PER_DATASET_ALARM_LIMIT } from '../../lambda/core/metrics.ts';
import { Monitoring, type MonitoringProps } from '../../lib/monitoring.ts';
import type { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { expectEveryAlarmDelivers } from '../support/alarm-delivery.ts';
import { cfnLintProblems } from '../support/cfn-lint.ts';
import {
  DEFAULT_ACTIVITY,
  document,
  EXAMPLE_CONFIG,
  logicalId,
  newStack,
  sesStatsStack,
  THIS_ACCOUNTS_ALARMS,
} from '../support/infra.ts';

const _run = promisify(execFile);

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
const service = [{ Name: 'service', Value: 'ses-stats' }];
/** What decides each alarm on a count the collector publishes, in template order. */
const countAlarms = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .map((r) => r.Properties)
    .filter((p) => p.Namespace === 'SesStats')
    .map((p) => ({
      metric: p.MetricName,
      dimensions: p.Dimensions,
      statistic: p.Statistic,
      period: p.Period,
      threshold: p.Threshold,
      comparison: p.ComparisonOperator,
      evaluationPeriods: p.EvaluationPeriods,
      datapointsToAlarm: p.DatapointsToAlarm,
      treatMissingData: p.TreatMissingData,
    }));
const sumAlarm = (metric: string, period = 3600, evaluationPeriods = 1) => ({
  metric,
  dimensions: service,
  statistic: 'Sum',
  period,
  threshold: 1,
  comparison: 'GreaterThanOrEqualToThreshold',
  evaluationPeriods,
  datapointsToAlarm: 1,
  treatMissingData: 'notBreaching',
});
const staleAlarm = {
  metric: 'StaleDatasets',
  dimensions: service,
  statistic: 'Maximum',
  period: 7200,
  threshold: 1,
  comparison: 'GreaterThanOrEqualToThreshold',
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  treatMissingData: 'breaching',
};
/** The dashboard's Logs Insights widgets: title and query, and the log groups they read. */
const logWidgets = (template: Template) => {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const parts = dashboard?.Properties.DashboardBody['Fn::Join'][1] as unknown[];
  // The body is a join of text and tokens (the log group's name): resolve it to a marker.
  const body = parts.map((p) => (typeof p === 'string' ? p : '<LOG GROUP>')).join('');
  return (JSON.parse(body).widgets as { type: string; properties: Record<string, string> }[])
    .filter((w) => w.type === 'log')
    .map((w) => ({ title: w.properties.title, query: w.properties.query }));
};

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
    let thousand: ReturnType<typeof fleet> | undefined;
    const aThousand = () => {
      thousand ??= fleet(1000);
      return thousand;
    };

    it('keeps per-dataset alarms up to the limit and a constant set beyond it, for any number of datasets', () => {
      const atLimit = fleet(PER_DATASET_ALARM_LIMIT);
      const overLimit = fleet(PER_DATASET_ALARM_LIMIT + 1);

      expect(atLimit.monitoring.alarmMode).toBe('perDataset');
      atLimit.template.resourceCountIs('AWS::CloudWatch::Alarm', 6 + PER_DATASET_ALARM_LIMIT * 10);
      expect(overLimit.monitoring.alarmMode).toBe('perKind');
      // 6 collector alarms, stale datasets, 2 rates × 2 levels, quota, failed sources.
      overLimit.template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
      aThousand().template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
      expect(aThousand().monitoring.alarms).toHaveLength(13);
    }, 120_000);

    it('alarms on the sum of each count over the schedule period, with the service dimension only', () => {
      expect(countAlarms(aThousand().template)).toEqual([
        staleAlarm,
        sumAlarm('DatasetsOverBounceWarning'),
        sumAlarm('DatasetsOverBounceReview'),
        sumAlarm('DatasetsOverComplaintWarning'),
        sumAlarm('DatasetsOverComplaintReview'),
        sumAlarm('DatasetsOverQuota'),
        sumAlarm('SourcesFailed'),
      ]);
      expect(JSON.stringify(aThousand().template.toJSON())).not.toMatch(/SELECT|SCHEMA\(/);
    });

    it('follows a custom schedule: one period up to a day, hourly periods beyond', () => {
      expect(countAlarms(fleet(20, { rate: Duration.hours(6) }).template)).toContainEqual(
        sumAlarm('DatasetsOverBounceReview', 6 * 3600),
      );
      const daily = countAlarms(fleet(20, { rate: Duration.days(2) }).template);
      expect(daily).toContainEqual(sumAlarm('SourcesFailed', 3600, 48));
      // Beyond a 12-hour schedule, hourly periods: any count, and no run is not stale.
      expect(daily).toContainEqual({
        ...staleAlarm,
        period: 3600,
        evaluationPeriods: 96,
        treatMissingData: 'notBreaching',
      });
    });

    it('says in each alarm which level it watches and where the datasets are named', () => {
      const { template } = fleet(20, {
        bounceRateThreshold: 0.04,
        bounceRateWarningThreshold: 0.02,
        complaintRateThreshold: 0.0008,
        quotaUtilisationThreshold: 0.9,
        minDeliveryAttempts: 500,
      });
      const where = (metric: string) =>
        `The collector's log line "datasets over an alarm level" with metric ${metric} names them (at most 100 per invocation, with the count), as does the dashboard's Logs Insights widget; \`ses-stats check DATASET\` checks one`;

      expectAlarm(template, {
        MetricName: 'DatasetsOverBounceWarning',
        AlarmDescription: `ses-stats: in the last 1 hour, datasets had a bounce rate at or above 2 %, the warning level (review level 4 %; AWS reviews accounts at 5 %), over the last 24 hours or the 14-day SES window; rates over fewer than 500 delivery attempts are ignored. ${where('DatasetsOverBounceWarning')}`,
      });
      expectAlarm(template, {
        MetricName: 'DatasetsOverComplaintWarning',
        AlarmDescription: Match.stringLikeRegexp('at or above 0.04 %, the warning level'),
      });
      expectAlarm(template, {
        MetricName: 'DatasetsOverQuota',
        AlarmDescription: `ses-stats: in the last 1 hour, datasets had used 90 % or more of their 24-hour sending quota. ${where('DatasetsOverQuota')}`,
      });
      expectAlarm(template, {
        MetricName: 'StaleDatasets',
        AlarmDescription: Match.stringLikeRegexp(
          'the collector\'s log line "datasets not covered for two schedule periods" names them',
        ),
      });
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')))
        expect(alarm.Properties.AlarmDescription.length).toBeLessThanOrEqual(1024);
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

    it("lists the datasets over each level and the top 10 of each kind from the collector's log", () => {
      const { monitoring: built, template } = aThousand();
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const logGroup = logicalId(Stack.of(built).node.findChild('Fn').node.findChild('LogGroup'));
      const over = (field: string, by: string, level: string) =>
        `SOURCE '<LOG GROUP>' | fields ${by}, ${field}\n| filter message = "collected" and ispresent(${field}) and ${field} >= ${level}\n| stats max(${field}) as highest, latest(${field}) as latest by ${by}\n| sort highest desc\n| limit 100`;
      const top = (field: string, by: string) =>
        `SOURCE '<LOG GROUP>' | fields ${by}, ${field}\n| filter message = "collected" and ispresent(${field})\n| stats max(${field}) as highest, latest(${field}) as latest by ${by}\n| sort highest desc\n| limit 10`;

      expect(logWidgets(template)).toEqual([
        {
          title: 'Datasets over an alarm level, per collector invocation',
          query: `SOURCE '<LOG GROUP>' | fields @timestamp, metric, threshold, count, @message\n| filter message = "datasets over an alarm level"\n| sort @timestamp desc\n| limit 100`,
        },
        {
          title: 'Stale datasets, per scheduled run',
          query: `SOURCE '<LOG GROUP>' | fields @timestamp, count, @message\n| filter message = "datasets not covered for two schedule periods"\n| sort @timestamp desc\n| limit 20`,
        },
        {
          title: 'Datasets at or over the bounce warning level (2.5 %; review 5 %)',
          query: over('alarmBounceRate', 'dataset', '0.025'),
        },
        {
          title: 'Datasets at or over the complaint warning level (0.05 %; review 0.1 %)',
          query: over('alarmComplaintRate', 'dataset', '0.0005'),
        },
        {
          title: 'Datasets at or over the quota level (80 %)',
          query: over('quotaUtilisation', 'usageDataset', '0.8'),
        },
        {
          title: 'Top 10 datasets by bounce rate (higher window)',
          query: top('alarmBounceRate', 'dataset'),
        },
        {
          title: 'Top 10 datasets by complaint rate (higher window)',
          query: top('alarmComplaintRate', 'dataset'),
        },
        {
          title: 'Top 10 datasets by quota utilisation',
          query: top('quotaUtilisation', 'usageDataset'),
        },
      ]);
      // The log group is the collector's own, by reference.
      expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toContain(
        JSON.stringify({ Ref: logGroup }),
      );
    });

    it('graphs the counts and the alarm states, and does not grow with the datasets', () => {
      const body = (t: Template) =>
        JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]);
      const small = body(fleet(PER_DATASET_ALARM_LIMIT + 1).template);
      const large = body(aThousand().template);

      for (const metric of [
        'DatasetsOverBounceWarning',
        'DatasetsOverBounceReview',
        'DatasetsOverComplaintWarning',
        'DatasetsOverComplaintReview',
        'DatasetsOverQuota',
        'SourcesCollected',
        'SourcesFailed',
        'SourcesSkipped',
        'StaleDatasets',
      ])
        expect(large).toContain(`\\"SesStats\\",\\"${metric}\\",\\"service\\",\\"ses-stats\\"`);
      expect(large).toContain('\\"type\\":\\"alarm\\"');
      expect(large).not.toContain('stats-00000');
      expect(large).not.toContain('Dataset\\"');
      // Only the alarm ARNs' token names differ; the size is the same.
      expect(large.length).toBe(small.length);
    });

    // How fast it synthesizes is a benchmark's business (README: 10,000 sources in 14 s), not a test's.
    it('synthesizes 10,000 datasets with the same 13 alarms, well under 500 resources and 1 MB', async () => {
      const { monitoring: built, template } = fleet(10_000);
      const json = JSON.stringify(template.toJSON());

      expect(Object.keys(template.toJSON().Resources).length).toBeLessThan(500);
      expect(Buffer.byteLength(json)).toBeLessThan(1_000_000);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
      expect(countAlarms(template)).toEqual(countAlarms(aThousand().template));
      expect(Annotations.fromStack(Stack.of(built)).findWarning('*', Match.anyValue())).toEqual([]);
      expect((await cfnLintProblems({ json })) ?? []).toEqual([]);
    }, 60_000);
  });
});

describe('account alarms and widgets (an activity with an account dataset)', () => {
  const ACCOUNT_COUNTS = [
    'AccountsNotHealthy',
    'AccountsSendingDisabled',
    'AccountsOverReputationBounceWarning',
    'AccountsOverReputationBounceReview',
    'AccountsOverReputationComplaintWarning',
    'AccountsOverReputationComplaintReview',
  ];
  const maxAlarm = (metric: string, period = 3600, evaluationPeriods = 1) => ({
    ...sumAlarm(metric, period, evaluationPeriods),
    statistic: 'Maximum',
  });
  const accountAlarms = (template: Template) =>
    countAlarms(template).filter((a) => String(a.metric).startsWith('Accounts'));
  const withAccount = (fields: Partial<ConfigInput> = {}) =>
    sesStatsStack(
      document({ activities: [{ ...DEFAULT_ACTIVITY, accountDataset: 'accountData' }], ...fields }),
    );
  const dashboardBody = (template: Template) =>
    JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
  const accountTable = {
    title:
      'Account datasets: state, last change and AWS reputation rates (levels: bounce 5 % / 10 %, complaint 0.1 % / 0.5 %)',
    query: `SOURCE '<LOG GROUP>' | fields @timestamp, dataset, enforcementStatus, sendingEnabled, productionAccessEnabled, reviewStatus, lastChange, reputationBounceRate, reputationComplaintRate, reputationAt\n| filter message = "account"\n| sort @timestamp desc\n| dedup dataset\n| limit 1000`,
  };

  let built: ReturnType<typeof withAccount> | undefined;
  const perDataset = () => {
    built ??= withAccount();
    return built;
  };

  it('adds six alarms on the maximum of each account count over the schedule period, service dimension only, in per-dataset mode', () => {
    const { stack, template } = perDataset();

    expect(stack.node.findChild('Monitoring')).toHaveProperty('alarmMode', 'perDataset');
    expect(accountAlarms(template)).toEqual(ACCOUNT_COUNTS.map((m) => maxAlarm(m)));
    // The 6 collector alarms, 10 for the activity, 6 for the accounts.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6 + 10 + 6);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', alarmActions(stack));
  });

  it('adds the same six alarms in per-kind mode, whatever the number of accounts', () => {
    const accounts = (n: number) => fleet(20, { accountDatasets: names('account', n) });
    const few = accounts(1);
    const many = accounts(20);
    const topic = { Ref: logicalId(many.monitoring.topic) };

    expect(many.monitoring.alarmMode).toBe('perKind');
    expect(accountAlarms(many.template)).toEqual(ACCOUNT_COUNTS.map((m) => maxAlarm(m)));
    many.template.resourceCountIs('AWS::CloudWatch::Alarm', 13 + 6);
    expect(countAlarms(few.template)).toEqual(countAlarms(many.template));
    many.template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expectEveryAlarmDelivers(many.template);
  });

  it('follows a custom schedule: one period up to a day, any one of the hourly periods beyond', () => {
    const sixHours = fleet(1, { accountDatasets: ['a'], rate: Duration.hours(6) });
    const twoDays = fleet(1, { accountDatasets: ['a'], rate: Duration.days(2) });

    expect(accountAlarms(sixHours.template)).toEqual(
      ACCOUNT_COUNTS.map((m) => maxAlarm(m, 6 * 3600)),
    );
    expect(accountAlarms(twoDays.template)).toEqual(
      ACCOUNT_COUNTS.map((m) => maxAlarm(m, 3600, 48)),
    );
  });

  it('adds no account alarm or widget without an account dataset', () => {
    for (const template of [
      sesStatsStack(document()).template,
      fleet(20).template,
      fleet(20, { accountDatasets: [] }).template,
    ]) {
      expect(accountAlarms(template)).toEqual([]);
      expect(dashboardBody(template)).not.toContain('Accounts');
      expect(logWidgets(template).map((w) => w.title)).not.toContain(accountTable.title);
    }
  });

  it('says in each alarm what it counts, the configured levels and what AWS does at them', () => {
    const { template } = withAccount({
      alarms: {
        reputationBounceWarning: 0.03,
        reputationBounceReview: 0.08,
        reputationComplaintWarning: 0.0008,
        reputationComplaintReview: 0.004,
      },
    });
    const description = (metric: string) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
        (r) => r.Properties.MetricName === metric,
      )?.Properties.AlarmDescription as string;
    const where =
      'The collector\'s "account" log line of each account dataset shows its state and rates, as does the dashboard\'s account table';

    expect(description('AccountsNotHealthy')).toMatch(
      /^ses-stats: in the last 1 hour, SES accounts had an enforcement status other than HEALTHY: PROBATION .* or SHUTDOWN /,
    );
    expect(description('AccountsSendingDisabled')).toMatch(
      /^ses-stats: in the last 1 hour, SES accounts had sending disabled \(SendingEnabled false/,
    );
    expect(description('AccountsOverReputationBounceWarning')).toBe(
      `ses-stats: in the last 1 hour, SES accounts had a latest AWS reputation bounce rate (AWS/SES Reputation.BounceRate) at or above 3 %, the warning level (alarms.reputationBounceWarning; review level 8 %, alarms.reputationBounceReview): at AWS's warning level (5 %) the account may be put under review. ${where}`,
    );
    expect(description('AccountsOverReputationBounceReview')).toBe(
      `ses-stats: in the last 1 hour, SES accounts had a latest AWS reputation bounce rate (AWS/SES Reputation.BounceRate) at or above 8 %, the review level (alarms.reputationBounceReview; warning level 3 %, alarms.reputationBounceWarning): at AWS's review level (10 %) the account's sending may be paused. ${where}`,
    );
    expect(description('AccountsOverReputationComplaintWarning')).toMatch(
      /at or above 0\.08 %, the warning level \(alarms\.reputationComplaintWarning; review level 0\.4 %.*\(0\.1 %\) the account may be put under review/,
    );
    expect(description('AccountsOverReputationComplaintReview')).toMatch(
      /at or above 0\.4 %, the review level \(alarms\.reputationComplaintReview; warning level 0\.08 %.*\(0\.5 %\) the account's sending may be paused/,
    );
    for (const metric of ACCOUNT_COUNTS) {
      expect(description(metric)).toContain(where);
      expect(description(metric).length).toBeLessThanOrEqual(1024);
    }
  });

  it('graphs the six counts and lists the latest "account" line of each dataset, in both modes', () => {
    const perKind = fleet(20, { accountDatasets: ['a', 'b'] });

    for (const template of [perDataset().template, perKind.template]) {
      const body = dashboardBody(template);
      for (const metric of ACCOUNT_COUNTS)
        expect(body).toContain(`\\"SesStats\\",\\"${metric}\\",\\"service\\",\\"ses-stats\\"`);
      expect(body).toContain(
        'Accounts not healthy, with sending disabled, or at or over an AWS reputation level',
      );
      expect(logWidgets(template)).toContainEqual(accountTable);
    }
    // The per-kind table reads the collector's own log group and does not name the accounts.
    expect(dashboardBody(perKind.template)).not.toMatch(/\\"[ab]\\"/);
  });

  it.each([
    [
      'reputationBounceWarning 0',
      { reputationBounceWarning: 0 },
      /Monitoring reputationBounceWarning: received 0; expected a fraction above 0 and at most 1/,
    ],
    [
      'reputationComplaintReview 2',
      { reputationComplaintReview: 2 },
      /Monitoring reputationComplaintReview: received 2; expected a fraction above 0 and at most 1/,
    ],
    [
      'a bounce warning at the review level',
      { reputationBounceWarning: 0.08, reputationBounceReview: 0.08 },
      /Monitoring reputationBounceWarning: received 0.08; expected a warning level below the review level \(0.08\)/,
    ],
    [
      'a complaint warning above the default review level',
      { reputationComplaintWarning: 0.006 },
      /Monitoring reputationComplaintWarning: received 0.006; expected a warning level below the review level \(0.005\)/,
    ],
    [
      'an account dataset named like a statistics dataset',
      { accountDatasets: ['stats'] },
      /Monitoring datasets: received "stats" twice; every dataset name must be unique/,
    ],
  ])('rejects %s', (_case, props, message) => {
    expect(monitoring({ accountDatasets: ['account'], ...props })).toThrow(message);
  });

  it('passes cfn-lint with the account alarms and widgets (when cfn-lint is installed)', async () => {
    const json = JSON.stringify(perDataset().template.toJSON());

    expect((await cfnLintProblems({ json })) ?? []).toEqual([]);
  }, 60_000);
});
