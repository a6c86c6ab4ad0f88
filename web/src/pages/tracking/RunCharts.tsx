import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useQueries, useQuery } from '@tanstack/react-query';
import type { Run } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { Button, EmptyState, ErrorText, Spinner, Time } from '../../components/ui';
import { CloseIcon } from '../../components/icons';
import { num, TableHead } from '../../components/TableHead';
import { formatMetric, Swatch } from './format';
import { MetricChart, XModeToggle, type ChartSeries, type XMode } from './MetricChart';
import { seriesColor, useColorScheme } from './chartColors';
import { defaultChartGroups, formatChartGroups, parseChartGroups } from './metricGroups';

/** Charts drawn before the user picks: enough to see the run's shape without fetching hundreds of histories. */
const DEFAULT_CHARTS = 12;
const LIVE_REFRESH_MS = 10_000;

/**
 * The run's metrics: those logged once as values in a table, those with a history as charts. A
 * chart holds several metrics (by default those measuring the same thing on different splits,
 * e.g. train_loss and val_loss); the user regroups them, and the grouping lives in the URL.
 */
export function RunCharts({ run }: { run: Run }) {
  const client = useClient();
  const runId = run.info.runId;
  const running = run.info.status === 'RUNNING';
  const points = useQuery({
    queryKey: [...keys.run(runId), 'metric-points'],
    queryFn: () => client.runs.metricPoints(runId),
    refetchInterval: running ? LIVE_REFRESH_MS : false,
  });
  if (points.isPending) return <Spinner label="Loading metrics…" />;
  if (points.isError) return <ErrorText error={points.error} />;
  const all = points.data.metrics;
  if (all.length === 0) {
    return (
      <div className="card">
        <EmptyState title="No metrics logged">Metrics logged once show here as values; metrics logged over steps or time as charts.</EmptyState>
      </div>
    );
  }
  const histories = all.filter((m) => m.points > 1).map((m) => m.key);
  const values = new Set(all.filter((m) => m.points === 1).map((m) => m.key));
  return (
    <div className="run-charts">
      {values.size > 0 && <MetricValues run={run} keys={values} />}
      {histories.length > 0 && <HistoryCharts run={run} historyKeys={histories} />}
    </div>
  );
}

