import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { Collector } from '../../lib/collector.ts';
import { ConfigError, DeploymentConfig, loadConfig } from '../../lib/deployment-config.ts';
import { defineSesStatsApp } from '../../lib/ses-stats-app.ts';
import { environmentFromContext } from '../../lib/stack-environment.ts';
import {
  actionsOf,
  DEFAULT_SESSION,
  document,
  EXAMPLE_CONFIG,
  identityStatements,
  logicalId,
  newApp,
  sesStatsStack,
} from '../support/infra.ts';

function configFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ses-stats-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
}

describe('SesStatsStack', () => {
  it('outputs the table name, function name, collector role ARN, topic ARN and dashboard name', () => {
    const { stack, template } = sesStatsStack(document());

    template.hasOutput('TableName', { Value: { Ref: logicalId(stack.table) } });
    template.hasOutput('CollectorFunctionName', {
      Value: { Ref: logicalId(stack.collectorFunction) },
    });
    template.hasOutput('CollectorRoleArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CollectorRole'), 'Arn'] },
    });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(stack.topic) } });
    template.hasOutput('DashboardName', { Value: { Ref: logicalId(stack.dashboard) } });
  });

  it('is environment-agnostic without account and region context', () => {
    const { stack } = sesStatsStack(document());

    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('SesStatsStack with more sources than one invocation takes', () => {
  const fanOut = () =>
    sesStatsStack(
      document({
        batchSize: 2,
        activities: [1, 2, 3].map((i) => ({
          session: DEFAULT_SESSION,
          usageDataset: `u${i}`,
          statisticsDataset: `s${i}`,
        })),
      }),
    );

  it('lets only the collector role send to and consume the batch queue, and no one use its dead-letter queue', () => {
    const { stack, template } = fanOut();
    const collector = stack.node.findChild('Collector');
    const queue = logicalId(collector.node.findChild('BatchQueue'));
    const deadLetters = logicalId(collector.node.findChild('BatchDeadLetterQueue'));
    const names = (statement: { Resource: unknown }) => JSON.stringify(statement.Resource);

    const onQueue = identityStatements(template).filter((st) => names(st).includes(queue));
    const onDeadLetters = identityStatements(template).filter((st) =>
      names(st).includes(deadLetters),
    );

    expect(onQueue.flatMap(actionsOf).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    expect(onDeadLetters).toEqual([]);
    // Every policy naming the batch queue belongs to the collector's role, and only to it.
    const holders = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(queue))
      .map((p) => p.Properties.Roles);
    expect(holders).toEqual([[{ Ref: logicalId((collector as Collector).role) }]]);
    // The queue policies only refuse requests without TLS; they grant nothing.
    for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy')))
      for (const statement of policy.Properties.PolicyDocument.Statement)
        expect(statement.Effect).toBe('Deny');
  });

  it('alarms on a batch left over a schedule period and on any dead-lettered batch, to the topic', () => {
    const { stack, template } = fanOut();
    const collector = stack.node.findChild('Collector');
    const queueName = (id: string) => ({
      'Fn::GetAtt': [logicalId(collector.node.findChild(id)), 'QueueName'],
    });
    const topic = [{ Ref: logicalId(stack.topic) }];

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName('BatchQueue') }],
      Threshold: 3600,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: topic,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName('BatchDeadLetterQueue') }],
      Threshold: 1,
      AlarmActions: topic,
    });
  });

  it('makes the batch queue a high-throughput FIFO queue: each message group paced on its own', () => {
    const { template } = fanOut();

    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
  });
});

describe('defineSesStatsApp', () => {
  it('builds the stack from the default config when no config is given', () => {
    const app = newApp();

    const stack = defineSesStatsApp(app);

    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
    });
    expect(stack.stackName).toBe('SesStats');
  });

  it('gives the default config its account dataset: the two account actions on "*" and the six account alarms', () => {
    const template = Template.fromStack(defineSesStatsApp(newApp()));

    const star = identityStatements(template).filter(
      (s) => s.Resource === '*' && actionsOf(s).includes('ses:GetAccount'),
    );
    expect(star.map((s) => [...actionsOf(s)].sort())).toEqual([
      ['cloudwatch:GetMetricData', 'ses:GetAccount', 'ses:GetSendQuota', 'ses:GetSendStatistics'],
    ]);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.MetricName,
    );
    expect(alarms.filter((m) => typeof m === 'string' && m.startsWith('Accounts')).sort()).toEqual([
      'AccountsNotHealthy',
      'AccountsOverReputationBounceReview',
      'AccountsOverReputationBounceWarning',
      'AccountsOverReputationComplaintReview',
      'AccountsOverReputationComplaintWarning',
      'AccountsSendingDisabled',
    ]);
  });

  it('reads the config file named by -c config', () => {
    const app = newApp({ config: EXAMPLE_CONFIG });

    const stack = defineSesStatsApp(app);

    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
    });
  });

  it('deploys to the account and region given as context', () => {
    const app = newApp({ account: '123456789012', region: 'eu-central-1' });

    const stack = defineSesStatsApp(app);

    expect(stack.environment).toBe('aws://123456789012/eu-central-1');
  });

  it('rejects a config file with a bad field, naming the field and the value', () => {
    const path = configFile(JSON.stringify(document({ scheduleMinutes: 2 })));
    const app = newApp({ config: path });

    expect(() => defineSesStatsApp(app)).toThrow(
      /scheduleMinutes: received 2; expected whole minutes from 5 to 10080/,
    );
  });
});

describe('loadConfig', () => {
  it('returns the embedded default without -c config', () => {
    const config = loadConfig(newApp());

    expect(config.settings.scheduleMinutes).toBe(60);
    expect(config.settings.activities.map((a) => [a.usageDataset, a.statisticsDataset])).toEqual([
      ['usageData', 'statsData'],
    ]);
    expect(config.toJson()).toBe(DeploymentConfig.default().toJson());
  });

  it('rejects a missing file, naming it', () => {
    expect(() => loadConfig(newApp({ config: '/nonexistent/ses-stats.json' }))).toThrow(
      /\/nonexistent\/ses-stats.json: cannot read the file \(not found\)/,
    );
  });

  it('rejects a file that is not JSON, naming it', () => {
    const path = configFile('{ "activities": ');

    expect(() => loadConfig(newApp({ config: path }))).toThrow(ConfigError);
    expect(() => loadConfig(newApp({ config: path }))).toThrow(/config.json: not valid JSON/);
  });

  it('rejects an empty -c config', () => {
    expect(() => loadConfig(newApp({ config: ' ' }))).toThrow(
      /-c config: received " "; expected the path of a JSON config file/,
    );
  });
});

describe('environmentFromContext', () => {
  it('returns no account or region without context', () => {
    expect(environmentFromContext(newApp())).toEqual({});
  });

  it('accepts a region alone', () => {
    expect(environmentFromContext(newApp({ region: 'us-west-2' }))).toEqual({
      region: 'us-west-2',
    });
  });

  it.each([
    ['account', { account: '1234' }, /-c account: received "1234"; expected a 12-digit account id/],
    [
      'region',
      { region: 'mars' },
      /-c region: received "mars"; expected a region such as us-east-1/,
    ],
  ])('rejects a bad %s', (_case, context, message) => {
    expect(() => environmentFromContext(newApp(context))).toThrow(message);
  });

  it('is what the stack gets', () => {
    const stack = new Stack(newApp(), 'S', {
      env: environmentFromContext(newApp({ region: 'eu-west-1' })),
    });

    expect(stack.region).toBe('eu-west-1');
  });
});
