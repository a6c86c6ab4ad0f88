import { lazy, Suspense } from 'react';
import { useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useClient, useFollowGroup } from '../../session';
import { keys } from '../../hooks';
import type { Experiment } from '@forja/contracts';
import { BackLink, Badge, LoadFailed, Spinner, TagList, Time } from '../../components/ui';
import { EXPERIMENTS, isSystemTag, NOTE_TAG, tagValue } from './format';
import { RunsSection } from './RunsTable';
import { RunsViewSwitch, useRunsView } from './charts/ViewSwitch';
import { usePageTitle } from '../../usePageTitle';

// Its own chunk: the table's first paint never waits for the charts (or uPlot).
const RunsCharts = lazy(() => import('./charts/RunsCharts'));

export function ExperimentPage() {
  const { id = '' } = useParams();
  const client = useClient();
  const experiment = useQuery({ queryKey: keys.experiment(id), queryFn: () => client.experiments.get(id) });
  const [view, setView] = useRunsView();
  useFollowGroup(experiment.data?.group);

  usePageTitle(experiment.data?.name, 'Experiments');
  // The runs start loading with the page, not after the experiment: the header fills in when it arrives.
  if (experiment.isError) return <LoadFailed title="This experiment cannot be shown" query={experiment} back={EXPERIMENTS} />;
  return (
    <div className="page page-wide" data-testid="experiment-page">
      <BackLink to={EXPERIMENTS.to}>{EXPERIMENTS.label}</BackLink>
      {experiment.data ? <ExperimentHeader experiment={experiment.data} /> : <div className="detail-header" aria-busy="true" style={{ minHeight: 64 }} />}
      <RunsViewSwitch view={view} onChange={setView} />
      {view === 'charts' ? (
        <Suspense fallback={<Spinner label="Loading charts…" />}>
          <RunsCharts key={id} experimentId={id} />
        </Suspense>
      ) : (
        /* Keyed so column choices, selection and scroll start fresh for each experiment. */
        <RunsSection key={id} experimentId={id} />
      )}
    </div>
  );
}

function ExperimentHeader({ experiment: e }: { experiment: Experiment }) {
  const note = tagValue(e.tags, NOTE_TAG);
  const tags = e.tags.filter((t) => !isSystemTag(t.key));
  return (
    <header className="detail-header">
      <div>
        <h1 className="detail-title">
          {e.name} {e.lifecycleStage === 'deleted' && <Badge tone="red">deleted</Badge>}
        </h1>
        <div className="detail-meta muted">
          <span>
            ID <span className="mono">{e.experimentId}</span>
          </span>
          <span>
            Created <Time at={e.creationTime} />
          </span>
          <span>Group {e.group}</span>
        </div>
        {note && <p className="detail-note">{note}</p>}
        {tags.length > 0 && <TagList tags={tags} className="detail-tags" />}
      </div>
    </header>
  );
}
