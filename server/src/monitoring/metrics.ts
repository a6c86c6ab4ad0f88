import type { DriftReport, MonitorRun } from '@forja/contracts';

/**
 * Every number of a run under one flat name (what alert rules and charts read): `rows`,
 * `drift.share`, `drift.columns_drifted`, `drift.<column>.<method>` (the deciding method's
 * statistic) and `drift.<column>.p_value` for p-value tests, `missing.<column>` (the current
 * window's missing share), `performance.<metric>`, `shap.<feature>`.
 */
export function flatMetrics(run: {
  rows: number;
  drift: DriftReport | null;
  performance: MonitorRun['performance'];
  explanations: MonitorRun['explanations'];
}): Record<string, number> {
  const m: Record<string, number> = { rows: run.rows };
  const put = (name: string, value: number | null | undefined) => {
    if (typeof value === 'number' && Number.isFinite(value)) m[name] = value;
  };
  if (run.drift) {
    put('drift.share', run.drift.driftShare);
    put('drift.columns_drifted', run.drift.driftedColumns);
    for (const c of run.drift.columns) {
      put(`drift.${c.column}.${c.result.method}`, c.result.statistic);
      if (c.result.pValue !== null) put(`drift.${c.column}.p_value`, c.result.pValue);
      for (const o of c.others) put(`drift.${c.column}.${o.method}`, o.statistic);
      put(`missing.${c.column}`, c.missing.current);
    }
  }
  for (const [name, value] of Object.entries(run.performance?.metrics ?? {})) put(`performance.${name}`, value);
  for (const f of run.explanations?.importance ?? []) put(`shap.${f.feature}`, f.current);
  return m;
}
