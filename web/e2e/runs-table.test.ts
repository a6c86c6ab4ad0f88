// The runs table of the issue's sweep (10,000 runs × 20 params × 20 metrics) in Debian's Chromium:
// default columns, pins and order, totals, CSV, bulk actions, grouping, the URL, and how fast the
// first rows show (printed, not asserted).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import type { TestServer } from '../../server/src/testing/server.js';
import { assertAccessible, newPage, shot, startHarness, waitFor, type Harness } from './harness.js';
import { SWEEP_METRICS, SWEEP_PARAMS, seedSweep, sweepRunName, type Sweep } from './sweep.js';

const RUNS = Number(process.env.FORJA_SWEEP_RUNS ?? 10_000);

let harness: Harness;
let server: TestServer;
let sweep: Sweep;

before(async () => {
  harness = await startHarness();
  server = harness.server;
  sweep = await seedSweep(server.url, server.adminToken, { name: 'sweep', runs: RUNS, historyRuns: 20, steps: 50 });
  console.log(`# seeded ${RUNS} runs in ${sweep.seededMs} ms`);
});

after(() => harness?.close());

/** A signed-in browser context without going through the login page, so the first page load is a cold one. */
async function signedIn(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const opened = await newPage(harness.browser);
  // The marker: when the first run row is in the document, in ms since navigation start.
  await opened.context.addInitScript(`
    if (!localStorage.getItem('forja.token')) localStorage.setItem('forja.token', ${JSON.stringify(server.adminToken)});
    new MutationObserver((_, observer) => {
      if (document.querySelector('[data-testid="run-row"]')) {
        window.firstRunRowAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  `);
  return opened;
}

const experimentUrl = (query = '') => `${server.url}/experiments/${sweep.experimentId}${query}`;

/** Navigation start → first run row, and what the network did meanwhile. */
async function timeFirstRows(page: Page, url: string) {
  await page.goto(url);
  await page.getByTestId('run-row').first().waitFor();
  return (await page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const api = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/'));
    return {
      firstRow: Math.round(window.firstRunRowAt),
      domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
      api: api.map((e) => new URL(e.name).pathname + ' ' + Math.round(e.startTime) + '→' + Math.round(e.responseEnd)),
    };
  })()`)) as { firstRow: number; domContentLoaded: number; api: string[] };
}

test('speed: navigation start to the first run row, cold and warm (printed)', async () => {
  const { context, page, errors } = await signedIn();
  const cold = await timeFirstRows(page, experimentUrl());
  const warm = await timeFirstRows(page, experimentUrl());
  console.log(`# first run row, cold (new context): ${cold.firstRow} ms (DOMContentLoaded ${cold.domContentLoaded} ms)`);
  for (const line of cold.api) console.log(`#   cold ${line}`);
  console.log(`# first run row, warm (same context, reload): ${warm.firstRow} ms (DOMContentLoaded ${warm.domContentLoaded} ms)`);
  for (const line of warm.api) console.log(`#   warm ${line}`);
  assert.ok(cold.firstRow > 0 && warm.firstRow > 0);
  assert.deepEqual(errors, []);
  await context.close();
});

// What the sweep's definition says, computed here rather than read from the server.
const indices = Array.from({ length: RUNS }, (_, i) => i);
const param = (name: string) => SWEEP_PARAMS.find(([k]) => k === name)![1];
const metric = (name: string) => SWEEP_METRICS.find(([k]) => k === name)![1];
const varies = (f: (i: number) => unknown) => new Set(indices.map(f)).size > 1;

/** Opens the runs page (with a query) in a fresh signed-in context and waits for its first row. */
async function openRuns(query = '') {
  const opened = await signedIn();
  await opened.page.goto(experimentUrl(query));
  await opened.page.getByTestId('run-row').first().waitFor();
  return opened;
}
/** An attribute of every element a locator finds, in document order. */
const attrs = async (locator: ReturnType<Page['locator']>, name: string) => Promise.all((await locator.all()).map((l) => l.getAttribute(name)));
const headerIds = async (page: Page) => (await attrs(page.locator('th.col-data'), 'data-testid')).map((id) => String(id).replace('column-header-', ''));
/** Scrolls the table (the browser's code is a string: the tests compile without the DOM's types). */
const scrollTable = (page: Page, to: { top?: number; left?: number }) =>
  page.evaluate(
    `(() => { const el = document.querySelector('[data-testid="runs-scroll"]'); ${to.top === undefined ? '' : `el.scrollTop = ${to.top};`} ${to.left === undefined ? '' : `el.scrollLeft = ${to.left};`} })()`,
  );
