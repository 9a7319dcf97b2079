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
  LogQueryWidget,
  MathExpression,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEFAULT_MIN_DELIVERY_ATTEMPTS,
  DEFAULT_QUOTA_UTILISATION,
  DEFAULT_WARNING_FRACTION,
  REPUTATION_BOUNCE_REVIEW,
  REPUTATION_BOUNCE_WARNING,
  REPUTATION_COMPLAINT_REVIEW,
  REPUTATION_COMPLAINT_WARNING,
  REVIEW_BOUNCE_RATE,
  REVIEW_COMPLAINT_RATE,
} from '../lambda/config/defaults.ts';
import { ACCOUNT_LOG_MESSAGE, METRICS } from '../lambda/constants.ts';
import {
  type AlarmMode,
  alarmMode,
  BREACH_LOG_MESSAGE,
  BREACH_NAMES_LIMIT,
  COLLECTED_LOG_MESSAGE,
  STALE_LOG_MESSAGE,
} from '../lambda/core/metrics.ts';
import { type AlarmWindow, alarmWindow } from './alarm-window.ts';
import { COUNT_METRICS, datasetMetric, fleetMetric } from './collector-metrics.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_GRAPH_PERIOD = Duration.days(1);
/** The Duration alarm fires when a run takes this fraction of the function's timeout. */
export const DURATION_ALARM_FRACTION = 0.8;
const CLOUDWATCH = 'cloudwatch.amazonaws.com';
/** The per-kind dashboard ranks this many datasets of each kind, the highest first. */
export const DASHBOARD_TOP_DATASETS = 10;
/** The per-kind dashboard lists at most this many datasets (or log lines) over a level. */
const BREACH_NAMES_SHOWN = 100;
/** The account table lists at most this many account datasets (Logs Insights returns up to 10,000). */
const ACCOUNTS_SHOWN = 1000;

export interface MonitoringProps {
  /**
   * The collector function whose errors, throttles, duration and dropped runs are watched; the
   * per-kind dashboard queries its log group (`logGroup`) for the datasets' names and numbers.
   */
  readonly collectorFunction: LambdaFunction;
  /** The collector function's timeout: the Duration alarm fires at 80 % of it. */
  readonly collectorTimeout: Duration;
  /** The collector's dead-letter queue: any message in it is a run that never happened. */
  readonly deadLetterQueue: IQueue;
  /**
   * The batch queue's own dead-letter queue (FIFO), when the collector fans out: any message in
   * it is a batch of sources that failed on every receive.
   *
   * @default - no fan-out, no such queue
   */
  readonly batchDeadLetterQueue?: IQueue;
  /**
   * The batch queue itself, when the collector fans out: a message older than one schedule
   * period means the batches do not drain as fast as runs add them (raise fanOutConcurrency).
   *
   * @default - no fan-out, no such queue
   */
  readonly batchQueue?: IQueue;
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
   * Account datasets: any one adds, in both alarm modes, the six account alarms (counts the
   * collector publishes per invocation: accounts not HEALTHY, with sending disabled, at or over
   * each AWS reputation level), a graph of those counts and a table of each account's state.
   *
   * @default - none: no account alarm or widget
   */
  readonly accountDatasets?: readonly string[];
  /**
   * AWS reputation bounce rate (CloudWatch `AWS/SES Reputation.BounceRate`, a fraction) at which
   * the collector counts an account in AccountsOverReputationBounceWarning; below the review level.
   *
   * @default REPUTATION_BOUNCE_WARNING (0.05, lambda/config/defaults.ts) - AWS may put the account under review
   */
  readonly reputationBounceWarning?: number;
  /**
   * AWS reputation bounce rate at which the collector counts an account in
   * AccountsOverReputationBounceReview.
   *
   * @default REPUTATION_BOUNCE_REVIEW (0.1, lambda/config/defaults.ts) - AWS may pause the account's sending
   */
  readonly reputationBounceReview?: number;
  /**
   * AWS reputation complaint rate (`AWS/SES Reputation.ComplaintRate`) at which the collector
   * counts an account in AccountsOverReputationComplaintWarning; below the review level.
   *
   * @default REPUTATION_COMPLAINT_WARNING (0.001, lambda/config/defaults.ts) - AWS may put the account under review
   */
  readonly reputationComplaintWarning?: number;
  /**
   * AWS reputation complaint rate at which the collector counts an account in
   * AccountsOverReputationComplaintReview.
   *
   * @default REPUTATION_COMPLAINT_REVIEW (0.005, lambda/config/defaults.ts) - AWS may pause the account's sending
   */
  readonly reputationComplaintReview?: number;
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
  /** Per kind: the count of datasets at or over each level (lambda/core/metrics.ts RunTally). */
  readonly over: Record<Level, string>;
  /** Per kind: the `collected` log line's field with the rate the levels are compared with. */
  readonly logField: string;
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
    over: {
      Warning: METRICS.DATASETS_OVER_BOUNCE_WARNING,
      Review: METRICS.DATASETS_OVER_BOUNCE_REVIEW,
    },
    logField: 'alarmBounceRate',
  },
  {
    id: 'ComplaintRate',
    noun: 'complaint',
    awsReview: REVIEW_COMPLAINT_RATE,
    events: { Last24Hours: METRICS.COMPLAINTS, Window: METRICS.WINDOW_COMPLAINTS },
    over: {
      Warning: METRICS.DATASETS_OVER_COMPLAINT_WARNING,
      Review: METRICS.DATASETS_OVER_COMPLAINT_REVIEW,
    },
    logField: 'alarmComplaintRate',
  },
];

