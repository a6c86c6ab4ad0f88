import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric } from '../tracking/format';
import { axisStyle } from '../tracking/MetricChart';
import { cssColor, useColorScheme } from '../tracking/chartColors';

export interface TimeSeries {
  label: string;
  color: string;
  /** [time in ms, value]; null leaves a gap. */
  points: readonly (readonly [number, number | null])[];
}

const hourMinute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const monthDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** One line per tick: the time of day within two days, else the date. */
function timeLabel(seconds: number, spanSeconds: number): string {
  return (spanSeconds <= 2 * 86_400 ? hourMinute : monthDay).format(new Date(seconds * 1000));
}

/** Dashed red lines across the plot at each threshold (uPlot draws on a canvas, so they are drawn after it). */
function drawThresholds(u: uPlot, levels: readonly number[]) {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.strokeStyle = cssColor('--danger', '#dc2626');
  ctx.lineWidth = 1.25 * devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  for (const level of levels) {
    const y = Math.round(u.valToPos(level, 'y', true));
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
  }
  ctx.restore();
}

/** uPlot wants one ascending x array (seconds) and a y array per series with nulls where a series has no point. */
export function alignSeries(series: readonly TimeSeries[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const out = new Array<number | null>(xs.length).fill(null);
    for (const [t, v] of s.points) out[index.get(t)!] = v;
    return out;
  });
  return [xs.map((x) => x / 1000), ...ys];
}

/** A value between two gaps (or at an edge next to one): a line cannot show it, only a marker. */
function hasLoneValue(points: TimeSeries['points']): boolean {
  return points.some(([, v], i) => v !== null && (points[i - 1]?.[1] ?? null) === null && (points[i + 1]?.[1] ?? null) === null);
}

/**
 * Lines over time on uPlot, with a legend, and dashed red lines at the thresholds a value must not
 * cross (drift thresholds, baselines). Rebuilt when the series' shape changes, fed with setData otherwise.
 */
export function TimeChart({
  series,
  thresholds = [],
  unit,
  height = 180,
  testId,
  format = formatMetric,
}: {
  series: readonly TimeSeries[];
  /** Values drawn as dashed red lines; say what they are in the chart's note. */
  thresholds?: readonly number[];
  unit?: string;
  height?: number;
  testId: string;
  format?: (v: number) => string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const data = useMemo(() => alignSeries(series), [series]);
  const shape = series.map((s) => `${s.label}:${s.color}`).join('|');
  const levels = thresholds;
  const points = data[0].length;
  const scheme = useColorScheme();

  useEffect(() => {
    const el = ref.current;
    if (!el || points === 0) return;
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: {
        // From the data itself: a lone point gets an hour either side instead of a span of years.
        x: {
          time: true,
          range: (u) => {
            const xs = u.data[0];
            const lo = xs[0] ?? 0;
            const hi = xs[xs.length - 1] ?? lo;
            return hi - lo < 60 ? [lo - 3600, hi + 3600] : [lo, hi];
          },
        },
        // From 0 (or below), and high enough to show every threshold line.
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max, ...levels) > 0 ? Math.max(max, ...levels) * 1.15 : 1] },
      },
      axes: [
        { ...axisStyle(), size: 28, values: (u, vals) => vals.map((v) => timeLabel(v, (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0))) },
        { ...axisStyle(), size: 52, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
      series: [
        { label: 'Time', value: '{YYYY}-{MM}-{DD} {HH}:{mm}' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.6,
          spanGaps: false,
          // uPlot hides markers on dense series, and a value with no neighbour draws no line: show them then.
          points: { size: 5, fill: s.color, ...(hasLoneValue(s.points) ? { show: true } : {}) },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${format(v)}${unit ? ` ${unit}` : ''}`),
        })),
      ],
      hooks: { draw: [(u) => drawThresholds(u, levels)] },
    };
    const plot = new uPlot(opts, data, el);
    chart.current = plot;
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      plot.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // Rebuilt only when the series change shape, the thresholds move or the colour scheme changes; new values go through setData below.
  }, [shape, levels.join(','), height, unit, points === 0, scheme]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={ref} className="metric-chart time-chart" data-testid={testId} data-points={points} />;
}
