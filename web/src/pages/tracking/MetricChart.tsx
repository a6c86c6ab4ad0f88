import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Metric } from '@forja/contracts';
import { formatMetric, numericValue } from './format';
import { cssColor, useColorScheme } from './chartColors';

export type XMode = 'step' | 'time' | 'relative';

const xModes: { value: XMode; label: string }[] = [
  { value: 'step', label: 'Step' },
  { value: 'time', label: 'Time' },
  { value: 'relative', label: 'Relative time' },
];

export interface ChartSeries {
  label: string;
  color: string;
  history: Metric[];
  /** Relative time counts from here (the run's start); else from the first point. */
  startTime?: number | null;
}

interface Plot {
  data: uPlot.AlignedData;
  points: number;
}

function xOf(m: Metric, mode: XMode, origin: number): number {
  if (mode === 'step') return m.step;
  // uPlot's time scale is in seconds.
  return mode === 'time' ? m.timestamp / 1000 : (m.timestamp - origin) / 1000;
}

/**
 * uPlot wants one shared, ascending x array with a y array per series (null where a series has no
 * point). A single series keeps its own points; several are merged on the union of their x values.
 */
function buildPlot(series: ChartSeries[], mode: XMode): Plot {
  const perSeries = series.map((s) => {
    const origin = s.startTime ?? s.history[0]?.timestamp ?? 0;
    const pts = s.history.map((m) => ({ x: xOf(m, mode, origin), y: numericValue(m.value) }));
    pts.sort((a, b) => a.x - b.x);
    return pts;
  });
  const points = perSeries.reduce((n, p) => n + p.filter((q) => q.y !== null).length, 0);
  if (perSeries.length === 1) {
    const only = perSeries[0]!;
    return { data: [only.map((p) => p.x), only.map((p) => p.y)], points };
  }
  const xs = [...new Set(perSeries.flatMap((p) => p.map((q) => q.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = perSeries.map((p) => {
    const out: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const q of p) out[index.get(q.x)!] = q.y;
    return out;
  });
  return { data: [xs, ...ys], points };
}

function relativeLabel(seconds: number): string {
  const a = Math.abs(seconds);
  if (a < 120) return `${Number(seconds.toFixed(1))}s`;
  if (a < 7200) return `${Number((seconds / 60).toFixed(1))}m`;
  return `${Number((seconds / 3600).toFixed(1))}h`;
}

// Steps are whole numbers: ticks at 0.5 would name steps that cannot exist.
const stepIncrements = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9];

/** Axis colours from the theme's variables, read when a chart is made (so dark mode gets its own). */
export function axisStyle(): uPlot.Axis {
  return {
    stroke: cssColor('--muted', '#71717a'),
    grid: { stroke: cssColor('--border', '#e4e4e7'), width: 1 },
    ticks: { stroke: cssColor('--border-strong', '#d4d4d8'), width: 1 },
    font: '11px system-ui, sans-serif',
  };
}

function optionsFor(series: ChartSeries[], mode: XMode, width: number, height: number): uPlot.Options {
  const xAxis: uPlot.Axis = axisStyle();
  if (mode === 'relative') xAxis.values = (_u, vals) => vals.map(relativeLabel);
  if (mode === 'step') xAxis.incrs = stepIncrements;
  // A lone x value would otherwise get a range of years (time) or a fraction of a step.
  const pad = mode === 'step' ? 1 : 60;
  return {
    width,
    height,
    scales: { x: { time: mode === 'time', range: (_u, min, max) => (min === max ? [min - pad, max + pad] : [min, max]) } },
    axes: [xAxis, { ...axisStyle(), size: 56, values: (_u, vals) => vals.map((v) => formatMetric(v)) }],
    series: [
      {
        label: mode === 'step' ? 'Step' : mode === 'time' ? 'Time' : 'Since start',
        value: mode === 'time' ? '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' : mode === 'relative' ? (_u, v) => (v === null ? '—' : relativeLabel(v)) : undefined,
      },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        // NaN values are gaps in the data, not breaks in the line.
        spanGaps: true,
        points: { size: 5, fill: s.color },
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : formatMetric(v)),
      })),
    ],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
  };
}

/** A line chart of metric histories on uPlot: canvas-drawn, so 100,000-point series stay smooth. Drag to zoom, double-click to reset. */
export function MetricChart({ series, mode, height = 220, testId = 'metric-chart' }: { series: ChartSeries[]; mode: XMode; height?: number; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useMemo(() => buildPlot(series, mode), [series, mode]);
  const scheme = useColorScheme();

  useEffect(() => {
    const el = ref.current;
    if (!el || plot.points === 0) return;
    const chart = new uPlot(optionsFor(series, mode, el.clientWidth, height), plot.data, el);
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      chart.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
    // scheme: the theme's colours are read when the chart is made.
  }, [plot, series, mode, height, scheme]);

  if (plot.points === 0) {
    return (
      <div className="chart-empty" style={{ height }} data-testid={`${testId}-empty`}>
        No numeric values to plot
      </div>
    );
  }
  return <div ref={ref} className="metric-chart" data-testid={testId} />;
}

export function XModeToggle({ value, onChange }: { value: XMode; onChange: (m: XMode) => void }) {
  return (
    <div className="segmented" role="radiogroup" aria-label="X axis">
      {xModes.map((m) => (
        <button
          key={m.value}
          type="button"
          role="radio"
          aria-checked={value === m.value}
          className={value === m.value ? 'active' : ''}
          onClick={() => onChange(m.value)}
        >
          {m.label}
        </button>
      ))}
    </div>
  );
}
