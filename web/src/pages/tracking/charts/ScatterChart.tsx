import { useCallback, useMemo, useRef, useState } from 'react';
import type { Run } from '@forja/contracts';
import { CanvasChart, TipRows, type Paint, type Tip } from './CanvasChart';
import { axisScale, drawXAxis, drawYAxis, positions, type AxisScale, type Rect } from './axes';
import { readColumn, type Column } from './fields';
import { ColorLegend } from './Legend';
import { paletteColor, SCALE_STEPS, scaleColor, type Theme } from './theme';

const HEIGHT = 440;
const PAD = { top: 12, bottom: 46, left: 76, right: 18 };
const HIT_PX = 8;
/** A colour field with at most this many values gets the categorical palette. */
const CATEGORICAL_UP_TO = 12;

interface Model {
  x: AxisScale;
  y: AxisScale;
  px: Float32Array;
  py: Float32Array;
  color: Column | undefined;
  /** Per run: its palette index or scale bucket, 255 for none. */
  shade: Uint8Array;
  prepMs: number;
}

/** Runs stacked on one category would hide each other: spread them across a fraction of its slot, the same way every time. */
function jitter(p: Float32Array, scale: AxisScale) {
  if (!scale.col.categories) return;
  const slot = 1 / scale.col.categories.length;
  for (let i = 0; i < p.length; i++) p[i] = p[i]! + (((i * 2654435761) % 1000) / 1000 - 0.5) * slot * 0.6;
}

function modelOf(runs: Run[], xId: string, yId: string, colorId: string | undefined): Model {
  const started = performance.now();
  const x = axisScale(readColumn(runs, xId), { pad: 0.03 });
  const y = axisScale(readColumn(runs, yId), { pad: 0.04 });
  const px = positions(x);
  const py = positions(y);
  jitter(px, x);
  jitter(py, y);
  const color = colorId ? readColumn(runs, colorId, CATEGORICAL_UP_TO) : undefined;
  const shade = new Uint8Array(runs.length).fill(255);
  if (color) {
    const span = color.max - color.min || 1;
    for (let i = 0; i < runs.length; i++) {
      const v = color.values[i]!;
      if (!Number.isNaN(v)) shade[i] = color.categories ? v : Math.round(((v - color.min) / span) * (SCALE_STEPS - 1));
    }
  }
  return { x, y, px, py, color, shade, prepMs: performance.now() - started };
}

const plotOf = (width: number): Rect => ({ left: PAD.left, top: PAD.top, width: width - PAD.left - PAD.right, height: HEIGHT - PAD.top - PAD.bottom });

function shadeColor(theme: Theme, model: Model, shade: number): string {
  if (shade === 255) return model.color ? theme.faint : theme.accent;
  return model.color?.categories ? paletteColor(theme, shade) : scaleColor(theme, shade / (SCALE_STEPS - 1));
}

/** Any two fields of the runs against each other, coloured by a third. */
export function ScatterChart({ runs, x, y, color, onOpen }: { runs: Run[]; x: string; y: string; color: string | undefined; onOpen: (run: Run) => void }) {
  const model = useMemo(() => modelOf(runs, x, y, color), [runs, x, y, color]);
  const [hover, setHover] = useState<{ run: number; x: number; y: number }>();
  const width = useRef(0);

  const paint: Paint = useCallback(
    (ctx, size, theme) => {
      width.current = size.width;
      const plot = plotOf(size.width);
      drawYAxis(ctx, theme, model.y, plot, model.y.col.label);
      drawXAxis(ctx, theme, model.x, plot, model.x.col.label);
      ctx.globalAlpha = runs.length > 2000 ? 0.6 : 0.85;
      // One fill per colour, squares rather than arcs: 10,000 points in a few milliseconds.
      const shades = new Set(model.shade);
      for (const shade of shades) {
        ctx.fillStyle = shadeColor(theme, model, shade);
        ctx.beginPath();
        for (let i = 0; i < runs.length; i++) {
          if (model.shade[i] !== shade) continue;
          const px = model.px[i]!;
          const py = model.py[i]!;
          if (Number.isNaN(px) || Number.isNaN(py)) continue;
          ctx.rect(plot.left + px * plot.width - 2, plot.top + (1 - py) * plot.height - 2, 4, 4);
        }
        ctx.fill();
      }
      ctx.globalAlpha = 1;
    },
    [model, runs.length],
  );

  const overlay: Paint = useCallback(
    (ctx, size, theme) => {
      if (!hover) return;
      const plot = plotOf(size.width);
      ctx.strokeStyle = theme.text;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(plot.left + model.px[hover.run]! * plot.width, plot.top + (1 - model.py[hover.run]!) * plot.height, 6, 0, Math.PI * 2);
      ctx.stroke();
    },
    [hover, model],
  );

  const runNear = (x: number, y: number) => {
    const plot = plotOf(width.current);
    let best = -1;
    let bestD = HIT_PX * HIT_PX;
    for (let i = 0; i < runs.length; i++) {
      const dx = plot.left + model.px[i]! * plot.width - x;
      const dy = plot.top + (1 - model.py[i]!) * plot.height - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  };

  const value = (c: Column, i: number) => (Number.isNaN(c.values[i]!) ? '—' : c.format(c.values[i]!));
  const tip: Tip | undefined = hover && {
    x: hover.x,
    y: hover.y,
    content: (
      <TipRows
        title={runs[hover.run]!.info.runName}
        rows={[model.x.col, model.y.col, ...(model.color ? [model.color] : [])].map((c) => [c.label, value(c, hover.run)])}
      />
    ),
  };
  return (
    <>
      <CanvasChart
        testId="chart-scatter"
        label={`Scatter of ${runs.length} runs: ${model.y.col.label} against ${model.x.col.label}${model.color ? `, coloured by ${model.color.label}` : ''}`}
        height={HEIGHT}
        prepMs={model.prepMs}
        paint={paint}
        overlay={overlay}
        tip={tip}
        cursor={hover ? 'pointer' : undefined}
        pointer={{
          onMove: (px, py) => {
            const run = runNear(px, py);
            setHover(run < 0 ? undefined : { run, x: px, y: py });
          },
          onLeave: () => setHover(undefined),
          onClick: () => hover && onOpen(runs[hover.run]!),
        }}
      />
      {model.color && <ColorLegend column={model.color} />}
    </>
  );
}
