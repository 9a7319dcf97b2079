import { describe, expect, it } from 'vitest';
import { isoUtc } from '../../lambda/core/datasets.ts';
import {
  addMs,
  DAY_MS,
  dayStart,
  HOUR_MS,
  hourStart,
  planSpan,
  subtractSpan,
} from '../../lambda/core/time.ts';

type Piece = ReturnType<typeof planSpan>[number];

/** The invariants every plan keeps, checked on any span. */
function expectSoundPlan(from: string, to: string, pieces: Piece[]): void {
  expect(pieces[0]?.from).toBe(from);
  expect(pieces.at(-1)?.to).toBe(to);
  pieces.forEach((piece, i) => {
    const [start, end] = [Date.parse(piece.from), Date.parse(piece.to)];
    expect(start).toBeLessThan(end);
    if (i > 0) expect(piece.from).toBe(pieces[i - 1]?.to);
    if (piece.granularity === '1d') expect([start % DAY_MS, end % DAY_MS]).toEqual([0, 0]);
    if (piece.granularity === '1h') {
      expect([start % HOUR_MS, end % HOUR_MS]).toEqual([0, 0]);
      // Whole days inside an hourly piece would have been read from the daily rollups.
      expect(Math.ceil(start / DAY_MS) * DAY_MS + DAY_MS > end).toBe(true);
    }
    if (piece.granularity === '15m') {
      expect(i === 0 || i === pieces.length - 1).toBe(true);
      expect(Math.ceil(start / HOUR_MS) * HOUR_MS + HOUR_MS > end).toBe(true);
    }
  });
}

describe('planSpan', () => {
  it('reads raw points only when the span lies inside one hour', () => {
    const pieces = planSpan({ from: '2026-11-28T10:07:00Z', to: '2026-11-28T10:52:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-28T10:07:00Z', to: '2026-11-28T10:52:00Z', granularity: '15m' },
    ]);
  });

  it('reads raw points for a span that starts on the hour and ends inside it', () => {
    const pieces = planSpan({ from: '2026-11-28T10:00:00Z', to: '2026-11-28T10:30:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-28T10:00:00Z', to: '2026-11-28T10:30:00Z', granularity: '15m' },
    ]);
  });

  it('reads whole hours from hourly rollups and raw points at the ragged edges inside one day', () => {
    const pieces = planSpan({ from: '2026-11-28T10:37:00Z', to: '2026-11-28T13:10:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-28T10:37:00Z', to: '2026-11-28T11:00:00Z', granularity: '15m' },
      { from: '2026-11-28T11:00:00Z', to: '2026-11-28T13:00:00Z', granularity: '1h' },
      { from: '2026-11-28T13:00:00Z', to: '2026-11-28T13:10:00Z', granularity: '15m' },
    ]);
  });

  it('reads only hourly rollups when both bounds are on the hour and no whole day lies between', () => {
    const pieces = planSpan({ from: '2026-11-28T10:00:00Z', to: '2026-11-28T14:00:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-28T10:00:00Z', to: '2026-11-28T14:00:00Z', granularity: '1h' },
    ]);
  });

  it('reads one daily piece when both bounds are UTC midnights', () => {
    const pieces = planSpan({ from: '2026-11-03T00:00:00Z', to: '2026-11-05T00:00:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-03T00:00:00Z', to: '2026-11-05T00:00:00Z', granularity: '1d' },
    ]);
  });

  it('reads whole days, then whole hours, then raw points on each side of a long span', () => {
    const pieces = planSpan({ from: '2026-11-03T10:37:00Z', to: '2026-11-20T05:10:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-03T10:37:00Z', to: '2026-11-03T11:00:00Z', granularity: '15m' },
      { from: '2026-11-03T11:00:00Z', to: '2026-11-04T00:00:00Z', granularity: '1h' },
      { from: '2026-11-04T00:00:00Z', to: '2026-11-20T00:00:00Z', granularity: '1d' },
      { from: '2026-11-20T00:00:00Z', to: '2026-11-20T05:00:00Z', granularity: '1h' },
      { from: '2026-11-20T05:00:00Z', to: '2026-11-20T05:10:00Z', granularity: '15m' },
    ]);
  });

  it('reads no daily piece when the span crosses midnight without a whole day', () => {
    const pieces = planSpan({ from: '2026-11-28T22:30:00Z', to: '2026-11-29T01:30:00Z' });

    expect(pieces).toEqual([
      { from: '2026-11-28T22:30:00Z', to: '2026-11-28T23:00:00Z', granularity: '15m' },
      { from: '2026-11-28T23:00:00Z', to: '2026-11-29T00:00:00Z', granularity: '1h' },
      { from: '2026-11-29T00:00:00Z', to: '2026-11-29T01:00:00Z', granularity: '1h' },
      { from: '2026-11-29T01:00:00Z', to: '2026-11-29T01:30:00Z', granularity: '15m' },
    ]);
  });

  it('plans nothing when the span is empty or reversed', () => {
    expect(planSpan({ from: '2026-11-28T10:00:00Z', to: '2026-11-28T10:00:00Z' })).toEqual([]);
    expect(planSpan({ from: '2026-11-28T11:00:00Z', to: '2026-11-28T10:00:00Z' })).toEqual([]);
  });

  it('keeps pieces contiguous, exact and aligned for many spans', () => {
    const base = Date.parse('2026-10-20T00:00:00Z');
    let seed = 7;
    const next = (max: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % max;
    };
    for (let n = 0; n < 300; n++) {
      const from =
        base +
        next(20) * DAY_MS +
        next(24) * HOUR_MS +
        next(4) * 15 * 60_000 +
        next(2) * 7 * 60_000;
      const to = from + 60_000 * (1 + next(4 * 24 * 60));
      const span = { from: isoUtc(new Date(from)), to: isoUtc(new Date(to)) };

      const pieces = planSpan(span);

      expectSoundPlan(span.from, span.to, pieces);
    }
  });
});

