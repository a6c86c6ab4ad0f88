import { NavLink, Outlet } from 'react-router';
import { useSession } from '../../session';
import { PageHeader } from '../../components/ui';

/** The job queue and the workers that drain it, under one header like the registry's pages. */
export function JobsLayout() {
  const { group } = useSession();
  return (
    <div className="page" data-testid="section-jobs">
      <PageHeader
        title="Jobs"
        description={
          group ? (
            <>
              Background work of group <strong>{group}</strong> (builds and runs of deployments, projects, pipelines, training and monitors; lake scoring;
              webhook deliveries) and the workers that run it
            </>
          ) : (
            'Background work and the workers that run it'
          )
        }
      />
      <nav className="tabs" aria-label="Jobs">
        <NavLink to="/jobs" end className="tab" data-testid="jobs-tab-jobs">
          Jobs
        </NavLink>
        <NavLink to="/workers" className="tab" data-testid="jobs-tab-workers">
          Workers
        </NavLink>
      </nav>
      <Outlet />
    </div>
  );
}
