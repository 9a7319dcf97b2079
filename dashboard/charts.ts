// The uPlot charts: one time axis in the chosen zone, gaps hatched on every chart, and the
// levels (AWS's review and pause rates, the quota) drawn as labelled dashed lines.
import uPlot from 'uplot';
import type { Span } from './api.ts';
import { formatTime, tickPercent } from './format.ts';

/** A horizontal line at `value` on `scale`, named on the chart so colour is never needed. */
export interface Level {
  readonly value: number;
  readonly scale: string;
  readonly label: string;
  readonly colour: string;
}

/** A plotted series: its name, its axis (scale), how it looks, how its values read. */
export interface Line {
  readonly label: string;
  readonly scale: string;
  readonly colour: string;
  /** Canvas dash pattern; also decides the legend marker's border style. */
  readonly dash?: number[];
  readonly width?: number;
  readonly format: (value: number) => string;
}

export interface Axis {
  readonly scale: string;
  readonly label: string;
  readonly side: 'left' | 'right';
  readonly percent?: boolean;
  /** The scale shows at least 0..floor, so levels stay in view. */
  readonly floor?: number;
}

export interface ChartSpec {
  readonly height: number;
  readonly zone: string;
  readonly unit: 'minute' | 'day';
  /** Seconds since the epoch: the requested range, whether or not rows fill it. */
  readonly xRange: readonly [number, number];
  readonly gaps: readonly Span[];
  readonly levels?: readonly Level[];
  readonly lines: readonly Line[];
  readonly axes: readonly Axis[];
  readonly data: uPlot.AlignedData;
}

export const COLOURS = {
  attempts: '#0072b2',
  bounces: '#d55e00',
  complaints: '#a0437f',
  rejects: '#444444',
  quota: '#007a5a',
  review: '#b86e00',
  pause: '#b00020',
} as const;

/** Room for the tick labels of each y axis, in CSS pixels. */
const AXIS_SIZE = 64;
const GAP_FILL = 'rgba(110, 110, 110, 0.14)';
const GAP_HATCH = 'rgba(110, 110, 110, 0.45)';

export function drawChart(target: HTMLElement, spec: ChartSpec): uPlot {
  const [xMin, xMax] = spec.xRange;
  const options: uPlot.Options = {
    width: chartWidth(target),
    height: spec.height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), spec.zone),
    cursor: { sync: { key: 'ses-stats' } },
    legend: {
      markers: {
        dash: (u, i) => {
          const dash = u.series[i]?.dash;
          if (dash === undefined || dash.length === 0) return 'solid';
          return (dash[0] ?? 0) <= 2 ? 'dotted' : 'dashed';
        },
      },
    },
    scales: {
      x: { time: true, range: () => [xMin, xMax] },
      ...Object.fromEntries(
        spec.axes.map((axis) => [
          axis.scale,
          {
            range: (_u: uPlot, _min: number | null, max: number | null): uPlot.Range.MinMax => {
              const top = Math.max(max ?? 0, axis.floor ?? 0);
              return [0, top > 0 ? top * 1.12 : 1];
            },
          },
        ]),
      ),
    },
    series: [
      {
        label: 'Time',
        value: (_u, v) => (v === null ? '—' : formatTime(v * 1000, spec.zone, spec.unit)),
      },
      ...spec.lines.map(
        (line): uPlot.Series => ({
          label: line.label,
          scale: line.scale,
          stroke: line.colour,
          width: line.width ?? 1.5,
          ...(line.dash === undefined ? {} : { dash: line.dash }),
          spanGaps: false,
          value: (_u, v) => (v === null ? '—' : line.format(v)),
        }),
      ),
    ],
    axes: [
      { values: (_u, splits, _i, _space, step) => timeTicks(splits, step, spec.zone) },
      ...yAxes(spec.axes).map(
        (axis, i): uPlot.Axis => ({
          scale: axis.scale,
          label: axis.label,
          side: axis.side === 'left' ? 3 : 1,
          size: AXIS_SIZE,
          ...(i > 0 ? { grid: { show: false } } : {}),
          ...(axis.percent
            ? { values: (_u: uPlot, splits: number[]) => splits.map(tickPercent) }
            : {}),
        }),
      ),
    ],
    hooks: {
      drawClear: [(u) => shadeGaps(u, spec.gaps)],
      draw: [(u) => drawLevels(u, spec.levels ?? [])],
    },
  };
  return new uPlot(options, spec.data, target);
}

