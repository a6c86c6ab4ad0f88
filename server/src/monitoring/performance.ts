import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { PerformanceCheckSchema, type PerformanceReport } from '@forja/contracts';
import type { z } from 'zod';
import { invalid } from '../errors.js';
import { fileLiteral, quoteIdent, typeFamily } from '../lake/engine.js';
import { withDuckDB } from './labels-parquet.js';

export type PerformanceCheck = z.input<typeof PerformanceCheckSchema>;

/** float64's machine epsilon: scikit-learn (≥ 1.5) clips probabilities to [eps, 1 − eps] before log-loss. */
const EPS = 2.220446049250313e-16;
/** More distinct values than this in a classifier's labels is a regression target sent as a classification. */
const MAX_CLASSES = 1000;
/** Metrics where higher is better; the rest (log_loss, mae, rmse) are errors. */
const HIGHER_IS_BETTER = new Set(['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'r2']);

/**
 * How well predictions matched the labels that came back, computed in DuckDB over a Parquet file
 * of predictions, labels and optionally the positive class's probability, the same way scikit-learn computes them:
 *  - classification: accuracy; precision, recall and F1 of the positive class when there are two
 *    classes, their macro averages over every class seen in labels or predictions otherwise (0 where
 *    a class was never predicted, like zero_division=0); ROC AUC with tied scores counted half
 *    (roc_auc_score) and log-loss with probabilities clipped to [eps, 1 − eps], both from `score`
 *    and only for two classes;
 *  - regression: MAE, RMSE and R² (1 when labels are constant and predicted exactly, else 0 for
 *    constant labels, as r2_score's force_finite).
 * The columns are the check's predictionColumn and scoreColumn (default `score`, used when present)
 * and `labelColumn`. Rows without a label or prediction are left out. A metric that cannot be computed (one class
 * only, no score) is null. Metrics worse than the baseline by more than the check's tolerance
 * (a share of the baseline) are listed in `degraded`.
 */
export async function performanceOf(
  file: string,
  input: PerformanceCheck,
  baseline?: Record<string, number> | null,
  labelColumn = 'label',
): Promise<PerformanceReport> {
  const check = PerformanceCheckSchema.parse(input);
  return withDuckDB(async (c) => {
    const raw = `read_parquet(${fileLiteral(file)})`;
    const found = new Map((await rows(c, `DESCRIBE SELECT * FROM ${raw}`)).map((r) => [String(r.column_name), String(r.column_type)]));
    const scoreColumn = check.scoreColumn ?? 'score';
    const missing = [check.predictionColumn, labelColumn, ...(check.scoreColumn ? [check.scoreColumn] : [])].filter((n) => !found.has(n));
    if (missing.length)
      throw invalid(
        `Performance needs the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(' and ')}, which the rows lack.`,
      );
    const hasScore = found.has(scoreColumn);
    // The columns under the names the queries use: prediction, label and score.
    const types = new Map([
      ['prediction', found.get(check.predictionColumn)!],
      ['label', found.get(labelColumn)!],
      ...(hasScore ? [['score', found.get(scoreColumn)!] as [string, string]] : []),
    ]);
    const source = `(SELECT ${quoteIdent(check.predictionColumn)} AS prediction, ${quoteIdent(labelColumn)} AS label${hasScore ? `, ${quoteIdent(scoreColumn)} AS score` : ''} FROM ${raw})`;
    if (hasScore && !isNumeric(types.get('score')))
      throw invalid(`Column ${JSON.stringify(scoreColumn)} must hold probabilities (numbers), not ${types.get('score')}.`);
    const [{ n }] = (await rows(c, `SELECT count(*) AS n FROM ${source} WHERE label IS NOT NULL`)) as [{ n: bigint }];
    const labelledRows = Number(n);
    const metrics = check.task === 'regression' ? await regression(c, source, types) : await classification(c, source, types, hasScore, check.positiveLabel);
    const base = normaliseBaseline(baseline ?? check.baseline ?? null);
    return { task: check.task, labelledRows, metrics, baseline: base, degraded: degradedOf(metrics, base, check.tolerance) };
  });
}

async function rows(c: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql, params)).getRowObjects() as Record<string, unknown>[];
}

