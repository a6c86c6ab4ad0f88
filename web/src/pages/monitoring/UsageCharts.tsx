import { useMemo } from 'react';
import type { UsageSeries } from '@forja/contracts';
import { Time } from '../../components/ui';
import { formatMs } from '../deployments/TestPanel';
import { formatNumber, formatShare, Panel, StatTile } from './format';
import { TimeChart, type TimeSeries } from './TimeChart';
import './monitoring.css';

export const USAGE_WINDOWS = [
  { id: '1h', label: '1 hour', ms: 3_600_000 },
  { id: '24h', label: '24 hours', ms: 86_400_000 },
  { id: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: '30 days', ms: 30 * 86_400_000 },
] as const;
export type UsageWindow = (typeof USAGE_WINDOWS)[number]['id'];

const latencyColors = { p50: '#059669', p95: '#d97706', p99: '#dc2626' } as const;

/** Calls, errors, latency percentiles and error rate per bucket, as the server counted them for every call. */
export function UsageCharts({ usage }: { usage: UsageSeries }) {
  const { points, totals, step } = usage;
  const calls = useMemo<TimeSeries[]>(
    () => [
      { label: 'calls', color: '#4f46e5', points: points.map((p) => [p.t, p.calls] as const) },
      { label: 'errors', color: '#dc2626', points: points.map((p) => [p.t, p.errors] as const) },
    ],
    [points],
  );
  const latency = useMemo<TimeSeries[]>(
    () => (['p50', 'p95', 'p99'] as const).map((k) => ({ label: k, color: latencyColors[k], points: points.map((p) => [p.t, p[k]] as const) })),
    [points],
  );
  const errorRate = useMemo<TimeSeries[]>(
    () => [{ label: 'error rate', color: '#dc2626', points: points.map((p) => [p.t, p.calls > 0 ? (100 * p.errors) / p.calls : null] as const) }],
    [points],
  );
  const rate = totals.calls > 0 ? totals.errors / totals.calls : null;
  return (
    <div data-testid="usage-history">
      <div className="stat-tiles monitor-tiles">
        <StatTile label="Calls" value={formatNumber(totals.calls)} testId="usage-calls" />
        <StatTile label="Errors" value={formatNumber(totals.errors)} bad={totals.errors > 0} testId="usage-errors" />
        <StatTile label="Error rate" value={formatShare(rate)} bad={(rate ?? 0) > 0} testId="usage-error-rate" />
        <StatTile label="p50" value={totals.p50 === null ? '—' : formatMs(totals.p50)} testId="usage-p50" />
        <StatTile label="p95" value={totals.p95 === null ? '—' : formatMs(totals.p95)} testId="usage-p95" />
        <StatTile label="p99" value={totals.p99 === null ? '—' : formatMs(totals.p99)} testId="usage-p99" />
      </div>
      <p className="section-note usage-note muted small">
        Every call counted by the server, per {step}
        {usage.firstCallAt !== null && (
          <>
            , since the first on <Time at={usage.firstCallAt} />
          </>
        )}
        .
      </p>
      <div className="usage-charts">
        <Panel title={`Calls per ${step}`} testId="chart-calls">
          <TimeChart series={calls} testId="calls-chart" />
        </Panel>
        <Panel title="Latency" note="p50 · p95 · p99" testId="chart-latency-pct">
          <TimeChart series={latency} unit="ms" format={(v) => formatNumber(Number(v.toFixed(1)))} testId="latency-pct-chart" />
        </Panel>
        <Panel title="Error rate" testId="chart-error-rate">
          <TimeChart series={errorRate} unit="%" testId="error-rate-chart" />
        </Panel>
      </div>
    </div>
  );
}
