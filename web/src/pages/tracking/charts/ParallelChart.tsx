import { useCallback, useMemo, useRef, useState } from 'react';
import type { Run } from '@forja/contracts';
import { CanvasChart, drawText, TipRows, type Paint, type Tip } from './CanvasChart';
import { axisScale, positions, type AxisScale } from './axes';
import { readColumn } from './fields';
import { ColorLegend } from './Legend';
import { SCALE_STEPS, scaleColor } from './theme';

/** A range brushed on an axis, as positions 0 (bottom) to 1 (top). */
export interface Brush {
  axis: string;
  lo: number;
  hi: number;
}

/** `lo:hi:axis` — the axis last, since keys may hold colons. */
export const brushToText = (b: Brush) => `${b.lo.toFixed(3)}:${b.hi.toFixed(3)}:${b.axis}`;
export function brushFromText(text: string): Brush | undefined {
  const [lo, hi] = text.split(':', 2).map(Number);
  const axis = text.split(':').slice(2).join(':');
  return Number.isFinite(lo) && Number.isFinite(hi) && axis ? { axis, lo: lo!, hi: hi! } : undefined;
}

const HEIGHT = 440;
const PAD = { top: 40, bottom: 22, left: 64, right: 64 };
/** A param with at most this many values gets evenly spaced slots, not a linear axis. */
const ORDINAL_UP_TO = 12;
const HIT_PX = 6;
const AXIS_GRAB_PX = 14;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
const toPos = (y: number) => Math.max(0, Math.min(1, 1 - (y - PAD.top) / PLOT_H));
const toY = (p: number) => PAD.top + (1 - p) * PLOT_H;

interface Model {
  scales: AxisScale[];
  /** Per axis, every run's position 0–1. */
  pos: Float32Array[];
  /** Per run, its colour bucket on the metric's scale (0–63), or 255 without a value. */
  bucket: Uint8Array;
  prepMs: number;
}

function modelOf(runs: Run[], axes: string[], metric: string): Model {
  const started = performance.now();
  const scales = [...axes.map((id) => axisScale(readColumn(runs, id, ORDINAL_UP_TO))), axisScale(readColumn(runs, metric))];
  const pos = scales.map(positions);
  const last = pos[pos.length - 1]!;
  const bucket = new Uint8Array(runs.length);
  for (let i = 0; i < runs.length; i++) bucket[i] = Number.isNaN(last[i]!) ? 255 : Math.round(last[i]! * (SCALE_STEPS - 1));
  return { scales, pos, bucket, prepMs: performance.now() - started };
}

/** Which runs fall inside every brush. */
function matchesOf(model: Model, brushes: Brush[], runs: number): Uint8Array {
  const out = new Uint8Array(runs).fill(1);
  for (const b of brushes) {
    const k = model.scales.findIndex((s) => s.col.id === b.axis);
    if (k < 0) continue;
    const p = model.pos[k]!;
    for (let i = 0; i < runs; i++) if (!(p[i]! >= b.lo && p[i]! <= b.hi)) out[i] = 0;
  }
  return out;
}

