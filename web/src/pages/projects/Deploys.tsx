import { useState } from 'react';
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import type { BatchDeploy, BatchProject } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, Dialog, Field, Time } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { RocketIcon } from '../../components/icons';
import { JobLogPanel } from '../../components/JobLog';
import { JobList } from '../../components/JobList';
import { JobRow, JobTable } from '../../components/JobTable';
import { JobBusy, JobDetails, JobError, JobFailure, JobLink } from '../../components/JobDetails';
import { DeployStatusBadge, LIVE_REFRESH_MS, projectKeys } from './format';

const requirementLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

/** The deploy history, newest first; a row opens its build log. */
export function DeploysTab({
  project,
  deploys,
  canEdit,
  onDeploy,
}: {
  project: BatchProject;
  deploys: UseQueryResult<BatchDeploy[]>;
  canEdit: boolean;
  onDeploy: () => void;
}) {
  // The newest deploy opens by itself while it builds or when it failed: its log is what one wants to read.
  const [open, setOpen] = useState<string | null>(() => {
    const newest = deploys.data?.[0];
    return newest && newest.status !== 'Ready' ? String(newest.version) : null;
  });
  return (
    <JobList
      query={deploys}
      empty={{
        icon: <RocketIcon size={26} />,
        title: 'Nothing deployed yet',
        action: canEdit && (
          <Button variant="primary" onClick={onDeploy}>
            Deploy a script
          </Button>
        ),
        text: (
          <>
            Upload a Python script and its <code>requirements.txt</code>: Forja builds its environment once with uv, and every run of this version reuses it.
          </>
        ),
      }}
    >
      {(items) => (
        <JobTable
          testId="deploys-table"
          columns={['Version', 'Status', 'Script', 'Python', 'Requirements', 'By', 'Deployed', 'Message']}
          expandTestId="deploy-expand"
          open={open}
          onOpen={setOpen}
        >
          {items.map((d) => {
            const reqs = requirementLines(d.requirements);
            return (
              <JobRow key={d.version} id={String(d.version)} testId={`deploy-row-${d.version}`} status={d.status} details={<DeployDetails deploy={d} />}>
                <td>
                  <span className="mono">v{d.version}</span> {project.currentVersion === d.version && <span className="pj-current-tag">current</span>}
                </td>
                <td>
                  <DeployStatusBadge status={d.status} />
                </td>
                <td className="mono small">{d.scriptName}</td>
                <td>{d.pythonVersion || <span className="muted">default</span>}</td>
                <td title={reqs.join('\n') || undefined}>
                  {reqs.length === 0 ? <span className="muted">none</span> : `${reqs.length} package${reqs.length === 1 ? '' : 's'}`}
                </td>
                <td>{d.createdBy ?? <span className="muted">—</span>}</td>
                <td>
                  <Time at={d.createdAt} />
                </td>
                <td>
                  {d.message ? (
                    <div className={`pj-message-cell${d.status === 'Failed' ? ' is-error' : ''}`} title={d.message}>
                      {d.message.split('\n', 1)[0]}
                    </div>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </JobRow>
            );
          })}
        </JobTable>
      )}
    </JobList>
  );
}

function DeployDetails({ deploy: d }: { deploy: BatchDeploy }) {
  const reqs = requirementLines(d.requirements);
  return (
    <JobDetails
      testId="deploy-details"
      className="pj-details"
      jobId={d.buildJobId}
      logTitle="Build log"
      logTestId="deploy-build-log"
      noLog={<div className="muted">No build job.</div>}
    >
      <dl className="kv">
        <dt>Script</dt>
        <dd className="mono">{d.scriptName}</dd>
        <dt>Python</dt>
        <dd>{d.pythonVersion || <span className="muted">server default</span>}</dd>
        <dt>Environment</dt>
        <dd className="mono break small">{d.environment ?? <span className="muted">not built</span>}</dd>
        {d.buildJobId && (
          <>
            <dt>Build job</dt>
            <dd>
              <JobLink jobId={d.buildJobId} />
            </dd>
          </>
        )}
      </dl>
      <div>
        <div className="job-label">requirements.txt</div>
        {reqs.length === 0 ? <div className="muted small">Empty: the standard library only.</div> : <pre className="json">{d.requirements.trim()}</pre>}
      </div>
      {d.status === 'Failed' && <JobError error={d.message} testId="deploy-error" />}
    </JobDetails>
  );
}

/** Uploads a script (and its requirements), then follows the build in the same dialog until the deploy is Ready or Failed. */
export function DeployDialog({
  project,
  open,
  onClose,
  onShowDeploys,
}: {
  project: BatchProject;
  open: boolean;
  onClose: () => void;
  onShowDeploys: () => void;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const [source, setSource] = useState<File | undefined>();
  const [requirements, setRequirements] = useState<File | undefined>();
  const [pythonVersion, setPythonVersion] = useState('');
  const [started, setStarted] = useState<{ version: number; buildJobId: string } | null>(null);
  // Remounts the file inputs on reset: a file input's value cannot be set back to a file.
  const [generation, setGeneration] = useState(0);

  const deploys = useQuery({
    queryKey: projectKeys.deploys(group, project.name),
    queryFn: () => client.batch.deploys(project.name),
    enabled: started !== null,
    refetchInterval: (q) => (q.state.data?.some((d) => d.status === 'Building') ? LIVE_REFRESH_MS : false),
  });
  const current = started ? deploys.data?.find((d) => d.version === started.version) : undefined;
  const status = current?.status ?? 'Building';

  const deploy = useMutation({
    mutationFn: () => {
      const form = new FormData();
      if (source) form.append('source', source, source.name);
      if (requirements) form.append('requirements', requirements, requirements.name);
      if (pythonVersion.trim()) form.append('pythonVersion', pythonVersion.trim());
      return client.batch.deploy(project.name, form);
    },
    onSuccess: async ({ deploy: d, buildJobId }) => {
      setStarted({ version: d.version, buildJobId });
      queryClient.setQueryData<BatchDeploy[]>(projectKeys.deploys(group, project.name), (old) => [d, ...(old ?? []).filter((x) => x.version !== d.version)]);
      await queryClient.invalidateQueries({ queryKey: projectKeys.deploys(group, project.name) });
    },
  });
  const close = () => {
    if (started) {
      void queryClient.invalidateQueries({ queryKey: ['batch', group ?? ''] });
      onShowDeploys();
    }
    setSource(undefined);
    setRequirements(undefined);
    setPythonVersion('');
    setStarted(null);
    setGeneration((g) => g + 1);
    deploy.reset();
    onClose();
  };

  return (
    <Dialog
      open={open}
      onClose={close}
      title={started ? `Deploy v${started.version} of ${project.name}` : `Deploy ${project.name}`}
      testId="deploy-dialog"
      width={started ? 820 : 560}
    >
      {started ? (
        <div className="form" data-testid="deploy-progress">
          {status === 'Building' && <JobBusy>{current?.message ?? 'Building its Python environment with uv…'}</JobBusy>}
          {status === 'Ready' && (
            <div className="callout callout-success" role="status" data-testid="deploy-ready">
              <span>
                <strong>v{started.version} is Ready.</strong> Runs and schedules use it from now on.
              </span>
            </div>
          )}
          {status === 'Failed' && <JobFailure title="The build failed" message={current?.message ?? 'See the build log.'} testId="deploy-failed" />}
          <div className="dialog-status-row">
            <span className="muted">Status</span> <DeployStatusBadge status={status} />
          </div>
          <JobLogPanel key={started.buildJobId} jobId={started.buildJobId} title="Build log" testId="deploy-dialog-log" />
          <div className="dialog-footer">
            <Button variant={status === 'Building' ? 'secondary' : 'primary'} onClick={close} data-testid="deploy-dialog-close">
              {status === 'Building' ? 'Close (the build goes on)' : 'Done'}
            </Button>
          </div>
        </div>
      ) : (
        <DialogForm
          key={generation}
          request={deploy}
          onSubmit={() => deploy.mutate()}
          onCancel={close}
          submitLabel="Upload and build"
          submitTestId="deploy-submit"
        >
          <div className="form-row">
            <Field label="Script" htmlFor="dp-source" hint="The .py file each run executes.">
              <input
                id="dp-source"
                type="file"
                className="file-input"
                accept=".py"
                required
                onChange={(e) => setSource(e.target.files?.[0])}
                data-testid="deploy-source"
              />
            </Field>
            <Field label="Requirements" htmlFor="dp-requirements" hint="requirements.txt, installed with uv. Optional.">
              <input
                id="dp-requirements"
                type="file"
                className="file-input"
                accept=".txt"
                onChange={(e) => setRequirements(e.target.files?.[0])}
                data-testid="deploy-requirements"
              />
            </Field>
          </div>
          <Field label="Python version" htmlFor="dp-python" hint="One installed on the server, e.g. 3.11. Empty for the server’s default.">
            <input
              id="dp-python"
              value={pythonVersion}
              onChange={(e) => setPythonVersion(e.target.value)}
              placeholder="server default"
              data-testid="deploy-python"
            />
          </Field>
          <p className="muted small">
            Runs get their parameters as JSON in <code>FORJA_PARAMS</code> (and in <code>params.json</code>), and <code>FORJA_URL</code> with a{' '}
            <code>FORJA_TOKEN</code> that lives as long as the run.
          </p>
        </DialogForm>
      )}
    </Dialog>
  );
}
