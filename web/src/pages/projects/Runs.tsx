import { useState } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type { BatchProject, BatchRun } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, Field, Time } from '../../components/ui';
import { JobList } from '../../components/JobList';
import { JobRow, JobTable } from '../../components/JobTable';
import { num } from '../../components/TableHead';
import { JobCancelButton, JobDetails, JobError, JobLink } from '../../components/JobDetails';
import { JobRunDialog } from '../../components/JobRunDialog';
import { formatDuration } from '../tracking/format';
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
  return (
    <JobList
      query={runs}
      empty={{
        icon: <ProjectIcon size={26} />,
        title: 'No runs yet',
        action: canEdit && project.currentVersion !== null && (
          <Button variant="primary" onClick={onRun}>
            Run now
          </Button>
        ),
        text:
          project.currentVersion === null
            ? 'Deploy a script first: runs use the newest Ready deploy.'
            : 'Run the current version now with parameters, or add a schedule to run it on a cron.',
      }}
    >
      {(items) => (
        <JobTable
          testId="runs-table"
          columns={['Run', 'Version', 'Status', 'Params', 'Started', num('Duration'), 'Exit / error']}
          expandTestId="run-expand"
          open={open}
          onOpen={onOpen}
        >
          {items.map((r) => {
            const duration = runDuration(r);
            const exit = exitText(r);
            const params = paramsText(r.params);
            return (
              <JobRow key={r.id} id={r.id} testId={`run-row-${r.id}`} status={r.status} details={<RunDetails project={project} run={r} canEdit={canEdit} />}>
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
                <td>
                  {params ? (
                    <span className="pj-params-cell mono" title={JSON.stringify(r.params, null, 2)}>
                      {params}
                    </span>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
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
              </JobRow>
            );
          })}
        </JobTable>
      )}
    </JobList>
  );
}

function RunDetails({ project, run: r, canEdit }: { project: BatchProject; run: BatchRun; canEdit: boolean }) {
  const client = useClient();
  const { group } = useSession();
  return (
    <JobDetails testId="run-details" className="pj-details" jobId={r.jobId} logTitle="Run log" logTestId="run-log">
      <dl className="kv">
        <dt>Run</dt>
        <dd className="mono">{r.id}</dd>
        <dt>Job</dt>
        <dd>
          <JobLink jobId={r.jobId} />
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
        <div className="job-label">Parameters</div>
        <pre className="json" data-testid="run-params">
          {JSON.stringify(r.params, null, 2)}
        </pre>
      </div>
      <JobError error={r.error} testId="run-error" />
      {canEdit && isRunActive(r) && (
        <JobCancelButton
          cancel={() => client.batch.cancelRun(project.name, r.id)}
          list={projectKeys.runs(group, project.name)}
          idOf={(x) => x.id}
          label="Cancel run"
          testId="run-cancel"
        />
      )}
    </JobDetails>
  );
}

/** Runs the current version now: parameters as a JSON object, and a timeout after which its processes are killed. */
export function RunDialog({
  project,
  open,
  onClose,
  onStarted,
}: {
  project: BatchProject;
  open: boolean;
  onClose: () => void;
  onStarted: (run: BatchRun) => void | Promise<void>;
}) {
  const client = useClient();
  const [timeout, setTimeoutSeconds] = useState('3600');
  return (
    <JobRunDialog
      open={open}
      onClose={onClose}
      title={`Run ${project.name} now`}
      testId="run-dialog"
      intro={
        <>
          Runs <span className="mono">v{project.currentVersion}</span>, the newest Ready deploy. The script reads the parameters from <code>FORJA_PARAMS</code>{' '}
          or <code>params.json</code>.
        </>
      }
      parse={parseParams}
      example='e.g. {"date": "2026-01-31", "rows": 1000}'
      start={(params) => client.batch.run(project.name, { params, timeoutSeconds: Number(timeout) })}
      onStarted={onStarted}
      onReset={() => setTimeoutSeconds('3600')}
      testIds={{ params: 'run-params-input', paramsError: 'params-error', submit: 'run-submit' }}
    >
      <Field label="Timeout (seconds)" htmlFor="rn-timeout" hint="Its process tree is killed after it. At most 7 days.">
        <input
          id="rn-timeout"
          type="number"
          min={1}
          max={604800}
          required
          value={timeout}
          onChange={(e) => setTimeoutSeconds(e.target.value)}
          data-testid="run-timeout"
        />
      </Field>
    </JobRunDialog>
  );
}