describe('subtractSpan', () => {
  const gap = { from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' };

  it('keeps a span the cut does not overlap, including one that only touches it', () => {
    expect(
      subtractSpan([gap], { from: '2026-10-20T00:00:00Z', to: '2026-11-01T00:00:00Z' }),
    ).toEqual([gap]);
    expect(
      subtractSpan([gap], { from: '2026-11-03T00:00:00Z', to: '2026-11-05T00:00:00Z' }),
    ).toEqual([gap]);
  });

  it('removes a span the cut covers entirely', () => {
    expect(
      subtractSpan([gap], { from: '2026-10-30T00:00:00Z', to: '2026-11-03T00:00:00Z' }),
    ).toEqual([]);
  });

  it('keeps the part after a cut that overlaps the start', () => {
    expect(
      subtractSpan([gap], { from: '2026-10-20T00:00:00Z', to: '2026-11-02T00:00:00Z' }),
    ).toEqual([{ from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' }]);
  });

  it('keeps the part before a cut that overlaps the end', () => {
    expect(
      subtractSpan([gap], { from: '2026-11-02T00:00:00Z', to: '2026-11-10T00:00:00Z' }),
    ).toEqual([{ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }]);
  });

  it('splits a span in two when the cut lies inside it', () => {
    expect(
      subtractSpan([gap], { from: '2026-11-01T12:00:00Z', to: '2026-11-02T12:00:00Z' }),
    ).toEqual([
      { from: '2026-11-01T00:00:00Z', to: '2026-11-01T12:00:00Z' },
      { from: '2026-11-02T12:00:00Z', to: '2026-11-03T00:00:00Z' },
    ]);
  });

  it('cuts each of several spans on its own', () => {
    const later = { from: '2026-11-10T00:00:00Z', to: '2026-11-12T00:00:00Z' };

    const left = subtractSpan([gap, later], {
      from: '2026-11-02T00:00:00Z',
      to: '2026-11-11T00:00:00Z',
    });

    expect(left).toEqual([
      { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' },
      { from: '2026-11-11T00:00:00Z', to: '2026-11-12T00:00:00Z' },
    ]);
  });
});

describe('hourStart and dayStart', () => {
  it('floor a time to its UTC hour and day in the stored key form', () => {
    expect(hourStart('2026-11-28T10:37:12Z')).toBe('2026-11-28T10:00:00Z');
    expect(hourStart('2026-11-28T10:37:12.345Z')).toBe('2026-11-28T10:00:00Z');
    expect(dayStart('2026-11-28T23:59:59Z')).toBe('2026-11-28T00:00:00Z');
  });

  it('leave an aligned time as it is', () => {
    expect(hourStart('2026-11-28T10:00:00Z')).toBe('2026-11-28T10:00:00Z');
    expect(dayStart('2026-11-28T00:00:00Z')).toBe('2026-11-28T00:00:00Z');
  });

  it('read a time with an offset as the instant it names', () => {
    expect(dayStart('2026-11-28T00:30:00+01:00')).toBe('2026-11-27T00:00:00Z');
  });
});

describe('addMs', () => {
  it('moves a time and writes it in the stored key form', () => {
    expect(addMs('2026-11-28T23:00:00Z', HOUR_MS)).toBe('2026-11-29T00:00:00Z');
    expect(addMs('2026-11-28T23:00:00Z', 500)).toBe('2026-11-28T23:00:00.500Z');
  });
});
