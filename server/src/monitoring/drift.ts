import type { DriftOptions, DriftReport, LakeColumn } from '@forja/contracts';
import { populationStability } from '../lake/drift.js';

/** PSI's usual "act" level, the decision threshold until the stats module's defaults take over. */
const PSI_THRESHOLD = 0.1;

/**
 * The drift between a reference and a current Parquet file, in the stats module's report shape.
 * TODO(lead, issue 17): replace the body with the `stats` helper's
 * `computeDrift(reference, current, columns, options)` from ./stats/index.js once it is merged;
 * until then this is the lake's decile PSI, with the options' thresholds and drift share.
 */
export async function driftOf(
  reference: string,
  current: string,
  columns: LakeColumn[],
  options: DriftOptions,
  rows: { reference: number; current: number },
): Promise<DriftReport> {
  const started = performance.now();
  const psi = await populationStability(reference, current, columns);
  const out = psi.map((c) => {
    const numeric = c.binning === 'deciles';
    const threshold = options.perColumn?.[c.column]?.threshold ?? (numeric ? options.numericalThreshold : options.categoricalThreshold) ?? PSI_THRESHOLD;
    const drifted = c.psi >= threshold;
    return {
      column: c.column,
      kind: numeric ? ('numerical' as const) : ('categorical' as const),
      result: { method: 'psi' as const, statistic: c.psi, pValue: null, threshold, drifted, binning: c.binning, bins: c.bins, epsilon: 1e-4 },
      others: [],
      drifted,
      referenceRows: rows.reference,
      currentRows: rows.current,
      missing: { reference: 0, current: 0 },
      infinite: { reference: 0, current: 0 },
      range: null,
      unseen: null,
      note: null,
      distribution: null,
    };
  });
  const driftedColumns = out.filter((c) => c.drifted).length;
  const share = out.length ? driftedColumns / out.length : 0;
  return {
    columns: out,
    driftedColumns,
    driftShare: share,
    datasetDrift: out.length > 0 && share >= (options.driftShare ?? 0.5),
    referenceRows: rows.reference,
    currentRows: rows.current,
    tookMs: performance.now() - started,
  };
}
