import {
  type CancellationReason,
  ConditionalCheckFailedException,
  type ConsumedCapacity,
  type DynamoDBClient,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../constants.ts';
import { mapLimited } from '../core/concurrency.ts';
import type { AccountRow, ReputationRow, StatisticsRow, UsageRow } from '../core/datasets.ts';
import { StoreError } from '../core/errors.ts';
import type {
  DatasetKind,
  DatasetMeta,
  DatasetStore,
  RollupRow,
  Span,
  StoredPoint,
  StoredReputation,
} from '../core/store.ts';
import { describeAwsError } from './aws-errors.ts';

export interface DynamoDbDatasetStoreOptions {
  readonly tableName: string;
  /** Receives the capacity every call consumed (asks DynamoDB for it only when set). */
  readonly onConsumed?: (
    operation: string,
    capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  ) => void;
  /**
   * How long unprocessed batch items, points of a transaction cancelled by a conflict or a
   * throttle, and point writes meeting a transaction are retried before giving up. @default 30 s
   */
  readonly unprocessedDeadlineMs?: number;
}

const { PARTITION_KEY: PK, SORT_KEY: SK, TTL_ATTRIBUTE } = TABLE;
const META_PK = 'DATASETS';
const BATCH_SIZE = 25;
/** Actions in one TransactWriteItems: DynamoDB's limit. */
const TRANSACTION_SIZE = 100;
/** Transactions of one `writePoints` call in flight at once. */
const TRANSACTION_CONCURRENCY = 4;
const DEFAULT_DEADLINE_MS = 30_000;
/** A point's condition: no copy yet, or one from this fetch or an older one. */
const POINT_CONDITION = 'attribute_not_exists(#pk) OR fetchedAt <= :fetchedAt';
/** An account state's Put: no copy yet, or one last seen no later than this one. */
const STATE_CONDITION = 'attribute_not_exists(#pk) OR LastSeen <= :lastSeen';
/** Attempts of `putAccountState`'s Put-then-Update; two suffice unless items are deleted meanwhile. */
const STATE_ATTEMPTS = 3;
const KINDS: readonly DatasetKind[] = ['usage', 'statistics', 'account'];
/** Cancellation reasons that say nothing about the point itself: sent again in a new transaction. */
const RETRIED_REASONS = new Set([
  'None',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** What a conditional batch writes, for its error messages. */
interface Noun {
  readonly one: string;
  readonly many: string;
}
const RAW_POINT: Noun = { one: 'raw point', many: 'raw points' };
const REPUTATION_POINT: Noun = { one: 'reputation point', many: 'reputation points' };

/**
 * The DatasetStore on one DynamoDB table. Keys (all strings):
 * `DATASETS` / name → metadata; `name#15m` / Timestamp → raw point; `name#1h` and `name#1d` /
 * bucket start → rollup; `name#usage` / CollectedAt → usage snapshot; `name#account` / FirstSeen
 * → account state; `name#reputation` / Timestamp → reputation point. Every read is a Get or a
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
    return this.conditionalPut(metaWrite(meta));
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
    // `<=`: a retried write whose first attempt landed (its answer lost) must still win.
    return this.conditionalPut({
      item: pointItem(name, point, fetchedAt, retentionDays),
      condition: POINT_CONDITION,
      values: { ':fetchedAt': fetchedAt },
    });
  }

  /**
   * TransactWriteItems of up to 100 points, each Put with `writePoint`'s condition, so a newer
   * fetch's copy is never overwritten (an unconditional BatchWriteItem could not promise that).
   * A transaction is all or nothing: when DynamoDB cancels it, its reasons say which points lost
   * (`ConditionalCheckFailed`: false) and the others are sent again in a new transaction, after a
   * backoff when a conflict or a throttle was among the reasons, until the deadline. A Timestamp
   * given twice goes into a later round (one transaction cannot write an item twice). A retried
   * transaction whose answer was lost is harmless: the SDK resends its idempotency token, and the
   * `<=` condition lets this fetch's own copy be written again.
   */
  async writePoints(
    name: string,
    points: readonly StatisticsRow[],
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean[]> {
    return this.writeFetched(
      name,
      points.map((point) => pointItem(name, point, fetchedAt, retentionDays)),
      fetchedAt,
      RAW_POINT,
    );
  }

  /**
   * Items of one fetch, each conditional on `fetchedAt` (`POINT_CONDITION`), in TransactWriteItems
   * of up to 100 (see `writePoints`); true where an item was written, in the order given.
   */
  private async writeFetched(
    name: string,
    items: readonly Record<string, unknown>[],
    fetchedAt: string,
    noun: Noun,
  ): Promise<boolean[]> {
    const won = new Array<boolean>(items.length).fill(false);
    const deadline = Date.now() + this.deadlineMs;
    for (const round of rounds(items.map((item) => String(item[SK])))) {
      const chunks: number[][] = [];
      for (let i = 0; i < round.length; i += TRANSACTION_SIZE)
        chunks.push(round.slice(i, i + TRANSACTION_SIZE));
      await mapLimited(chunks, TRANSACTION_CONCURRENCY, async (chunk) => {
        const batch = chunk.map((i) => items[i] as Record<string, unknown>);
        const outcome = await this.transactPuts(batch, fetchedAt, deadline, name, noun);
        chunk.forEach((i, k) => {
          won[i] = outcome[k] === true;
        });
      });
    }
    return won;
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

  async readAccountStates(name: string, span: Span, limit?: number): Promise<AccountRow[]> {
    // Strongly consistent: the latest state decides what a run writes.
    return (await this.query(`${name}#account`, span, limit, true)).map((item) => ({
      FirstSeen: String(item[SK]),
      LastSeen: String(item.LastSeen),
      EnforcementStatus: String(item.EnforcementStatus),
      SendingEnabled: item.SendingEnabled === true,
      ProductionAccessEnabled: item.ProductionAccessEnabled === true,
      ReviewStatus: stringOrNull(item.ReviewStatus),
      ReviewCaseId: stringOrNull(item.ReviewCaseId),
      Max24HourSend: Number(item.Max24HourSend),
      MaxSendRate: Number(item.MaxSendRate),
    }));
  }

  /**
   * A Put conditional on the stored LastSeen being no later than this one. When it fails (a later
   * sighting is stored, e.g. from a run that overtook this one), an Update writes the other
   * columns and leaves that LastSeen; the two conditions are complements, so one of them holds.
   */
  async putAccountState(name: string, row: AccountRow): Promise<void> {
    for (let attempt = 1; attempt <= STATE_ATTEMPTS; attempt++) {
      if (await this.conditionalPut(stateWrite(name, row))) return;
      if (await this.keepLastSeen(name, row)) return;
    }
    throw this.stateLeftError(name, row.FirstSeen);
  }

  private stateLeftError(name: string, firstSeen: string): StoreError {
    return new StoreError(
      `DynamoDB table "${this.table}": account state ${firstSeen} of dataset "${name}" was neither written nor found with a later LastSeen in ${STATE_ATTEMPTS} attempts (was it deleted meanwhile?); rerun to write it`,
    );
  }

  /** The other columns of a state stored with a LastSeen later than `row`'s; false if it is not. */
  private async keepLastSeen(name: string, row: AccountRow): Promise<boolean> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({ ...this.lastSeenUpdate(name, row), ...this.capacity }),
      );
      this.consumed('UpdateItem', out.ConsumedCapacity);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        this.consumed('UpdateItem', { TableName: this.table, CapacityUnits: 1 });
        return false;
      }
      throw this.storeError('UpdateItem', error);
    }
  }

  /**
   * One TransactWriteItems: `putAccountState`'s conditional Put of the state and `putMeta`'s
   * conditional Put of the metadata. A failed version check cancels both (false). When only the
   * state's condition fails (a later LastSeen is stored under this FirstSeen), the state goes as
   * `putAccountState`'s Update instead, in a new transaction with the metadata, and back, at most
   * `STATE_ATTEMPTS` times each. Conflicts and throttling are sent again, after a backoff, until
   * the deadline, as `writePoints` does. A transaction the SDK retries after losing its answer
   * carries the same idempotency token, so DynamoDB answers it as it answered the first.
   */
  async putAccountChange(name: string, row: AccountRow, meta: DatasetMeta): Promise<boolean> {
    const metaPut = { Put: this.putInput(metaWrite(meta)) };
    const statePut = { Put: this.putInput(stateWrite(name, row)) };
    const stateUpdate = { Update: this.lastSeenUpdate(name, row) };
    const deadline = Date.now() + this.deadlineMs;
    let keep = false;
    for (let attempt = 0, switches = 0, wait = false; ; attempt++) {
      if (attempt > 0 && Date.now() >= deadline) throw this.changeLeftError(name, row.FirstSeen);
      if (wait) await backoff(attempt);
      try {
        const out = await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [keep ? stateUpdate : statePut, metaPut],
            ...this.capacity,
          }),
        );
        this.consumed('TransactWriteItems', out.ConsumedCapacity);
        return true;
      } catch (error) {
        const reasons = cancellationReasons(error, 2);
        if (reasons === undefined) throw this.storeError('TransactWriteItems', error);
        const [stateReason, metaReason] = reasons as [CancellationReason, CancellationReason];
        if (metaReason.Code === 'ConditionalCheckFailed') return false;
        this.checkRetried(name, `account state ${row.FirstSeen}`, stateReason, error);
        this.checkRetried(name, 'metadata', metaReason, error);
        wait = stateReason.Code !== 'ConditionalCheckFailed';
        if (wait) continue;
        // The complementary condition holds now, unless the state changed again meanwhile.
        if (++switches === 2 * STATE_ATTEMPTS) throw this.stateLeftError(name, row.FirstSeen);
        keep = !keep;
      }
    }
  }

  private changeLeftError(name: string, firstSeen: string): StoreError {
    return new StoreError(
      `DynamoDB table "${this.table}": account state ${firstSeen} of dataset "${name}" and its metadata were still refused (transaction conflicts or throttling) at the ${this.deadlineMs} ms deadline; rerun to write them`,
    );
  }

  /** `putAccountState`'s Update: the columns other than LastSeen, where a later LastSeen is stored. */
  private lastSeenUpdate(name: string, row: AccountRow) {
    const { FirstSeen, LastSeen, ...state } = row;
    const columns = Object.keys(state);
    return {
      TableName: this.table,
      Key: { [PK]: `${name}#account`, [SK]: FirstSeen },
      UpdateExpression: `SET ${columns.map((c) => `#${c} = :${c}`).join(', ')}`,
      ConditionExpression: 'LastSeen > :lastSeen',
      ExpressionAttributeNames: Object.fromEntries(columns.map((c) => [`#${c}`, c])),
      ExpressionAttributeValues: {
        ':lastSeen': LastSeen,
        ...Object.fromEntries(Object.entries(state).map(([c, v]) => [`:${c}`, v])),
      },
    };
  }

  async readReputation(name: string, span: Span, limit?: number): Promise<StoredReputation[]> {
    return (await this.query(`${name}#reputation`, span, limit)).map((item) => ({
      Timestamp: String(item[SK]),
      BounceRate: numberOrNull(item.BounceRate),
      ComplaintRate: numberOrNull(item.ComplaintRate),
      fetchedAt: String(item.fetchedAt),
    }));
  }

  /** Conditional transactions of up to 100 points, exactly as `writePoints`. */
  async writeReputation(
    name: string,
    rows: readonly ReputationRow[],
    fetchedAt: string,
  ): Promise<boolean[]> {
    return this.writeFetched(
      name,
      rows.map(({ Timestamp, ...rates }) => ({
        [PK]: `${name}#reputation`,
        [SK]: Timestamp,
        ...rates,
        fetchedAt,
      })),
      fetchedAt,
      REPUTATION_POINT,
    );
  }

  private get table(): string {
    return this.options.tableName;
  }

  /**
   * A Query of partition `pk`, every page; with a span, from <= sk < to; with a limit, pages of
   * at most that many items until it is reached (a page reads about what it returns). With
   * `consistent`, strongly consistent reads (twice the read units).
   */
  private async query(
    pk: string,
    span: Span | undefined,
    limit?: number,
    consistent = false,
  ): Promise<Record<string, unknown>[]> {
    const input: QueryCommandInput = {
      TableName: this.table,
      ...(consistent ? { ConsistentRead: true } : {}),
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

  private async conditionalPut(write: ConditionalItem): Promise<boolean> {
    const deadline = Date.now() + this.deadlineMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.doc.send(
          new PutCommand({ ...this.putInput(write), ...this.capacity }),
        );
        this.consumed('PutItem', out.ConsumedCapacity);
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          // A failed conditional write is still billed as a write; DynamoDB does not report its units.
          this.consumed('PutItem', { TableName: this.table, CapacityUnits: 1 });
          return false;
        }
        // The item is in a concurrent backfill's transaction (which the SDK does not retry):
        // once that transaction is done, the condition decides as usual.
        if (error instanceof TransactionConflictException && Date.now() < deadline) {
          await backoff(attempt);
          continue;
        }
        throw this.storeError('PutItem', error);
      }
    }
  }

  /** A conditional Put's parameters, for a PutItem or a transaction's Put. */
  private putInput({ item, condition, values }: ConditionalItem) {
    return {
      TableName: this.table,
      Item: item,
      ConditionExpression: condition,
      ExpressionAttributeNames: condition.includes('#pk') ? { '#pk': PK } : undefined,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * A transaction's cancellation reason for `what` either says nothing about it (sent again) or
   * is a failed condition (the caller decides); anything else fails the write.
   */
  private checkRetried(
    name: string,
    what: string,
    reason: CancellationReason,
    cause: unknown,
  ): void {
    const code = reason.Code ?? 'None';
    if (code === 'ConditionalCheckFailed' || RETRIED_REASONS.has(code)) return;
    throw new StoreError(
      `DynamoDB TransactWriteItems on table "${this.table}" failed for ${what} of dataset "${name}": ${code}${reason.Message === undefined ? '' : ` (${reason.Message})`}`,
      { cause },
    );
  }

  /**
   * One TransactWriteItems of conditional point Puts, sent again without the points that lost
   * until every other point is written; true where a point was written.
   */
  private async transactPuts(
    items: readonly Record<string, unknown>[],
    fetchedAt: string,
    deadline: number,
    name: string,
    noun: Noun,
  ): Promise<boolean[]> {
    const won = new Array<boolean>(items.length).fill(false);
    let pending = items.map((_, i) => i);
    for (let attempt = 0, wait = false; pending.length > 0; attempt++) {
      // Every resend is bounded by the deadline, even one no reason asked to wait for.
      if (attempt > 0 && Date.now() >= deadline)
        throw this.pointsLeftError(name, items, pending, noun);
      if (wait) await backoff(attempt);
      try {
        const out = await this.doc.send(
          new TransactWriteCommand({
            TransactItems: pending.map((i) => ({
              Put: {
                TableName: this.table,
                Item: items[i],
                ConditionExpression: POINT_CONDITION,
                ExpressionAttributeNames: { '#pk': PK },
                ExpressionAttributeValues: { ':fetchedAt': fetchedAt },
              },
            })),
            ...this.capacity,
          }),
        );
        this.consumed('TransactWriteItems', out.ConsumedCapacity);
        for (const i of pending) won[i] = true;
        pending = [];
      } catch (error) {
        const reasons = cancellationReasons(error, pending.length);
        if (reasons === undefined) throw this.storeError('TransactWriteItems', error);
        const next: number[] = [];
        wait = false;
        reasons.forEach((reason, k) => {
          const i = pending[k] as number;
          const code = reason.Code ?? 'None';
          this.checkRetried(name, `${noun.one} ${String(items[i]?.[SK])}`, reason, error);
          if (code === 'ConditionalCheckFailed') return; // a newer fetch holds this point
          if (code !== 'None') wait = true;
          next.push(i);
        });
        pending = next;
      }
    }
    return won;
  }

  private pointsLeftError(
    name: string,
    items: readonly Record<string, unknown>[],
    pending: readonly number[],
    noun: Noun,
  ): StoreError {
    const keys = pending.map((i) => String(items[i]?.[SK])).sort();
    return new StoreError(
      `DynamoDB table "${this.table}": ${pending.length} ${noun.many} of dataset "${name}" (${keys[0]} to ${keys.at(-1)}) were still refused (transaction conflicts or throttling) at the ${this.deadlineMs} ms deadline; rerun to complete them`,
    );
  }

  private get deadlineMs(): number {
    return this.options.unprocessedDeadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  /**
   * BatchWriteItem in chunks of 25 (rollups: derived data, see `isBackfill` in the core);
   * unprocessed items are retried with backoff until a deadline, then a StoreError names the
   * table and the items left unwritten.
   */
  private async batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    const deadline = Date.now() + this.deadlineMs;
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      let pending = items.slice(i, i + BATCH_SIZE).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) {
          if (Date.now() >= deadline)
            throw this.itemsLeftError([
              ...pending.map((request) => request.PutRequest.Item),
              ...items.slice(i + BATCH_SIZE),
            ]);
          await backoff(attempt);
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

  private itemsLeftError(left: readonly Record<string, unknown>[]): StoreError {
    const partitions = [...new Set(left.map((item) => String(item[PK])))].sort();
    const keys = left.map((item) => String(item[SK])).sort();
    return new StoreError(
      `DynamoDB table "${this.table}": ${left.length} rollup items stayed unprocessed (throttled) until the ${this.deadlineMs} ms deadline (${partitions.join(', ')}: ${keys[0]} to ${keys.at(-1)}); rerun to complete them`,
    );
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

/** An item and the condition it is written on. */
interface ConditionalItem {
  readonly item: Record<string, unknown>;
  readonly condition: string;
  readonly values: Record<string, unknown> | undefined;
}

/** `putMeta`'s write: a create when `meta.version` is 0, else an update of that version. */
function metaWrite(meta: DatasetMeta): ConditionalItem {
  const { name, version, ...rest } = meta;
  return {
    item: { [PK]: META_PK, [SK]: name, ...rest, version: version + 1 },
    condition: version === 0 ? 'attribute_not_exists(#pk)' : 'version = :version',
    values: version === 0 ? undefined : { ':version': version },
  };
}

/** `putAccountState`'s Put: a new state, or one stored with a LastSeen no later than `row`'s. */
function stateWrite(name: string, row: AccountRow): ConditionalItem {
  const { FirstSeen, ...columns } = row;
  return {
    item: { [PK]: `${name}#account`, [SK]: FirstSeen, ...columns },
    condition: STATE_CONDITION,
    values: { ':lastSeen': row.LastSeen },
  };
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
    kind: KINDS.includes(item.kind as DatasetKind) ? (item.kind as DatasetKind) : 'statistics',
    source: String(item.source ?? ''),
    activity: String(item.activity ?? ''),
    firstTime: item.firstTime === undefined ? undefined : String(item.firstTime),
    lastTime: item.lastTime === undefined ? undefined : String(item.lastTime),
    count: Number(item.count ?? 0),
    ...(item.lastChange === undefined ? {} : { lastChange: String(item.lastChange) }),
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

/** A raw point's item, with its expiry when the dataset's raw points expire. */
function pointItem(
  name: string,
  point: StatisticsRow,
  fetchedAt: string,
  retentionDays: number | undefined,
): Record<string, unknown> {
  const { Timestamp, ...counts } = point;
  const expires =
    retentionDays === undefined
      ? {}
      : { [TTL_ATTRIBUTE]: Math.floor(Date.parse(Timestamp) / 1000) + retentionDays * 86_400 };
  return { [PK]: `${name}#15m`, [SK]: Timestamp, ...counts, fetchedAt, ...expires };
}

function stringOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

function numberOrNull(value: unknown): number | null {
  return value === undefined || value === null ? null : Number(value);
}

/**
 * The indexes of `keys` in rounds: each key at most once per round, its first copy in the first
 * round, its second in the next, and so on.
 */
function rounds(keys: readonly string[]): number[][] {
  const seen = new Map<string, number>();
  const out: number[][] = [];
  keys.forEach((key, i) => {
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    const list = out[round] ?? [];
    list.push(i);
    out[round] = list;
  });
  return out;
}

/** The per-action reasons of a cancelled transaction of `count` actions, else undefined. */
function cancellationReasons(error: unknown, count: number): CancellationReason[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons;
  return reasons !== undefined && reasons.length === count ? reasons : undefined;
}

/** Exponential backoff with jitter: 25 ms doubling up to 2 s, times 0.5-1. */
function backoff(attempt: number): Promise<void> {
  return new Promise((r) =>
    setTimeout(r, Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2)),
  );
}
