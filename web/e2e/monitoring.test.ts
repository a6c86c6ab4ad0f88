// The monitoring dashboard in Debian's Chromium against the real server: a monitor on a lake table
// whose `income` column was shifted, created in the form and run on demand; its run page marks the
// shifted column and draws its distributions beside the reference's; the HTML report export has it;
// an alert rule fires on the run and is acknowledged in the alert list; a deployment's calls are
// charted from the usage API. Screenshots go to a folder the test prints, for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import type { Deployment, Monitor } from '@forja/contracts';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, startHarness, waitFor, type Harness } from './harness.js';

const SHOTS = process.env.FORJA_SCREENSHOT_DIR ?? mkdtempSync(path.join(tmpdir(), 'forja-monitoring-shots-'));
mkdirSync(SHOTS, { recursive: true });
const RUN_MS = 60_000;
const BUILD_MS = 180_000;

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;

const REGIONS = ['north', 'south', 'east', 'west'];
const DAY = 86_400_000;
/** Yesterday (UTC): the last full day, the window "Run now" looks at for a daily monitor. */
const YESTERDAY = Math.floor(Date.now() / DAY) * DAY - DAY;
const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');

/**
 * Reference: 2000 rows. Current: 1000 rows over yesterday with the reference's even rows' ages and
 * the same regions (so they cannot drift, whatever the test), and incomes moved up by 50,000.
 */
function tables(): { reference: string; current: string } {
  const row = (i: number, incomeBase: number, region: number) => `${20 + ((i * 37) % 50)},${incomeBase + ((i * 7919) % 60_000)},${REGIONS[region % 4]}`;
  const reference = ['age,income,region', ...Array.from({ length: 2000 }, (_, i) => row(i, 30_000, i))].join('\n');
  const current = ['ts,age,income,region', ...Array.from({ length: 1000 }, (_, j) => `${stamp(YESTERDAY + j * 60_000)},${row(2 * j, 80_000, j)}`)].join('\n');
  return { reference: `${reference}\n`, current: `${current}\n` };
}

before(async () => {
  harness = await startHarness();
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });
  const { reference, current } = tables();
  await forja.lake.write('credit_ref', reference, { format: 'csv' });
  await forja.lake.write('credit_live', current, { format: 'csv' });
  console.log(`monitoring screenshots: ${SHOTS}`);
});

after(async () => {
  await harness?.close();
});

/** A signed-in page for `body`; a failure leaves a screenshot of where it stopped. Ends by asserting the app threw nothing. */
async function asAdmin(name: string, body: (page: Page) => Promise<void>): Promise<void> {
  const { context, page, errors } = await openPage(harness.browser);
  try {
    await login(page, server.url, 'admin', TEST_ADMIN_PASSWORD);
    await page.getByTestId('user-menu').waitFor();
    await body(page);
    assert.deepEqual(errors, []);
  } catch (err) {
    await shot(page, `FAILED-${name}`).catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
}

const shot = async (page: Page, name: string, fullPage = true) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().innerText()).trim();
const runStatus = (page: Page) => page.getByTestId('monitor-run-page').locator('h1 [data-testid="run-status"]').getAttribute('data-status');

let monitor: Monitor;