const RATE_WINDOWS: readonly RateWindowSpec[] = [
  { id: 'Last24Hours', label: 'last 24 hours', attempts: METRICS.DELIVERY_ATTEMPTS },
  { id: 'Window', label: '14-day SES window', attempts: METRICS.WINDOW_DELIVERY_ATTEMPTS },
];

const LEVELS = ['Warning', 'Review'] as const;
type Level = (typeof LEVELS)[number];

/** One of AWS's reputation rates, as the account dataset fetches it and its alarms count it. */
interface ReputationSpec {
  readonly noun: string;
  /** The CloudWatch metric AWS publishes (namespace AWS/SES). */
  readonly awsMetric: string;
  /** Per level: the count of accounts at or over it, its prop (and config field) and its default. */
  readonly levels: Record<
    Level,
    { readonly over: string; readonly prop: ReputationProp; readonly aws: number }
  >;
}

type ReputationProp =
  | 'reputationBounceWarning'
  | 'reputationBounceReview'
  | 'reputationComplaintWarning'
  | 'reputationComplaintReview';

const REPUTATION_RATES: readonly ReputationSpec[] = [
  {
    noun: 'bounce',
    awsMetric: 'Reputation.BounceRate',
    levels: {
      Warning: {
        over: METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_WARNING,
        prop: 'reputationBounceWarning',
        aws: REPUTATION_BOUNCE_WARNING,
      },
      Review: {
        over: METRICS.ACCOUNTS_OVER_REPUTATION_BOUNCE_REVIEW,
        prop: 'reputationBounceReview',
        aws: REPUTATION_BOUNCE_REVIEW,
      },
    },
  },
  {
    noun: 'complaint',
    awsMetric: 'Reputation.ComplaintRate',
    levels: {
      Warning: {
        over: METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_WARNING,
        prop: 'reputationComplaintWarning',
        aws: REPUTATION_COMPLAINT_WARNING,
      },
      Review: {
        over: METRICS.ACCOUNTS_OVER_REPUTATION_COMPLAINT_REVIEW,
        prop: 'reputationComplaintReview',
        aws: REPUTATION_COMPLAINT_REVIEW,
      },
    },
  },
];

/** What AWS does to an account whose reputation rate reaches each level. */
const AWS_AT_LEVEL: Record<Level, string> = {
  Warning: 'the account may be put under review',
  Review: "the account's sending may be paused",
};

/** The six account counts, in the order the alarms and the graph show them. */
const ACCOUNT_COUNTS = [
  METRICS.ACCOUNTS_NOT_HEALTHY,
  METRICS.ACCOUNTS_SENDING_DISABLED,
  ...REPUTATION_RATES.flatMap((rate) => LEVELS.map((level) => rate.levels[level].over)),
];

/** The `account` log line's fields the dashboard's account table shows, after the dataset. */
const ACCOUNT_LOG_FIELDS = [
  'enforcementStatus',
  'sendingEnabled',
  'productionAccessEnabled',
  'reviewStatus',
  'lastChange',
  'reputationBounceRate',
  'reputationComplaintRate',
  'reputationAt',
] as const;

