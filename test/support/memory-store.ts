import type {
  AccountRow,
  ReputationRow,
  StatisticsRow,
  UsageRow,
} from '../../lambda/core/datasets.ts';
import type {
  DatasetMeta,
  DatasetStore,
  RollupRow,
  Span,
  StoredPoint,
  StoredReputation,
} from '../../lambda/core/store.ts';

/** Items written, per kind: the observable cost of a store call. */
export interface WriteCounts {
  points: number;
  hourly: number;
  daily: number;
  usage: number;
  meta: number;
}

type Table<Row> = Map<string, Map<string, Row>>;

/**
 * The DatasetStore port in memory, with the DynamoDB adapter's semantics: key-ordered reads over
 * half-open spans (`from <= key < to`, keys compared as strings), optimistic meta versions and
 * fetch-time-conditional point writes. Counts what it writes and can simulate failures.
 */
export class MemoryDatasetStore implements DatasetStore {
  readonly writes: WriteCounts = { points: 0, hourly: 0, daily: 0, usage: 0, meta: 0 };
  /** Point write calls: `writePoint` once per point, `writePoints` once per batch of points. */
  readonly pointCalls = { writePoint: 0, writePoints: 0 };
  /**
   * Account dataset items written: states (`putAccountState` calls, and `putAccountChange` calls
   * that won) and reputation points (those that won). Kept apart from `writes`, whose shape tests
   * compare whole.
   */
  readonly accountWrites = { states: 0, reputation: 0 };
  private readonly metas = new Map<string, DatasetMeta>();
  private readonly points: Table<StoredPoint> = new Map();
  private readonly rollups: Record<'1h' | '1d', Table<RollupRow>> = {
    '1h': new Map(),
    '1d': new Map(),
  };
  private readonly usage: Table<UsageRow> = new Map();
  private readonly accountStates: Table<AccountRow> = new Map();
  private readonly reputation: Table<StoredReputation> = new Map();
  private metaLosses = 0;
  private metaLosesFor: string | undefined;
  private pointFailure: Error | undefined;
  /** Retention days each raw point was written with (name|Timestamp). */
  readonly retention = new Map<string, number>();

  /**
   * The next `count` putMeta and putAccountChange calls (for dataset `name` only, when given)
   * lose, as if another writer had written first (its version moves on).
   */
  losePutMeta(count: number, name?: string): void {
    this.metaLosses = count;
    this.metaLosesFor = name;
  }

  /**
   * The next point write throws `error` (an unreachable store), then writes work again; inside
   * `writePoints` the points before it stay written, as a batch cut short leaves them.
   */
  failNextWritePoint(error = new Error('simulated writePoint failure')): void {
    this.pointFailure = error;
  }

  async getMeta(name: string): Promise<DatasetMeta | undefined> {
    return this.metas.get(name);
  }

  async listMeta(): Promise<DatasetMeta[]> {
    return sorted(this.metas).map(([, meta]) => meta);
  }

  async putMeta(meta: DatasetMeta): Promise<boolean> {
    return this.writeMeta(meta, () => undefined);
  }

  /**
   * `meta` if the stored version is still `meta.version` (a simulated loss moves it on), and
   * `alongside` with it; neither otherwise.
   */
  private writeMeta(meta: DatasetMeta, alongside: () => void): boolean {
    const stored = this.metas.get(meta.name);
    if (
      this.metaLosses > 0 &&
      (this.metaLosesFor === undefined || this.metaLosesFor === meta.name)
    ) {
      this.metaLosses--;
      if (stored !== undefined)
        this.metas.set(meta.name, { ...stored, version: stored.version + 1 });
      return false;
    }
    if ((stored?.version ?? 0) !== meta.version) return false;
    alongside();
    this.metas.set(meta.name, { ...meta, version: meta.version + 1 });
    this.writes.meta++;
    return true;
  }

  async readPoints(name: string, span: Span, limit?: number): Promise<StoredPoint[]> {
    return within(this.points.get(name), span, limit);
  }

