import {
  Annotations,
  ArnFormat,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  type IMetric,
  type IWidget,
  MathExpression,
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
import {
  DEFAULT_MIN_DELIVERY_ATTEMPTS,
  DEFAULT_QUOTA_UTILISATION,
  DEFAULT_WARNING_FRACTION,
  REVIEW_BOUNCE_RATE,
  REVIEW_COMPLAINT_RATE,
} from '../lambda/config/defaults.ts';
import { METRICS } from '../lambda/constants.ts';
import { type AlarmMode, alarmMode } from '../lambda/core/metrics.ts';
import { type AlarmWindow, alarmWindow } from './alarm-window.ts';
import {
  COUNT_METRICS,
  datasetMetric,
  fleetMetric,
  topDatasetsQuery,
} from './collector-metrics.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_GRAPH_PERIOD = Duration.days(1);
/** The Duration alarm fires when a run takes this fraction of the function's timeout. */
export const DURATION_ALARM_FRACTION = 0.8;
const CLOUDWATCH = 'cloudwatch.amazonaws.com';
/** A Metrics Insights alarm evaluates only the latest 3 hours of data. */
export const INSIGHTS_ALARM_MAX_PERIOD = Duration.hours(3);
/** A Metrics Insights query returns at most 500 series (the highest, with ORDER BY … DESC). */
export const INSIGHTS_MAX_SERIES = 500;
/** A Metrics Insights query analyzes at most 10,000 metrics; beyond, an alarm has PARTIAL_DATA. */
export const INSIGHTS_MAX_METRICS = 10_000;
/** The per-kind dashboard graphs this many datasets of each kind, the highest first. */
export const DASHBOARD_TOP_DATASETS = 10;

export interface MonitoringProps {
  /** The collector function whose errors, throttles, duration and dropped runs are watched. */
  readonly collectorFunction: IFunction;
  /** The collector function's timeout: the Duration alarm fires at 80 % of it. */
  readonly collectorTimeout: Duration;
  /** The collector's dead-letter queue: any message in it is a run that never happened. */
  readonly deadLetterQueue: IQueue;
  /**
   * The rate of the collector's schedule: alarms look at one period of it, and a dataset is
   * stale after twice this long without a success. At least 1 minute.
   */
  readonly rate: Duration;
  /** Statistics datasets: staleness, bounce and complaint rate alarms, and their graphs. */
  readonly statisticsDatasets: readonly string[];
  /** Usage datasets: quota utilisation alarm and graph. */
  readonly usageDatasets: readonly string[];
  /**
   * Bounce rate (fraction) of the review alarms, over the last 24 hours and over the window.
   *
   * @default REVIEW_BOUNCE_RATE (0.05, lambda/config/defaults.ts) - AWS reviews an account at 5 %
   */
  readonly bounceRateThreshold?: number;
  /**
   * Bounce rate (fraction) of the warning alarms; below `bounceRateThreshold`.
   *
   * @default - `bounceRateThreshold` × DEFAULT_WARNING_FRACTION (0.5, lambda/config/defaults.ts)
   */
  readonly bounceRateWarningThreshold?: number;
  /**
   * Complaint rate (fraction) of the review alarms, over the last 24 hours and over the window.
   *
   * @default REVIEW_COMPLAINT_RATE (0.001, lambda/config/defaults.ts) - AWS reviews an account at 0.1 %
   */
  readonly complaintRateThreshold?: number;
  /**
   * Complaint rate (fraction) of the warning alarms; below `complaintRateThreshold`.
   *
   * @default - `complaintRateThreshold` × DEFAULT_WARNING_FRACTION (0.5, lambda/config/defaults.ts)
   */
  readonly complaintRateWarningThreshold?: number;
  /**
   * The rate alarms ignore a rate computed over fewer delivery attempts than this (an integer
   * of at least 1): one bounce in ten attempts is not a reputation problem.
   *
   * @default DEFAULT_MIN_DELIVERY_ATTEMPTS (100, lambda/config/defaults.ts)
   */
  readonly minDeliveryAttempts?: number;
  /**
   * Quota utilisation (SentLast24Hours / Max24HourSend) at which to alarm.
   * An unlimited quota never emits the metric, so it never alarms.
   *
   * @default DEFAULT_QUOTA_UTILISATION (0.8, lambda/config/defaults.ts)
   */
  readonly quotaUtilisationThreshold?: number;
  /**
   * An e-mail address subscribed to the alarm topic (the recipient must confirm it).
   *
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
}

/** A sending rate the alarms watch: events / delivery attempts. */
interface SendingRateSpec {
  /** Construct id prefix and dashboard title. */
  readonly id: 'BounceRate' | 'ComplaintRate';
  readonly noun: string;
  /** The rate at which AWS reviews an account. */
  readonly awsReview: number;
  readonly events: Record<RateWindowSpec['id'], string>;
  /** The per-kind mode's metric: the higher window's rate over the minimum volume. */
  readonly alarmRate: string;
}

/** A span the rates are computed over, each from its own pair of counts. */
interface RateWindowSpec {
  readonly id: 'Last24Hours' | 'Window';
  readonly label: string;
  readonly attempts: string;
}

const SENDING_RATES: readonly SendingRateSpec[] = [
  {
    id: 'BounceRate',
    noun: 'bounce',
    awsReview: REVIEW_BOUNCE_RATE,
    events: { Last24Hours: METRICS.BOUNCES, Window: METRICS.WINDOW_BOUNCES },
    alarmRate: METRICS.ALARM_BOUNCE_RATE,
  },
  {
    id: 'ComplaintRate',
    noun: 'complaint',
    awsReview: REVIEW_COMPLAINT_RATE,
    events: { Last24Hours: METRICS.COMPLAINTS, Window: METRICS.WINDOW_COMPLAINTS },
    alarmRate: METRICS.ALARM_COMPLAINT_RATE,
  },
];

const RATE_WINDOWS: readonly RateWindowSpec[] = [
  { id: 'Last24Hours', label: 'last 24 hours', attempts: METRICS.DELIVERY_ATTEMPTS },
  { id: 'Window', label: '14-day SES window', attempts: METRICS.WINDOW_DELIVERY_ATTEMPTS },
];

const LEVELS = ['Warning', 'Review'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Alarms on an encrypted SNS topic for everything that means SES history is not being
 * collected or the account is heading for an SES review, and a dashboard of the datasets.
 *
 * Up to PER_DATASET_ALARM_LIMIT statistics datasets (lambda/core/metrics.ts `alarmMode`), each
 * dataset has its own alarms and graphs; beyond, a constant set of alarms covers all datasets:
 * one Metrics Insights alarm per kind and level, each dataset a contributor, and one alarm on the
 * number of stale datasets the collector counts. The collector publishes the metrics of the same
 * mode, decided by the same function.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly topicKey: Key;
  readonly dashboard: Dashboard;
  /** `perDataset` or `perKind`, from the number of statistics datasets. */
  readonly alarmMode: AlarmMode;

  private readonly alarmList: Alarm[] = [];
  /** Per-dataset constructs live here, so no dataset name can collide with another construct id. */
  private readonly datasets: Construct;

  /** Every alarm, all notifying the topic on ALARM and OK. */
  get alarms(): readonly Alarm[] {
    return this.alarmList;
  }

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    validateProps(props);
    this.topicKey = this.createTopicKey();
    this.topic = this.createTopic(this.topicKey, props.alarmEmail);
    this.datasets = new Construct(this, 'Datasets');
    this.alarmMode = alarmMode(props.statisticsDatasets.length);

    this.addCollectorAlarms(props);
    if (this.alarmMode === 'perDataset') {
      for (const dataset of props.statisticsDatasets) this.addStatisticsAlarms(dataset, props);
      for (const dataset of props.usageDatasets) this.addUsageAlarm(dataset, props);
    } else this.addKindAlarms(props);

    this.dashboard = new Dashboard(this, 'Dashboard');
    this.dashboard.addWidgets(...this.widgets(props));
  }

  /**
   * CloudWatch publishes as the service principal `cloudwatch.amazonaws.com`; these conditions
   * let it act only for alarms of this account and region (no confused deputy).
   */
  private cloudWatchConditions(): Record<string, Record<string, string>> {
    const stack = Stack.of(this);
    return {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
  }

  private createTopicKey(): Key {
    // CloudWatch can publish to an encrypted topic only with a customer managed key that lets it.
    const key = new Key(this, 'TopicKey', {
      description: 'ses-stats: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new ServicePrincipal(CLOUDWATCH)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: this.cloudWatchConditions(),
      }),
    );
    return key;
  }

  private createTopic(key: Key, email: string | undefined): Topic {
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'ses-stats alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy (it holds enforceSSL's Deny) replaces SNS's default policy, so nothing
    // else would let CloudWatch publish: every alarm action would fail as "not authorized".
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal(CLOUDWATCH)],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: this.cloudWatchConditions(),
      }),
    );
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

  /** Something happened in the last period of the rate: any one period with a value ≥ threshold. */
  private anyInWindow(window: AlarmWindow, threshold: number) {
    return {
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: window.evaluationPeriods,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    } as const;
  }

  private addCollectorAlarms(props: MonitoringProps): void {
    const { collectorFunction } = props;
    const runWindow = alarmWindow(props.rate);
    const every = props.rate.toHumanString();
    const sum = { statistic: 'Sum', period: runWindow.period };
    this.addAlarm('CollectorErrors', {
      metric: collectorFunction.metricErrors(sum),
      ...this.anyInWindow(runWindow, 1),
      alarmDescription: `ses-stats: the collector failed in the last ${every}; see its log group`,
    });
    this.addAlarm('CollectorThrottles', {
      metric: collectorFunction.metricThrottles(sum),
      ...this.anyInWindow(runWindow, 1),
      alarmDescription: `ses-stats: a collector invocation was throttled in the last ${every}: runs never overlap (reserved concurrency 1), so a run was still going (a slow run, or one invoked by hand); Lambda retries it until its maximum event age`,
    });
    const timeout = props.collectorTimeout;
    this.addAlarm('CollectorDuration', {
      metric: collectorFunction.metricDuration({ statistic: 'Maximum', period: runWindow.period }),
      ...this.anyInWindow(runWindow, DURATION_ALARM_FRACTION * timeout.toMilliseconds()),
      alarmDescription: `ses-stats: a collector run took ${percent(DURATION_ALARM_FRACTION)} or more of its ${timeout.toHumanString()} timeout in the last ${every}; sources that no longer fit are skipped. Lower maxErrorRetry or timeoutSeconds of slow sessions, or raise the timeout`,
    });
    this.addAlarm('CollectorRunsDropped', {
      metric: collectorFunction.metric('AsyncEventsDropped', sum),
      ...this.anyInWindow(runWindow, 1),
      alarmDescription: `ses-stats: Lambda dropped a scheduled run in the last ${every} (it failed, or waited past its maximum event age); it went to the dead-letter queue unless CollectorDeadLetterErrors fired too`,
    });
    this.addAlarm('CollectorDeadLetterErrors', {
      metric: collectorFunction.metric('DeadLetterErrors', sum),
      ...this.anyInWindow(runWindow, 1),
      alarmDescription: `ses-stats: Lambda could not write a dropped run to the dead-letter queue in the last ${every}; the run is lost (the next run fetches the same SES window)`,
    });
    this.addAlarm('DeadLetters', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      ...this.anyInWindow({ period: Duration.minutes(5), evaluationPeriods: 1, capped: false }, 1),
      alarmDescription:
        'ses-stats: collector runs were dropped (dead-letter queue not empty); inspect and purge the queue',
    });
  }

  private addStatisticsAlarms(dataset: string, props: MonitoringProps): void {
    const scope = new Construct(this.datasets, dataset);
    const staleAfter = props.rate.plus(props.rate);
    // Up to 1 day this is one period of 2 × the rate; beyond, hourly periods that must all
    // be empty, capped at the 7 days an alarm can look back (see alarmWindow for the limits).
    const staleWindow = alarmWindow(staleAfter);
    if (staleWindow.capped)
      Annotations.of(scope).addWarningV2(
        '@ses-stats/monitoring:stalenessWindowCapped',
        `the staleness alarm of ${dataset} looks back 7 days, CloudWatch's longest alarm window, not 2 × the rate (${staleAfter.toHumanString()}); it may fire when a run is late`,
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
        alarmDescription: `ses-stats: no successful collection of ${dataset} in ${staleAfter.toHumanString()} (2 × the rate); SES keeps only 14 days`,
      },
      scope,
    );
    const runWindow = alarmWindow(props.rate);
    const minAttempts = props.minDeliveryAttempts ?? DEFAULT_MIN_DELIVERY_ATTEMPTS;
    for (const sendingRate of SENDING_RATES)
      for (const window of RATE_WINDOWS)
        for (const level of LEVELS) {
          const threshold = rateLevel(props, sendingRate, level);
          this.addAlarm(
            `${sendingRate.id}${window.id}${level}`,
            {
              metric: rateExpression(dataset, sendingRate, window, minAttempts, runWindow.period),
              ...this.anyInWindow(runWindow, threshold),
              alarmDescription: `ses-stats: ${dataset} ${sendingRate.noun} rate over the ${window.label} at or above ${percent(threshold)}, the ${level.toLowerCase()} level (review level ${percent(rateLevel(props, sendingRate, 'Review'))}; AWS reviews accounts at ${percent(sendingRate.awsReview)}); rates over fewer than ${minAttempts} delivery attempts are ignored`,
            },
            scope,
          );
        }
  }

  private addUsageAlarm(dataset: string, props: MonitoringProps): void {
    const threshold = props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION;
    const window = alarmWindow(props.rate);
    this.addAlarm(
      METRICS.QUOTA_UTILISATION,
      {
        metric: datasetMetric(METRICS.QUOTA_UTILISATION, dataset, {
          statistic: 'Maximum',
          period: window.period,
        }),
        // A run that emits nothing (an unlimited quota) is not a problem.
        ...this.anyInWindow(window, threshold),
        alarmDescription: `ses-stats: ${dataset} has used ${percent(threshold)} or more of the 24-hour sending quota`,
      },
      new Construct(this.datasets, dataset),
    );
  }

  /**
   * The per-kind alarms: a constant number, whatever the number of datasets. Each rate and level,
   * and the quota, is one Metrics Insights alarm over the per-dataset metric, one series (a
   * contributor, named by its Dataset in the notification) per dataset. A dataset that stops being
   * collected publishes nothing and would silently leave such a query, so staleness is the number
   * of stale datasets the collector counts from the store every scheduled run.
   */
  private addKindAlarms(props: MonitoringProps): void {
    this.addStaleDatasetsAlarm(props);
    const window = this.insightsWindow(props);
    const minAttempts = props.minDeliveryAttempts ?? DEFAULT_MIN_DELIVERY_ATTEMPTS;
    for (const sendingRate of SENDING_RATES)
      for (const level of LEVELS) {
        const threshold = rateLevel(props, sendingRate, level);
        this.addAlarm(`${sendingRate.id}${level}`, {
          metric: insightsQuery(sendingRate.alarmRate, window.period, `${sendingRate.noun} rate`),
          ...this.anyInWindow(window, threshold),
          alarmDescription: `ses-stats: a dataset's ${sendingRate.noun} rate is at or above ${percent(threshold)}, the ${level.toLowerCase()} level (review level ${percent(rateLevel(props, sendingRate, 'Review'))}; AWS reviews accounts at ${percent(sendingRate.awsReview)}), over the last 24 hours or the 14-day SES window; each dataset is a contributor named by its Dataset dimension; rates over fewer than ${minAttempts} delivery attempts are ignored`,
        });
      }
    const quota = props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION;
    this.addAlarm(METRICS.QUOTA_UTILISATION, {
      metric: insightsQuery(METRICS.QUOTA_UTILISATION, window.period, 'quota utilisation'),
      ...this.anyInWindow(window, quota),
      alarmDescription: `ses-stats: a dataset has used ${percent(quota)} or more of its 24-hour sending quota; each dataset is a contributor named by its Dataset dimension`,
    });
    for (const [kind, count] of [
      ['statistics', props.statisticsDatasets.length],
      ['usage', props.usageDatasets.length],
    ] as const)
      if (count > INSIGHTS_MAX_METRICS)
        Annotations.of(this).addWarningV2(
          `@ses-stats/monitoring:insightsMetricsLimit${kind}`,
          `${count} ${kind} datasets: a Metrics Insights alarm analyzes at most ${INSIGHTS_MAX_METRICS} metrics, so the per-kind alarms evaluate only part of them (PARTIAL_DATA)`,
        );
  }

  /**
   * The collector counts, every scheduled run, the statistics datasets no success covered for
   * 2 × the rate (never-collected ones included). Up to a 12-hour rate that is one period of
   * 2 × the rate in which the largest count must be 0, and a period without any count (no run at
   * all) is stale too; beyond, any count ≥ 1 in the hourly periods of the window.
   */
  private addStaleDatasetsAlarm(props: MonitoringProps): void {
    const staleAfter = props.rate.plus(props.rate);
    const window = alarmWindow(staleAfter);
    const onePeriod = window.evaluationPeriods === 1;
    this.addAlarm(METRICS.STALE_DATASETS, {
      metric: fleetMetric(METRICS.STALE_DATASETS, { statistic: 'Maximum', period: window.period }),
      ...this.anyInWindow(window, 1),
      treatMissingData: onePeriod ? TreatMissingData.BREACHING : TreatMissingData.NOT_BREACHING,
      alarmDescription: `ses-stats: datasets had no successful collection in ${staleAfter.toHumanString()} (2 × the rate)${onePeriod ? ', or no scheduled run counted them' : ''}; the collector's log names them ("stale datasets"); SES keeps only 14 days`,
    });
  }

  /** One period of the rate, at most the 3 hours a Metrics Insights alarm can evaluate. */
  private insightsWindow(props: MonitoringProps): AlarmWindow {
    const window = alarmWindow(props.rate);
    const max = INSIGHTS_ALARM_MAX_PERIOD.toSeconds();
    if (props.rate.isUnresolved() || window.period.toSeconds() <= max) return window;
    Annotations.of(this).addWarningV2(
      '@ses-stats/monitoring:insightsWindowCapped',
      `the per-kind alarms look at the last 3 hours, the longest a Metrics Insights alarm can evaluate, not one period of the rate (${props.rate.toHumanString()}): each run's values alarm for 3 hours, then the alarm returns to OK until the next run`,
    );
    return { period: INSIGHTS_ALARM_MAX_PERIOD, evaluationPeriods: 1, capped: true };
  }

  private widgets(props: MonitoringProps): IWidget[] {
    const period = graphPeriod(props.rate);
    const { collectorFunction } = props;
    const timeout = props.collectorTimeout;
    const widgets: IWidget[] = [
      new TextWidget({
        markdown: `# ses-stats\nCollected every ${props.rate.toHumanString()}. Counts are sums over the last 24 hours of each fetch. Rates are shown over the last 24 hours and over the whole 14-day SES window, as the alarms see them: 0 below ${props.minDeliveryAttempts ?? DEFAULT_MIN_DELIVERY_ATTEMPTS} delivery attempts.`,
        width: 24,
        height: 2,
      }),
      new GraphWidget({
        title: 'Collector runs',
        left: [
          collectorFunction.metricInvocations({ statistic: 'Sum', period }),
          collectorFunction.metricErrors({ statistic: 'Sum', period }),
          collectorFunction.metricThrottles({ statistic: 'Sum', period }),
          collectorFunction.metric('AsyncEventsDropped', { statistic: 'Sum', period }),
        ],
        right: [collectorFunction.metricDuration({ statistic: 'Maximum', period })],
        rightAnnotations: [
          { value: DURATION_ALARM_FRACTION * timeout.toMilliseconds(), label: 'duration alarm' },
        ],
        width: 12,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 12 }),
    ];
    if (this.alarmMode === 'perKind') return [...widgets, ...kindWidgets(period, props)];
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

/** A Metrics Insights query over one per-dataset metric: the alarms' series, one per dataset. */
function insightsQuery(metricName: string, period: Duration, noun: string): MathExpression {
  return new MathExpression({
    expression: topDatasetsQuery(metricName, INSIGHTS_MAX_SERIES),
    usingMetrics: {},
    label: `${noun} by dataset`,
    period,
  });
}

/** The per-kind dashboard: stale datasets, then the highest datasets of each kind. */
function kindWidgets(period: Duration, props: MonitoringProps): IWidget[] {
  const top = (title: string, metricName: string, annotations: HorizontalAnnotation[]) =>
    new GraphWidget({
      title: `${title} (top ${DASHBOARD_TOP_DATASETS} datasets)`,
      left: [
        new MathExpression({
          expression: topDatasetsQuery(metricName, DASHBOARD_TOP_DATASETS),
          usingMetrics: {},
          label: '',
          period,
        }),
      ],
      leftAnnotations: annotations,
      leftYAxis: { min: 0 },
      width: 12,
    });
  const levels = (sendingRate: SendingRateSpec) =>
    LEVELS.map(
      (level): HorizontalAnnotation => ({
        value: rateLevel(props, sendingRate, level),
        label: `${sendingRate.noun} ${level.toLowerCase()}`,
      }),
    );
  const [bounce, complaint] = SENDING_RATES as [SendingRateSpec, SendingRateSpec];
  return [
    new GraphWidget({
      title: 'Datasets not collected in 2 × the rate',
      left: [fleetMetric(METRICS.STALE_DATASETS, { statistic: 'Maximum', period })],
      leftAnnotations: [{ value: 1, label: 'alarm' }],
      leftYAxis: { min: 0 },
      width: 12,
    }),
    top('Bounce rate, higher window', bounce.alarmRate, levels(bounce)),
    top('Complaint rate, higher window', complaint.alarmRate, levels(complaint)),
    top('Quota utilisation', METRICS.QUOTA_UTILISATION, [
      { value: props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION, label: 'alarm' },
    ]),
    top('Delivery attempts, last 24 hours', METRICS.DELIVERY_ATTEMPTS, []),
  ];
}

/** The alarm level of a sending rate: the configured review level, and a warning at a fraction of it unless set. */
function rateLevel(props: MonitoringProps, sendingRate: SendingRateSpec, level: Level): number {
  const review =
    (sendingRate.id === 'BounceRate' ? props.bounceRateThreshold : props.complaintRateThreshold) ??
    sendingRate.awsReview;
  if (level === 'Review') return review;
  const warning =
    sendingRate.id === 'BounceRate'
      ? props.bounceRateWarningThreshold
      : props.complaintRateWarningThreshold;
  return warning ?? review * DEFAULT_WARNING_FRACTION;
}

/**
 * events / attempts over one window, or 0 below the minimum volume. Each run emits one point per
 * count; the average of a period is that run's value (or, with two runs in a period, the ratio of
 * their sums). The minimum volume lives in this one expression, used by the alarms and the graphs.
 */
function rateExpression(
  dataset: string,
  sendingRate: SendingRateSpec,
  window: RateWindowSpec,
  minAttempts: number,
  period: Duration,
): MathExpression {
  const count = (name: string) => datasetMetric(name, dataset, { statistic: 'Average', period });
  // Metric ids are unique per window, so both windows can share one graph.
  const attempts = `attempts${window.id}`;
  const events = `events${window.id}`;
  return new MathExpression({
    expression: `IF(${attempts} >= ${minAttempts}, ${events} / ${attempts}, 0)`,
    usingMetrics: {
      [attempts]: count(window.attempts),
      [events]: count(sendingRate.events[window.id]),
    },
    label: `${sendingRate.noun} rate, ${window.label}`,
    period,
  });
}

function statisticsWidgets(dataset: string, period: Duration, props: MonitoringProps): IWidget[] {
  const metric = (name: string): IMetric =>
    datasetMetric(name, dataset, { statistic: 'Maximum', period });
  const minAttempts = props.minDeliveryAttempts ?? DEFAULT_MIN_DELIVERY_ATTEMPTS;
  const rateGraph = (sendingRate: SendingRateSpec) =>
    new GraphWidget({
      title: `${dataset}: ${sendingRate.noun} rate`,
      left: RATE_WINDOWS.map((w) => rateExpression(dataset, sendingRate, w, minAttempts, period)),
      leftAnnotations: LEVELS.map(
        (level): HorizontalAnnotation => ({
          value: rateLevel(props, sendingRate, level),
          label: `${sendingRate.noun} ${level.toLowerCase()}`,
        }),
      ),
      leftYAxis: { min: 0 },
      width: 8,
    });
  return [
    new GraphWidget({
      title: `${dataset}: sending (last 24 hours)`,
      left: COUNT_METRICS.map(metric),
      width: 8,
    }),
    ...SENDING_RATES.map(rateGraph),
  ];
}

function percent(fraction: number): string {
  return Token.isUnresolved(fraction)
    ? 'the threshold'
    : `${Number((fraction * 100).toPrecision(6))} %`;
}

/** One point per run, at most one per day. */
function graphPeriod(rate: Duration): Duration {
  if (rate.isUnresolved()) return Duration.hours(1);
  return rate.toSeconds() > MAX_GRAPH_PERIOD.toSeconds() ? MAX_GRAPH_PERIOD : rate;
}

function validateProps(props: MonitoringProps): void {
  const resolved = (value: number | undefined): value is number =>
    value !== undefined && !Token.isUnresolved(value);
  const fraction = (name: string, value: number | undefined) => {
    if (!resolved(value)) return;
    if (!(value > 0 && value <= 1))
      throw new Error(
        `Monitoring ${name}: received ${value}; expected a fraction above 0 and at most 1`,
      );
  };
  fraction('bounceRateThreshold', props.bounceRateThreshold);
  fraction('bounceRateWarningThreshold', props.bounceRateWarningThreshold);
  fraction('complaintRateThreshold', props.complaintRateThreshold);
  fraction('complaintRateWarningThreshold', props.complaintRateWarningThreshold);
  fraction('quotaUtilisationThreshold', props.quotaUtilisationThreshold);
  for (const sendingRate of SENDING_RATES) {
    const review = rateLevel(props, sendingRate, 'Review');
    const warning = rateLevel(props, sendingRate, 'Warning');
    if (resolved(review) && resolved(warning) && warning >= review)
      throw new Error(
        `Monitoring ${sendingRate.id === 'BounceRate' ? 'bounceRateWarningThreshold' : 'complaintRateWarningThreshold'}: received ${warning}; expected a warning level below the review level (${review})`,
      );
  }
  const min = props.minDeliveryAttempts;
  if (resolved(min) && !(Number.isSafeInteger(min) && min >= 1))
    throw new Error(
      `Monitoring minDeliveryAttempts: received ${min}; expected a whole number of delivery attempts, at least 1`,
    );
  if (props.collectorTimeout.isUnresolved())
    throw new Error(
      'Monitoring collectorTimeout: received an unresolved token; expected a duration known at synth (the Duration alarm fires at 80 % of it)',
    );
  const email = props.alarmEmail;
  if (email !== undefined && !Token.isUnresolved(email) && !EMAIL.test(email))
    throw new Error(`Monitoring alarmEmail: received "${email}"; expected an e-mail address`);
  if (!props.rate.isUnresolved() && props.rate.toSeconds({ integral: false }) < 60)
    throw new Error(
      `Monitoring rate: received ${props.rate.toHumanString()}; expected at least 1 minute`,
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
