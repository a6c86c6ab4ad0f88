import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type { Alert, MonitorRun } from '@forja/contracts';
import { Badge, QueryError, Spinner, type Tone } from '../../components/ui';
import { formatMetric } from '../tracking/format';

/** Query keys of the monitoring pages. Monitors and alerts belong to a group, so every key starts with it; ['monitoring'] refreshes them all. */
export const monitoringKeys = {
  monitors: (group: string | undefined) => ['monitoring', group ?? '', 'monitors'] as const,
  monitor: (group: string | undefined, id: string) => ['monitoring', group ?? '', 'monitor', id] as const,
  runs: (group: string | undefined, id: string) => ['monitoring', group ?? '', 'monitor', id, 'runs'] as const,
  run: (group: string | undefined, id: string, runId: string) => ['monitoring', group ?? '', 'monitor', id, 'run', runId] as const,
  series: (group: string | undefined, id: string, names: readonly string[]) => ['monitoring', group ?? '', 'monitor', id, 'series', names] as const,
  rules: (group: string | undefined, id: string) => ['monitoring', group ?? '', 'monitor', id, 'rules'] as const,
  alerts: (group: string | undefined, filter: object) => ['monitoring', group ?? '', 'alerts', filter] as const,
  usage: (group: string | undefined, deploymentId: string, window: object) => ['monitoring', group ?? '', 'usage', deploymentId, window] as const,
};

export const MONITORING = { to: '/monitoring', label: 'Monitoring' };
export const monitorPath = (id: string) => `/monitoring/monitors/${encodeURIComponent(id)}`;
export const monitorRunPath = (id: string, runId: string) => `${monitorPath(id)}/runs/${encodeURIComponent(runId)}`;

export const formatNumber = (v: number | null | undefined) => formatMetric(v ?? null);
export const formatShare = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${formatMetric(Number((v * 100).toFixed(1)))} %`);

const runTone: Record<MonitorRun['status'], Tone> = { queued: 'neutral', running: 'blue', succeeded: 'green', failed: 'red' };
/** A run's status; a monitor's `lastRun.status` arrives as a plain string, hence the fallback tone. */
export function RunStatusBadge({ status }: { status: string }) {
  return (
    <span data-testid="run-status" data-status={status}>
      <Badge tone={runTone[status as MonitorRun['status']] ?? 'neutral'}>
        {status === 'running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {status}
      </Badge>
    </span>
  );
}
export const isRunActive = (status: MonitorRun['status']) => status === 'queued' || status === 'running';

/** Drifted or stable; nothing when the run computed no drift. */
export function DriftBadge({ drifted }: { drifted: boolean | null | undefined }) {
  if (drifted === null || drifted === undefined) return <span className="muted">—</span>;
  return drifted ? <Badge tone="red">drifted</Badge> : <Badge tone="green">stable</Badge>;
}

const severityTone: Record<Alert['severity'], Tone> = { info: 'blue', warning: 'amber', critical: 'red' };
export const SeverityBadge = ({ severity }: { severity: Alert['severity'] }) => <Badge tone={severityTone[severity]}>{severity}</Badge>;
const alertTone: Record<Alert['status'], Tone> = { open: 'red', acknowledged: 'amber', resolved: 'muted' };
export const AlertStatusBadge = ({ status }: { status: Alert['status'] }) => (
  <span data-testid="alert-status" data-status={status}>
    <Badge tone={alertTone[status]}>{status}</Badge>
  </span>
);

/**
 * The three states every data view has besides its data: loading, failed (with the server's
 * reason and a retry), and empty. `isEmpty` decides the last; the children render the rest.
 */
export function QueryView<T>({
  query,
  isEmpty,
  empty,
  testId,
  children,
}: {
  query: UseQueryResult<T>;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  testId: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Spinner />;
  if (query.isError)
    return (
      <div className="monitor-failed" data-testid={`${testId}-error`}>
        <QueryError query={query} />
      </div>
    );
  if (isEmpty?.(query.data))
    return (
      <div className="chart-empty monitor-empty" data-testid={`${testId}-empty`}>
        {empty}
      </div>
    );
  return <>{children(query.data)}</>;
}

/** A card with a title, an optional note and figure on the right, around a chart or a table. */
export function Panel({
  title,
  note,
  aside,
  testId,
  children,
}: {
  title: ReactNode;
  note?: ReactNode;
  aside?: ReactNode;
  testId: string;
  children: ReactNode;
}) {
  return (
    <div className="card chart-card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        {note && <span className="muted small">{note}</span>}
        <div className="toolbar-spacer" />
        {aside}
      </div>
      <div className="chart-body">{children}</div>
    </div>
  );
}

/** A labelled figure among the tiles above a view; red when it is bad news. */
export function StatTile({ label, value, bad, testId }: { label: string; value: string; bad?: boolean; testId: string }) {
  return (
    <div className={`stat-tile${bad ? ' is-bad' : ''}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}
