import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { SystemOverview } from '@forja/contracts';
import { useClient } from '../../session';
import { useAbilities } from '../../hooks';
import { Badge, Button, EmptyCard, QueryError, Spinner, Time } from '../../components/ui';
import { formatBytes, formatDuration } from '../tracking/format';
import './system.css';
import { usePageTitle } from '../../usePageTitle';

/** Below this share of the disk free, the disk tile turns red. */
const LOW_DISK = 0.1;

const sandboxText: Record<SystemOverview['sandbox']['mode'], string> = {
  bwrap: 'sandboxed (bubblewrap)',
  off: 'not sandboxed (turned off)',
  unavailable: 'refused: no sandbox available',
};

export function SystemPage() {
  const client = useClient();
  const can = useAbilities();
  // Every read measures afresh (the artifact store is walked), so it is read on demand, not polled.
  const system = useQuery({ queryKey: ['admin', 'system'], queryFn: () => client.systemOverview(), enabled: can.isAdmin, refetchOnWindowFocus: false });

  usePageTitle('System', 'Admin');
  if (!can.isAdmin) return <EmptyCard title="The system page is for system administrators">It shows the server's storage, queue and workers.</EmptyCard>;

  return (
    <section aria-label="System" data-testid="system-page">
      <div className="toolbar system-toolbar">
        <p className="section-note muted grow">
          {system.data ? (
            <>
              Measured <Time at={system.data.measuredAt} />.
            </>
          ) : (
            'This server, its storage, its job queue and its workers.'
          )}
        </p>
        <Button onClick={() => void system.refetch()} pending={system.isFetching} data-testid="system-refresh">
          {system.isFetching ? 'Measuring…' : 'Refresh'}
        </Button>
      </div>
      {system.isPending ? <Spinner label="Measuring…" /> : system.isError ? <QueryError query={system} testId="system-error" /> : <Overview o={system.data} />}
    </section>
  );
}

function Overview({ o }: { o: SystemOverview }) {
  const freeShare = o.disk.totalBytes > 0 ? o.disk.freeBytes / o.disk.totalBytes : 1;
  return (
    <div className="system-grid">
      <Panel title="Server">
        <Item label="Forja version" testId="system-version">
          {o.version}
        </Item>
        <Item label="Node.js">{o.node}</Item>
        <Item label="Uptime" testId="system-uptime">
          {formatDuration(o.uptimeSeconds * 1000)}{' '}
          <span className="muted">
            (since <Time at={o.startedAt} />)
          </span>
        </Item>
        <Item label="User code" testId="system-sandbox">
          <Badge tone={o.sandbox.mode === 'bwrap' ? 'green' : 'red'}>{o.sandbox.mode}</Badge> {sandboxText[o.sandbox.mode]}
          {o.sandbox.reason && <div className="muted small">{o.sandbox.reason}</div>}
        </Item>
      </Panel>
      <Panel title="Storage">
        <Item label={`Database (${o.database.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'})`} testId="system-database">
          <Bytes n={o.database.sizeBytes} />
        </Item>
        <Item label={`Lake (${o.lake.engine === 'postgres' ? 'PostgreSQL' : 'DuckDB'})`} testId="system-lake">
          <Bytes n={o.lake.sizeBytes} />
        </Item>
        <Item label="Artifact store" testId="system-artifacts">
          <Bytes n={o.artifacts.bytes} />
          {!o.artifacts.complete && ' or more'} <span className="muted">in {o.artifacts.files.toLocaleString()} files</span>
          {!o.artifacts.complete && <div className="muted small">Counting stopped after a time limit; the store is larger.</div>}
        </Item>
        <Item label="Disk" testId="system-disk">
          <Bytes n={o.disk.freeBytes} /> free of <Bytes n={o.disk.totalBytes} />
          <meter
            className="system-meter"
            min={0}
            max={1}
            low={LOW_DISK}
            optimum={1}
            value={freeShare}
            aria-label={`Disk free: ${Math.round(freeShare * 100)}%`}
          />
          <div className={`small ${freeShare < LOW_DISK ? 'system-bad' : 'muted'}`}>
            <span className="mono">{o.disk.path}</span>
          </div>
        </Item>
      </Panel>
      <Panel title="Job queue" action={<Link to="/jobs">Jobs</Link>} note="Counts across every group; the jobs page lists the current group's.">
        <Item label="Queued" testId="system-queued">
          {o.jobs.queued}
        </Item>
        <Item label="Running" testId="system-running">
          {o.jobs.running}
        </Item>
        <Item label="Failed in the last 24 h" testId="system-failed">
          <span className={o.jobs.failedLastDay > 0 ? 'system-bad' : undefined}>{o.jobs.failedLastDay}</span>
        </Item>
      </Panel>
      <Panel title="Workers" action={<Link to="/workers">Workers</Link>}>
        <Item label="Alive" testId="system-workers">
          {o.workers.alive} <span className="muted">of {o.workers.seen} seen in the last day</span>
        </Item>
        <Item label="Slots busy" testId="system-slots">
          {o.workers.busy} <span className="muted">of {o.workers.slots}</span>
        </Item>
      </Panel>
    </div>
  );
}

function Panel({ title, action, note, children }: { title: string; action?: ReactNode; note?: string; children: ReactNode }) {
  const id = `system-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section className="card card-pad system-panel" aria-labelledby={id}>
      <div className="system-panel-head">
        <h2 id={id}>{title}</h2>
        {action}
      </div>
      <dl className="kv">{children}</dl>
      {note && <p className="muted small system-note">{note}</p>}
    </section>
  );
}

function Item({ label, testId, children }: { label: string; testId?: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </>
  );
}

/** A size a person reads (12.3 MB), with the exact bytes on hover. */
function Bytes({ n }: { n: number }) {
  return <span title={`${n.toLocaleString()} bytes`}>{formatBytes(n)}</span>;
}
