import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { MAX_RAW_RETENTION_DAYS, MIN_RAW_RETENTION_DAYS } from '../lambda/config/defaults.ts';
import { TABLE } from '../lambda/constants.ts';

export interface StatsTableProps {
  /**
   * How long raw 15-minute points are kept. When set, DynamoDB TTL is enabled on the
   * `expiresAt` attribute, which the collector stamps on raw points only; rollups,
   * usage snapshots, metadata and coverage never carry it and never expire.
   * Must be whole days from MIN_RAW_RETENTION_DAYS (30: raw points must outlive SES's 14-day
   * window) to MAX_RAW_RETENTION_DAYS (36,500), both in lambda/config/defaults.ts.
   *
   * @default - raw points are kept forever and TTL stays disabled
   */
  readonly rawRetention?: Duration;
}

/**
 * The one DynamoDB table holding every dataset: partitioned by dataset, sorted by time.
 * On-demand, point-in-time recovery, deletion protection, and retained when the stack is
 * deleted, since the history it holds cannot be fetched from SES again.
 */
export class StatsTable extends Construct {
  /**
   * Construct id of the table. A contract: renaming it replaces the table and loses its data.
   */
  static readonly TABLE_ID = 'Table';

  readonly table: Table;

  constructor(scope: Construct, id: string, props: StatsTableProps = {}) {
    super(scope, id);
    validateRawRetention(props.rawRetention);
    this.table = new Table(this, StatsTable.TABLE_ID, {
      partitionKey: { name: TABLE.PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: TABLE.SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.rawRetention === undefined ? {} : { timeToLiveAttribute: TABLE.TTL_ATTRIBUTE }),
    });
  }
}

function validateRawRetention(retention: Duration | undefined): void {
  if (retention === undefined || retention.isUnresolved()) return;
  const days = retention.toHours({ integral: false }) / 24;
  if (!Number.isInteger(days) || days < MIN_RAW_RETENTION_DAYS || days > MAX_RAW_RETENTION_DAYS)
    throw new Error(
      `StatsTable rawRetention: received ${retention.toHumanString()}; expected whole days from ${MIN_RAW_RETENTION_DAYS} (raw points must outlive SES's 14-day window) to ${MAX_RAW_RETENTION_DAYS} (100 years)`,
    );
}