/**
 * Alarms on an encrypted SNS topic for everything that means SES history is not being
 * collected or the account is heading for an SES review, and a dashboard of the datasets.
 *
 * Up to PER_DATASET_ALARM_LIMIT statistics datasets (lambda/core/metrics.ts `alarmMode`), each
 * dataset has its own alarms and graphs; beyond, a constant set of standard alarms covers all
 * datasets: one per count the collector publishes per invocation (datasets over each level, failed
 * sources, stale datasets), and the dashboard names the datasets from the collector's log with
 * Logs Insights. The collector publishes the metrics of the same mode, decided by the same function.
 *
 * With any account dataset, both modes add six standard alarms on the account counts (accounts
 * not HEALTHY, with sending disabled, at or over each AWS reputation level), a graph of them and a
 * Logs Insights table of each account's latest state.
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
    if (hasAccounts(props)) this.addAccountAlarms(props);

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
    if (props.batchQueue !== undefined)
      this.addAlarm('BatchBacklog', {
        metric: props.batchQueue.metricApproximateAgeOfOldestMessage({
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        ...this.anyInWindow(
          { period: Duration.minutes(5), evaluationPeriods: 1, capped: false },
          props.rate.toSeconds(),
        ),
        alarmDescription: `ses-stats: a batch has waited in the batch queue for ${props.rate.toHumanString()} (one schedule period) or more: batches drain more slowly than runs add them, or a failing message blocks its group; raise fanOutConcurrency or read the collector's log`,
      });
    if (props.batchDeadLetterQueue !== undefined)
      this.addAlarm('BatchDeadLetters', {
        metric: props.batchDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        ...this.anyInWindow(
          { period: Duration.minutes(5), evaluationPeriods: 1, capped: false },
          1,
        ),
        alarmDescription:
          "ses-stats: a batch of sources failed on every receive (the batch dead-letter queue is not empty); its message names the activities, the collector's log says why; purge the queue after reading it",
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
   * The per-kind alarms: a constant number, whatever the number of datasets. Each invocation of
   * the collector publishes how many of its datasets are at or over each level, and how many
   * sources failed; each count is one standard alarm on its sum over the schedule period. Batch
   * invocations report failed sources to the queue, not as function errors, so `SourcesFailed`
   * sees them before the dead-letter queue does. A dataset that stops being collected is counted
   * by the scheduled run (`StaleDatasets`).
   */
  private addKindAlarms(props: MonitoringProps): void {
    this.addStaleDatasetsAlarm(props);
    const every = props.rate.toHumanString();
    const minAttempts = props.minDeliveryAttempts ?? DEFAULT_MIN_DELIVERY_ATTEMPTS;
    for (const sendingRate of SENDING_RATES)
      for (const level of LEVELS) {
        const metricName = sendingRate.over[level];
        this.addCountAlarm(
          metricName,
          'Sum',
          props,
          `ses-stats: in the last ${every}, datasets had a ${sendingRate.noun} rate at or above ${percent(rateLevel(props, sendingRate, level))}, the ${level.toLowerCase()} level (review level ${percent(rateLevel(props, sendingRate, 'Review'))}; AWS reviews accounts at ${percent(sendingRate.awsReview)}), over the last 24 hours or the 14-day SES window; rates over fewer than ${minAttempts} delivery attempts are ignored. ${whereNamed(metricName)}`,
        );
      }
    const quota = props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION;
    this.addCountAlarm(
      METRICS.DATASETS_OVER_QUOTA,
      'Sum',
      props,
      `ses-stats: in the last ${every}, datasets had used ${percent(quota)} or more of their 24-hour sending quota. ${whereNamed(METRICS.DATASETS_OVER_QUOTA)}`,
    );
    this.addCountAlarm(
      METRICS.SOURCES_FAILED,
      'Sum',
      props,
      `ses-stats: sources failed in the last ${every} (a batch's are retried, then go to the dead-letter queue); the collector's log names each ("activity failed")`,
    );
  }

  /**
   * One standard alarm on a count the collector publishes per invocation with the service
   * dimension only: any value of `statistic` ≥ 1 over the schedule period (hourly periods, any
   * one, beyond a day).
   */
  private addCountAlarm(
    metricName: string,
    statistic: 'Sum' | 'Maximum',
    props: MonitoringProps,
    alarmDescription: string,
  ): Alarm {
    const window = alarmWindow(props.rate);
    return this.addAlarm(metricName, {
      metric: fleetMetric(metricName, { statistic, period: window.period }),
      ...this.anyInWindow(window, 1),
      alarmDescription,
    });
  }

  /**
   * The account alarms, in both modes: every invocation that fetched account datasets publishes
   * how many of them are not HEALTHY, cannot send, or have a latest AWS reputation rate at or over
   * each level (lambda/core/account-health.ts AccountTally). Maximum, not Sum: an account stays
   * counted run after run, so the largest count is how many accounts (and ≥ 1 fires either way).
   */
  private addAccountAlarms(props: MonitoringProps): void {
    const every = props.rate.toHumanString();
    const seeState = `The collector's "${ACCOUNT_LOG_MESSAGE}" log line of each account dataset shows its state and rates, as does the dashboard's account table`;
    this.addCountAlarm(
      METRICS.ACCOUNTS_NOT_HEALTHY,
      'Maximum',
      props,
      `ses-stats: in the last ${every}, SES accounts had an enforcement status other than HEALTHY: PROBATION (AWS is reviewing the account; fix the cause before the review period ends or sending may be paused) or SHUTDOWN (AWS stopped the account's sending). ${seeState}`,
    );
    this.addCountAlarm(
      METRICS.ACCOUNTS_SENDING_DISABLED,
      'Maximum',
      props,
      `ses-stats: in the last ${every}, SES accounts had sending disabled (SendingEnabled false: paused by AWS or by the account owner); they send nothing until it is enabled again. ${seeState}`,
    );
    for (const rate of REPUTATION_RATES)
      for (const level of LEVELS) {
        const { over, prop, aws } = rate.levels[level];
        const other = level === 'Warning' ? 'Review' : 'Warning';
        this.addCountAlarm(
          over,
          'Maximum',
          props,
          `ses-stats: in the last ${every}, SES accounts had a latest AWS reputation ${rate.noun} rate (AWS/SES ${rate.awsMetric}) at or above ${percent(reputationLevel(props, rate, level))}, the ${level.toLowerCase()} level (alarms.${prop}; ${other.toLowerCase()} level ${percent(reputationLevel(props, rate, other))}, alarms.${rate.levels[other].prop}): at AWS's ${level.toLowerCase()} level (${percent(aws)}) ${AWS_AT_LEVEL[level]}. ${seeState}`,
        );
      }
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
      alarmDescription: `ses-stats: datasets had no successful collection in ${staleAfter.toHumanString()} (2 × the rate)${onePeriod ? ', or no scheduled run counted them' : ''}; the collector's log line "${STALE_LOG_MESSAGE}" names them (the dashboard lists them); SES keeps only 14 days`,
    });
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
    if (hasAccounts(props)) widgets.push(...accountWidgets(period, props));
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

