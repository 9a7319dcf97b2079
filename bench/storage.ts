/**
 * Storage benchmark on AWS's DynamoDB Local with ReturnConsumedCapacity:
 * 1. write units per steady-state hourly run for a busy account (~1,300 points in the SES
 *    window), against the naive approach (rewrite every point each run) and against the minimum
 *    (changed points + affected hourly/daily rollups + fixed overhead), computed independently;
 * 2. read units for a one-year daily query against summing the year's raw points;
 * 3. the first fetch of a new dataset (the backfill of the whole SES window): write requests and
 *    write units, against writing its points with one conditional PutItem each (the per-item
 *    path every fetch took before). DynamoDB Local reports 2 units per TransactWriteItems call
 *    whatever its size; AWS bills 2 per item of up to 1 KB, so transactions are counted that way.
 */
import {
  BatchWriteItemCommand,
  type ConsumedCapacity,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoDbDatasetStore } from '../lambda/adapters/dynamodb-dataset-store.ts';
import { ensureTable } from '../lambda/adapters/dynamodb-table.ts';
import { startEmbeddedDynamoDb } from '../lambda/adapters/embedded-dynamodb.ts';
import type { StatisticsRow } from '../lambda/core/datasets.ts';
import { storeActivityResult } from '../lambda/core/persist.ts';
import { queryDataset } from '../lambda/core/query.ts';
import type { FetchedDatasets } from '../lambda/core/results.ts';
import type { DatasetStore } from '../lambda/core/store.ts';
import { dayStart, hourStart } from '../lambda/core/time.ts';
import { SesWorld } from '../test/support/ses-world.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEADY_RUNS = 48;
const world = new SesWorld();
const activity = {
  name: 'busy',
  source: 'bench',
  usageDataset: 'busy-usage',
  statisticsDataset: 'busy',
};

function rowsAt(now: number): StatisticsRow[] {
  return world.rows(now);
}

function resultAt(now: number): FetchedDatasets {
  return {
    activity,
    usage: {
      name: activity.usageDataset,
      rows: [
        {
          CollectedAt: new Date(now).toISOString(),
          Max24HourSend: 50000,
          MaxSendRate: 14,
          SentLast24Hours: 1234,
        },
      ],
    },
    statistics: { name: activity.statisticsDataset, rows: rowsAt(now) },
  };
}

/** Sums consumed capacity, writes and reads apart. */
class Meter {
  private units = { write: 0, read: 0 };
  /** What TransactWriteItems calls reported, within `write` (see the file's comment). */
  transactionUnits = 0;
  readonly record = (
    operation: string,
    capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  ) => {
    const kind = operation === 'GetItem' || operation === 'Query' ? 'read' : 'write';
    for (const c of [capacity ?? []].flat()) {
      this.units[kind] += c.CapacityUnits ?? 0;
      if (operation === 'TransactWriteItems') this.transactionUnits += c.CapacityUnits ?? 0;
    }
  };
  take(): { write: number; read: number } {
    const u = this.units;
    this.units = { write: 0, read: 0 };
    this.transactionUnits = 0;
    return u;
  }
}