/** Parallel coordinates: each run a line through its params (and attributes) to the metric, coloured by the metric. Drag along an axis to brush. */
export function ParallelChart({
  runs,
  axes,
  metric,
  brushes,
  onBrushes,
  onOpen,
}: {
  runs: Run[];
  axes: string[];
  metric: string;
  brushes: Brush[];
  onBrushes: (b: Brush[]) => void;
  onOpen: (run: Run) => void;
}) {
  const model = useMemo(() => modelOf(runs, axes, metric), [runs, axes, metric]);
  const matches = useMemo(() => matchesOf(model, brushes, runs.length), [model, brushes, runs.length]);
  const matching = useMemo(() => matches.reduce((n, m) => n + m, 0), [matches]);
  const [hover, setHover] = useState<{ run: number; x: number; y: number }>();
  const [draft, setDraft] = useState<{ axis: number; from: number; to: number }>();
  const width = useRef(0);
  const n = model.scales.length;

  // A press on an axis starts a brush; the click that ends it must not open a run.
  const brushing = useRef(false);
  const axisX = useCallback((k: number, w: number) => PAD.left + (k * (w - PAD.left - PAD.right)) / Math.max(1, n - 1), [n]);

  const paint: Paint = useCallback(
    (ctx, size, theme) => {
      width.current = size.width;
      const xs = model.scales.map((_, k) => axisX(k, size.width));
      const trace = (i: number) => {
        let pen = false;
        for (let k = 0; k < n; k++) {
          const p = model.pos[k]![i]!;
          if (Number.isNaN(p)) {
            pen = false;
            continue;
          }
          const y = PAD.top + (1 - p) * PLOT_H;
          if (pen) ctx.lineTo(xs[k]!, y);
          else ctx.moveTo(xs[k]!, y);
          pen = true;
        }
      };
      const filtered = brushes.length > 0;
      ctx.lineWidth = 1;
      if (filtered) {
        ctx.globalAlpha = 0.35;
        ctx.strokeStyle = theme.border;
        ctx.beginPath();
        for (let i = 0; i < runs.length; i++) if (!matches[i]) trace(i);
        ctx.stroke();
      }
      // One path per colour: 64 strokes instead of 10,000.
      const shown = filtered ? matching : runs.length;
      ctx.globalAlpha = Math.min(0.9, Math.max(0.15, 10 / Math.sqrt(Math.max(1, shown))));
      for (let c = 0; c <= SCALE_STEPS; c++) {
        const bucket = c === SCALE_STEPS ? 255 : c;
        ctx.strokeStyle = bucket === 255 ? theme.faint : scaleColor(theme, c / (SCALE_STEPS - 1));
        ctx.beginPath();
        for (let i = 0; i < runs.length; i++) if (model.bucket[i] === bucket && matches[i]) trace(i);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      ctx.font = theme.font;
      const room = (size.width - PAD.left - PAD.right) / Math.max(1, n - 1);
      model.scales.forEach((s, k) => {
        const x = Math.round(xs[k]!) + 0.5;
        ctx.strokeStyle = theme.muted;
        ctx.beginPath();
        ctx.moveTo(x, PAD.top);
        ctx.lineTo(x, PAD.top + PLOT_H);
        ctx.stroke();
        ctx.fillStyle = theme.text;
        ctx.font = `600 ${theme.font}`;
        drawText(ctx, s.col.label, x, PAD.top - 22, k === 0 ? 'left' : k === n - 1 ? 'right' : 'center', 'middle', Math.max(40, room - 8));
        ctx.font = theme.font;
        for (const t of s.ticks) {
          const y = PAD.top + (1 - t.at) * PLOT_H;
          ctx.fillStyle = theme.surface;
          const label = t.label;
          const w = Math.min(ctx.measureText(label).width, 80);
          ctx.fillRect(x - w - 7, y - 7, w + 4, 14);
          ctx.fillStyle = theme.muted;
          drawText(ctx, label, x - 5, y, 'right', 'middle', 80);
          ctx.fillRect(x - 3, Math.round(y), 3, 1);
        }
      });
    },
    [model, matches, matching, brushes.length, runs.length, axisX, n],
  );

  const overlay: Paint = useCallback(
    (ctx, size, theme) => {
      ctx.fillStyle = theme.accent;
      const drawn = [...brushes.map((b) => ({ k: model.scales.findIndex((s) => s.col.id === b.axis), lo: b.lo, hi: b.hi }))];
      if (draft) drawn.push({ k: draft.axis, lo: Math.min(draft.from, draft.to), hi: Math.max(draft.from, draft.to) });
      for (const b of drawn) {
        if (b.k < 0) continue;
        const x = axisX(b.k, size.width);
        ctx.globalAlpha = 0.25;
        ctx.fillRect(x - 7, toY(b.hi), 14, toY(b.lo) - toY(b.hi));
        ctx.globalAlpha = 1;
        ctx.strokeStyle = theme.accent;
        ctx.strokeRect(x - 7.5, toY(b.hi) + 0.5, 15, toY(b.lo) - toY(b.hi));
      }
      if (hover) {
        ctx.strokeStyle = theme.text;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        let pen = false;
        model.scales.forEach((_, k) => {
          const p = model.pos[k]![hover.run]!;
          if (Number.isNaN(p)) {
            pen = false;
            return;
          }
          if (pen) ctx.lineTo(axisX(k, size.width), toY(p));
          else ctx.moveTo(axisX(k, size.width), toY(p));
          pen = true;
        });
        ctx.stroke();
      }
    },
    [brushes, draft, hover, model, axisX],
  );

  const axisNear = (x: number) => {
    for (let k = 0; k < n; k++) if (Math.abs(x - axisX(k, width.current)) <= AXIS_GRAB_PX) return k;
    return -1;
  };
  const runNear = (x: number, y: number) => {
    const w = width.current;
    let k = 0;
    while (k < n - 2 && x > axisX(k + 1, w)) k++;
    const x0 = axisX(k, w);
    const t = Math.max(0, Math.min(1, (x - x0) / (axisX(k + 1, w) - x0)));
    const a = model.pos[k]!;
    const b = model.pos[k + 1]!;
    let best = -1;
    let bestD = HIT_PX;
    for (let i = 0; i < runs.length; i++) {
      if (!matches[i]) continue;
      const d = Math.abs(toY(a[i]! + (b[i]! - a[i]!) * t) - y);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  };

  const tip: Tip | undefined = hover && {
    x: hover.x,
    y: hover.y,
    content: (
      <TipRows
        title={runs[hover.run]!.info.runName}
        rows={model.scales.map((s) => [s.col.label, Number.isNaN(s.col.values[hover.run]!) ? '—' : s.col.format(s.col.values[hover.run]!)])}
      />
    ),
  };

  return (
    <>
      <CanvasChart
        testId="chart-parallel"
        label={`Parallel coordinates of ${runs.length} runs: ${model.scales.map((s) => s.col.label).join(', ')}`}
        height={HEIGHT}
        prepMs={model.prepMs}
        paint={paint}
        overlay={overlay}
        tip={tip}
        cursor={hover ? 'pointer' : draft ? 'ns-resize' : undefined}
        pointer={{
          onDown: (x, y) => {
            const k = axisNear(x);
            brushing.current = k >= 0 && y >= PAD.top - 4 && y <= PAD.top + PLOT_H + 4;
            if (!brushing.current) return;
            setHover(undefined);
            setDraft({ axis: k, from: toPos(y), to: toPos(y) });
          },
          onMove: (x, y) => {
            if (draft) setDraft({ ...draft, to: toPos(y) });
            else {
              const run = runNear(x, y);
              setHover(run < 0 ? undefined : { run, x, y });
            }
          },
          onUp: (_x, y) => {
            if (!draft) return;
            const axis = model.scales[draft.axis]!.col.id;
            const others = brushes.filter((b) => b.axis !== axis);
            const to = toPos(y);
            // A click on an axis without a drag clears its brush.
            const moved = Math.abs(to - draft.from) * PLOT_H > 3;
            onBrushes(moved ? [...others, { axis, lo: Math.min(draft.from, to), hi: Math.max(draft.from, to) }] : others);
            setDraft(undefined);
          },
          onLeave: () => setHover(undefined),
          onClick: () => {
            if (hover && !brushing.current) onOpen(runs[hover.run]!);
            brushing.current = false;
          },
        }}
      />
      <ColorLegend column={model.scales[model.scales.length - 1]!.col} />
      <p className="runs-chart-caption muted" data-testid="parallel-matching" data-matching={matching}>
        {brushes.length > 0
          ? `${matching.toLocaleString()} of ${runs.length.toLocaleString()} runs in the brushed ranges. Click an axis to clear its brush.`
          : 'Drag along an axis to brush a range; hover a line for its run, click to open it.'}
      </p>
    </>
  );
}
