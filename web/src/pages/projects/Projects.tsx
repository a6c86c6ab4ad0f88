import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BatchProject, ClusterProfile, Schedule } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { Button, CreateButton, Dialog, ErrorText, Field, PageHeader, Time, relativeTime } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { GroupList } from '../../components/GroupList';
import { num, TableHead } from '../../components/TableHead';
import { formatMemory, isRunActive, LIVE_REFRESH_MS, ProjectIcon, profileText, projectKeys, projectPath, RunStatusBadge } from './format';
import './projects.css';
import { usePageTitle } from '../../usePageTitle';

/** The group's batch projects: Python scripts deployed with their environment, run now or on cron schedules. */
export function ProjectsPage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [creating, setCreating] = useState(false);

  const list = useQuery({ queryKey: projectKeys.list(group), queryFn: () => client.batch.projects(), enabled: Boolean(group) });
  const schedules = useQuery({ queryKey: projectKeys.allSchedules(group), queryFn: () => client.batch.schedules(), enabled: Boolean(group) });
  const clusters = useClusters();
  const mayCreate = group !== undefined && can.canEditGroup(group);
  const rows = list.data ?? [];
  const schedulesOf = (name: string): Schedule[] => (schedules.data ?? []).filter((s) => s.project === name);

  const created = async (p: BatchProject) => {
    await queryClient.invalidateQueries({ queryKey: ['batch', group ?? ''] });
    navigate(projectPath(p.name));
  };

  usePageTitle('Projects');
  return (
    <div className="page" data-testid="section-projects">
      <PageHeader
        title="Projects"
        description={
          group ? (
            <>
              Batch projects of group <strong>{group}</strong>: Python scripts deployed with their environment, run now with parameters or on cron schedules
            </>
          ) : (
            'Python scripts deployed with their environment, run now with parameters or on cron schedules'
          )
        }
        actions={
          mayCreate && (
            <CreateButton onClick={() => setCreating(true)} testId="new-project">
              New project
            </CreateButton>
          )
        }
      />
      <GroupList
        group={group}
        icon={<ProjectIcon size={26} />}
        things={['projects', 'project']}
        kind="Batch projects"
        count={rows.length}
        countTestId="projects-count"
        query={list}
        empty={{
          title: 'No batch projects yet',
          action: mayCreate && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              New project
            </Button>
          ),
          text: (
            <>
              A project holds a Python script and its requirements. Each deploy builds its environment once; runs get their parameters in{' '}
              <code>FORJA_PARAMS</code> and a token for Forja’s API.
            </>
          ),
        }}
      >
        <table className="table" data-testid="projects-table">
          <TableHead columns={['Name', 'Cluster', 'Version', 'Last run', num('Schedules'), 'Created']} />
          <tbody>
            {rows.map((p) => (
              <ProjectRow
                key={p.id}
                project={p}
                profile={clusters.data?.find((c) => c.size === p.clusterSize)}
                schedules={schedules.isSuccess ? schedulesOf(p.name) : undefined}
              />
            ))}
          </tbody>
        </table>
      </GroupList>
      <NewProjectDialog open={creating} onClose={() => setCreating(false)} onCreated={created} />
    </div>
  );
}

export function useClusters() {
  const client = useClient();
  return useQuery({ queryKey: projectKeys.clusters, queryFn: () => client.batch.clusters(), staleTime: 60_000 });
}

