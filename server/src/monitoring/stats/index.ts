/**
 * Drift between a reference and a current sample, column by column: the one statistics module that
 * monitors, the pipeline drift-check action, the lake and POST /api/v1/drift use. DuckDB (in
 * memory) reads each column of the two files once — numbers sorted by DuckDB's parallel sort, other
 * columns as counts per value — and every statistic of that column comes from that one read in a
 * linear merge walk (./methods.ts). Defaults follow Evidently's DataDriftPreset.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DriftOptionsSchema, type ColumnDrift, type ColumnKind, type DriftMethod, type DriftOptions, type DriftReport } from '@forja/contracts';
import { invalid } from '../../errors.js';
import { fileLiteral, quoteIdent } from '../../lake/engine.js';
import {
  chiSquareTest,
  countsOfMaps,
  countsOfSorted,
  distinctCount,
  ecdfDistances,
  fillEvidently,
  histogram,
  jensenShannon,
  linspace,
  openBinCounts,
  psiOf,
  quantile,
  shares,
  std,
  sturgesEdges,
  zTest,
  type Sorted,
  type UnionCounts,
  unionDistinct,
} from './methods.js';
import { ksTwoSamplePValue } from './special.js';

/** A path to a Parquet file (or a CSV file with a header, by its .csv extension). */
export type ParquetFile = string;
export interface DriftColumn {
  name: string;
  /** The column's SQL type (DuckDB's names); numbers are numerical unless overridden. */
  type: string;
}
type MethodResult = ColumnDrift['result'];
type Options = ReturnType<typeof DriftOptionsSchema.parse>;

const P_VALUE_METHODS: readonly DriftMethod[] = ['ks', 'chisquare', 'z'];
const NUMERICAL_ONLY: readonly DriftMethod[] = ['ks', 'wasserstein'];
const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*|NUMERIC.*|INT\d?|SMALLINT|DOUBLE PRECISION)$/i;
const INTEGER_TYPE = /INT/i;
/** Categories shown in a distribution; the rest fold into "(other)". */
const TOP_CATEGORIES = 20;
const UNSEEN_EXAMPLES = 5;

export const isNumericType = (type: string) => NUMERIC_TYPE.test(type.trim());
/** Evidently's default thresholds: p-value tests 0.05, distances 0.1. */
export const defaultThreshold = (method: DriftMethod) => (P_VALUE_METHODS.includes(method) ? 0.05 : 0.1);

export const readerOf = (file: string) =>
  file.toLowerCase().endsWith('.csv') ? `read_csv(${fileLiteral(file)}, header=true)` : `read_parquet(${fileLiteral(file)})`;

interface NumericSide {
  values: Sorted;
  rows: number;
  missing: number;
  infinite: number;
}
interface CategoricalSide {
  counts: Map<string, number>;
  rows: number;
  missing: number;
}

/** The column's values as doubles, sorted by DuckDB; NULL and NaN are counted as missing, ±Inf as infinite, neither kept. */
async function readNumeric(c: DuckDBConnection, file: string, column: string, rows: number): Promise<NumericSide> {
  const out = new Float64Array(rows);
  let k = 0;
  let missing = 0;
  let infinite = 0;
  const result = await c.stream(`SELECT CAST(${quoteIdent(column)} AS DOUBLE) AS v FROM ${readerOf(file)} ORDER BY v`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const vector = chunk.getColumnVector(0);
    const size = chunk.rowCount; // a native getter: read once per chunk, not per value
    for (let i = 0; i < size; i++) {
      const v = vector.getItem(i) as number | null;
      if (v === null || Number.isNaN(v)) missing++;
      else if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) infinite++;
      else out[k++] = v;
    }
  }
  return { values: out.subarray(0, k), rows, missing, infinite };
}

async function readCategorical(c: DuckDBConnection, file: string, column: string, rows: number): Promise<CategoricalSide> {
  const reader = await c.runAndReadAll(`SELECT CAST(${quoteIdent(column)} AS VARCHAR) AS v, count(*) AS n FROM ${readerOf(file)} GROUP BY 1`);
  const counts = new Map<string, number>();
  let missing = 0;
  for (const [v, n] of reader.getRows()) {
    if (v === null || v === 'NaN') missing += Number(n);
    else counts.set(String(v), Number(n));
  }
  return { counts, rows, missing };
}