const tableScrollTop = async (page: Page) => Number(await page.evaluate(`document.querySelector('[data-testid="runs-scroll"]').scrollTop`));
const total = async (page: Page) => Number(await page.getByTestId('runs-count').getAttribute('data-total'));
const countText = (page: Page) => page.getByTestId('runs-count').innerText();
/** Counts the run searches the page sends from now on. */
function countSearches(page: Page) {
  const bodies: Array<{ columns?: string[]; includeTotal?: boolean }> = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/api/v1/runs/search') && req.method() === 'POST') bodies.push(JSON.parse(req.postData() ?? '{}'));
  });
  return bodies;
}

test('default columns: the metrics and params that vary, recently logged first; a total count', async () => {
  const { context, page, errors } = await openRuns();
  // Metrics were logged a millisecond apart in SWEEP_METRICS order: the last logged comes first.
  const metrics = SWEEP_METRICS.map(([k]) => k)
    .filter((k) => varies(metric(k)))
    .reverse()
    .slice(0, 6);
  // Params all arrive with their run, so the newest run's time ties and the key decides.
  const params = SWEEP_PARAMS.filter(([, f]) => varies(f))
    .map(([k]) => k)
    .sort()
    .slice(0, 6);
  assert.ok(!metrics.includes('const_metric') && !params.includes('optimizer'));
  await waitFor(async () => (await headerIds(page)).length > 0, 'the column headers');
  assert.deepEqual(await headerIds(page), [...metrics.map((k) => `metrics.${k}`), ...params.map((k) => `params.${k}`)]);
  await waitFor(async () => (await total(page)) === RUNS, 'the total');
  assert.equal(await countText(page), `200 of ${RUNS.toLocaleString('en-US')} runs`);
  // The newest run first, its values as logged.
  const newest = page.getByTestId('run-row').first();
  assert.equal(await newest.getAttribute('data-run-name'), sweepRunName(RUNS - 1));
  assert.equal(await newest.locator('[data-column="params.depth"]').innerText(), param('depth')(RUNS - 1));
  await shot(page, 'runs-table-default');
  await assertAccessible(page, 'the runs table');
  assert.deepEqual(errors, []);
  await context.close();
});

test('choosing 20 columns is one request, applied when the chooser closes; new cells shimmer until their values arrive', async () => {
  const { context, page, errors } = await openRuns();
  await waitFor(async () => (await headerIds(page)).length > 0, 'the column headers');
  const before = await headerIds(page);
  const searches = countSearches(page);
  await page.getByTestId('column-chooser').click();
  const panel = page.getByTestId('column-chooser-panel');
  const unticked = panel.locator('input[data-testid^="column-option-"]:not(:checked)');
  const added: string[] = [];
  for (let k = 0; k < 20; k++) {
    const box = unticked.first();
    added.push(String(await box.getAttribute('data-testid')).replace('column-option-', ''));
    await box.check();
  }
  assert.equal(searches.length, 0, 'nothing is fetched while choosing');
  await assertAccessible(page, 'the column chooser');
  // Hold the answer back, to see what the table shows meanwhile.
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  await page.route('**/api/v1/runs/search', async (route) => {
    await held;
    await route.continue();
  });
  await page.keyboard.press('Escape');
  await waitFor(async () => (await headerIds(page)).length === before.length + 20, 'the 20 new headers');
  const firstRow = page.getByTestId('run-row').first();
  const newCell = firstRow.locator(`[data-column="${added[0]}"]`);
  await newCell.getByTestId('cell-loading').waitFor();
  assert.notEqual(await newCell.innerText(), '—', 'a column still loading is not shown as absent');
  release();
  await waitFor(async () => (await firstRow.getByTestId('cell-loading').count()) === 0, 'the new values');
  await page.unroute('**/api/v1/runs/search');
  assert.equal(searches.length, 1, `one search for twenty columns, not ${searches.length}`);
  for (const id of added) assert.ok(searches[0]!.columns?.includes(id), `${id} asked for`);
  // Every new column of the newest run has its logged value.
  for (const id of added.filter((c) => c.startsWith('params.'))) {
    assert.equal(await firstRow.locator(`[data-column="${id}"]`).innerText(), param(id.slice('params.'.length))(RUNS - 1));
  }
  assert.match(page.url(), new RegExp(`cols=[^&]*${encodeURIComponent(added[19]!).replace(/\./g, '\\.')}`));
  assert.deepEqual(errors, []);
  await context.close();
});

