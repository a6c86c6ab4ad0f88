import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import type { Pipeline, PipelineRun } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Badge, Button, Field, LoadFailed, SearchTabs, Spinner, Time, relativeTime, useSearchTab, type TabSpec } from '../../components/ui';
import { JobList } from '../../components/JobList';
import { JobRunDialog } from '../../components/JobRunDialog';
import { num, TableHead } from '../../components/TableHead';
import { formatDuration } from '../tracking/format';
import { Dag } from './Dag';
import {
  isRunActive,
  LIVE_REFRESH_MS,
  parseParams,
  PipelineIcon,
  pipelineKeys,
  pipelineRunPath,
  PIPELINES,
  PipelineRunStatusBadge,
  runDuration,
  stepLabel,
  stepTone,
} from './format';
import { UploadDialog } from './UploadDialog';
import './pipelines.css';
import { usePageTitle } from '../../usePageTitle';

type TabId = 'runs' | 'definition';
const tabs: TabSpec<TabId>[] = [
  { id: 'runs', label: 'Runs' },
  { id: 'definition', label: 'Definition' },
];

/** One pipeline: its DAG, its runs and its definition, with Run and Upload. */
export function PipelinePage() {
  const { name = '' } = useParams();
  usePageTitle(name, 'Pipelines');
  return <PipelineView key={name} name={name} />;
}