/** Options checked against the columns before anything is read, so a mistake costs no scan. */
function planColumns(columns: DriftColumn[], o: Options): { column: DriftColumn; kind: ColumnKind }[] {
  const known = new Set(columns.map((c) => c.name));
  const wanted = o.columns ?? columns.map((c) => c.name);
  const absent = [...new Set([...wanted, ...Object.keys(o.perColumn ?? {})])].filter((n) => !known.has(n));
  if (absent.length) throw invalid(`Columns not in both the reference and the current data: ${absent.join(', ')}.`);
  if (wanted.length === 0) throw invalid('The reference and the current data share no columns to compare.');
  return wanted.map((name) => {
    const column = columns.find((c) => c.name === name)!;
    const over = o.perColumn?.[name];
    const kind: ColumnKind = over?.kind ?? (isNumericType(column.type) ? 'numerical' : 'categorical');
    const chosen = over?.method ?? (kind === 'numerical' ? o.numericalMethod : o.categoricalMethod);
    if (chosen && kind === 'categorical' && NUMERICAL_ONLY.includes(chosen))
      throw invalid(`Method ${chosen} needs numbers, and column ${name} is categorical: pick psi, chisquare, jensenshannon or z for it.`);
    return { column, kind };
  });
}

/** Evidently's automatic choice from the reference size n and the distinct values u of both sides. */
export function automaticMethod(kind: ColumnKind, n: number, u: number): DriftMethod {
  if (kind === 'numerical' && u > 5) return n <= 1000 ? 'ks' : 'wasserstein';
  if (n <= 1000) return u > 2 ? 'chisquare' : 'z';
  return 'jensenshannon';
}

/** What a column gives the methods: sorted values (numbers) and counts over the union of values. */
interface Prepared {
  kind: ColumnKind;
  integer: boolean;
  ref?: Sorted;
  cur?: Sorted;
  /** Counts per value over ref ∪ cur; built on first use (a million distinct numbers need none unless a test asks). */
  readonly counts: UnionCounts;
  /** Numerical: the KS statistic and W1 of one merge walk, on first use. */
  readonly ecdf?: { ks: number; w1: number };
  nRef: number;
  nCur: number;
  refDistinct: number;
  /** Distinct values of ref ∪ cur (Evidently's u). */
  distinct: number;
  /** A reference value, shown when the reference is constant. */
  firstRef: string;
}

/** Evidently's bins: Sturges equal-width over both samples for numbers with > 20 reference values, else one bin per value. */
type Binned = { ref: Float64Array; cur: Float64Array; binning: string; edges?: Float64Array };
/** PSI, Jensen–Shannon and the distribution share one binning per column: made once. */
const binnedOf = new WeakMap<Prepared, Binned>();
function evidentlyBins(p: Prepared): Binned {
  let b = binnedOf.get(p);
  if (!b) {
    b = binEvidently(p);
    binnedOf.set(p, b);
  }
  return b;
}
function binEvidently(p: Prepared): Binned {
  if (p.kind === 'numerical' && p.refDistinct > 20) {
    const edges = sturgesEdges(p.ref!, p.cur!, p.integer);
    return { ref: shares(histogram(p.ref!, edges), p.nRef), cur: shares(histogram(p.cur!, edges), p.nCur), binning: 'evidently-sturges', edges };
  }
  return { ref: shares(p.counts.reference, p.nRef), cur: shares(p.counts.current, p.nCur), binning: 'evidently-values' };
}

function psi(p: Prepared, o: Options): Omit<MethodResult, 'threshold' | 'drifted'> {
  const opts = o.psi ?? { binning: 'evidently' as const, bins: 10, epsilon: 'evidently' as const };
  let binned: { ref: Float64Array; cur: Float64Array; binning: string };
  if (opts.binning === 'evidently' || p.kind === 'categorical') binned = evidentlyBins(p);
  else {
    const ref = p.ref!;
    const inner =
      opts.binning === 'quantile'
        ? Array.from({ length: opts.bins - 1 }, (_, i) => quantile(ref, (i + 1) / opts.bins))
        : Array.from(linspace(ref[0]!, ref[ref.length - 1]!, opts.bins + 1).subarray(1, opts.bins));
    // Tied edges (many equal values) merge into one bin.
    const edges = [...new Set(inner)].sort((a, b) => a - b);
    binned = { ref: shares(openBinCounts(ref, edges), p.nRef), cur: shares(openBinCounts(p.cur!, edges), p.nCur), binning: opts.binning };
  }
  const ref = Float64Array.from(binned.ref);
  const cur = Float64Array.from(binned.cur);
  let epsilon: number;
  let epsilonCurrent: number;
  if (opts.epsilon === 'evidently') {
    epsilon = fillEvidently(ref);
    epsilonCurrent = fillEvidently(cur);
  } else {
    // A fixed ε is a floor: every share below it counts as ε (the credit-risk convention).
    epsilon = epsilonCurrent = opts.epsilon;
    for (let i = 0; i < ref.length; i++) {
      ref[i] = Math.max(ref[i]!, epsilon);
      cur[i] = Math.max(cur[i]!, epsilon);
    }
  }
  return {
    method: 'psi',
    statistic: psiOf(ref, cur),
    pValue: null,
    binning: binned.binning,
    bins: ref.length,
    epsilon,
    ...(epsilonCurrent !== epsilon ? { epsilonCurrent } : {}),
  };
}