test('pin and reorder columns: pinned ones stay left while scrolling sideways; drag or keyboard to move; all in the URL', async () => {
  const cols = [
    'metrics.val_loss',
    'metrics.val_acc',
    'metrics.train_loss',
    'params.lr',
    'params.depth',
    ...Array.from({ length: 10 }, (_, k) => `metrics.m${String(k).padStart(2, '0')}`),
  ];
  const { context, page, errors } = await openRuns(`?cols=${cols.join(',')}`);
  await waitFor(async () => (await headerIds(page)).length === cols.length, 'the columns of the URL');
  assert.deepEqual(await headerIds(page), cols);
  const searches = countSearches(page);

  await page.getByTestId('pin-params.depth').click();
  await waitFor(async () => (await headerIds(page))[0] === 'params.depth', 'the pinned column first');
  assert.match(page.url(), /pin=params\.depth/);
  const pinned = page.getByTestId('column-header-params.depth');
  const unpinned = page.getByTestId('column-header-metrics.val_acc');
  // Clicking the pin scrolled the table to it: start from the left edge.
  await scrollTable(page, { left: 0 });
  const x0 = (await pinned.boundingBox())!.x;
  const u0 = (await unpinned.boundingBox())!.x;
  await scrollTable(page, { left: 900 });
  await waitFor(async () => (await unpinned.boundingBox())!.x < u0 - 500, 'the table to scroll sideways');
  assert.equal(Math.round((await pinned.boundingBox())!.x), Math.round(x0), 'the pinned column stays put');
  await shot(page, 'runs-table-pinned');

  // Keyboard: the chooser's move buttons.
  await scrollTable(page, { left: 0 });
  await page.getByTestId('column-chooser').click();
  await page.getByRole('button', { name: 'Move metrics.val_acc left' }).focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await waitFor(async () => (await headerIds(page)).slice(1, 3).join() === 'metrics.val_acc,metrics.val_loss', 'val_acc moved left');
  // Drag (both headers on screen): val_loss onto val_acc, which it then precedes.
  const beforeDrag = await headerIds(page);
  const dragged = beforeDrag.filter((id) => id !== 'metrics.val_loss');
  dragged.splice(dragged.indexOf('metrics.val_acc'), 0, 'metrics.val_loss');
  await page.dragAndDrop('[data-testid="column-header-metrics.val_loss"]', '[data-testid="column-header-metrics.val_acc"]');
  // On a timeout, the assertion shows the order there was instead.
  await waitFor(async () => (await headerIds(page)).join() === dragged.join(), 'val_loss dropped before val_acc').catch(async () =>
    assert.deepEqual(await headerIds(page), dragged),
  );
  const order = await headerIds(page);
  assert.equal(searches.length, 0, 'moving and pinning columns asks the server for nothing');

  // The link restores the view in a new browser.
  const url = page.url();
  const other = await signedIn();
  await other.page.goto(url);
  await other.page.getByTestId('run-row').first().waitFor();
  await waitFor(async () => (await headerIds(other.page)).length === cols.length, 'the columns of the link');
  assert.deepEqual(await headerIds(other.page), order);
  assert.equal(await other.page.getByTestId('pin-params.depth').getAttribute('aria-pressed'), 'true');
  await other.context.close();
  assert.deepEqual(errors, []);
  await context.close();
});

