import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Run } from '@forja/contracts';
import { useClient, useFollowGroup } from '../../session';
import { keys } from '../../hooks';
import { BackLink, Badge, LoadFailed, SearchTabs, Spinner, Time, relativeTime, useSearchTab, type TabSpec } from '../../components/ui';
import { TableHead } from '../../components/TableHead';
import { EXPERIMENTS, formatDuration, isSystemTag, NOTE_TAG, runDuration, StatusBadge, tagValue } from './format';
import { KeyValueCard, MetricsCard } from './RunData';
import { ArtifactBrowser } from './Artifacts';
import { RunCharts } from './RunCharts';
import { LoggedModels, loggedModelsKey } from './LoggedModels';
import { usePageTitle } from '../../usePageTitle';

const tabs: TabSpec<'overview' | 'metrics' | 'models' | 'artifacts'>[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'models', label: 'Logged models' },
  { id: 'artifacts', label: 'Artifacts' },
];

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
  useFollowGroup(experiment.data?.group);

  const loggedModels = useQuery({ queryKey: loggedModelsKey(runId), queryFn: () => client.runs.loggedModels(runId) });

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
      <SearchTabs
        label="Run"
        tabs={tabs}
        current={tab}
        counts={{ metrics: r.data.metrics.length, models: loggedModels.data?.models.length }}
        testIdPrefix="run-tab"
      />
      {tab === 'overview' && <Overview run={r} experimentName={experiment.data?.name} />}
      {tab === 'metrics' && <RunCharts run={r} />}
      {tab === 'models' && <LoggedModels runId={info.runId} />}
      {tab === 'artifacts' && <ArtifactBrowser owner={{ kind: 'run', id: info.runId }} rootUri={info.artifactUri} />}
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