const isNumeric = (type: string | undefined) => type !== undefined && (['integer', 'float'].includes(typeFamily(type)) || type === 'BOOLEAN');

/** Does every non-null value of a text column read as a number? Then labels "1" and predictions 1.0 are the same class. */
async function allNumbers(c: DuckDBConnection, source: string, column: string, type: string): Promise<boolean> {
  if (isNumeric(type)) return true;
  const [r] = await rows(c, `SELECT count(*) AS bad FROM ${source} WHERE ${column} IS NOT NULL AND TRY_CAST(${column} AS DOUBLE) IS NULL`);
  return Number(r!.bad) === 0;
}

async function regression(c: DuckDBConnection, source: string, types: Map<string, string>): Promise<Record<string, number | null>> {
  for (const col of ['prediction', 'label'])
    if (!(await allNumbers(c, source, col, types.get(col)!)))
      throw invalid(`Regression metrics need numbers: column ${col} holds text that is not a number (is the task classification?).`);
  const [r] = await rows(
    c,
    `WITH t AS (SELECT CAST(label AS DOUBLE) AS y, CAST(prediction AS DOUBLE) AS p FROM ${source} WHERE label IS NOT NULL AND prediction IS NOT NULL),
          m AS (SELECT avg(y) AS mean FROM t)
     SELECT count(*) AS n, fsum(abs(y - p)) / count(*) AS mae, sqrt(fsum((y - p) * (y - p)) / count(*)) AS rmse,
            fsum((y - p) * (y - p)) AS ss_res, fsum((y - m.mean) * (y - m.mean)) AS ss_tot
     FROM t, m`,
  );
  const count = Number(r!.n);
  if (count === 0) return { mae: null, rmse: null, r2: null };
  const ssRes = Number(r!.ss_res);
  const ssTot = Number(r!.ss_tot);
  const r2 = count < 2 ? null : ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
  return { mae: Number(r!.mae), rmse: Number(r!.rmse), r2 };
}

async function classification(
  c: DuckDBConnection,
  source: string,
  types: Map<string, string>,
  hasScore: boolean,
  positiveLabel: string | number | boolean | undefined,
): Promise<Record<string, number | null>> {
  // Classes compare as numbers when both columns read as numbers (1, 1.0, "1" and true are one class), else as text.
  const numeric = (await allNumbers(c, source, 'label', types.get('label')!)) && (await allNumbers(c, source, 'prediction', types.get('prediction')!));
  const key = (col: string) => (numeric ? (isNumeric(types.get(col)) ? `CAST(${col} AS DOUBLE)` : `TRY_CAST(${col} AS DOUBLE)`) : `CAST(${col} AS VARCHAR)`);
  const labelled = `SELECT ${key('label')} AS y, ${key('prediction')} AS p${hasScore ? ', CAST(score AS DOUBLE) AS s' : ''} FROM ${source} WHERE label IS NOT NULL AND prediction IS NOT NULL`;
  const cells = await rows(c, `SELECT y, p, count(*) AS n FROM (${labelled}) GROUP BY ALL`);
  const total = cells.reduce((sum, r) => sum + Number(r.n), 0);
  if (total === 0) return { accuracy: null, precision: null, recall: null, f1: null, roc_auc: null, log_loss: null };
  const value = (v: unknown) => (numeric ? Number(v) : String(v));
  const classes = [...new Set(cells.flatMap((r) => [value(r.y), value(r.p)]))].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1,
  );
  if (classes.length > MAX_CLASSES)
    throw invalid(`The labels hold ${classes.length} distinct values, more than a classifier's ${MAX_CLASSES}: is the task regression?`);
  const count = (y: number | string | null, p: number | string | null) =>
    cells.filter((r) => (y === null || value(r.y) === y) && (p === null || value(r.p) === p)).reduce((sum, r) => sum + Number(r.n), 0);
  const perClass = (k: number | string) => {
    const tp = count(k, k);
    const fp = count(null, k) - tp;
    const fn = count(k, null) - tp;
    return {
      precision: tp + fp === 0 ? 0 : tp / (tp + fp),
      recall: tp + fn === 0 ? 0 : tp / (tp + fn),
      f1: 2 * tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
    };
  };
  const accuracy = classes.reduce((sum: number, k) => sum + count(k, k), 0) / total;
  if (classes.length > 2) {
    const all = classes.map(perClass);
    const mean = (f: (m: ReturnType<typeof perClass>) => number) => all.reduce((s, m) => s + f(m), 0) / all.length;
    // ROC AUC and log-loss of many classes need one probability per class; `score` holds one.
    return { accuracy, precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1), roc_auc: null, log_loss: null };
  }
  const positive = positiveOf(classes, positiveLabel, numeric);
  const { precision, recall, f1 } = perClass(positive);
  const scored = hasScore ? await scoreMetrics(c, labelled, positive) : { roc_auc: null, log_loss: null };
  return { accuracy, precision, recall, f1, ...scored };
}

