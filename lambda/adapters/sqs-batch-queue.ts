import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { BatchMessage } from '../core/batches.ts';

/** SQS takes at most 10 messages per SendMessageBatch. */
const ENTRIES_PER_REQUEST = 10;
/** Entries SQS refused for a reason of its own (not the sender's) are sent again this often. */
const RESEND_ATTEMPTS = 3;

/** A batch message SQS did not take; the scheduled run fails with it, naming the activities. */
export class BatchQueueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchQueueError';
  }
}

/** The queue the scheduled run hands its batches to (SQS, `SendMessageBatch`, 10 at a time). */
export class SqsBatchQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  static fromUrl(queueUrl: string): SqsBatchQueue {
    return new SqsBatchQueue(new SQSClient({}), queueUrl);
  }

  /** Sends every message; throws BatchQueueError naming the activities SQS did not take. */
  async send(messages: readonly BatchMessage[]): Promise<void> {
    const requests: Promise<void>[] = [];
    for (let i = 0; i < messages.length; i += ENTRIES_PER_REQUEST)
      requests.push(this.sendChunk(messages.slice(i, i + ENTRIES_PER_REQUEST)));
    const settled = await Promise.allSettled(requests);
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (failed.length > 0)
      throw new BatchQueueError(failed.map((e) => e.message).join(' | '), { cause: failed[0] });
  }

  private async sendChunk(messages: readonly BatchMessage[]): Promise<void> {
    let pending: SendMessageBatchRequestEntry[] = messages.map((m, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(m),
    }));
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
