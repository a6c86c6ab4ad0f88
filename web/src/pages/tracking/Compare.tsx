import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQueries } from '@tanstack/react-query';
import type { Run } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { BackLink, EmptyState, PageHeader, QueryError, Spinner, relativeTime } from '../../components/ui';
import { TableHead } from '../../components/TableHead';
import { EXPERIMENTS, formatDuration, MAX_COMPARE, runDuration, StatusBadge, Swatch } from './format';
import { seriesColor, useColorScheme } from './chartColors';
import { RunDiffTables, type DiffColumn } from './DiffTable';
import { MetricChart, XModeToggle, type ChartSeries, type XMode } from './MetricChart';
import { usePageTitle } from '../../usePageTitle';

/** Two to ten runs side by side: one metric overlaid, and the params and latest metrics with differences marked. */
export function ComparePage() {
  const client = useClient();
  const [params] = useSearchParams();
  const requested = (params.get('runs') ?? '').split(',').filter(Boolean);
  const ids = [...new Set(requested)].slice(0, MAX_COMPARE);

  // combine's result is structurally shared, so `runs` keeps its identity until a run changes.
  const { runs, failed } = useQueries({
    queries: ids.map((id) => ({ queryKey: keys.run(id), queryFn: () => client.runs.get(id) })),
    combine: (results) => ({ runs: results.map((r) => r.data).filter((r): r is Run => r !== undefined), failed: results.find((r) => r.isError) }),
  });
  const experimentIds = [...new Set(runs.map((r) => r.info.experimentId))];
  const experiments = useQueries({ queries: experimentIds.map((id) => ({ queryKey: keys.experiment(id), queryFn: () => client.experiments.get(id) })) });
  const experimentName = (id: string) => experiments.find((e) => e.data?.experimentId === id)?.data?.name ?? id;
  const back = experimentIds.length === 1 ? experimentIds[0] : undefined;
  const columns = useMemo<DiffColumn[]>(
    () =>
      runs.map((run, i) => ({
        key: run.info.runId,
        run,
        label: (
          <>
            <Swatch index={i} />
            {run.info.runName}
          </>
        ),
      })),
    [runs],
  );

  const header = (
    <>
      {back !== undefined ? (
        <BackLink to={`/experiments/${encodeURIComponent(back)}`}>{experimentName(back)}</BackLink>
      ) : (
        <BackLink to={EXPERIMENTS.to}>{EXPERIMENTS.label}</BackLink>
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

  usePageTitle('Compare runs', 'Experiments');
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
      {failed && <QueryError query={failed} />}
      {runs.length < ids.length && !failed ? (
        <Spinner label="Loading runs…" />
      ) : (
        <>
          <div className="card table-card">
            <table className="table" data-testid="compare-runs-table">
              <TableHead columns={['Run', 'Experiment', 'Status', 'Created', 'Duration']} />
              <tbody>
                {runs.map((r, i) => {
                  const d = runDuration(r.info);
                  return (
                    <tr key={r.info.runId}>
                      <td>
                        <Swatch index={i} />
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
          <RunDiffTables columns={columns} />
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
  const scheme = useColorScheme();

  const withMetric = useMemo(
    () => runs.map((run, i) => ({ run, color: seriesColor(i) })).filter(({ run }) => metric !== undefined && run.data.metrics.some((m) => m.key === metric)),
    // scheme: the colours come from the theme, which changes with it.
    [runs, metric, scheme],
  );
  const histories = useQueries({
    queries: withMetric.map(({ run }) => ({
      queryKey: keys.metricHistory(run.info.runId, metric ?? ''),
      queryFn: async () => (await client.runs.metricHistory(run.info.runId, metric!)).metrics,
    })),
    combine: (results) => ({ data: results.every((r) => r.data) ? results.map((r) => r.data!) : undefined, failed: results.find((r) => r.isError) }),
  });
  const series = useMemo<ChartSeries[] | undefined>(
    () =>
      histories.data?.map((history, i) => ({
        label: withMetric[i]!.run.info.runName,
        color: withMetric[i]!.color,
        history,
        startTime: withMetric[i]!.run.info.startTime,
      })),
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
      <div className="chart-body">
        {histories.failed ? <QueryError query={histories.failed} /> : series ? <MetricChart series={series} mode={mode} height={300} /> : <Spinner />}
      </div>
    </div>
  );
}
