import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchQueueError,
  SENDS_IN_FLIGHT,
  SqsBatchQueue,
} from '../../lambda/adapters/sqs-batch-queue.ts';
import type { PlannedBatch } from '../../lambda/core/batches.ts';
import { FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY } from '../support/fake-ses.ts';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.ts';

let sqs: FakeSqs;
let queue: SqsBatchQueue;
beforeAll(async () => {
  sqs = await startFakeSqs();
  const client = new SQSClient({
    endpoint: sqs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: FAKE_SECRET_ACCESS_KEY },
    retryStrategy: new ConfiguredRetryStrategy(2, () => 0),
  });
  queue = new SqsBatchQueue(client, sqs.queueUrl);
});
afterAll(() => sqs.close());

const messages = (count: number, prefix: string): PlannedBatch[] =>
  Array.from({ length: count }, (_, i) => ({
    paceKey: `${prefix}${i}@us-east-1`,
    message: { v: 1, activities: [`${prefix}${i}`] },
  }));
const RUN_AT = new Date('2026-12-02T18:00:00Z');

describe('SqsBatchQueue', () => {
  it('sends every message, ten per SendMessageBatch, each body once', async () => {
    const before = { messages: sqs.messages.length, requests: sqs.requests };

    await queue.send(messages(23, 'a'), RUN_AT);

    expect(sqs.requests - before.requests).toBe(3);
    expect(
      sqs.messages.slice(before.messages).map((m) => JSON.parse(m.body).activities[0]),
    ).toEqual(expect.arrayContaining(messages(23, 'a').map((m) => m.message.activities[0])));
    expect(sqs.messages.length - before.messages).toBe(23);
  });

  it('sends again the entries SQS failed for a reason of its own', async () => {
    const before = sqs.messages.length;
    sqs.failEntries(3);

    await queue.send(messages(5, 'b'), RUN_AT);

    expect(
      sqs.messages
        .slice(before)
        .map((m) => JSON.parse(m.body).activities[0])
        .sort(),
    ).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
  });

  it('fails naming the activities SQS refused as the sender’s fault, after sending the rest', async () => {
    const before = sqs.messages.length;
    sqs.failEntries(1, { senderFault: true });

    const sent = queue.send(
      [...messages(1, 'refused'), ...messages(10, 'c'), ...messages(1, 'd')],
      RUN_AT,
    );

    await expect(sent).rejects.toThrow(BatchQueueError);
    await expect(sent).rejects.toThrow(
      /SQS refused the batch of activities "refused0": InvalidMessageContents: refused by the fake/,
    );
    // The other chunk still went.
    expect(sqs.messages.slice(before).map((m) => JSON.parse(m.body).activities[0])).toContain('d0');
  });

  it('fails naming the activities when SQS keeps failing them', async () => {
    sqs.failEntries(100);

    await expect(queue.send(messages(2, 'e'), RUN_AT)).rejects.toThrow(
      /SQS did not take the batches of activities "e0", "e1" after 3 attempts: InternalError/,
    );
    sqs.failEntries(0);
  });

  it('fails naming the activities when the queue cannot be reached', async () => {
    const client = new SQSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: FAKE_SECRET_ACCESS_KEY },
      maxAttempts: 1,
    });

    await expect(
      new SqsBatchQueue(client, sqs.queueUrl).send(messages(1, 'f'), RUN_AT),
    ).rejects.toThrow(/SendMessageBatch failed for the batch of activities "f0": /);
  });

  it('sends each batch in its pace key’s message group, named without the key, once per run', async () => {
    const before = sqs.messages.length;
    const batch: PlannedBatch = {
      paceKey: 'AKIAEXAMPLEKEY000001@eu-west-1',
      message: { v: 1, activities: ['g'] },
    };

    await queue.send([batch], RUN_AT);
    await queue.send([batch], RUN_AT);
    await queue.send([batch], new Date(RUN_AT.getTime() + 3_600_000));

    const sent = sqs.messages.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.groupId).toMatch(/^[0-9a-f]{64}$/);
    expect(sent[1]?.groupId).toBe(sent[0]?.groupId);
    expect(JSON.stringify(sent)).not.toContain('AKIAEXAMPLEKEY000001');
  });

  it('keeps at most SENDS_IN_FLIGHT requests in flight, so a burst of groups is never throttled', async () => {
    const before = sqs.messages.length;
    sqs.latencyMs = 20;

    await queue.send(messages(250, 'burst'), RUN_AT);

    sqs.latencyMs = 0;
    expect(sqs.messages.length - before).toBe(250);
    expect(sqs.mostInFlight).toBe(SENDS_IN_FLIGHT);
  });
});
