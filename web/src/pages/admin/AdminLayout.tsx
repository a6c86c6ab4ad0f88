import { NavLink, Navigate, Outlet } from 'react-router';
import { useAbilities } from '../../hooks';
import { useSession } from '../../session';
import { PageHeader } from '../../components/ui';

export function AdminLayout() {
  const can = useAbilities();
  const { group } = useSession();
  const tabs = [
    ...(can.isAdmin ? [{ to: 'users', label: 'Users' }] : []),
    { to: 'groups', label: 'Groups' },
    { to: 'tokens', label: 'Tokens' },
    ...(can.canReadAudit ? [{ to: 'audit', label: 'Audit log' }] : []),
    ...(group && can.canAdministerGroup(group) ? [{ to: 'webhooks', label: 'Webhooks' }] : []),
    ...(can.isAdmin ? [{ to: 'system', label: 'System' }] : []),
  ];
  return (
    <div className="page">
      <PageHeader title="Admin" description="People, groups, access tokens, the audit trail, webhooks and the state of the system." />
      <nav className="tabs" aria-label="Admin">
        {tabs.map((t) => (
          <NavLink key={t.to} to={t.to} className="tab" data-testid={`admin-tab-${t.to}`}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}

export function AdminIndex() {
  const can = useAbilities();
  return <Navigate to={can.isAdmin ? 'users' : 'groups'} replace />;
}
