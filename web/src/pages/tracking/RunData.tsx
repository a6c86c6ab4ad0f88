import { useState } from 'react';
import { Link } from 'react-router';
import type { KeyValue, Metric } from '@forja/contracts';
import { Button, relativeTime } from '../../components/ui';
import { num, TableHead } from '../../components/TableHead';
import { formatMetric } from './format';

// A run's parameters and latest metrics as cards, shown on the run page and in a model version's lineage.

/** Past this many rows a key/value table gets a filter box. */
const FILTER_FROM = 12;

function useKeyFilter<T extends { key: string }>(items: T[]) {
  const [q, setQ] = useState('');
  const needle = q.trim().toLowerCase();
  const shown = needle ? items.filter((i) => i.key.toLowerCase().includes(needle)) : items;
  const box =
    items.length > FILTER_FROM ? (
      <input type="search" className="card-filter" placeholder="Filter keys" aria-label="Filter keys" value={q} onChange={(e) => setQ(e.target.value)} />
    ) : null;
  return { shown, box };
}

export function KeyValueCard({
  title,
  items,
  testId,
  empty,
  mono,
  extra = [],
  extraLabel,
}: {
  title: string;
  items: KeyValue[];
  testId: string;
  empty: string;
  mono?: boolean;
  /** Rows hidden behind a toggle, e.g. the tags the clients set themselves. */
  extra?: KeyValue[];
  extraLabel?: string;
}) {
  const [showExtra, setShowExtra] = useState(false);
  const all = showExtra ? [...items, ...extra] : items;
  const { shown, box } = useKeyFilter(all);
  return (
    <div className="card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        <span className="muted">{items.length}</span>
        <div className="toolbar-spacer" />
        {box}
        {extra.length > 0 && (
          <Button size="sm" variant="ghost" onClick={() => setShowExtra((s) => !s)}>
            {showExtra ? `Hide ${extraLabel}` : `Show ${extraLabel} (${extra.length})`}
          </Button>
        )}
      </div>
      {all.length === 0 ? (
        <div className="card-pad muted">{empty}</div>
      ) : (
        <div className="card-scroll">
          <table className="table kv-table">
            <tbody>
              {shown.map((p) => (
                <tr key={p.key} data-testid={`${testId}-row`} data-key={p.key}>
                  <th scope="row" className="mono">
                    {p.key}
                  </th>
                  <td className={`cell-wrap${mono ? ' mono' : ''}`}>{p.value === '' ? <span className="muted">(empty)</span> : p.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function MetricsCard({ runId, metrics }: { runId: string; metrics: Metric[] }) {
  const { shown, box } = useKeyFilter(metrics);
  return (
    <div className="card" data-testid="run-metrics">
      <div className="card-head">
        <h3>Metrics</h3>
        <span className="muted">{metrics.length}</span>
        <div className="toolbar-spacer" />
        {box}
      </div>
      {metrics.length === 0 ? (
        <div className="card-pad muted">No metrics logged.</div>
      ) : (
        <div className="card-scroll">
          <table className="table kv-table">
            <TableHead columns={['Key', num('Latest'), num('Step'), 'Logged']} />
            <tbody>
              {shown.map((m) => (
                <tr key={m.key} data-testid="run-metrics-row" data-key={m.key}>
                  <td className="mono">
                    <Link to={`/runs/${encodeURIComponent(runId)}?tab=metrics&charts=${encodeURIComponent(m.key)}`} title="Chart this metric">
                      {m.key}
                    </Link>
                  </td>
                  <td className="num" title={String(m.value)}>
                    {formatMetric(m.value)}
                  </td>
                  <td className="num muted">{m.step}</td>
                  <td className="muted" title={new Date(m.timestamp).toISOString()}>
                    {relativeTime(m.timestamp)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
