import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Deployment, Monitor } from '@forja/contracts';
import { Badge, CreateButton, Spinner } from '../../components/ui';
import { AlertsPanel } from './Alerts';
import { CreateMonitorDialog } from './CreateMonitorDialog';
import { DistributionChart } from './DistributionChart';
import { DriftBadge, formatShare, monitorPath, monitorRunPath, Panel } from './format';
import { MonitorsTable } from './Monitors';
import { useMonitors, useRun } from './queries';
import './monitoring.css';

/**
 * A deployment's Monitoring tab: whether its calls are logged, its monitors with their latest
 * drift, and the alerts they raised.
 */
export function DeploymentMonitoring({ deployment: d, mayEdit }: { deployment: Deployment; mayEdit: boolean }) {
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const monitors = useMonitors();
  const mine = (monitors.data ?? []).filter((m) => m.deploymentId === d.id);
  const ids = new Set(mine.map((m) => m.id));
  const log = d.settings.inferenceLog;
  return (
    <section aria-label="Monitoring" data-testid="deployment-monitoring">
      <div className={`callout ${log.sampleRate > 0 ? 'callout-info' : 'callout-warning'} monitor-log-note`} data-testid="inference-log-note">
        {log.sampleRate > 0 ? (
          <>
            Logging {log.sampleRate} % of calls (inputs, outputs, latency, request id){log.retentionDays > 0 ? `, kept ${log.retentionDays} days` : ''}:
            monitors compare them with their reference.
          </>
        ) : (
          <>Calls are counted but not logged: set an inference log sample rate in Settings so monitors have rows to compare.</>
        )}
      </div>
      <div className="toolbar">
        <h3 className="toolbar-title">Monitors</h3>
        <div className="toolbar-spacer" />
        {mayEdit && (
          <CreateButton onClick={() => setCreating(true)} testId="new-deployment-monitor">
            New monitor
          </CreateButton>
        )}
      </div>
      <MonitorsTable deploymentId={d.id} onCreate={mayEdit ? () => setCreating(true) : undefined} />
      <div className="chart-grid monitor-latest">
        {mine
          .filter((m) => m.lastRun)
          .map((m) => (
            <LatestRun key={m.id} monitor={m} />
          ))}
      </div>
      {mine.length > 0 && <AlertsPanel mayAct={mayEdit} only={(a) => ids.has(a.monitorId)} />}
      {mayEdit && <CreateMonitorDialog open={creating} deploymentId={d.id} onClose={() => setCreating(false)} onCreated={(m) => navigate(monitorPath(m.id))} />}
    </section>
  );
}

/** The monitor's latest run in a few words: how many columns drifted, and which. */
function LatestRun({ monitor: m }: { monitor: Monitor }) {
  const run = useRun(m.id, m.lastRun!.id);
  const drifted = run.data?.drift?.columns.filter((c) => c.drifted) ?? [];
  return (
    <Panel
      title={m.name}
      note="latest run"
      aside={
        <Link to={monitorRunPath(m.id, m.lastRun!.id)} className="small">
          Open run
        </Link>
      }
      testId="latest-run"
    >
      {run.isPending ? (
        <Spinner />
      ) : !run.data?.drift ? (
        <p className="muted">{run.data?.error ?? run.error?.message ?? 'No drift in this run.'}</p>
      ) : (
        <div className="latest-run">
          <p>
            <DriftBadge drifted={run.data.drift.datasetDrift} /> {run.data.drift.driftedColumns} of {run.data.drift.columns.length} columns drifted (
            {formatShare(run.data.drift.driftShare)})
          </p>
          <div className="tag-list">
            {drifted.map((c) => (
              <Badge key={c.column} tone="red">
                {c.column}
              </Badge>
            ))}
          </div>
          {/* The most drifted columns' distributions, the rest on the run's page. */}
          <div className="latest-run-charts">
            {drifted
              .filter((c) => c.distribution)
              .slice(0, 2)
              .map((c) => (
                <figure key={c.column} className="latest-run-chart">
                  <figcaption className="mono small">{c.column}</figcaption>
                  <DistributionChart distribution={c.distribution!} drifted testId={`latest-dist-${c.column}`} />
                </figure>
              ))}
          </div>
        </div>
      )}
    </Panel>
  );
}
