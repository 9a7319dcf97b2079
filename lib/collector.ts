import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Stage, Token, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type ICommandHooks, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  DeduplicationScope,
  FifoThroughputLimit,
  Queue,
  QueueEncryption,
} from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_SCHEDULE_MINUTES, MIN_SCHEDULE_MINUTES } from '../lambda/config/defaults.ts';
import { CONFIG_FILE_NAME, ENV, METRICS } from '../lambda/constants.ts';
import {
  assumedRoleArns,
  assumeRoleAcknowledgements,
  assumeRoleStatement,
  hasAccountDataset,
  logStatement,
  referencedSecrets,
  resourceStarAcknowledgement,
  type SecretReference,
  secretsStatement,
  sesStatement,
  tableStatement,
} from './collector-permissions.ts';
import {
  DEFAULT_LOG_RETENTION,
  DEFAULT_MEMORY_SIZE_MB,
  DEFAULT_RETRY_ATTEMPTS,
  DEFAULT_TIMEOUT,
  LAMBDA_ARCHITECTURE,
  LAMBDA_BUNDLING,
  LAMBDA_RUNTIME,
  MAX_DEFAULT_EVENT_AGE,
  SOURCE_MAPS_ENVIRONMENT,
} from './defaults.ts';
import { DeploymentConfig } from './deployment-config.ts';
import { assertSourcesFitTimeout } from './time-budget.ts';

/** The scheduled collect handler, bundled with esbuild. */
export const COLLECT_HANDLER_ENTRY = fileURLToPath(
  new URL('../lambda/handlers/collect.ts', import.meta.url),
);
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOCK_FILE = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/**
 * How long a batch message stays invisible after an invocation takes it: AWS advises six times
 * the function's timeout, so a message is never handed to a second invocation while the first
 * may still be collecting it.
 */
export const BATCH_VISIBILITY_FACTOR = 6;
/** A batch whose invocation failed this often goes to the batch dead-letter queue (and its alarm). */
export const BATCH_MAX_RECEIVE_COUNT = 3;
/** A FIFO queue's event source mapping hands at most 10 messages to one invocation. */
export const FIFO_MAX_BATCH_SIZE = 10;

/**
 * Lambda does not retry a failed run (its default is twice): every run fetches the whole SES
 * window again, so the next scheduled run is the retry, and a retry could only overlap it.
 */
export const ASYNC_RETRY_ATTEMPTS = 0;

export interface CollectorProps {
  /** The table the collector stores every dataset in. */
  readonly table: ITable;
  /**
   * The validated configuration. Its document is shipped in the function's asset as
   * `ses-stats-config.json` (secret references only) and validated again at cold start.
   *
   * @default - the embedded default configuration
   */
  readonly config?: DeploymentConfig;
  /**
   * The rate of the schedule: how often the collector function runs, in whole minutes from
   * MIN_SCHEDULE_MINUTES (5) to MAX_SCHEDULE_MINUTES (7 days), both in lambda/config/defaults.ts.
   *
   * @default - `scheduleMinutes` of the configuration: DEFAULT_SCHEDULE_MINUTES (60, lambda/config/defaults.ts) unless set
   */
  readonly rate?: Duration;
  /**
   * Memory of the collector function in MB (128-10240).
   *
   * @default DEFAULT_MEMORY_SIZE_MB (256, lib/defaults.ts)
   */
  readonly memorySize?: number;
  /**
   * Timeout of one collection run (1 second to 15 minutes).
   *
   * @default DEFAULT_TIMEOUT (5 minutes, lib/defaults.ts)
   */
  readonly timeout?: Duration;
  /**
   * How long the collector function's log group keeps logs.
   *
   * @default DEFAULT_LOG_RETENTION (RetentionDays.THREE_MONTHS, lib/defaults.ts)
   */
  readonly logRetention?: RetentionDays;
  /**
   * Extra environment variables, merged with the collector's own. The collector's
   * `SES_STATS_TABLE_NAME`, `SES_STATS_CONFIG_FILE`, `SES_STATS_BATCH_QUEUE_URL` and
   * `SES_STATS_SCHEDULE_MINUTES` cannot be overridden.
   *
   * @default - no extra variables
   */
  readonly environment?: Record<string, string>;
  /**
   * How often EventBridge Scheduler retries an invocation it could not deliver (0-185)
   * before sending it to the dead-letter queue.
   *
   * @default DEFAULT_RETRY_ATTEMPTS (3, lib/defaults.ts)
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge Scheduler keeps trying to deliver one invocation (1 minute to 24 hours).
   *
   * @default - the rate, at most MAX_DEFAULT_EVENT_AGE (1 hour, lib/defaults.ts): by then the next run fetches the same SES window
   */
  readonly maxEventAge?: Duration;
  /**
   * The collector function's source file (its `handler` export is invoked).
   *
   * @default - `lambda/handlers/collect.ts`
   */
  readonly entry?: string;
}