/**
 * The per-kind dashboard: the counts each invocation publishes, then the datasets behind them,
 * read with Logs Insights from the collector's log (its `collected` lines carry each dataset's
 * alarm numbers), so no widget names a dataset and the dashboard does not grow with them.
 */
function kindWidgets(period: Duration, props: MonitoringProps): IWidget[] {
  const sum = (metricName: string) => fleetMetric(metricName, { statistic: 'Sum', period });
  const logGroupNames = [props.collectorFunction.logGroup.logGroupName];
  const logs = (title: string, queryLines: string[]) =>
    new LogQueryWidget({ title, logGroupNames, queryLines, width: 12, height: 6 });
  const quota = props.quotaUtilisationThreshold ?? DEFAULT_QUOTA_UTILISATION;
  const overLevels = SENDING_RATES.map((sendingRate) => {
    const warning = rateLevel(props, sendingRate, 'Warning');
    return logs(
      `Datasets at or over the ${sendingRate.noun} warning level (${percent(warning)}; review ${percent(rateLevel(props, sendingRate, 'Review'))})`,
      datasetsQuery(sendingRate.logField, 'dataset', BREACH_NAMES_SHOWN, warning),
    );
  });
  const tops = SENDING_RATES.map((sendingRate) =>
    logs(
      `Top ${DASHBOARD_TOP_DATASETS} datasets by ${sendingRate.noun} rate (higher window)`,
      datasetsQuery(sendingRate.logField, 'dataset', DASHBOARD_TOP_DATASETS),
    ),
  );
  return [
    new GraphWidget({
      title: 'Datasets at or over an alarm level',
      left: [
        ...SENDING_RATES.flatMap((sendingRate) => LEVELS.map((l) => sum(sendingRate.over[l]))),
        sum(METRICS.DATASETS_OVER_QUOTA),
      ],
      leftYAxis: { min: 0 },
      width: 12,
    }),
    new GraphWidget({
      title: 'Sources',
      left: [METRICS.SOURCES_COLLECTED, METRICS.SOURCES_FAILED, METRICS.SOURCES_SKIPPED].map(sum),
      right: [fleetMetric(METRICS.STALE_DATASETS, { statistic: 'Maximum', period })],
      leftYAxis: { min: 0 },
      rightYAxis: { min: 0 },
      width: 12,
    }),
    logs('Datasets over an alarm level, per collector invocation', [
      'fields @timestamp, metric, threshold, count, @message',
      `filter message = "${BREACH_LOG_MESSAGE}"`,
      'sort @timestamp desc',
      `limit ${BREACH_NAMES_SHOWN}`,
    ]),
    logs('Stale datasets, per scheduled run', [
      'fields @timestamp, count, @message',
      `filter message = "${STALE_LOG_MESSAGE}"`,
      'sort @timestamp desc',
      'limit 20',
    ]),
    ...overLevels,
    logs(
      `Datasets at or over the quota level (${percent(quota)})`,
      datasetsQuery('quotaUtilisation', 'usageDataset', BREACH_NAMES_SHOWN, quota),
    ),
    ...tops,
    logs(
      `Top ${DASHBOARD_TOP_DATASETS} datasets by quota utilisation`,
      datasetsQuery('quotaUtilisation', 'usageDataset', DASHBOARD_TOP_DATASETS),
    ),
  ];
}

