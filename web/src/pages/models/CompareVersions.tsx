import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQueries } from '@tanstack/react-query';
import type { ModelVersion, Run } from '@forja/contracts';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { EmptyState, QueryError, Spinner, Time } from '../../components/ui';
import { TableHead } from '../../components/TableHead';
import { StatusBadge, Swatch } from '../tracking/format';
import { RunDiffTables, type DiffColumn } from '../tracking/DiffTable';
import { StageBadge } from './format';

const SIDES = ['a', 'b'] as const;

/** Two versions side by side through the runs they came from: parameters and latest metrics, differences marked. */
export function CompareVersions({ versions }: { versions: ModelVersion[] }) {
  const client = useClient();
  const [params, setParams] = useSearchParams();
  // Until chosen, the two newest versions: usually the candidate and the one it would replace.
  const [a, b] = SIDES.map((side, i) => versions.find((v) => v.version === params.get(side)) ?? versions[i]);
  const picked = [a, b];
  const pick = (side: (typeof SIDES)[number], version: string) => {
    const next = new URLSearchParams(params);
    next.set(side, version);
    setParams(next, { replace: true });
  };
  const runIds = picked.map((v) => v?.runId ?? null);
  const { runs, failed } = useQueries({
    queries: runIds.map((id) => ({ queryKey: keys.run(id ?? ''), queryFn: () => client.runs.get(id!), enabled: id !== null })),
    combine: (results) => ({ runs: results.map((r) => r.data), failed: results.find((r) => r.isError) }),
  });

  // Versions come from the versions query and runs from a structurally shared combine, so both keep their identity between renders.
  const columns = useMemo<DiffColumn[] | undefined>(() => {
    const withRuns = [a, b].map((v, i) => ({ v, run: runs[i] })).filter((c): c is { v: ModelVersion; run: Run } => c.v !== undefined && c.run !== undefined);
    if (withRuns.length < SIDES.length) return undefined;
    return withRuns.map(({ v, run }, i) => ({
      key: `${i}-${v.version}`,
      run,
      label: (
        <>
          <Swatch index={i} />
          Version {v.version}
        </>
      ),
    }));
  }, [a, b, runs]);

  if (versions.length < 2) {
    return (
      <div className="card">
        <EmptyState title="Nothing to compare yet">A model needs two versions to compare them.</EmptyState>
      </div>
    );
  }
  const noRun = picked.filter((v) => v && v.runId === null);
  return (
    <section aria-label="Compare versions" data-testid="compare-versions">
      <div className="toolbar">
        <div className="toolbar-title compare-pickers">
          {SIDES.map((side, i) => (
            <label key={side} className="compare-picker">
              <Swatch index={i} />
              <select
                aria-label={`Version ${side.toUpperCase()}`}
                className="select-sm"
                value={picked[i]?.version}
                onChange={(e) => pick(side, e.target.value)}
                data-testid={`compare-${side}`}
              >
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    Version {v.version} · {v.currentStage}
                  </option>
                ))}
              </select>
              {i === 0 && <span className="muted">vs</span>}
            </label>
          ))}
        </div>
      </div>
      <div className="card table-card">
        <table className="table" data-testid="compare-versions-table">
          <TableHead columns={['Version', 'Stage', 'Run', 'Created']} />
          <tbody>
            {picked.map((v, i) =>
              v ? (
                <tr key={SIDES[i]}>
                  <td className="cell-primary">
                    <Swatch index={i} />
                    Version {v.version}
                  </td>
                  <td>
                    <StageBadge stage={v.currentStage} />
                  </td>
                  <td>
                    {runs[i] ? (
                      <>
                        <Link to={`/runs/${encodeURIComponent(runs[i].info.runId)}`} className="cell-link">
                          {runs[i].info.runName}
                        </Link>{' '}
                        <StatusBadge status={runs[i].info.status} />
                      </>
                    ) : (
                      <span className="muted">{v.runId ?? 'not from a run'}</span>
                    )}
                  </td>
                  <td>
                    <Time at={v.creationTime} />
                  </td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </div>
      {failed && <QueryError query={failed} />}
      {noRun.length > 0 ? (
        <div className="card diff-card card-pad muted">
          Version {noRun.map((v) => v!.version).join(' and ')} was not registered from a run, so there are no parameters or metrics to compare.
        </div>
      ) : columns ? (
        <RunDiffTables columns={columns} />
      ) : (
        !failed && <Spinner label="Loading the runs…" />
      )}
    </section>
  );
}