/**
 * The collector: a Lambda function (`collectorFunction`) that runs the email statistics activity
 * for every configured source, invoked at a fixed `rate` by an EventBridge Scheduler `schedule`.
 * Up to `batchSize` sources, a run collects them all and runs never overlap (reserved concurrency
 * 1). Above it, the scheduled run hands its sources, stalest first and one message per identity
 * and region (its message group), to the FIFO `batchQueue`, which the same function consumes
 * with at most `fanOutConcurrency` invocations at once, reporting failed messages one by one; a
 * message that fails BATCH_MAX_RECEIVE_COUNT times lands in `batchDeadLetterQueue`. Invocations that cannot be
 * delivered, failed runs (Lambda does not retry them: the next run fetches the same window) and
 * runs that waited longer than the rate land in that same encrypted dead-letter queue. Synth
 * refuses a config with a source that could not finish within the function's timeout at its worst.
 */
export class Collector extends Construct {
  /** The Lambda function that collects, one run at a time. */
  readonly collectorFunction: NodejsFunction;
  /** The collector function's role. */
  readonly role: Role;
  /** The role EventBridge Scheduler uses to invoke the collector function. */
  readonly schedulerRole: Role;
  /** The collector function's log group. */
  readonly logGroup: LogGroup;
  /** Undeliverable invocations and failed or expired runs. */
  readonly deadLetterQueue: Queue;
  /** The EventBridge Scheduler schedule invoking the collector function at `rate`. */
  readonly schedule: Schedule;
  /** How often the collector function runs. */
  readonly rate: Duration;
  /** The collector function's timeout: one source at its worst must fit in it. */
  readonly timeout: Duration;
  /**
   * The FIFO queue of batches, present only when the config has more sources than `batchSize`:
   * one message group per identity and region, so no two invocations ever work on one at once.
   */
  readonly batchQueue?: Queue;
  /** Where a batch that failed on every receive goes (FIFO, as its source queue must be). */
  readonly batchDeadLetterQueue?: Queue;

