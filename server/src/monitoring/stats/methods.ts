/**
 * The drift statistics on data already read: numerical sides as sorted arrays of finite values,
 * categorical sides (and numbers with few values) as counts per value over the union of both
 * sides. Each function follows the definition Evidently's DataDriftPreset uses, so the numbers match
 * it; the p-values come from ./special.ts.
 */
import { chiSquareSf, normalSf } from './special.js';

/** One side of a numerical column: its finite values, sorted ascending. */
export type Sorted = Float64Array;

/** Counts of each value of ref ∪ cur, in one order for both sides. */
export interface UnionCounts {
  keys: string[];
  reference: Float64Array;
  current: Float64Array;
}

/** Counts per distinct value of two sorted arrays, over the union of their values (keys in numeric order). */
export function countsOfSorted(ref: Sorted, cur: Sorted): UnionCounts {
  const keys: string[] = [];
  const r: number[] = [];
  const c: number[] = [];
  let i = 0;
  let j = 0;
  while (i < ref.length || j < cur.length) {
    const v = j >= cur.length || (i < ref.length && ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!;
    let nr = 0;
    let nc = 0;
    while (i < ref.length && ref[i] === v) {
      i++;
      nr++;
    }
    while (j < cur.length && cur[j] === v) {
      j++;
      nc++;
    }
    keys.push(String(v));
    r.push(nr);
    c.push(nc);
  }
  return { keys, reference: Float64Array.from(r), current: Float64Array.from(c) };
}

/** Counts per category over the union of both sides' categories (sorted, so results do not depend on read order). */
export function countsOfMaps(ref: Map<string, number>, cur: Map<string, number>): UnionCounts {
  const keys = [...new Set([...ref.keys(), ...cur.keys()])].sort();
  return {
    keys,
    reference: Float64Array.from(keys, (k) => ref.get(k) ?? 0),
    current: Float64Array.from(keys, (k) => cur.get(k) ?? 0),
  };
}

export function distinctCount(sorted: Sorted): number {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  return n;
}

/** How many distinct values two sorted arrays hold together. */
export function unionDistinct(ref: Sorted, cur: Sorted): number {
  let n = 0;
  let i = 0;
  let j = 0;
  while (i < ref.length || j < cur.length) {
    const v = j >= cur.length || (i < ref.length && ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!;
    while (i < ref.length && ref[i] === v) i++;
    while (j < cur.length && cur[j] === v) j++;
    n++;
  }
  return n;
}

/** Equal-width bins as numpy.histogram_bin_edges(both samples, bins="sturges") makes them. */
export function sturgesEdges(ref: Sorted, cur: Sorted, integer: boolean): Float64Array {
  let first = Math.min(ref[0]!, cur[0]!);
  let last = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!);
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const n = ref.length + cur.length;
  let width = (last - first) / (Math.log2(n) + 1);
  if (integer && width < 1) width = 1;
  const k = Math.max(1, Math.ceil((last - first) / width));
  return linspace(first, last, k + 1);
}

/** numpy.linspace: i·step + start, the last edge exactly `stop`. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const step = (stop - start) / (num - 1);
  const out = Float64Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** Counts per bin of equal-width edges the way numpy.histogram assigns them (last bin closed; values outside dropped). */
export function histogram(sorted: Sorted, edges: Float64Array): Float64Array {
  const k = edges.length - 1;
  const first = edges[0]!;
  const last = edges[k]!;
  const span = last - first;
  const counts = new Float64Array(k);
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    if (x < first || x > last) continue;
    let b = Math.trunc(((x - first) / span) * k);
    if (b === k) b--;
    if (x < edges[b]!) b--;
    else if (b !== k - 1 && x >= edges[b + 1]!) b++;
    counts[b]! += 1;
  }
  return counts;
}

/** Counts per bin of open-ended bins: bin i holds values below edges[i], the last bin the rest. */
export function openBinCounts(sorted: Sorted, edges: number[]): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  let b = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (b < edges.length && sorted[i]! >= edges[b]!) b++;
    counts[b]! += 1;
  }
  return counts;
}