function runMethod(method: DriftMethod, p: Prepared, o: Options): Omit<MethodResult, 'threshold' | 'drifted'> {
  switch (method) {
    case 'psi':
      return psi(p, o);
    case 'jensenshannon': {
      const b = evidentlyBins(p);
      return { method, statistic: jensenShannon(b.ref, b.cur), pValue: null, binning: b.binning, bins: b.ref.length };
    }
    case 'ks': {
      const r = ksTwoSamplePValue(p.nRef, p.nCur, p.ecdf!.ks);
      return { method, statistic: r.statistic, pValue: r.pValue, pValueMethod: r.method };
    }
    case 'wasserstein':
      return { method, statistic: p.ecdf!.w1 / Math.max(std(p.ref!), 0.001), pValue: null };
    case 'chisquare':
      return { method, ...chiSquareTest(p.counts) };
    case 'z':
      return { method, ...zTest(p.counts) };
  }
}

/** A method's result with its threshold and verdict; values JSON cannot carry become null, with the reason in notes. */
function judged(method: DriftMethod, p: Prepared, o: Options, threshold: number, notes: string[]): MethodResult {
  const r = runMethod(method, p, o);
  const pValue = r.pValue === null ? null : Number.isFinite(r.pValue) ? r.pValue : null;
  let statistic = r.statistic;
  if (statistic !== null && !Number.isFinite(statistic)) {
    notes.push(
      method === 'chisquare' && statistic === Number.POSITIVE_INFINITY
        ? 'χ² is infinite: the current data has values the reference never had.'
        : `${method} could not be computed on these values.`,
    );
    statistic = null;
  }
  if (r.pValue !== null && pValue === null) notes.push(`${method} has no p-value with a single distinct value on both sides.`);
  const isP = P_VALUE_METHODS.includes(method);
  const drifted = isP
    ? pValue !== null && (method === 'ks' ? pValue <= threshold : pValue < threshold)
    : statistic !== null
      ? statistic >= threshold
      : r.statistic === Number.POSITIVE_INFINITY;
  return { ...r, statistic, pValue, threshold, drifted };
}

function distributionOf(p: Prepared): ColumnDrift['distribution'] {
  const b = evidentlyBins(p);
  if (b.edges) return { edges: Array.from(b.edges), reference: Array.from(b.ref), current: Array.from(b.cur) };
  const order = p.counts.keys
    .map((_, i) => i)
    .sort((a, b2) => p.counts.reference[b2]! + p.counts.current[b2]! - (p.counts.reference[a]! + p.counts.current[a]!));
  const top = order.slice(0, TOP_CATEGORIES);
  const rest = order.slice(TOP_CATEGORIES);
  const sumOf = (idx: number[], side: Float64Array) => idx.reduce((s, i) => s + side[i]!, 0);
  return {
    categories: [...top.map((i) => p.counts.keys[i]!), ...(rest.length ? ['(other)'] : [])],
    reference: [...top.map((i) => b.ref[i]!), ...(rest.length ? [sumOf(rest, b.ref)] : [])],
    current: [...top.map((i) => b.cur[i]!), ...(rest.length ? [sumOf(rest, b.cur)] : [])],
  };
}

/**
 * Drift of each column of `columns` between two files, with the options' methods (or Evidently's
 * automatic choice), thresholds and PSI binning. A zero-row side, or columns not among `columns`,
 * are a 400 naming them; all-missing columns get a note and no test.
 */
