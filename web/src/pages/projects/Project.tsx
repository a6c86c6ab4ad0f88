import { useRef, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BatchProject, BatchRun } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Badge, Button, ConfirmDialog, ErrorText, LoadFailed, SearchTabs, Spinner, relativeTime, type TabSpec } from '../../components/ui';
import { EditableDescription } from '../../components/EditableDescription';
import { useConfirmedMutation } from '../../components/useConfirmedMutation';
import { isRunActive, LIVE_REFRESH_MS, profileText, PROJECTS, projectKeys } from './format';
import { useClusters } from './Projects';
import { DeployDialog, DeploysTab } from './Deploys';
import { RunDialog, RunsTab } from './Runs';
import { SchedulesTab } from './Schedules';
import './projects.css';
import { usePageTitle } from '../../usePageTitle';

type TabId = 'deploys' | 'runs' | 'schedules';
const tabs: TabSpec<TabId>[] = [
  { id: 'deploys', label: 'Deploys' },
  { id: 'runs', label: 'Runs' },
  { id: 'schedules', label: 'Schedules' },
];

/** One batch project: its cluster size and current version, its deploys with their builds, its runs with their logs, its schedules. */
export function ProjectPage() {
  const { name = '' } = useParams();
  usePageTitle(name, 'Projects');
  return <ProjectView key={name} name={name} />;
}