test('a monitor on a lake table, made in the form and run on demand: the shifted column is marked, drawn beside its reference, and in the HTML report', async () => {
  await asAdmin('monitor-run', async (page) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Monitoring' }).click();
    await page.waitForURL(/\/monitoring$/);
    await page.getByTestId('monitors-empty').waitFor();

    await page.getByTestId('new-monitor').click();
    const dialog = page.getByTestId('create-monitor-dialog');
    await dialog.getByLabel('Name').fill('credit-drift');
    await dialog.getByLabel('Watches').selectOption('table');
    await dialog.getByLabel('Table', { exact: true }).selectOption('credit_live');
    await dialog.getByLabel('Time column').fill('ts');
    await dialog.getByLabel('Reference table').selectOption('credit_ref');
    await dialog.getByTestId('monitor-scheduled').uncheck();
    await shot(page, 'monitor-create-form', false);
    await page.getByTestId('create-monitor-submit').click();
    await page.waitForURL(/\/monitoring\/monitors\/[^/]+$/);
    await page.getByTestId('monitor-series-empty').waitFor();
    await page.getByTestId('runs-empty').waitFor();
    monitor = (await forja.monitors.list()).find((m) => m.name === 'credit-drift')!;
    assert.deepEqual(monitor.target, { table: 'credit_live', timeColumn: 'ts' });
    assert.equal(monitor.scheduled, false);

    // Run now: the last full day, which holds every current row.
    await page.getByTestId('run-monitor').click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    await waitFor(async () => (await runStatus(page)) === 'succeeded', 'the run to succeed', RUN_MS);
    await page.getByTestId('drift-table').waitFor();
    assert.equal(await text(page, 'run-rows'), '1000');
    assert.equal(await text(page, 'run-drifted'), '1 / 3');
    const drifted = async (column: string) => page.locator(`[data-testid="drift-row"][data-column="${column}"]`).getAttribute('data-drifted');
    assert.equal(await drifted('income'), 'true');
    assert.equal(await drifted('age'), 'false');
    assert.equal(await drifted('region'), 'false');
    // Drifted first, in the table and among the charts.
    assert.equal(await page.getByTestId('drift-row').first().getAttribute('data-column'), 'income');
    assert.equal(await page.getByTestId('dist-card').first().getAttribute('data-column'), 'income');

    // income's reference and current shares side by side: a pair of bars per bin, the current ones in the drift colour.
    const incomeCard = page.locator('[data-testid="dist-card"][data-column="income"]');
    assert.match((await incomeCard.getAttribute('class')) ?? '', /is-drifted/);
    const chart = incomeCard.getByTestId('dist-income');
    const bins = Number(await chart.getAttribute('data-bins'));
    assert.ok(bins >= 2, `income has ${bins} bins`);
    assert.equal(await chart.locator('rect[data-side="reference"]').count(), bins);
    assert.equal(await chart.locator('rect[data-side="current"]').count(), bins);
    assert.equal(await chart.locator('rect[data-side="current"]').first().getAttribute('fill'), '#dc2626');
    // The shift is visible: the reference's mass sits in the low bins, the current's in the high ones.
    const heights = async (side: string) => chart.locator(`rect[data-side="${side}"]`).evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
    const ref = await heights('reference');
    const cur = await heights('current');
    assert.ok(ref[0]! > cur[0]! && cur[bins - 1]! > ref[bins - 1]!, `reference ${ref} vs current ${cur}`);
    const categorical = page.locator('[data-testid="dist-card"][data-column="region"]').getByTestId('dist-region');
    assert.equal(await categorical.getAttribute('data-bins'), '4');
    await shot(page, 'monitor-run');

    // The report export: one HTML file, downloaded through the client, with the drifted column in it.
    const download = page.waitForEvent('download');
    await page.getByTestId('download-report').click();
    const file = await download;
    assert.match(file.suggestedFilename(), /^credit-drift-.+\.html$/);
    const html = await readFile((await file.path())!, 'utf8');
    assert.match(html, /<tr class="drifted" data-column="income">/);
    assert.match(html, /<tr class="" data-column="age">/);
    assert.doesNotMatch(html, /<script/i);
    const report = await page.context().newPage();
    await report.setContent(html);
    await report.setViewportSize({ width: 1200, height: 900 });
    await report.screenshot({ path: path.join(SHOTS, 'monitor-report.png'), fullPage: true });
    await report.close();

    // The monitor's page now charts the run.
    await page.getByRole('link', { name: 'credit-drift' }).click();
    await page.getByTestId('drift-share-chart').waitFor();
    assert.equal(await page.getByTestId('run-row').count(), 1);
    await shot(page, 'monitor-page');
  });
});
