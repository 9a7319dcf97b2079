import { readFileSync } from 'node:fs';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Monitoring, type MonitoringProps } from '../../lib/monitoring.ts';
import type { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import {
  document,
  EXAMPLE_CONFIG,
  logicalId,
  newStack,
  sesStatsStack,
  THIS_ACCOUNTS_ALARMS,
} from '../support/infra.ts';

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
      const activities = names.map((name, i) => ({
        session: 'SESSession1',
        ...(i % 2 === 0
          ? { statisticsDataset: name, usageDataset: `usage${i}` }
          : { statisticsDataset: `stats${i}`, usageDataset: name }),
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
});
