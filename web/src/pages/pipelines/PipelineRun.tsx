import { Link, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { PipelineRun, PipelineRunStep } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Button, EmptyState, ErrorText, LoadFailed, Spinner, Time, relativeTime } from '../../components/ui';
import { JobDetails, JobError, JobLink } from '../../components/JobDetails';
import { formatDuration } from '../tracking/format';
import { Dag } from './Dag';
import {
  isRunActive,
  LIVE_REFRESH_MS,
  pipelineKeys,
  pipelinePath,
  PipelineRunStatusBadge,
  runDuration,
  stepDuration,
  stepHelp,
  StepStatusBadge,
  stepSummary,
} from './format';
import './pipelines.css';
import { usePageTitle } from '../../usePageTitle';

/** A pipeline run: the DAG coloured by each step's status (live while it runs); a step opens its times, outputs, error and log. */
export function PipelineRunPage() {
  const { name = '', runId = '' } = useParams();
  usePageTitle('Run', name, 'Pipelines');
  return <RunView key={runId} name={name} runId={runId} />;
}

/** The step worth reading first: a failed one, else one that runs. */
const interesting = (run: PipelineRun) => run.steps.find((s) => s.status === 'failed') ?? run.steps.find((s) => s.status === 'running');

function RunView({ name, runId }: { name: string; runId: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const can = useAbilities();
  const [params, setParams] = useSearchParams();
  const key = pipelineKeys.run(group, runId);
  const run = useQuery({
    queryKey: key,
    queryFn: () => client.pipelines.getRun(runId),
    refetchInterval: (q) => (q.state.data && isRunActive(q.state.data) ? LIVE_REFRESH_MS : false),
  });
  const settle = async (updated: PipelineRun) => {
    queryClient.setQueryData(key, updated);
    await queryClient.invalidateQueries({ queryKey: pipelineKeys.runs(group, name) });
  };
  const cancel = useMutation({ mutationFn: () => client.pipelines.cancelRun(runId), onSuccess: settle });
  const retry = useMutation({ mutationFn: () => client.pipelines.retryRun(runId), onSuccess: settle });
  const back = { to: pipelinePath(name), label: name };

  if (run.isPending) return <Spinner />;
  if (run.isError) return <LoadFailed title="This pipeline run cannot be shown" query={run} back={back} />;
  const r = run.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  const selectedId = params.get('step') ?? interesting(r)?.id ?? null;
  const selected = r.steps.find((s) => s.id === selectedId) ?? null;
  const select = (id: string) => {
    const next = new URLSearchParams(params);
    if (id === selectedId && params.get('step')) next.delete('step');
    else next.set('step', id);
    setParams(next, { replace: true });
  };
  const duration = runDuration(r);
  const paramText = Object.keys(r.params).length ? JSON.stringify(r.params) : '';

  return (
    <div className="page page-wide" data-testid="pipeline-run-page">
      <BackLink to={back.to}>{back.label}</BackLink>
      <header className="detail-header">
        <div className="grow">
          <h1 className="detail-title pl-run-title">
            <span>
              <Link to={pipelinePath(r.pipeline)} className="pl-title-link">
                {r.pipeline}
              </Link>
              <span className="pl-title-sep">/</span>
              <span className="mono pl-run-id">{r.id}</span>
            </span>
            <PipelineRunStatusBadge status={r.status} />
          </h1>
          <div className="detail-meta muted">
            <span className="mono">v{r.pipelineVersion}</span>
            <span title={new Date(r.createdAt).toISOString()}>started {relativeTime(r.createdAt)}</span>
            {r.createdBy && <span>by {r.createdBy}</span>}
            {r.fromStep && (
              <span>
                from step <span className="mono">{r.fromStep}</span>
              </span>
            )}
            <span data-testid="pipeline-run-summary">{stepSummary(r.steps)}</span>
          </div>
        </div>
        {canEdit && (
          <div className="page-actions">
            {isRunActive(r) && (
              <Button variant="danger" onClick={() => cancel.mutate()} pending={cancel.isPending} data-testid="pipeline-run-cancel">
                Cancel run
              </Button>
            )}
            {(r.status === 'failed' || r.status === 'cancelled') && (
              <Button
                variant="primary"
                onClick={() => retry.mutate()}
                pending={retry.isPending}
                title="Run the failed, skipped and cancelled steps again; what succeeded is kept"
                data-testid="pipeline-run-retry"
              >
                Retry failed steps
              </Button>
            )}
          </div>
        )}
      </header>
      <ErrorText error={cancel.error ?? retry.error} testId="pipeline-run-action-error" />
      <div className="card pl-run-overview" data-testid="pipeline-run-overview">
        <div className="overview-cell">
          <div className="overview-label">Started</div>
          <div className="overview-value">
            <Time at={r.createdAt} />
          </div>
        </div>
        <div className="overview-cell">
          <div className="overview-label">Finished</div>
          <div className="overview-value">
            {r.finishedAt === null ? <span className="muted">{isRunActive(r) ? 'running…' : '—'}</span> : <Time at={r.finishedAt} />}
          </div>
        </div>
        <div className="overview-cell">
          <div className="overview-label">Duration</div>
          <div className="overview-value">{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</div>
        </div>
        <div className="overview-cell">
          <div className="overview-label">Parameters</div>
          <div className="overview-value">
            {paramText ? (
              <span className="pl-params-cell mono" title={JSON.stringify(r.params, null, 2)} data-testid="pipeline-run-params">
                {paramText}
              </span>
            ) : (
              <span className="muted">defaults</span>
            )}
          </div>
        </div>
      </div>
      <div className="card pl-dag-card">
        <div className="card-head">
          <h3>Steps</h3>
          <span className="muted small">{selected ? 'Click a step to follow its log' : 'Click a step to see its outputs and log'}</span>
          {isRunActive(r) && (
            <span className="pl-dag-head-status muted small">
              <span className="spinner spinner-inline spinner-muted" aria-hidden="true" /> live
            </span>
          )}
        </div>
        <Dag steps={r.steps} selected={selected?.id} onSelect={select} testId="pipeline-run-dag" />
      </div>
      {selected ? (
        <StepPanel key={selected.id} step={selected} />
      ) : (
        <div className="card">
          <EmptyState title="No step selected">Pick a step in the graph to see its status, times, outputs and live log.</EmptyState>
        </div>
      )}
    </div>
  );
}

function StepPanel({ step: s }: { step: PipelineRunStep }) {
  const duration = stepDuration(s);
  const notRun =
    s.status === 'reused'
      ? 'Not run: its outputs come from an earlier run.'
      : s.status === 'skipped'
        ? 'Not run: a step it needs did not succeed.'
        : s.status === 'cancelled'
          ? 'Never started: the run was cancelled.'
          : 'No job yet: it starts when the steps it needs succeed.';
  return (
    <JobDetails
      testId="pipeline-step-panel"
      data-step={s.id}
      className="pl-step"
      jobId={s.jobId}
      logTitle={`Log of ${s.id}`}
      logTestId="pipeline-step-log"
      noLog={
        <div className="card log-card" data-testid="pipeline-step-log">
          <div className="card-head">
            <h3>Log of {s.id}</h3>
          </div>
          <div className="card-pad muted">{notRun}</div>
        </div>
      }
    >
      <div className="card pl-step-side">
        <div className="card-head">
          <h3 className="mono">{s.id}</h3>
          <StepStatusBadge status={s.status} />
        </div>
        <div className="card-pad pl-step-body">
          <dl className="kv">
            <dt>Action</dt>
            <dd className="mono">{s.action}</dd>
            <dt>Needs</dt>
            <dd>{s.needs.length ? <span className="mono">{s.needs.join(', ')}</span> : <span className="muted">nothing</span>}</dd>
            <dt>Job</dt>
            <dd>{s.jobId ? <JobLink jobId={s.jobId} /> : <span className="muted">none</span>}</dd>
            <dt>Started</dt>
            <dd>
              <Time at={s.startedAt} />
            </dd>
            <dt>Finished</dt>
            <dd>
              <Time at={s.finishedAt} />
            </dd>
            <dt>Duration</dt>
            <dd>{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</dd>
          </dl>
          <p className="muted small pl-step-help">{stepHelp[s.status]}.</p>
          {s.error && (
            <div>
              <div className="job-label">Error</div>
              <JobError error={s.error} testId="pipeline-step-error" />
            </div>
          )}
          <div>
            <div className="job-label">Outputs</div>
            {s.outputs && Object.keys(s.outputs).length > 0 ? (
              <pre className="json" data-testid="pipeline-step-outputs">
                {JSON.stringify(s.outputs, null, 2)}
              </pre>
            ) : (
              <div className="muted small" data-testid="pipeline-step-outputs">
                {s.status === 'succeeded' || s.status === 'reused'
                  ? 'None: the step wrote nothing to $FORJA_OUTPUTS.'
                  : s.status === 'failed' || s.status === 'skipped' || s.status === 'cancelled'
                    ? 'None.'
                    : 'None yet.'}
              </div>
            )}
          </div>
        </div>
      </div>
    </JobDetails>
  );
}
