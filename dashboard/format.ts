// Times in the chosen zone and numbers as the page shows them.

const clocks = new Map<string, Intl.DateTimeFormat>();

function clock(zone: string): Intl.DateTimeFormat {
  let format = clocks.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    clocks.set(zone, format);
  }
  return format;
}

/** The wall-clock fields of an instant in `zone`. */
function fields(ms: number, zone: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const { type, value } of clock(zone).formatToParts(ms)) parts[type] = value;
  return parts;
}

/** `2026-11-28 10:15` (or `2026-11-28` for a day) in `zone`. */
export function formatTime(ms: number, zone: string, unit: 'minute' | 'day' = 'minute'): string {
  const f = fields(ms, zone);
  const day = `${f.year}-${f.month}-${f.day}`;
  return unit === 'day' ? day : `${day} ${f.hour}:${f.minute}`;
}

/** The value of an `<input type="datetime-local">` showing this instant in `zone`. */
export function localInputValue(ms: number, zone: string): string {
  return formatTime(ms, zone).replace(' ', 'T');
}

export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const counts = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return counts.format(value);
}

/** A percentage (0-100) with the precision its size needs: `0.024%`, `1.90%`. */
export function formatPercent(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return '—';
  if (percent === 0) return '0%';
  return `${percent < 1 ? percent.toFixed(3) : percent.toFixed(2)}%`;
}

/** An axis tick as a percentage, without floating-point noise. */
export function tickPercent(value: number): string {
  return `${Number(value.toPrecision(6))}%`;
}
