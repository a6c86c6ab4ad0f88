import { useMemo, useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { KeyValue, Metric, Run } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { Badge, Button, EmptyState, ErrorText, Spinner, Time, relativeTime } from '../../components/ui';
import { ChevronLeftIcon, CloseIcon } from '../../components/icons';
import { formatDuration, formatMetric, isSystemTag, LoadFailed, NOTE_TAG, runDuration, SERIES_COLORS, StatusBadge, tagValue } from './format';
import { MetricChart, XModeToggle, type ChartSeries, type XMode } from './MetricChart';
import { ArtifactBrowser } from './Artifacts';

type Tab = 'overview' | 'metrics' | 'artifacts';
const tabs: { id: Tab; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'metrics', label: 'Charts' },
  { id: 'artifacts', label: 'Artifacts' },
];
/** Charts shown before the user picks: enough to see the run's shape without fetching hundreds of histories. */
const DEFAULT_CHARTS = 6;
/** Past this many rows a key/value table gets a filter box. */
const FILTER_FROM = 12;

export function RunPage() {
  const { runId = '' } = useParams();
  const client = useClient();
  const [params] = useSearchParams();
  const tab = (tabs.some((t) => t.id === params.get('tab')) ? params.get('tab') : 'overview') as Tab;

  const run = useQuery({
    queryKey: keys.run(runId),
    queryFn: () => client.runs.get(runId),
    // A run still being logged to keeps its page current.
    refetchInterval: (q) => (q.state.data?.info.status === 'RUNNING' ? 10_000 : false),
  });
  const experimentId = run.data?.info.experimentId;
  const experiment = useQuery({ queryKey: keys.experiment(experimentId ?? ''), queryFn: () => client.experiments.get(experimentId!), enabled: experimentId !== undefined });

  if (run.isPending) return <Spinner />;
  if (run.isError) return <LoadFailed title="This run cannot be shown" error={run.error} />;

  const r = run.data;
  const info = r.info;
  const tabLink = (t: Tab) => {
    const next = new URLSearchParams(params);
    next.set('tab', t);
    return `?${next.toString()}`;
  };
  return (
    <div className="page page-wide" data-testid="run-page">
      <Link to={`/experiments/${encodeURIComponent(info.experimentId)}`} className="back-link">
        <ChevronLeftIcon size={14} /> {experiment.data?.name ?? 'Experiment'}
      </Link>
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
      <nav className="tabs" aria-label="Run">
        {tabs.map((t) => (
          <Link key={t.id} to={tabLink(t.id)} replace className={`tab${tab === t.id ? ' active' : ''}`} aria-current={tab === t.id ? 'page' : undefined} data-testid={`run-tab-${t.id}`}>
            {t.label}
            {t.id === 'metrics' && <span className="tab-count">{r.data.metrics.length}</span>}
          </Link>
        ))}
      </nav>
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
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Digest</th>
                    <th>Source</th>
                  </tr>
                </thead>
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

function useKeyFilter<T extends { key: string }>(items: T[]) {
  const [q, setQ] = useState('');
  const needle = q.trim().toLowerCase();
  const shown = needle ? items.filter((i) => i.key.toLowerCase().includes(needle)) : items;
  const box =
    items.length > FILTER_FROM ? (
      <input type="search" className="card-filter" placeholder="Filter keys" aria-label="Filter keys" value={q} onChange={(e) => setQ(e.target.value)} />
    ) : null;
  return { shown, box };
}

function KeyValueCard({
  title,
  items,
  testId,
  empty,
  mono,
  extra = [],
  extraLabel,
}: {
  title: string;
  items: KeyValue[];
  testId: string;
  empty: string;
  mono?: boolean;
  /** Rows hidden behind a toggle, e.g. the tags the clients set themselves. */
  extra?: KeyValue[];
  extraLabel?: string;
}) {
  const [showExtra, setShowExtra] = useState(false);
  const all = showExtra ? [...items, ...extra] : items;
  const { shown, box } = useKeyFilter(all);
  return (
    <div className="card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        <span className="muted">{items.length}</span>
        <div className="toolbar-spacer" />
        {box}
        {extra.length > 0 && (
          <Button size="sm" variant="ghost" onClick={() => setShowExtra((s) => !s)}>
            {showExtra ? `Hide ${extraLabel}` : `Show ${extraLabel} (${extra.length})`}
          </Button>
        )}
      </div>
      {all.length === 0 ? (
        <div className="card-pad muted">{empty}</div>
      ) : (
        <div className="card-scroll">
          <table className="table kv-table">
            <tbody>
              {shown.map((p) => (
                <tr key={p.key} data-testid={`${testId}-row`} data-key={p.key}>
                  <th scope="row" className="mono">
                    {p.key}
                  </th>
                  <td className={`cell-wrap${mono ? ' mono' : ''}`}>{p.value === '' ? <span className="muted">(empty)</span> : p.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function MetricsCard({ runId, metrics }: { runId: string; metrics: Metric[] }) {
  const { shown, box } = useKeyFilter(metrics);
  return (
    <div className="card" data-testid="run-metrics">
      <div className="card-head">
        <h3>Metrics</h3>
        <span className="muted">{metrics.length}</span>
        <div className="toolbar-spacer" />
        {box}
      </div>
      {metrics.length === 0 ? (
        <div className="card-pad muted">No metrics logged.</div>
      ) : (
        <div className="card-scroll">
          <table className="table kv-table">
            <thead>
              <tr>
                <th>Key</th>
                <th className="num">Latest</th>
                <th className="num">Step</th>
                <th>Logged</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => (
                <tr key={m.key} data-testid="run-metrics-row" data-key={m.key}>
                  <td className="mono">
                    <Link to={`/runs/${encodeURIComponent(runId)}?tab=metrics&metrics=${encodeURIComponent(m.key)}`} title="Chart this metric">
                      {m.key}
                    </Link>
                  </td>
                  <td className="num" title={String(m.value)}>
                    {formatMetric(m.value)}
                  </td>
                  <td className="num muted">{m.step}</td>
                  <td className="muted" title={new Date(m.timestamp).toISOString()}>
                    {relativeTime(m.timestamp)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
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
          <input list="run-metric-keys" placeholder="Add a metric chart" aria-label="Add a metric chart" value={adding} onChange={(e) => setAdding(e.target.value)} data-testid="add-chart" />
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
          <ErrorText error={history.error} />
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
