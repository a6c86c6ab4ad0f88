// The charts view of an experiment's runs (loaded on demand: the table never waits for it).
import { useMemo, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Run } from '@forja/contracts';
import { useClient } from '../../../session';
import { EmptyState, ErrorText, Spinner } from '../../../components/ui';
import { FilterBar, filterErrorOf } from '../../../components/FilterBar';
import { BarChart } from './BarChart';
import { CHART_MAX_RUNS, useChartRuns, useExperimentColumns } from './data';
import { fieldLabel, fieldOptions, lowerIsBetter, varyingKeys, type FieldOption } from './fields';
import { LinesChart } from './LinesChart';
import { brushFromText, brushToText, ParallelChart } from './ParallelChart';
import { FieldListPicker, FieldPicker, ValuePicker } from './Pickers';
import { ScatterChart } from './ScatterChart';
import { CHART_KINDS, decodeList, encodeList, useChartState, type ChartChoices } from './state';

const DEFAULT_AXES = 4;
const BAR_TOPS = ['25', '100', '500', 'all'] as const;
const LINE_RUNS = ['10', '25', '50', '100'] as const;
/** Points per run the line chart asks for: enough for a smooth curve, few enough for 100 runs. */
const LINE_POINTS = 500;

interface ChartProps {
  experimentId: string;
  options: FieldOption[];
  metrics: string[];
  params: string[];
  choices: ChartChoices;
  choose: (c: ChartChoices) => void;
  onOpen: (run: Run) => void;
}

