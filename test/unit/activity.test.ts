import { describe, expect, it } from 'vitest';
import {
  type ActivityRun,
  type CollectDeps,
  collectAll,
  stalestFirst,
} from '../../lambda/core/activity.ts';
import { buildStatisticsRows, isoUtc } from '../../lambda/core/datasets.ts';
import { SourceError, StoreError } from '../../lambda/core/errors.ts';
import { Pacer } from '../../lambda/core/pacer.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import type { ActivityResult, ActivitySpec } from '../../lambda/core/results.ts';
import { FakeClock, FakeSource, point } from '../support/fakes.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';

const spec = (name: string, source = 'SESSession1'): ActivitySpec => ({
  name,
  source,
  usageDataset: `${name}-usage`,
  statisticsDataset: name,
});

/** collectAll with the results `onResult` received (in completion order) beside its outcome. */
async function collect(runs: readonly ActivityRun[], deps: CollectDeps) {
  const results: ActivityResult[] = [];
  const outcome = await collectAll(runs, {
    ...deps,
    onResult: (result) => {
      results.push(result);
    },
  });
  return { ...outcome, results };
}

describe('collectAll', () => {
  it('builds the usage dataset with CollectedAt and the statistics sorted ascending', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(
      clock,
      'k',
      { max24HourSend: -1, maxSendRate: 14.5, sentLast24Hours: 12 },
      [
        point('2026-11-28T11:37:00Z', 3, 1),
        point('2026-11-28T11:07:00Z', 5),
        point('2026-11-28T11:22:00Z', 0, 0, 0, 2),
      ],
    );

    const { results, failures } = await collect([{ activity: spec('stats'), source }], {
      clock,
    });

    expect(failures).toEqual([]);
    expect(results[0]?.usage).toEqual({
      name: 'stats-usage',
      rows: [
        {
          CollectedAt: '2026-11-28T12:00:00.000Z',
          Max24HourSend: -1,
          MaxSendRate: 14.5,
          SentLast24Hours: 12,
        },
      ],
    });
    expect(results[0]?.statistics.rows.map((r) => r.Timestamp)).toEqual([
      '2026-11-28T11:07:00Z',
      '2026-11-28T11:22:00Z',
      '2026-11-28T11:37:00Z',
    ]);
    expect(results[0]?.statistics.rows[2]).toEqual({
      Timestamp: '2026-11-28T11:37:00Z',
      DeliveryAttempts: 3,
      Bounces: 1,
      Complaints: 0,
      Rejects: 0,
    });
  });

  it('paces activities on one account and region to one call per second per action', async () => {
    const clock = new FakeClock();
    const shared = [
      new FakeSource(clock, 'same'),
      new FakeSource(clock, 'same'),
      new FakeSource(clock, 'same'),
    ];

    await collectAll(
      shared.map((source, i) => ({ activity: spec(`a${i}`), source })),
      { clock, concurrency: 3 },
    );

    const starts = shared.map(
      (s) => s.calls.find((c) => c.action === 'GetSendStatistics')?.at ?? Number.NaN,
    );
    const t0 = Date.parse('2026-11-28T12:00:00Z');
    expect(starts.map((t) => t - t0).sort((a, b) => a - b)).toEqual([0, 1000, 2000]);
  });

  it('does not pace sources on different accounts or regions', async () => {
    const clock = new FakeClock();
    const sources = [new FakeSource(clock, 'a@us-east-1'), new FakeSource(clock, 'a@eu-west-1')];

    await collectAll(
      sources.map((source, i) => ({ activity: spec(`a${i}`), source })),
      { clock },
    );

    expect(clock.sleeps).toEqual([]);
  });

  it('reports a failing source and still collects the others', async () => {
    const clock = new FakeClock();
    const broken = new FakeSource(clock, 'x');
    broken.failWith.GetSendStatistics = 'access denied (AccessDenied: not authorized)';
    const healthy = new FakeSource(clock, 'y', undefined, [point('2026-11-28T11:07:00Z', 1)]);

    const { results, failures } = await collect(
      [
        { activity: spec('broken', 'S1'), source: broken },
        { activity: spec('healthy'), source: healthy },
      ],
      { clock },
    );

    expect(results.map((r) => r.activity.name)).toEqual(['healthy']);
    expect(failures.map((f) => f.message)).toEqual([
      'activity "broken" (session S1): GetSendStatistics failed: access denied (AccessDenied: not authorized)',
    ]);
  });

  it('surfaces a failed SES call as a SourceError naming the action', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'x', undefined, [point('2026-11-28T11:07:00Z', 1)]);
    source.failWith.GetSendQuota = 'SES server error (HTTP 500)';

    const { failures } = await collectAll([{ activity: spec('broken'), source }], {
      clock,
      store: new MemoryDatasetStore(),
    });

    expect(failures[0]?.cause).toBeInstanceOf(SourceError);
    expect(failures[0]?.cause).not.toBeInstanceOf(StoreError);
    expect(failures[0]?.cause).toHaveProperty('action', 'GetSendQuota');
  });

  it('surfaces a source that throws something else as a SourceError with that cause', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'x');
    const thrown = new TypeError('not a function');
    source.getSendStatistics = () => Promise.reject(thrown);

    const { failures } = await collectAll([{ activity: spec('odd', 'S1'), source }], { clock });

    expect(failures[0]?.cause).toBeInstanceOf(SourceError);
    expect(failures[0]?.cause).toHaveProperty('cause', thrown);
    expect(failures[0]?.message).toBe(
      'activity "odd" (session S1): GetSendStatistics failed: not a function',
    );
  });

  it('names both calls when both fail, as one SourceError', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'x');
    source.failWith.GetSendQuota = 'throttled';
    source.failWith.GetSendStatistics = 'access denied';

    const { failures } = await collectAll([{ activity: spec('both', 'S1'), source }], { clock });

    expect(failures[0]?.cause).toBeInstanceOf(SourceError);
    expect(failures[0]?.message).toBe(
      'activity "both" (session S1): GetSendQuota failed: throttled; GetSendStatistics failed: access denied',
    );
  });

  it("surfaces a failed store as a StoreError keeping the store's error as its cause", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'x', undefined, [point('2026-11-28T11:07:00Z', 1)]);
    const store = new MemoryDatasetStore();
    const unreachable = new Error('connect ECONNREFUSED');
    store.failNextWritePoint(unreachable);

    const { failures } = await collectAll([{ activity: spec('stats', 'S1'), source }], {
      clock,
      store,
    });

    expect(failures[0]?.cause).toBeInstanceOf(StoreError);
    expect(failures[0]?.cause).not.toBeInstanceOf(SourceError);
    expect(failures[0]?.cause).toHaveProperty('cause', unreachable);
    expect(failures[0]?.message).toBe(
      'activity "stats" (session S1): fetched, but storing failed: connect ECONNREFUSED',
    );
  });

  it('passes a StoreError from the store through unchanged', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'x', undefined, [point('2026-11-28T11:07:00Z', 1)]);
    const store = new MemoryDatasetStore();
    const refused = new StoreError('DynamoDB PutItem on table "t" failed: access denied');
    store.failNextWritePoint(refused);

    const { failures } = await collectAll([{ activity: spec('stats'), source }], { clock, store });

    expect(failures[0]?.cause).toBe(refused);
  });

  it('reports progress once per activity', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];

    await collectAll(
      [1, 2, 3].map((i) => ({ activity: spec(`a${i}`), source: new FakeSource(clock, `k${i}`) })),
      {
        clock,
        onProgress: (done, total) => seen.push(`${done}/${total}`),
      },
    );

    expect(seen).toEqual(['1/3', '2/3', '3/3']);
  });

  it('hands each result to onResult once and keeps none: the outcome counts them', async () => {
    const clock = new FakeClock();
    const runs = ['c', 'a', 'b'].map((name) => ({
      activity: spec(name),
      source: new FakeSource(clock, 'same'),
    }));

    const handed: string[] = [];

    const outcome = await collectAll(runs, {
      clock,
      concurrency: 3,
      onResult: (r) => {
        handed.push(r.activity.name);
      },
    });

    expect(handed.sort()).toEqual(['a', 'b', 'c']);
    expect(outcome).toEqual({ collected: 3, failures: [], skipped: [] });
  });
});

