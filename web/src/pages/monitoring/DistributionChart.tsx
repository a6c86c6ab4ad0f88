import type { ColumnDrift } from '@forja/contracts';
import { formatNumber, formatShare } from './format';

type Distribution = NonNullable<ColumnDrift['distribution']>;

export const DIST_COLORS = { reference: '#94a3b8', current: '#4f46e5', drifted: '#dc2626' } as const;

const W = 420;
const H = 170;
const LEFT = 40;
const BOTTOM = 34;
const TOP = 8;

const binLabel = (d: Distribution, i: number) => d.categories?.[i] ?? (d.edges ? `${formatNumber(d.edges[i])} – ${formatNumber(d.edges[i + 1])}` : String(i));
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A column's reference and current shares side by side, a pair of bars per bin (numbers) or
 * value (categories), on one scale. The current bars turn red when the column drifted.
 */
export function DistributionChart({ distribution: d, drifted, testId }: { distribution: Distribution; drifted: boolean; testId: string }) {
  const n = Math.max(d.reference.length, d.current.length);
  const max = Math.max(1e-12, ...d.reference, ...d.current);
  const plotW = W - LEFT - 6;
  const plotH = H - TOP - BOTTOM;
  const slot = plotW / Math.max(1, n);
  const bar = Math.max(1, (slot * 0.8) / 2);
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const current = drifted ? DIST_COLORS.drifted : DIST_COLORS.current;
  // Numbers: an edge label every few bins so they never overlap; categories: each, clipped to its slot.
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      className="distribution-chart"
      role="img"
      aria-label="Reference and current distributions"
      data-testid={testId}
      data-bins={n}
    >
      {[0, 0.5, 1].map((t) => (
        <g key={t}>
          <line x1={LEFT} x2={W - 6} y1={y(max * t)} y2={y(max * t)} className="dist-grid" />
          <text x={LEFT - 5} y={y(max * t) + 3} textAnchor="end" className="dist-axis">
            {formatShare(max * t)}
          </text>
        </g>
      ))}
      {Array.from({ length: n }, (_, i) => {
        const x0 = LEFT + i * slot + slot * 0.1;
        const label = binLabel(d, i);
        const ref = d.reference[i] ?? 0;
        const cur = d.current[i] ?? 0;
        return (
          <g key={label + String(i)} data-testid="dist-bin">
            <title>{`${label}\nreference ${formatShare(ref)}\ncurrent ${formatShare(cur)}`}</title>
            <rect x={x0} y={y(ref)} width={bar} height={TOP + plotH - y(ref)} fill={DIST_COLORS.reference} data-side="reference" />
            <rect x={x0 + bar} y={y(cur)} width={bar} height={TOP + plotH - y(cur)} fill={current} data-side="current" />
            {d.categories && (
              <text x={LEFT + (i + 0.5) * slot} y={H - BOTTOM + 14} textAnchor="middle" className="dist-axis">
                {clip(label, Math.max(3, Math.floor(slot / 6)))}
              </text>
            )}
          </g>
        );
      })}
      {d.edges?.map((edge, i) =>
        // Every few edges, never one crowding the last.
        (i % labelEvery === 0 && n - i >= labelEvery / 2) || i === n ? (
          <text
            key={`edge-${String(i)}`}
            x={LEFT + i * slot}
            y={H - BOTTOM + 14}
            textAnchor={i === 0 ? 'start' : i === n ? 'end' : 'middle'}
            className="dist-axis"
          >
            {formatNumber(edge)}
          </text>
        ) : null,
      )}
    </svg>
  );
}

export function DistributionLegend() {
  return (
    <span className="dist-legend muted small">
      <span className="dist-key" style={{ background: DIST_COLORS.reference }} /> reference
      <span className="dist-key" style={{ background: DIST_COLORS.current }} /> current
      <span className="dist-key" style={{ background: DIST_COLORS.drifted }} /> current, drifted
    </span>
  );
}

/** Mean |SHAP| per feature as bars, the window's over the reference's, largest first. */
export function ImportanceBars({ importance }: { importance: { feature: string; current: number; reference: number | null }[] }) {
  const rows = [...importance].sort((a, b) => b.current - a.current);
  const max = Math.max(1e-12, ...rows.flatMap((r) => [r.current, r.reference ?? 0]));
  return (
    <div className="importance" data-testid="shap-importance">
      {rows.map((r) => (
        <div key={r.feature} className="importance-row" data-testid="shap-row" data-feature={r.feature}>
          <span className="importance-name mono" title={r.feature}>
            {r.feature}
          </span>
          <span className="importance-bars">
            <span
              className="importance-bar"
              style={{ width: `${(100 * r.current) / max}%`, background: DIST_COLORS.current }}
              title={`current ${formatNumber(r.current)}`}
            />
            {r.reference !== null && (
              <span
                className="importance-bar importance-ref"
                style={{ width: `${(100 * r.reference) / max}%`, background: DIST_COLORS.reference }}
                title={`reference ${formatNumber(r.reference)}`}
              />
            )}
          </span>
          <span className="importance-value mono small">
            {formatNumber(r.current)}
            {r.reference !== null && <span className="muted"> / {formatNumber(r.reference)}</span>}
          </span>
        </div>
      ))}
    </div>
  );
}
