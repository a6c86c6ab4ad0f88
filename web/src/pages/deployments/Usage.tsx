import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { ForjaClient } from '@forja/client';
import { useClient, useSession } from '../../session';
import { Spinner, QueryError } from '../../components/ui';
import { QueryView } from '../monitoring/format';
import { useUsage } from '../monitoring/queries';
import { USAGE_WINDOWS, UsageCharts, type UsageWindow } from '../monitoring/UsageCharts';
import { deploymentKeys } from './format';

type Stats = Awaited<ReturnType<ForjaClient['deployments']['stats']>>;

const STATS_POLL_MS = 2000;
const TILES: { key: keyof Stats; label: string; help: string }[] = [
  { key: 'workers', label: 'Workers', help: 'Python worker processes running on this server' },
  { key: 'busy', label: 'Busy', help: 'Workers answering a call right now' },
  { key: 'queued', label: 'Queued', help: 'Requests waiting for a free worker' },
  { key: 'served', label: 'Served', help: 'Requests answered since the workers started' },
  { key: 'calls', label: 'Model calls', help: 'Calls to the model: fewer than requests when requests were batched' },
  { key: 'failed', label: 'Failed', help: 'Requests the model raised on, or whose worker crashed or timed out' },
  { key: 'restarts', label: 'Restarts', help: 'Workers replaced after a crash, a timeout or running out of memory' },
];

/**
 * The workers' live counters (read every 2 s while the tab is open), then every call's count,
 * latency percentiles and errors over time as the server recorded them from the first call on.
 */
export function UsagePanel({ id }: { id: string }) {
  const client = useClient();
  const { group } = useSession();
  const [span, setSpan] = useState<UsageWindow>('24h');
  const stats = useQuery({
    queryKey: deploymentKeys.stats(group, id),
    queryFn: () => client.deployments.stats(id),
    staleTime: 0,
    refetchInterval: STATS_POLL_MS,
  });
  const usage = useUsage(id, span);
  const now = stats.data;
  return (
    <section aria-label="Usage" data-testid="usage">
      {stats.isPending ? (
        <Spinner />
      ) : stats.isError ? (
        <QueryError query={stats} />
      ) : (
        <div className="stat-tiles" data-testid="usage-stats">
          {TILES.map((t) => (
            <div key={t.key} className={`stat-tile${t.key === 'failed' && (now?.failed ?? 0) > 0 ? ' is-bad' : ''}`} title={t.help}>
              <div className="stat-label">{t.label}</div>
              <div className="stat-value" data-testid={`stat-${t.key}`}>
                {now?.[t.key] ?? '—'}
              </div>
            </div>
          ))}
        </div>
      )}
      <div className="toolbar usage-toolbar">
        <h3 className="toolbar-title">History</h3>
        <div className="toolbar-spacer" />
        <div className="segmented" role="group" aria-label="Window">
          {USAGE_WINDOWS.map((w) => (
            <button
              key={w.id}
              type="button"
              className={span === w.id ? 'active' : undefined}
              aria-pressed={span === w.id}
              onClick={() => setSpan(w.id)}
              data-testid={`usage-window-${w.id}`}
            >
              {w.label}
            </button>
          ))}
        </div>
      </div>
      <QueryView
        query={usage}
        testId="usage-history"
        isEmpty={(u) => u.totals.calls === 0}
        empty="No calls in this window: calls made to the deployment are counted here, from the first on."
      >
        {(u) => <UsageCharts usage={u} />}
      </QueryView>
    </section>
  );
}