/** The positive class: the one named (as the classes compare), else the larger of the two. */
function positiveOf(classes: (number | string)[], named: string | number | boolean | undefined, numeric: boolean): number | string {
  if (named === undefined) return classes[classes.length - 1]!;
  const k = numeric ? Number(named) : String(named);
  if (numeric && Number.isNaN(k)) throw invalid(`positiveLabel ${JSON.stringify(named)} is not a number, but the labels are numbers.`);
  if (classes.length === 2 && !classes.includes(k))
    throw invalid(`positiveLabel ${JSON.stringify(named)} is neither of the classes seen (${classes.map((v) => JSON.stringify(v)).join(', ')}).`);
  return k;
}

/**
 * ROC AUC as the probability that a positive outranks a negative, ties counted half (what the
 * trapezoids of roc_auc_score add up to), by one pass over the distinct scores; log-loss of the
 * positive class's probability. Both need both classes among the labels.
 */
async function scoreMetrics(c: DuckDBConnection, labelled: string, positive: number | string): Promise<{ roc_auc: number | null; log_loss: number | null }> {
  const [r] = await rows(
    c,
    `WITH t AS (SELECT y = $1 AS pos, s FROM (${labelled}) WHERE s IS NOT NULL),
          g AS (SELECT s, count(*) FILTER (WHERE pos) AS np, count(*) FILTER (WHERE NOT pos) AS nn FROM t GROUP BY s),
          c AS (SELECT np, nn, coalesce(sum(nn) OVER (ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS below FROM g)
     SELECT (SELECT fsum(np * (below + nn / 2.0)) FROM c) AS wins,
            (SELECT count(*) FILTER (WHERE pos) FROM t) AS p, (SELECT count(*) FILTER (WHERE NOT pos) FROM t) AS n,
            (SELECT fsum(-ln(CASE WHEN pos THEN least(greatest(s, ${EPS}), 1 - ${EPS}) ELSE least(greatest(1 - s, ${EPS}), 1 - ${EPS}) END)) / count(*) FROM t) AS log_loss`,
    [positive],
  );
  const p = Number(r!.p);
  const n = Number(r!.n);
  if (p === 0 || n === 0) return { roc_auc: null, log_loss: null };
  return { roc_auc: Number(r!.wins) / (p * n), log_loss: Number(r!.log_loss) };
}

/** Baselines may name metrics as the run does (`performance.f1`) or bare (`f1`). */
function normaliseBaseline(baseline: Record<string, number> | null): Record<string, number> | null {
  if (!baseline) return null;
  return Object.fromEntries(Object.entries(baseline).map(([k, v]) => [k.replace(/^performance\./, ''), v]));
}

/** Worse than the baseline by more than `tolerance` of the baseline's size: lower for scores, higher for errors. */
export function degradedOf(
  metrics: Record<string, number | null>,
  baseline: Record<string, number> | null,
  tolerance: number,
): { metric: string; baseline: number; current: number }[] {
  if (!baseline) return [];
  const out: { metric: string; baseline: number; current: number }[] = [];
  for (const [metric, current] of Object.entries(metrics)) {
    const base = baseline[metric];
    if (current === null || base === undefined) continue;
    const worseBy = HIGHER_IS_BETTER.has(metric) ? base - current : current - base;
    if (worseBy > tolerance * Math.abs(base)) out.push({ metric, baseline: base, current });
  }
  return out;
}
