/** Time-zone arithmetic on IANA zones with Intl only (no tz database of our own). */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

export function isUtc(zone: string | undefined): boolean {
  return (
    zone === undefined || ['UTC', 'ETC/UTC', 'Z', 'GMT', 'ETC/GMT'].includes(zone.toUpperCase())
  );
}

/** The zone's offset from UTC at `ms`, in milliseconds (+01:00 → 3 600 000). */
export function offsetAt(zone: string, ms: number): number {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  // setUTCFullYear, unlike Date.UTC, keeps years 0-99; year 0 is written 1 BC.
  const year = String(parts.era).startsWith('B') ? 1 - Number(parts.year) : Number(parts.year);
  const local = new Date(0);
  local.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  local.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local.getTime() - Math.floor(ms / 1000) * 1000;
}

/** `2026-11-28T00:00:00+01:00`: the instant `ms` written in the zone's local time. */
export function localIso(zone: string, ms: number): string {
  const offset = offsetAt(zone, ms);
  const local = new Date(ms + offset).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  // Local mean times before 1900 have offsets with seconds, which ISO-8601 cannot write.
  const abs = Math.round(Math.abs(offset) / 60_000);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * The instant at which the zone's clocks show `wall` (a wall-clock time written as if UTC). A time
 * shown twice (clocks going back) is its first instant; a time never shown (clocks going forward)
 * is read with the offset before the change, landing as far after the change as it was written
 * after the last minute before it (02:30 on a spring-forward night is 03:30 summer time).
 */
export function wallTimeToUtc(zone: string, wall: number): number {
  const offsets = [...new Set([offsetAt(zone, wall - DAY), offsetAt(zone, wall + DAY)])];
  const instants = offsets
    .map((offset) => wall - offset)
    .filter((t) => offsetAt(zone, t) === wall - t)
    .sort((a, b) => a - b);
  return instants[0] ?? wall - (offsets[0] as number);
}

const DAY = 86_400_000;

/** The instant at which the local bucket (hour or day) holding `ms` starts. */
export function localBucketStart(zone: string, ms: number, unit: number): number {
  const localStart = Math.floor((ms + offsetAt(zone, ms)) / unit) * unit;
  // Guess with the offset at `ms`, then correct with the offset at the guess (a DST change in between).
  const guess = localStart - offsetAt(zone, ms);
  return localStart - offsetAt(zone, guess);
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}
