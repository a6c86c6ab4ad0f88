// The static run report: self-contained (no script, nothing fetched), every user string escaped,
// drifted columns marked and drawn side by side, performance and SHAP sections when the run has them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDrift, MonitorRun } from '@forja/contracts';
import { renderRunReport, type ReportMonitor } from './report.js';
import { fmt } from './report-svg.js';

const HOSTILE = '<script>alert(1)</script>';

function column(name: string, drifted: boolean, over: Partial<ColumnDrift> = {}): ColumnDrift {
  return {
    column: name,
    kind: 'numerical',
    result: { method: 'psi', statistic: drifted ? 0.83 : 0.01, pValue: null, threshold: 0.1, drifted },
    others: [],
    drifted,
    referenceRows: 1000,
    currentRows: 500,
    missing: { reference: 0, current: 0 },
    missingShare: { reference: 0, current: 0 },
    infinite: { reference: 0, current: 0 },
    range: { min: 0, max: 10, outsideShare: drifted ? 0.4 : 0 },
    unseen: null,
    note: null,
    distribution: { edges: [0, 2.5, 5, 7.5, 10], reference: [0.25, 0.25, 0.25, 0.25], current: drifted ? [0, 0.1, 0.3, 0.6] : [0.24, 0.26, 0.25, 0.25] },
    ...over,
  };
}

const monitor: ReportMonitor = {
  name: 'credit-watch',
  group: 'risk',
  description: `Watches ${HOSTILE} for the board`,
  target: { deployment: 'scorer' },
  reference: { kind: 'table', table: 'train', filter: "region = 'north'" },
  period: 'day',
};

function run(over: Partial<MonitorRun> = {}): MonitorRun {
  return {
    id: 'run1',
    monitorId: 'm1',
    status: 'succeeded',
    jobId: null,
    trigger: 'manual',
    windowStart: Date.UTC(2026, 11, 6),
    windowEnd: Date.UTC(2026, 11, 7),
    currentRows: 500,
    drift: {
      columns: [
        column('age', false, { missing: { reference: 0, current: 50 }, missingShare: { reference: 0, current: 0.1 } }),
        column('income', true),
        column(HOSTILE, false, {
          kind: 'categorical',
          range: null,
          unseen: { share: 0.05, examples: ['"><img src=x onerror=alert(2)>'] },
          distribution: { categories: ['a', '"><img src=x onerror=alert(2)>'], reference: [0.5, 0.5], current: [0.45, 0.55] },
        }),
      ],
      driftedColumns: 1,
      driftShare: 1 / 3,
      datasetDrift: false,
      referenceRows: 1000,
      currentRows: 500,
      tookMs: 12,
    },
    performance: {
      task: 'classification',
      labelledRows: 400,
      metrics: { roc_auc: 0.54, f1: 0 },
      baseline: { roc_auc: 0.59, f1: 0.4 },
      degraded: [{ metric: 'f1', baseline: 0.4, current: 0 }],
    },
    explanations: { rows: 200, explainer: 'tree', importance: [{ feature: 'income', current: 0.3, reference: 0.1 }] },
    metrics: { rows: 500, 'drift.share': 1 / 3, 'drift.income.psi': 0.83 },
    referenceRows: 1000,
    problems: [{ part: 'explanations', message: `shap is not installed ${HOSTILE}` }],
    error: null,
    createdAt: Date.UTC(2026, 11, 7),
    finishedAt: Date.UTC(2026, 11, 7, 0, 1),
    ...over,
  };
}

test('the report is one self-contained document: no script, no link, nothing fetched', () => {
  const html = renderRunReport(monitor, run(), Date.UTC(2026, 11, 7, 1));
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<link|<img|<iframe|@import|url\(/i);
  assert.doesNotMatch(html, /<[a-z][^>]*\s(src|href)=/i, 'no tag carries a src or href');
  assert.match(html, /default-src 'none'/, 'a CSP forbids any fetch even if something slipped through');
});

test('user strings are escaped: monitor description, column names and category values', () => {
  const html = renderRunReport(monitor, run(), 0);
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;'));
  assert.ok(html.includes('region = &#39;north&#39;'));
});

test('the drifted column is marked and its reference and current distributions are drawn side by side', () => {
  const html = renderRunReport(monitor, run(), 0);
  const row = html.match(/<tr class="drifted" data-column="income">.*?<\/tr>/)?.[0];
  assert.ok(row, 'income has a drifted row');
  assert.match(row, /drifted<\/span>/);
  assert.match(html, /<tr class="" data-column="age">.*?stable.*?missing 0 % → 10 %/);
  assert.match(row, /40 % outside \[0, 10\]/);
  const figure = html.match(/<figure class="drifted"><figcaption><strong>income<\/strong>.*?<\/figure>/)?.[0];
  assert.ok(figure, 'income has a drifted chart');
  // Four bins, a reference and a current bar each; the current bars in the drift colour.
  assert.equal(figure.match(/<rect /g)?.length, 8);
  assert.equal(figure.match(/fill="#dc2626"/g)?.length, 4);
  assert.ok(html.indexOf('data-column="income"') < html.indexOf('data-column="age"'), 'drifted columns come first');
});

test('performance flags the degraded metric against its baseline; SHAP and the flat metrics are listed', () => {
  const html = renderRunReport(monitor, run(), 0);
  assert.match(html, /<tr class="drifted"><td class="name">f1<\/td><td class="num">0<\/td><td class="num">0.4<\/td><td><span class="badge red">degraded/);
  assert.match(html, /tree explainer on 200 rows/);
  assert.match(html, /drift\.income\.psi<\/td><td class="num">0.83/);
  assert.match(html, /<li><strong>explanations<\/strong>: shap is not installed &lt;script&gt;/, 'a part that failed without failing the run is said');
});

test('a failed run shows its error, escaped, and no drift numbers', () => {
  const html = renderRunReport(
    monitor,
    run({ status: 'failed', drift: null, performance: null, explanations: null, metrics: {}, error: `reference has zero rows ${HOSTILE}` }),
    0,
  );
  assert.match(html, /The run failed<\/h2>reference has zero rows &lt;script&gt;/);
  assert.match(html, /This run computed no drift/);
  assert.doesNotMatch(html, /Performance<\/h2>/);
});

test('numbers read as a person writes them', () => {
  assert.equal(fmt(null), '—');
  assert.equal(fmt(0.123456), '0.1235');
  assert.equal(fmt(1200), '1200');
  assert.equal(fmt(1e-6), '1.00e-6');
  assert.equal(fmt(Number.POSITIVE_INFINITY), '∞');
});
