import { useCallback, useMemo, useRef, useState } from 'react';
import type { Run } from '@forja/contracts';
import { CanvasChart, TipRows, type Paint, type Tip } from './CanvasChart';
import { axisScale, drawYAxis, type AxisScale, type Rect } from './axes';
import { readColumn, type Column } from './fields';

const HEIGHT = 400;
const PAD = { top: 12, bottom: 28, left: 76, right: 18 };

interface Model {
  col: Column;
  /** Run indexes with a value, best first, cut to the top N. */
  order: Int32Array;
  /** Runs with a value at all. */
  valued: number;
  scale: AxisScale;
  prepMs: number;
}

function modelOf(runs: Run[], metric: string, ascending: boolean, top: number): Model {
  const started = performance.now();
  const col = readColumn(runs, metric);
  const all: number[] = [];
  for (let i = 0; i < runs.length; i++) if (!Number.isNaN(col.values[i]!)) all.push(i);
  const v = col.values;
  all.sort((a, b) => (ascending ? v[a]! - v[b]! : v[b]! - v[a]!));
  const order = Int32Array.from(all.slice(0, top));
  let min = Infinity;
  let max = -Infinity;
  for (const i of order) {
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
  }
  const scale = axisScale({ ...col, min, max }, { zero: true, pad: 0.04 });
  return { col, order, valued: all.length, scale, prepMs: performance.now() - started };
}

const plotOf = (width: number): Rect => ({ left: PAD.left, top: PAD.top, width: width - PAD.left - PAD.right, height: HEIGHT - PAD.top - PAD.bottom });

/** One metric per run, best first: the top N bars, or every run's as a sorted profile. */
export function BarChart({
  runs,
  metric,
  ascending,
  top,
  onOpen,
}: {
  runs: Run[];
  metric: string;
  ascending: boolean;
  top: number;
  onOpen: (run: Run) => void;
}) {
  const model = useMemo(() => modelOf(runs, metric, ascending, top), [runs, metric, ascending, top]);
  const [hover, setHover] = useState<{ rank: number; x: number; y: number }>();
  const width = useRef(0);
  const n = model.order.length;

  const barBox = useCallback(
    (plot: Rect, rank: number) => {
      const step = plot.width / n;
      const zero = model.scale.at(0);
      const at = model.scale.at(model.col.values[model.order[rank]!]!);
      const y0 = plot.top + (1 - zero) * plot.height;
      const y1 = plot.top + (1 - at) * plot.height;
      // Gaps between bars only while bars are wide enough to keep them.
      const gap = step >= 4 ? Math.min(step * 0.2, 4) : 0;
      return { x: plot.left + rank * step + gap / 2, w: Math.max(step - gap, 0.5), y: Math.min(y0, y1), h: Math.max(Math.abs(y1 - y0), 1) };
    },
    [model, n],
  );

  const paint: Paint = useCallback(
    (ctx, size, theme) => {
      width.current = size.width;
      const plot = plotOf(size.width);
      drawYAxis(ctx, theme, model.scale, plot, model.col.label);
      ctx.fillStyle = theme.accent;
      ctx.beginPath();
      for (let r = 0; r < n; r++) {
        const b = barBox(plot, r);
        ctx.rect(b.x, b.y, b.w, b.h);
      }
      ctx.fill();
      ctx.fillStyle = theme.muted;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText('best', plot.left, plot.top + plot.height + 8);
      ctx.textAlign = 'right';
      ctx.fillText(`#${n.toLocaleString()}`, plot.left + plot.width, plot.top + plot.height + 8);
    },
    [model, n, barBox],
  );

  const overlay: Paint = useCallback(
    (ctx, size, theme) => {
      if (!hover) return;
      const b = barBox(plotOf(size.width), hover.rank);
      ctx.fillStyle = theme.text;
      ctx.fillRect(b.x, b.y, Math.max(b.w, 2), b.h);
    },
    [hover, barBox],
  );

  const tip: Tip | undefined = hover && {
    x: hover.x,
    y: hover.y,
    content: (
      <TipRows
        title={runs[model.order[hover.rank]!]!.info.runName}
        rows={[
          ['rank', `#${hover.rank + 1}`],
          [model.col.label, model.col.format(model.col.values[model.order[hover.rank]!]!)],
        ]}
      />
    ),
  };
  return (
    <>
      <CanvasChart
        testId="chart-bar"
        label={`Bar chart of ${model.col.label} for the best ${n} runs`}
        height={HEIGHT}
        prepMs={model.prepMs}
        paint={paint}
        overlay={overlay}
        tip={tip}
        cursor={hover ? 'pointer' : undefined}
        pointer={{
          onMove: (x, y) => {
            const plot = plotOf(width.current);
            const rank = Math.floor(((x - plot.left) / plot.width) * n);
            setHover(rank >= 0 && rank < n && y >= plot.top && y <= plot.top + plot.height ? { rank, x, y } : undefined);
          },
          onLeave: () => setHover(undefined),
          onClick: () => hover && onOpen(runs[model.order[hover.rank]!]!),
        }}
      />
      <p className="runs-chart-caption muted" data-testid="bar-caption" data-bars={n}>
        {n < model.valued
          ? `The best ${n.toLocaleString()} of ${model.valued.toLocaleString()} runs with ${model.col.label}, ${ascending ? 'lowest' : 'highest'} first; choose “All” to draw every run.`
          : `${n.toLocaleString()} runs with ${model.col.label}, ${ascending ? 'lowest' : 'highest'} first.`}
        {model.valued < runs.length && ` ${(runs.length - model.valued).toLocaleString()} runs have no value.`}
      </p>
    </>
  );
}
