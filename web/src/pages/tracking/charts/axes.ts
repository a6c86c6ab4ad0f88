// Axes of the plain-canvas charts: a plot rectangle, a value → pixel mapping per axis, ticks.
import { drawText } from './CanvasChart';
import type { Column } from './fields';
import { niceTicks, type Theme } from './theme';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Maps a column's values onto [0, 1] of its axis: numbers linearly (padded), categories into evenly spaced slots. */
export interface AxisScale {
  col: Column;
  lo: number;
  hi: number;
  /** 0–1 along the axis, NaN for a missing value. */
  at: (v: number) => number;
  ticks: { at: number; label: string }[];
}

export function axisScale(col: Column, opts: { pad?: number; zero?: boolean; tickCount?: number } = {}): AxisScale {
  if (col.categories) {
    const n = col.categories.length;
    // Labels only while they can be told apart.
    const every = Math.max(1, Math.ceil(n / 12));
    return {
      col,
      lo: -0.5,
      hi: n - 0.5,
      at: (v) => (v + 0.5) / n,
      ticks: col.categories.flatMap((c, i) => (i % every === 0 ? [{ at: (i + 0.5) / n, label: c }] : [])),
    };
  }
  let lo = col.min;
  let hi = col.max;
  if (!Number.isFinite(lo)) return { col, lo: 0, hi: 1, at: () => NaN, ticks: [] };
  if (opts.zero) {
    lo = Math.min(0, lo);
    hi = Math.max(0, hi);
  }
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const pad = (hi - lo) * (opts.pad ?? 0);
  if (!(opts.zero && lo === 0)) lo -= pad;
  hi += pad;
  const span = hi - lo;
  const ticks = niceTicks(lo, hi, opts.tickCount ?? 5).map((t) => ({ at: (t - lo) / span, label: col.format(t) }));
  return { col, lo, hi, at: (v) => (v - lo) / span, ticks };
}

/** Positions of every run on a scale: a Float32Array of 0–1 (NaN when missing). */
export function positions(scale: AxisScale): Float32Array {
  const out = new Float32Array(scale.col.values.length);
  for (let i = 0; i < out.length; i++) out[i] = scale.at(scale.col.values[i]!);
  return out;
}

/** The left axis with ticks, grid lines across the plot and the axis title turned up the side. */
export function drawYAxis(ctx: CanvasRenderingContext2D, theme: Theme, scale: AxisScale, plot: Rect, title: string) {
  ctx.font = theme.font;
  for (const t of scale.ticks) {
    const y = plot.top + (1 - t.at) * plot.height;
    ctx.strokeStyle = theme.border;
    ctx.beginPath();
    ctx.moveTo(plot.left, Math.round(y) + 0.5);
    ctx.lineTo(plot.left + plot.width, Math.round(y) + 0.5);
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    drawText(ctx, t.label, plot.left - 6, y, 'right', 'middle', plot.left - 22);
  }
  ctx.save();
  ctx.translate(10, plot.top + plot.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillStyle = theme.text;
  drawText(ctx, title, 0, 0, 'center', 'middle', plot.height);
  ctx.restore();
}

/** The bottom axis with ticks and its title under them. */
export function drawXAxis(ctx: CanvasRenderingContext2D, theme: Theme, scale: AxisScale, plot: Rect, title: string) {
  ctx.font = theme.font;
  const bottom = plot.top + plot.height;
  const room = plot.width / Math.max(1, scale.ticks.length);
  for (const t of scale.ticks) {
    const x = plot.left + t.at * plot.width;
    ctx.strokeStyle = theme.border;
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, plot.top);
    ctx.lineTo(Math.round(x) + 0.5, bottom);
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    drawText(ctx, t.label, x, bottom + 6, 'center', 'top', room - 4);
  }
  ctx.fillStyle = theme.text;
  drawText(ctx, title, plot.left + plot.width / 2, bottom + 24, 'center', 'top', plot.width);
}
