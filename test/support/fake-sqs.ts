/**
 * A fake of the part of Amazon SQS the collector uses: `SendMessageBatch` to a FIFO queue over the
 * AWS JSON 1.0 protocol, SigV4-checked (./sigv4.ts) with the fake SES's key pair, answering the
 * MD5 of each body as SQS does (the SDK checks it). As SQS, it requires a message group and a
 * deduplication id on every entry and takes a deduplication id only once. It keeps what it was sent, can refuse entries, and turns
 * what it holds into the SQS event Lambda's event source mapping would deliver.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY } from './fake-ses.ts';
import { verifySigV4 } from './sigv4.ts';

export interface SentMessage {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
}

export interface FakeSqs {
  readonly url: string;
  /** The queue URL to hand the collector (`SES_STATS_BATCH_QUEUE_URL`). */
  readonly queueUrl: string;
  /** Every message taken, in order. */
  readonly messages: readonly SentMessage[];
  /** SendMessageBatch requests received (valid or not). */
  readonly requests: number;
  /** The most requests the fake was answering at once. */
  readonly mostInFlight: number;
  /** How long every answer takes (a real queue's latency, so requests overlap); default 0. */
  latencyMs: number;
  /** The next `times` entries are answered as Failed (SQS's own fault unless `senderFault`). */
  failEntries(times: number, options?: { senderFault?: boolean }): void;
  /** The messages as the SQS event a batch invocation receives. */
  eventOf(messages: readonly Pick<SentMessage, 'messageId' | 'body'>[]): {
    Records: { messageId: string; body: string; eventSource: 'aws:sqs' }[];
  };
  close(): Promise<void>;
}

const QUEUE_PATH = '/123456789012/ses-stats-batches.fifo';

export async function startFakeSqs(region = 'us-east-1'): Promise<FakeSqs> {
  const messages: SentMessage[] = [];
  const deduplicationIds = new Set<string>();
  let requests = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  let latencyMs = 0;
  let failures = 0;
  let senderFault = false;
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      setTimeout(() => {
        inFlight--;
        answer(req, res, Buffer.concat(chunks));
      }, latencyMs);
    });
  });
  const answer = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const [path = '', query = ''] = (req.url ?? '').split('?');
    const auth = verifySigV4(
      { method: req.method ?? '', path, query, headers: req.headers, body },
      (id) => (id === FAKE_ACCESS_KEY_ID ? FAKE_SECRET_ACCESS_KEY : undefined),
      { service: 'sqs', region, now: new Date() },
    );
    if (!auth.ok) return error(res, 403, auth.code, auth.message);
    if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessageBatch')
      return error(res, 400, 'InvalidAction', `unsupported ${req.headers['x-amz-target']}`);
    const input = JSON.parse(body.toString('utf8')) as {
      QueueUrl?: string;
      Entries?: {
        Id: string;
        MessageBody: string;
        MessageGroupId?: string;
        MessageDeduplicationId?: string;
      }[];
    };
    if (input.QueueUrl !== `${base}${QUEUE_PATH}`)
      return error(res, 400, 'QueueDoesNotExist', `no queue ${input.QueueUrl}`);
    const entries = input.Entries ?? [];
    if (entries.length < 1 || entries.length > 10)
      return error(res, 400, 'TooManyEntriesInBatchRequest', `${entries.length} entries`);
    const Successful: object[] = [];
    const Failed: object[] = [];
    for (const entry of entries) {
      if (!entry.MessageGroupId || !entry.MessageDeduplicationId) {
        Failed.push({
          Id: entry.Id,
          Code: 'MissingParameter',
          SenderFault: true,
          Message: 'a FIFO queue needs MessageGroupId and MessageDeduplicationId',
        });
        continue;
      }
      if (failures > 0) {
        failures--;
        Failed.push({
          Id: entry.Id,
          Code: senderFault ? 'InvalidMessageContents' : 'InternalError',
          SenderFault: senderFault,
          Message: 'refused by the fake',
        });
        continue;
      }
      const messageId = `m-${messages.length + 1}`;
      if (!deduplicationIds.has(entry.MessageDeduplicationId)) {
        deduplicationIds.add(entry.MessageDeduplicationId);
        messages.push({ messageId, body: entry.MessageBody, groupId: entry.MessageGroupId });
      }
      Successful.push({
        Id: entry.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
      });
    }
    send(res, 200, { Successful, Failed });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    queueUrl: `${base}${QUEUE_PATH}`,
    messages,
    get requests() {
      return requests;
    },
    get mostInFlight() {
      return mostInFlight;
    },
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(ms: number) {
      latencyMs = ms;
    },
    failEntries(times, options = {}) {
      failures = times;
      senderFault = options.senderFault ?? false;
    },
    eventOf: (sent) => ({
      Records: sent.map((m) => ({ messageId: m.messageId, body: m.body, eventSource: 'aws:sqs' })),
    }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': `fake-sqs-${Date.now()}`,
  });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { __type: `com.amazonaws.sqs#${code}`, message });
}