export async function computeDrift(reference: ParquetFile, current: ParquetFile, columns: DriftColumn[], options: DriftOptions = {}): Promise<DriftReport> {
  const started = performance.now();
  const parsed = DriftOptionsSchema.safeParse(options);
  if (!parsed.success) throw invalid(`Bad drift options: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}.`);
  const o = parsed.data;
  const plan = planColumns(columns, o);
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  try {
    const rowsOf = async (file: string) => Number((await c.runAndReadAll(`SELECT count(*) FROM ${readerOf(file)}`)).getRows()[0]![0]);
    const refRows = await rowsOf(reference);
    const curRows = await rowsOf(current);
    if (refRows === 0) throw invalid('The reference has no rows: drift needs a reference sample to compare with.');
    if (curRows === 0) throw invalid('The current data has no rows: there is nothing to compare with the reference.');
    const out: ColumnDrift[] = [];
    for (const { column, kind } of plan) out.push(await columnDrift(c, reference, current, column, kind, refRows, curRows, o));
    const drifted = out.filter((r) => r.drifted).length;
    const share = drifted / out.length;
    return {
      columns: out,
      driftedColumns: drifted,
      driftShare: share,
      datasetDrift: share >= o.driftShare,
      referenceRows: refRows,
      currentRows: curRows,
      tookMs: performance.now() - started,
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

async function columnDrift(
  c: DuckDBConnection,
  reference: string,
  current: string,
  column: DriftColumn,
  kind: ColumnKind,
  refRows: number,
  curRows: number,
  o: Options,
): Promise<ColumnDrift> {
  const notes: string[] = [];
  let prepared: Prepared;
  let missing: { reference: number; current: number };
  let infinite = { reference: 0, current: 0 };
  let range: ColumnDrift['range'] = null;
  let unseen: ColumnDrift['unseen'] = null;
  if (kind === 'numerical') {
    if (!isNumericType(column.type)) throw invalid(`Column ${column.name} is ${column.type}, not a number: it cannot be numerical.`);
    const ref = await readNumeric(c, reference, column.name, refRows);
    const cur = await readNumeric(c, current, column.name, curRows);
    missing = { reference: ref.missing, current: cur.missing };
    infinite = { reference: ref.infinite, current: cur.infinite };
    let counts: UnionCounts | undefined;
    let ecdf: { ks: number; w1: number } | undefined;
    prepared = {
      kind,
      integer: INTEGER_TYPE.test(column.type) && ref.missing + cur.missing === 0,
      ref: ref.values,
      cur: cur.values,
      get counts() {
        counts ??= countsOfSorted(ref.values, cur.values);
        return counts;
      },
      get ecdf() {
        ecdf ??= ecdfDistances(ref.values, cur.values);
        return ecdf;
      },
      nRef: ref.values.length,
      nCur: cur.values.length,
      refDistinct: distinctCount(ref.values),
      distinct: unionDistinct(ref.values, cur.values),
      firstRef: String(ref.values[0]),
    };
    if (ref.values.length) {
      const min = ref.values[0]!;
      const max = ref.values[ref.values.length - 1]!;
      let outside = 0;
      for (const v of cur.values) if (v < min || v > max) outside++;
      range = { min, max, outsideShare: cur.values.length ? outside / cur.values.length : 0 };
    }
  } else {
    const ref = await readCategorical(c, reference, column.name, refRows);
    const cur = await readCategorical(c, current, column.name, curRows);
    missing = { reference: ref.missing, current: cur.missing };
    const counts = countsOfMaps(ref.counts, cur.counts);
    const nCur = curRows - cur.missing;
    const firstRef = ref.counts.keys().next().value ?? '';
    prepared = { kind, integer: false, counts, nRef: refRows - ref.missing, nCur, refDistinct: ref.counts.size, distinct: counts.keys.length, firstRef };
    // Most frequent first, ties by name: the order DuckDB returns rows in is not stable.
    const novel = [...cur.counts].filter(([k]) => !ref.counts.has(k)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    unseen = { share: nCur ? novel.reduce((s, [, n]) => s + n, 0) / nCur : 0, examples: novel.slice(0, UNSEEN_EXAMPLES).map(([k]) => k) };
  }
  const base = {
    column: column.name,
    kind,
    referenceRows: refRows,
    currentRows: curRows,
    missing,
    missingShare: { reference: missing.reference / refRows, current: missing.current / curRows },
    infinite,
    range,
    unseen,
  };
  const over = o.perColumn?.[column.name];
  const kindMethod = kind === 'numerical' ? o.numericalMethod : o.categoricalMethod;
  const method = over?.method ?? kindMethod ?? automaticMethod(kind, prepared.nRef, prepared.distinct);
  const kindThreshold = kind === 'numerical' ? o.numericalThreshold : o.categoricalThreshold;
  const threshold = over?.threshold ?? kindThreshold ?? defaultThreshold(method);
  const empty = prepared.nRef === 0 ? 'reference' : prepared.nCur === 0 ? 'current data' : null;
  if (empty) {
    const why = `Every value of ${column.name} in the ${empty} is missing or infinite: no test ran.`;
    const none: MethodResult = { method, statistic: null, pValue: null, threshold, drifted: false };
    return { ...base, result: none, others: [], drifted: false, note: why, distribution: null };
  }
  if (prepared.refDistinct === 1) {
    const only = prepared.firstRef;
    notes.push(prepared.distinct === 1 ? `Constant on both sides (every value is ${only}).` : `Constant in the reference (every value is ${only}).`);
  }
  const result = judged(method, prepared, o, threshold, notes);
  // Extra methods that need numbers are skipped on categorical columns rather than failing the report.
  const extra = o.alsoCompute.filter((m) => m !== method && (kind === 'numerical' || !NUMERICAL_ONLY.includes(m)));
  const others = extra.map((m) => judged(m, prepared, o, over?.threshold ?? defaultThreshold(m), notes));
  return {
    ...base,
    result,
    others,
    drifted: result.drifted,
    note: notes.length ? [...new Set(notes)].join(' ') : null,
    distribution: distributionOf(prepared),
  };
}
