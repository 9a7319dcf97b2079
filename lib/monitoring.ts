import { Annotations, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../lambda/constants.ts';
import { alarmWindow } from './alarm-window.ts';
import { COUNT_METRICS, datasetMetric } from './collector-metrics.ts';

/** AWS puts an account under review at these window rates. */
const DEFAULT_BOUNCE_RATE = 0.05;
const DEFAULT_COMPLAINT_RATE = 0.001;
const DEFAULT_QUOTA_UTILISATION = 0.8;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_GRAPH_PERIOD = Duration.days(1);

export interface MonitoringProps {
  /** The collector function whose errors and runs are watched. */
  readonly collectorFunction: IFunction;
  /** The collector's dead-letter queue: any message in it is a run that never happened. */
  readonly deadLetterQueue: IQueue;
  /** How often the collector runs; a dataset is stale after twice this long without a success. */
  readonly schedule: Duration;
  /** Statistics datasets: staleness, bounce and complaint rate alarms, and their graphs. */
  readonly statisticsDatasets: readonly string[];
  /** Usage datasets: quota utilisation alarm and graph. */
  readonly usageDatasets: readonly string[];
  /**
   * Window bounce rate (fraction) at which to alarm.
   *
   * @default 0.05 - AWS reviews an account at 5 %
   */
  readonly bounceRateThreshold?: number;
  /**
   * Window complaint rate (fraction) at which to alarm.
   *
   * @default 0.001 - AWS reviews an account at 0.1 %
   */
  readonly complaintRateThreshold?: number;
  /**
   * Quota utilisation (SentLast24Hours / Max24HourSend) at which to alarm.
   * An unlimited quota never emits the metric, so it never alarms.
   *
   * @default 0.8
   */
  readonly quotaUtilisationThreshold?: number;
  /**
   * An e-mail address subscribed to the alarm topic (the recipient must confirm it).
   *
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
}

/**
 * Alarms on an encrypted SNS topic for everything that means SES history is not being
 * collected or the account is heading for an SES review, and a dashboard of the datasets.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;

  private readonly alarmList: Alarm[] = [];

  /** Every alarm, all notifying the topic on ALARM and OK. */
  get alarms(): readonly Alarm[] {
    return this.alarmList;
  }

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    validateProps(props);
    this.topic = this.createTopic(props.alarmEmail);

    const runWindow = alarmWindow(props.schedule);
    this.addAlarm('CollectorErrors', {
      metric: props.collectorFunction.metricErrors({
        statistic: 'Sum',
        period: runWindow.period,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: runWindow.evaluationPeriods,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `ses-stats: the collector failed in the last ${props.schedule.toHumanString()}; see its log group`,
    });
    this.addAlarm('DeadLetters', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'ses-stats: collector runs were dropped (dead-letter queue not empty); inspect and purge the queue',
    });
    for (const dataset of props.statisticsDatasets) this.addStatisticsAlarms(dataset, props);
    for (const dataset of props.usageDatasets) this.addUsageAlarm(dataset, props);

    this.dashboard = new Dashboard(this, 'Dashboard');
    this.dashboard.addWidgets(...this.widgets(props));
  }

  private createTopic(email: string | undefined): Topic {
    // CloudWatch can publish to an encrypted topic only with a customer managed key that lets it.
    const key = new Key(this, 'TopicKey', {
      description: 'ses-stats: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'ses-stats alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (email !== undefined) {
      const subscription = new Subscription(this, 'AlarmEmail', {
        topic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: email,
      });
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail subscription: a dead-letter queue for undeliverable alarm e-mails would need its own alarm, delivered the same way; the alarm states stay visible in CloudWatch and on the dashboard',
      });
    }
    return topic;
  }

  private addAlarm(id: string, props: AlarmProps, scope: Construct = this): Alarm {
    const alarm = new Alarm(scope, id, props);
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarmList.push(alarm);
    return alarm;
  }

  private addStatisticsAlarms(dataset: string, props: MonitoringProps): void {
    const scope = new Construct(this, dataset);
    const runWindow = alarmWindow(props.schedule);
    const staleAfter = props.schedule.plus(props.schedule);
    // Up to 1 day this is one period of 2 × the schedule; beyond, hourly periods that must all
    // be empty, capped at the 7 days an alarm can look back (see alarmWindow for the limits).
    const staleWindow = alarmWindow(staleAfter);
    if (staleWindow.capped)
      Annotations.of(scope).addWarningV2(
        '@ses-stats/monitoring:stalenessWindowCapped',
        `the staleness alarm of ${dataset} looks back 7 days, CloudWatch's longest alarm window, not 2 × the schedule (${staleAfter.toHumanString()}); it may fire when a run is late`,
      );
    this.addAlarm(
      'Staleness',
      {
        metric: datasetMetric(METRICS.COLLECTION_SUCCEEDED, dataset, {
          statistic: 'Sum',
          period: staleWindow.period,
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        // Every period of the window must lack a success; no data at all is the stale case.
        evaluationPeriods: staleWindow.evaluationPeriods,
        datapointsToAlarm: staleWindow.evaluationPeriods,
        treatMissingData: TreatMissingData.BREACHING,
        alarmDescription: `ses-stats: no successful collection of ${dataset} in ${staleAfter.toHumanString()} (2 × the schedule); SES keeps only 14 days`,
      },
      scope,
    );
    const bounceRate = props.bounceRateThreshold ?? DEFAULT_BOUNCE_RATE;
    const complaintRate = props.complaintRateThreshold ?? DEFAULT_COMPLAINT_RATE;
    this.addMaximumAlarm(
      scope,
      dataset,
      METRICS.BOUNCE_RATE,
      bounceRate,
      runWindow,
      `ses-stats: ${dataset} window bounce rate at or above ${percent(bounceRate)} (AWS reviews accounts at ${percent(DEFAULT_BOUNCE_RATE)})`,
    );
    this.addMaximumAlarm(
      scope,
      dataset,
      METRICS.COMPLAINT_RATE,
      complaintRate,
      runWindow,
      `ses-stats: ${dataset} window complaint rate at or above ${percent(complaintRate)} (AWS reviews accounts at ${percent(DEFAULT_COMPLAINT_RATE)})`,
    );
  }

  private addUsageAlarm(dataset: string, props: MonitoringProps): void {
    const threshold = props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION;
    this.addMaximumAlarm(
      new Construct(this, dataset),
      dataset,
      METRICS.QUOTA_UTILISATION,
      threshold,
      alarmWindow(props.schedule),
      `ses-stats: ${dataset} has used ${percent(threshold)} or more of the 24-hour sending quota`,
    );
  }

  /**
   * Alarms when one run's value reaches `threshold`. A run that emits nothing (no attempts, an
   * unlimited quota) is not a problem, so missing data does not breach.
   */
  private addMaximumAlarm(
    scope: Construct,
    dataset: string,
    metricName: string,
    threshold: number,
    window: ReturnType<typeof alarmWindow>,
    description: string,
  ): void {
    this.addAlarm(
      metricName,
      {
        metric: datasetMetric(metricName, dataset, { statistic: 'Maximum', period: window.period }),
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: window.evaluationPeriods,
        datapointsToAlarm: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      },
      scope,
    );
  }

  private widgets(props: MonitoringProps): IWidget[] {
    const period = graphPeriod(props.schedule);
    const fn = props.collectorFunction;
    const widgets: IWidget[] = [
      new TextWidget({
        markdown: `# ses-stats\nCollected every ${props.schedule.toHumanString()}. Counts are sums over the last 24 hours of each fetch; rates are window rates over the whole SES window.`,
        width: 24,
        height: 2,
      }),
      new GraphWidget({
        title: 'Collector runs',
        left: [
          fn.metricInvocations({ statistic: 'Sum', period }),
          fn.metricErrors({ statistic: 'Sum', period }),
        ],
        right: [fn.metricDuration({ statistic: 'Maximum', period })],
        width: 12,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 12 }),
    ];
    for (const dataset of props.statisticsDatasets)
      widgets.push(...statisticsWidgets(dataset, period, props));
    for (const dataset of props.usageDatasets)
      widgets.push(
        new GraphWidget({
          title: `${dataset}: quota utilisation`,
          left: [
            datasetMetric(METRICS.QUOTA_UTILISATION, dataset, { statistic: 'Maximum', period }),
          ],
          leftAnnotations: [
            {
              value: props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION,
              label: 'alarm',
            },
          ],
          leftYAxis: { min: 0, max: 1 },
          width: 8,
        }),
      );
    return widgets;
  }
}

function statisticsWidgets(dataset: string, period: Duration, props: MonitoringProps): IWidget[] {
  const metric = (name: string): IMetric =>
    datasetMetric(name, dataset, { statistic: 'Maximum', period });
  return [
    new GraphWidget({
      title: `${dataset}: sending (last 24 hours)`,
      left: COUNT_METRICS.map(metric),
      width: 8,
    }),
    new GraphWidget({
      title: `${dataset}: window rates`,
      left: [metric(METRICS.BOUNCE_RATE)],
      right: [metric(METRICS.COMPLAINT_RATE)],
      leftAnnotations: [
        { value: props.bounceRateThreshold ?? DEFAULT_BOUNCE_RATE, label: 'bounce alarm' },
      ],
      rightAnnotations: [
        { value: props.complaintRateThreshold ?? DEFAULT_COMPLAINT_RATE, label: 'complaint alarm' },
      ],
      leftYAxis: { min: 0 },
      rightYAxis: { min: 0 },
      width: 8,
    }),
  ];
}

function percent(fraction: number): string {
  return Token.isUnresolved(fraction)
    ? 'the threshold'
    : `${Number((fraction * 100).toPrecision(6))} %`;
}

/** One point per run, at most one per day. */
function graphPeriod(schedule: Duration): Duration {
  if (schedule.isUnresolved()) return Duration.hours(1);
  return schedule.toSeconds() > MAX_GRAPH_PERIOD.toSeconds() ? MAX_GRAPH_PERIOD : schedule;
}

function validateProps(props: MonitoringProps): void {
  const fraction = (name: string, value: number | undefined) => {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!(value > 0 && value <= 1))
      throw new Error(
        `Monitoring ${name}: received ${value}; expected a fraction above 0 and at most 1`,
      );
  };
  fraction('bounceRateThreshold', props.bounceRateThreshold);
  fraction('complaintRateThreshold', props.complaintRateThreshold);
  fraction('quotaUtilisationThreshold', props.quotaUtilisationThreshold);
  const email = props.alarmEmail;
  if (email !== undefined && !Token.isUnresolved(email) && !EMAIL.test(email))
    throw new Error(`Monitoring alarmEmail: received "${email}"; expected an e-mail address`);
  if (!props.schedule.isUnresolved() && props.schedule.toSeconds({ integral: false }) < 60)
    throw new Error(
      `Monitoring schedule: received ${props.schedule.toHumanString()}; expected at least 1 minute`,
    );
  const names = [...props.statisticsDatasets, ...props.usageDatasets];
  const seen = new Set<string>();
  for (const name of names) {
    if (name.trim() === '' || name.includes('/'))
      throw new Error(
        `Monitoring datasets: received "${name}"; expected a dataset name without "/"`,
      );
    if (seen.has(name))
      throw new Error(
        `Monitoring datasets: received "${name}" twice; every dataset name must be unique`,
      );
    seen.add(name);
  }
}
