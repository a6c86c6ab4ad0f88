import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { ModelVersion } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { QueryError, Spinner, Time } from '../../components/ui';
import { ArrowRightIcon } from '../../components/icons';
import { StatusBadge } from '../tracking/format';
import { KeyValueCard, MetricsCard } from '../tracking/RunData';
import { StageBadge } from './format';

/** Where a version came from: version → run → experiment, and the run's parameters and latest metrics. */
export function Lineage({ version: v }: { version: ModelVersion }) {
  const client = useClient();
  const runId = v.runId;
  const run = useQuery({ queryKey: keys.run(runId ?? ''), queryFn: () => client.runs.get(runId!), enabled: runId !== null });
  const experimentId = run.data?.info.experimentId;
  const experiment = useQuery({
    queryKey: keys.experiment(experimentId ?? ''),
    queryFn: () => client.experiments.get(experimentId!),
    enabled: experimentId !== undefined,
  });
  const info = run.data?.info;

  return (
    <section className="lineage" aria-label={`Lineage of version ${v.version}`} data-testid="lineage" data-version={v.version}>
      <div className="card">
        <div className="card-head">
          <h3>Lineage of version {v.version}</h3>
        </div>
        <div className="card-pad">
          <ol className="lineage-chain">
            <LineageNode kind="Model version" testId="lineage-version">
              <span className="cell-primary">
                {v.name} v{v.version}
              </span>{' '}
              <StageBadge stage={v.currentStage} />
              <div className="cell-secondary">
                registered <Time at={v.creationTime} />
              </div>
            </LineageNode>
            <LineageNode kind="Run" testId="lineage-run" arrow>
              {runId === null ? (
                <span className="muted">not registered from a run</span>
              ) : info ? (
                <>
                  <Link to={`/runs/${encodeURIComponent(info.runId)}`} className="cell-link">
                    {info.runName}
                  </Link>{' '}
                  <StatusBadge status={info.status} />
                  <div className="cell-secondary mono">{info.runId}</div>
                </>
              ) : run.isError ? (
                <span className="mono">{runId}</span>
              ) : (
                <span className="spinner spinner-muted" aria-label="Loading the run" />
              )}
            </LineageNode>
            <LineageNode kind="Experiment" testId="lineage-experiment" arrow>
              {experimentId === undefined ? (
                <span className="muted">—</span>
              ) : (
                <>
                  <Link to={`/experiments/${encodeURIComponent(experimentId)}`} className="cell-link">
                    {experiment.data?.name ?? experimentId}
                  </Link>
                  <div className="cell-secondary">ID {experimentId}</div>
                </>
              )}
            </LineageNode>
          </ol>
          <dl className="kv lineage-sources">
            <dt>Source</dt>
            <dd className="mono break">{v.source}</dd>
            <dt>Storage location</dt>
            <dd className="mono break">{v.storageLocation}</dd>
            {v.modelId && (
              <>
                <dt>Logged model</dt>
                <dd className="mono">{v.modelId}</dd>
              </>
            )}
          </dl>
          {run.isError ? <QueryError query={run} /> : experiment.isError && <QueryError query={experiment} />}
        </div>
      </div>
      {runId !== null &&
        (run.data ? (
          <div className="detail-grid">
            <KeyValueCard title="Parameters" items={run.data.data.params} testId="lineage-params" empty="The run logged no parameters." mono />
            <MetricsCard runId={run.data.info.runId} metrics={run.data.data.metrics} />
          </div>
        ) : (
          run.isPending && <Spinner label="Loading the run…" />
        ))}
    </section>
  );
}

function LineageNode({ kind, testId, arrow, children }: { kind: string; testId: string; arrow?: boolean; children: ReactNode }) {
  return (
    <li className="lineage-step">
      {arrow && <ArrowRightIcon className="lineage-arrow" size={16} />}
      <div className="lineage-node" data-testid={testId}>
        <div className="lineage-kind">{kind}</div>
        {children}
      </div>
    </li>
  );
}
