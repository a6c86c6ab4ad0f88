import { NavLink, Outlet } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useClient, useSession } from '../../session';
import { keys } from '../../hooks';
import { PageHeader } from '../../components/ui';
import { CubeIcon } from '../../components/icons';
import { NoGroup } from '../../components/GroupList';

/** The registry's two lists, models and approval requests, under one header like the admin pages. */
export function RegistryLayout() {
  const client = useClient();
  const { group } = useSession();
  const pending = useQuery({ queryKey: keys.approvals(group, 'pending'), queryFn: () => client.models.approvals('pending'), enabled: Boolean(group) });
  return (
    <div className="page" data-testid="section-models">
      <PageHeader
        title="Models"
        description={
          group ? (
            <>
              Registered models, their versions, stages and approvals, in group <strong>{group}</strong>
            </>
          ) : undefined
        }
      />
      {!group ? (
        <NoGroup icon={<CubeIcon size={26} />} kind="Models" />
      ) : (
        <>
          <nav className="tabs" aria-label="Model registry">
            <NavLink to="/models" end className="tab" data-testid="registry-tab-models">
              Registered models
            </NavLink>
            <NavLink to="/approvals" className="tab" data-testid="registry-tab-approvals">
              Approvals
              {pending.data !== undefined && pending.data.length > 0 && <span className="tab-count">{pending.data.length}</span>}
            </NavLink>
          </nav>
          <Outlet />
        </>
      )}
    </div>
  );
}
