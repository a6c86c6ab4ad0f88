/**
 * The fixed latency histogram every usage row keeps: bucket i holds calls of at most
 * 2^((i-2)/2) ms (0.5 ms, 0.71 ms, 1 ms … 65.5 s, a factor √2 apart) and the last bucket the slower
 * ones. Fixed bounds make histograms of different servers and minutes add up bucket by bucket, so a
 * window's percentiles are computed from sums, never from stored percentiles (which do not add).
 * A percentile is interpolated on the log scale inside its bucket: within ±19 %, usually far less.
 */
export const LATENCY_BUCKETS = 36;
const BOUNDED = LATENCY_BUCKETS - 1;

export function upperBoundMs(i: number): number {
  return i >= BOUNDED ? Number.POSITIVE_INFINITY : 2 ** ((i - 2) / 2);
}

export function bucketOf(ms: number): number {
  if (!(ms > 0.5)) return 0;
  return Math.min(BOUNDED, Math.ceil(2 * Math.log2(ms) + 2 - 1e-9));
}

/** The q-th quantile (0..1) of the calls counted in `buckets`; null when there are none. */
export function quantileOf(buckets: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i]!;
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n === 0) continue;
    if (below + n >= rank) {
      const hi = i >= BOUNDED ? upperBoundMs(BOUNDED - 1) * Math.SQRT2 : upperBoundMs(i);
      const lo = i === 0 ? hi / 2 : hi / Math.SQRT2;
      const within = Math.min(1, Math.max(0, (rank - below) / n));
      return Math.round(lo * (hi / lo) ** within * 1000) / 1000;
    }
    below += n;
  }
  return upperBoundMs(BOUNDED - 1);
}
