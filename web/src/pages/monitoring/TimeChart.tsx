import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric } from '../tracking/format';

export interface TimeSeries {
  label: string;
  color: string;
  /** [time in ms, value]; null leaves a gap. */
  points: readonly (readonly [number, number | null])[];
}

const axisStyle = { stroke: '#71717a', grid: { stroke: '#f0f0f2', width: 1 }, ticks: { stroke: '#e4e4e7', width: 1 }, font: '11px system-ui, sans-serif' };
const THRESHOLD_COLOR = '#dc2626';

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

/**
 * Lines over time on uPlot, with a legend, and dashed red lines at the thresholds a value must not
 * cross (drift thresholds, alert rules). Rebuilt when the series' shape changes, fed with setData otherwise.
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
  thresholds?: readonly { label: string; value: number }[];
  unit?: string;
  height?: number;
  testId: string;
  format?: (v: number) => string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const data = useMemo(() => {
    const aligned = alignSeries(series);
    // A threshold is a constant series, so it scales the y axis and shows in the legend.
    return [...aligned, ...thresholds.map((t) => aligned[0].map(() => t.value))] as uPlot.AlignedData;
  }, [series, thresholds]);
  const shape = [...series.map((s) => `${s.label}:${s.color}`), ...thresholds.map((t) => `t:${t.label}`)].join('|');
  const points = data[0].length;

  useEffect(() => {
    const el = ref.current;
    if (!el || points === 0) return;
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: {
        // A lone point gets an hour either side instead of a span of years.
        x: { time: true, range: (_u, min, max) => (max - min < 1 ? [min - 3600, max + 3600] : [min, max]) },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { ...axisStyle, size: 34 },
        { ...axisStyle, size: 52, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.6,
          spanGaps: false,
          points: { size: 5, fill: s.color },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${format(v)}${unit ? ` ${unit}` : ''}`),
        })),
        ...thresholds.map((t) => ({ label: t.label, stroke: THRESHOLD_COLOR, width: 1, dash: [5, 4], points: { show: false }, value: () => format(t.value) })),
      ],
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
    // Rebuilt only when the series change shape; new values go through setData below.
  }, [shape, height, unit, points === 0]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={ref} className="metric-chart time-chart" data-testid={testId} data-points={points} />;
}
