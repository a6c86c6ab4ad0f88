import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Monitor } from '@forja/contracts';
import { useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { CreateButton, PageHeader, SearchTabs, Time, useSearchTab } from '../../components/ui';
import { deploymentPath } from '../deployments/format';
import { lakeTablePath } from '../lake/format';
import { AlertsPanel } from './Alerts';
import { CreateMonitorDialog } from './CreateMonitorDialog';
import { DriftBadge, monitorPath, monitorRunPath, QueryView, RunStatusBadge } from './format';
import { useAlerts, useMonitors } from './queries';
import './monitoring.css';
import { usePageTitle } from '../../usePageTitle';

const TABS = [
  { id: 'monitors', label: 'Monitors' },
  { id: 'alerts', label: 'Alerts' },
] as const;

/** The group's monitors and its alerts. */
export function MonitoringPage() {
  const { group } = useSession();
  const can = useAbilities();
  const navigate = useNavigate();
  const tab = useSearchTab(TABS);
  const [creating, setCreating] = useState(false);
  const mayEdit = group !== undefined && can.canEditGroup(group);
  const open = useAlerts({ status: 'open' });
  usePageTitle('Monitoring');
  return (
    <div className="page page-wide" data-testid="monitoring-page">
      <PageHeader
        title="Monitoring"
        description="Production data compared with the data each model learned from: drift per feature, performance once labels arrive, feature importance, and alerts."
        actions={
          mayEdit && (
            <CreateButton onClick={() => setCreating(true)} testId="new-monitor">
              New monitor
            </CreateButton>
          )
        }
      />
      <SearchTabs label="Monitoring" tabs={TABS} current={tab} counts={{ alerts: open.data?.items.length || undefined }} testIdPrefix="monitoring-tab" />
      {tab === 'monitors' ? <MonitorsTable onCreate={mayEdit ? () => setCreating(true) : undefined} /> : <AlertsPanel mayAct={mayEdit} />}
      {mayEdit && <CreateMonitorDialog open={creating} onClose={() => setCreating(false)} onCreated={(m) => navigate(monitorPath(m.id))} />}
    </div>
  );
}

export function TargetCell({ monitor: m }: { monitor: Pick<Monitor, 'target' | 'deploymentId'> }) {
  if ('deployment' in m.target)
    return (
      <span>
        deployment{' '}
        {m.deploymentId ? (
          <Link to={deploymentPath(m.deploymentId)} className="mono">
            {m.target.deployment}
          </Link>
        ) : (
          <span className="mono">{m.target.deployment}</span>
        )}
      </span>
    );
  return (
    <span>
      table{' '}
      <Link to={lakeTablePath(m.target.table)} className="mono">
        {m.target.table}
      </Link>
    </span>
  );
}

/** The monitors of the group, or of one deployment: last run, drift, schedule. */
export function MonitorsTable({ deploymentId, onCreate }: { deploymentId?: string; onCreate?: () => void }) {
  const monitors = useMonitors();
  const mine = (items: Monitor[]) => (deploymentId ? items.filter((m) => m.deploymentId === deploymentId) : items);
  return (
    <div className="card table-card" data-testid="monitors-card">
      <QueryView
        query={monitors}
        testId="monitors"
        isEmpty={(items) => mine(items).length === 0}
        empty={
          <div className="monitor-empty-text">
            <p>No monitors yet. A monitor compares production data with a reference on a schedule, and on demand.</p>
            {onCreate && (
              <CreateButton onClick={onCreate} testId="new-monitor-empty">
                New monitor
              </CreateButton>
            )}
          </div>
        }
      >
        {(items) => (
          <table className="table" data-testid="monitors-table">
            <thead>
              <tr>
                <th>Name</th>
                {!deploymentId && <th>Watches</th>}
                <th>Period</th>
                <th>Last run</th>
                <th>Drift</th>
                <th>Next run</th>
              </tr>
            </thead>
            <tbody>
              {mine(items).map((m) => (
                <tr key={m.id} data-testid="monitor-row" data-name={m.name}>
                  <td className="cell-primary">
                    <Link to={monitorPath(m.id)}>{m.name}</Link>
                    {m.description && <div className="cell-secondary muted small">{m.description}</div>}
                  </td>
                  {!deploymentId && (
                    <td>
                      <TargetCell monitor={m} />
                    </td>
                  )}
                  <td>{m.period}</td>
                  <td>
                    {m.lastRun ? (
                      <Link to={monitorRunPath(m.id, m.lastRun.id)} className="monitor-last-run">
                        <RunStatusBadge status={m.lastRun.status} /> <Time at={m.lastRun.windowEnd} />
                      </Link>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td>
                    <DriftBadge drifted={m.lastRun?.datasetDrift} />
                  </td>
                  <td>{m.scheduled ? <Time at={m.nextRunAt} /> : <span className="muted">on demand</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </div>
  );
}
