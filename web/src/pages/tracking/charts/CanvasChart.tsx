import { useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useColorScheme } from '../chartColors';
import { readTheme, type Theme } from './theme';

export interface Size {
  width: number;
  height: number;
}

export type Paint = (ctx: CanvasRenderingContext2D, size: Size, theme: Theme) => void;

export interface PointerHandlers {
  onMove?: (x: number, y: number) => void;
  onDown?: (x: number, y: number) => void;
  onUp?: (x: number, y: number) => void;
  onLeave?: () => void;
  onClick?: (x: number, y: number) => void;
}

/** A tooltip beside the pointer. */
export interface Tip {
  x: number;
  y: number;
  content: ReactNode;
}

let drawCount = 0;
/**
 * Numbers every full draw on the page, across remounts: a test waits for a number above the last it
 * saw, whether the chart redrew in place or was rebuilt for new data.
 */
export function markDrawn(el: HTMLElement, ms: number) {
  drawCount += 1;
  el.dataset.drawMs = ms.toFixed(1);
  el.dataset.draws = String(drawCount);
}

/** The theme, read again when the system switches between light and dark. */
export function useTheme(): Theme {
  const scheme = useColorScheme();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the scheme is what changes the variables readTheme reads.
  return useMemo(readTheme, [scheme]);
}

function fit(canvas: HTMLCanvasElement, size: Size): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(size.width * dpr) || canvas.height !== Math.round(size.height * dpr)) {
    canvas.width = Math.round(size.width * dpr);
    canvas.height = Math.round(size.height * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, size.width, size.height);
  return ctx;
}

/**
 * Two stacked canvases: `paint` draws every run (redrawn when it changes), `overlay` the hover and
 * brushes on top so moving the pointer never redraws 10,000 runs. The element carries
 * `data-draw-ms`: the last full draw, preparing the data (`prepMs`) plus painting.
 */
export function CanvasChart({
  testId,
  label,
  height,
  prepMs,
  paint,
  overlay,
  pointer,
  tip,
  cursor,
}: {
  testId: string;
  /** What the chart shows, for screen readers. */
  label: string;
  height: number;
  prepMs: number;
  paint: Paint;
  overlay?: Paint;
  pointer?: PointerHandlers;
  tip?: Tip;
  cursor?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const base = useRef<HTMLCanvasElement>(null);
  const top = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const theme = useTheme();

  useLayoutEffect(() => {
    const el = box.current!;
    setWidth(el.clientWidth);
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (width === 0) return;
    const started = performance.now();
    paint(fit(base.current!, { width, height }), { width, height }, theme);
    markDrawn(box.current!, prepMs + performance.now() - started);
  }, [paint, width, height, theme, prepMs]);

  useEffect(() => {
    if (width === 0) return;
    const ctx = fit(top.current!, { width, height });
    overlay?.(ctx, { width, height }, theme);
  }, [overlay, width, height, theme]);

  const at = (e: React.PointerEvent | React.MouseEvent): [number, number] => {
    const r = top.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  return (
    <div ref={box} className="runs-chart" data-testid={testId} style={{ height }}>
      <canvas ref={base} role="img" aria-label={label} style={{ width, height }} />
      <canvas
        ref={top}
        className="runs-chart-overlay"
        aria-hidden="true"
        style={{ width, height, cursor }}
        onPointerMove={(e) => pointer?.onMove?.(...at(e))}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          pointer?.onDown?.(...at(e));
        }}
        onPointerUp={(e) => pointer?.onUp?.(...at(e))}
        onPointerLeave={() => pointer?.onLeave?.()}
        onClick={(e) => pointer?.onClick?.(...at(e))}
      />
      {tip && (
        <div
          className="runs-chart-tip"
          style={{ left: Math.min(tip.x + 14, Math.max(0, width - 260)), top: Math.max(0, tip.y + 14) }}
          data-testid={`${testId}-tip`}
        >
          {tip.content}
        </div>
      )}
    </div>
  );
}

/** The run name and values shown on hover. */
export function TipRows({ title, rows }: { title: string; rows: [string, string][] }) {
  return (
    <>
      <div className="runs-chart-tip-title">{title}</div>
      {rows.map(([k, v]) => (
        <div key={k} className="runs-chart-tip-row">
          <span className="muted">{k}</span> <span className="mono">{v}</span>
        </div>
      ))}
    </>
  );
}

/** Shared axis drawing: a label per tick value at the given positions. */
export function drawText(
  ctx: CanvasRenderingContext2D,
  text: string,
  x: number,
  y: number,
  align: CanvasTextAlign,
  baseline: CanvasTextBaseline,
  maxWidth?: number,
) {
  ctx.textAlign = align;
  ctx.textBaseline = baseline;
  let t = text;
  if (maxWidth !== undefined && ctx.measureText(t).width > maxWidth) {
    while (t.length > 1 && ctx.measureText(`${t}…`).width > maxWidth) t = t.slice(0, -1);
    t = `${t}…`;
  }
  ctx.fillText(t, x, y);
}