describe('Pacer', () => {
  it('spaces calls under one key by the interval and leaves other keys alone', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 1000);
    const starts: Array<[string, number]> = [];
    const start = (key: string) =>
      pacer.run(key, async () => {
        starts.push([key, clock.now().getTime()]);
      });

    await Promise.all([start('a'), start('a'), start('b'), start('a')]);

    const t0 = Date.parse('2026-11-28T12:00:00Z');
    expect(starts.filter(([k]) => k === 'a').map(([, t]) => t - t0)).toEqual([0, 1000, 2000]);
    expect(starts.filter(([k]) => k === 'b').map(([, t]) => t - t0)[0]).toBeLessThan(1000);
  });

  it('counts the interval from the previous call’s answer, so a late request never crowds the next', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 1000);
    const starts: number[] = [];
    // The first request takes 400 ms to be answered (it may have left late).
    const slow = pacer.run('a', async () => {
      starts.push(clock.now().getTime());
      await clock.sleep(400);
    });
    const next = pacer.run('a', async () => {
      starts.push(clock.now().getTime());
    });

    await Promise.all([slow, next]);

    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBe(1400);
    expect(pacer.readyAt('a')).toBe((starts[1] ?? 0) + 1000);
  });

  it('counts a failed call’s end too, and passes its failure on', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 1000);

    await expect(pacer.run('a', async () => Promise.reject(new Error('denied')))).rejects.toThrow(
      'denied',
    );
    const t = clock.now().getTime();
    await pacer.run('a', async () => undefined);

    expect(clock.now().getTime() - t).toBe(1000);
  });

  it('waits an interval from settledAt before the first call of any key (a batch invocation’s start)', async () => {
    const clock = new FakeClock();
    const start = clock.now().getTime();
    const pacer = new Pacer(clock, 1000, start);
    const starts: number[] = [];

    await Promise.all(
      ['a', 'b'].map((key) =>
        pacer.run(key, async () => {
          starts.push(clock.now().getTime() - start);
        }),
      ),
    );

    expect(starts).toEqual([1000, 1000]);
    expect(pacer.readyAt('never-used')).toBe(start + 1000);
  });

  it('does not wait when the interval has already passed', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 1000);
    await pacer.run('a', async () => undefined);
    clock.advance(1500);

    await pacer.run('a', async () => undefined);

    expect(clock.sleeps).toEqual([]);
  });
});

