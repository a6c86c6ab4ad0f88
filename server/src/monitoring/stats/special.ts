/**
 * The distribution functions the drift tests need, written for this module: the regularised upper
 * incomplete gamma (χ² and normal tails), and the Kolmogorov–Smirnov distributions that
 * scipy.stats.ks_2samp uses with method='auto' (exact path counting for samples up to 10,000, else
 * the one-sample two-sided distribution at n = round(n₁n₂/(n₁+n₂))), chosen by the same regions
 * (Simard & L'Ecuyer 2011) so p-values agree with scipy to well under 1e-6.
 */

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const EPS = 2.220446049250313e-16;
const TINY = 1e-300;

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The lower regularised gamma P(a, x) by its power series (converges fast for x < a + 1). */
function gammaPSeries(a: number, x: number): number {
  let sum = 1 / a;
  let term = sum;
  for (let n = 1; n < 100_000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** The upper regularised gamma Q(a, x) by its continued fraction (modified Lentz; for x ≥ a + 1). */
function gammaQFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Q(a, x) = Γ(a, x)/Γ(a): accurate in both tails (each side computed directly, never as 1 − tiny). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQFraction(a, x);
}

/** P(a, x) = 1 − Q(a, x), from the side that keeps precision. */
export function gammaP(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQFraction(a, x);
}

/** The χ² survival function with k degrees of freedom (scipy.stats.chi2.sf). */
export function chiSquareSf(x: number, k: number): number {
  if (!(k > 0)) return Number.NaN;
  return gammaQ(k / 2, x / 2);
}

/** The standard normal survival function 1 − Φ(z), precise far into both tails. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const q = 0.5 * gammaQ(0.5, (z * z) / 2);
  return z >= 0 ? q : 1 - q;
}

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const clip = (p: number) => Math.min(1, Math.max(0, p));

/** Pr(D_{n,n} ≥ h/n) for two samples of the same size: the alternating reflection sum, nested so nothing cancels. */
function equalSizeOutside(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let a = 1;
    for (let j = 0; j < h; j++) a = ((n - k * h - j) * a) / (n + k * h + j + 1);
    p = a * (1 - p);
  }
  return 2 * p;
}

/**
 * Pr(D_{m,n} ≥ h/lcm) for unequal sizes: the share of lattice paths from (0,0) to (m,n) that leave
 * the band |x/m − y/n| < h/lcm, by Hodges' column recursion written for 1 − p (Viehmann 2021) so
 * every entry stays in [0, 1].
 */
function unequalSizeOutside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const column = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  column.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (column[jj + minj - lastminj]! * i + val * j) / (i + j);
      column[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) column.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return column[maxj - minj - 1]!;
}

/** ln(n!/nⁿ) by Stirling's series (n > 140 here, so four terms are exact to double precision). */
function lnFactorialOverPower(n: number): number {
  const r = 1 / n;
  const r2 = r * r;
  return Math.log(n) / 2 - n + LN_SQRT_2PI + r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)));
}

/**
 * Pr(D_n⁺ ≥ x), the one-sided one-sample statistic (scipy.special.smirnov): Birnbaum and Tingey's
 * sum of positive terms, each in logs, the binomial carried from term to term; above n = 10⁶ the
 * Miller approximation, as scipy does.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0) || !(x >= 0 && x <= 1)) return Number.NaN;
  if (x === 0) return 1;
  if (x === 1) return 0;
  if (n === 1) return x === 0 ? 1 : 1 - x;
  const nx = n * x;
  if (nx <= 1) return clip(1 - x * (1 + x) ** (n - 1));
  if (-2 * n * x * x < -745) return 0;
  if (Math.floor(nx) >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) return Math.exp(-((6 * nx + 1) ** 2) / 18 / n);
  const last = Math.floor(n * (1 - x));
  const lnx = Math.log(x);
  let lnC = 0; // ln C(n, v)
  let sum = 0;
  let lnMax = Number.NEGATIVE_INFINITY;
  for (let v = 0; v <= last; v++) {
    const below = (n - v) / n - x; // 1 − x − v/n
    if (below > 0) {
      const t = lnC + lnx + (v - 1) * Math.log(x + v / n) + (n - v) * Math.log(below);
      if (t > lnMax) {
        sum *= Math.exp(lnMax - t);
        lnMax = t;
      }
      const term = Math.exp(t - lnMax);
      sum += term;
      // Past the peak the terms only shrink: stop once the rest cannot reach the last bit.
      if (term < EPS * 1e-3 * sum && t < lnMax && v > n * x) break;
    }
    lnC += Math.log((n - v) / (v + 1));
  }
  return clip(sum * Math.exp(lnMax));
}

/**
 * Pr(D_n ≤ d) by Durbin's matrix (Marsaglia, Tsang & Wang 2003): the k-th diagonal entry of Hⁿ
 * times n!/nⁿ, with H of size 2k−1 for d = (k−h)/n; powers are rescaled by 2¹²⁸ to stay finite.
 */
