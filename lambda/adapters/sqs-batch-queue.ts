import { createHash } from 'node:crypto';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { BatchMessage, PlannedBatch } from '../core/batches.ts';
import { mapLimited } from '../core/concurrency.ts';

/** SQS takes at most 10 messages per SendMessageBatch. */
const ENTRIES_PER_REQUEST = 10;
/**
 * SendMessageBatch requests in flight at once: far below what a high-throughput FIFO queue takes
 * (3,000 requests a second at the least), so a run of 10,000 groups is never throttled.
 */
export const SENDS_IN_FLIGHT = 10;
/** Entries SQS refused for a reason of its own (not the sender's) are sent again this often. */
const RESEND_ATTEMPTS = 3;

/** A batch message SQS did not take; the scheduled run fails with it, naming the activities. */
export class BatchQueueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchQueueError';
  }
}

/**
 * The FIFO queue the scheduled run hands its batches to (SQS, `SendMessageBatch`, 10 at a time).
 * Each batch goes in its pace key's message group, named by a hash so no access key id or role
 * ARN is shown; the deduplication id is the run and the group, so a resend within the run is
 * dropped by SQS and the next run's batch is not.
 */
export class SqsBatchQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  static fromUrl(queueUrl: string): SqsBatchQueue {
    return new SqsBatchQueue(new SQSClient({}), queueUrl);
  }

  /**
   * Sends every batch of the run started at `runAt`; throws BatchQueueError naming the
   * activities SQS did not take.
   */
  async send(batches: readonly PlannedBatch[], runAt: Date): Promise<void> {
    const chunks: PlannedBatch[][] = [];
    for (let i = 0; i < batches.length; i += ENTRIES_PER_REQUEST)
      chunks.push(batches.slice(i, i + ENTRIES_PER_REQUEST));
    // Every chunk is tried, whatever another's fate: the error names all that SQS did not take.
    const outcomes = await mapLimited(chunks, SENDS_IN_FLIGHT, (chunk) =>
      this.sendChunk(chunk, runAt).then(
        () => undefined,
        (error: Error) => error,
      ),
    );
    const failed = outcomes.filter((e): e is Error => e !== undefined);
    if (failed.length > 0)
      throw new BatchQueueError(failed.map((e) => e.message).join(' | '), { cause: failed[0] });
  }

  private async sendChunk(batches: readonly PlannedBatch[], runAt: Date): Promise<void> {
    let pending: SendMessageBatchRequestEntry[] = batches.map((b, i) => {
      const group = hash(b.paceKey);
      return {
        Id: String(i),
        MessageBody: JSON.stringify(b.message),
        MessageGroupId: group,
        MessageDeduplicationId: hash(`${runAt.toISOString()}|${group}`),
      };
    });
    let lastReasons: string[] = [];
    for (let attempt = 1; attempt <= RESEND_ATTEMPTS && pending.length > 0; attempt++) {
      let answer: SendMessageBatchCommandOutput;
      try {
        answer = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
      } catch (error) {
        throw new BatchQueueError(
          `SendMessageBatch failed for ${describe(pending)}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const failed = answer.Failed ?? [];
      const senderFaults = failed.filter((f) => f.SenderFault === true);
      if (senderFaults.length > 0)
        throw new BatchQueueError(
          `SQS refused ${describe(entriesOf(pending, senderFaults))}: ${senderFaults.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`,
        );
      lastReasons = failed.map((f) => `${f.Code}: ${f.Message}`);
      pending = entriesOf(pending, failed);
    }
    if (pending.length > 0)
      throw new BatchQueueError(
        `SQS did not take ${describe(pending)} after ${RESEND_ATTEMPTS} attempts: ${lastReasons.join('; ')}`,
      );
  }
}

function entriesOf(
  entries: readonly SendMessageBatchRequestEntry[],
  failed: readonly { Id?: string }[],
): SendMessageBatchRequestEntry[] {
  const ids = new Set(failed.map((f) => f.Id));
  return entries.filter((e) => ids.has(e.Id));
}

/** "the batch of activities a, b" — names only, never anything else of the config. */
function describe(entries: readonly SendMessageBatchRequestEntry[]): string {
  const names = entries.flatMap(
    (e) => (JSON.parse(e.MessageBody ?? '{}') as BatchMessage).activities,
  );
  const shown = names.slice(0, 10).map((n) => `"${n}"`);
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : '';
  return `the batch${entries.length === 1 ? '' : 'es'} of activities ${shown.join(', ')}${more}`;
}

/** 64 hexadecimal characters: within SQS's 128-character limit for group and deduplication ids. */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
