import { describe, expect, it } from 'vitest';
import { BatchMessageError, parseBatchMessage, planBatches } from '../../lambda/core/batches.ts';

const run = (name: string, paceKey: string) => ({ activity: { name }, source: { paceKey } });

describe('planBatches', () => {
  it('puts the activities of one pace key in one message, keys in the order of their first run', () => {
    const messages = planBatches([
      run('stale', 'B@us-east-1'),
      run('a1', 'A@us-east-1'),
      run('b2', 'B@us-east-1'),
      run('a-eu', 'A@eu-west-1'),
    ]);

    expect(messages).toEqual([
      { paceKey: 'B@us-east-1', message: { v: 1, activities: ['stale', 'b2'] } },
      { paceKey: 'A@us-east-1', message: { v: 1, activities: ['a1'] } },
      { paceKey: 'A@eu-west-1', message: { v: 1, activities: ['a-eu'] } },
    ]);
  });

  it('sends every activity exactly once', () => {
    const runs = Array.from({ length: 1000 }, (_, i) => run(`s${i}`, `k${i % 37}`));

    const names = planBatches(runs).flatMap((b) => b.message.activities);

    expect(names.sort()).toEqual(runs.map((r) => r.activity.name).sort());
  });

  it('plans nothing for no runs', () => {
    expect(planBatches([])).toEqual([]);
  });
});

describe('parseBatchMessage', () => {
  it('reads the activity names of a batch message', () => {
    expect(parseBatchMessage('{"v":1,"activities":["a","b"]}')).toEqual(['a', 'b']);
  });

  it.each([
    ['not JSON', 'activities=a', /received a message body that is not JSON; expected \{"v":1/],
    [
      'another version',
      '{"v":2,"activities":["a"]}',
      /received \{"v":2,"activities":\["a"\]\}; expected/,
    ],
    ['no activities', '{"v":1,"activities":[]}', /expected .* with at least one activity name/],
    ['a name that is not text', '{"v":1,"activities":["a",3]}', /received \{"v":1/],
    ['an empty name', '{"v":1,"activities":[""]}', /received/],
    ['null', 'null', /received null; expected/],
  ])('rejects %s', (_case, body, message) => {
    expect(() => parseBatchMessage(body)).toThrow(BatchMessageError);
    expect(() => parseBatchMessage(body)).toThrow(message);
  });

  it('shortens a long body in its message', () => {
    const body = JSON.stringify({ v: 1, activities: 'x'.repeat(500) });

    expect(() => parseBatchMessage(body)).toThrow(/received .{120}…; expected/);
  });
});
