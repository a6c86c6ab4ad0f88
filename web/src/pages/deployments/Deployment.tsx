import { useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Deployment } from '@forja/contracts';
import { useClient, useFollowGroup, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import {
  BackLink,
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorText,
  LoadFailed,
  SearchTabs,
  Spinner,
  Time,
  relativeTime,
  type TabSpec,
  QueryError,
} from '../../components/ui';
import { JobBusy, JobFailure } from '../../components/JobDetails';
import { JobLogPanel, useFollowEnd } from '../../components/JobLog';
import { CopyButton } from '../../components/CopyButton';
import { jobPath } from '../jobs/format';
import { formatBytes } from '../tracking/format';
import { DEPLOYMENTS, DeploymentStatusBadge, deploymentKeys, isSettling, kindLabel, settingsText, SourceCell } from './format';
import { KEPT_CALLS, TestPanel, type PredictCall } from './TestPanel';
import { UsagePanel } from './Usage';
import { DeploymentMonitoring } from '../monitoring/DeploymentMonitoring';
import { ExecutionsPanel } from './Executions';
import { SettingsDialog, WorkersPanel } from './Workers';
import './deployments.css';
import { usePageTitle } from '../../usePageTitle';

type TabId = 'build' | 'test' | 'executions' | 'usage' | 'monitoring' | 'workers' | 'runtime' | 'code';
const allTabs: (TabSpec<TabId> & { only?: Deployment['operation'] })[] = [
  { id: 'build', label: 'Build' },
  { id: 'test', label: 'Test', only: 'sync' },
  { id: 'executions', label: 'Executions', only: 'async' },
  { id: 'usage', label: 'Usage' },
  { id: 'monitoring', label: 'Monitoring' },
  { id: 'workers', label: 'Workers' },
  { id: 'runtime', label: 'Runtime log' },
  { id: 'code', label: 'Code' },
];
/** A sync deployment answers calls (Test); an async one runs executions on files. */
const tabsOf = (operation: Deployment['operation']): TabSpec<TabId>[] =>
  allTabs.filter((t) => !t.only || t.only === operation).map(({ id, label }) => ({ id, label }));
const REFRESH_MS = 2000;
const RUNTIME_LOG_MS = 3000;

/** One deployment: its state and settings, its build, a test form, usage over time, its monitors and alerts, the workers' log and calling code. */
export function DeploymentPage() {
  const { id = '' } = useParams();
  // A fresh page per deployment: the test calls and usage samples belong to one.
  return <DeploymentView key={id} id={id} />;
}

function DeploymentView({ id }: { id: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [params, setParams] = useSearchParams();
  const [deleting, setDeleting] = useState(false);
  const [editingSettings, setEditingSettings] = useState(false);

  const key = deploymentKeys.one(group, id);
  const dep = useQuery({
    queryKey: key,
    queryFn: () => client.deployments.get(id),
    refetchInterval: (q) => (q.state.data && isSettling(q.state.data.status) ? REFRESH_MS : false),
  });
  useFollowGroup(dep.data?.group);

  // Without ?tab=, a deployment that answers opens on Test (Executions when async), any other on its build; chosen once, so a build that ends does not move the page.
  const tabs = tabsOf(dep.data?.operation ?? 'sync');
  const firstTab = useRef<TabId | null>(null);
  usePageTitle(dep.data?.name, 'Deployments');
  if (firstTab.current === null && dep.data)
    firstTab.current = dep.data.status === 'Deployed' ? (dep.data.operation === 'async' ? 'executions' : 'test') : 'build';
  const tab = tabs.find((t) => t.id === params.get('tab'))?.id ?? firstTab.current ?? 'build';

  // Kept here, not in the Test tab: its calls survive a look at another tab.
  const [calls, setCalls] = useState<PredictCall[]>([]);
  const seq = useRef(0);
  const onCall = (call: Omit<PredictCall, 'seq'>) => setCalls((prev) => [...prev, { ...call, seq: ++seq.current }].slice(-KEPT_CALLS));

  const updated = async (d: Deployment) => {
    queryClient.setQueryData(key, d);
    await queryClient.invalidateQueries({ queryKey: deploymentKeys.list(group) });
  };
  const toggle = useMutation({
    mutationFn: (enable: boolean) => (enable ? client.deployments.enable(id) : client.deployments.disable(id)),
    onSuccess: updated,
  });
  const rebuild = useMutation({
    mutationFn: () => client.deployments.rebuild(id),
    onSuccess: async ({ deployment }) => {
      await updated(deployment);
      const next = new URLSearchParams(params);
      next.set('tab', 'build');
      setParams(next, { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => client.deployments.delete(id),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: key });
      // The list is not on screen, so invalidating it does not refetch it: drop the row now, or the list shows it until its refetch answers.
      queryClient.setQueryData<Deployment[]>(deploymentKeys.list(group), (old) => old?.filter((x) => x.id !== id));
      await queryClient.invalidateQueries({ queryKey: deploymentKeys.list(group) });
      navigate(DEPLOYMENTS.to);
    },
  });

  if (dep.isPending) return <Spinner />;
  if (dep.isError) return <LoadFailed title="This deployment cannot be shown" query={dep} back={DEPLOYMENTS} />;

  const d = dep.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  const actionError = toggle.error ?? rebuild.error;
  return (
    <div className="page page-wide" data-testid="deployment-page">
      <BackLink to={DEPLOYMENTS.to}>{DEPLOYMENTS.label}</BackLink>
      <header className="detail-header">
        <div>
          <h1 className="detail-title">
            {d.name} <DeploymentStatusBadge status={d.status} />
          </h1>
          <div className="detail-meta muted">
            <span className="mono">{d.id}</span>
            <span title={new Date(d.createdAt).toISOString()}>created {relativeTime(d.createdAt)}</span>
            {d.createdBy && <span>by {d.createdBy}</span>}
            <span>in {d.group}</span>
          </div>
        </div>
        {canEdit && (
          <div className="page-actions">
            {d.status === 'Deployed' && (
              <Button onClick={() => toggle.mutate(false)} pending={toggle.isPending} data-testid="disable-deployment">
                Disable
              </Button>
            )}
            {d.status === 'Disabled' && (
              <Button onClick={() => toggle.mutate(true)} pending={toggle.isPending} data-testid="enable-deployment">
                Enable
              </Button>
            )}
            <Button onClick={() => setEditingSettings(true)} data-testid="edit-settings">
              Settings
            </Button>
            <Button onClick={() => rebuild.mutate()} pending={rebuild.isPending} disabled={d.status === 'Building'} data-testid="rebuild-deployment">
              Rebuild
            </Button>
            <Button variant="danger" onClick={() => setDeleting(true)} data-testid="delete-deployment">
              Delete
            </Button>
          </div>
        )}
      </header>
      {actionError && <ErrorText error={actionError} testId="deployment-action-error" />}
      {d.status === 'Failed' && (
        <JobFailure
          title="The build failed"
          message={d.message ?? 'No reason was given: see the build log.'}
          testId="deployment-failure"
          className="deployment-callout"
        />
      )}
      {d.status === 'Building' && (
        <JobBusy testId="deployment-progress" className="deployment-callout">
          {d.message ?? 'Building…'}
        </JobBusy>
      )}
      <DeploymentInfo deployment={d} />
      <SearchTabs label="Deployment" tabs={tabs} current={tab} counts={{ test: calls.length || undefined }} testIdPrefix="deployment-tab" />
      <div className="deployment-tab">
        {tab === 'build' && <BuildTab deployment={d} />}
        {tab === 'test' && <TestPanel deployment={d} calls={calls} onCall={onCall} />}
        {tab === 'executions' && <ExecutionsPanel deployment={d} mayRun={group !== undefined} />}
        {tab === 'workers' && <WorkersPanel deployment={d} mayEdit={canEdit} onEdit={() => setEditingSettings(true)} />}
        {tab === 'usage' && <UsagePanel id={d.id} />}
        {tab === 'monitoring' && <DeploymentMonitoring deployment={d} mayEdit={canEdit} />}
        {tab === 'runtime' && <RuntimeLog id={d.id} />}
        {tab === 'code' && <CodeTab id={d.id} />}
      </div>
      {canEdit && <SettingsDialog open={editingSettings} deployment={d} onClose={() => setEditingSettings(false)} onSaved={updated} />}
      <ConfirmDialog
        open={deleting}
        title="Delete deployment"
        confirmLabel="Delete"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => {
          remove.reset();
          setDeleting(false);
        }}
      >
        Delete <strong>{d.name}</strong>? Its workers stop, its files are removed, and calls to <span className="mono">/deployments/{d.id}/predict</span> answer
        404 from now on.
      </ConfirmDialog>
    </div>
  );
}

function DeploymentInfo({ deployment: d }: { deployment: Deployment }) {
  return (
    <div className="card card-pad deployment-info">
      <dl className="kv kv-wide" data-testid="deployment-info">
        <dt>Kind</dt>
        <dd data-testid="deployment-kind">{kindLabel[d.kind]}</dd>
        <dt>Source</dt>
        <dd>
          <SourceCell deployment={d} />
        </dd>
        {d.kind === 'script' ? (
          <>
            <dt>Entrypoint</dt>
            <dd className="mono" data-testid="deployment-entrypoint">
              {d.entrypoint ?? 'score'}
              {d.operation === 'async' ? '(data_path, model_path)' : '(data, base_path)'}
            </dd>
          </>
        ) : (
          <>
            <dt>Predict method</dt>
            <dd className="mono">{d.predictMethod}</dd>
          </>
        )}
        <dt>Python</dt>
        <dd>{d.pythonVersion || <span className="muted">server default</span>}</dd>
        <dt>Environment</dt>
        <dd className="mono break" data-testid="deployment-environment">
          {d.environment ?? <span className="muted">not built</span>}
        </dd>
        <dt>Settings</dt>
        <dd data-testid="deployment-settings">{settingsText(d.settings)}</dd>
        <dt>Files</dt>
        <dd data-testid="deployment-files">
          {d.files.length === 0 ? (
            <span className="muted">—</span>
          ) : (
            <span className="file-list">
              {d.files.map((f) => (
                <span key={`${f.role}/${f.name}`} className="file-chip" title={`${f.role}, ${formatBytes(f.size)}`}>
                  <span className="mono">{f.name}</span> <span className="muted small">{f.role}</span>
                </span>
              ))}
            </span>
          )}
        </dd>
        <dt>Secrets</dt>
        <dd>{d.hasSecrets ? 'an .env file, sealed (never shown)' : <span className="muted">none</span>}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={d.createdAt} />
        </dd>
        <dt>Deployed</dt>
        <dd>
          <Time at={d.deployedAt} />
        </dd>
      </dl>
    </div>
  );
}

function BuildTab({ deployment: d }: { deployment: Deployment }) {
  if (!d.buildJobId) {
    return (
      <div className="card">
        <EmptyState title="Not built yet">Rebuild it to make its environment, load the model and test it on its schema sample.</EmptyState>
      </div>
    );
  }
  return (
    <JobLogPanel
      key={d.buildJobId}
      jobId={d.buildJobId}
      title="Build log"
      testId="build-log"
      actions={
        <Link to={jobPath(d.buildJobId)} className="small" data-testid="build-job-link">
          Job <span className="mono">{d.buildJobId}</span>
        </Link>
      }
    />
  );
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

function RuntimeLog({ id }: { id: string }) {
  const client = useClient();
  const { group } = useSession();
  const [auto, setAuto] = useState(true);
  const logs = useQuery({
    queryKey: deploymentKeys.logs(group, id),
    queryFn: () => client.deployments.logs(id),
    staleTime: 0,
    refetchInterval: auto ? RUNTIME_LOG_MS : false,
  });
  const text = logs.data ?? '';
  const follow = useFollowEnd<HTMLPreElement>(text.length);
  const lines = text ? text.replace(/\n$/, '').split('\n').length : 0;
  return (
    <div className="card log-card runtime-log-card" data-testid="runtime-log-card">
      <div className="card-head">
        <h3>Runtime log</h3>
        <span className="muted">
          {lines} line{lines === 1 ? '' : 's'}
        </span>
        <span className="log-state muted small">{logs.dataUpdatedAt ? `read at ${clock.format(new Date(logs.dataUpdatedAt))}` : ''}</span>
        <label className="checkbox small">
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} data-testid="runtime-auto" />
          Auto refresh
        </label>
        <Button size="sm" onClick={() => void logs.refetch()} pending={logs.isFetching && !logs.isPending} data-testid="runtime-refresh">
          Refresh
        </Button>
      </div>
      {logs.isError && (
        <div className="card-pad">
          <QueryError query={logs} />
        </div>
      )}
      <pre
        className="log-view runtime-log"
        ref={follow.ref}
        onScroll={follow.onScroll}
        role="log"
        aria-label="Runtime log"
        tabIndex={0}
        data-testid="runtime-log"
      >
        {logs.isPending ? (
          <span className="log-empty-text">Loading…</span>
        ) : (
          text || (
            <span className="log-empty-text">The workers have printed nothing yet: what the model prints, and the tracebacks of its errors, show here.</span>
          )
        )}
      </pre>
    </div>
  );
}

const SNIPPETS = [
  { key: 'curl', label: 'curl' },
  { key: 'python', label: 'Python' },
  { key: 'typescript', label: 'TypeScript' },
] as const;

function CodeTab({ id }: { id: string }) {
  const client = useClient();
  const { group } = useSession();
  const code = useQuery({ queryKey: deploymentKeys.code(group, id), queryFn: () => client.deployments.code(id) });
  if (code.isPending) return <Spinner />;
  if (code.isError) return <QueryError query={code} />;
  return (
    <section aria-label="Calling code">
      <p className="section-note muted">
        Set <code>FORJA_TOKEN</code> to a group token of <strong>{group}</strong> (made under <Link to="/admin/tokens">Admin → Tokens</Link>) or to your own
        token. The body is the schema sample; JSON records, <code>{'{"Input": …}'}</code>, CSV and Parquet work too.
      </p>
      <div className="code-snippets">
        {SNIPPETS.map((s) => (
          <div key={s.key} className="card" data-testid={`snippet-${s.key}`}>
            <div className="card-head">
              <h3>{s.label}</h3>
              <div className="toolbar-spacer" />
              <CopyButton text={code.data[s.key]} label={`Copy the ${s.label} snippet`} testId={`copy-${s.key}`} />
            </div>
            <pre className="code-snippet" data-testid={`code-${s.key}`}>
              {code.data[s.key]}
            </pre>
          </div>
        ))}
      </div>
    </section>
  );
}
