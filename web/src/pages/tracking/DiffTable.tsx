import { useMemo, useState, type ReactNode } from 'react';
import type { Run } from '@forja/contracts';
import { formatMetric } from './format';

/** One compared column: a run, or a model version through the run it came from. */
export interface DiffColumn {
  key: string;
  label: ReactNode;
  run: Run;
}

/** The runs' parameters and latest metrics side by side, rows that differ highlighted. */
export function RunDiffTables({ columns }: { columns: DiffColumn[] }) {
  return (
    <>
      <DiffTable title="Parameters" testId="param-diff" columns={columns} valuesOf={paramValues} empty="None of these runs logged parameters." mono />
      <DiffTable title="Latest metrics" testId="metric-diff" columns={columns} valuesOf={metricValues} empty="None of these runs logged metrics." numeric />
    </>
  );
}

const paramValues = (r: Run) => new Map(r.data.params.map((p) => [p.key, p.value]));
const metricValues = (r: Run) => new Map(r.data.metrics.map((m) => [m.key, formatMetric(m.value)]));

function DiffTable({
  title,
  testId,
  columns,
  valuesOf,
  empty,
  mono,
  numeric,
}: {
  title: string;
  testId: string;
  columns: DiffColumn[];
  valuesOf: (r: Run) => Map<string, string>;
  empty: string;
  mono?: boolean;
  numeric?: boolean;
}) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const table = useMemo(() => {
    const maps = columns.map((c) => valuesOf(c.run));
    const allKeys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
    return allKeys.map((key) => {
      const values = maps.map((m) => m.get(key));
      return { key, values, differs: new Set(values).size > 1 };
    });
  }, [columns, valuesOf]);
  const differing = table.filter((r) => r.differs).length;
  const shown = onlyDiff ? table.filter((r) => r.differs) : table;

  return (
    <div className="card diff-card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        <span className="muted">
          {differing} of {table.length} differ
        </span>
        <div className="toolbar-spacer" />
        <label className="checkbox checkbox-inline small">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} />
          <span>Only differences</span>
        </label>
      </div>
      {table.length === 0 ? (
        <div className="card-pad muted">{empty}</div>
      ) : (
        <div className="table-scroll">
          <table className="table diff-table">
            <thead>
              <tr>
                <th>Key</th>
                {columns.map((c) => (
                  <th key={c.key} className={numeric ? 'num' : undefined}>
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((row) => (
                <tr key={row.key} className={row.differs ? 'row-diff' : undefined} data-testid={`${testId}-row`} data-key={row.key} data-differs={row.differs}>
                  <th scope="row" className="mono">
                    {row.key}
                  </th>
                  {row.values.map((v, i) => (
                    <td key={i} className={`${numeric ? 'num' : ''}${mono ? ' mono' : ''}`} title={v}>
                      {v ?? <span className="muted">—</span>}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
