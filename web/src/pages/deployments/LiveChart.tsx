import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric } from '../tracking/format';

/** Points as [time in ms since the epoch, value]. */
export type Points = readonly (readonly [number, number])[];

const axisStyle = { stroke: '#71717a', grid: { stroke: '#f0f0f2', width: 1 }, ticks: { stroke: '#e4e4e7', width: 1 }, font: '11px system-ui, sans-serif' };
const MIN_SPAN_S = 20;
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400];
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

function toData(points: Points): uPlot.AlignedData {
  // uPlot's time scale is in seconds.
  return [points.map((p) => p[0] / 1000), points.map((p) => p[1])];
}

/**
 * A small live line chart over time on uPlot: made once, then fed new points with setData, so a
 * poll every few seconds redraws the canvas and nothing else. The y axis starts at 0.
 */
export function LiveChart({
  points,
  color,
  unit,
  height = 140,
  testId,
  empty,
}: {
  points: Points;
  color: string;
  unit: string;
  height?: number;
  testId: string;
  empty: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const enough = points.length >= 2;

  useEffect(() => {
    const el = ref.current;
    if (!el || !enough) return;
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      // At least MIN_SPAN_S wide, newest on the right: two calls a second apart still make a readable chart.
      scales: {
        x: { time: true, range: (_u, min, max) => (max - min < MIN_SPAN_S ? [max - MIN_SPAN_S, max] : [min, max]) },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        // Whole seconds at least: the labels show no fractions, so finer ticks would repeat them.
        { ...axisStyle, size: 32, space: 70, incrs: TIME_INCRS, values: (_u, vals) => vals.map((v) => clock.format(new Date(v * 1000))) },
        { ...axisStyle, size: 48, values: (_u, vals) => vals.map((v) => formatMetric(v)) },
      ],
      series: [{}, { label: unit, stroke: color, width: 1.5, fill: `${color}14`, points: { size: 4, fill: color } }],
    };
    const plot = new uPlot(opts, [[], []], el);
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
  }, [enough, color, unit, height]);

  useEffect(() => {
    chart.current?.setData(toData(points));
  }, [points, enough]);

  if (!enough) {
    return (
      <div className="chart-empty" style={{ height }} data-testid={`${testId}-empty`}>
        {empty}
      </div>
    );
  }
  return <div ref={ref} className="metric-chart live-chart" data-testid={testId} data-points={points.length} />;
}
