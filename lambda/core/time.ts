import { isoUtc } from './datasets.ts';
import type { Span } from './store.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** SES `GetSendStatistics` returns the last two weeks. */
export const SES_WINDOW_MS = 14 * DAY_MS;

/** Bounds wide enough for any stored time. */
export const ALL_TIME: Span = { from: '0000-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z' };

export const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
export const hourStart = (iso: string): string =>
  isoUtc(new Date(floorTo(Date.parse(iso), HOUR_MS)));
export const dayStart = (iso: string): string => isoUtc(new Date(floorTo(Date.parse(iso), DAY_MS)));
export const addMs = (iso: string, ms: number): string => isoUtc(new Date(Date.parse(iso) + ms));

/** Removes [cut.from, cut.to) from each span. */
export function subtractSpan(spans: readonly Span[], cut: Span): Span[] {
  return spans.flatMap((s) => {
    if (cut.to <= s.from || cut.from >= s.to) return [s];
    const left = s.from < cut.from ? [{ from: s.from, to: cut.from }] : [];
    const right = cut.to < s.to ? [{ from: cut.to, to: s.to }] : [];
    return [...left, ...right];
  });
}

/** Removes every span of `cuts` from each span. */
export function subtractSpans(spans: readonly Span[], cuts: readonly Span[]): Span[] {
  return cuts.reduce<Span[]>((rest, cut) => subtractSpan(rest, cut), [...spans]);
}

/** The overlap of two spans (ISO strings compare as times), if they overlap. */
export function intersectSpan(a: Span, b: Span): Span | undefined {
  const from = [a.from, b.from].sort()[1] ?? a.from;
  const to = [a.to, b.to].sort()[0] ?? a.to;
  return from < to ? { from, to } : undefined;
}

/** Sorts spans and joins those that overlap or touch. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const merged: Span[] = [];
  for (const span of [...spans].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    const last = merged.at(-1);
    if (last !== undefined && span.from <= last.to) {
      if (span.to > last.to) merged[merged.length - 1] = { from: last.from, to: span.to };
    } else merged.push({ ...span });
  }
  return merged;
}

/**
 * Splits [from, to) into the coarsest aligned pieces: raw 15-minute points at ragged edges, hourly
 * rollups for whole hours, daily rollups for whole UTC days. Summing the pieces gives the exact
 * total while reading about one item per day.
 */
export function planSpan(span: Span): Array<Span & { granularity: '15m' | '1h' | '1d' }> {
  const from = Date.parse(span.from);
  const to = Date.parse(span.to);
  if (!(from < to)) return [];
  const ceil = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
  const hourFrom = Math.min(ceil(from, HOUR_MS), to);
  const hourTo = Math.max(floorTo(to, HOUR_MS), hourFrom);
  const dayFrom = Math.min(ceil(hourFrom, DAY_MS), hourTo);
  const dayTo = Math.max(floorTo(hourTo, DAY_MS), dayFrom);
  const pieces: Array<[number, number, '15m' | '1h' | '1d']> = [
    [from, hourFrom, '15m'],
    [hourFrom, dayFrom, '1h'],
    [dayFrom, dayTo, '1d'],
    [dayTo, hourTo, '1h'],
    [hourTo, to, '15m'],
  ];
  return pieces
    .filter(([a, b]) => a < b)
    .map(([a, b, granularity]) => ({
      from: isoUtc(new Date(a)),
      to: isoUtc(new Date(b)),
      granularity,
    }));
}
