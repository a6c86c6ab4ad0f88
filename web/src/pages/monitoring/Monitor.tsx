import { useMemo } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { Monitor, MonitorRun } from '@forja/contracts';
import { useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Button, ErrorText, LoadFailed, Spinner, Time } from '../../components/ui';
import { SERIES_COLORS } from '../tracking/format';
import { AlertsPanel } from './Alerts';
import { DriftBadge, formatNumber, formatShare, MONITORING, monitorRunPath, Panel, QueryView, RunStatusBadge } from './format';
import { TargetCell } from './Monitors';
import { useMetricSeries, useMonitor, useRun, useRuns, useRules, useRunNow } from './queries';
import { TimeChart, type TimeSeries } from './TimeChart';
import './monitoring.css';
import { usePageTitle } from '../../usePageTitle';

const PERIOD_ADJECTIVE: Record<Monitor['period'], string> = { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' };

type Series = Record<string, { t: number; value: number; runId: string }[]>;

/** One monitor: what it watches, its metrics over its runs (drift, performance, SHAP), its runs, rules and alerts. */
export function MonitorPage() {
  const { id = '' } = useParams();
  const { group } = useSession();
  const can = useAbilities();
  const navigate = useNavigate();
  const monitor = useMonitor(id);
  const runNow = useRunNow(id);
  const mayEdit = group !== undefined && can.canEditGroup(group);

  usePageTitle(monitor.data?.name, 'Monitoring');
  if (monitor.isPending) return <Spinner />;
  if (monitor.isError) return <LoadFailed title="This monitor cannot be shown" query={monitor} back={MONITORING} />;
  const m = monitor.data;
  return (
    <div className="page page-wide" data-testid="monitor-page">
      <BackLink to={MONITORING.to}>{MONITORING.label}</BackLink>
      <header className="detail-header">
        <div>
          <h1 className="detail-title">{m.name}</h1>
          <div className="detail-meta muted">
            <TargetCell monitor={m} />
            <span>{PERIOD_ADJECTIVE[m.period]} windows</span>
            <span>{m.scheduled ? 'scheduled' : 'on demand only'}</span>
            <span>in {m.group}</span>
          </div>
          {m.description && <p className="detail-note">{m.description}</p>}
        </div>
        {mayEdit && (
          <div className="page-actions">
            <Button
              variant="primary"
              onClick={() => runNow.mutate({}, { onSuccess: (r) => navigate(monitorRunPath(id, r.id)) })}
              pending={runNow.isPending}
              data-testid="run-monitor"
            >
              Run now
            </Button>
          </div>
        )}
      </header>
      <ErrorText error={runNow.error} testId="run-monitor-error" />
      <MonitorConfig monitor={m} />
      <MonitorCharts monitor={m} />
      <RunsTable id={id} driftShare={m.checks.drift?.driftShare ?? 0.5} />
      <RulesCard id={id} />
      <AlertsPanel monitor={m.name} mayAct={mayEdit} initial="all" />
    </div>
  );
}

function referenceText(m: Monitor): string {
  const r = m.reference;
  if (!r) return 'not set: upload a reference file';
  switch (r.kind) {
    case 'table':
      return `table ${r.table}${r.version !== undefined ? ` VERSION ${r.version}` : ''}${r.filter ? ` where ${r.filter}` : ''}`;
    case 'run':
      return `tracking run ${r.runId}${r.dataset ? `, dataset ${r.dataset}` : ''}`;
    case 'training':
      return `training run ${r.trainingId}`;
    case 'file':
      return `uploaded ${r.name} (${formatNumber(r.rows)} rows)`;
  }
}

function MonitorConfig({ monitor: m }: { monitor: Monitor }) {
  const { drift, performance, explanations } = m.checks;
  return (
    <div className="card card-pad monitor-config">
      <dl className="kv kv-wide" data-testid="monitor-config">
        <dt>Reference</dt>
        <dd className="mono">{referenceText(m)}</dd>
        <dt>Columns</dt>
        <dd className="mono">{m.inputColumns?.join(', ') ?? <span className="muted">every column both sides share</span>}</dd>
        <dt>Drift</dt>
        <dd>
          {drift?.numericalMethod ?? 'automatic'} for numbers, {drift?.categoricalMethod ?? 'automatic'} for categories; the dataset drifts when{' '}
          {formatShare(drift?.driftShare ?? 0.5)} of columns do
        </dd>
        <dt>Performance</dt>
        <dd>{performance ? `${performance.task}, flagged ${formatShare(performance.tolerance ?? 0.1)} below baseline` : <span className="muted">off</span>}</dd>
        <dt>Explanations</dt>
        <dd>{explanations ? `SHAP on ${explanations.sampleRows ?? 200} rows a window` : <span className="muted">off</span>}</dd>
        <dt>Next run</dt>
        <dd>{m.scheduled ? <Time at={m.nextRunAt} /> : <span className="muted">on demand</span>}</dd>
      </dl>
    </div>
  );
}

/** `drift.<column>.<method>` names grouped by method (the p-values and the dataset figures apart). */
function columnScores(series: Series): Map<string, { column: string; points: Series[string] }[]> {
  const out = new Map<string, { column: string; points: Series[string] }[]>();
  for (const [name, points] of Object.entries(series)) {
    const parts = name.split('.');
    if (parts.length < 3 || parts[0] !== 'drift') continue;
    const method = parts[parts.length - 1]!;
    if (method === 'p_value') continue;
    const column = parts.slice(1, -1).join('.');
    out.set(method, [...(out.get(method) ?? []), { column, points }]);
  }
  return out;
}

const toSeries = (label: string, i: number, points: Series[string]): TimeSeries => ({
  label,
  color: SERIES_COLORS[i % SERIES_COLORS.length]!,
  points: points.map((p) => [p.t, p.value] as const),
});

/** Thresholds by method, read from the latest run's drift report (the one that decided each column). */
function thresholdsOf(run: MonitorRun | undefined): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const c of run?.drift?.columns ?? []) {
    const seen = out.get(c.result.method) ?? [];
    if (!seen.includes(c.result.threshold)) out.set(c.result.method, [...seen, c.result.threshold]);
  }
  return out;
}

