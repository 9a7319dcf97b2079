import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, type Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lambda/config/schema.ts';
import { Collector, type CollectorProps } from '../../lib/collector.ts';
import { ConfigError } from '../../lib/deployment-config.ts';
import {
  config,
  DEFAULT_SESSION,
  document,
  logicalId,
  newStack,
  sesStatsStack,
} from '../support/infra.ts';

function collector(
  props: Partial<CollectorProps> = {},
  configDocument?: ConfigInput,
): { stack: Stack; collector: Collector; template: Template } {
  const stack = newStack();
  const table = new Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: AttributeType.STRING },
  });
  const created = new Collector(stack, 'Collector', {
    table,
    ...(configDocument === undefined ? {} : { config: config(configDocument) }),
    ...props,
  });
  return { stack, collector: created, template: Template.fromStack(stack) };
}

const build = (props: Partial<CollectorProps>) => () => collector(props);

describe('Collector', () => {
  describe('function', () => {
    it('runs Node.js 24 on ARM64 with explicit memory and timeout', () => {
      const { template } = collector();

      template.resourceCountIs('AWS::Lambda::Function', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 300,
        Handler: 'index.handler',
      });
    });

    it('takes memory, timeout and log retention from props', () => {
      const { template } = collector({
        memorySize: 512,
        timeout: Duration.minutes(10),
        logRetention: RetentionDays.ONE_YEAR,
      });

      template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 600 });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    it('logs to its own log group with a retention', () => {
      const { collector: created, template } = collector();

      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogGroup: { Ref: logicalId(created.logGroup) } },
      });
    });

    it('reserves a concurrency of 1 so runs never overlap', () => {
      const { template } = collector();

      template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 });
    });

    it('sends a failed run to the dead-letter queue without retrying it: the next run is the retry', () => {
      const { collector: created, template } = collector();

      template.hasResourceProperties('AWS::Lambda::Function', {
        DeadLetterConfig: {
          TargetArn: { 'Fn::GetAtt': [logicalId(created.deadLetterQueue), 'Arn'] },
        },
      });
      template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(created.collectorFunction) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 3600,
      });
    });

    it('keeps a queued asynchronous run no longer than one schedule period', () => {
      const { template } = collector({}, document({ scheduleMinutes: 10 }));

      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 600,
      });
    });

    it('passes the table name and source maps in its environment, never the config', () => {
      const { stack, template } = collector();

      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            SES_STATS_TABLE_NAME: { Ref: logicalId(stack.node.findChild('Table')) },
            SES_STATS_SCHEDULE_MINUTES: '60',
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'ses-stats',
            POWERTOOLS_METRICS_NAMESPACE: 'SesStats',
          },
        },
      });
    });

    it('writes the config document where the bundling copies it into the asset', () => {
      const input = document({ scheduleMinutes: 15 });
      const { stack } = collector({}, input);

      const file = join(
        stack.node.root instanceof Stage ? (stack.node.root.outdir ?? '') : '',
        'ses-stats-config',
      );
      const written = readdirSync(file).map((f) => readFileSync(join(file, f), 'utf8'));
      expect(written).toContain(JSON.stringify(input));
    });

    it('tells the function its schedule rate when the construct is given one', () => {
      const { template } = collector({ rate: Duration.hours(6) });

      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ SES_STATS_SCHEDULE_MINUTES: '360' }) },
      });
    });

    it('merges the caller environment with its own', () => {
      const { template } = collector({ environment: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } });

      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_LOG_LEVEL: 'DEBUG',
            SES_STATS_TABLE_NAME: Match.anyValue(),
          }),
        },
      });
    });

    it.each([
      'SES_STATS_TABLE_NAME',
      'SES_STATS_CONFIG_FILE',
      'SES_STATS_BATCH_QUEUE_URL',
      'SES_STATS_SCHEDULE_MINUTES',
    ])('rejects a caller environment that overrides %s', (name) => {
      expect(build({ environment: { [name]: 'x' } })).toThrow(
        new RegExp(
          `Collector environment: received ${name}; these variables are set by the collector itself`,
        ),
      );
    });

    it('takes a config far beyond the 4 KB environment: it travels in the asset', () => {
      const activities = Array.from({ length: 600 }, (_, i) => ({
        session: DEFAULT_SESSION,
        usageDataset: `usage-dataset-number-${i}`,
        statisticsDataset: `statistics-dataset-number-${i}`,
      }));

      const { template } = collector({}, document({ activities, batchSize: 1000 }));

      template.resourceCountIs('AWS::Lambda::Function', 1);
    });

    it.each([
      [
        'memorySize 64',
        { memorySize: 64 },
        /Collector memorySize: received 64; expected an integer number of MB from 128 to 10240/,
      ],
      ['memorySize 256.5', { memorySize: 256.5 }, /Collector memorySize: received 256.5;/],
      [
        'timeout 16 minutes',
        { timeout: Duration.minutes(16) },
        /Collector timeout: received 16 minutes; expected from 1 second to 15 minutes/,
      ],
      [
        'timeout 500 ms',
        { timeout: Duration.millis(500) },
        /Collector timeout: received 500 millis; expected from 1 second/,
      ],
    ])('rejects %s', (_case, props, message) => {
      expect(build(props)).toThrow(message);
    });
  });

  describe('schedule', () => {
    it('runs hourly by default, through EventBridge Scheduler', () => {
      const { template } = collector();

      template.resourceCountIs('AWS::Scheduler::Schedule', 1);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 hour)',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
      });
    });

    it('follows scheduleMinutes of the config', () => {
      const { template } = collector({}, document({ scheduleMinutes: 30 }));

      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(30 minutes)',
      });
    });

    it('takes a schedule prop over the config', () => {
      const { collector: created, template } = collector(
        { rate: Duration.days(7) },
        document({ scheduleMinutes: 30 }),
      );

      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(7 days)',
      });
      expect(created.rate.toMinutes()).toBe(10080);
    });

    it('invokes the function with an explicit retry policy and the dead-letter queue', () => {
      const { collector: created, template } = collector();

      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(created.collectorFunction), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [logicalId(created.schedulerRole), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalId(created.deadLetterQueue), 'Arn'] },
          },
        },
      });
    });

    it('keeps an undeliverable invocation no longer than one schedule period', () => {
      const { template } = collector({}, document({ scheduleMinutes: 10 }));

      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
        }),
      });
    });

    it('takes the retry policy from props', () => {
      const { template } = collector({ retryAttempts: 0, maxEventAge: Duration.minutes(2) });

      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 120 },
        }),
      });
    });

    it('lets only EventBridge Scheduler of this account assume its role', () => {
      const { collector: created, template } = collector();

      template.hasResource('AWS::IAM::Role', {
        Properties: Match.objectLike({
          AssumeRolePolicyDocument: Match.objectLike({
            Statement: [
              {
                Action: 'sts:AssumeRole',
                Effect: 'Allow',
                Principal: { Service: 'scheduler.amazonaws.com' },
                Condition: {
                  StringEquals: {
                    'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                    'aws:SourceArn': Match.anyValue(),
                  },
                },
              },
            ],
          }),
        }),
      });
      expect(logicalId(created.schedulerRole)).toMatch(/^CollectorSchedulerRole/);
    });

    it.each([
      [
        '4 minutes',
        Duration.minutes(4),
        /Collector rate: received 4 minutes; expected whole minutes from 5 to 10080 \(7 days\)/,
      ],
      [
        '10081 minutes',
        Duration.minutes(10081),
        /Collector rate: received 10081 minutes; expected/,
      ],
      [
        '330 seconds',
        Duration.seconds(330),
        /Collector rate: received 5.5 minutes; expected whole minutes/,
      ],
    ])('rejects a rate of %s', (_case, rate, message) => {
      expect(build({ rate })).toThrow(message);
    });

    it('accepts the bounds of the rate, 5 minutes and 7 days', () => {
      expect(() => collector({ rate: Duration.minutes(5) })).not.toThrow();
      expect(() => collector({ rate: Duration.minutes(10080) })).not.toThrow();
    });

    it.each([
      [
        'retryAttempts 186',
        { retryAttempts: 186 },
        /Collector retryAttempts: received 186; expected an integer from 0 to 185/,
      ],
      ['retryAttempts -1', { retryAttempts: -1 }, /Collector retryAttempts: received -1;/],
      [
        'maxEventAge 59 seconds',
        { maxEventAge: Duration.seconds(59) },
        /Collector maxEventAge: received 59 seconds; expected from 1 minute to 1 day/,
      ],
      [
        'maxEventAge 25 hours',
        { maxEventAge: Duration.hours(25) },
        /Collector maxEventAge: received 1 day 1 hour;/,
      ],
    ])('rejects %s', (_case, props, message) => {
      expect(build(props)).toThrow(message);
    });
  });

  describe('time budget', () => {
    const session = (maxErrorRetry: number, timeoutSeconds: number) => ({
      maxErrorRetry,
      timeoutSeconds,
    });
    const problems = (run: () => unknown): readonly string[] => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).lines;
      }
      return [];
    };

    it('rejects a source whose worst case cannot fit the function timeout, naming the numbers', () => {
      const input: ConfigInput = {
        sessions: { slow: session(10, 300), fast: {} },
        activities: [
          { session: 'slow', usageDataset: 'u1', statisticsDataset: 's1' },
          { session: 'fast', usageDataset: 'u2', statisticsDataset: 's2' },
          { name: 'again', session: 'slow', usageDataset: 'u3', statisticsDataset: 's3' },
          { connection: session(2, 120), usageDataset: 'u4', statisticsDataset: 's4' },
        ],
      };

      expect(problems(() => collector({}, input))).toEqual([
        // 11 × 300 s + 131 s backoff + 1 s pacing + 30 s store margin.
        'sessions.slow: for activity "s1", "again", maxErrorRetry 10 and timeoutSeconds 300 make a worst case of 3462 s for one source (every attempt timing out, backoff, pacing and a 30 s store margin), longer than the collector function\'s timeout of 300 s; lower maxErrorRetry or timeoutSeconds, or raise the timeout',
        // 3 × 120 s + 3 s backoff + 1 s + 30 s.
        'activities[3].connection: for activity "s4", maxErrorRetry 2 and timeoutSeconds 120 make a worst case of 394 s for one source (every attempt timing out, backoff, pacing and a 30 s store margin), longer than the collector function\'s timeout of 300 s; lower maxErrorRetry or timeoutSeconds, or raise the timeout',
      ]);
    });

    it('accepts a worst case of exactly the timeout and refuses one second more', () => {
      // 1 × 269 s + 1 s pacing + 30 s store margin = 300 s.
      const fits = document({ sessions: { [DEFAULT_SESSION]: session(0, 269) } });
      const over = document({ sessions: { [DEFAULT_SESSION]: session(0, 270) } });

      expect(problems(() => collector({}, fits))).toEqual([]);
      expect(problems(() => collector({}, over))).toEqual([
        expect.stringMatching(
          /^sessions.SESSession1: for activity "statsData", maxErrorRetry 0 and timeoutSeconds 270 make a worst case of 301 s .* timeout of 300 s;/,
        ),
      ]);
    });

    it('measures against the timeout prop', () => {
      // 2 × 300 s + 1 s backoff + 1 s + 30 s = 632 s.
      const input = document({ sessions: { [DEFAULT_SESSION]: session(1, 300) } });

      expect(problems(() => collector({ timeout: Duration.minutes(15) }, input))).toEqual([]);
      expect(problems(() => collector({ timeout: Duration.minutes(10) }, input))).toEqual([
        expect.stringContaining(
          "worst case of 632 s for one source (every attempt timing out, backoff, pacing and a 30 s store margin), longer than the collector function's timeout of 600 s",
        ),
      ]);
    });

    it('is what the stack refuses at synth', () => {
      const input = document({ sessions: { [DEFAULT_SESSION]: session(10, 300) } });

      expect(() => sesStatsStack(input)).toThrow(
        /sessions.SESSession1: for activity "statsData", maxErrorRetry 10 and timeoutSeconds 300 make a worst case of 3462 s/,
      );
    });
  });

  describe('dead-letter queue', () => {
    it('is encrypted with SQS-managed keys and refuses requests without TLS', () => {
      const { collector: created, template } = collector();

      template.resourceCountIs('AWS::SQS::Queue', 1);
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(created.deadLetterQueue) }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        },
      });
    });
  });

  describe('fan-out', () => {
    const many = (count: number, extra: Partial<ConfigInput> = {}) =>
      document({
        activities: Array.from({ length: count }, (_, i) => ({
          session: DEFAULT_SESSION,
          usageDataset: `u${i}`,
          statisticsDataset: `s${i}`,
        })),
        ...extra,
      });

    it('has no queue while one invocation takes every source', () => {
      const { collector: created, template } = collector({}, many(50));

      expect(created.batchQueue).toBeUndefined();
      template.resourceCountIs('AWS::SQS::Queue', 1);
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
      template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 });
    });

    it('hands batches to an encrypted FIFO queue consumed with bounded concurrency above batchSize', () => {
      const { collector: created, template } = collector({}, many(51, { fanOutConcurrency: 7 }));

      expect(created.batchQueue).toBeDefined();
      template.resourceCountIs('AWS::SQS::Queue', 3);
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 1800,
        MessageRetentionPeriod: 86400,
        RedrivePolicy: {
          deadLetterTargetArn: {
            'Fn::GetAtt': [logicalId(created.batchDeadLetterQueue as IConstruct), 'Arn'],
          },
          maxReceiveCount: 3,
        },
      });
      // A FIFO queue's dead-letter queue is FIFO too.
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
        RedrivePolicy: Match.absent(),
      });
      // At most 10 messages (identities and regions) per invocation from a FIFO queue.
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: Match.absent(),
        ScalingConfig: { MaximumConcurrency: 7 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      // One scheduled run plus the batch invocations.
      template.hasResourceProperties('AWS::Lambda::Function', {
        ReservedConcurrentExecutions: 8,
        Environment: {
          Variables: Match.objectLike({
            SES_STATS_BATCH_QUEUE_URL: { Ref: logicalId(created.batchQueue as IConstruct) },
          }),
        },
      });
    });

    it('takes fewer than 10 messages per invocation when batchSize is smaller', () => {
      const { template } = collector({}, many(5, { batchSize: 4 }));

      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 4 });
    });

    it('lets the function send to the batch queue and consume it, nothing more', () => {
      const { collector: created, template } = collector({}, many(51));
      const queueArn = { 'Fn::GetAtt': [logicalId(created.batchQueue as IConstruct), 'Arn'] };

      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (p) =>
          p.Properties.PolicyDocument.Statement as {
            Action: string | string[];
            Resource: unknown;
          }[],
      );
      const onQueue = statements.filter(
        (st) => JSON.stringify(st.Resource) === JSON.stringify(queueArn),
      );
      expect(onQueue.flatMap((st) => [st.Action].flat()).sort()).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ]);
    });
  });
});
