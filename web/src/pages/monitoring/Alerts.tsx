import { useState } from 'react';
import { Link } from 'react-router';
import type { Alert } from '@forja/contracts';
import { Button, ErrorText, Time } from '../../components/ui';
import { AlertStatusBadge, formatNumber, monitorPath, monitorRunPath, QueryView, SeverityBadge } from './format';
import { useAlertAction, useAlerts } from './queries';

const FILTERS: { id: Alert['status'] | 'all'; label: string }[] = [
  { id: 'open', label: 'Open' },
  { id: 'acknowledged', label: 'Acknowledged' },
  { id: 'resolved', label: 'Resolved' },
  { id: 'all', label: 'All' },
];

/** Alerts of the group (or of one monitor, or those `only` keeps), filtered by status, with acknowledge and resolve. */
export function AlertsPanel({
  monitor,
  only = () => true,
  mayAct,
  initial = 'open',
}: {
  monitor?: string;
  only?: (a: Alert) => boolean;
  mayAct: boolean;
  initial?: Alert['status'] | 'all';
}) {
  const [status, setStatus] = useState<Alert['status'] | 'all'>(initial);
  const alerts = useAlerts({ ...(status === 'all' ? {} : { status }), ...(monitor ? { monitor } : {}) });
  const act = useAlertAction();
  return (
    <div className="card table-card" data-testid="alerts-panel">
      <div className="card-head">
        <h3>Alerts</h3>
        <div className="segmented" role="group" aria-label="Alert status">
          {FILTERS.map((f) => (
            <button
              key={f.id}
              type="button"
              className={status === f.id ? 'active' : undefined}
              aria-pressed={status === f.id}
              onClick={() => setStatus(f.id)}
              data-testid={`alerts-filter-${f.id}`}
            >
              {f.label}
            </button>
          ))}
        </div>
      </div>
      {act.error ? (
        <div className="card-pad">
          <ErrorText error={act.error} testId="alert-action-error" />
        </div>
      ) : null}
      <QueryView
        query={alerts}
        testId="alerts"
        isEmpty={(page) => !page.items.some(only)}
        empty={status === 'open' ? 'No open alerts: every rule is within its threshold.' : 'No alerts with this status.'}
      >
        {(page) => (
          <div className="table-scroll">
            <table className="table" data-testid="alerts-table">
              <thead>
                <tr>
                  <th>Fired</th>
                  <th>Severity</th>
                  <th>Monitor</th>
                  <th>Rule</th>
                  <th>Metric</th>
                  <th className="num">Value</th>
                  <th>Status</th>
                  {mayAct && <th className="col-actions" />}
                </tr>
              </thead>
              <tbody>
                {page.items.filter(only).map((a) => (
                  <tr key={a.id} data-testid="alert-row" data-alert={a.id} data-metric={a.metric}>
                    <td>
                      <Link to={monitorRunPath(a.monitorId, a.runId)}>
                        <Time at={a.firedAt} />
                      </Link>
                    </td>
                    <td>
                      <SeverityBadge severity={a.severity} />
                    </td>
                    <td>
                      <Link to={monitorPath(a.monitorId)}>{a.monitorName}</Link>
                    </td>
                    <td>{a.ruleName}</td>
                    <td className="mono">{a.metric}</td>
                    <td className="num mono" title={`rule: ${a.operator} ${a.threshold}`}>
                      {formatNumber(a.value)} <span className="muted small">{`${a.operator} ${formatNumber(a.threshold)}`}</span>
                    </td>
                    <td title={a.resolution ?? a.note ?? undefined}>
                      <AlertStatusBadge status={a.status} />
                      {a.resolution && <div className="muted small">{a.resolution}</div>}
                    </td>
                    {mayAct && (
                      <td className="col-actions">
                        <span className="row-actions">
                          {a.status === 'open' && (
                            <Button
                              size="sm"
                              onClick={() => act.mutate({ id: a.id, action: 'acknowledge' })}
                              pending={act.isPending && act.variables?.id === a.id}
                              data-testid="alert-ack"
                            >
                              Acknowledge
                            </Button>
                          )}
                          {a.status !== 'resolved' && (
                            <Button
                              size="sm"
                              onClick={() => act.mutate({ id: a.id, action: 'resolve' })}
                              pending={act.isPending && act.variables?.id === a.id}
                              data-testid="alert-resolve"
                            >
                              Resolve
                            </Button>
                          )}
                        </span>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </div>
  );
}
