import { readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Monitoring, type MonitoringProps } from '../../lib/monitoring.ts';
import type { SesStatsStack } from '../../lib/ses-stats-stack.ts';
import { document, EXAMPLE_CONFIG, logicalId, newStack, sesStatsStack } from './support.ts';

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
      deadLetterQueue: new Queue(stack, 'Dlq'),
      schedule: Duration.hours(1),
      statisticsDatasets: ['stats'],
      usageDatasets: ['usage'],
      ...props,
    });
  };
}

describe('Monitoring', () => {
  describe('topic', () => {
    it('encrypts the alarm topic with a rotating key that CloudWatch may use', () => {
      const { stack, template } = sesStatsStack(document());

      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringTopicKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Resource: '*',
            },
          ]),
        },
      });
      expect(stack.topic.masterKey).toBeDefined();
    });

    it('refuses publishing without TLS', () => {
      const { stack, template } = sesStatsStack(document());

      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: logicalId(stack.topic) }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
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
      const { template } = sesStatsStack(document());

      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });
  });

  describe('alarms', () => {
    it('creates the collector, dead-letter and per-dataset alarms, all notifying the topic', () => {
      const input = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
      const { stack, template } = sesStatsStack(input);

      // errors + dead letters, then per activity: staleness, bounce, complaint, quota.
      template.resourceCountIs('AWS::CloudWatch::Alarm', 2 + 3 * 4);
      template.allResourcesProperties('AWS::CloudWatch::Alarm', alarmActions(stack));
    });

    it('alarms on any collector error within a schedule period', () => {
      const { stack, template } = sesStatsStack(document());

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

    it('alarms when the dead-letter queue is not empty', () => {
      const { stack, template } = sesStatsStack(document());
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
      const { template } = sesStatsStack(document());

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

    it('follows a custom schedule in the staleness and rate alarms', () => {
      const { template } = sesStatsStack(document({ scheduleMinutes: 15 }));

      expectAlarm(template, {
        MetricName: 'CollectionSucceeded',
        Period: 1800,
        EvaluationPeriods: 1,
      });
      expectAlarm(template, { MetricName: 'BounceRate', Period: 900, EvaluationPeriods: 1 });
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
      expectAlarm(template, {
        MetricName: 'BounceRate',
        Period: 3600,
        EvaluationPeriods: 168,
        DatapointsToAlarm: 1,
      });
      Annotations.fromStack(stack).hasWarning(
        '/SesStats/Monitoring/statsData',
        Match.stringLikeRegexp('looks back 7 days'),
      );
    });

    it('alarms at the AWS review thresholds by default', () => {
      const { template } = sesStatsStack(document());

      for (const [metric, threshold] of [
        ['BounceRate', 0.05],
        ['ComplaintRate', 0.001],
      ] as const)
        expectAlarm(template, {
          Namespace: 'SesStats',
          MetricName: metric,
          Dimensions: datasetDimensions('statsData'),
          Statistic: 'Maximum',
          Threshold: threshold,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        });
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
        expectAlarm(template, {
          MetricName: 'BounceRate',
          Dimensions: datasetDimensions(dataset),
          Threshold: 0.04,
        });
        expectAlarm(template, {
          MetricName: 'ComplaintRate',
          Dimensions: datasetDimensions(dataset),
          Threshold: 0.0008,
        });
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

  describe('dashboard', () => {
    it('plots each dataset, the rates with their thresholds, the quota and the collector', () => {
      const { template } = sesStatsStack(document());

      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
      for (const metric of [
        'DeliveryAttempts',
        'Bounces',
        'Complaints',
        'Rejects',
        'BounceRate',
        'ComplaintRate',
        'QuotaUtilisation',
        'Invocations',
        'Errors',
        'Duration',
      ])
        expect(body).toContain(`\\"${metric}\\"`);
      expect(body).toContain('statsData: window rates');
      expect(body).toContain('usageData: quota utilisation');
      expect(body).toMatch(/\\"value\\":0\.05,\\"label\\":\\"bounce alarm\\"/);
      expect(body).toMatch(/\\"value\\":0\.001,\\"label\\":\\"complaint alarm\\"/);
      expect(body).toMatch(/\\"value\\":0\.8,\\"label\\":\\"alarm\\"/);
    });

    it('is exposed by the stack', () => {
      const { stack } = sesStatsStack(document());

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
        'a schedule under a minute',
        { schedule: Duration.seconds(30) },
        /Monitoring schedule: received 30 seconds; expected at least 1 minute/,
      ],
    ])('rejects %s', (_case, props, message) => {
      expect(monitoring(props)).toThrow(message);
    });

    it('accepts thresholds of exactly 1', () => {
      expect(
        monitoring({
          bounceRateThreshold: 1,
          complaintRateThreshold: 1,
          quotaUtilisationThreshold: 1,
        }),
      ).not.toThrow();
    });
  });
});
