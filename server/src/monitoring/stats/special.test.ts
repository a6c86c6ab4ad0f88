import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareSf, gammaP, gammaQ, kolmogorovSf, ksTwoSamplePValue, normalSf, roundHalfEven, smirnovSf } from './special.js';

/** Relative closeness, with an absolute floor for values near zero. */
function near(actual: number, expected: number, rel = 1e-9, abs = 1e-300) {
  assert.ok(Math.abs(actual - expected) <= abs + rel * Math.abs(expected), `${actual} vs ${expected}`);
}

// Expected values are scipy 1.17's (scipy.stats.chi2.sf, norm.sf, kstwo.sf, scipy.special.smirnov, ks_2samp internals).
test('χ² survival function: both tails and large degrees of freedom', () => {
  near(chiSquareSf(3, 2), 0.22313016014842982);
  near(chiSquareSf(0.01, 5), 0.9999994699729957);
  near(chiSquareSf(1e-6, 1), 0.9992021155721779);
  near(chiSquareSf(30, 1), 4.3204630578274955e-8);
  near(chiSquareSf(200, 10), 1.6139305336977317e-37);
  near(chiSquareSf(5000, 4000), 1.6633156038804178e-25, 1e-10);
  assert.equal(chiSquareSf(0, 3), 1);
  assert.equal(chiSquareSf(Number.POSITIVE_INFINITY, 3), 0);
  assert.ok(Number.isNaN(chiSquareSf(1, 0)));
  near(gammaP(2.5, 1) + gammaQ(2.5, 1), 1, 1e-15);
});

test('normal survival function: centre and far tails', () => {
  near(normalSf(0), 0.5, 1e-15);
  near(normalSf(0.5), 0.3085375387259869);
  near(normalSf(-2), 0.9772498680518208);
  near(normalSf(9), 1.1285884059538324e-19);
  near(normalSf(37), 5.7255712225239266e-300, 1e-9, 0);
});

test('Kolmogorov one-sample distributions in every region scipy switches between', () => {
  near(kolmogorovSf(10, 0.3), 0.27053557479999946); // n ≤ 140, Durbin
  near(kolmogorovSf(100, 0.05), 0.9532159710635725);
  near(kolmogorovSf(100, 0.2), 0.0005551927327988775, 1e-8); // n ≤ 140, 2·smirnov
  near(kolmogorovSf(200, 0.6), 2.2284451128877564e-69); // x ≥ 0.5
  near(kolmogorovSf(5000, 0.004), 0.9999977369528622); // Durbin, upper tail of the CDF
  near(kolmogorovSf(5000, 0.02), 0.03613941395325637);
  near(kolmogorovSf(50000, 0.002), 0.9880386605338913);
  near(kolmogorovSf(120000, 0.0015), 0.9496193539984348); // Pelz–Good
  near(kolmogorovSf(120000, 0.004), 0.04287201966716936);
  near(kolmogorovSf(500000, 0.001), 0.698980144366366);
  near(kolmogorovSf(500000, 0.003), 0.00024632301239186754, 1e-8); // 2·smirnov, lower tail
  assert.equal(kolmogorovSf(300, 0.002), 1); // below 1/(2n)
  assert.equal(kolmogorovSf(100, 1), 0);
  near(smirnovSf(50, 0.1), 0.34490701996888);
  near(smirnovSf(5000, 0.02), 0.01806981293722266, 1e-9);
});

test('two-sample KS p-values: exact for equal and unequal sizes, asymptotic past 10,000', () => {
  near(ksTwoSamplePValue(100, 100, 0.2).pValue, 0.03638428787491733);
  near(ksTwoSamplePValue(300, 200, 0.15).pValue, 0.008336939675395796);
  near(ksTwoSamplePValue(1000, 700, 0.05).pValue, 0.24552136352669604);
  near(ksTwoSamplePValue(50, 30, 0.6).pValue, 8.598157513181867e-7);
  assert.equal(ksTwoSamplePValue(5000, 3000, 0.02).method, 'exact');
  near(ksTwoSamplePValue(20000, 15000, 0.015).pValue, 0.04183987751301477);
  const big = ksTwoSamplePValue(1_000_000, 1_000_000, 0.0015);
  assert.equal(big.method, 'asymp');
  near(big.pValue, 0.21034190155828947);
  assert.deepEqual(ksTwoSamplePValue(10, 10, 0), { statistic: 0, pValue: 1, method: 'exact' });
});

test('numpy rounding: halves to even', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, 2, 3]);
});