test('filter and sort in the URL, the total of the filter, and CSV of the view: every matching run, its order, its columns', async () => {
  const filter = "params.depth = '4'";
  const cols = ['params.lr', 'metrics.val_acc', 'params.depth'];
  const { context, page, errors } = await openRuns(`?filter=${encodeURIComponent(filter)}&sort=metrics.val_acc&desc=1&cols=${cols.join(',')}`);
  const matching = indices.filter((i) => param('depth')(i) === '4');
  await waitFor(async () => (await total(page)) === matching.length, 'the total of the filter');
  assert.equal(await countText(page), `${matching.length > 200 ? '200 of ' : ''}${matching.length.toLocaleString('en-US')} runs`);
  assert.equal(await page.getByLabel('Filter runs').inputValue(), filter);
  assert.equal(await page.locator('th[aria-sort="descending"]').getAttribute('data-testid'), 'column-header-metrics.val_acc');
  const best = [...matching].sort((a, b) => metric('val_acc')(b) - metric('val_acc')(a) || b - a)[0]!;
  assert.equal(await page.getByTestId('run-row').first().getAttribute('data-run-name'), sweepRunName(best));

  const t0 = Date.now();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const text = readFileSync((await download.path())!, 'utf8');
  console.log(`# CSV of ${matching.length} runs exported in ${Date.now() - t0} ms`);
  const lines = text.trimEnd().split('\r\n');
  assert.deepEqual(lines[0]!.split(','), ['run_id', 'run_name', 'status', 'start_time', 'duration_s', 'user', ...cols]);
  assert.equal(lines.length, matching.length + 1);
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.equal(rows[0]![1], sweepRunName(best));
  const accs = rows.map((r) => Number(r[7]));
  assert.ok(
    accs.every((a, k) => k === 0 || a <= accs[k - 1]!),
    'in the view’s order',
  );
  for (const r of rows.slice(0, 50)) {
    const i = Number(r[1]!.slice('sweep-'.length));
    assert.deepEqual([r[6], Number(r[7]), r[8]], [param('lr')(i), metric('val_acc')(i), '4']);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('group by a param: one collapsible line per value with its count and the mean, min and max of each metric', async () => {
  const { context, page, errors } = await signedIn();
  await page.goto(experimentUrl('?groupBy=params.lr&cols=metrics.val_loss,metrics.val_acc,params.lr'));
  const groups = page.getByTestId('group-row');
  await waitFor(async () => (await groups.count()) === 5, 'five groups', 60_000);
  assert.equal(await page.getByTestId('run-row').count(), 0, 'groups start folded');
  const values = [...new Set(indices.map(param('lr')))].sort((a, b) => Number(a) - Number(b));
  assert.deepEqual(await attrs(groups, 'data-group'), values);
  for (const [k, v] of values.entries()) {
    const members = indices.filter((i) => param('lr')(i) === v);
    const row = groups.nth(k);
    assert.equal(Number(await row.getAttribute('data-count')), members.length);
    const cell = row.locator('[data-column="metrics.val_loss"]');
    const losses = members.map(metric('val_loss'));
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    assert.ok(Math.abs(Number(await cell.getAttribute('data-mean')) - mean) < 1e-9, `mean of ${v}`);
    assert.equal(Number(await cell.getAttribute('data-min')), Math.min(...losses));
    assert.equal(Number(await cell.getAttribute('data-max')), Math.max(...losses));
  }
  await page.getByTestId('group-by').waitFor();
  assert.equal(await page.getByTestId('group-by').inputValue(), 'params.lr');
  await groups.nth(1).getByRole('button').click();
  await waitFor(async () => (await page.getByTestId('run-row').count()) > 0, 'the runs of the opened group');
  assert.equal(await page.getByTestId('run-row').first().locator('[data-column="params.lr"]').innerText(), values[1]);
  await shot(page, 'runs-table-grouped');
  await assertAccessible(page, 'the grouped runs table');
  await groups.nth(1).getByRole('button').click();
  await waitFor(async () => (await page.getByTestId('run-row').count()) === 0, 'the group folded again');
  await page.getByTestId('group-by').selectOption('');
  await page.getByTestId('run-row').first().waitFor();
  assert.doesNotMatch(page.url(), /groupBy/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('bulk delete, restore from the deleted runs, and tag, each after a confirmation', async () => {
  const { context, page, errors } = await openRuns();
  const rows = page.getByTestId('run-row');
  const names = await Promise.all([0, 1, 2].map((k) => rows.nth(k).getAttribute('data-run-name')));
  for (const name of names) await page.getByLabel(`Select ${name}`).check();
  await page.getByTestId('bulk-delete').click();
  const dialog = page.getByTestId('confirm-dialog');
  await dialog.getByText('Delete 3 runs?').waitFor();
  await shot(page, 'runs-table-bulk-dialog');
  await assertAccessible(page, 'the bulk delete dialog');
  await dialog.getByRole('button', { name: 'Delete 3 runs' }).click();
  await waitFor(async () => (await total(page)) === RUNS - 3, 'three runs fewer');
  assert.notEqual(await rows.first().getAttribute('data-run-name'), names[0]);

  // A whole page at once.
  await waitFor(async () => (await rows.count()) > 0, 'rows');
  await page.getByLabel('Select all loaded runs').check();
  await page.getByTestId('bulk-delete').click();
  const t0 = Date.now();
  await dialog.getByRole('button', { name: 'Delete 200 runs' }).click();
  await waitFor(async () => (await total(page)) === RUNS - 203, '200 runs fewer', 30_000);
  console.log(`# bulk delete of 200 runs: ${Date.now() - t0} ms`);

  await page.getByTestId('show-deleted').click();
  await waitFor(async () => (await total(page)) === 203, 'the deleted runs');
  assert.match(await countText(page), /of 203 deleted runs|^203 deleted runs/);
  await page.getByLabel('Select all loaded runs').check();
  await page.getByTestId('bulk-restore').click();
  await dialog.getByRole('button', { name: 'Restore 200 runs' }).click();
  await waitFor(async () => (await total(page)) === 3, 'three left to restore');
  await page.getByLabel('Select all loaded runs').check();
  await page.getByTestId('bulk-restore').click();
  await dialog.getByRole('button', { name: 'Restore 3 runs' }).click();
  await page.getByText('No deleted runs').waitFor();
  await page.getByTestId('show-deleted').click();
  await waitFor(async () => (await total(page)) === RUNS, 'every run back');

  const tagged = await Promise.all([3, 5].map((k) => rows.nth(k).getAttribute('data-run-name')));
  for (const name of tagged) await page.getByLabel(`Select ${name}`).check();
  await page.getByTestId('bulk-tag').click();
  await page.getByTestId('bulk-tag-key').fill('review');
  await page.getByTestId('bulk-tag-value').fill('keep');
  await assertAccessible(page, 'the bulk tag dialog');
  await page.getByTestId('bulk-tag-confirm').click();
  await page.getByTestId('bulk-tag-dialog').waitFor({ state: 'hidden' });
  await page.getByLabel('Filter runs').fill("tags.review = 'keep'");
  await page.getByLabel('Filter runs').press('Enter');
  await waitFor(async () => (await total(page)) === 2, 'the two tagged runs');
  assert.deepEqual((await attrs(rows, 'data-run-name')).sort(), [...tagged].sort());
  assert.deepEqual(errors, []);
  await context.close();
});

test('back from a run page keeps the table where it was scrolled', async () => {
  const { context, page, errors } = await openRuns();
  await scrollTable(page, { top: 3000 });
  await waitFor(async () => (await page.locator(`[data-run-name="${sweepRunName(RUNS - 85)}"]`).count()) === 1, 'rows far down');
  await page.waitForTimeout(200);
  await page.locator(`[data-run-name="${sweepRunName(RUNS - 85)}"] a`).click();
  await page.waitForURL(/\/runs\//);
  await page.goBack();
  await page.getByTestId('run-row').first().waitFor();
  await waitFor(async () => Math.abs((await tableScrollTop(page)) - 3000) < 2, 'the scroll position restored');
  assert.equal(await page.locator(`[data-run-name="${sweepRunName(RUNS - 85)}"]`).count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});