  constructor(scope: Construct, id: string, props: CollectorProps) {
    super(scope, id);
    const config = props.config ?? DeploymentConfig.default();
    this.rate = props.rate ?? Duration.minutes(config.settings.scheduleMinutes);
    validateProps(props, this.rate);
    this.timeout = props.timeout ?? DEFAULT_TIMEOUT;
    assertSourcesFitTimeout(config, this.timeout);
    const secrets = referencedSecrets(config);
    const { batchSize, fanOutConcurrency } = config.settings;
    const fansOut = config.settings.activities.length > batchSize;

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'ses-stats collector: SES statistics, its table, its log group',
    });
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    });
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    if (fansOut) {
      this.batchDeadLetterQueue = new Queue(this, 'BatchDeadLetterQueue', {
        fifo: true,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      this.batchQueue = new Queue(this, 'BatchQueue', {
        fifo: true,
        // High throughput: a run sends a message per group, 10,000 groups in a burst.
        deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(this.timeout.toSeconds() * BATCH_VISIBILITY_FACTOR),
        // A batch older than this would only repeat the next scheduled run's work.
        retentionPeriod: Duration.days(1),
        deadLetterQueue: {
          queue: this.batchDeadLetterQueue,
          maxReceiveCount: BATCH_MAX_RECEIVE_COUNT,
        },
      });
    }
    const environment = collectorEnvironment(props, this.batchQueue, this.rate);
    this.collectorFunction = new NodejsFunction(this, 'Function', {
      description: 'ses-stats collector: runs the email statistics activity for every source',
      entry: props.entry ?? COLLECT_HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: LOCK_FILE,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_SIZE_MB,
      timeout: this.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // One scheduled run at a time, plus the batch invocations when the run fans out.
      reservedConcurrentExecutions: fansOut ? fanOutConcurrency + 1 : 1,
      // The Scheduler invokes asynchronously: a failed run, or one that waited in Lambda's queue
      // (throttled behind a running one) longer than the rate, goes to this queue.
      retryAttempts: ASYNC_RETRY_ATTEMPTS,
      maxEventAge: defaultMaxEventAge(this.rate),
      deadLetterQueue: this.deadLetterQueue,
      environment,
      bundling: { ...LAMBDA_BUNDLING, commandHooks: shipConfig(this, config) },
    });
    this.grantPermissions(config, secrets, props.table);
    if (this.batchQueue !== undefined) {
      this.batchQueue.grantSendMessages(this.role);
      this.collectorFunction.addEventSource(
        new SqsEventSource(this.batchQueue, {
          batchSize: Math.min(batchSize, FIFO_MAX_BATCH_SIZE),
          maxConcurrency: fanOutConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }

    this.schedulerRole = this.createSchedulerRole();
    this.schedule = new Schedule(this, 'Schedule', {
      description: `ses-stats: collect SES statistics every ${this.rate.toHumanString()}`,
      schedule: ScheduleExpression.rate(this.rate),
      target: new LambdaInvoke(this.collectorFunction, {
        role: this.schedulerRole,
        retryAttempts: props.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
        maxEventAge: props.maxEventAge ?? defaultMaxEventAge(this.rate),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
    this.acknowledgeFindings(config);
  }

  /** Only EventBridge Scheduler's default group in this account may assume it. */
  private createSchedulerRole(): Role {
    const stack = Stack.of(this);
    return new Role(this, 'SchedulerRole', {
      description: 'ses-stats: lets the collector schedule invoke the collector',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
    });
  }

  private acknowledgeFindings(config: DeploymentConfig): void {
    const functionId = Stack.of(this).resolve(
      (this.collectorFunction.node.defaultChild as CfnFunction).logicalId,
    ) as string;
    Validations.of(this.schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason:
        'LambdaInvoke grants lambda:InvokeFunction on the function and its qualified ARNs (ARN:*); both name only the collector function',
    });
    Validations.of(this.role).acknowledge(
      resourceStarAcknowledgement(
        hasAccountDataset(config),
        'every other statement names its resources',
      ),
    );
    for (const acknowledgement of assumeRoleAcknowledgements(config))
      Validations.of(this.role).acknowledge(acknowledgement);
    if (this.batchQueue !== undefined)
      Validations.of(this.collectorFunction).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          "Lambda supports no on-failure destination for an SQS event source: a batch that keeps failing is moved by the batch queue's redrive policy to the batch dead-letter queue the BatchDeadLetters alarm watches",
      });
    if (this.batchDeadLetterQueue !== undefined)
      Validations.of(this.batchDeadLetterQueue).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is itself the dead-letter queue of the batch queue; the BatchDeadLetters alarm watches it',
      });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        "This queue is itself the dead-letter queue (of the schedule target and of the function's asynchronous runs); a redrive policy would move dead letters to yet another queue",
    });
    Validations.of(this.collectorFunction.node.findChild('EventInvokeConfig')).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        "Failed asynchronous runs already go to the function's dead-letter queue (DeadLetterConfig), the queue the schedule also uses and the DeadLetters alarm watches; an OnFailure destination as well would deliver every failure twice",
    });
    Validations.of(this.collectorFunction).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'A scheduled batch with no upstream request to trace; runs are observed through Powertools structured logs, EMF metrics and the alarms, and X-Ray would add a write permission on Resource "*" to the role',
    });
  }

  private grantPermissions(
    config: DeploymentConfig,
    secrets: readonly SecretReference[],
    table: ITable,
  ): void {
    const statements = [
      logStatement(this.logGroup),
      sesStatement(hasAccountDataset(config)),
      assumeRoleStatement(assumedRoleArns(config)),
      secretsStatement(this, secrets),
      tableStatement(table),
    ];
    for (const statement of statements)
      if (statement !== undefined) this.role.addToPolicy(statement);
  }
}