/** Write requests sent (every attempt), and the items of the transactions that succeeded. */
class RequestCounter {
  private requests = 0;
  private transacted = 0;
  constructor(target: DynamoDBClient) {
    target.middlewareStack.add(
      (next, context) => async (args) => {
        const write = WRITE_COMMANDS.has(context.commandName ?? '');
        if (write) this.requests++;
        const out = await next(args);
        const items = (args.input as { TransactItems?: unknown[] }).TransactItems;
        if (items !== undefined) this.transacted += items.length;
        return out;
      },
      { step: 'finalizeRequest', name: 'benchRequestCounter', priority: 'low' },
    );
  }
  take(): { requests: number; transacted: number } {
    const taken = { requests: this.requests, transacted: this.transacted };
    this.requests = 0;
    this.transacted = 0;
    return taken;
  }
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

const db = await startEmbeddedDynamoDb(undefined);
const client = new DynamoDBClient({
  endpoint: db.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
const counter = new RequestCounter(client);
try {
  const backfill = await backfillBench();
  const writes = await writeBench();
  const reads = await readBench();
  print(writes, reads, backfill);
} finally {
  client.destroy();
  await db.stop();
}

async function newStore(meter: Meter) {
  const tableName = `bench-${Math.random().toString(36).slice(2)}`;
  await ensureTable(client, tableName, { where: 'DynamoDB Local' });
  return {
    tableName,
    store: new DynamoDbDatasetStore(client, { tableName, onConsumed: meter.record }),
  };
}

async function writeBench() {
  const meter = new Meter();
  const { store } = await newStore(meter);
  const start = Date.parse('2026-11-01T00:13:00Z');
  await storeActivityResult(store, resultAt(start), { fetchedAt: new Date(start) });
  meter.take();
  let ours = 0;
  let minimum = 0;
  let reads = 0;
  let points = 0;
  let seen = new Map(rowsAt(start).map((r) => [r.Timestamp, r]));
  for (let i = 1; i <= STEADY_RUNS; i++) {
    const now = start + i * HOUR;
    const rows = rowsAt(now);
    const report = await storeActivityResult(store, resultAt(now), { fetchedAt: new Date(now) });
    const used = meter.take();
    ours += used.write;
    reads += used.read;
    points += report.pointsWritten;
    // The minimum, from the SES views alone: changed points, their hours and days, plus one usage snapshot and two metadata items.
    const changed = rows.filter((r) => {
      const old = seen.get(r.Timestamp);
      return (
        old === undefined ||
        ((old.DeliveryAttempts !== r.DeliveryAttempts ||
          old.Bounces !== r.Bounces ||
          old.Complaints !== r.Complaints ||
          old.Rejects !== r.Rejects) &&
          !world.isEdge(Date.parse(r.Timestamp), now))
      );
    });
    minimum +=
      changed.length +
      new Set(changed.map((r) => hourStart(r.Timestamp))).size +
      new Set(changed.map((r) => dayStart(r.Timestamp))).size +
      3;
    seen = new Map([...seen, ...changed.map((r) => [r.Timestamp, r] as const)]);
  }
  const naive = await naiveRewrite(start + HOUR);
  return {
    points: rowsAt(start).length,
    ours: ours / STEADY_RUNS,
    minimum: minimum / STEADY_RUNS,
    naive,
    reads: reads / STEADY_RUNS,
    changed: points / STEADY_RUNS,
  };
}

/**
 * The first fetch into an empty table, twice: as ses-stats stores it (points in transactions of
 * 100, rollups in batches of 25) and with one conditional PutItem per point (the store without
 * `writePoints`, the per-item path), counting write requests and write units of each.
 */
async function backfillBench() {
  const start = Date.parse('2026-11-01T00:13:00Z');
  const measure = async (perItem: boolean) => {
    const meter = new Meter();
    const { store } = await newStore(meter);
    const target: DatasetStore = perItem
      ? new Proxy(store, {
          get: (t, key, receiver) =>
            key === 'writePoints' ? undefined : Reflect.get(t, key, receiver),
        })
      : store;
    counter.take();
    const report = await storeActivityResult(target, resultAt(start), {
      fetchedAt: new Date(start),
    });
    const { requests, transacted } = counter.take();
    // DynamoDB Local's figure for a transaction (2 units per call) is replaced by AWS's rule.
    const reported = meter.take().write - (transacted > 0 ? meter.transactionUnits : 0);
    return {
      requests,
      units: reported + 2 * transacted,
      items: report.pointsWritten + report.hourlyWritten + report.dailyWritten + 4,
    };
  };
  const batched = await measure(false);
  const perItem = await measure(true);
  return { batched, perItem };
}

/** The naive collector: BatchWriteItem of every point in the window, every run. */
async function naiveRewrite(now: number): Promise<number> {
  const meter = new Meter();
  const { tableName } = await newStore(meter);
  const items = rowsAt(now).map(({ Timestamp, ...counts }) => ({
    pk: 'busy#15m',
    sk: Timestamp,
    ...counts,
  }));
  for (let i = 0; i < items.length; i += 25) {
    const out = await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: items
            .slice(i, i + 25)
            .map((item) => ({ PutRequest: { Item: marshall(item) } })),
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    meter.record('BatchWriteItem', out.ConsumedCapacity);
  }
  return meter.take().write;
}

/** A year of raw points and their rollups, seeded directly (seeding is not what is measured). */
async function readBench() {
  const meter = new Meter();
  const { tableName, store } = await newStore(meter);
  const from = Date.parse('2025-11-28T00:00:00Z');
  const items: Record<string, unknown>[] = [];
  const hours = new Map<string, number[]>();
  const days = new Map<string, number[]>();
  for (let t = from + 7 * 60_000; t < from + 365 * DAY; t += 15 * 60_000) {
    const p = world.observed(t, t + DAY);
    if (p.deliveryAttempts + p.rejects === 0) continue;
    const counts = [p.deliveryAttempts, p.bounces, p.complaints, p.rejects, 1];
    items.push({
      pk: 'year#15m',
      sk: p.timestamp,
      DeliveryAttempts: counts[0],
      Bounces: counts[1],
      Complaints: counts[2],
      Rejects: counts[3],
      fetchedAt: new Date(t + DAY).toISOString(),
    });
    for (const [map, key] of [
      [hours, hourStart(p.timestamp)],
      [days, dayStart(p.timestamp)],
    ] as const) {
      const sum = map.get(key) ?? [0, 0, 0, 0, 0];
      map.set(
        key,
        sum.map((v, i) => v + (counts[i] ?? 0)),
      );
    }
  }
  for (const [granularity, map] of [
    ['1h', hours],
    ['1d', days],
  ] as const) {
    for (const [key, [a, b, c, r, n] = []] of map)
      items.push({
        pk: `year#${granularity}`,
        sk: key,
        DeliveryAttempts: a,
        Bounces: b,
        Complaints: c,
        Rejects: r,
        Points: n,
      });
  }
  items.push({
    pk: 'DATASETS',
    sk: 'year',
    kind: 'statistics',
    source: 'bench',
    activity: 'year',
    count: 0,
    gaps: [],
    version: 1,
  });
  for (let i = 0; i < items.length; i += 25) {
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: items
            .slice(i, i + 25)
            .map((item) => ({ PutRequest: { Item: marshall(item) } })),
        },
      }),
    );
  }
  const span = { from: '2025-11-28', to: '2026-11-28' };
  meter.take();
  const daily = await queryDataset(store, 'year', { ...span, granularity: '1d' });
  const dailyUnits = meter.take().read;
  const raw = await queryDataset(store, 'year', { ...span, granularity: '15m' });
  const rawUnits = meter.take().read;
  const rawTotal = raw.rows.reduce((s, r) => s + (r as StatisticsRow).DeliveryAttempts, 0);
  const dailyTotal = daily.rows.reduce((s, r) => s + (r as StatisticsRow).DeliveryAttempts, 0);
  if (rawTotal !== dailyTotal)
    throw new Error(`daily rollups (${dailyTotal}) disagree with the raw points (${rawTotal})`);
  return { rawPoints: raw.rows.length, days: daily.rows.length, dailyUnits, rawUnits };
}