/**
 * Tick labels in 24-hour time in the chosen zone: `14:00`, with the date under the first tick of
 * each day; for steps of a day or more `11-28`, with the year under the first tick of each year.
 */
function timeTicks(splits: number[], step: number, zone: string): string[] {
  let shown = '';
  return splits.map((s) => {
    const [day = '', time = ''] = formatTime(s * 1000, zone).split(' ');
    const [year = '', rest = ''] = [day.slice(0, 4), day.slice(5)];
    const [label, context] = step >= 86_400 ? [rest, year] : [time, rest];
    if (context === shown) return label;
    shown = context;
    return `${label}\n${context}`;
  });
}

/**
 * A chart with one scale repeats it on the right: every plot area then has the same width, so
 * the charts' times (and gaps) line up.
 */
function yAxes(axes: readonly Axis[]): readonly Axis[] {
  const [only, other] = axes;
  return only !== undefined && other === undefined ? [only, { ...only, side: 'right' }] : axes;
}

export function chartWidth(target: HTMLElement): number {
  return Math.max(320, Math.floor(target.clientWidth));
}

let hatch: CanvasPattern | null | undefined;

/** Diagonal hatching over a light fill: a gap reads as one without its colour. */
function hatchPattern(ctx: CanvasRenderingContext2D): CanvasPattern | null {
  if (hatch !== undefined) return hatch;
  const tile = document.createElement('canvas');
  const size = Math.round(8 * uPlot.pxRatio);
  tile.width = size;
  tile.height = size;
  const g = tile.getContext('2d');
  if (g === null) {
    hatch = null;
    return hatch;
  }
  g.strokeStyle = GAP_HATCH;
  g.lineWidth = Math.max(1, uPlot.pxRatio);
  g.beginPath();
  g.moveTo(0, size);
  g.lineTo(size, 0);
  g.stroke();
  hatch = ctx.createPattern(tile, 'repeat');
  return hatch;
}

function shadeGaps(u: uPlot, gaps: readonly Span[]): void {
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  const shaded: string[] = [];
  ctx.save();
  for (const gap of gaps) {
    const x0 = Math.max(left, u.valToPos(Date.parse(gap.from) / 1000, 'x', true));
    const x1 = Math.min(left + width, u.valToPos(Date.parse(gap.to) / 1000, 'x', true));
    if (!(x1 > x0)) continue;
    const w = Math.max(x1 - x0, uPlot.pxRatio);
    shaded.push(`${Math.round(x0)}-${Math.round(x0 + w)}`);
    ctx.fillStyle = GAP_FILL;
    ctx.fillRect(x0, top, w, height);
    const pattern = hatchPattern(ctx);
    if (pattern !== null) {
      ctx.fillStyle = pattern;
      ctx.fillRect(x0, top, w, height);
    }
    if (w > 40 * uPlot.pxRatio) {
      ctx.fillStyle = '#555555';
      ctx.font = `${Math.round(11 * uPlot.pxRatio)}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText('gap', x0 + w / 2, top + 4 * uPlot.pxRatio);
    }
  }
  ctx.restore();
  // Where the gaps are on the canvas (in its pixels), for whoever checks the drawing.
  const target = u.root.parentElement;
  if (target !== null) target.dataset.gaps = shaded.join(' ');
}

function drawLevels(u: uPlot, levels: readonly Level[]): void {
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  const px = uPlot.pxRatio;
  ctx.save();
  ctx.font = `${Math.round(11 * px)}px system-ui, sans-serif`;
  ctx.textBaseline = 'bottom';
  // Labels alternate between the right and the left end, so two close levels never overprint.
  for (const [i, level] of levels.entries()) {
    const y = Math.round(u.valToPos(level.value, level.scale, true)) + 0.5;
    if (y < top || y > top + height) continue;
    ctx.strokeStyle = level.colour;
    ctx.lineWidth = px;
    ctx.setLineDash([7 * px, 4 * px]);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.fillStyle = level.colour;
    const rightEnd = i % 2 === 0;
    ctx.textAlign = rightEnd ? 'right' : 'left';
    ctx.fillText(level.label, rightEnd ? left + width - 4 * px : left + 4 * px, y - 2 * px);
  }
  ctx.restore();
}
