import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, Link } from 'react-router';
import { Layout } from './components/Layout';
import { LoginPage } from './pages/Login';
import { AdminLayout, AdminIndex } from './pages/admin/AdminLayout';
import { UsersPage } from './pages/admin/Users';
import { GroupsPage } from './pages/admin/Groups';
import { GroupDetailPage } from './pages/admin/GroupDetail';
import { TokensPage } from './pages/admin/Tokens';
import { AuditPage } from './pages/admin/Audit';
import { EmptyState, Spinner } from './components/ui';
import { ExperimentsPage } from './pages/tracking/Experiments';
import { ExperimentPage } from './pages/tracking/Experiment';
import { RegistryLayout } from './pages/models/RegistryLayout';
import { ModelsPage } from './pages/models/Models';
import { ApprovalsPage } from './pages/models/Approvals';
import { JobsLayout } from './pages/jobs/JobsLayout';
import { JobsPage } from './pages/jobs/Jobs';
import { WorkersPage } from './pages/jobs/Workers';
import { WebhooksPage } from './pages/admin/Webhooks';

// The chart pages carry uPlot; loading them on first use keeps it out of every other page's bundle.
const RunPage = lazy(() => import('./pages/tracking/Run').then((m) => ({ default: m.RunPage })));
const ComparePage = lazy(() => import('./pages/tracking/Compare').then((m) => ({ default: m.ComparePage })));
// The deployment pages too (a deployment's Usage tab charts with uPlot), and they keep the main bundle under Vite's 600 kB warning.
const DeploymentsPage = lazy(() => import('./pages/deployments/Deployments').then((m) => ({ default: m.DeploymentsPage })));
const DeploymentPage = lazy(() => import('./pages/deployments/Deployment').then((m) => ({ default: m.DeploymentPage })));
// The lake pages load on first use too, like the deployments pages.
const LakePage = lazy(() => import('./pages/lake/Lake').then((m) => ({ default: m.LakePage })));
const LakeTablePage = lazy(() => import('./pages/lake/Table').then((m) => ({ default: m.LakeTablePage })));
// Batch projects too: both pages in one chunk.
const ProjectRoutes = lazy(() => import('./pages/projects/routes'));
// Pipelines and training runs: each section's pages in one chunk.
const PipelineRoutes = lazy(() => import('./pages/pipelines/routes'));
const TrainingRoutes = lazy(() => import('./pages/training/routes'));
const MonitoringRoutes = lazy(() => import('./pages/monitoring/routes'));
// A model's page (lineage, timeline, compare) and a job's page (its live log) are the heaviest detail pages.
const ModelPage = lazy(() => import('./pages/models/Model').then((m) => ({ default: m.ModelPage })));
const SystemPage = lazy(() => import('./pages/admin/System').then((m) => ({ default: m.SystemPage })));
const JobPage = lazy(() => import('./pages/jobs/Job').then((m) => ({ default: m.JobPage })));
const later = (page: ReactNode) => <Suspense fallback={<Spinner />}>{page}</Suspense>;

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/experiments" replace />} />
        <Route path="/experiments" element={<ExperimentsPage />} />
        <Route path="/experiments/:id" element={<ExperimentPage />} />
        <Route path="/runs/:runId" element={later(<RunPage />)} />
        <Route path="/compare" element={later(<ComparePage />)} />
        <Route element={<RegistryLayout />}>
          <Route path="/models" element={<ModelsPage />} />
          <Route path="/approvals" element={<ApprovalsPage />} />
        </Route>
        <Route path="/models/:name" element={later(<ModelPage />)} />
        <Route element={<JobsLayout />}>
          <Route path="/jobs" element={<JobsPage />} />
          <Route path="/workers" element={<WorkersPage />} />
        </Route>
        <Route path="/jobs/:id" element={later(<JobPage />)} />
        <Route path="/deployments" element={later(<DeploymentsPage />)} />
        <Route path="/deployments/:id" element={later(<DeploymentPage />)} />
        <Route path="/lake" element={later(<LakePage />)} />
        <Route path="/lake/:name" element={later(<LakeTablePage />)} />
        <Route path="/projects/*" element={later(<ProjectRoutes />)} />
        <Route path="/pipelines/*" element={later(<PipelineRoutes />)} />
        <Route path="/training/*" element={later(<TrainingRoutes />)} />
        <Route path="/monitoring/*" element={later(<MonitoringRoutes />)} />
        <Route path="/admin" element={<AdminLayout />}>
          <Route index element={<AdminIndex />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="groups" element={<GroupsPage />} />
          <Route path="groups/:name" element={<GroupDetailPage />} />
          <Route path="tokens" element={<TokensPage />} />
          <Route path="audit" element={<AuditPage />} />
          <Route path="webhooks" element={<WebhooksPage />} />
          <Route path="system" element={later(<SystemPage />)} />
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
    </Routes>
  );
}
