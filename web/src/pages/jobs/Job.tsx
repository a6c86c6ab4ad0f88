import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Job } from '@forja/contracts';
import { useClient } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Badge, Button, ConfirmDialog, LoadFailed, Spinner, Time, relativeTime } from '../../components/ui';
import { JobError } from '../../components/JobDetails';
import { JobLogPanel } from '../../components/JobLog';
import { formatDuration } from '../tracking/format';
import './jobs.css';
import { JobOwnerLink } from './JobOwner';
import { isActive, jobDuration, jobKeys, JOBS, JobStatusBadge } from './format';
import { usePageTitle } from '../../usePageTitle';

const JOB_REFRESH_MS = 1000;

export function JobPage() {
  const { id = '' } = useParams();
  const client = useClient();
  const queryClient = useQueryClient();
  const can = useAbilities();
  const [confirming, setConfirming] = useState(false);

  const job = useQuery({
    queryKey: jobKeys.job(id),
    queryFn: () => client.jobs.get(id),
    refetchInterval: (q) => (q.state.data && isActive(q.state.data.status) ? JOB_REFRESH_MS : false),
  });
  const cancel = useMutation({
    mutationFn: () => client.jobs.cancel(id),
    onSuccess: (updated) => {
      queryClient.setQueryData(jobKeys.job(id), updated);
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      setConfirming(false);
    },
  });

  usePageTitle(job.data?.kind, 'Jobs');
  if (job.isPending) return <Spinner />;
  if (job.isError) return <LoadFailed title="This job cannot be shown" query={job} back={JOBS} />;

  const j = job.data;
  const mayCancel = isActive(j.status) && !j.cancelRequested && (j.group ? can.canEditGroup(j.group) : can.isAdmin);
  return (
    <div className="page page-wide" data-testid="job-page">
      <BackLink to={JOBS.to}>{JOBS.label}</BackLink>
      <header className="detail-header">
        <div>
          <h1 className="detail-title">
            {j.kind} <JobStatusBadge status={j.status} /> {j.cancelRequested && isActive(j.status) && <Badge tone="amber">cancelling</Badge>}
          </h1>
          <div className="detail-meta muted">
            <span className="mono">{j.id}</span>
            <span title={new Date(j.createdAt).toISOString()}>created {relativeTime(j.createdAt)}</span>
            {j.createdBy && <span>by {j.createdBy}</span>}
            {j.group && <span>in {j.group}</span>}
            {j.owner && (
              <span>
                for <JobOwnerLink owner={j.owner} />
              </span>
            )}
          </div>
        </div>
        {mayCancel && (
          <Button variant="danger" onClick={() => setConfirming(true)} data-testid="cancel-job">
            Cancel job
          </Button>
        )}
      </header>
      <JobInfo job={j} />
      <JobLogPanel jobId={j.id} />
      <ConfirmDialog
        open={confirming}
        title="Cancel job"
        confirmLabel="Yes, cancel it"
        pending={cancel.isPending}
        error={cancel.error}
        onConfirm={() => cancel.mutate()}
        onClose={() => {
          cancel.reset();
          setConfirming(false);
        }}
      >
        Cancel <span className="mono">{j.kind}</span> job <span className="mono">{j.id}</span>?{' '}
        {j.status === 'running' ? 'Its worker is asked to stop it; ' : ''}It will not be retried.
      </ConfirmDialog>
    </div>
  );
}

function JobInfo({ job: j }: { job: Job }) {
  const duration = jobDuration(j);
  const hasResult = j.result !== null && j.result !== undefined;
  return (
    <div className="run-overview">
      <div className="card card-pad">
        <dl className="kv kv-wide" data-testid="job-info">
          <dt>Status</dt>
          <dd>
            <JobStatusBadge status={j.status} />
          </dd>
          <dt>Attempts</dt>
          <dd data-testid="job-attempts">
            {j.attempt} of {j.maxAttempts}
          </dd>
          <dt>Worker</dt>
          <dd>
            {j.workerId ? (
              <Link to="/workers" className="mono">
                {j.workerId}
              </Link>
            ) : (
              <span className="muted">—</span>
            )}
          </dd>
          <dt>Queue</dt>
          <dd>
            <span className="mono">{j.queue}</span>
            {j.priority !== 0 && <span className="muted"> · priority {j.priority}</span>}
          </dd>
          <dt>Created</dt>
          <dd>
            <Time at={j.createdAt} />
          </dd>
          <dt>{j.status === 'queued' && j.attempt > 0 ? 'Next attempt' : 'Runs at'}</dt>
          <dd>
            <Time at={j.runAt} />
          </dd>
          <dt>Started</dt>
          <dd>
            <Time at={j.startedAt} />
          </dd>
          <dt>Finished</dt>
          <dd>{j.finishedAt === null ? <span className="muted">{isActive(j.status) ? 'not yet' : '—'}</span> : <Time at={j.finishedAt} />}</dd>
          <dt>Duration</dt>
          <dd>{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</dd>
          <dt>Timeout</dt>
          <dd>{formatDuration(j.timeoutMs)}</dd>
          {j.progress !== null && j.progress !== undefined && (
            <>
              <dt>Progress</dt>
              <dd className="mono small">{JSON.stringify(j.progress)}</dd>
            </>
          )}
        </dl>
      </div>
      <div className="detail-grid">
        <div className="detail-col">
          <div className="card">
            <div className="card-head">
              <h3>Parameters</h3>
            </div>
            <div className="card-pad">
              <pre className="json" data-testid="job-params">
                {JSON.stringify(j.params, null, 2)}
              </pre>
            </div>
          </div>
        </div>
        <div className="detail-col">
          {j.error && (
            <div className="card">
              <div className="card-head">
                <h3>Error</h3>
              </div>
              <div className="card-pad">
                <JobError error={j.error} testId="job-error" />
              </div>
            </div>
          )}
          <div className="card">
            <div className="card-head">
              <h3>Result</h3>
            </div>
            <div className="card-pad">
              {hasResult ? (
                <pre className="json" data-testid="job-result">
                  {JSON.stringify(j.result, null, 2)}
                </pre>
              ) : (
                <span className="muted">{isActive(j.status) ? 'Not finished yet.' : 'No result.'}</span>
              )}
            </div>
          </div>
        </div>
      </div>
    </div>
  );
}