  async writePoint(
    name: string,
    point: StatisticsRow,
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean> {
    this.pointCalls.writePoint++;
    return this.putPoint(name, point, fetchedAt, retentionDays);
  }

  /** One call for every point, each conditional as `writePoint` is; a simulated failure stops it. */
  async writePoints(
    name: string,
    points: readonly StatisticsRow[],
    fetchedAt: string,
    retentionDays?: number,
  ): Promise<boolean[]> {
    this.pointCalls.writePoints++;
    const won: boolean[] = [];
    for (const point of points) won.push(this.putPoint(name, point, fetchedAt, retentionDays));
    return won;
  }

  private putPoint(
    name: string,
    point: StatisticsRow,
    fetchedAt: string,
    retentionDays: number | undefined,
  ): boolean {
    const failure = this.pointFailure;
    if (failure !== undefined) {
      this.pointFailure = undefined;
      throw failure;
    }
    const stored = this.points.get(name)?.get(point.Timestamp);
    if (stored !== undefined && stored.fetchedAt > fetchedAt) return false;
    put(this.points, name, point.Timestamp, { ...point, fetchedAt });
    if (retentionDays !== undefined)
      this.retention.set(`${name}|${point.Timestamp}`, retentionDays);
    this.writes.points++;
    return true;
  }

  async readRollups(
    name: string,
    granularity: '1h' | '1d',
    span: Span,
    limit?: number,
  ): Promise<RollupRow[]> {
    return within(this.rollups[granularity].get(name), span, limit);
  }

  async writeRollups(
    name: string,
    granularity: '1h' | '1d',
    rows: readonly RollupRow[],
  ): Promise<void> {
    for (const row of rows) put(this.rollups[granularity], name, row.Timestamp, { ...row });
    this.writes[granularity === '1h' ? 'hourly' : 'daily'] += rows.length;
  }

  async putUsage(name: string, row: UsageRow): Promise<void> {
    put(this.usage, name, row.CollectedAt, { ...row });
    this.writes.usage++;
  }

  async readUsage(name: string, span: Span, limit?: number): Promise<UsageRow[]> {
    return within(this.usage.get(name), span, limit);
  }

  async readAccountStates(name: string, span: Span, limit?: number): Promise<AccountRow[]> {
    return within(this.accountStates.get(name), span, limit);
  }

  /** Keyed by FirstSeen; a rewrite keeps the later LastSeen of the stored and the new row. */
  async putAccountState(name: string, row: AccountRow): Promise<void> {
    this.putState(name, row);
  }

  /** The state as `putAccountState` writes it, and `meta` with `putMeta`'s check: both or neither. */
  async putAccountChange(name: string, row: AccountRow, meta: DatasetMeta): Promise<boolean> {
    return this.writeMeta(meta, () => this.putState(name, row));
  }

  private putState(name: string, row: AccountRow): void {
    const stored = this.accountStates.get(name)?.get(row.FirstSeen);
    const lastSeen =
      stored !== undefined && stored.LastSeen > row.LastSeen ? stored.LastSeen : row.LastSeen;
    put(this.accountStates, name, row.FirstSeen, { ...row, LastSeen: lastSeen });
    this.accountWrites.states++;
  }

  async readReputation(name: string, span: Span, limit?: number): Promise<StoredReputation[]> {
    return within(this.reputation.get(name), span, limit);
  }

  /** Each point conditional on `fetchedAt`, as `writePoint` is. */
  async writeReputation(
    name: string,
    rows: readonly ReputationRow[],
    fetchedAt: string,
  ): Promise<boolean[]> {
    return rows.map((row) => {
      const stored = this.reputation.get(name)?.get(row.Timestamp);
      if (stored !== undefined && stored.fetchedAt > fetchedAt) return false;
      put(this.reputation, name, row.Timestamp, { ...row, fetchedAt });
      this.accountWrites.reputation++;
      return true;
    });
  }
}

function put<Row>(table: Table<Row>, name: string, key: string, row: Row): void {
  const rows = table.get(name) ?? new Map<string, Row>();
  rows.set(key, row);
  table.set(name, rows);
}

function within<Row>(rows: Map<string, Row> | undefined, span: Span, limit?: number): Row[] {
  if (rows === undefined) return [];
  return sorted(rows)
    .filter(([key]) => span.from <= key && key < span.to)
    .slice(0, limit)
    .map(([, row]) => ({ ...row }));
}

function sorted<Row>(rows: Map<string, Row>): Array<[string, Row]> {
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
