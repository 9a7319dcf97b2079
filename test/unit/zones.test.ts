import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../lambda/core/time.ts';
import {
  isTimeZone,
  isUtc,
  localBucketStart,
  localIso,
  offsetAt,
} from '../../lambda/core/zones.ts';

const at = (iso: string) => Date.parse(iso);
const h = (hours: number) => hours * HOUR_MS;

const fieldFormats = new Map<string, Intl.DateTimeFormat>();

/** Local `YYYY-MM-DD, HH:MM:SS` of an instant, straight from Intl (not from the code under test). */
function localFields(zone: string, ms: number): string {
  let format = fieldFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    fieldFormats.set(zone, format);
  }
  return format.format(new Date(ms));
}

/** Instants through 2026 at an odd step, so that every time of day is met. */
function through2026(stepMinutes: number): number[] {
  const out: number[] = [];
  for (
    let ms = at('2026-01-01T00:00:00Z');
    ms < at('2027-01-01T00:00:00Z');
    ms += stepMinutes * MINUTE_MS
  )
    out.push(ms);
  return out;
}

describe('offsetAt', () => {
  it('is zero in UTC', () => {
    expect(offsetAt('UTC', at('2026-07-15T12:00:00Z'))).toBe(0);
  });

  it('follows both Europe/Paris changes to the second', () => {
    expect(offsetAt('Europe/Paris', at('2026-03-29T00:59:59Z'))).toBe(h(1));
    expect(offsetAt('Europe/Paris', at('2026-03-29T01:00:00Z'))).toBe(h(2));
    expect(offsetAt('Europe/Paris', at('2026-10-25T00:59:59Z'))).toBe(h(2));
    expect(offsetAt('Europe/Paris', at('2026-10-25T01:00:00Z'))).toBe(h(1));
  });

  it('gives the half-hour offset of Asia/Kolkata', () => {
    expect(offsetAt('Asia/Kolkata', at('2026-11-28T10:07:00Z'))).toBe(h(5.5));
  });

  it('gives the negative half-hour offsets of America/St_Johns in winter and summer', () => {
    expect(offsetAt('America/St_Johns', at('2026-03-08T05:29:59Z'))).toBe(-h(3.5));
    expect(offsetAt('America/St_Johns', at('2026-03-08T05:30:00Z'))).toBe(-h(2.5));
    expect(offsetAt('America/St_Johns', at('2026-11-01T04:29:59Z'))).toBe(-h(2.5));
    expect(offsetAt('America/St_Johns', at('2026-11-01T04:30:00Z'))).toBe(-h(3.5));
  });

  it('ignores the milliseconds of the instant', () => {
    expect(offsetAt('Europe/Paris', at('2026-01-15T12:00:00.999Z'))).toBe(h(1));
  });
});

describe('localIso', () => {
  it('writes UTC with a +00:00 offset', () => {
    expect(localIso('UTC', at('2026-11-28T10:07:00Z'))).toBe('2026-11-28T10:07:00+00:00');
  });

  it('writes Europe/Paris midnights in winter and summer with their offsets', () => {
    expect(localIso('Europe/Paris', at('2026-11-27T23:00:00Z'))).toBe('2026-11-28T00:00:00+01:00');
    expect(localIso('Europe/Paris', at('2026-07-14T22:00:00Z'))).toBe('2026-07-15T00:00:00+02:00');
  });

  it('tells the repeated Europe/Paris hour apart by its offset when summer time ends', () => {
    expect(localIso('Europe/Paris', at('2026-10-25T00:30:00Z'))).toBe('2026-10-25T02:30:00+02:00');
    expect(localIso('Europe/Paris', at('2026-10-25T01:30:00Z'))).toBe('2026-10-25T02:30:00+01:00');
  });

  it('writes the hour after the skipped Europe/Paris hour when summer time starts', () => {
    expect(localIso('Europe/Paris', at('2026-03-29T00:59:00Z'))).toBe('2026-03-29T01:59:00+01:00');
    expect(localIso('Europe/Paris', at('2026-03-29T01:00:00Z'))).toBe('2026-03-29T03:00:00+02:00');
  });

  it('writes half-hour offsets on both sides of UTC', () => {
    expect(localIso('Asia/Kolkata', at('2026-11-27T18:30:00Z'))).toBe('2026-11-28T00:00:00+05:30');
    expect(localIso('America/St_Johns', at('2026-11-28T03:30:00Z'))).toBe(
      '2026-11-28T00:00:00-03:30',
    );
    expect(localIso('America/St_Johns', at('2026-07-15T02:30:00Z'))).toBe(
      '2026-07-15T00:00:00-02:30',
    );
  });
});

