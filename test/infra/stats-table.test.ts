import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { StatsTable } from '../../lib/stats-table.ts';
import { document, newStack, sesStatsStack } from '../support/infra.ts';

describe('StatsTable', () => {
  it('creates one on-demand table keyed by pk (S) and sk (S)', () => {
    const stack = newStack();

    new StatsTable(stack, 'StatsTable');

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: Match.absent(),
    });
  });

  it('turns on point-in-time recovery and deletion protection, and retains the table', () => {
    const stack = newStack();

    new StatsTable(stack, 'StatsTable');

    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('leaves TTL off when raw points are kept forever', () => {
    const stack = newStack();

    new StatsTable(stack, 'StatsTable');

    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: Match.absent(),
    });
  });

  it('enables TTL on expiresAt when a raw retention is set', () => {
    const stack = newStack();

    new StatsTable(stack, 'StatsTable', { rawRetention: Duration.days(30) });

    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('rejects a raw retention under 30 days', () => {
    const stack = newStack();

    expect(() => new StatsTable(stack, 'StatsTable', { rawRetention: Duration.days(29) })).toThrow(
      /StatsTable rawRetention: received 29 days; expected whole days from 30 \(raw points must outlive SES's 14-day window\) to 36500 \(100 years\)/,
    );
  });

  it('rejects a raw retention over 36,500 days and accepts exactly that', () => {
    const stack = newStack();

    expect(() => new StatsTable(stack, 'Over', { rawRetention: Duration.days(36_501) })).toThrow(
      /StatsTable rawRetention: received 36501 days; expected whole days from 30 .* to 36500/,
    );
    expect(
      () => new StatsTable(stack, 'AtMost', { rawRetention: Duration.days(36_500) }),
    ).not.toThrow();
  });

  it('refuses a rawRetentionDays of 2e11 at synth, naming the field and the limit', () => {
    expect(() => sesStatsStack(document({ rawRetentionDays: 2e11 }))).toThrow(
      /rawRetentionDays: received 200000000000; expected whole days from 30 to 36500 \(100 years\)/,
    );
  });

  it('rejects a raw retention that is not whole days', () => {
    const stack = newStack();

    expect(
      () => new StatsTable(stack, 'StatsTable', { rawRetention: Duration.hours(800) }),
    ).toThrow(/received 33 days 8 hours; expected whole days/);
  });

  it('keeps the table logical id that deployed tables carry (a contract)', () => {
    const { template } = sesStatsStack(document());

    expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toEqual([
      'StatsTable2147D230',
    ]);
  });

  it('enables TTL in the stack only when rawRetentionDays is configured', () => {
    const without = sesStatsStack(document()).template;
    const withTtl = sesStatsStack(document({ rawRetentionDays: 90 })).template;

    without.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: Match.absent(),
    });
    withTtl.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });
});
