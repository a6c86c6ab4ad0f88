import { Fragment, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import type { BatchProject, BatchRun } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, Dialog, EmptyState, ErrorText, Field, Spinner, Time } from '../../components/ui';
import { JobLogPanel } from '../../components/JobLog';
import { jobPath } from '../jobs/format';
import { formatDuration } from '../tracking/format';
import { ExpandButton } from './Deploys';
import { exitText, isRunActive, paramsText, parseParams, ProjectIcon, projectKeys, runDuration, RunStatusBadge } from './format';

/** Runs, newest first; a row opens its live log, with Cancel while it runs. */
export function RunsTab({
  project,
  runs,
  canEdit,
  open,
  onOpen,
  onRun,
}: {
  project: BatchProject;
  runs: UseQueryResult<BatchRun[]>;
  canEdit: boolean;
  open: string | null;
  onOpen: (id: string | null) => void;
  onRun: () => void;
}) {
  if (runs.isPending) return <Spinner />;
  if (runs.isError) return <ErrorText error={runs.error} />;
  const items = runs.data;
  if (items.length === 0) {
    return (
      <div className="card">
        <EmptyState
          icon={<ProjectIcon size={26} />}
          title="No runs yet"
          action={
            canEdit &&
            project.currentVersion !== null && (
              <Button variant="primary" onClick={onRun}>
                Run now
              </Button>
            )
          }
        >
          {project.currentVersion === null
            ? 'Deploy a script first: runs use the newest Ready deploy.'
            : 'Run the current version now with parameters, or add a schedule to run it on a cron.'}
        </EmptyState>
      </div>
    );
  }
  return (
    <div className="card table-card">
      <table className="table table-clickable" data-testid="runs-table">
        <thead>
          <tr>
            <th className="pj-expand-col" aria-label="Details" />
            <th>Run</th>
            <th>Version</th>
            <th>Status</th>
            <th>Params</th>
            <th>Started</th>
            <th className="num">Duration</th>
            <th>Exit / error</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => {
            const expanded = open === r.id;
            const toggle = () => onOpen(expanded ? null : r.id);
            const duration = runDuration(r);
            const exit = exitText(r);
            const params = paramsText(r.params);
            return (
              <Fragment key={r.id}>
                <tr data-testid={`run-row-${r.id}`} data-status={r.status} className={expanded ? 'row-open' : undefined} onClick={toggle}>
                  <td className="pj-expand-col">
                    <ExpandButton expanded={expanded} onToggle={toggle} testId="run-expand" />
                  </td>
                  <td>
                    <span className="mono small">{r.id}</span>
                    <div className="cell-secondary">
                      {r.trigger === 'manual' ? (r.createdBy ? `by ${r.createdBy}` : 'manual') : r.trigger === 'schedule' ? 'scheduled' : r.trigger}
                    </div>
                  </td>
                  <td className="mono">v{r.version}</td>
                  <td>
                    <RunStatusBadge status={r.status} />
                  </td>
                  <td>{params ? <span className="pj-params-cell mono" title={JSON.stringify(r.params, null, 2)}>{params}</span> : <span className="muted">—</span>}</td>
                  <td>{r.startedAt === null ? <span className="muted">{r.status === 'queued' ? 'waiting' : '—'}</span> : <Time at={r.startedAt} />}</td>
                  <td className="num">{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</td>
                  <td>
                    {exit ? (
                      <span className={`pj-message-cell${exit.isError ? ' is-error' : ' mono'}`} title={r.error ?? undefined} data-testid="run-exit">
                        {exit.short}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
                {expanded && (
                  <tr className="row-details">
                    <td colSpan={8} className="pj-details-cell">
                      <RunDetails project={project} run={r} canEdit={canEdit} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RunDetails({ project, run: r, canEdit }: { project: BatchProject; run: BatchRun; canEdit: boolean }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const key = projectKeys.runs(group, project.name);
  const cancel = useMutation({
    mutationFn: () => client.batch.cancelRun(project.name, r.id),
    onSuccess: async (updated) => {
      queryClient.setQueryData<BatchRun[]>(key, (old) => old?.map((x) => (x.id === updated.id ? updated : x)));
      await queryClient.invalidateQueries({ queryKey: key });
    },
  });
  return (
    <div className="pj-details" data-testid="run-details">
      <div className="pj-details-side">
        <dl className="kv">
          <dt>Run</dt>
          <dd className="mono">{r.id}</dd>
          <dt>Job</dt>
          <dd>
            <Link to={jobPath(r.jobId)} className="mono">
              {r.jobId}
            </Link>
          </dd>
          <dt>Version</dt>
          <dd className="mono">v{r.version}</dd>
          <dt>Trigger</dt>
          <dd>
            {r.trigger}
            {r.createdBy && <span className="muted"> · {r.createdBy}</span>}
          </dd>
          <dt>Queued</dt>
          <dd>
            <Time at={r.createdAt} />
          </dd>
          <dt>Finished</dt>
          <dd>{r.finishedAt === null ? <span className="muted">{isRunActive(r) ? 'not yet' : '—'}</span> : <Time at={r.finishedAt} />}</dd>
        </dl>
        <div>
          <div className="pj-details-label">Parameters</div>
          <pre className="json" data-testid="run-params">
            {JSON.stringify(r.params, null, 2)}
          </pre>
        </div>
        {r.error && (
          <pre className="pj-error-text" data-testid="run-error">
            {r.error}
          </pre>
        )}
        {canEdit && isRunActive(r) && (
          <div>
            <Button variant="danger" size="sm" onClick={() => cancel.mutate()} pending={cancel.isPending} data-testid="run-cancel">
              Cancel run
            </Button>
          </div>
        )}
        <ErrorText error={cancel.error} />
      </div>
      <JobLogPanel key={r.jobId} jobId={r.jobId} title="Run log" testId="run-log" />
    </div>
  );
}

/** Runs the current version now: parameters as a JSON object, and a timeout after which its processes are killed. */
export function RunDialog({ project, open, onClose, onStarted }: { project: BatchProject; open: boolean; onClose: () => void; onStarted: (run: BatchRun) => void | Promise<void> }) {
  const client = useClient();
  const [params, setParams] = useState('{\n  \n}');
  const [timeout, setTimeoutSeconds] = useState('3600');
  const parsed = parseParams(params);
  const run = useMutation({
    mutationFn: () => client.batch.run(project.name, { params: parsed.value ?? {}, timeoutSeconds: Number(timeout) }),
    onSuccess: async (r) => {
      await onStarted(r);
      close();
    },
  });
  const close = () => {
    setParams('{\n  \n}');
    setTimeoutSeconds('3600');
    run.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.error) run.mutate();
  };
  return (
    <Dialog open={open} onClose={close} title={`Run ${project.name} now`} testId="run-dialog" width={520}>
      <form className="form" onSubmit={submit}>
        <p className="muted small dialog-text">
          Runs <span className="mono">v{project.currentVersion}</span>, the newest Ready deploy. The script reads the parameters from <code>FORJA_PARAMS</code> or <code>params.json</code>.
        </p>
        <Field
          label="Parameters (JSON object)"
          htmlFor="rn-params"
          hint={parsed.error ? <span className="text-danger" data-testid="params-error">{parsed.error}</span> : 'e.g. {"date": "2026-01-31", "rows": 1000}'}
        >
          <textarea id="rn-params" rows={6} className="mono" autoFocus spellCheck={false} value={params} onChange={(e) => setParams(e.target.value)} aria-invalid={parsed.error ? true : undefined} data-testid="run-params-input" />
        </Field>
        <Field label="Timeout (seconds)" htmlFor="rn-timeout" hint="Its process tree is killed after it. At most 7 days.">
          <input id="rn-timeout" type="number" min={1} max={604800} required value={timeout} onChange={(e) => setTimeoutSeconds(e.target.value)} data-testid="run-timeout" />
        </Field>
        <ErrorText error={run.error} />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={run.isPending} disabled={Boolean(parsed.error)} data-testid="run-submit">
            Start run
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