function durbinCdf(n: number, d: number): number {
  const nd = n * d;
  if (d >= 1) return 1;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const H = Array.from({ length: m }, () => new Float64Array(m));
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  v[m - 1] = (1 + Math.max(2 * h - 1, 0) ** m - 2 * h ** m) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r]![i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r]![0] = v[r]!;
  for (let c = 0; c < m; c++) H[m - 1]![c] = v[m - 1 - c]!;
  const SCALE = 2 ** 128;
  const multiply = (a: Float64Array[], b: Float64Array[]) => {
    const out = Array.from({ length: m }, () => new Float64Array(m));
    for (let i = 0; i < m; i++) {
      const ai = a[i]!;
      const oi = out[i]!;
      for (let l = 0; l < m; l++) {
        const x = ai[l]!;
        if (x === 0) continue;
        const bl = b[l]!;
        for (let j = 0; j < m; j++) oi[j]! += x * bl[j]!;
      }
    }
    return out;
  };
  let power = Array.from({ length: m }, (_, i) => {
    const row = new Float64Array(m);
    row[i] = 1;
    return row;
  });
  let base = H;
  let exponent = 0;
  let baseExponent = 0;
  for (let left = n; left > 0; left = Math.floor(left / 2)) {
    if (left % 2) {
      power = multiply(power, base);
      exponent += baseExponent;
    }
    base = multiply(base, base);
    baseExponent *= 2;
    if (Math.abs(base[k - 1]![k - 1]!) > SCALE) {
      for (const row of base) for (let j = 0; j < m; j++) row[j]! /= SCALE;
      baseExponent += 128;
    }
  }
  let p = power[k - 1]![k - 1]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 1 / SCALE) {
      p *= SCALE;
      exponent -= 128;
    }
  }
  return clip(p * 2 ** exponent);
}

/** Pelz and Good's approximation to Pr(D_n ≤ x), the Li-Chien/Korolyuk expansion rewritten for small z = x√n. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const pi2 = Math.PI ** 2;
  const pi4 = pi2 * pi2;
  const pi6 = pi4 * pi2;
  const qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = pi2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * pi2) / 4;
  const k2c = (pi4 * (1 - 2 * z2)) / 16;
  const k3d = (pi6 * (5 - 30 * z2)) / 64;
  const k3c = (pi4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (pi2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z2 * z6;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  // Sums over odd m = 2k−1 of c·q^(m²), evaluated as a Horner scheme in q⁸ᵏ.
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = q ** (8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + c[i]!;
  }
  const sqrt2pi = Math.sqrt(2 * Math.PI);
  const divisors = [z, 6 * z4, 72 * z6 * z, 6480 * z4 * z6];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * sqrt2pi) / divisors[i]!;
  // The terms over all integers k for K₂ and K₃.
  q = Math.exp(-pi2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2] = K[2]! + (k2extra * pi2 * sqrt2pi) / (-36 * z2 * z);
  K[3] = K[3]! + (k3extra * pi2 * sqrt2pi) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}

/** Pr(D_n ≥ x), the two-sided one-sample statistic (scipy.stats.kstwo.sf), by Simard and L'Ecuyer's regions. */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= (i / n) * (2 * t - 1);
    } else prob = Math.exp(lnFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nxx = t * x;
  if (n <= 140) {
    // Durbin's matrix is exact everywhere; scipy takes Pomeranz's recursion for 0.75 < nx² ≤ 4 (the same number).
    if (nxx <= 4) return clip(1 - durbinCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nxx >= 370) return 0;
  if (nxx >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf = nxx >= 18 ? 1 : n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

/** The two-sided p-value of the two-sample KS statistic d as scipy.stats.ks_2samp(method='auto') gives it, and the statistic it reports. */
export function ksTwoSamplePValue(n1: number, n2: number, d: number): { statistic: number; pValue: number; method: 'exact' | 'asymp' } {
  if (Math.max(n1, n2) <= 10_000) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const exactD = h / lcm;
    if (h === 0) return { statistic: exactD, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? equalSizeOutside(n1, h) : unequalSizeOutside(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: exactD, pValue: p, method: 'exact' };
    d = exactD; // scipy falls back to the asymptotic form with the rounded statistic
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: clip(kolmogorovSf(roundHalfEven(en), d)), method: 'asymp' };
}
