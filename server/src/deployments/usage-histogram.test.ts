import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, LATENCY_BUCKETS, quantileOf, upperBoundMs } from './usage-histogram.js';

describe('the usage latency histogram', () => {
  test('each latency falls in the bucket whose bounds hold it', () => {
    for (const ms of [0.01, 0.5, 0.51, 1, 3, 10, 99.9, 1000, 65_536]) {
      const b = bucketOf(ms);
      assert.ok(ms <= upperBoundMs(b), `${ms} ms above bucket ${b}`);
      if (b > 0) assert.ok(ms > upperBoundMs(b - 1), `${ms} ms belongs below bucket ${b}`);
    }
    assert.equal(bucketOf(1e9), LATENCY_BUCKETS - 1);
  });

  test('percentiles of summed buckets are within the bucket width (√2) of the exact ones', () => {
    // 1000 calls: latencies 1..1000 ms (uniform), so p50 = 500, p95 = 950, p99 = 990.
    const a = new Array<number>(LATENCY_BUCKETS).fill(0);
    const b = new Array<number>(LATENCY_BUCKETS).fill(0);
    for (let ms = 1; ms <= 1000; ms++) (ms % 2 ? a : b)[bucketOf(ms)]!++;
    // Two servers' (or minutes') histograms add bucket by bucket.
    const sum = a.map((n, i) => n + b[i]!);
    for (const [q, exact] of [
      [0.5, 500],
      [0.95, 950],
      [0.99, 990],
    ] as const) {
      const got = quantileOf(sum, q)!;
      assert.ok(got / exact < Math.SQRT2 && exact / got < Math.SQRT2, `q${q}: ${got} vs ${exact}`);
    }
    assert.ok(quantileOf(sum, 0.5)! <= quantileOf(sum, 0.95)! && quantileOf(sum, 0.95)! <= quantileOf(sum, 0.99)!);
    assert.equal(quantileOf(new Array(LATENCY_BUCKETS).fill(0), 0.5), null);
    // All calls in one bucket: every percentile inside that bucket's bounds.
    const one = new Array<number>(LATENCY_BUCKETS).fill(0);
    one[bucketOf(20)] = 7;
    const p = quantileOf(one, 0.99)!;
    assert.ok(p > upperBoundMs(bucketOf(20) - 1) && p <= upperBoundMs(bucketOf(20)), String(p));
  });
});