describe('localBucketStart', () => {
  it('starts UTC days and hours on the UTC boundaries', () => {
    expect(localBucketStart('UTC', at('2026-11-28T10:37:00Z'), DAY_MS)).toBe(
      at('2026-11-28T00:00:00Z'),
    );
    expect(localBucketStart('UTC', at('2026-11-28T10:37:00Z'), HOUR_MS)).toBe(
      at('2026-11-28T10:00:00Z'),
    );
  });

  it('starts the 25-hour Europe/Paris day of 2026-10-25 at the summer-time midnight', () => {
    expect(localBucketStart('Europe/Paris', at('2026-10-25T22:30:00Z'), DAY_MS)).toBe(
      at('2026-10-24T22:00:00Z'),
    );
    expect(localBucketStart('Europe/Paris', at('2026-10-24T22:00:00Z'), DAY_MS)).toBe(
      at('2026-10-24T22:00:00Z'),
    );
    expect(localBucketStart('Europe/Paris', at('2026-10-24T21:59:59Z'), DAY_MS)).toBe(
      at('2026-10-23T22:00:00Z'),
    );
    expect(localBucketStart('Europe/Paris', at('2026-10-25T23:00:00Z'), DAY_MS)).toBe(
      at('2026-10-25T23:00:00Z'),
    );
  });

  it('starts the 23-hour Europe/Paris day of 2026-03-29 at the winter-time midnight', () => {
    expect(localBucketStart('Europe/Paris', at('2026-03-29T21:30:00Z'), DAY_MS)).toBe(
      at('2026-03-28T23:00:00Z'),
    );
    expect(localBucketStart('Europe/Paris', at('2026-03-29T22:00:00Z'), DAY_MS)).toBe(
      at('2026-03-29T22:00:00Z'),
    );
  });

  it('gives each of the repeated Europe/Paris hours its own start', () => {
    expect(localBucketStart('Europe/Paris', at('2026-10-25T00:30:00Z'), HOUR_MS)).toBe(
      at('2026-10-25T00:00:00Z'),
    );
    expect(localBucketStart('Europe/Paris', at('2026-10-25T01:30:00Z'), HOUR_MS)).toBe(
      at('2026-10-25T01:00:00Z'),
    );
  });

  it('starts Asia/Kolkata hours and days at half past the UTC hour', () => {
    expect(localBucketStart('Asia/Kolkata', at('2026-11-28T10:07:00Z'), HOUR_MS)).toBe(
      at('2026-11-28T09:30:00Z'),
    );
    expect(localBucketStart('Asia/Kolkata', at('2026-11-28T18:29:00Z'), DAY_MS)).toBe(
      at('2026-11-27T18:30:00Z'),
    );
    expect(localBucketStart('Asia/Kolkata', at('2026-11-28T18:30:00Z'), DAY_MS)).toBe(
      at('2026-11-28T18:30:00Z'),
    );
  });

  it('starts America/St_Johns days at local midnight across both changes', () => {
    expect(localBucketStart('America/St_Johns', at('2026-11-28T12:00:00Z'), DAY_MS)).toBe(
      at('2026-11-28T03:30:00Z'),
    );
    expect(localBucketStart('America/St_Johns', at('2026-11-01T20:00:00Z'), DAY_MS)).toBe(
      at('2026-11-01T02:30:00Z'),
    );
    expect(localBucketStart('America/St_Johns', at('2026-11-01T02:29:00Z'), DAY_MS)).toBe(
      at('2026-10-31T02:30:00Z'),
    );
    expect(localBucketStart('America/St_Johns', at('2026-03-08T20:00:00Z'), DAY_MS)).toBe(
      at('2026-03-08T03:30:00Z'),
    );
    expect(localBucketStart('America/St_Johns', at('2026-11-28T10:07:00Z'), HOUR_MS)).toBe(
      at('2026-11-28T09:30:00Z'),
    );
  });

  it.each(['UTC', 'Europe/Paris', 'Asia/Kolkata', 'America/St_Johns', 'America/Santiago'])(
    'starts every local day of 2026 in %s at its first instant',
    (zone) => {
      const date = (ms: number) => localFields(zone, ms).slice(0, 10);

      const wrong = through2026(97).filter((ms) => {
        const start = localBucketStart(zone, ms, DAY_MS);
        return !(start <= ms && date(start) === date(ms) && date(start - 1000) !== date(ms));
      });

      expect(wrong.map((ms) => new Date(ms).toISOString())).toEqual([]);
    },
  );

  it.each(['Europe/Paris', 'Asia/Kolkata', 'America/St_Johns'])(
    'starts every local hour of 2026 in %s on the hour, within the hour before the instant',
    (zone) => {
      const wrong = through2026(53).filter((ms) => {
        const start = localBucketStart(zone, ms, HOUR_MS);
        return !(start <= ms && ms - start < HOUR_MS && localFields(zone, start).endsWith('00:00'));
      });

      expect(wrong.map((ms) => new Date(ms).toISOString())).toEqual([]);
    },
  );
});

describe('isTimeZone', () => {
  it('accepts IANA zones the runtime knows', () => {
    expect(['UTC', 'Europe/Paris', 'Asia/Kolkata', 'America/St_Johns'].map(isTimeZone)).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('rejects names that are not zones', () => {
    expect(['Mars/Olympus', '', 'Paris', 'Europe/Paris/Left'].map(isTimeZone)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('isUtc', () => {
  it('treats no zone and the names of UTC in any case as UTC', () => {
    expect([undefined, 'UTC', 'utc', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Z'].map(isUtc)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it('treats other zones as local, even those at offset zero', () => {
    expect(['Europe/London', 'Africa/Abidjan', 'Europe/Paris'].map(isUtc)).toEqual([
      false,
      false,
      false,
    ]);
  });
});