function ProjectRow({ project: p, profile, schedules }: { project: BatchProject; profile: ClusterProfile | undefined; schedules: Schedule[] | undefined }) {
  const client = useClient();
  const { group } = useSession();
  // The list answer has no run summary, so each row reads its project's runs (newest first) and follows an active one.
  const runs = useQuery({
    queryKey: projectKeys.runs(group, p.name),
    queryFn: () => client.batch.runs(p.name),
    refetchInterval: (q) => (q.state.data?.[0] && isRunActive(q.state.data[0]) ? LIVE_REFRESH_MS : false),
  });
  const last = runs.data?.[0];
  const active = schedules?.filter((s) => !s.paused).length ?? 0;
  return (
    <tr data-testid={`project-row-${p.name}`}>
      <td className="cell-name">
        <Link to={projectPath(p.name)} className="cell-link">
          {p.name}
        </Link>
        {p.description && (
          <div className="cell-secondary project-description-cell" title={p.description}>
            {p.description}
          </div>
        )}
      </td>
      <td data-testid="project-cluster">
        <span className="cluster-chip">
          size {p.clusterSize}
          {profile && <span className="muted"> · {profile.name}</span>}
        </span>
        {profile && <div className="cell-secondary">{profileText(profile)}</div>}
      </td>
      <td data-testid="project-version">
        {p.currentVersion === null ? <span className="muted">not deployed</span> : <span className="mono">v{p.currentVersion}</span>}
      </td>
      <td data-testid="project-last-run">
        {runs.isPending ? (
          <span className="muted">…</span>
        ) : last ? (
          <span className="last-run">
            <RunStatusBadge status={last.status} />
            <span className="muted small" title={new Date(last.finishedAt ?? last.startedAt ?? last.createdAt).toISOString()}>
              {relativeTime(last.finishedAt ?? last.startedAt ?? last.createdAt)}
            </span>
          </span>
        ) : (
          <span className="muted">never run</span>
        )}
      </td>
      <td className="num" data-testid="project-schedules">
        {schedules === undefined ? (
          <span className="muted">…</span>
        ) : schedules.length === 0 ? (
          <span className="muted">0</span>
        ) : (
          <span title={`${active} active, ${schedules.length - active} paused`}>
            {schedules.length}
            {active < schedules.length && <span className="muted small"> ({schedules.length - active} paused)</span>}
          </span>
        )}
      </td>
      <td>
        <Time at={p.createdAt} withTime={false} />
      </td>
    </tr>
  );
}

const NAME_HINT = 'Unique in the group: letters, digits, “_”, “.” and “-”.';

/** Name, description and the cluster size, each size showing its profile's CPUs, memory and parallel runs. */
function NewProjectDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (p: BatchProject) => void | Promise<void> }) {
  const client = useClient();
  const clusters = useClusters();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [size, setSize] = useState(1);
  const create = useMutation({
    mutationFn: () => client.batch.create({ name: name.trim(), description: description.trim(), clusterSize: size }),
    onSuccess: async (p) => {
      await onCreated(p);
      close();
    },
  });
  const close = () => {
    setName('');
    setDescription('');
    setSize(1);
    create.reset();
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title="New batch project" testId="new-project-dialog" width={560}>
      <DialogForm request={create} onSubmit={() => create.mutate()} onCancel={close} submitLabel="Create project" submitTestId="create-project">
        <Field label="Name" htmlFor="np-name" hint={NAME_HINT}>
          <input id="np-name" required autoFocus maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. churn-scoring" />
        </Field>
        <Field label="Description" htmlFor="np-description">
          <textarea
            id="np-description"
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="What it does and who reads its output"
          />
        </Field>
        <ClusterPicker name="np-size" value={size} onChange={setSize} profiles={clusters.data} error={clusters.error} />
      </DialogForm>
    </Dialog>
  );
}

/** The three cluster sizes as radio cards with their resource profile. */
export function ClusterPicker({
  name,
  value,
  onChange,
  profiles,
  error,
  disabled,
}: {
  name: string;
  value: number;
  onChange: (size: number) => void;
  profiles: ClusterProfile[] | undefined;
  error?: unknown;
  disabled?: boolean;
}) {
  const sizes = profiles ?? [1, 2, 3].map((size) => ({ size, name: `size ${size}` }) as Partial<ClusterProfile> & { size: number; name: string });
  return (
    <fieldset className="field" data-testid="cluster-picker" disabled={disabled}>
      <legend>Cluster size</legend>
      <div className="radio-cards">
        {sizes.map((p) => (
          <label key={p.size} className={`radio-card${value === p.size ? ' checked' : ''}`} data-testid={`cluster-size-${p.size}`}>
            <input type="radio" name={name} value={p.size} checked={value === p.size} onChange={() => onChange(p.size)} />
            <span className="radio-card-title">
              Size {p.size} {p.name && p.name !== `size ${p.size}` && <span className="muted">· {p.name}</span>}
            </span>
            {p.cpus !== undefined && p.memoryMb !== undefined && p.parallelRuns !== undefined ? (
              <span className="radio-card-help cluster-profile">
                <span>
                  {p.cpus} CPU{p.cpus === 1 ? '' : 's'}
                </span>
                <span>{formatMemory(p.memoryMb)} memory</span>
                <span>
                  {p.parallelRuns} parallel run{p.parallelRuns === 1 ? '' : 's'}
                </span>
              </span>
            ) : (
              <span className="radio-card-help">…</span>
            )}
          </label>
        ))}
      </div>
      <ErrorText error={error} />
    </fieldset>
  );
}
