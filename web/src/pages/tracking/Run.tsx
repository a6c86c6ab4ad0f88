import { useMemo, useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Run } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import {
  BackLink,
  Badge,
  Button,
  EmptyState,
  LoadFailed,
  SearchTabs,
  Spinner,
  Time,
  relativeTime,
  useSearchTab,
  type TabSpec,
  QueryError,
} from '../../components/ui';
import { CloseIcon } from '../../components/icons';
import { TableHead } from '../../components/TableHead';
import { EXPERIMENTS, formatDuration, formatMetric, isSystemTag, NOTE_TAG, runDuration, SERIES_COLORS, StatusBadge, tagValue } from './format';
import { KeyValueCard, MetricsCard } from './RunData';
import { MetricChart, XModeToggle, type ChartSeries, type XMode } from './MetricChart';
import { ArtifactBrowser } from './Artifacts';
import { usePageTitle } from '../../usePageTitle';

const tabs: TabSpec<'overview' | 'metrics' | 'artifacts'>[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'metrics', label: 'Charts' },
  { id: 'artifacts', label: 'Artifacts' },
];
/** Charts shown before the user picks: enough to see the run's shape without fetching hundreds of histories. */
const DEFAULT_CHARTS = 6;

export function RunPage() {
  const { runId = '' } = useParams();
  const client = useClient();
  const tab = useSearchTab(tabs);

  const run = useQuery({
    queryKey: keys.run(runId),
    queryFn: () => client.runs.get(runId),
    // A run still being logged to keeps its page current.
    refetchInterval: (q) => (q.state.data?.info.status === 'RUNNING' ? 10_000 : false),
  });
  const experimentId = run.data?.info.experimentId;
  const experiment = useQuery({
    queryKey: keys.experiment(experimentId ?? ''),
    queryFn: () => client.experiments.get(experimentId!),
    enabled: experimentId !== undefined,
  });

  usePageTitle(run.data?.info.runName, 'Runs');
  if (run.isPending) return <Spinner />;
  if (run.isError) return <LoadFailed title="This run cannot be shown" query={run} back={EXPERIMENTS} />;

  const r = run.data;
  const info = r.info;
  return (
    <div className="page page-wide" data-testid="run-page">
      <BackLink to={`/experiments/${encodeURIComponent(info.experimentId)}`}>{experiment.data?.name ?? 'Experiment'}</BackLink>
      <header className="detail-header">
        <div>
          <h1 className="detail-title">
            {info.runName} <StatusBadge status={info.status} /> {info.lifecycleStage === 'deleted' && <Badge tone="red">deleted</Badge>}
          </h1>
          <div className="detail-meta muted">
            <span className="mono">{info.runId}</span>
            {info.startTime !== null && <span title={new Date(info.startTime).toISOString()}>started {relativeTime(info.startTime)}</span>}
            {info.userId && <span>by {info.userId}</span>}
          </div>
        </div>
      </header>
      <SearchTabs label="Run" tabs={tabs} current={tab} counts={{ metrics: r.data.metrics.length }} testIdPrefix="run-tab" />
      {tab === 'overview' && <Overview run={r} experimentName={experiment.data?.name} />}
      {tab === 'metrics' && <Charts run={r} />}
      {tab === 'artifacts' && <ArtifactBrowser runId={info.runId} rootUri={info.artifactUri} />}
    </div>
  );
}

