import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Metric, ModelVersion } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys } from '../../hooks';
import { ErrorText, Spinner } from '../../components/ui';
import { num, TableHead } from '../../components/TableHead';
import { formatMetric, numericValue } from '../tracking/format';
import { judgeChange } from './metricDirection';
import { modelPath } from './format';

const CHANGE_TEXT = { better: 'better', worse: 'worse', same: 'same' } as const;

/**
 * What an approver weighs: the metrics of the run a version came from next to those of the
 * version now in Production, with the difference, better or worse marked where the name says
 * which way is better (loss down, accuracy up).
 */
export function MetricChange({ model, version }: { model: string; version: string }) {
  const client = useClient();
  const { group } = useSession();
  const candidate = useQuery({
    queryKey: [...keys.modelVersions(group, model), version],
    queryFn: () => client.models.getVersion(model, version),
  });
  const production = useQuery({
    queryKey: [...keys.model(group, model), 'latest', 'Production'],
    queryFn: () => client.models.latest(model, ['Production']),
  });
  const current = production.data?.find((v) => v.version !== version);
  const candidateRun = useRunMetrics(candidate.data);
  const currentRun = useRunMetrics(current);

  const error = candidate.error ?? production.error ?? candidateRun.error ?? currentRun.error;
  if (error) return <ErrorText error={error} />;
  if (candidate.isPending || production.isPending || candidateRun.isLoading || currentRun.isLoading) return <Spinner label="Loading the metrics…" />;
  const mine = candidateRun.data;
  const theirs = currentRun.data;

  return (
    <div className="metric-change" data-testid="metric-change" data-against={current?.version ?? ''}>
      {current === undefined ? (
        <p className="muted small" data-testid="no-production">
          No Production version yet: nothing to compare against.
        </p>
      ) : (
        <p className="muted small">
          Against <Link to={`${modelPath(model)}?version=${encodeURIComponent(current.version)}`}>version {current.version}</Link>, in Production now
          {theirs === null && ', which was not registered from a run'}.
        </p>
      )}
      {mine === null ? (
        <p className="muted small">Version {version} was not registered from a run: it has no metrics to show.</p>
      ) : mine && mine.length === 0 && !theirs?.length ? (
        <p className="muted small">Neither run logged metrics.</p>
      ) : (
        <MetricTable version={version} mine={mine ?? []} theirs={current && theirs ? { version: current.version, metrics: theirs } : null} />
      )}
    </div>
  );
}

/** The latest metrics of the run a version came from; null when it came from no run. */
function useRunMetrics(v: ModelVersion | undefined) {
  const client = useClient();
  const runId = v?.runId ?? null;
  const run = useQuery({ queryKey: keys.run(runId ?? ''), queryFn: () => client.runs.get(runId!), enabled: runId !== null });
  return {
    data: v === undefined ? undefined : runId === null ? null : run.data?.data.metrics,
    error: run.error,
    isLoading: runId !== null && run.isPending,
  };
}

function MetricTable({ version, mine, theirs }: { version: string; mine: Metric[]; theirs: { version: string; metrics: Metric[] } | null }) {
  const byKey = new Map(theirs?.metrics.map((m) => [m.key, m]));
  const keysInOrder = [...new Set([...mine.map((m) => m.key), ...(theirs?.metrics.map((m) => m.key) ?? [])])].sort();
  const mineByKey = new Map(mine.map((m) => [m.key, m]));
  return (
    <div className="table-scroll">
      <table className="table metric-change-table">
        <TableHead columns={['Metric', num(`Version ${version}`), ...(theirs ? [num(`Production (v${theirs.version})`), num('Change')] : [])]} />
        <tbody>
          {keysInOrder.map((key) => {
            const a = mineByKey.get(key);
            const b = byKey.get(key);
            const av = a ? numericValue(a.value) : null;
            const bv = b ? numericValue(b.value) : null;
            const judged = av !== null && bv !== null ? judgeChange(key, bv, av) : null;
            return (
              <tr key={key} data-testid="metric-change-row" data-key={key} data-judged={judged ?? ''}>
                <td className="mono">{key}</td>
                <td className="num">{a ? formatMetric(a.value) : <span className="muted">—</span>}</td>
                {theirs && (
                  <>
                    <td className="num">{b ? formatMetric(b.value) : <span className="muted">—</span>}</td>
                    <td className={`num change${judged ? ` change-${judged}` : ''}`}>
                      {av !== null && bv !== null ? <Delta before={bv} after={av} judged={judged} /> : <span className="muted">—</span>}
                    </td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Delta({ before, after, judged }: { before: number; after: number; judged: ReturnType<typeof judgeChange> }) {
  const diff = after - before;
  const sign = diff > 0 ? '+' : diff < 0 ? '−' : '±';
  const pct = before !== 0 ? ` (${sign}${Math.abs((diff / Math.abs(before)) * 100).toFixed(1)}%)` : '';
  return (
    <span title={judged ? `${CHANGE_TEXT[judged]} than Production` : 'Which way is better is not known for this metric'}>
      {sign}
      {formatMetric(Math.abs(diff))}
      {pct}
      {judged && judged !== 'same' && <span className="change-word"> {judged === 'better' ? '▲ better' : '▼ worse'}</span>}
    </span>
  );
}
