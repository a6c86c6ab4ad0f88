import { useState } from 'react';
import type { ColumnDrift, MonitorRun } from '@forja/contracts';
import { Badge, EmptyCard } from '../../components/ui';
import { DistributionChart, DistributionLegend, ImportanceBars } from './DistributionChart';
import { DriftBadge, formatNumber, formatShare, Panel, StatTile } from './format';

/** Drifted columns first; within each, the furthest past its threshold first. */
function byConcern(a: ColumnDrift, b: ColumnDrift): number {
  const over = (c: ColumnDrift) => (c.result.statistic ?? 0) / (c.result.threshold || 1);
  return Number(b.drifted) - Number(a.drifted) || over(b) - over(a) || a.column.localeCompare(b.column);
}

/** What a column's row says besides its test: missing values, out-of-range and unseen values, why no test ran. */
function notesOf(c: ColumnDrift): string[] {
  const notes: string[] = [];
  if (c.note) notes.push(c.note);
  if (c.missing.reference > 0 || c.missing.current > 0) notes.push(`missing ${formatShare(c.missingShare.reference)} → ${formatShare(c.missingShare.current)}`);
  if (c.infinite.reference > 0 || c.infinite.current > 0) notes.push(`±Inf ${c.infinite.reference} → ${c.infinite.current}`);
  if (c.range && c.range.outsideShare > 0)
    notes.push(`${formatShare(c.range.outsideShare)} outside [${formatNumber(c.range.min)}, ${formatNumber(c.range.max)}]`);
  if (c.unseen && c.unseen.share > 0) notes.push(`${formatShare(c.unseen.share)} unseen: ${c.unseen.examples.slice(0, 3).join(', ')}`);
  return notes;
}

/** One run's figures: summary tiles, every column's test with its distributions side by side, performance and SHAP. */
export function RunDetails({ run }: { run: MonitorRun }) {
  const drift = run.drift;
  const perf = run.performance;
  return (
    <div className="run-details" data-testid="run-details">
      <div className="stat-tiles monitor-tiles">
        <StatTile label="Rows in window" value={formatNumber(run.currentRows)} testId="run-rows" />
        <StatTile label="Reference rows" value={formatNumber(run.referenceRows)} testId="run-reference-rows" />
        {drift && (
          <StatTile label="Drifted columns" value={`${drift.driftedColumns} / ${drift.columns.length}`} bad={drift.driftedColumns > 0} testId="run-drifted" />
        )}
        {drift && <StatTile label="Drift share" value={formatShare(drift.driftShare)} bad={drift.datasetDrift} testId="run-drift-share" />}
        {drift && <StatTile label="Dataset drift" value={drift.datasetDrift ? 'yes' : 'no'} bad={drift.datasetDrift} testId="run-dataset-drift" />}
        {perf && <StatTile label="Labelled rows" value={formatNumber(perf.labelledRows)} testId="run-labelled" />}
        {perf && <StatTile label="Degraded metrics" value={String(perf.degraded.length)} bad={perf.degraded.length > 0} testId="run-degraded" />}
      </div>
      {drift ? (
        <DriftColumns columns={drift.columns} />
      ) : (
        <EmptyCard title="No drift in this run">{run.error ?? 'The run computed no drift statistics.'}</EmptyCard>
      )}
      {perf && (
        <Panel title="Performance" note={`${perf.task}, ${formatNumber(perf.labelledRows)} labelled rows`} testId="run-performance">
          {Object.keys(perf.metrics).length === 0 ? (
            <p className="muted">No labels matched this window's rows: post labels to see accuracy, F1 or RMSE.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th className="num">Current</th>
                  <th className="num">Baseline</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {Object.entries(perf.metrics).map(([name, value]) => {
                  const bad = perf.degraded.some((d) => d.metric === name);
                  return (
                    <tr key={name} className={bad ? 'row-bad' : undefined} data-testid="performance-row" data-metric={name}>
                      <td className="mono">{name}</td>
                      <td className="num">{formatNumber(value)}</td>
                      <td className="num">{formatNumber(perf.baseline?.[name])}</td>
                      <td>{bad && <Badge tone="red">degraded</Badge>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Panel>
      )}
      {run.explanations && (
        <Panel
          title="Feature importance"
          note={`mean |SHAP|, ${run.explanations.explainer} explainer, ${formatNumber(run.explanations.rows)} rows; current over reference`}
          testId="run-shap"
        >
          <ImportanceBars importance={run.explanations.importance} />
        </Panel>
      )}
    </div>
  );
}

function DriftColumns({ columns }: { columns: ColumnDrift[] }) {
  const sorted = [...columns].sort(byConcern);
  const [onlyDrifted, setOnlyDrifted] = useState(false);
  const shown = onlyDrifted ? sorted.filter((c) => c.drifted) : sorted;
  return (
    <>
      <div className="card table-card">
        <div className="card-head">
          <h3>Columns</h3>
          <span className="muted small">the deciding test per column; drifted first</span>
          <div className="toolbar-spacer" />
          <label className="checkbox small">
            <input type="checkbox" checked={onlyDrifted} onChange={(e) => setOnlyDrifted(e.target.checked)} data-testid="only-drifted" />
            Only drifted
          </label>
        </div>
        <div className="table-scroll">
          <table className="table" data-testid="drift-table">
            <thead>
              <tr>
                <th>Column</th>
                <th>Kind</th>
                <th>Method</th>
                <th className="num">Statistic</th>
                <th className="num">p-value</th>
                <th className="num">Threshold</th>
                <th>Result</th>
                <th>Notes</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((c) => (
                <tr key={c.column} className={c.drifted ? 'row-bad' : undefined} data-testid="drift-row" data-column={c.column} data-drifted={c.drifted}>
                  <td className="mono">
                    <a href={`#dist-${encodeURIComponent(c.column)}`}>{c.column}</a>
                  </td>
                  <td>{c.kind}</td>
                  <td>{c.result.method}</td>
                  <td className="num">{formatNumber(c.result.statistic)}</td>
                  <td className="num">{formatNumber(c.result.pValue)}</td>
                  <td className="num">{formatNumber(c.result.threshold)}</td>
                  <td>
                    <DriftBadge drifted={c.drifted} />
                  </td>
                  <td className="muted small">{notesOf(c).join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="section-head">
        <h3>Reference vs current</h3>
        <DistributionLegend />
      </div>
      <div className="dist-grid-cards">
        {shown.map((c) => (
          <div
            key={c.column}
            id={`dist-${encodeURIComponent(c.column)}`}
            className={`card dist-card${c.drifted ? ' is-drifted' : ''}`}
            data-testid="dist-card"
            data-column={c.column}
          >
            <div className="card-head">
              <h3 className="mono">{c.column}</h3>
              <DriftBadge drifted={c.drifted} />
              <div className="toolbar-spacer" />
              <span className="muted small mono">
                {c.result.method} {formatNumber(c.result.statistic)}
              </span>
            </div>
            <div className="chart-body">
              {c.distribution ? (
                <DistributionChart distribution={c.distribution} drifted={c.drifted} testId={`dist-${c.column}`} />
              ) : (
                <div className="chart-empty monitor-empty">{c.note ?? 'No distribution for this column.'}</div>
              )}
            </div>
          </div>
        ))}
      </div>
    </>
  );
}
