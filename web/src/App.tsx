import { lazy, type ComponentType } from 'react';
import { Navigate, Route, Routes, Link, useParams } from 'react-router';
import { Layout } from './components/Layout';
import { LoginPage } from './pages/Login';
import { EmptyState } from './components/ui';
import { GroupGate } from './group-routing';

/**
 * A page loaded on first use: the main bundle holds only the shell and the sign-in page, so the
 * first paint waits for no page the user did not open. `preload()` fetches it ahead; once loaded,
 * it renders at once (a lazy page suspends only while its module is on its way — a spinner for a
 * module already there would only hold the page back).
 */
function onDemand<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  let loaded: ComponentType | undefined;
  const preload = () => load().then((m) => (loaded = m[name]));
  // A thenable that calls back at once: React reads a settled lazy module without suspending.
  // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose (a Promise always calls back later).
  const settled = (page: ComponentType) => ({ then: (done: (m: { default: ComponentType }) => void) => done({ default: page }) });
  const page = lazy(() => (loaded ? (settled(loaded) as unknown as Promise<{ default: ComponentType }>) : preload().then((p) => ({ default: p }))));
  return Object.assign(page, { preload });
}

// The runs page is where people spend the day: index.html fetches its chunk beside the main bundle
// (vite.config.ts); it is evaluated at once when the address is one, else when the browser is idle.
const ExperimentPage = onDemand(() => import('./pages/tracking/Experiment'), 'ExperimentPage');
if (/^(\/g\/[^/]+)?\/experiments\/[^/]+/.test(window.location.pathname)) void ExperimentPage.preload();
else if ('requestIdleCallback' in window) window.requestIdleCallback(() => void ExperimentPage.preload());
const ExperimentsPage = onDemand(() => import('./pages/tracking/Experiments'), 'ExperimentsPage');
const RunPage = onDemand(() => import('./pages/tracking/Run'), 'RunPage');
const ComparePage = onDemand(() => import('./pages/tracking/Compare'), 'ComparePage');
const RegistryLayout = onDemand(() => import('./pages/models/RegistryLayout'), 'RegistryLayout');
const ModelsPage = onDemand(() => import('./pages/models/Models'), 'ModelsPage');
const ApprovalsPage = onDemand(() => import('./pages/models/Approvals'), 'ApprovalsPage');
const ModelPage = onDemand(() => import('./pages/models/Model'), 'ModelPage');
const JobsLayout = onDemand(() => import('./pages/jobs/JobsLayout'), 'JobsLayout');
const JobsPage = onDemand(() => import('./pages/jobs/Jobs'), 'JobsPage');
const WorkersPage = onDemand(() => import('./pages/jobs/Workers'), 'WorkersPage');
const JobPage = onDemand(() => import('./pages/jobs/Job'), 'JobPage');
const DeploymentsPage = onDemand(() => import('./pages/deployments/Deployments'), 'DeploymentsPage');
const DeploymentPage = onDemand(() => import('./pages/deployments/Deployment'), 'DeploymentPage');
const LakePage = onDemand(() => import('./pages/lake/Lake'), 'LakePage');
const LakeTablePage = onDemand(() => import('./pages/lake/Table'), 'LakeTablePage');
const AdminLayout = onDemand(() => import('./pages/admin/AdminLayout'), 'AdminLayout');
const AdminIndex = onDemand(() => import('./pages/admin/AdminLayout'), 'AdminIndex');
const UsersPage = onDemand(() => import('./pages/admin/Users'), 'UsersPage');
const GroupsPage = onDemand(() => import('./pages/admin/Groups'), 'GroupsPage');
const GroupDetailPage = onDemand(() => import('./pages/admin/GroupDetail'), 'GroupDetailPage');
const TokensPage = onDemand(() => import('./pages/admin/Tokens'), 'TokensPage');
const AuditPage = onDemand(() => import('./pages/admin/Audit'), 'AuditPage');
const WebhooksPage = onDemand(() => import('./pages/admin/Webhooks'), 'WebhooksPage');
const SystemPage = onDemand(() => import('./pages/admin/System'), 'SystemPage');
// Sections with several pages: each section's pages in one chunk.
const ProjectRoutes = lazy(() => import('./pages/projects/routes'));
const PipelineRoutes = lazy(() => import('./pages/pipelines/routes'));
const TrainingRoutes = lazy(() => import('./pages/training/routes'));
const MonitoringRoutes = lazy(() => import('./pages/monitoring/routes'));

/** MLflow's address of a run (`/experiments/<id>/runs/<run>`), typed or pasted without the `#`. */
function MlflowRun() {
  const { runId = '' } = useParams();
  return <Navigate to={`/runs/${encodeURIComponent(runId)}`} replace />;
}

/** MLflow's address of a model version (`/models/<name>/versions/<v>`): the model's page on that version. */
function MlflowModelVersion() {
  const { name = '', version = '' } = useParams();
  return <Navigate to={`/models/${encodeURIComponent(name)}?version=${encodeURIComponent(version)}`} replace />;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<Layout />}>
        <Route element={<GroupGate />}>
          <Route index element={<Navigate to="/experiments" replace />} />
          <Route path="/experiments" element={<ExperimentsPage />} />
          <Route path="/experiments/:id" element={<ExperimentPage />} />
          <Route path="/experiments/:id/runs/:runId" element={<MlflowRun />} />
          <Route path="/runs/:runId" element={<RunPage />} />
          <Route path="/compare" element={<ComparePage />} />
          <Route element={<RegistryLayout />}>
            <Route path="/models" element={<ModelsPage />} />
            <Route path="/approvals" element={<ApprovalsPage />} />
          </Route>
          <Route path="/models/:name" element={<ModelPage />} />
          <Route path="/models/:name/versions/:version" element={<MlflowModelVersion />} />
          <Route element={<JobsLayout />}>
            <Route path="/jobs" element={<JobsPage />} />
            <Route path="/workers" element={<WorkersPage />} />
          </Route>
          <Route path="/jobs/:id" element={<JobPage />} />
          <Route path="/deployments" element={<DeploymentsPage />} />
          <Route path="/deployments/:id" element={<DeploymentPage />} />
          <Route path="/lake" element={<LakePage />} />
          <Route path="/lake/:name" element={<LakeTablePage />} />
          <Route path="/projects/*" element={<ProjectRoutes />} />
          <Route path="/pipelines/*" element={<PipelineRoutes />} />
          <Route path="/training/*" element={<TrainingRoutes />} />
          <Route path="/monitoring/*" element={<MonitoringRoutes />} />
          <Route path="/admin" element={<AdminLayout />}>
            <Route index element={<AdminIndex />} />
            <Route path="users" element={<UsersPage />} />
            <Route path="groups" element={<GroupsPage />} />
            <Route path="groups/:name" element={<GroupDetailPage />} />
            <Route path="tokens" element={<TokensPage />} />
            <Route path="audit" element={<AuditPage />} />
            <Route path="webhooks" element={<WebhooksPage />} />
            <Route path="system" element={<SystemPage />} />
          </Route>
          <Route
            path="*"
            element={
              <div className="page">
                <div className="card">
                  <EmptyState title="Page not found" action={<Link to="/">Go to Forja's home</Link>}>
                    Nothing lives at this address.
                  </EmptyState>
                </div>
              </div>
            }
          />
        </Route>
      </Route>
    </Routes>
  );
}