function MonitorCharts({ monitor: m }: { monitor: Monitor }) {
  const names = useMemo(() => ['drift.*', 'performance.*', 'shap.*', 'rows'], []);
  const series = useMetricSeries(m.id, names);
  const latest = useRun(m.id, m.lastRun?.id ?? '');
  const latestRun = m.lastRun ? latest.data : undefined;
  return (
    <QueryView
      query={series}
      testId="monitor-series"
      isEmpty={(s) => Object.values(s.metrics).every((points) => points.length === 0)}
      empty="No finished runs yet: run the monitor now, or wait for its schedule, to chart drift, performance and importance over time."
    >
      {({ metrics: all }) => {
        const metrics = Object.fromEntries(Object.entries(all).filter(([, points]) => points.length > 0));
        const byMethod = columnScores(metrics);
        const thresholds = thresholdsOf(latestRun);
        const performance = Object.entries(metrics).filter(([n]) => n.startsWith('performance.'));
        const shap = Object.entries(metrics).filter(([n]) => n.startsWith('shap.'));
        const baseline = latestRun?.performance?.baseline ?? m.checks.performance?.baseline ?? {};
        return (
          <div className="chart-grid monitor-charts">
            {metrics['drift.share'] && (
              <Panel
                title="Share of drifted columns"
                note={`dashed: the dataset drifts at ${formatShare(m.checks.drift?.driftShare ?? 0.5)}`}
                testId="chart-drift-share"
              >
                <TimeChart
                  series={[toSeries('drift share', 0, metrics['drift.share'])]}
                  thresholds={[m.checks.drift?.driftShare ?? 0.5]}
                  format={(v) => formatShare(v)}
                  testId="drift-share-chart"
                />
              </Panel>
            )}
            {[...byMethod].map(([method, columns]) => (
              <Panel
                key={method}
                title={`Drift per column: ${method}`}
                note={thresholds.has(method) ? `dashed: threshold ${thresholds.get(method)!.map(formatNumber).join(', ')}` : undefined}
                testId={`chart-drift-${method}`}
              >
                <TimeChart
                  series={columns.map((c, i) => toSeries(c.column, i, c.points))}
                  thresholds={thresholds.get(method) ?? []}
                  testId={`drift-${method}-chart`}
                />
              </Panel>
            ))}
            {performance.length > 0 && (
              <Panel title="Performance" note="dashed: baseline" testId="chart-performance">
                <TimeChart
                  series={performance.map(([n, pts], i) => toSeries(n.slice('performance.'.length), i, pts))}
                  thresholds={performance.flatMap(([n]) => baseline[n.slice('performance.'.length)] ?? [])}
                  testId="performance-chart"
                />
              </Panel>
            )}
            {shap.length > 0 && (
              <Panel title="Feature importance" note="mean |SHAP| per run" testId="chart-shap">
                <TimeChart series={shap.map(([n, pts], i) => toSeries(n.slice('shap.'.length), i, pts))} testId="shap-chart" />
              </Panel>
            )}
          </div>
        );
      }}
    </QueryView>
  );
}

