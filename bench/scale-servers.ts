/**
 * Two local servers bench/scale.ts puts between the real collect handler and its AWS services,
 * so the handler runs unchanged (its clients reach them through AWS_ENDPOINT_URL_*):
 * - a meter in front of DynamoDB Local that asks every request for its consumed capacity
 *   (`ReturnConsumedCapacity: TOTAL`, which the handler's store does not ask for) and sums it;
 * - a fake SQS queue that takes `SendMessageBatch` (AWS JSON protocol) and keeps the messages.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Usage {
  writeUnits: number;
  readUnits: number;
  /** Requests per operation (`PutItem`, `Query`, …). */
  readonly requests: Record<string, number>;
  /** Milliseconds DynamoDB Local took per operation, summed over its requests. */
  readonly ms: Record<string, number>;
}

export interface DynamoDbMeter {
  readonly url: string;
  /** Returns what was consumed since the last take, and starts again from zero. */
  take(): Usage;
  close(): Promise<void>;
}

/** Every operation that can return its consumed capacity. */
const CAPACITY_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'TransactGetItems',
]);
const READ_OPERATIONS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

interface Capacity {
  CapacityUnits?: number;
}

/**
 * Forwards to `target` (DynamoDB Local, which checks no signature, so the changed body is fine).
 * DynamoDB Local reports 2 units per TransactWriteItems call whatever its size; AWS bills 2 per
 * item of up to 1 KB, so a transaction is counted as 2 × its items (as bench/storage.ts does).
 */
export async function startDynamoDbMeter(target: string): Promise<DynamoDbMeter> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const upstream = new URL(target);
  let usage: Usage = { writeUnits: 0, readUnits: 0, requests: {}, ms: {} };
  const server = createServer((req, res) => {
    void readBody(req).then(
      (body) => {
        const operation = (req.headers['x-amz-target'] ?? '').toString().split('.')[1] ?? '';
        usage.requests[operation] = (usage.requests[operation] ?? 0) + 1;
        let sent = body;
        let transactItems = 0;
        if (CAPACITY_OPERATIONS.has(operation)) {
          const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          input.ReturnConsumedCapacity = 'TOTAL';
          transactItems = (input.TransactItems as unknown[] | undefined)?.length ?? 0;
          sent = Buffer.from(JSON.stringify(input));
        }
        const sentAt = performance.now();
        const headers = { ...req.headers, 'content-length': String(sent.length) };
        const forward = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers,
            agent,
          },
          (answer) => {
            void readBody(answer).then((out) => {
              usage.ms[operation] = (usage.ms[operation] ?? 0) + performance.now() - sentAt;
              if (CAPACITY_OPERATIONS.has(operation) && answer.statusCode === 200)
                count(operation, out, transactItems);
              res.writeHead(answer.statusCode ?? 500, answer.headers);
              res.end(out);
            });
          },
        );
        forward.on('error', (error) => fail(res, error));
        forward.end(sent);
      },
      (error: unknown) => fail(res, error),
    );
  });
  const count = (operation: string, out: Buffer, transactItems: number) => {
    const parsed = JSON.parse(out.toString('utf8')) as { ConsumedCapacity?: Capacity | Capacity[] };
    const units =
      operation === 'TransactWriteItems'
        ? 2 * transactItems
        : [parsed.ConsumedCapacity ?? []].flat().reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
    if (READ_OPERATIONS.has(operation)) usage.readUnits += units;
    else usage.writeUnits += units;
  };
  const url = await listen(server);
  return {
    url,
    take() {
      const taken = usage;
      usage = { writeUnits: 0, readUnits: 0, requests: {}, ms: {} };
      return taken;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      agent.destroy();
    },
  };
}

export interface FakeSqs {
  /** The queue URL to give the handler (SES_STATS_BATCH_QUEUE_URL). */
  readonly queueUrl: string;
  readonly url: string;
  /** `SendMessageBatch` requests received since the last drain. */
  sendRequests: number;
  /** Takes every message body received so far. */
  drain(): string[];
  close(): Promise<void>;
}

interface SendEntry {
  Id: string;
  MessageBody: string;
}

/** Answers SendMessageBatch with each entry's MD5 (the SDK checks it) and keeps the bodies. */
export async function startFakeSqs(): Promise<FakeSqs> {
  let bodies: string[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const target = (req.headers['x-amz-target'] ?? '').toString();
      if (target !== 'AmazonSQS.SendMessageBatch') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InvalidAction', message: `fake SQS: ${target}` }));
        return;
      }
      fake.sendRequests++;
      const { Entries } = JSON.parse(body.toString('utf8')) as { Entries: SendEntry[] };
      for (const entry of Entries) bodies.push(entry.MessageBody);
      const Successful = Entries.map((e) => ({
        Id: e.Id,
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
      }));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ Successful, Failed: [] }));
    });
  });
  const url = await listen(server);
  const fake: FakeSqs = {
    url,
    queueUrl: `${url}/123456789012/ses-stats-bench-batches`,
    sendRequests: 0,
    drain() {
      const taken = bodies;
      bodies = [];
      return taken;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
  return fake;
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function fail(res: ServerResponse, error: unknown): void {
  if (!res.headersSent) res.writeHead(502);
  res.end(String(error));
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
