import { readFileSync } from 'node:fs';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  CLOUDWATCH,
  deliveryProblems,
  expectEveryAlarmDelivers,
  REGION,
} from '../support/alarm-delivery.ts';
import { document, EXAMPLE_CONFIG, newApp, sesStatsStack } from '../support/infra.ts';

/** What the stack had before: a topic whose policy holds only enforceSSL's Deny. */
function unreachableTopicStack(allowPublish: PolicyStatement | undefined): Template {
  const stack = new Stack(newApp(), 'Old');
  const key = new Key(stack, 'Key');
  key.addToResourcePolicy(
    new PolicyStatement({
      principals: [new ServicePrincipal(CLOUDWATCH)],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
    }),
  );
  const topic = new Topic(stack, 'Topic', { masterKey: key, enforceSSL: true });
  if (allowPublish !== undefined) topic.addToResourcePolicy(allowPublish);
  const alarm = new Alarm(stack, 'Alarm', {
    metric: new Metric({ namespace: 'N', metricName: 'M', period: Duration.minutes(5) }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  alarm.addAlarmAction(new SnsAction(topic));
  return Template.fromStack(stack);
}

describe('alarm delivery', () => {
  it('lets every alarm of the default stack publish to its topic and use its key', () => {
    expectEveryAlarmDelivers(sesStatsStack(document()).template);
  });

  it('lets every alarm of the example stack publish, deployed to a given account and region', () => {
    const input = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));

    const { template } = sesStatsStack(input, { env: { account: ACCOUNT, region: REGION } });

    expectEveryAlarmDelivers(template);
  });

  it('finds a topic whose policy holds only the TLS Deny undeliverable (the check is live)', () => {
    const delivery = deliveryProblems(unreachableTopicStack(undefined));

    expect(delivery.actions).toBe(1);
    expect(delivery.problems).toEqual([
      expect.stringMatching(
        /^Alarm[0-9A-F]+ → arn:aws:sns:eu-west-1:123456789012:Topic[0-9A-F]+: sns:Publish no statement allows it$/,
      ),
      // The old key statement had no conditions: any account's alarm could use the key.
      expect.stringMatching(
        /kms:GenerateDataKey on Key[0-9A-F]+ is allowed for another account's alarms too$/,
      ),
      expect.stringMatching(
        /kms:Decrypt on Key[0-9A-F]+ is allowed for another account's alarms too$/,
      ),
    ]);
  });

  it('finds an Allow without the source conditions too broad, and a matching Deny fatal', () => {
    const unconditioned = deliveryProblems(
      unreachableTopicStack(
        new PolicyStatement({
          principals: [new ServicePrincipal(CLOUDWATCH)],
          actions: ['sns:Publish'],
          resources: ['*'],
        }),
      ),
    );
    const denied = deliveryProblems(
      unreachableTopicStack(
        new PolicyStatement({
          effect: Effect.DENY,
          principals: [new ServicePrincipal(CLOUDWATCH)],
          actions: ['sns:*'],
          resources: ['*'],
        }),
      ),
    );

    expect(unconditioned.problems).toContainEqual(
      expect.stringMatching(/sns:Publish is allowed for another account's alarms too$/),
    );
    expect(denied.problems).toContainEqual(expect.stringMatching(/sns:Publish denied by /));
  });
});
