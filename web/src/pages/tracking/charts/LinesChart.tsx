import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricHistories, Run } from '@forja/contracts';
import { formatMetric, numericValue } from '../format';
import { markDrawn, TipRows, useTheme } from './CanvasChart';
import { paletteColor } from './theme';

const HEIGHT = 420;

interface Model {
  data: uPlot.AlignedData;
  runs: Run[];
  prepMs: number;
}

/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the first points are not
 * pulled towards zero. Gaps stay gaps.
 */
function smoothed(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    n += 1;
    return last / (1 - weight ** n);
  });
}

/** One x array of every step any run logged, a y array per run (null where it has no point), smoothed and fit for a log axis. */
function modelOf(histories: MetricHistories, byId: Map<string, Run>, smooth: number, log: boolean): Model {
  const started = performance.now();
  const series = histories.histories.filter((h) => byId.has(h.runId));
  const steps = [...new Set(series.flatMap((h) => h.metrics.map((m) => m.step)))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const ys = series.map((h) => {
    const out = new Array<number | null>(steps.length).fill(null);
    for (const m of h.metrics) {
      const v = numericValue(m.value);
      out[index.get(m.step)!] = v === null || (log && v <= 0) ? null : v;
    }
    return smoothed(out, smooth);
  });
  return { data: [steps, ...ys], runs: series.map((h) => byId.get(h.runId)!), prepMs: performance.now() - started };
}

/** Many runs' histories of one metric overlaid on uPlot, with smoothing and a log scale. Hover a line for its run; click to open it. */
export function LinesChart({
  runs,
  histories,
  metric,
  smooth,
  log,
  onOpen,
}: {
  runs: Run[];
  histories: MetricHistories;
  metric: string;
  smooth: number;
  log: boolean;
  onOpen: (run: Run) => void;
}) {
  const byId = useMemo(() => new Map(runs.map((r) => [r.info.runId, r])), [runs]);
  const model = useMemo(() => modelOf(histories, byId, smooth, log), [histories, byId, smooth, log]);
  const box = useRef<HTMLDivElement>(null);
  const [tip, setTip] = useState<{ x: number; y: number; run: number; step: number; value: number | null }>();
  const theme = useTheme();
  const open = useRef(onOpen);
  open.current = onOpen;

  useEffect(() => {
    const el = box.current;
    if (!el || model.runs.length === 0) return;
    const axis = { stroke: theme.muted, grid: { stroke: theme.border, width: 1 }, ticks: { stroke: theme.border, width: 1 }, font: theme.font };
    let focused: number | null = null;
    const started = performance.now();
    let drawn = false;
    const chart = new uPlot(
      {
        width: el.clientWidth,
        height: HEIGHT,
        scales: {
          x: { time: false },
          // uPlot's log range snaps out to whole powers of ten, which can leave most of the height empty.
          y: log ? { distr: 3, range: (_u, min, max) => [min / 1.25, max * 1.25] } : { distr: 1 },
        },
        axes: [
          { ...axis, label: 'Step', labelFont: theme.font },
          {
            ...axis,
            size: 60,
            label: metric,
            labelFont: theme.font, // A log axis passes null for the minor ticks it leaves unlabelled.
            values: (_u, vals) => vals.map((v) => (v === null ? '' : formatMetric(v))),
          },
        ],
        series: [
          { label: 'Step' },
          ...model.runs.map((r, i) => ({ label: r.info.runName, stroke: paletteColor(theme, i), width: 1.25, spanGaps: true, points: { show: false } })),
        ],
        legend: { show: false },
        focus: { alpha: 0.25 },
        cursor: { focus: { prox: 16 }, drag: { x: true, y: false }, points: { show: false } },
        hooks: {
          draw: [
            () => {
              // The first draw after the data came: the figure the issue asks about.
              if (drawn) return;
              drawn = true;
              markDrawn(el, model.prepMs + performance.now() - started);
            },
          ],
          setSeries: [
            (_u, idx, opts) => {
              // uPlot passes the focus change in the options, which its types do not declare.
              const focus = (opts as { focus?: boolean }).focus;
              if (focus !== undefined) focused = focus && idx !== null ? idx : null;
            },
          ],
          setCursor: [
            (u) => {
              const { left, top, idx } = u.cursor;
              if (focused === null || idx === null || idx === undefined || left === undefined || left < 0) return setTip(undefined);
              setTip({ x: left, y: top ?? 0, run: focused - 1, step: u.data[0][idx]!, value: (u.data[focused]?.[idx] as number | null | undefined) ?? null });
            },
          ],
        },
      },
      model.data,
      el,
    );
    const click = () => {
      if (focused !== null) open.current(model.runs[focused - 1]!);
    };
    chart.over.addEventListener('click', click);
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      chart.setSize({ width, height: HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.over.removeEventListener('click', click);
      chart.destroy();
    };
  }, [model, metric, log, theme]);

  if (model.runs.length === 0)
    return (
      <div className="chart-empty" style={{ height: HEIGHT }} data-testid="chart-lines-empty">
        None of these runs logged a history of {metric}
      </div>
    );
  return (
    <div className="runs-chart-lines">
      <div ref={box} className="runs-chart" data-testid="chart-lines" role="img" aria-label={`${metric} over steps for ${model.runs.length} runs`} />
      {tip && (
        <div className="runs-chart-tip" style={{ left: tip.x + 90, top: tip.y + 14 }} data-testid="chart-lines-tip">
          <TipRows
            title={model.runs[tip.run]!.info.runName}
            rows={[
              ['step', String(tip.step)],
              [metric, formatMetric(tip.value)],
            ]}
          />
        </div>
      )}
    </div>
  );
}
