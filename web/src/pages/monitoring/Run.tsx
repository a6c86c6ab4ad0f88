import { Link, useParams } from 'react-router';
import { BackLink, Button, ErrorText, LoadFailed, Spinner, Time } from '../../components/ui';
import { DownloadIcon } from '../../components/icons';
import { jobPath } from '../jobs/format';
import { isRunActive, MONITORING, monitorPath, RunStatusBadge } from './format';
import { useDownloadReport, useMonitor, useRun } from './queries';
import { RunDetails } from './RunDetails';
import './monitoring.css';
import { usePageTitle } from '../../usePageTitle';

/** One run of a monitor: its window, every column's drift with the distributions side by side, performance, SHAP, and the report export. */
export function MonitorRunPage() {
  const { id = '', runId = '' } = useParams();
  const monitor = useMonitor(id);
  const run = useRun(id, runId);
  const report = useDownloadReport();
  const back = monitor.data ? { to: monitorPath(id), label: monitor.data.name } : MONITORING;

  usePageTitle('Run', monitor.data?.name, 'Monitoring');
  if (run.isPending) return <Spinner />;
  if (run.isError) return <LoadFailed title="This run cannot be shown" query={run} back={back} />;
  const r = run.data;
  return (
    <div className="page page-wide" data-testid="monitor-run-page">
      <BackLink to={back.to}>{back.label}</BackLink>
      <header className="detail-header">
        <div>
          <h1 className="detail-title">
            Run of <Time at={r.windowStart} /> – <Time at={r.windowEnd} /> <RunStatusBadge status={r.status} />
          </h1>
          <div className="detail-meta muted">
            <span className="mono">{r.id}</span>
            <span>{r.trigger === 'manual' ? 'run on demand' : 'scheduled'}</span>
            {r.finishedAt && (
              <span>
                finished <Time at={r.finishedAt} />
              </span>
            )}
            {r.jobId && (
              <Link to={jobPath(r.jobId)}>
                job <span className="mono">{r.jobId}</span>
              </Link>
            )}
          </div>
        </div>
        <div className="page-actions">
          <Button
            onClick={() => report.mutate({ id, runId, name: monitor.data?.name ?? 'monitor' })}
            pending={report.isPending}
            disabled={isRunActive(r.status)}
            data-testid="download-report"
            title="A single HTML file with the charts inline, to share or archive"
          >
            <DownloadIcon size={14} /> HTML report
          </Button>
        </div>
      </header>
      <ErrorText error={report.error} testId="report-error" />
      {r.error && (
        <div className="callout callout-warning" data-testid="run-error">
          {r.error}
        </div>
      )}
      {r.problems.map((p) => (
        <div key={p.part} className="callout callout-info" data-testid="run-problem">
          <strong>{p.part}:</strong> {p.message}
        </div>
      ))}
      {isRunActive(r.status) ? <Spinner label="The run is computing…" /> : <RunDetails run={r} />}
    </div>
  );
}