/** numpy's default quantile (linear between the closest ranks) of sorted values. */
export function quantile(sorted: Sorted, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

export const shares = (counts: Float64Array, total: number): Float64Array => counts.map((c) => c / total);

/** Evidently's empty-bin rule: zeros become 1e-4, or the smallest non-zero share ÷ 10⁶ when that is ≤ 1e-4. Returns the ε used. */
export function fillEvidently(s: Float64Array): number {
  let min = Number.POSITIVE_INFINITY;
  for (const v of s) if (v !== 0 && v < min) min = v;
  const eps = min <= 1e-4 ? min / 1e6 : 1e-4;
  for (let i = 0; i < s.length; i++) if (s[i] === 0) s[i] = eps;
  return eps;
}

/** PSI = Σ (refᵢ − curᵢ)·ln(refᵢ/curᵢ) on shares already smoothed. */
export function psiOf(ref: Float64Array, cur: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < ref.length; i++) sum += (ref[i]! - cur[i]!) * Math.log(ref[i]! / cur[i]!);
  return sum;
}

/** scipy.spatial.distance.jensenshannon (natural log): both vectors normalised, √(½ KL(p‖m) + ½ KL(q‖m)). */
export function jensenShannon(p0: Float64Array, q0: Float64Array): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p0.length; i++) {
    sp += p0[i]!;
    sq += q0[i]!;
  }
  let js = 0;
  for (let i = 0; i < p0.length; i++) {
    const p = p0[i]! / sp;
    const q = q0[i]! / sq;
    const m = (p + q) / 2;
    if (p > 0) js += p * Math.log(p / m);
    if (q > 0) js += q * Math.log(q / m);
  }
  return Math.sqrt(Math.max(js, 0) / 2);
}

/**
 * One merge walk over both sorted samples: the two-sample KS statistic (largest gap between the
 * ECDFs, each taken after all ties of a value) and W1 = ∫|F_ref − F_cur| dx.
 */
export function ecdfDistances(ref: Sorted, cur: Sorted): { ks: number; w1: number } {
  const n1 = ref.length;
  const n2 = cur.length;
  let i = 0;
  let j = 0;
  let maxPlus = 0;
  let maxMinus = 0;
  let w1 = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!;
    while (i < n1 && ref[i] === v) i++;
    while (j < n2 && cur[j] === v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxPlus) maxPlus = diff;
    if (-diff > maxMinus) maxMinus = -diff;
    if (i < n1 || j < n2) {
      const next = j >= n2 || (i < n1 && ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!;
      w1 += Math.abs(diff) * (next - v);
    }
  }
  return { ks: Math.max(maxPlus, Math.min(maxMinus, 1)), w1 };
}

/** Population standard deviation (ddof 0), two passes for accuracy. */
export function std(sorted: Sorted): number {
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / sorted.length;
  let sq = 0;
  for (const v of sorted) sq += (v - mean) ** 2;
  return Math.sqrt(sq / sorted.length);
}

/** Evidently's χ² test: expected = reference counts × n_cur/n_ref over the union of values, k − 1 degrees of freedom. */
export function chiSquareTest(u: UnionCounts): { statistic: number; pValue: number } {
  let nRef = 0;
  let nCur = 0;
  for (let i = 0; i < u.keys.length; i++) {
    nRef += u.reference[i]!;
    nCur += u.current[i]!;
  }
  const scale = nCur / nRef;
  let stat = 0;
  for (let i = 0; i < u.keys.length; i++) {
    const expected = u.reference[i]! * scale;
    const observed = u.current[i]!;
    stat += expected === 0 ? (observed === 0 ? 0 : Number.POSITIVE_INFINITY) : (observed - expected) ** 2 / expected;
  }
  const dof = u.keys.length - 1;
  return { statistic: stat, pValue: dof > 0 ? chiSquareSf(stat, dof) : Number.NaN };
}

/**
 * Evidently's Z test of two proportions: the share of the first value (sorted) on each side, pooled
 * variance, two-sided p = 2·(1 − Φ(|z|)); one identical value on both sides gives p = 1.
 */
export function zTest(u: UnionCounts): { statistic: number; pValue: number } {
  let nRef = 0;
  let nCur = 0;
  for (let i = 0; i < u.keys.length; i++) {
    nRef += u.reference[i]!;
    nCur += u.current[i]!;
  }
  if (u.keys.length === 1) return { statistic: 0, pValue: 1 };
  const p1 = u.reference[0]! / nRef;
  const p2 = u.current[0]! / nCur;
  const pooled = (p1 * nRef + p2 * nCur) / (nRef + nCur);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / nRef + 1 / nCur));
  return { statistic: z, pValue: 2 * normalSf(Math.abs(z)) };
}
