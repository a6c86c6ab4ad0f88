// The tracking pages in Debian's Chromium against the real server: data is logged through the
// same API the SDKs use, then every page is driven and checked as a user would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { http, TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, shot, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
const api = (method: string, path: string, body?: unknown) => http(server.url, method, path, { token: server.adminToken, body });

async function ok(method: string, path: string, body?: unknown) {
  const r = await api(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

async function upload(runId: string, path: string, body: string | Buffer) {
  const r = await http(server.url, 'PUT', `/api/v1/runs/${runId}/artifacts/file?path=${encodeURIComponent(path)}`, { token: server.adminToken, rawBody: body });
  assert.equal(r.status, 200, r.text);
}

// Five runs whose creation order, accuracy order and parameters all differ, so sorting and filtering show.
const seeds = [
  { name: 'baseline', lr: '0.1', depth: '3', acc: 0.81, status: 'FINISHED' },
  { name: 'deep-trees', lr: '0.05', depth: '8', acc: 0.93, status: 'FINISHED' },
  { name: 'fast-lr', lr: '0.5', depth: '3', acc: 0.77, status: 'FAILED' },
  { name: 'tuned', lr: '0.01', depth: '6', acc: 0.88, status: 'FINISHED' },
  { name: 'tiny', lr: '0.001', depth: '2', acc: 0.69, status: 'RUNNING' },
] as const;
const STEPS = 10;

let experimentId: string;
let otherExperimentId: string;
const runIds = new Map<string, string>();

before(async () => {
  harness = await startHarness();
  server = harness.server;

  const exp = await ok('POST', '/api/v1/experiments', {
    name: 'churn-model',
    tags: [
      { key: 'team', value: 'growth' },
      { key: 'mlflow.note.content', value: 'Gradient boosting on the churn features.' },
    ],
  });
  experimentId = exp.experimentId;
  otherExperimentId = (await ok('POST', '/api/v1/experiments', { name: 'fraud-detection', tags: [{ key: 'team', value: 'risk' }] })).experimentId;

  const hour = 3_600_000;
  const t0 = Date.now() - seeds.length * hour;
  for (const [i, s] of seeds.entries()) {
    const start = t0 + i * hour;
    const run = await ok('POST', '/api/v1/runs', { experimentId, runName: s.name, startTime: start, tags: [{ key: 'team', value: i % 2 ? 'a' : 'b' }] });
    const runId: string = run.info.runId;
    runIds.set(s.name, runId);
    const metrics = [];
    for (let step = 0; step < STEPS; step++) {
      const acc = s.acc - (STEPS - 1 - step) * 0.03;
      metrics.push({ key: 'acc', value: Number(acc.toFixed(4)), step, timestamp: start + step * 60_000 });
      metrics.push({ key: 'loss', value: Number((1.2 - acc + (step % 3) * 0.01).toFixed(4)), step, timestamp: start + step * 60_000 });
    }
    metrics.push({ key: 'precision', value: s.acc + 0.01, step: STEPS - 1, timestamp: start + STEPS * 60_000 });
    metrics.push({ key: 'recall', value: Number((s.acc - 0.02).toFixed(4)), step: STEPS - 1, timestamp: start + STEPS * 60_000 });
    await ok('POST', `/api/v1/runs/${runId}/batch`, {
      params: [
        { key: 'lr', value: s.lr },
        { key: 'max_depth', value: s.depth },
        { key: 'optimizer', value: 'adam' },
      ],
      metrics,
    });
    if (s.status !== 'RUNNING') await ok('PATCH', `/api/v1/runs/${runId}`, { status: s.status, endTime: start + (i + 1) * 7 * 60_000 });
  }

  const best = runIds.get('deep-trees')!;
  await upload(
    best,
    'eval/metrics.json',
    JSON.stringify({
      accuracy: 0.93,
      f1: 0.91,
      confusion: [
        [50, 3],
        [4, 43],
      ],
    }),
  );
  const rows = [
    'id,age,income,churned',
    ...Array.from({ length: 30 }, (_, i) => `${i + 1},${20 + i},${(30_000 + i * 1234).toFixed(0)},${i % 3 === 0 ? 'yes' : 'no'}`),
  ];
  await upload(best, 'data/sample.csv', rows.join('\n') + '\n');
  await upload(best, 'plots/roc.png', pngChart(320, 200));
  await upload(best, 'logs/train.log', Array.from({ length: 40 }, (_, i) => `[epoch ${i}] loss=${(1 / (i + 1)).toFixed(4)}`).join('\n'));
  await upload(best, 'model/MLmodel', 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n');
});

after(async () => {
  await harness?.close();
});

async function signedIn(): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const { context, page, errors } = await openPage(harness.browser);
  await login(page, server.url, 'admin', TEST_ADMIN_PASSWORD);
  await page.getByTestId('user-menu').waitFor();
  return { page, errors, close: () => context.close() };
}

const runNames = (page: Page) => page.getByTestId('run-row').locator('td.col-name').allInnerTexts();
const byAcc = (desc: boolean) => [...seeds].sort((a, b) => (desc ? b.acc - a.acc : a.acc - b.acc)).map((s) => s.name);

test('the experiments list shows the group’s experiments; search, create, delete and restore', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.getByTestId('experiments-table').waitFor();
    const row = page.getByTestId('experiment-row-churn-model');
    await row.waitFor();
    assert.match(await row.innerText(), /Gradient boosting on the churn features/);
    assert.match(await row.innerText(), /team\s*growth/);
    assert.match(await row.innerText(), new RegExp(`\\b${experimentId}\\b`));
    await page.getByTestId('experiment-row-fraud-detection').waitFor();
    await shot(page, 'tracking-experiments');

    await page.getByTestId('experiments-search').fill('CHURN');
    await page.getByTestId('experiment-row-fraud-detection').waitFor({ state: 'detached' });
    await row.waitFor();
    await page.getByTestId('experiments-search').fill('');

    // Delete asks first; the row then only shows with "Show deleted", where it can be restored.
    await page.getByRole('button', { name: 'Delete fraud-detection' }).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('experiment-row-fraud-detection').waitFor({ state: 'detached' });
    assert.equal((await api('GET', `/api/v1/experiments/${otherExperimentId}`)).body.lifecycleStage, 'deleted');
    await page.getByTestId('show-deleted').check();
    const deleted = page.getByTestId('experiment-row-fraud-detection');
    await deleted.getByText('deleted', { exact: true }).waitFor();
    await deleted.getByRole('button', { name: 'Restore fraud-detection' }).click();
    await deleted.getByRole('button', { name: 'Delete fraud-detection' }).waitFor();
    assert.equal((await api('GET', `/api/v1/experiments/${otherExperimentId}`)).body.lifecycleStage, 'active');

    await page.getByTestId('new-experiment').click();
    const dialog = page.getByTestId('create-experiment-dialog');
    await dialog.getByLabel('Name').fill('from-the-ui');
    await dialog.getByLabel('Description').fill('Made by the browser test.');
    await shot(page, 'tracking-new-experiment');
    await dialog.getByRole('button', { name: 'Create experiment' }).click();
    await page.waitForURL(/\/experiments\/\d+$/);
    await page.getByRole('heading', { name: 'from-the-ui' }).waitFor();
    await page.getByText('No runs yet').waitFor();
    const created = (await api('GET', '/api/v1/experiments/by-name/from-the-ui')).body;
    assert.deepEqual(created.tags, [{ key: 'mlflow.note.content', value: 'Made by the browser test.' }]);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('runs table: columns from the chooser, sorting by header, the filter grammar with inline errors, and compare', async () => {
  const { page, errors, close } = await signedIn();
  const searches: { columns?: string[]; orderBy?: string[]; filter?: string }[] = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/api/v1/runs/search') && req.method() === 'POST') searches.push(JSON.parse(req.postData() ?? '{}'));
  });
  try {
    await page.getByTestId('experiment-row-churn-model').getByRole('link', { name: 'churn-model' }).click();
    await page.waitForURL(new RegExp(`/experiments/${experimentId}$`));
    await page.getByTestId('runs-table').waitFor();
    await waitFor(async () => (await page.getByTestId('run-row').count()) === seeds.length, 'the five runs');
    // Newest first, as the server orders by default.
    assert.deepEqual(await runNames(page), seeds.map((s) => s.name).reverse());
    const tiny = page.locator('[data-testid="run-row"][data-run-name="tiny"]');
    assert.match(await tiny.innerText(), /running/);
    assert.match(await page.locator('[data-testid="run-row"][data-run-name="fast-lr"]').innerText(), /failed/);

    // By default the metrics and params that vary are shown (recall too: logged last); tags are not, until chosen.
    await page.getByTestId('sort-metrics.recall').waitFor();
    assert.equal(await page.getByTestId('sort-params.optimizer').count(), 0, 'a param with one value for every run is not a default column');
    assert.equal(await page.getByTestId('sort-tags.team').count(), 0);
    await page.getByTestId('column-chooser').click();
    await page.getByTestId('column-chooser-panel').getByPlaceholder('Find a metric, param or tag').fill('tea');
    await shot(page, 'tracking-column-chooser');
    await page.getByTestId('column-option-tags.team').check();
    // Applied when the chooser closes.
    await page.keyboard.press('Escape');
    await page.getByTestId('sort-tags.team').waitFor();
    await waitFor(async () => (await tiny.locator('[data-column="tags.team"]').innerText()) === 'b', 'the team of "tiny" in its new column');
    const last = searches[searches.length - 1]!;
    assert.ok(last.columns?.includes('tags.team'), `the table asks only for its columns: ${JSON.stringify(last.columns)}`);
    assert.ok(!last.columns?.includes('params.optimizer'), 'and not for the ones it does not show');

    // Sorting by a metric header: first click descending, second ascending.
    await page.getByTestId('sort-metrics.acc').click();
    await waitFor(async () => JSON.stringify(await runNames(page)) === JSON.stringify(byAcc(true)), 'runs sorted by acc, best first');
    assert.deepEqual(searches[searches.length - 1]!.orderBy, ['metrics.`acc` DESC']);
    await shot(page, 'tracking-runs');
    await page.getByTestId('sort-metrics.acc').click();
    await waitFor(async () => JSON.stringify(await runNames(page)) === JSON.stringify(byAcc(false)), 'runs sorted by acc, worst first');
    assert.match(page.url(), /sort=metrics.acc&desc=0/);

    // The filter grammar, with OR.
    await page.getByTestId('runs-filter').fill("metrics.acc > 0.85 OR params.lr = '0.001'");
    await page.getByTestId('runs-filter').press('Enter');
    await waitFor(
      async () => JSON.stringify((await runNames(page)).sort()) === JSON.stringify(['deep-trees', 'tiny', 'tuned']),
      'the filter to keep three runs',
    );

    // A mistake shows the server's message, with the position it names.
    const bad = 'metrics.acc >> 1';
    const expected = (await api('POST', '/api/v1/runs/search', { experimentIds: [experimentId], filter: bad })).body.error.message as string;
    await page.getByTestId('runs-filter').fill(bad);
    await page.getByTestId('runs-filter').press('Enter');
    const error = page.getByTestId('filter-error');
    await error.waitFor();
    assert.match(await error.innerText(), new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(expected, /position 13/);
    await shot(page, 'tracking-filter-error');

    await page.getByTestId('runs-filter').fill("params.max_depth IN ('3', '8')");
    await page.getByTestId('runs-filter').press('Enter');
    await waitFor(async () => (await page.getByTestId('run-row').count()) === 3, 'the IN filter to keep three runs');
    assert.equal(await page.getByTestId('filter-error').count(), 0);

    // Select three runs and compare them.
    for (const name of ['baseline', 'deep-trees', 'fast-lr']) await page.getByLabel(`Select ${name}`).check();
    await page.getByTestId('selected-count').getByText('3 selected').waitFor();
    await page.getByTestId('compare-runs').click();
    await page.waitForURL(/\/compare\?runs=/);
    await page.getByTestId('compare-page').waitFor();
    const lr = page.locator('[data-testid="param-diff-row"][data-key="lr"]');
    const optimizer = page.locator('[data-testid="param-diff-row"][data-key="optimizer"]');
    assert.equal(await lr.getAttribute('data-differs'), 'true');
    assert.equal(await optimizer.getAttribute('data-differs'), 'false');
    assert.match(await lr.innerText(), /0\.1\s+0\.05\s+0\.5/);
    await page.getByTestId('compare-chart').locator('canvas').first().waitFor();
    assert.equal(await page.getByTestId('compare-metric').inputValue(), 'acc');
    await page.getByTestId('compare-metric').selectOption('loss');
    await page.getByTestId('compare-chart').getByText('baseline').first().waitFor();
    await shot(page, 'tracking-compare');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('run detail: info, params, metrics, charts over steps and time, and artifact previews', async () => {
  const { page, errors, close } = await signedIn();
  const runId = runIds.get('deep-trees')!;
  try {
    await page.goto(`${server.url}/runs/${runId}`);
    const info = page.getByTestId('run-info');
    await info.waitFor();
    assert.match(await info.innerText(), /finished/);
    assert.match(await info.innerText(), new RegExp(`mlflow-artifacts:/${experimentId}/${runId}/artifacts`));
    assert.match(await info.innerText(), /Duration\s+14 min 00 s/);
    const params = page.getByTestId('run-params');
    assert.match(await params.locator('[data-key="lr"]').innerText(), /lr\s+0\.05/);
    assert.match(await params.locator('[data-key="max_depth"]').innerText(), /8/);
    assert.match(await page.locator('[data-testid="run-metrics-row"][data-key="acc"]').innerText(), /0\.93/);
    await shot(page, 'tracking-run');

    await page.getByTestId('run-tab-metrics').click();
    const acc = page.locator('[data-testid="chart-card"][data-keys="acc"]');
    await acc.locator('canvas').first().waitFor();
    // acc and loss have histories (charts); precision and recall were logged once (values).
    assert.equal(await page.getByTestId('chart-card').count(), 2);
    await page.locator('[data-testid="chart-card"][data-keys="loss"]').waitFor();
    assert.deepEqual(
      await page.getByTestId('metric-value-row').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { key: string } }).dataset.key)),
      ['precision', 'recall'],
    );
    await page.getByRole('radio', { name: 'Time', exact: true }).click();
    await acc.locator('canvas').first().waitFor();
    await shot(page, 'tracking-run-charts');

    await page.getByTestId('run-tab-artifacts').click();
    const entries = page.getByTestId('artifact-entry');
    await waitFor(async () => (await entries.allInnerTexts()).map((t) => t.trim()).join(',') === 'data,eval,logs,model,plots', 'the artifact folders');

    await page.locator('[data-testid="artifact-entry"][data-path="eval"]').click();
    await page.locator('[data-testid="artifact-entry"][data-path="eval/metrics.json"]').click();
    const text = page.getByTestId('artifact-text');
    await text.waitFor();
    assert.equal(await text.getAttribute('data-pretty'), 'true');
    assert.match(await text.innerText(), /^\{\n {2}"accuracy": 0\.93,/);
    await shot(page, 'tracking-artifact-json');

    const downloading = page.waitForEvent('download');
    await page.getByTestId('artifact-download').click();
    assert.equal((await downloading).suggestedFilename(), 'metrics.json');

    await page.getByRole('button', { name: 'artifacts', exact: true }).click();
    await page.locator('[data-testid="artifact-entry"][data-path="data"]').click();
    await page.locator('[data-testid="artifact-entry"][data-path="data/sample.csv"]').click();
    const csv = page.getByTestId('artifact-csv');
    await csv.waitFor();
    assert.deepEqual(
      (await csv.locator('thead th').allInnerTexts()).map((t) => t.trim()),
      ['id', 'age', 'income', 'churned'],
    );
    assert.equal(await csv.locator('tbody tr').count(), 20);
    await page.getByText('The first 20 rows').waitFor();
    await shot(page, 'tracking-artifact-csv');

    await page.getByRole('button', { name: 'artifacts', exact: true }).click();
    await page.locator('[data-testid="artifact-entry"][data-path="plots"]').click();
    await page.locator('[data-testid="artifact-entry"][data-path="plots/roc.png"]').click();
    await page.getByTestId('artifact-image').waitFor();
    await waitFor(async () => (await page.evaluate(`document.querySelector('[data-testid="artifact-image"]').naturalWidth`)) === 320, 'the PNG to decode');
    await shot(page, 'tracking-artifact-image');

    // A file with no extension that is text (an MLmodel) still previews as text.
    await page.getByRole('button', { name: 'artifacts', exact: true }).click();
    await page.locator('[data-testid="artifact-entry"][data-path="model"]').click();
    await page.locator('[data-testid="artifact-entry"][data-path="model/MLmodel"]').click();
    assert.match(await page.getByTestId('artifact-text').innerText(), /loader_module: mlflow\.sklearn/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('2,000 runs: the first page renders promptly, the rest loads on demand, rows are virtualised', async () => {
  const RUNS = 2000;
  const METRIC_KEYS = 60;
  const big = (await ok('POST', '/api/v1/experiments', { name: 'sweep-2000' })).experimentId;
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      const i = next++;
      const run = await ok('POST', '/api/v1/runs', {
        experimentId: big,
        runName: `sweep-${String(i).padStart(4, '0')}`,
        startTime: started - (RUNS - i) * 1000,
      });
      await ok('POST', `/api/v1/runs/${run.info.runId}/batch`, {
        params: [
          { key: 'lr', value: String(10 ** -(1 + (i % 4))) },
          { key: 'seed', value: String(i) },
        ],
        metrics: Array.from({ length: METRIC_KEYS }, (_, k) => ({
          key: `m${String(k).padStart(2, '0')}`,
          value: ((i * 7919 + k * 104729) % 1000) / 1000,
          step: 0,
          timestamp: started,
        })),
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const seeded = Date.now() - started;

  const { page, errors, close } = await signedIn();
  try {
    const t0 = Date.now();
    await page.goto(`${server.url}/experiments/${big}`);
    await page.locator('[data-testid="run-row"][data-run-name="sweep-1999"]').waitFor();
    const firstPage = Date.now() - t0;
    assert.ok(firstPage < 5000, `the first page took ${firstPage} ms`);
    const count = page.getByTestId('runs-count');
    await waitFor(async () => (await count.getAttribute('data-count')) === '200', 'a first page of 200 runs');
    const rendered = await page.getByTestId('run-row').count();
    assert.ok(rendered < 80, `only the visible rows are in the page, not ${rendered}`);
    await shot(page, 'tracking-runs-2000');

    await page.getByTestId('runs-load-more').click();
    await waitFor(async () => (await count.getAttribute('data-count')) === '400', 'the next page after "load more"');
    // Scrolling to the end fetches the next page by itself.
    await page.evaluate(`document.querySelector('.runs-scroll').scrollTop = 1e9`);
    await waitFor(async () => (await count.getAttribute('data-count')) === '600', 'a page fetched on scrolling to the end');
    await page.locator('[data-testid="run-row"][data-run-name="sweep-1600"]').waitFor();
    assert.ok((await page.getByTestId('run-row').count()) < 80);

    // Sorting 2,000 runs by a metric happens in the database, page by page.
    await page.evaluate(`document.querySelector('.runs-scroll').scrollTop = 0`);
    await page.getByTestId('sort-metrics.m00').click();
    await waitFor(async () => (await page.getByTestId('run-row').first().locator('[data-column="metrics.m00"]').innerText()) === '0.999', 'the best m00 first');
    console.log(`# seeded ${RUNS} runs × ${METRIC_KEYS} metrics in ${seeded} ms; first page shown in ${firstPage} ms`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

/** A small but real PNG (a line chart on a grid), so the browser has something to decode. */
function pngChart(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const curve = Math.round(height - 20 - (height - 40) * Math.sqrt(x / width));
      const grid = x % 40 === 0 || y % 40 === 0;
      const line = Math.abs(y - curve) <= 1;
      const [r, g, b] = line ? [79, 70, 229] : grid ? [228, 228, 231] : [255, 255, 255];
      raw.set([r, g, b], row + 1 + x * 3);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
