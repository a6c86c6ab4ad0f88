import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TrainingPromoted, TrainingRun } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Button, Dialog, ErrorText, Field, LoadFailed, Spinner, Time, relativeTime } from '../../components/ui';
import { CheckIcon } from '../../components/icons';
import { DialogForm } from '../../components/DialogForm';
import { JobError } from '../../components/JobDetails';
import { JobLogPanel } from '../../components/JobLog';
import { jobPath } from '../jobs/format';
import { formatMetric, isActive, LIVE_REFRESH_MS, TRAINING, trainingKeys, TrainingStatusBadge } from './format';
import './training.css';
import { usePageTitle } from '../../usePageTitle';

/** One training run: status, metrics, the data it used, its live log, links to its tracking run, and Promote. */
export function TrainingRunPage() {
  const { id = '' } = useParams();
  return <RunView key={id} id={id} />;
}

function RunView({ id }: { id: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const can = useAbilities();
  const [promoting, setPromoting] = useState(false);
  const key = trainingKeys.one(group, id);
  const run = useQuery({
    queryKey: key,
    queryFn: () => client.training.get(id),
    refetchInterval: (q) => (q.state.data && isActive(q.state.data) ? LIVE_REFRESH_MS : false),
  });
  const cancel = useMutation({
    mutationFn: () => client.training.cancel(id),
    onSuccess: async (r) => {
      queryClient.setQueryData(key, r);
      await queryClient.invalidateQueries({ queryKey: trainingKeys.list(group) });
    },
  });

  usePageTitle(run.data?.experimentName, 'Training');
  if (run.isPending) return <Spinner />;
  if (run.isError) return <LoadFailed title="This training run cannot be shown" query={run} back={TRAINING} />;
  const r = run.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  const metrics = Object.entries(r.metrics).sort(([a], [b]) => a.localeCompare(b));

  return (
    <div className="page page-wide" data-testid="training-run-page">
      <BackLink to={TRAINING.to}>{TRAINING.label}</BackLink>
      <header className="detail-header">
        <div className="grow">
          <h1 className="detail-title tr-title">
            <span>
              {r.experimentName} <span className="mono tr-run-id">{r.id}</span>
            </span>
            <TrainingStatusBadge status={r.status} />
          </h1>
          <div className="detail-meta muted">
            <span>{r.modelType}</span>
            <span className="mono">{r.sourceName}</span>
            <span title={new Date(r.createdAt).toISOString()}>created {relativeTime(r.createdAt)}</span>
            {r.createdBy && <span>by {r.createdBy}</span>}
          </div>
        </div>
        <div className="page-actions">
          <Link to={`/runs/${encodeURIComponent(r.trackingRunId)}`} className="btn btn-secondary" data-testid="training-tracking-link">
            Tracking run
          </Link>
          {canEdit && isActive(r) && (
            <Button variant="danger" onClick={() => cancel.mutate()} pending={cancel.isPending} data-testid="training-cancel">
              Cancel
            </Button>
          )}
          {canEdit && r.status === 'succeeded' && !r.promoted && (
            <Button variant="primary" onClick={() => setPromoting(true)} data-testid="training-promote">
              Promote
            </Button>
          )}
        </div>
      </header>
      <ErrorText error={cancel.error} />
      {r.promoted && (
        <div className="callout callout-success tr-promoted" data-testid="training-promoted">
          <CheckIcon size={16} />
          <span>
            Promoted to{' '}
            <Link to={`/models/${encodeURIComponent(r.promoted.model)}?version=${encodeURIComponent(r.promoted.version)}`}>
              {r.promoted.model} version {r.promoted.version}
            </Link>
            {r.promoted.deploymentId && (
              <>
                {' '}
                and deployed as <Link to={`/deployments/${encodeURIComponent(r.promoted.deploymentId)}`}>deployment {r.promoted.deploymentId}</Link>
              </>
            )}
            .
          </span>
        </div>
      )}
      {r.error && (
        <div className="tr-error">
          <JobError error={r.error} testId="training-error" />
        </div>
      )}
      <div className="tr-detail">
        <div className="tr-side">
          <div className="card">
            <div className="card-head">
              <h3>Metrics</h3>
              <span className="muted small">{metrics.length}</span>
            </div>
            {metrics.length === 0 ? (
              <div className="card-pad muted small">{isActive(r) ? 'Logged when train_model returns.' : 'None: train_model returned no "metrics".'}</div>
            ) : (
              <table className="table tr-metrics-table" data-testid="training-metrics-table">
                <tbody>
                  {metrics.map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td className="num mono" title={String(v)}>
                        {formatMetric(v)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
          <div className="card">
            <div className="card-head">
              <h3>Run</h3>
            </div>
            <div className="card-pad">
              <dl className="kv">
                <dt>Experiment</dt>
                <dd>
                  <Link to={`/experiments/${encodeURIComponent(r.experimentId)}`}>{r.experimentName}</Link>
                </dd>
                <dt>Tracking run</dt>
                <dd>
                  <Link to={`/runs/${encodeURIComponent(r.trackingRunId)}`} className="mono">
                    {r.trackingRunId}
                  </Link>
                </dd>
                <dt>Job</dt>
                <dd>
                  <Link to={jobPath(r.jobId)} className="mono">
                    {r.jobId}
                  </Link>
                </dd>
                <dt>Script</dt>
                <dd className="mono">
                  {r.sourceName} · {r.trainFunction}()
                </dd>
                <dt>Data</dt>
                <dd>
                  {r.data.table ? (
                    <>
                      lake table{' '}
                      <Link to={`/lake/${encodeURIComponent(r.data.table)}`} className="mono">
                        {r.data.table}
                      </Link>
                      {r.data.filter && <div className="mono small tr-filter">where {r.data.filter}</div>}
                    </>
                  ) : (
                    <span className="mono">{r.data.file ?? '—'}</span>
                  )}
                </dd>
                <dt>Python</dt>
                <dd>{r.pythonVersion || <span className="muted">default</span>}</dd>
                <dt>Created</dt>
                <dd>
                  <Time at={r.createdAt} />
                </dd>
              </dl>
            </div>
          </div>
        </div>
        <JobLogPanel key={r.jobId} jobId={r.jobId} title="Training log" testId="training-log" />
      </div>
      {r.status === 'succeeded' && <PromoteDialog run={r} open={promoting} onClose={() => setPromoting(false)} />}
    </div>
  );
}

/** Registers the trained model as a new version, and deploys it when a deployment name is given; then shows what was made. */
function PromoteDialog({ run: r, open, onClose }: { run: TrainingRun; open: boolean; onClose: () => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const [modelName, setModelName] = useState(r.experimentName);
  const [deploy, setDeploy] = useState(false);
  const [deployName, setDeployName] = useState('');
  const [operation, setOperation] = useState<'sync' | 'async'>('sync');
  const [done, setDone] = useState<TrainingPromoted | null>(null);
  const promote = useMutation({
    mutationFn: () =>
      client.training.promote(r.id, {
        modelName: modelName.trim(),
        ...(deploy && deployName.trim() ? { deploy: { name: deployName.trim(), operation } } : {}),
      }),
    onSuccess: async (result) => {
      setDone(result);
      queryClient.setQueryData(trainingKeys.one(group, r.id), result.run);
      await queryClient.invalidateQueries({ queryKey: trainingKeys.list(group) });
      await queryClient.invalidateQueries({ queryKey: ['models'] });
    },
  });
  const close = () => {
    setDone(null);
    setDeploy(false);
    setDeployName('');
    promote.reset();
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title="Promote the trained model" testId="training-promote-dialog" width={520}>
      {done ? (
        <div className="form" data-testid="training-promote-result">
          <div className="callout callout-success">
            <CheckIcon size={16} />
            <span>
              Registered{' '}
              <Link to={`/models/${encodeURIComponent(done.modelVersion.name)}?version=${encodeURIComponent(done.modelVersion.version)}`} onClick={close}>
                {done.modelVersion.name} version {done.modelVersion.version}
              </Link>
              .
            </span>
          </div>
          {done.deploymentId && (
            <p className="dialog-text">
              Deploying as{' '}
              <Link to={`/deployments/${encodeURIComponent(done.deploymentId)}`} onClick={close} data-testid="training-promote-deployment">
                deployment {done.deploymentId}
              </Link>
              {done.buildJobId && (
                <>
                  {' '}
                  (its environment builds in{' '}
                  <Link to={jobPath(done.buildJobId)} className="mono" onClick={close}>
                    job {done.buildJobId}
                  </Link>
                  )
                </>
              )}
              .
            </p>
          )}
          <div className="dialog-footer">
            <Button variant="primary" onClick={close}>
              Done
            </Button>
          </div>
        </div>
      ) : (
        <DialogForm request={promote} onSubmit={() => promote.mutate()} onCancel={close} submitLabel="Promote" submitTestId="training-promote-submit">
          <p className="muted small dialog-text">
            Registers the pickled pipeline of tracking run <span className="mono">{r.trackingRunId}</span> as a new version of the model
            {deploy ? ', then deploys that version' : ''}.
          </p>
          <Field label="Model name" htmlFor="tp-model" hint="A new model is created when the name is new.">
            <input
              id="tp-model"
              required
              autoFocus
              maxLength={256}
              value={modelName}
              onChange={(e) => setModelName(e.target.value)}
              data-testid="training-promote-model"
            />
          </Field>
          <label className="checkbox">
            <input type="checkbox" checked={deploy} onChange={(e) => setDeploy(e.target.checked)} data-testid="training-promote-deploy" />
            <span>Also deploy it</span>
          </label>
          {deploy && (
            <div className="form-row">
              <Field label="Deployment name" htmlFor="tp-deploy">
                <input
                  id="tp-deploy"
                  required
                  maxLength={100}
                  value={deployName}
                  onChange={(e) => setDeployName(e.target.value)}
                  placeholder="e.g. churn-api"
                  data-testid="training-promote-deploy-name"
                />
              </Field>
              <Field label="Operation" htmlFor="tp-op">
                <select id="tp-op" value={operation} onChange={(e) => setOperation(e.target.value as 'sync' | 'async')}>
                  <option value="sync">sync</option>
                  <option value="async">async</option>
                </select>
              </Field>
            </div>
          )}
        </DialogForm>
      )}
    </Dialog>
  );
}