describe('datasets', () => {
  it('formats instants in UTC at second precision and keeps milliseconds when present', () => {
    expect(isoUtc(new Date('2026-11-28T10:07:00.000Z'))).toBe('2026-11-28T10:07:00Z');
    expect(isoUtc(new Date('2026-11-28T10:07:00.250Z'))).toBe('2026-11-28T10:07:00.250Z');
  });

  it('keeps every point, including identical timestamps from different sources, never merging them', () => {
    const rows = buildStatisticsRows([
      point('2026-11-28T10:22:00Z', 2),
      point('2026-11-28T10:07:00Z', 1),
    ]);

    expect(rows.map((r) => [r.Timestamp, r.DeliveryAttempts])).toEqual([
      ['2026-11-28T10:07:00Z', 1],
      ['2026-11-28T10:22:00Z', 2],
    ]);
  });
});

describe('collectAll with a deadline', () => {
  it('starts only the sources whose worst case fits the time left and reports the rest as skipped', async () => {
    const clock = new FakeClock();
    const runs = [
      { activity: spec('fits'), source: new FakeSource(clock, 'a'), worstCaseMs: 50_000 },
      { activity: spec('too-long'), source: new FakeSource(clock, 'b'), worstCaseMs: 70_000 },
    ];

    const outcome = await collect(runs, { clock, remainingMs: () => 60_000 });

    expect(outcome.results.map((r) => r.activity.name)).toEqual(['fits']);
    expect(outcome.skipped.map((a) => a.name)).toEqual(['too-long']);
    expect(runs[1]?.source.calls).toEqual([]);
  });

  it('hands each result over as soon as it is done, before slower sources end', async () => {
    const clock = new FakeClock();
    const fast = new FakeSource(clock, 'a');
    const slow = new FakeSource(clock, 'b');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const answer = slow.getSendStatistics.bind(slow);
    slow.getSendStatistics = async () => {
      await gate;
      return answer();
    };
    const handed: string[] = [];

    const run = collectAll(
      [
        { activity: spec('slow'), source: slow },
        { activity: spec('fast'), source: fast },
      ],
      {
        clock,
        concurrency: 2,
        onResult: (r) => {
          handed.push(r.activity.name);
        },
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handed).toEqual(['fast']);
    release();
    await run;

    expect(handed).toEqual(['fast', 'slow']);
  });
});

describe('stalestFirst', () => {
  it('puts never-collected datasets first, then the least recently covered, keeping config order on ties', async () => {
    const store = new MemoryDatasetStore();
    const clock = new FakeClock();
    const at = (name: string, iso: string) =>
      storeActivityResult(
        store,
        {
          activity: spec(name),
          usage: { name: `${name}-usage`, rows: [] },
          statistics: { name, rows: [] },
        },
        { fetchedAt: new Date(iso) },
      );
    await at('recent', '2026-11-28T11:00:00Z');
    await at('old', '2026-11-28T09:00:00Z');
    const runs = ['recent', 'new-a', 'old', 'new-b'].map((name) => ({
      activity: spec(name),
      source: new FakeSource(clock),
    }));

    const ordered = await stalestFirst(runs, store, 2);

    expect(ordered.map((r) => r.activity.name)).toEqual(['new-a', 'new-b', 'old', 'recent']);
    // Four runs that start at once need no order, and no read.
    expect((await stalestFirst(runs, store, 4)).map((r) => r.activity.name)).toEqual([
      'recent',
      'new-a',
      'old',
      'new-b',
    ]);
  });
});

describe('collectAll and the clock', () => {
  it('refuses to store a fetch whose server time is more than 5 minutes off the host clock', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'a', undefined, [point('2026-11-28T11:07:00Z', 5)]);
    source.serverTime = () => new Date(clock.now().getTime() - 6 * 60_000);
    const store = new MemoryDatasetStore();

    const outcome = await collectAll([{ activity: spec('stats'), source }], { clock, store });

    expect(outcome.failures[0]?.message).toBe(
      'activity "stats" (session SESSession1): fetched, but not stored: the host clock is 6 min ahead of SES\'s (host 2026-11-28T12:00:00.000Z, SES 2026-11-28T11:54:00.000Z; at most 5 min is allowed); nothing was stored: synchronise the clock (NTP)',
    );
    expect(await store.listMeta()).toEqual([]);
  });

  it('takes CollectedAt and the fetch time from the server, not the host', async () => {
    const clock = new FakeClock();
    const source = new FakeSource(clock, 'a', undefined, [point('2026-11-28T11:07:00Z', 5)]);
    source.serverTime = () => new Date('2026-11-28T11:58:31Z');

    const { results } = await collect([{ activity: spec('stats'), source }], { clock });

    expect(results[0]?.usage.rows[0]?.CollectedAt).toBe('2026-11-28T11:58:31.000Z');
    expect(results[0]?.fetchedAt.toISOString()).toBe('2026-11-28T11:58:31.000Z');
    expect(results[0]?.clockSkewMs).toBe(89_000);
  });
});