function defaultMaxEventAge(rate: Duration): Duration {
  if (rate.isUnresolved()) return MAX_DEFAULT_EVENT_AGE;
  return rate.toSeconds({ integral: false }) < MAX_DEFAULT_EVENT_AGE.toSeconds()
    ? rate
    : MAX_DEFAULT_EVENT_AGE;
}

function collectorEnvironment(
  props: CollectorProps,
  batchQueue: Queue | undefined,
  rate: Duration,
): Record<string, string> {
  const extra = props.environment ?? {};
  const reserved = [
    ENV.TABLE_NAME,
    ENV.CONFIG_FILE,
    ENV.BATCH_QUEUE_URL,
    ENV.SCHEDULE_MINUTES,
  ].filter((key) => key in extra);
  if (reserved.length > 0)
    throw new Error(
      `Collector environment: received ${reserved.join(', ')}; these variables are set by the collector itself and cannot be overridden`,
    );
  return {
    ...SOURCE_MAPS_ENVIRONMENT,
    POWERTOOLS_SERVICE_NAME: METRICS.SERVICE,
    POWERTOOLS_METRICS_NAMESPACE: METRICS.NAMESPACE,
    ...extra,
    [ENV.TABLE_NAME]: props.table.tableName,
    ...(rate.isUnresolved() ? {} : { [ENV.SCHEDULE_MINUTES]: String(rate.toMinutes()) }),
    ...(batchQueue === undefined ? {} : { [ENV.BATCH_QUEUE_URL]: batchQueue.queueUrl }),
  };
}

/**
 * Writes the config document where the bundling copies it into the asset, next to the handler,
 * as CONFIG_FILE_NAME: a file has no size limit (a function's environment holds 4 KB in all),
 * changes the asset's hash (a new config deploys new code) and costs no call at cold start. The file is named by its content's hash, so two collectors of
 * one app never share a name with different contents.
 */
function shipConfig(scope: Construct, config: DeploymentConfig): ICommandHooks {
  const json = config.toJson();
  const dir = join(Stage.of(scope)?.outdir ?? tmpdir(), 'ses-stats-config');
  const file = join(dir, `${createHash('sha256').update(json).digest('hex')}.json`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, json);
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => [
      `cp ${shellQuote(file)} ${shellQuote(join(outputDir, CONFIG_FILE_NAME))}`,
    ],
  };
}

function shellQuote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

function validateProps(props: CollectorProps, rate: Duration): void {
  if (!rate.isUnresolved()) {
    const minutes = rate.toSeconds({ integral: false }) / 60;
    if (
      !Number.isInteger(minutes) ||
      minutes < MIN_SCHEDULE_MINUTES ||
      minutes > MAX_SCHEDULE_MINUTES
    )
      throw new Error(
        `Collector rate: received ${minutes} minutes; expected whole minutes from ${MIN_SCHEDULE_MINUTES} to ${MAX_SCHEDULE_MINUTES} (${Duration.minutes(MAX_SCHEDULE_MINUTES).toHumanString()})`,
      );
  }
  checkRange('memorySize', props.memorySize, 128, 10240, 'an integer number of MB');
  checkDuration('timeout', props.timeout, Duration.seconds(1), Duration.minutes(15));
  checkRange('retryAttempts', props.retryAttempts, 0, 185, 'an integer');
  checkDuration('maxEventAge', props.maxEventAge, Duration.minutes(1), Duration.hours(24));
}

function checkRange(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  rule: string,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`Collector ${name}: received ${value}; expected ${rule} from ${min} to ${max}`);
}

function checkDuration(
  name: string,
  value: Duration | undefined,
  min: Duration,
  max: Duration,
): void {
  if (value === undefined || value.isUnresolved()) return;
  const seconds = value.toSeconds({ integral: false });
  if (seconds < min.toSeconds() || seconds > max.toSeconds())
    throw new Error(
      `Collector ${name}: received ${value.toHumanString()}; expected from ${min.toHumanString()} to ${max.toHumanString()}`,
    );
}
