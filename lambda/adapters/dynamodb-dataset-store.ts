import {
  ConditionalCheckFailedException,
  type ConsumedCapacity,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../constants.ts';
import type { StatisticsRow, UsageRow } from '../core/datasets.ts';
import { StoreError } from '../core/errors.ts';
import type { DatasetMeta, DatasetStore, RollupRow, Span, StoredPoint } from '../core/store.ts';
import { describeAwsError } from './aws-errors.ts';

export interface DynamoDbDatasetStoreOptions {
  readonly tableName: string;
  /** Receives the capacity every call consumed (asks DynamoDB for it only when set). */
  readonly onConsumed?: (
    operation: string,
    capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  ) => void;
  /** How long unprocessed batch items are retried before giving up. @default 30 s */
  readonly unprocessedDeadlineMs?: number;
}

const { PARTITION_KEY: PK, SORT_KEY: SK, TTL_ATTRIBUTE } = TABLE;
const META_PK = 'DATASETS';
const BATCH_SIZE = 25;

/**
 * The DatasetStore on one DynamoDB table. Keys (all strings):
 * `DATASETS` / name → metadata; `name#15m` / Timestamp → raw point; `name#1h` and `name#1d` /
 * bucket start → rollup; `name#usage` / CollectedAt → usage snapshot. Every read is a Get or a
 * key-range Query.
 */
export class DynamoDbDatasetStore implements DatasetStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly capacity: { ReturnConsumedCapacity?: 'TOTAL' };

  constructor(
    client: DynamoDBClient,
    private readonly options: DynamoDbDatasetStoreOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.capacity = options.onConsumed === undefined ? {} : { ReturnConsumedCapacity: 'TOTAL' };
  }

  async getMeta(name: string): Promise<DatasetMeta | undefined> {
    const out = await this.call('GetItem', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { [PK]: META_PK, [SK]: name },
          ConsistentRead: true,
          ...this.capacity,
        }),
      ),
    );
    this.consumed('GetItem', out.ConsumedCapacity);
    return out.Item === undefined ? undefined : toMeta(out.Item);
  }

  async listMeta(): Promise<DatasetMeta[]> {
    return (await this.query(META_PK, undefined)).map(toMeta);
  }

  async putMeta(meta: DatasetMeta): Promise<boolean> {
    const { name, version, ...rest } = meta;
    return this.conditionalPut(
      { [PK]: META_PK, [SK]: name, ...rest, version: version + 1 },
      version === 0 ? 'attribute_not_exists(#pk)' : 'version = :version',
      version === 0 ? undefined : { ':version': version },
    );
  }

  async readPoints(name: string, span: Span, limit?: number): Promise<StoredPoint[]> {
    return (await this.query(`${name}#15m`, span, limit)).map((item) => ({
      ...countsOf(item),
      fetchedAt: String(item.fetchedAt),
    }));
  }

  async writePoint(
    name: string,
    point: StatisticsRow,
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean> {
    const { Timestamp, ...counts } = point;
    const expires =
      retentionDays === undefined
        ? {}
        : { [TTL_ATTRIBUTE]: Math.floor(Date.parse(Timestamp) / 1000) + retentionDays * 86_400 };
    // `<=`: a retried write whose first attempt landed (its answer lost) must still win.
    return this.conditionalPut(
      { [PK]: `${name}#15m`, [SK]: Timestamp, ...counts, fetchedAt, ...expires },
      'attribute_not_exists(#pk) OR fetchedAt <= :fetchedAt',
      { ':fetchedAt': fetchedAt },
    );
  }

  async readRollups(
    name: string,
    granularity: '1h' | '1d',
    span: Span,
    limit?: number,
  ): Promise<RollupRow[]> {
    return (await this.query(`${name}#${granularity}`, span, limit)).map((item) => ({
      ...countsOf(item),
      Points: Number(item.Points),
    }));
  }

  async writeRollups(
    name: string,
    granularity: '1h' | '1d',
    rows: readonly RollupRow[],
  ): Promise<void> {
    await this.batchPut(
      rows.map(({ Timestamp, ...sums }) => ({
        [PK]: `${name}#${granularity}`,
        [SK]: Timestamp,
        ...sums,
      })),
    );
  }

  async putUsage(name: string, row: UsageRow): Promise<void> {
    const { CollectedAt, ...values } = row;
    const out = await this.call('PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { [PK]: `${name}#usage`, [SK]: CollectedAt, ...values },
          ...this.capacity,
        }),
      ),
    );
    this.consumed('PutItem', out.ConsumedCapacity);
  }

  async readUsage(name: string, span: Span, limit?: number): Promise<UsageRow[]> {
    return (await this.query(`${name}#usage`, span, limit)).map((item) => ({
      CollectedAt: String(item[SK]),
      Max24HourSend: Number(item.Max24HourSend),
      MaxSendRate: Number(item.MaxSendRate),
      SentLast24Hours: Number(item.SentLast24Hours),
    }));
  }

  private get table(): string {
    return this.options.tableName;
  }

  /**
   * A Query of partition `pk`, every page; with a span, from <= sk < to; with a limit, pages of
   * at most that many items until it is reached (a page reads about what it returns).
   */
  private async query(
    pk: string,
    span: Span | undefined,
    limit?: number,
  ): Promise<Record<string, unknown>[]> {
    const input: QueryCommandInput = {
      TableName: this.table,
      KeyConditionExpression:
        span === undefined ? '#pk = :pk' : '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: span === undefined ? { '#pk': PK } : { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues:
        span === undefined ? { ':pk': pk } : { ':pk': pk, ':from': span.from, ':to': span.to },
      ...this.capacity,
    };
    const items: Record<string, unknown>[] = [];
    await this.call('Query', async () => {
      let start: Record<string, unknown> | undefined;
      do {
        // With a limit, each page asks for what is still missing, so nothing beyond it is read.
        const page = await this.doc.send(
          new QueryCommand({
            ...input,
            ...(limit === undefined ? {} : { Limit: limit - items.length }),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        this.consumed('Query', page.ConsumedCapacity);
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start !== undefined && (limit === undefined || items.length < limit));
    });
    // BETWEEN includes `to`; the span is half-open.
    return span === undefined ? items : items.filter((item) => String(item[SK]) < span.to);
  }

  private async conditionalPut(
    item: Record<string, unknown>,
    condition: string,
    values: Record<string, unknown> | undefined,
  ): Promise<boolean> {
    try {
      const out = await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: condition.includes('#pk') ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: values,
          ...this.capacity,
        }),
      );
      this.consumed('PutItem', out.ConsumedCapacity);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // A failed conditional write is still billed as a write; DynamoDB does not report its units.
        this.consumed('PutItem', { TableName: this.table, CapacityUnits: 1 });
        return false;
      }
      throw this.storeError('PutItem', error);
    }
  }

  /** BatchWriteItem in chunks of 25; unprocessed items are retried with backoff until a deadline. */
  private async batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    const deadline = Date.now() + (this.options.unprocessedDeadlineMs ?? 30_000);
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      let pending = items.slice(i, i + BATCH_SIZE).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) {
          if (Date.now() >= deadline)
            throw new StoreError(
              `DynamoDB table "${this.table}": ${pending.length} rollup items stayed unprocessed (throttled) until the ${this.options.unprocessedDeadlineMs ?? 30_000} ms deadline; rerun to complete them`,
            );
          await new Promise((r) =>
            setTimeout(r, Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2)),
          );
        }
        const out = await this.call('BatchWriteItem', () =>
          this.doc.send(
            new BatchWriteCommand({ RequestItems: { [this.table]: pending }, ...this.capacity }),
          ),
        );
        this.consumed('BatchWriteItem', out.ConsumedCapacity);
        pending = (out.UnprocessedItems?.[this.table] ?? []) as typeof pending;
      }
    }
  }

  private consumed(
    operation: string,
    capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  ): void {
    this.options.onConsumed?.(operation, capacity);
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.storeError(operation, error);
    }
  }

  private storeError(operation: string, error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    return new StoreError(
      `DynamoDB ${operation} on table "${this.table}" failed: ${describeAwsError(error, 'DynamoDB', operation)}`,
      { cause: error },
    );
  }
}

function countsOf(item: Record<string, unknown>): StatisticsRow {
  return {
    Timestamp: String(item[SK]),
    DeliveryAttempts: Number(item.DeliveryAttempts),
    Bounces: Number(item.Bounces),
    Complaints: Number(item.Complaints),
    Rejects: Number(item.Rejects),
  };
}

function toMeta(item: Record<string, unknown>): DatasetMeta {
  return {
    name: String(item[SK]),
    kind: item.kind === 'usage' ? 'usage' : 'statistics',
    source: String(item.source ?? ''),
    activity: String(item.activity ?? ''),
    firstTime: item.firstTime === undefined ? undefined : String(item.firstTime),
    lastTime: item.lastTime === undefined ? undefined : String(item.lastTime),
    count: Number(item.count ?? 0),
    coverage: item.coverage as Span | undefined,
    gaps: (item.gaps as Span[] | undefined) ?? [],
    ...(item.staleRollups === undefined
      ? {}
      : { staleRollups: item.staleRollups as Span[], staleBase: Number(item.staleBase ?? 0) }),
    ...(item.rawRetentionDays === undefined
      ? {}
      : { rawRetentionDays: Number(item.rawRetentionDays) }),
    version: Number(item.version ?? 0),
  };
}
