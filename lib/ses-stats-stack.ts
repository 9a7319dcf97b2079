import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Collector } from './collector.ts';
import { DeploymentConfig } from './deployment-config.ts';
import { Monitoring } from './monitoring.ts';
import { ReadApi } from './read-api.ts';
import { StatsTable } from './stats-table.ts';

export interface SesStatsStackProps extends StackProps {
  /**
   * The validated configuration: sources, schedule, raw-point retention, alarm thresholds, the
   * read API and its CORS origins.
   *
   * @default - the embedded default configuration
   */
  readonly config?: DeploymentConfig;
}

/** ses-stats: the scheduled collector, its table, its alarms and dashboard, and the read API. */
export class SesStatsStack extends Stack {
  /** The table holding every dataset (retained when the stack is deleted). */
  readonly table: Table;
  /** The collector's Lambda function. */
  readonly collectorFunction: NodejsFunction;
  /** The SNS topic every alarm notifies. */
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  /** The read API (IAM auth), absent when the config says `"api": false`. */
  readonly readApi?: ReadApi;

  constructor(scope: Construct, id: string, props: SesStatsStackProps = {}) {
    super(scope, id, {
      description: 'ses-stats: durable history of Amazon SES sending statistics and quota usage',
      ...props,
    });
    const config = props.config ?? DeploymentConfig.default();
    const { settings } = config;

    // Construct ids below are a contract: renaming one replaces its resources.
    const statsTable = new StatsTable(this, 'StatsTable', {
      ...(settings.rawRetentionDays === undefined
        ? {}
        : { rawRetention: Duration.days(settings.rawRetentionDays) }),
    });
    this.table = statsTable.table;

    const collector = new Collector(this, 'Collector', { table: this.table, config });
    this.collectorFunction = collector.collectorFunction;

    const monitoring = new Monitoring(this, 'Monitoring', {
      collectorFunction: this.collectorFunction,
      collectorTimeout: collector.timeout,
      deadLetterQueue: collector.deadLetterQueue,
      ...(collector.batchQueue === undefined || collector.batchDeadLetterQueue === undefined
        ? {}
        : {
            batchQueue: collector.batchQueue,
            batchDeadLetterQueue: collector.batchDeadLetterQueue,
          }),
      rate: collector.rate,
      statisticsDatasets: settings.activities.map((a) => a.statisticsDataset),
      usageDatasets: settings.activities.map((a) => a.usageDataset),
      accountDatasets: settings.activities.flatMap((a) =>
        a.accountDataset === undefined ? [] : [a.accountDataset],
      ),
      bounceRateThreshold: settings.alarms.bounceRate,
      bounceRateWarningThreshold: settings.alarms.bounceRateWarning,
      complaintRateThreshold: settings.alarms.complaintRate,
      complaintRateWarningThreshold: settings.alarms.complaintRateWarning,
      minDeliveryAttempts: settings.alarms.minDeliveryAttempts,
      quotaUtilisationThreshold: settings.alarms.quotaUtilisation,
      reputationBounceWarning: settings.alarms.reputationBounceWarning,
      reputationBounceReview: settings.alarms.reputationBounceReview,
      reputationComplaintWarning: settings.alarms.reputationComplaintWarning,
      reputationComplaintReview: settings.alarms.reputationComplaintReview,
      ...(settings.alarms.email === undefined ? {} : { alarmEmail: settings.alarms.email }),
    });
    this.topic = monitoring.topic;
    this.dashboard = monitoring.dashboard;

    if (settings.api)
      this.readApi = new ReadApi(this, 'ReadApi', {
        table: this.table,
        ...(settings.apiCorsOrigins === undefined ? {} : { corsOrigins: settings.apiCorsOrigins }),
      });

    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'DynamoDB table holding every dataset (retained on stack deletion)',
    });
    new CfnOutput(this, 'CollectorFunctionName', {
      value: this.collectorFunction.functionName,
      description: 'Collector Lambda function (invoke it to collect now)',
    });
    new CfnOutput(this, 'CollectorRoleArn', {
      value: collector.role.roleArn,
      description: 'Role the collector runs as: trust it from cross-account assumeRole roles',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.topic.topicArn,
      description: 'SNS topic receiving every ses-stats alarm',
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboardName,
      description: 'CloudWatch dashboard of the datasets, rates and quota',
    });
    if (this.readApi !== undefined)
      new CfnOutput(this, 'ApiUrl', {
        value: this.readApi.url,
        description:
          'Read API invoke URL (IAM auth: sign requests with SigV4, service execute-api)',
      });
  }
}
