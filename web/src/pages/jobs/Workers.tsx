import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Worker } from '@forja/contracts';
import { useClient } from '../../session';
import { Badge, EmptyState, Time, relativeTime } from '../../components/ui';
import { ClockIcon } from '../../components/icons';
import { TableCard } from '../../components/TableCard';
import { TableHead } from '../../components/TableHead';
import './jobs.css';
import { jobKeys, jobPath } from './format';
import { usePageTitle } from '../../usePageTitle';

const REFRESH_MS = 3000;

export function WorkersPage() {
  const client = useClient();
  const workers = useQuery({ queryKey: jobKeys.workers, queryFn: () => client.jobs.workers(), refetchInterval: REFRESH_MS });
  const list = workers.data ?? [];
  const alive = list.filter((w) => w.alive);

  usePageTitle('Workers', 'Jobs');
  return (
    <section aria-label="Workers">
      <p className="section-note muted">
        Processes that run jobs: the server's embedded worker and any <code>forja worker</code>, seen in the last day.
        {workers.isSuccess && (
          <>
            {' '}
            <span data-testid="workers-summary">
              {alive.length} alive, {alive.reduce((n, w) => n + w.running.length, 0)} of {alive.reduce((n, w) => n + w.concurrency, 0)} slots busy.
            </span>
          </>
        )}
      </p>
      <TableCard
        query={workers}
        empty={
          list.length === 0 && (
            <EmptyState icon={<ClockIcon size={26} />} title="No workers">
              No process has run jobs in the last day. Start the server with <code>FORJA_WORKERS</code> above 0, or run <code>forja worker</code>.
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="workers-table">
          <TableHead columns={['Worker', 'Host', 'Mode', 'State', 'Slots', 'Running', 'Started', 'Last seen']} />
          <tbody>
            {list.map((w) => (
              <WorkerRow key={w.id} worker={w} />
            ))}
          </tbody>
        </table>
      </TableCard>
    </section>
  );
}

function WorkerRow({ worker: w }: { worker: Worker }) {
  const used = w.running.length;
  return (
    <tr data-testid={`worker-row-${w.id}`} data-alive={w.alive} className={w.alive ? undefined : 'row-muted'}>
      <td>
        <span className="mono cell-primary">{w.id}</span>
        <div className="cell-secondary">v{w.version}</div>
      </td>
      <td>
        <span className="mono">{w.host}</span>
        <div className="cell-secondary">pid {w.pid}</div>
      </td>
      <td>
        <Badge tone={w.mode === 'embedded' ? 'neutral' : 'blue'}>{w.mode}</Badge>
      </td>
      <td className="nowrap" data-testid="worker-state">
        <span className={`alive-dot${w.alive ? ' alive' : ''}`} aria-hidden="true" />
        {w.alive ? 'alive' : w.stoppedAt ? 'stopped' : 'not responding'}
      </td>
      <td>
        <span className="slots" title={`${used} of ${w.concurrency} job slots busy`}>
          <span className="slots-bar" aria-hidden="true">
            <span className="slots-fill" style={{ display: 'block', width: `${w.concurrency ? Math.min(100, (used / w.concurrency) * 100) : 0}%` }} />
          </span>
          <span className="num" data-testid="worker-slots">
            {used}/{w.concurrency}
          </span>
        </span>
      </td>
      <td>
        {used === 0 ? (
          <span className="muted">idle</span>
        ) : (
          <div className="job-links">
            {w.running.map((id) => (
              <Link key={id} to={jobPath(id)} className="mono small">
                {id}
              </Link>
            ))}
          </div>
        )}
      </td>
      <td>
        <Time at={w.startedAt} />
      </td>
      <td className="nowrap">
        <span title={new Date(w.lastSeenAt).toISOString()}>{w.stoppedAt ? <>stopped {relativeTime(w.stoppedAt)}</> : relativeTime(w.lastSeenAt)}</span>
      </td>
    </tr>
  );
}