export default function RunsCharts({ experimentId }: { experimentId: string }) {
  const navigate = useNavigate();
  const state = useChartState();
  const columns = useExperimentColumns(experimentId);
  const options = useMemo(() => fieldOptions(columns.data), [columns.data]);
  const metrics = useMemo(() => varyingKeys(columns.data, 'metrics'), [columns.data]);
  const params = useMemo(() => varyingKeys(columns.data, 'params'), [columns.data]);
  const props: ChartProps = {
    experimentId,
    options,
    metrics,
    params,
    choices: state.choices,
    choose: state.choose,
    onOpen: (run) => navigate(`/runs/${encodeURIComponent(run.info.runId)}`),
  };
  const applyFilter = (filter: string) => {
    const p = new URLSearchParams(state.params);
    if (filter) p.set('filter', filter);
    else p.delete('filter');
    state.setParams(p, { replace: true });
  };
  const Chart = { parallel: ParallelView, scatter: ScatterView, bar: BarView, lines: LinesView }[state.kind];

  return (
    <section aria-label="Run charts" data-testid="runs-charts">
      <FilterBar
        key={state.filter}
        filter={state.filter}
        onApply={applyFilter}
        label="Filter runs"
        placeholder="metrics.acc > 0.9 AND params.model = 'xgb'"
        testId="runs-filter"
        error={undefined}
        hint={<>The charts draw the runs of this filter (the table's), up to {CHART_MAX_RUNS.toLocaleString()}.</>}
      />
      <div className="segmented chart-kinds" role="radiogroup" aria-label="Chart">
        {CHART_KINDS.map((k) => (
          <button
            key={k.value}
            type="button"
            role="radio"
            aria-checked={state.kind === k.value}
            className={state.kind === k.value ? 'active' : ''}
            onClick={() => state.setKind(k.value)}
            data-testid={`chart-kind-${k.value}`}
          >
            {k.label}
          </button>
        ))}
      </div>
      <div className="card runs-chart-card">
        {columns.isPending ? (
          <Spinner label="Loading keys…" />
        ) : columns.isError ? (
          <div className="card-pad">
            <ErrorText error={columns.error} />
          </div>
        ) : (
          <Chart {...props} />
        )}
      </div>
    </section>
  );
}

/** The controls row, then the chart or what stands in for it while its runs load. */
function ChartBody({
  controls,
  query,
  count,
  children,
}: {
  controls: ReactNode;
  query: { isPending: boolean; isError: boolean; error: unknown; data?: { runs: Run[]; more: boolean } };
  count?: ReactNode;
  children: (runs: Run[]) => ReactNode;
}) {
  const filterError = filterErrorOf(query.error);
  let body: ReactNode;
  if (query.isError) body = filterError ? <EmptyState title="The filter has a mistake">{filterError.message}</EmptyState> : <ErrorText error={query.error} />;
  else if (query.isPending || !query.data) body = <Spinner label="Loading runs…" />;
  else if (query.data.runs.length === 0) body = <EmptyState title="No runs to draw">Loosen the filter or clear it.</EmptyState>;
  else body = children(query.data.runs);
  return (
    <>
      <div className="chart-controls">{controls}</div>
      {query.data && (
        <p className="chart-count muted" data-testid="chart-count" data-runs={query.data.runs.length}>
          {count ??
            (query.data.more
              ? `The first ${query.data.runs.length.toLocaleString()} runs of this filter (charts draw at most ${CHART_MAX_RUNS.toLocaleString()}).`
              : `${query.data.runs.length.toLocaleString()} runs.`)}
        </p>
      )}
      <div className="chart-area">{body}</div>
    </>
  );
}

function ParallelView({ experimentId, options, metrics, params, choices, choose, onOpen }: ChartProps) {
  // Stable identities: the chart redraws only when what it draws changes.
  const stableAxes = useMemo(() => (choices.axes !== undefined ? decodeList(choices.axes) : params.slice(0, DEFAULT_AXES)), [choices.axes, params]);
  const stableBrushes = useMemo(() => decodeList(choices.brush).flatMap((t) => brushFromText(t) ?? []), [choices.brush]);
  const metric = choices.metric ?? metrics[0];
  const query = useChartRuns(experimentId, [...stableAxes, metric ?? ''], undefined, metric !== undefined && stableAxes.length > 0);
  return (
    <ChartBody
      query={query}
      controls={
        <>
          <FieldListPicker
            label="Axes"
            value={stableAxes}
            options={options.filter((o) => o.group !== 'Metrics')}
            onChange={(ids) => choose({ axes: encodeList(ids), brush: undefined })}
            testId="parallel-axes"
          />
          <FieldPicker
            label="Metric (last axis, colour)"
            value={metric}
            options={options.filter((o) => o.group === 'Metrics')}
            onChange={(m) => choose({ metric: m, brush: undefined })}
            testId="parallel-metric"
          />
        </>
      }
    >
      {(runs) =>
        stableAxes.length === 0 || !metric ? (
          <EmptyState title="Choose axes and a metric" />
        ) : (
          <ParallelChart
            runs={runs}
            axes={stableAxes}
            metric={metric}
            brushes={stableBrushes}
            onBrushes={(b) => choose({ brush: b.length ? encodeList(b.map(brushToText)) : undefined })}
            onOpen={onOpen}
          />
        )
      }
    </ChartBody>
  );
}

function ScatterView({ experimentId, options, metrics, params, choices, choose, onOpen }: ChartProps) {
  const x = choices.x ?? params[0] ?? 'attributes.start_time';
  const y = choices.y ?? metrics[0];
  const color = choices.color === 'none' ? undefined : (choices.color ?? params[1]);
  const query = useChartRuns(experimentId, [x, y ?? '', ...(color ? [color] : [])], undefined, y !== undefined);
  return (
    <ChartBody
      query={query}
      controls={
        <>
          <FieldPicker label="X" value={x} options={options} onChange={(v) => choose({ x: v })} testId="scatter-x" />
          <FieldPicker label="Y" value={y} options={options} onChange={(v) => choose({ y: v })} testId="scatter-y" />
          <FieldPicker label="Colour" value={color} options={options} none="None" onChange={(v) => choose({ color: v ?? 'none' })} testId="scatter-color" />
        </>
      }
    >
      {(runs) => (y ? <ScatterChart runs={runs} x={x} y={y} color={color} onOpen={onOpen} /> : <EmptyState title="Choose what to draw on Y" />)}
    </ChartBody>
  );
}

function BarView({ experimentId, options, metrics, choices, choose, onOpen }: ChartProps) {
  const metric = choices.metric ?? metrics[0];
  const order = choices.order === 'asc' || choices.order === 'desc' ? choices.order : metric && lowerIsBetter(metric) ? 'asc' : 'desc';
  const top = (BAR_TOPS as readonly string[]).includes(choices.top ?? '') ? (choices.top as (typeof BAR_TOPS)[number]) : '100';
  const query = useChartRuns(experimentId, [metric ?? ''], undefined, metric !== undefined);
  return (
    <ChartBody
      query={query}
      controls={
        <>
          <FieldPicker
            label="Metric"
            value={metric}
            options={options.filter((o) => o.group === 'Metrics')}
            onChange={(m) => choose({ metric: m, order: undefined })}
            testId="bar-metric"
          />
          <ValuePicker
            label="Best is"
            value={order}
            choices={[
              { value: 'asc', label: 'Lowest' },
              { value: 'desc', label: 'Highest' },
            ]}
            onChange={(o) => choose({ order: o })}
            testId="bar-order"
          />
          <ValuePicker
            label="Show"
            value={top}
            choices={BAR_TOPS.map((t) => ({ value: t, label: t === 'all' ? 'All' : `Best ${t}` }))}
            onChange={(t) => choose({ top: t })}
            testId="bar-top"
          />
        </>
      }
    >
      {(runs) =>
        metric && (
          <BarChart runs={runs} metric={metric} ascending={order === 'asc'} top={top === 'all' ? Number.POSITIVE_INFINITY : Number(top)} onOpen={onOpen} />
        )
      }
    </ChartBody>
  );
}

function LinesView({ experimentId, options, metrics, choices, choose, onOpen }: ChartProps) {
  const client = useClient();
  const metric = choices.metric ?? metrics[0];
  const n = (LINE_RUNS as readonly string[]).includes(choices.n ?? '') ? Number(choices.n) : 50;
  const smooth = Math.max(0, Math.min(0.99, Number(choices.smooth) || 0));
  const log = choices.log === '1';
  const query = useChartRuns(experimentId, [metric ?? ''], n, metric !== undefined);
  const runIds = query.data?.runs.map((r) => r.info.runId) ?? [];
  const key = metric ? fieldLabel(metric) : '';
  const histories = useQuery({
    queryKey: ['runs', experimentId, 'histories', key, runIds],
    queryFn: () => client.runs.metricHistories({ runIds, key, maxResults: LINE_POINTS }),
    enabled: runIds.length > 0,
    staleTime: 30_000,
  });
  const drawn = histories.data?.histories.length;
  return (
    <ChartBody
      query={query}
      count={
        query.data && `The first ${query.data.runs.length} runs of this filter and sort${drawn === undefined ? '' : `, ${drawn} with a history of ${key}`}.`
      }
      controls={
        <>
          <FieldPicker
            label="Metric"
            value={metric}
            options={options.filter((o) => o.group === 'Metrics')}
            onChange={(m) => choose({ metric: m })}
            testId="lines-metric"
          />
          <ValuePicker
            label="Runs"
            value={String(n)}
            choices={LINE_RUNS.map((v) => ({ value: v, label: `First ${v}` }))}
            onChange={(v) => choose({ n: v })}
            testId="lines-runs"
          />
          <div className="chart-control">
            <label htmlFor="lines-smooth">Smoothing {smooth.toFixed(2)}</label>
            <input
              id="lines-smooth"
              type="range"
              min={0}
              max={0.99}
              step={0.01}
              value={smooth}
              onChange={(e) => choose({ smooth: Number(e.target.value) ? e.target.value : undefined })}
              data-testid="lines-smooth"
            />
          </div>
          <label className="checkbox chart-control-check">
            <input type="checkbox" checked={log} onChange={(e) => choose({ log: e.target.checked ? '1' : undefined })} data-testid="lines-log" /> Log scale
          </label>
        </>
      }
    >
      {(runs) =>
        histories.isError ? (
          <ErrorText error={histories.error} />
        ) : !histories.data || !metric ? (
          <Spinner label="Loading histories…" />
        ) : (
          <LinesChart runs={runs} histories={histories.data} metric={key} smooth={smooth} log={log} onOpen={onOpen} />
        )
      }
    </ChartBody>
  );
}