/** Metrics logged once: a value and the step it was logged at, not a chart with one dot. */
function MetricValues({ run, keys: valueKeys }: { run: Run; keys: Set<string> }) {
  const rows = run.data.metrics.filter((m) => valueKeys.has(m.key)).sort((a, b) => a.key.localeCompare(b.key));
  return (
    <section className="card metric-values" aria-label="Metrics logged once" data-testid="metric-values">
      <div className="card-head">
        <h3>Values</h3>
        <span className="muted">{rows.length}</span>
        <span className="muted small">metrics logged once</span>
      </div>
      <div className="card-scroll">
        <table className="table kv-table">
          <TableHead columns={['Metric', num('Value'), num('Step'), 'Logged']} />
          <tbody>
            {rows.map((m) => (
              <tr key={m.key} data-testid="metric-value-row" data-key={m.key}>
                <th scope="row" className="mono">
                  {m.key}
                </th>
                <td className="num metric-value" title={String(m.value)}>
                  {formatMetric(m.value)}
                </td>
                <td className="num muted">{m.step}</td>
                <td className="muted">
                  <Time at={m.timestamp} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function HistoryCharts({ run, historyKeys }: { run: Run; historyKeys: string[] }) {
  const [params, setParams] = useSearchParams();
  const [mode, setMode] = useState<XMode>('step');
  const known = useMemo(() => new Set(historyKeys), [historyKeys]);
  const defaults = useMemo(() => defaultChartGroups(historyKeys), [historyKeys]);
  const fromUrl = params.get('charts');
  const groups = fromUrl !== null ? parseChartGroups(fromUrl, known) : defaults.slice(0, DEFAULT_CHARTS);
  const hidden = fromUrl === null ? defaults.length - groups.length : 0;

  const setGroups = (next: string[][] | null) => {
    const p = new URLSearchParams(params);
    if (next === null) p.delete('charts');
    else p.set('charts', formatChartGroups(next.filter((g) => g.length > 0)));
    setParams(p, { replace: true });
  };
  const onChart = new Set(groups.flat());
  const unplaced = historyKeys.filter((k) => !onChart.has(k));

  return (
    <section aria-label="Metric charts" data-testid="metric-charts">
      <div className="toolbar">
        <div className="toolbar-title">
          <select
            aria-label="Chart a metric on its own chart"
            className="select-sm"
            value=""
            onChange={(e) => e.target.value && setGroups([...groups, [e.target.value]])}
            data-testid="new-chart"
            disabled={unplaced.length === 0}
          >
            <option value="">{unplaced.length === 0 ? 'Every metric is charted' : 'New chart with…'}</option>
            {unplaced.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
          <span className="muted small">
            {groups.length} chart{groups.length === 1 ? '' : 's'} · {onChart.size} of {historyKeys.length} metrics with a history
          </span>
          {hidden > 0 && (
            <Button size="sm" variant="ghost" onClick={() => setGroups(defaults)} data-testid="show-all-charts">
              Show {hidden} more
            </Button>
          )}
          {fromUrl !== null && (
            <Button size="sm" variant="ghost" onClick={() => setGroups(null)} data-testid="reset-charts">
              Group by name again
            </Button>
          )}
        </div>
        <XModeToggle value={mode} onChange={setMode} />
      </div>
      {groups.length === 0 ? (
        <div className="card">
          <EmptyState title="No charts">Pick a metric above to chart it.</EmptyState>
        </div>
      ) : (
        <div className="chart-grid">
          {groups.map((group, i) => (
            <GroupChart
              key={group.join(',')}
              run={run}
              metrics={group}
              mode={mode}
              addable={historyKeys.filter((k) => !group.includes(k))}
              onChange={(next) => setGroups(groups.map((g, j) => (j === i ? next : g)))}
              onRemove={() => setGroups(groups.filter((_g, j) => j !== i))}
            />
          ))}
        </div>
      )}
    </section>
  );
}

function GroupChart({
  run,
  metrics,
  mode,
  addable,
  onChange,
  onRemove,
}: {
  run: Run;
  metrics: string[];
  mode: XMode;
  /** Metrics that could join this chart. */
  addable: string[];
  onChange: (next: string[]) => void;
  onRemove: () => void;
}) {
  const client = useClient();
  const runId = run.info.runId;
  const scheme = useColorScheme();
  const histories = useQueries({
    queries: metrics.map((key) => ({
      queryKey: keys.metricHistory(runId, key),
      queryFn: async () => (await client.runs.metricHistory(runId, key)).metrics,
      refetchInterval: run.info.status === 'RUNNING' ? LIVE_REFRESH_MS : (false as const),
    })),
    combine: (results) => ({ data: results.every((r) => r.data) ? results.map((r) => r.data!) : undefined, error: results.find((r) => r.isError)?.error }),
  });
  const series = useMemo<ChartSeries[]>(
    () => histories.data?.map((history, i) => ({ label: metrics[i]!, color: seriesColor(i), history, startTime: run.info.startTime })) ?? [],
    // scheme: the series colours come from the theme, which changes with it.
    [histories.data, metrics, run.info.startTime, scheme],
  );
  const title = metrics.join(', ');
  return (
    <div className="card chart-card" data-testid="chart-card" data-keys={metrics.join(',')}>
      <div className="card-head chart-card-head">
        <ul className="chart-metrics" aria-label="Metrics on this chart">
          {metrics.map((key, i) => (
            <li key={key} className="chart-metric" data-key={key}>
              <Swatch index={i} />
              <span className="mono">{key}</span>
              {metrics.length > 1 && (
                <button
                  type="button"
                  className="icon-button"
                  aria-label={`Take ${key} off this chart`}
                  onClick={() => onChange(metrics.filter((k) => k !== key))}
                >
                  <CloseIcon size={12} />
                </button>
              )}
            </li>
          ))}
        </ul>
        <div className="toolbar-spacer" />
        {addable.length > 0 && (
          <select
            className="select-sm chart-add"
            aria-label={`Add a metric to the chart of ${title}`}
            value=""
            onChange={(e) => e.target.value && onChange([...metrics, e.target.value])}
            data-testid="chart-add-metric"
          >
            <option value="">Add…</option>
            {addable.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        )}
        <button type="button" className="icon-button" aria-label={`Remove the chart of ${title}`} onClick={onRemove}>
          <CloseIcon size={14} />
        </button>
      </div>
      <div className="chart-body">
        {histories.error ? <ErrorText error={histories.error} /> : histories.data ? <MetricChart series={series} mode={mode} /> : <Spinner />}
      </div>
    </div>
  );
}