function ProjectView({ name }: { name: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [params, setParams] = useSearchParams();
  const [dialog, setDialog] = useState<'deploy' | 'run' | null>(null);

  const deploys = useQuery({
    queryKey: projectKeys.deploys(group, name),
    queryFn: () => client.batch.deploys(name),
    refetchInterval: (q) => (q.state.data?.some((d) => d.status === 'Building') ? LIVE_REFRESH_MS : false),
  });
  const building = deploys.data?.some((d) => d.status === 'Building') ?? false;
  // The current version moves when a build ends, so the project follows the deploys while one builds.
  const project = useQuery({
    queryKey: projectKeys.one(group, name),
    queryFn: () => client.batch.get(name),
    refetchInterval: building ? LIVE_REFRESH_MS : false,
  });
  const runs = useQuery({
    queryKey: projectKeys.runs(group, name),
    queryFn: () => client.batch.runs(name),
    refetchInterval: (q) => (q.state.data?.some(isRunActive) ? LIVE_REFRESH_MS : false),
  });
  const schedules = useQuery({ queryKey: projectKeys.schedules(group, name), queryFn: () => client.batch.schedules(name), refetchInterval: 60_000 });

  // Without ?tab=, a project with a Ready deploy opens on its runs, any other on its deploys; chosen once, so a build that ends does not move the page.
  const firstTab = useRef<TabId | null>(null);
  if (firstTab.current === null && project.data) firstTab.current = project.data.currentVersion === null ? 'deploys' : 'runs';
  const tab = tabs.find((t) => t.id === params.get('tab'))?.id ?? firstTab.current ?? 'deploys';

  const goTo = (t: TabId, extra: Record<string, string | null> = {}) => {
    const next = new URLSearchParams(params);
    next.set('tab', t);
    for (const [k, v] of Object.entries(extra)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  const remove = useConfirmedMutation(
    (project: string) => client.batch.delete(project),
    async () => {
      queryClient.removeQueries({ queryKey: projectKeys.one(group, name) });
      await queryClient.invalidateQueries({ queryKey: ['batch', group ?? ''] });
      navigate(PROJECTS.to);
    },
  );

  if (project.isPending) return <Spinner />;
  if (project.isError) return <LoadFailed title="This project cannot be shown" query={project} back={PROJECTS} />;

  const p = project.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  const activeRuns = (runs.data ?? []).filter(isRunActive).length;
  const started = async (run: BatchRun) => {
    queryClient.setQueryData<BatchRun[]>(projectKeys.runs(group, name), (old) => [run, ...(old ?? []).filter((r) => r.id !== run.id)]);
    await queryClient.invalidateQueries({ queryKey: projectKeys.runs(group, name) });
    goTo('runs', { run: run.id });
  };

  return (
    <div className="page page-wide" data-testid="project-page">
      <BackLink to={PROJECTS.to}>{PROJECTS.label}</BackLink>
      <header className="detail-header">
        <div className="grow">
          <h1 className="detail-title">
            {p.name}{' '}
            <span data-testid="project-current-version">
              {p.currentVersion === null ? <Badge tone="muted">not deployed</Badge> : <Badge tone="accent">v{p.currentVersion}</Badge>}
            </span>
          </h1>
          <div className="detail-meta muted">
            <span title={new Date(p.createdAt).toISOString()}>created {relativeTime(p.createdAt)}</span>
            {p.createdBy && <span>by {p.createdBy}</span>}
            <span>in {p.group}</span>
          </div>
          <Description project={p} canEdit={canEdit} />
        </div>
        {canEdit && (
          <div className="page-actions">
            <Button onClick={() => setDialog('deploy')} data-testid="open-deploy">
              Deploy
            </Button>
            <Button
              variant="primary"
              onClick={() => setDialog('run')}
              disabled={p.currentVersion === null}
              title={p.currentVersion === null ? 'Deploy a script first: runs use the newest Ready deploy.' : undefined}
              data-testid="open-run"
            >
              Run now
            </Button>
            <Button variant="danger" onClick={() => remove.ask(name)} data-testid="delete-project">
              Delete
            </Button>
          </div>
        )}
      </header>
      <Overview project={p} canEdit={canEdit} deploysBuilding={building} activeRuns={activeRuns} />
      <SearchTabs
        label="Project"
        tabs={tabs}
        current={tab}
        counts={{ deploys: deploys.data?.length, runs: runs.data?.length, schedules: schedules.data?.length }}
        testIdPrefix="project-tab"
      />
      <div className="project-tab">
        {tab === 'deploys' && <DeploysTab project={p} deploys={deploys} canEdit={canEdit} onDeploy={() => setDialog('deploy')} />}
        {tab === 'runs' && (
          <RunsTab
            project={p}
            runs={runs}
            canEdit={canEdit}
            open={params.get('run')}
            onOpen={(id) => goTo('runs', { run: id })}
            onRun={() => setDialog('run')}
          />
        )}
        {tab === 'schedules' && <SchedulesTab project={p} schedules={schedules} canEdit={canEdit} />}
      </div>
      <DeployDialog project={p} open={dialog === 'deploy'} onClose={() => setDialog(null)} onShowDeploys={() => goTo('deploys')} />
      <RunDialog project={p} open={dialog === 'run'} onClose={() => setDialog(null)} onStarted={started} />
      <ConfirmDialog {...remove.dialog} title="Delete project" confirmLabel="Delete">
        Delete <strong>{p.name}</strong>? Its deploys, runs and schedules are removed, and running runs are cancelled.
      </ConfirmDialog>
    </div>
  );
}

/** Cluster size (with a control to move the project), the version runs use, and what is going on now. */
function Overview({
  project: p,
  canEdit,
  deploysBuilding,
  activeRuns,
}: {
  project: BatchProject;
  canEdit: boolean;
  deploysBuilding: boolean;
  activeRuns: number;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const clusters = useClusters();
  const profile = clusters.data?.find((c) => c.size === p.clusterSize);
  const resize = useMutation({
    mutationFn: (clusterSize: number) => client.batch.update(p.name, { clusterSize }),
    onSuccess: async (updated) => {
      queryClient.setQueryData(projectKeys.one(group, p.name), updated);
      await queryClient.invalidateQueries({ queryKey: projectKeys.list(group) });
    },
  });
  return (
    <div className="card project-overview" data-testid="project-overview">
      <div className="overview-cell">
        <div className="overview-label">Cluster size</div>
        <div className="overview-value">
          <div className="segmented" role="radiogroup" aria-label="Cluster size" data-testid="cluster-size-control">
            {[1, 2, 3].map((size) => (
              <button
                key={size}
                type="button"
                role="radio"
                aria-checked={p.clusterSize === size}
                className={p.clusterSize === size ? 'active' : undefined}
                disabled={!canEdit || resize.isPending}
                title={clusters.data ? profileText(clusters.data.find((c) => c.size === size) ?? { cpus: 0, memoryMb: 0, parallelRuns: 0 }) : undefined}
                onClick={() => p.clusterSize !== size && resize.mutate(size)}
                data-testid={`cluster-size-button-${size}`}
              >
                {size}
              </button>
            ))}
          </div>
          {resize.isPending && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
        </div>
        <div className="overview-help muted small" data-testid="cluster-profile">
          {profile ? `${profile.name} · ${profileText(profile)}` : '…'}
        </div>
        <ErrorText error={resize.error} />
      </div>
      <div className="overview-cell">
        <div className="overview-label">Current version</div>
        <div className="overview-value">
          {p.currentVersion === null ? <span className="muted">none Ready yet</span> : <span className="mono overview-big">v{p.currentVersion}</span>}
        </div>
        <div className="overview-help muted small">{deploysBuilding ? 'A new deploy is building…' : 'Runs use the newest Ready deploy.'}</div>
      </div>
      <div className="overview-cell">
        <div className="overview-label">Running now</div>
        <div className="overview-value">
          <span className="overview-big" data-testid="active-runs">
            {activeRuns}
          </span>
          {profile && <span className="muted small"> of {profile.parallelRuns} at a time</span>}
        </div>
        <div className="overview-help muted small">More wait their turn in the queue.</div>
      </div>
    </div>
  );
}

function Description({ project, canEdit }: { project: BatchProject; canEdit: boolean }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const save = async (description: string) => {
    const updated = await client.batch.update(project.name, { description });
    queryClient.setQueryData(projectKeys.one(group, project.name), updated);
    await queryClient.invalidateQueries({ queryKey: projectKeys.list(group) });
  };
  return <EditableDescription text={project.description} canEdit={canEdit} save={save} testId="project-description" />;
}