/** Whether the props name any account dataset (the account alarms and widgets are for them). */
function hasAccounts(props: MonitoringProps): boolean {
  return (props.accountDatasets ?? []).length > 0;
}

/**
 * The account widgets, in both modes: the six counts the account alarms watch, and the latest
 * `account` log line of each account dataset (its state, last change and AWS reputation rates)
 * in the dashboard's time range, read with Logs Insights so the dashboard does not grow with the
 * accounts.
 */
function accountWidgets(period: Duration, props: MonitoringProps): IWidget[] {
  const levels = REPUTATION_RATES.map(
    (rate) =>
      `${rate.noun} ${LEVELS.map((level) => percent(reputationLevel(props, rate, level))).join(' / ')}`,
  ).join(', ');
  return [
    new GraphWidget({
      title: 'Accounts not healthy, with sending disabled, or at or over an AWS reputation level',
      left: ACCOUNT_COUNTS.map((name) => fleetMetric(name, { statistic: 'Maximum', period })),
      leftYAxis: { min: 0 },
      width: 12,
    }),
    new LogQueryWidget({
      title: `Account datasets: state, last change and AWS reputation rates (levels: ${levels})`,
      logGroupNames: [props.collectorFunction.logGroup.logGroupName],
      queryLines: accountsQuery(),
      width: 12,
      height: 6,
    }),
  ];
}

/** The latest `account` log line of each account dataset, the most recent first. */
function accountsQuery(): string[] {
  return [
    `fields @timestamp, dataset, ${ACCOUNT_LOG_FIELDS.join(', ')}`,
    `filter message = "${ACCOUNT_LOG_MESSAGE}"`,
    'sort @timestamp desc',
    'dedup dataset',
    `limit ${ACCOUNTS_SHOWN}`,
  ];
}

/**
 * A Logs Insights query over the `collected` lines: each dataset's highest value of `field` in the
 * dashboard's time range, the highest first, optionally only those at or over `atLeast`.
 */
export function datasetsQuery(
  field: string,
  datasetField: 'dataset' | 'usageDataset',
  limit: number,
  atLeast?: number,
): string[] {
  return [
    `fields ${datasetField}, ${field}`,
    `filter message = "${COLLECTED_LOG_MESSAGE}" and ispresent(${field})${atLeast === undefined ? '' : ` and ${field} >= ${atLeast}`}`,
    `stats max(${field}) as highest, latest(${field}) as latest by ${datasetField}`,
    'sort highest desc',
    `limit ${limit}`,
  ];
}

/** Where a per-kind alarm's datasets are named: its log line, the dashboard and the CLI. */
function whereNamed(metricName: string): string {
  return `The collector's log line "${BREACH_LOG_MESSAGE}" with metric ${metricName} names them (at most ${BREACH_NAMES_LIMIT} per invocation, with the count), as does the dashboard's Logs Insights widget; \`ses-stats check DATASET\` checks one`;
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

/** The configured AWS reputation level, or AWS's own. */
function reputationLevel(props: MonitoringProps, rate: ReputationSpec, level: Level): number {
  const { prop, aws } = rate.levels[level];
  return props[prop] ?? aws;
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
  for (const rate of REPUTATION_RATES) {
    for (const level of LEVELS) fraction(rate.levels[level].prop, props[rate.levels[level].prop]);
    const review = reputationLevel(props, rate, 'Review');
    const warning = reputationLevel(props, rate, 'Warning');
    if (resolved(review) && resolved(warning) && warning >= review)
      throw new Error(
        `Monitoring ${rate.levels.Warning.prop}: received ${warning}; expected a warning level below the review level (${review})`,
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
  const names = [
    ...props.statisticsDatasets,
    ...props.usageDatasets,
    ...(props.accountDatasets ?? []),
  ];
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