/** `driftShare`: the share of drifted columns at which the monitor calls the dataset drifted. */
function RunsTable({ id, driftShare }: { id: string; driftShare: number }) {
  const runs = useRuns(id);
  return (
    <div className="card table-card" data-testid="runs-card">
      <div className="card-head">
        <h3>Runs</h3>
      </div>
      <QueryView query={runs} testId="runs" isEmpty={(p) => p.items.length === 0} empty="No runs yet.">
        {(page) => (
          <table className="table" data-testid="runs-table">
            <thead>
              <tr>
                <th>Window</th>
                <th>Trigger</th>
                <th>Status</th>
                <th className="num">Rows</th>
                <th className="num">Drifted columns</th>
                <th>Dataset</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((r) => (
                <tr key={r.id} data-testid="run-row" data-run={r.id}>
                  <td>
                    <Link to={monitorRunPath(id, r.id)}>
                      <Time at={r.windowStart} /> – <Time at={r.windowEnd} />
                    </Link>
                  </td>
                  <td>{r.trigger}</td>
                  <td>
                    <RunStatusBadge status={r.status} />
                  </td>
                  <td className="num">{formatNumber(r.currentRows)}</td>
                  <td className="num">{formatNumber(r.metrics['drift.columns_drifted'])}</td>
                  <td>
                    <DriftBadge drifted={r.metrics['drift.share'] === undefined ? null : r.metrics['drift.share'] >= driftShare} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </div>
  );
}

function RulesCard({ id }: { id: string }) {
  const rules = useRules(id);
  return (
    <div className="card table-card" data-testid="rules-card">
      <div className="card-head">
        <h3>Alert rules</h3>
        <span className="muted small">checked after every run</span>
      </div>
      <QueryView query={rules} testId="rules" isEmpty={(r) => r.length === 0} empty="No alert rules: add one with the SDK, the CLI or the API.">
        {(r) => (
          <table className="table" data-testid="rules-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Condition</th>
                <th className="num">Runs in a row</th>
                <th>Severity</th>
                <th>Enabled</th>
              </tr>
            </thead>
            <tbody>
              {r.map((rule) => (
                <tr key={rule.id} data-testid="rule-row">
                  <td>{rule.name}</td>
                  <td className="mono">
                    {rule.metric} {rule.operator} {formatNumber(rule.threshold)}
                  </td>
                  <td className="num">{rule.consecutive}</td>
                  <td>{rule.severity}</td>
                  <td>{rule.enabled ? 'yes' : <span className="muted">no</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </div>
  );
}
