import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { ForjaClient } from '@forja/client';
import { useClient, useSession } from '../../session';
import { ErrorText, Spinner } from '../../components/ui';
import { formatMetric } from '../tracking/format';
import { deploymentKeys } from './format';
import { LiveChart, type Points } from './LiveChart';
import { formatMs, type PredictCall } from './TestPanel';

type Stats = Awaited<ReturnType<ForjaClient['deployments']['stats']>>;
export type StatsSample = Stats & { t: number };

const STATS_POLL_MS = 2000;
/** Ten minutes of samples at one every 2 s. */
const KEPT_SAMPLES = 300;

/**
 * Polls the deployment's stats while `enabled` (the Usage tab is open) and keeps the samples in
 * the page, so the charts survive a look at another tab.
 */
export function useStatsHistory(id: string, enabled: boolean) {
  const client = useClient();
  const { group } = useSession();
  const stats = useQuery({
    queryKey: deploymentKeys.stats(group, id),
    queryFn: () => client.deployments.stats(id),
    enabled,
    staleTime: 0,
    refetchInterval: enabled ? STATS_POLL_MS : false,
  });
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const { data, dataUpdatedAt } = stats;
  useEffect(() => {
    if (!data || !dataUpdatedAt) return;
    setSamples((prev) => (prev.length > 0 && prev[prev.length - 1]!.t >= dataUpdatedAt ? prev : [...prev, { ...data, t: dataUpdatedAt }].slice(-KEPT_SAMPLES)));
  }, [data, dataUpdatedAt]);
  return { stats, samples };
}

/**
 * Per-second rate of a counter between consecutive samples. The counters are the workers' since
 * they started, so a drop means they restarted (disable, rebuild): the new count is all since then.
 */
export function rateOf(samples: StatsSample[], key: 'served' | 'failed'): Points {
  const out: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const seconds = (b.t - a.t) / 1000;
    if (seconds <= 0) continue;
    const delta = b[key] >= a[key] ? b[key] - a[key] : b[key];
    out.push([b.t, delta / seconds]);
  }
  return out;
}

const TILES: { key: keyof Stats; label: string; help: string }[] = [
  { key: 'workers', label: 'Workers', help: 'Python worker processes running on this server' },
  { key: 'busy', label: 'Busy', help: 'Workers answering a call right now' },
  { key: 'queued', label: 'Queued', help: 'Requests waiting for a free worker' },
  { key: 'served', label: 'Served', help: 'Requests answered since the workers started' },
  { key: 'calls', label: 'Model calls', help: 'Calls to the model: fewer than requests when requests were batched' },
  { key: 'failed', label: 'Failed', help: 'Requests the model raised on, or whose worker crashed or timed out' },
  { key: 'restarts', label: 'Restarts', help: 'Workers replaced after a crash, a timeout or running out of memory' },
];

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const perSecond = (v: number | undefined) => (v === undefined ? '—' : `${formatMetric(Number(v.toFixed(2)))}/s`);

/** The workers' counters, live, with charts of requests/s, errors/s and the latency of the Test tab's calls. */
export function UsagePanel({ stats, samples, calls }: { stats: ReturnType<typeof useStatsHistory>['stats']; samples: StatsSample[]; calls: PredictCall[] }) {
  const requests = useMemo(() => rateOf(samples, 'served'), [samples]);
  const errors = useMemo(() => rateOf(samples, 'failed'), [samples]);
  const latency = useMemo<Points>(() => calls.filter((c) => c.status !== undefined).map((c) => [c.at, c.ms] as const), [calls]);
  const now = stats.data;
  const lastLatency = latency[latency.length - 1]?.[1];

  return (
    <section aria-label="Usage" data-testid="usage">
      {stats.isPending ? (
        <Spinner />
      ) : stats.isError ? (
        <ErrorText error={stats.error} />
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
      <p className="section-note usage-note muted small">
        The counters of this server’s workers since they started, read every {STATS_POLL_MS / 1000} s while this tab is open
        {stats.dataUpdatedAt ? <> (last at {clock.format(new Date(stats.dataUpdatedAt))})</> : null}. Rates are the change between two reads.
      </p>
      <div className="usage-charts">
        <ChartCard title="Requests/s" latest={perSecond(requests[requests.length - 1]?.[1])} testId="chart-requests">
          <LiveChart points={requests} color="#4f46e5" unit="requests/s" testId="requests-chart" empty="Collecting samples…" />
        </ChartCard>
        <ChartCard title="Errors/s" latest={perSecond(errors[errors.length - 1]?.[1])} testId="chart-errors">
          <LiveChart points={errors} color="#dc2626" unit="errors/s" testId="errors-chart" empty="Collecting samples…" />
        </ChartCard>
        <ChartCard title="Latency" latest={lastLatency === undefined ? '—' : formatMs(lastLatency)} note="of the Test tab’s calls" testId="chart-latency">
          <LiveChart points={latency} color="#059669" unit="ms" testId="latency-chart" empty="Make two calls in the Test tab to chart their latency" />
        </ChartCard>
      </div>
    </section>
  );
}

function ChartCard({ title, latest, note, testId, children }: { title: string; latest: string; note?: string; testId: string; children: ReactNode }) {
  return (
    <div className="card chart-card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        {note && <span className="muted small">{note}</span>}
        <div className="toolbar-spacer" />
        <span className="muted small mono" data-testid={`${testId}-latest`}>
          {latest}
        </span>
      </div>
      <div className="chart-body">{children}</div>
    </div>
  );
}