describe('collectAll with concurrency', () => {
  const t0 = Date.parse('2026-11-28T12:00:00Z');

  /** A source whose calls take `ms` of clock time; `inFlight` counts the activities under way. */
  function slowSource(
    clock: FakeClock,
    key: string,
    ms: number,
    gauge: { now: number; max: number },
  ) {
    const source = new FakeSource(clock, key);
    const answer = source.getSendStatistics.bind(source);
    source.getSendStatistics = async () => {
      gauge.now++;
      gauge.max = Math.max(gauge.max, gauge.now);
      await clock.sleep(ms);
      gauge.now--;
      return answer();
    };
    return source;
  }

  it('runs exactly `concurrency` sources at once', async () => {
    const clock = new FakeClock();
    const gauge = { now: 0, max: 0 };
    const runs = Array.from({ length: 10 }, (_, i) => ({
      activity: spec(`a${i}`),
      source: slowSource(clock, `k${i}@us-east-1`, 100, gauge),
    }));

    const outcome = await collectAll(runs, { clock, concurrency: 3 });

    expect(outcome.collected).toBe(10);
    expect(gauge.max).toBe(3);
    // Four waves of 100 ms: nothing ran one after another that could run side by side.
    expect(clock.now().getTime() - t0).toBe(400);
  });

  it('keeps one pace key’s calls a second apart while other keys run', async () => {
    const clock = new FakeClock();
    const gauge = { now: 0, max: 0 };
    const runs = [
      ...[0, 1, 2, 3].map((i) => ({
        activity: spec(`same${i}`),
        source: new FakeSource(clock, 'same'),
      })),
      ...[0, 1, 2, 3].map((i) => ({
        activity: spec(`other${i}`),
        source: slowSource(clock, `o${i}`, 50, gauge),
      })),
    ];

    await collectAll(runs, { clock, concurrency: 4 });

    for (const action of ['GetSendQuota', 'GetSendStatistics'] as const) {
      const starts = runs
        .slice(0, 4)
        .map((r) => (r.source as FakeSource).calls.find((c) => c.action === action)?.at ?? 0)
        .sort((a, b) => a - b);
      expect(starts.slice(1).map((t, i) => t - (starts[i] ?? 0))).toEqual([1000, 1000, 1000]);
    }
  });

  it('does not let activities waiting for their pace turn hold the slots other keys need', async () => {
    const clock = new FakeClock();
    const gauge = { now: 0, max: 0 };
    const paced = [0, 1, 2, 3].map((i) => ({
      activity: spec(`same${i}`),
      source: new FakeSource(clock, 'same'),
    }));
    const others = [0, 1, 2, 3].map((i) => ({
      activity: spec(`other${i}`),
      source: slowSource(clock, `o${i}`, 10, gauge),
    }));
    const ended = new Map<string, number>();

    await collectAll([...paced, ...others], {
      clock,
      concurrency: 2,
      onResult: (r) => {
        ended.set(r.activity.name, clock.now().getTime() - t0);
      },
    });

    // The other keys run while 'same' waits for its turns (a slot each would wait 1 s otherwise).
    for (const other of others) expect(ended.get(other.activity.name)).toBeLessThan(1000);
    expect(ended.get('same3')).toBe(3000);
  });

  it('awaits onResult before the slot takes another source (backpressure)', async () => {
    const clock = new FakeClock();
    const runs = ['a', 'b'].map((name) => ({
      activity: spec(name),
      source: new FakeSource(clock, name),
    }));
    let release: () => void = () => undefined;
    const written = new Promise<void>((resolve) => {
      release = resolve;
    });

    const run = collectAll(runs, {
      clock,
      concurrency: 1,
      onResult: (r) => (r.activity.name === 'a' ? written : undefined),
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs[1]?.source.calls).toEqual([]);
    release();

    expect(await run).toEqual({ collected: 2, failures: [], skipped: [] });
    expect(runs[1]?.source.calls).toHaveLength(2);
  });

  it('releases each source once its last activity ends', async () => {
    const clock = new FakeClock();
    const released: string[] = [];
    const releasing = (key: string) =>
      Object.assign(new FakeSource(clock, key), { release: () => released.push(key) });
    const shared = releasing('shared');
    const alone = releasing('alone');
    const runs = [
      { activity: spec('s1'), source: shared },
      { activity: spec('alone'), source: alone },
      { activity: spec('s2'), source: shared },
    ];

    await collectAll(runs, { clock, concurrency: 3 });

    expect(released.sort()).toEqual(['alone', 'shared']);
  });
});
