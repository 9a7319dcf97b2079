import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/** Counts of what the fault wrapper did, to show the faults really happened. */
export interface FaultLog {
  throttled: number;
  unprocessed: number;
  /** Transactions cancelled (nothing written), and their actions reported as conflicts. */
  cancelled: number;
  conflicts: number;
}

type Input = { RequestItems?: Record<string, unknown[]>; TransactItems?: unknown[] };
type Throttled = { throttlesLeft?: number };
type Output = { output: { UnprocessedItems?: Record<string, unknown[]> } };

/**
 * A thin wrapper on a real DynamoDBClient (talking to DynamoDB Local) that injects what DynamoDB
 * Local never does: `ProvisionedThroughputExceededException` on chosen calls (inside the SDK's
 * retry loop, as a real throttle would be), `UnprocessedItems` on BatchWriteItem (half of each
 * batch is held back and reported unprocessed, never written), and cancelled TransactWriteItems
 * (the first `cancelledTransactions` are not sent: DynamoDB's TransactionCanceledException with
 * every other action's reason `TransactionConflict`, the rest `None`, as when a concurrent write
 * touched those items; nothing is written, as DynamoDB writes nothing of a cancelled one).
 */
export function injectDynamoDbFaults(
  client: DynamoDBClient,
  options: { throttleEvery?: number; unprocessedBatches?: number; cancelledTransactions?: number },
): FaultLog {
  const log: FaultLog = { throttled: 0, unprocessed: 0, cancelled: 0, conflicts: 0 };
  let commands = 0;
  let batches = 0;
  let transactions = 0;
  // Every Nth command is throttled on its first two attempts, then let through: deterministic
  // whatever the concurrency, and within the SDK's retries.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands++;
      if (options.throttleEvery !== undefined && commands % options.throttleEvery === 0)
        (context as Throttled).throttlesLeft = 2;
      return next(args);
    },
    { step: 'initialize', name: 'chooseThrottled' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const chosen = context as Throttled;
      if ((chosen.throttlesLeft ?? 0) > 0) {
        chosen.throttlesLeft = (chosen.throttlesLeft ?? 0) - 1;
        log.throttled++;
        throw Object.assign(
          new Error(`Throughput exceeded (injected into ${context.commandName})`),
          {
            name: 'ProvisionedThroughputExceededException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          },
        );
      }
      return next(args);
    },
    { step: 'deserialize', name: 'injectThrottling', priority: 'high' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Input;
      if (
        context.commandName !== 'BatchWriteItemCommand' ||
        batches >= (options.unprocessedBatches ?? 0) ||
        input.RequestItems === undefined
      )
        return next(args);
      batches++;
      const held: Record<string, unknown[]> = {};
      const sent: Record<string, unknown[]> = {};
      for (const [table, requests] of Object.entries(input.RequestItems)) {
        const keep = Math.ceil(requests.length / 2);
        sent[table] = requests.slice(0, keep);
        if (requests.length > keep) held[table] = requests.slice(keep);
        log.unprocessed += requests.length - keep;
      }
      const result = (await next({ ...args, input: { ...input, RequestItems: sent } })) as Output;
      result.output.UnprocessedItems = { ...result.output.UnprocessedItems, ...held };
      return result as never;
    },
    { step: 'initialize', name: 'injectUnprocessedItems' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const actions = (args.input as Input).TransactItems;
      if (
        context.commandName !== 'TransactWriteItemsCommand' ||
        transactions >= (options.cancelledTransactions ?? 0) ||
        actions === undefined
      )
        return next(args);
      transactions++;
      log.cancelled++;
      const reasons = actions.map((_, i) =>
        i % 2 === 0
          ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
          : { Code: 'None' },
      );
      log.conflicts += reasons.filter((r) => r.Code !== 'None').length;
      throw new TransactionCanceledException({
        message: `Transaction cancelled (injected): [${reasons.map((r) => r.Code).join(', ')}]`,
        $metadata: { httpStatusCode: 400 },
        CancellationReasons: reasons,
      });
    },
    { step: 'initialize', name: 'injectCancelledTransactions' },
  );
  return log;
}

/** Requests sent, per command name (each attempt of the SDK's retries counts). */
export function countRequests(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequests', priority: 'low' },
  );
  return counts;
}

/**
 * The answers of the first `count` PutItem / BatchWriteItem / TransactWriteItems calls are lost after the write has
 * landed, as when a connection drops on the way back: the SDK sees a transient error and retries
 * a write DynamoDB already committed. Returns how many answers it dropped.
 */
export function loseWriteAnswers(client: DynamoDBClient, count: number): { lost: number } {
  const log = { lost: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const write = [
        'PutItemCommand',
        'BatchWriteItemCommand',
        'TransactWriteItemsCommand',
      ].includes(context.commandName ?? '');
      // One lost answer per command: its retry (the same context) gets through.
      const seen = context as { answerLost?: boolean };
      if (write && log.lost < count && seen.answerLost !== true) {
        seen.answerLost = true;
        log.lost++;
        throw Object.assign(
          new Error(`answer lost after the write landed (${context.commandName})`),
          {
            name: 'TimeoutError',
            $metadata: {},
          },
        );
      }
      return out;
    },
    { step: 'deserialize', name: 'loseWriteAnswers', priority: 'low' },
  );
  return log;
}
