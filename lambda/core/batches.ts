/**
 * The scheduled run's fan-out: the sources, stalest first, cut into queue messages that batch
 * invocations collect. A message holds the activities of one pace key (one identity in one
 * region) and is sent in that key's message group of a FIFO queue, which never hands one group
 * to two invocations at once: SES's once-per-second pacing, which a Pacer keeps inside one
 * invocation, still holds across invocations, retries and the next run's messages.
 */

/** The message body a batch invocation receives: the names of the activities to collect. */
export interface BatchMessage {
  readonly v: 1;
  readonly activities: readonly string[];
}

/** A message body that is not a batch message (hand-written, or from another version). */
export class BatchMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchMessageError';
  }
}

/** A message and the pace key it is for (the queue's message group). */
export interface PlannedBatch {
  readonly paceKey: string;
  readonly message: BatchMessage;
}

/**
 * Groups runs by pace key, keeping the order of each key's first run (the stalest first), and
 * returns one message per key.
 */
export function planBatches<
  R extends {
    readonly activity: { readonly name: string };
    readonly source: { readonly paceKey: string };
  },
>(runs: readonly R[]): PlannedBatch[] {
  const byKey = new Map<string, string[]>();
  for (const run of runs) {
    const names = byKey.get(run.source.paceKey);
    if (names === undefined) byKey.set(run.source.paceKey, [run.activity.name]);
    else names.push(run.activity.name);
  }
  return [...byKey].map(([paceKey, activities]) => ({ paceKey, message: { v: 1, activities } }));
}

/** The activity names of a message body; throws BatchMessageError saying what is wrong. */
export function parseBatchMessage(body: string): readonly string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BatchMessageError(`received a message body that is not JSON; expected ${SHAPE}`);
  }
  const message = parsed as Partial<BatchMessage> | null;
  if (
    typeof message !== 'object' ||
    message === null ||
    message.v !== 1 ||
    !Array.isArray(message.activities) ||
    message.activities.length === 0 ||
    !message.activities.every((name) => typeof name === 'string' && name !== '')
  )
    throw new BatchMessageError(
      `received ${body.length > 120 ? `${body.slice(0, 120)}…` : body}; expected ${SHAPE}`,
    );
  return message.activities;
}

const SHAPE = '{"v":1,"activities":["name",…]} with at least one activity name';
