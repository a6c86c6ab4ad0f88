import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQueries } from '@tanstack/react-query';
import type { Run } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { EmptyState, ErrorText, PageHeader, Spinner, relativeTime } from '../../components/ui';
import { ChevronLeftIcon } from '../../components/icons';
import { formatDuration, formatMetric, MAX_COMPARE, runDuration, SERIES_COLORS, StatusBadge } from './format';
import { MetricChart, XModeToggle, type ChartSeries, type XMode } from './MetricChart';

/** Two to ten runs side by side: one metric overlaid, and the params and latest metrics with differences marked. */
export function ComparePage() {
  const client = useClient();
  const [params] = useSearchParams();
  const requested = (params.get('runs') ?? '').split(',').filter(Boolean);
  const ids = [...new Set(requested)].slice(0, MAX_COMPARE);

  // combine's result is structurally shared, so `runs` keeps its identity until a run changes.
  const { runs, failed } = useQueries({
    queries: ids.map((id) => ({ queryKey: keys.run(id), queryFn: () => client.runs.get(id) })),
    combine: (results) => ({ runs: results.map((r) => r.data).filter((r): r is Run => r !== undefined), failed: results.find((r) => r.isError)?.error }),
  });
  const experimentIds = [...new Set(runs.map((r) => r.info.experimentId))];
  const experiments = useQueries({ queries: experimentIds.map((id) => ({ queryKey: keys.experiment(id), queryFn: () => client.experiments.get(id) })) });
  const experimentName = (id: string) => experiments.find((e) => e.data?.experimentId === id)?.data?.name ?? id;
  const back = experimentIds.length === 1 ? experimentIds[0] : undefined;

  const header = (
    <>
      {back !== undefined ? (
        <Link to={`/experiments/${encodeURIComponent(back)}`} className="back-link">
          <ChevronLeftIcon size={14} /> {experimentName(back)}
        </Link>
      ) : (
        <Link to="/experiments" className="back-link">
          <ChevronLeftIcon size={14} /> Experiments
        </Link>
      )}
      <PageHeader
        title={`Compare ${ids.length} runs`}
        description={
          requested.length > ids.length
            ? `Only the first ${MAX_COMPARE} of the ${requested.length} runs asked for are shown.`
            : experimentIds.length > 1
              ? `From ${experimentIds.length} experiments`
              : undefined
        }
      />
    </>
  );

  if (ids.length < 2) {
    return (
      <div className="page">
        {header}
        <div className="card">
          <EmptyState title="Choose runs to compare" action={<Link to="/experiments">Go to experiments</Link>}>
            Tick 2 to {MAX_COMPARE} runs in an experiment's runs table, then press Compare.
          </EmptyState>
        </div>
      </div>
    );
  }
  return (
    <div className="page page-wide" data-testid="compare-page">
      {header}
      <ErrorText error={failed} />
      {runs.length < ids.length && !failed ? (
        <Spinner label="Loading runs…" />
      ) : (
        <>
          <div className="card table-card">
            <table className="table" data-testid="compare-runs-table">
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Experiment</th>
                  <th>Status</th>
                  <th>Created</th>
                  <th>Duration</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r, i) => {
                  const d = runDuration(r.info);
                  return (
                    <tr key={r.info.runId}>
                      <td>
                        <span className="swatch" style={{ background: SERIES_COLORS[i] }} aria-hidden="true" />
                        <Link to={`/runs/${encodeURIComponent(r.info.runId)}`} className="cell-link">
                          {r.info.runName}
                        </Link>
                      </td>
                      <td>{experimentName(r.info.experimentId)}</td>
                      <td>
                        <StatusBadge status={r.info.status} />
                      </td>
                      <td>{r.info.startTime === null ? '—' : relativeTime(r.info.startTime)}</td>
                      <td>{d === null ? '—' : formatDuration(d)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <CompareChart runs={runs} />
          <DiffTable
            title="Parameters"
            testId="param-diff"
            runs={runs}
            valuesOf={paramValues}
            empty="None of these runs logged parameters."
            mono
          />
          <DiffTable
            title="Latest metrics"
            testId="metric-diff"
            runs={runs}
            valuesOf={metricValues}
            empty="None of these runs logged metrics."
            numeric
          />
        </>
      )}
    </div>
  );
}

function CompareChart({ runs }: { runs: Run[] }) {
  const client = useClient();
  const metricKeys = useMemo(() => [...new Set(runs.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort(), [runs]);
  // Start on a metric every run has, if there is one, so the first chart overlays them all.
  const shared = metricKeys.find((k) => runs.every((r) => r.data.metrics.some((m) => m.key === k)));
  const [picked, setPicked] = useState<string>();
  const metric = picked ?? shared ?? metricKeys[0];
  const [mode, setMode] = useState<XMode>('step');

  const withMetric = useMemo(
    () => runs.map((run, i) => ({ run, color: SERIES_COLORS[i]! })).filter(({ run }) => metric !== undefined && run.data.metrics.some((m) => m.key === metric)),
    [runs, metric],
  );
  const histories = useQueries({
    queries: withMetric.map(({ run }) => ({
      queryKey: keys.metricHistory(run.info.runId, metric ?? ''),
      queryFn: async () => (await client.runs.metricHistory(run.info.runId, metric!)).metrics,
    })),
    combine: (results) => ({ data: results.every((r) => r.data) ? results.map((r) => r.data!) : undefined, error: results.find((r) => r.isError)?.error }),
  });
  const series = useMemo<ChartSeries[] | undefined>(
    () => histories.data?.map((history, i) => ({ label: withMetric[i]!.run.info.runName, color: withMetric[i]!.color, history, startTime: withMetric[i]!.run.info.startTime })),
    [histories.data, withMetric],
  );

  if (metricKeys.length === 0) return null;
  return (
    <div className="card chart-card compare-chart" data-testid="compare-chart">
      <div className="card-head">
        <h3>Metric</h3>
        <select aria-label="Metric to compare" className="select-sm" value={metric} onChange={(e) => setPicked(e.target.value)} data-testid="compare-metric">
          {metricKeys.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <span className="muted small">
          logged by {withMetric.length} of {runs.length} runs
        </span>
        <div className="toolbar-spacer" />
        <XModeToggle value={mode} onChange={setMode} />
      </div>
      <div className="chart-body">{histories.error ? <ErrorText error={histories.error} /> : series ? <MetricChart series={series} mode={mode} height={300} /> : <Spinner />}</div>
    </div>
  );
}

const paramValues = (r: Run) => new Map(r.data.params.map((p) => [p.key, p.value]));
const metricValues = (r: Run) => new Map(r.data.metrics.map((m) => [m.key, formatMetric(m.value)]));

function DiffTable({
  title,
  testId,
  runs,
  valuesOf,
  empty,
  mono,
  numeric,
}: {
  title: string;
  testId: string;
  runs: Run[];
  valuesOf: (r: Run) => Map<string, string>;
  empty: string;
  mono?: boolean;
  numeric?: boolean;
}) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const table = useMemo(() => {
    const maps = runs.map(valuesOf);
    const allKeys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
    return allKeys.map((key) => {
      const values = maps.map((m) => m.get(key));
      return { key, values, differs: new Set(values).size > 1 };
    });
  }, [runs, valuesOf]);
  const differing = table.filter((r) => r.differs).length;
  const shown = onlyDiff ? table.filter((r) => r.differs) : table;

  return (
    <div className="card diff-card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        <span className="muted">
          {differing} of {table.length} differ
        </span>
        <div className="toolbar-spacer" />
        <label className="checkbox checkbox-inline small">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} />
          <span>Only differences</span>
        </label>
      </div>
      {table.length === 0 ? (
        <div className="card-pad muted">{empty}</div>
      ) : (
        <div className="table-scroll">
          <table className="table diff-table">
            <thead>
              <tr>
                <th>Key</th>
                {runs.map((r, i) => (
                  <th key={r.info.runId} className={numeric ? 'num' : undefined}>
                    <span className="swatch" style={{ background: SERIES_COLORS[i] }} aria-hidden="true" />
                    {r.info.runName}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((row) => (
                <tr key={row.key} className={row.differs ? 'row-diff' : undefined} data-testid={`${testId}-row`} data-key={row.key} data-differs={row.differs}>
                  <th scope="row" className="mono">
                    {row.key}
                  </th>
                  {row.values.map((v, i) => (
                    <td key={i} className={`${numeric ? 'num' : ''}${mono ? ' mono' : ''}`} title={v}>
                      {v ?? <span className="muted">—</span>}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