function print(
  w: Awaited<ReturnType<typeof writeBench>>,
  r: Awaited<ReturnType<typeof readBench>>,
  b: Awaited<ReturnType<typeof backfillBench>>,
): void {
  const f = (n: number) => n.toFixed(1);
  console.log(
    `storage: busy account, ${w.points} points in the SES window, ${STEADY_RUNS} steady hourly runs (DynamoDB Local ${'3.3.1'}, ReturnConsumedCapacity)`,
  );
  console.log('write units per run      ses-stats   minimum   naive rewrite');
  console.log(
    `                         ${f(w.ours).padStart(9)}  ${f(w.minimum).padStart(8)}  ${f(w.naive).padStart(14)}`,
  );
  console.log(
    `  ses-stats / minimum: ${(w.ours / w.minimum).toFixed(2)}x (target <= 1.2x)   naive / ses-stats: ${(w.naive / w.ours).toFixed(0)}x fewer`,
  );
  console.log(
    `  (${f(w.changed)} points changed per run; the diff read of the window costs ${f(w.reads)} read units per run)`,
  );
  console.log(
    `read units, one year     daily query (${r.days} rows)   summing raw points (${r.rawPoints} rows)`,
  );
  console.log(
    `                         ${f(r.dailyUnits).padStart(24)}   ${f(r.rawUnits).padStart(30)}`,
  );
  console.log(`  daily / raw: 1/${(r.rawUnits / r.dailyUnits).toFixed(0)} (target <= 1/50)`);
  const requestRatio = b.batched.requests / b.perItem.requests;
  console.log(
    `first fetch (backfill)   ses-stats   one PutItem per point   (${b.batched.items} items: points, rollups, usage, metadata)`,
  );
  console.log(
    `  write requests         ${String(b.batched.requests).padStart(9)}   ${String(b.perItem.requests).padStart(21)}`,
  );
  console.log(
    `  write units            ${f(b.batched.units).padStart(9)}   ${f(b.perItem.units).padStart(21)}`,
  );
  console.log(
    `  requests ses-stats / per item: ${requestRatio.toFixed(3)}x (1/${(1 / requestRatio).toFixed(0)}; unconditional BatchWriteItem of every item: ${Math.ceil(b.batched.items / 25)}); write units ${(b.batched.units / b.perItem.units).toFixed(2)}x (transactions bill 2 per point)`,
  );
  console.log(
    JSON.stringify({
      bench: 'storage',
      windowPoints: w.points,
      writeUnitsPerRun: {
        sesStats: +f(w.ours),
        minimum: +f(w.minimum),
        naive: w.naive,
        ratioToMinimum: +(w.ours / w.minimum).toFixed(3),
        naiveOverSesStats: +(w.naive / w.ours).toFixed(1),
      },
      readUnitsPerRun: +f(w.reads),
      firstFetch: {
        items: b.batched.items,
        writeRequests: b.batched.requests,
        perItemWriteRequests: b.perItem.requests,
        requestRatio: +requestRatio.toFixed(4),
        writeUnits: +f(b.batched.units),
        perItemWriteUnits: +f(b.perItem.units),
      },
      oneYearDailyQuery: {
        readUnits: r.dailyUnits,
        rawReadUnits: r.rawUnits,
        rawOverDaily: +(r.rawUnits / r.dailyUnits).toFixed(1),
      },
      targetsMet: w.ours / w.minimum <= 1.2 && r.rawUnits / r.dailyUnits >= 50,
    }),
  );
}