function PipelineView({ name }: { name: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const tab = useSearchTab(tabs);
  const [dialog, setDialog] = useState<'run' | 'upload' | null>(null);
  const pipeline = useQuery({ queryKey: pipelineKeys.one(group, name), queryFn: () => client.pipelines.get(name) });
  const runs = useQuery({
    queryKey: pipelineKeys.runs(group, name),
    queryFn: () => client.pipelines.runs(name),
    refetchInterval: (q) => (q.state.data?.some(isRunActive) ? LIVE_REFRESH_MS : false),
  });

  if (pipeline.isPending) return <Spinner />;
  if (pipeline.isError) return <LoadFailed title="This pipeline cannot be shown" query={pipeline} back={PIPELINES} />;
  const p = pipeline.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  // The graph shows how the newest run of this version went.
  const last = runs.data?.find((r) => r.pipelineVersion === p.version);
  const statusOf = new Map(last?.steps.map((s) => [s.id, s]) ?? []);
  const dagSteps = p.steps.map((s) => {
    const r = statusOf.get(s.id);
    return { ...s, status: r?.status, startedAt: r?.startedAt, finishedAt: r?.finishedAt };
  });

  const started = async (run: PipelineRun) => {
    queryClient.setQueryData(pipelineKeys.run(group, run.id), run);
    await queryClient.invalidateQueries({ queryKey: ['pipelines', group ?? ''] });
    navigate(pipelineRunPath(p.name, run.id));
  };

  return (
    <div className="page page-wide" data-testid="pipeline-page">
      <BackLink to={PIPELINES.to}>{PIPELINES.label}</BackLink>
      <header className="detail-header">
        <div className="grow">
          <h1 className="detail-title">
            {p.name}{' '}
            <span data-testid="pipeline-current-version">
              <Badge tone="accent">v{p.version}</Badge>
            </span>
          </h1>
          <div className="detail-meta muted">
            <span>
              {p.steps.length} step{p.steps.length === 1 ? '' : 's'}
            </span>
            <span title={new Date(p.updatedAt).toISOString()}>updated {relativeTime(p.updatedAt)}</span>
            {p.createdBy && <span>by {p.createdBy}</span>}
            <span>in {p.group}</span>
          </div>
        </div>
        {canEdit && (
          <div className="page-actions">
            <Button onClick={() => setDialog('upload')} data-testid="open-upload-version">
              Upload new version
            </Button>
            <Button variant="primary" onClick={() => setDialog('run')} data-testid="open-pipeline-run">
              Run
            </Button>
          </div>
        )}
      </header>
      <div className="card pl-dag-card">
        <div className="card-head">
          <h3>Graph</h3>
          <span className="muted small">
            {last ? (
              <>
                as of the last run{' '}
                <Link to={pipelineRunPath(p.name, last.id)} className="mono">
                  {last.id}
                </Link>
                {' · '}
                {relativeTime(last.createdAt)}
              </>
            ) : (
              `v${p.version} has not run yet`
            )}
          </span>
          {last && (
            <span className="pl-dag-head-status">
              <PipelineRunStatusBadge status={last.status} />
            </span>
          )}
        </div>
        <Dag steps={dagSteps} onSelect={last ? (id) => navigate(pipelineRunPath(p.name, last.id, id)) : undefined} testId="pipeline-dag" />
      </div>
      <SearchTabs label="Pipeline" tabs={tabs} current={tab} counts={{ runs: runs.data?.length }} testIdPrefix="pipeline-tab" />
      {tab === 'runs' && <RunsTable pipeline={p} runs={runs} canEdit={canEdit} onRun={() => setDialog('run')} />}
      {tab === 'definition' && <Definition pipeline={p} />}
      <RunDialog pipeline={p} open={dialog === 'run'} onClose={() => setDialog(null)} onStarted={started} />
      <UploadDialog
        open={dialog === 'upload'}
        name={p.name}
        onClose={() => setDialog(null)}
        onUploaded={async (updated) => {
          queryClient.setQueryData(pipelineKeys.one(group, p.name), updated);
          await queryClient.invalidateQueries({ queryKey: ['pipelines', group ?? ''] });
        }}
      />
    </div>
  );
}

/** Each step's status as a small coloured square, in definition order. */
export function StepStrip({ run }: { run: PipelineRun }) {
  return (
    <span className="pl-strip" aria-label={run.steps.map((s) => `${s.id}: ${s.status}`).join(', ')}>
      {run.steps.map((s) => (
        <span key={s.id} className={`pl-strip-cell tone-${stepTone[s.status]}`} title={`${s.id}: ${stepLabel[s.status]}`} />
      ))}
    </span>
  );
}

function RunsTable({ pipeline: p, runs, canEdit, onRun }: { pipeline: Pipeline; runs: UseQueryResult<PipelineRun[]>; canEdit: boolean; onRun: () => void }) {
  const navigate = useNavigate();
  return (
    <JobList
      query={runs}
      empty={{
        icon: <PipelineIcon size={26} />,
        title: 'No runs yet',
        action: canEdit && (
          <Button variant="primary" onClick={onRun}>
            Run
          </Button>
        ),
        text: 'A run starts every step whose needs are met, one job each; a failed step skips what depends on it.',
      }}
    >
      {(items) => (
        <table className="table table-clickable" data-testid="pipeline-runs-table">
          <TableHead columns={['Run', 'Status', 'Steps', 'Version', 'Params', 'Started', num('Duration')]} />
          <tbody>
            {items.map((r) => {
              const duration = runDuration(r);
              const params = Object.keys(r.params).length ? JSON.stringify(r.params) : '';
              return (
                <tr key={r.id} data-testid={`pipeline-run-row-${r.id}`} data-status={r.status} onClick={() => navigate(pipelineRunPath(p.name, r.id))}>
                  <td>
                    <Link to={pipelineRunPath(p.name, r.id)} className="mono small cell-link" onClick={(e) => e.stopPropagation()}>
                      {r.id}
                    </Link>
                    <div className="cell-secondary">
                      {r.createdBy ? `by ${r.createdBy}` : 'manual'}
                      {r.fromStep && (
                        <>
                          {' · from '}
                          <span className="mono">{r.fromStep}</span>
                        </>
                      )}
                    </div>
                  </td>
                  <td>
                    <PipelineRunStatusBadge status={r.status} />
                  </td>
                  <td>
                    <StepStrip run={r} />
                  </td>
                  <td className="mono">v{r.pipelineVersion}</td>
                  <td>
                    {params ? (
                      <span className="pl-params-cell mono" title={JSON.stringify(r.params, null, 2)}>
                        {params}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    <Time at={r.createdAt} />
                  </td>
                  <td className="num">{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </JobList>
  );
}

function Definition({ pipeline: p }: { pipeline: Pipeline }) {
  return (
    <div className="pl-definition">
      <div className="card">
        <div className="card-head">
          <h3>Definition</h3>
          <span className="muted small mono">v{p.version}</span>
        </div>
        <pre className="pl-yaml" data-testid="pipeline-definition">
          {p.definition}
        </pre>
      </div>
      <div className="card">
        <div className="card-head">
          <h3>Files</h3>
          <span className="muted small">{p.files.length}</span>
        </div>
        {p.files.length === 0 ? (
          <div className="card-pad muted">No files.</div>
        ) : (
          <ul className="pl-files" data-testid="pipeline-files">
            {p.files.map((f) => (
              <li key={f} className="mono">
                {f}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

/** Starts a run: parameters as a JSON object (overriding the definition's "params:"), and optionally from one step on. */
function RunDialog({
  pipeline: p,
  open,
  onClose,
  onStarted,
}: {
  pipeline: Pipeline;
  open: boolean;
  onClose: () => void;
  onStarted: (run: PipelineRun) => void | Promise<void>;
}) {
  const client = useClient();
  const [fromStep, setFromStep] = useState('');
  return (
    <JobRunDialog
      open={open}
      onClose={onClose}
      title={`Run ${p.name}`}
      testId="pipeline-run-dialog"
      intro={
        <>
          Runs <span className="mono">v{p.version}</span>. Steps read the parameters as <code>{'${{ params.<key> }}'}</code>; the ones given here override the
          defaults of the definition’s <code>params:</code>.
        </>
      }
      parse={parseParams}
      example='e.g. {"day": "2026-01-31"}'
      start={(params) => client.pipelines.run(p.name, { params, ...(fromStep ? { fromStep } : {}) })}
      onStarted={onStarted}
      onReset={() => setFromStep('')}
      testIds={{ params: 'pipeline-params-input', paramsError: 'pipeline-params-error', submit: 'pipeline-run-submit', error: 'pipeline-run-error' }}
    >
      <Field
        label="From step"
        htmlFor="pr-from"
        hint={fromStep ? `Runs ${fromStep} and what depends on it; the steps before it reuse the outputs of the last succeeded run.` : 'The whole pipeline.'}
      >
        <select id="pr-from" value={fromStep} onChange={(e) => setFromStep(e.target.value)} data-testid="pipeline-from-step">
          <option value="">All steps</option>
          {p.steps.map((s) => (
            <option key={s.id} value={s.id}>
              {s.id} ({s.action})
            </option>
          ))}
        </select>
      </Field>
    </JobRunDialog>
  );
}