function Overview({ run, experimentName }: { run: Run; experimentName: string | undefined }) {
  const { info, data, inputs } = run;
  const duration = runDuration(info);
  const note = tagValue(data.tags, NOTE_TAG);
  const userTags = data.tags.filter((t) => !isSystemTag(t.key));
  const systemTags = data.tags.filter((t) => isSystemTag(t.key));
  return (
    <div className="run-overview">
      <div className="card card-pad">
        <dl className="kv kv-wide" data-testid="run-info">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={info.status} />
          </dd>
          <dt>Experiment</dt>
          <dd>
            <Link to={`/experiments/${encodeURIComponent(info.experimentId)}`}>{experimentName ?? info.experimentId}</Link>
          </dd>
          <dt>Started</dt>
          <dd>
            <Time at={info.startTime} />
          </dd>
          <dt>Ended</dt>
          <dd>{info.endTime === null ? <span className="muted">{info.status === 'RUNNING' ? 'still running' : '—'}</span> : <Time at={info.endTime} />}</dd>
          <dt>Duration</dt>
          <dd>{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</dd>
          <dt>User</dt>
          <dd>{info.userId || <span className="muted">—</span>}</dd>
          <dt>Run ID</dt>
          <dd className="mono">{info.runId}</dd>
          <dt>Artifact URI</dt>
          <dd className="mono break">{info.artifactUri}</dd>
        </dl>
        {note && <p className="detail-note">{note}</p>}
      </div>
      <div className="detail-grid">
        <div className="detail-col">
          <KeyValueCard title="Parameters" items={data.params} testId="run-params" empty="No parameters logged." mono />
          <KeyValueCard title="Tags" items={userTags} testId="run-tags" empty="No tags of your own." extra={systemTags} extraLabel="system tags" />
          {inputs.datasetInputs.length > 0 && (
            <div className="card">
              <div className="card-head">
                <h3>Datasets</h3>
                <span className="muted">{inputs.datasetInputs.length}</span>
              </div>
              <table className="table">
                <TableHead columns={['Name', 'Digest', 'Source']} />
                <tbody>
                  {inputs.datasetInputs.map((d) => (
                    <tr key={`${d.dataset.name}@${d.dataset.digest}`}>
                      <td>{d.dataset.name}</td>
                      <td className="mono">{d.dataset.digest}</td>
                      <td className="cell-wrap mono small">{d.dataset.source}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        <div className="detail-col">
          <MetricsCard runId={info.runId} metrics={data.metrics} />
        </div>
      </div>
    </div>
  );
}

function Charts({ run }: { run: Run }) {
  const [params, setParams] = useSearchParams();
  const [mode, setMode] = useState<XMode>('step');
  const [adding, setAdding] = useState('');
  const all = useMemo(() => run.data.metrics.map((m) => m.key).sort(), [run.data.metrics]);
  const fromUrl = params.get('metrics');
  const chosen = fromUrl !== null ? fromUrl.split(',').filter(Boolean) : all.slice(0, DEFAULT_CHARTS);

  const setChosen = (next: string[]) => {
    const p = new URLSearchParams(params);
    p.set('metrics', next.join(','));
    setParams(p, { replace: true });
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    const key = adding.trim();
    if (key && all.includes(key) && !chosen.includes(key)) setChosen([...chosen, key]);
    setAdding('');
  };

  if (all.length === 0) {
    return (
      <div className="card">
        <EmptyState title="No metrics logged">Metrics logged with steps or over time are charted here.</EmptyState>
      </div>
    );
  }
  return (
    <section aria-label="Metric charts">
      <div className="toolbar">
        <form className="toolbar-title" onSubmit={add}>
          <input
            list="run-metric-keys"
            placeholder="Add a metric chart"
            aria-label="Add a metric chart"
            value={adding}
            onChange={(e) => setAdding(e.target.value)}
            data-testid="add-chart"
          />
          <datalist id="run-metric-keys">
            {all
              .filter((k) => !chosen.includes(k))
              .map((k) => (
                <option key={k} value={k} />
              ))}
          </datalist>
          <Button type="submit">Add</Button>
          <span className="muted small">
            {chosen.length} of {all.length} metrics
          </span>
        </form>
        <XModeToggle value={mode} onChange={setMode} />
      </div>
      <div className="chart-grid">
        {chosen.map((key) => (
          <ChartCard key={key} run={run} metricKey={key} mode={mode} onRemove={() => setChosen(chosen.filter((k) => k !== key))} />
        ))}
      </div>
    </section>
  );
}

function ChartCard({ run, metricKey, mode, onRemove }: { run: Run; metricKey: string; mode: XMode; onRemove: () => void }) {
  const client = useClient();
  const runId = run.info.runId;
  const history = useQuery({
    queryKey: keys.metricHistory(runId, metricKey),
    queryFn: async () => (await client.runs.metricHistory(runId, metricKey)).metrics,
    refetchInterval: run.info.status === 'RUNNING' ? 10_000 : false,
  });
  const series = useMemo<ChartSeries[]>(
    () => (history.data ? [{ label: metricKey, color: SERIES_COLORS[0]!, history: history.data, startTime: run.info.startTime }] : []),
    [history.data, metricKey, run.info.startTime],
  );
  const latest = run.data.metrics.find((m) => m.key === metricKey);
  return (
    <div className="card chart-card" data-testid="chart-card" data-key={metricKey}>
      <div className="card-head">
        <h3 className="mono">{metricKey}</h3>
        {latest && <span className="muted">latest {formatMetric(latest.value)}</span>}
        {history.data && (
          <span className="muted small">
            · {history.data.length} point{history.data.length === 1 ? '' : 's'}
          </span>
        )}
        <div className="toolbar-spacer" />
        <button type="button" className="icon-button" aria-label={`Remove the ${metricKey} chart`} onClick={onRemove}>
          <CloseIcon size={14} />
        </button>
      </div>
      <div className="chart-body">
        {history.isPending ? (
          <Spinner />
        ) : history.isError ? (
          <QueryError query={history} />
        ) : history.data.length === 1 ? (
          // One value makes a dot, not a chart: say it plainly.
          <div className="single-value" data-testid="single-value">
            <div className="single-value-number">{formatMetric(history.data[0]!.value)}</div>
            <div className="muted small">
              logged once, at step {history.data[0]!.step}, <Time at={history.data[0]!.timestamp} />
            </div>
          </div>
        ) : (
          <MetricChart series={series} mode={mode} />
        )}
      </div>
    </div>
  );
}
