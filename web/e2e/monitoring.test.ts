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
    const heights = async (side: string) =>
      Promise.all((await chart.locator(`rect[data-side="${side}"]`).all()).map(async (r) => Number(await r.getAttribute('height'))));
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

/** Polls a run through the API until it has finished. */
async function finished(monitorId: string, runId: string) {
  const deadline = Date.now() + RUN_MS;
  for (;;) {
    const run = await forja.monitors.getRun(monitorId, runId);
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline) assert.fail(`run ${runId} is still ${run.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('an alert rule fires on a run: listed with the open alerts, acknowledged in the list; the monitor charts both runs', async () => {
  assert.ok(monitor, 'the first test made the monitor');
  await forja.alerts.createRule(monitor.id, { name: 'too many columns moved', metric: 'drift.share', operator: '>', threshold: 0.2, severity: 'critical' });
  // A second run on the first half of yesterday: the rule is checked when it completes.
  const started = await forja.monitors.run(monitor.id, { from: YESTERDAY, to: YESTERDAY + DAY / 2 });
  assert.equal((await finished(monitor.id, started.id)).status, 'succeeded');
  const deadline = Date.now() + 10_000;
  while ((await forja.alerts.list({ status: 'open' })).items.length === 0) {
    if (Date.now() > deadline) assert.fail('no alert fired');
    await new Promise((r) => setTimeout(r, 200));
  }

  await asAdmin('alerts', async (page) => {
    await page.goto(`${server.url}/monitoring`);
    await waitFor(async () => /^Alerts\s*1$/.test(await text(page, 'monitoring-tab-alerts')), 'the open alert counted on the tab');
    const row = page.locator('[data-testid="monitor-row"][data-name="credit-drift"]');
    assert.match(await row.innerText(), /drifted|stable/);
    await shot(page, 'monitoring-monitors');

    await page.getByTestId('monitoring-tab-alerts').click();
    const alert = page.getByTestId('alert-row');
    await alert.waitFor();
    assert.equal(await alert.count(), 1);
    assert.equal(await alert.getAttribute('data-metric'), 'drift.share');
    assert.match(await alert.innerText(), /critical[\s\S]*credit-drift[\s\S]*too many columns moved[\s\S]*drift\.share[\s\S]*0\.3333[\s\S]*> 0\.2[\s\S]*open/);
    await shot(page, 'monitoring-alerts-open');

    await alert.getByTestId('alert-ack').click();
    await page.getByTestId('alerts-empty').waitFor();
    await page.getByTestId('alerts-filter-acknowledged').click();
    await waitFor(async () => (await page.getByTestId('alert-status').first().getAttribute('data-status')) === 'acknowledged', 'the acknowledged alert');
    const [stored] = (await forja.alerts.list({ status: 'acknowledged' })).items;
    assert.equal(stored?.acknowledgedBy, 'admin');
    await page.getByTestId('alerts-filter-all').click();
    await shot(page, 'monitoring-alerts');

    // The monitor's page: two runs, their drift share on one line above the dataset-drift threshold, the rule listed.
    await page.getByRole('link', { name: 'credit-drift' }).first().click();
    await page.getByTestId('drift-share-chart').waitFor();
    assert.equal(await page.getByTestId('run-row').count(), 2);
    assert.equal(await page.getByTestId('drift-share-chart').getAttribute('data-points'), '2');
    assert.match(await page.getByTestId('rule-row').innerText(), /too many columns moved\s+drift\.share > 0\.2/);
    await shot(page, 'monitor-page');
  });
});

const SCORER = `import json

def score(data, base_path):
    req = json.loads(data)
    if req["x"] < 0:
        raise ValueError("x must not be negative")
    return {"score": req["x"] * 2}
`;

test("a deployment's calls: the Usage tab charts every call from the usage API; its Monitoring tab lists its monitor and the latest drift", async () => {
  const form = new FormData();
  form.append('name', 'doubler');
  form.append('settings', JSON.stringify({ maxWorkers: 1, inferenceLog: { sampleRate: 100 } }));
  form.append('source', new Blob([SCORER]), 'doubler.py');
  form.append('schema', new Blob([JSON.stringify({ x: 1, label: 'a' })]), 'schema.json');
  const created = await forja.deployments.upload(form);
  const deployment: Deployment = await forja.deployments.waitReady(created.deployment.id, { timeoutMs: BUILD_MS });
  assert.equal(deployment.status, 'Deployed', deployment.message ?? '');
  for (let i = 0; i < 12; i++) await forja.deployments.predict(deployment.id, { x: i % 2 === 0 ? i : i * 10, label: i % 3 === 0 ? 'a' : 'b' });
  await assert.rejects(forja.deployments.predict(deployment.id, { x: -1, label: 'a' }));

  // A monitor of its inference log against a reference where x is small: x drifts, label does not.
  await forja.lake.write('doubler_ref', `x,label\n${Array.from({ length: 60 }, (_, i) => `${i % 12},${i % 3 === 0 ? 'a' : 'b'}`).join('\n')}\n`, {
    format: 'csv',
  });
  const watch = await forja.monitors.create({
    name: 'doubler-inputs',
    target: { deployment: deployment.id },
    reference: { kind: 'table', table: 'doubler_ref' },
    inputColumns: ['x', 'label'],
    period: 'hour',
    scheduled: false,
  });
  const logged = Date.now() + 15_000;
  while ((await forja.deployments.inferenceLog(deployment.id)).rows < 12) {
    if (Date.now() > logged) assert.fail('the calls were not logged');
    await new Promise((r) => setTimeout(r, 250));
  }
  const run = await forja.monitors.run(watch.id, { from: Date.now() - 3_600_000, to: Date.now() + 60_000 });
  assert.equal((await finished(watch.id, run.id)).status, 'succeeded');

  await asAdmin('deployment', async (page) => {
    await page.goto(`${server.url}/deployments/${deployment.id}?tab=usage`);
    await page.getByTestId('usage-stats').waitFor();
    await waitFor(async () => Number(await text(page, 'usage-calls')) >= 13, 'the usage API to count 13 calls', 20_000);
    assert.ok(Number(await text(page, 'usage-errors')) >= 1);
    for (const chart of ['calls-chart', 'latency-pct-chart', 'error-rate-chart'])
      assert.ok(Number(await page.getByTestId(chart).getAttribute('data-points')) >= 1, `${chart} has points`);
    assert.match(await text(page, 'usage-p95'), /ms|s$/);
    await shot(page, 'deployment-usage');

    await page.getByTestId('deployment-tab-monitoring').click();
    await page.getByTestId('inference-log-note').waitFor();
    assert.match(await text(page, 'inference-log-note'), /Logging 100 % of calls/);
    assert.equal(await page.getByTestId('monitor-row').getAttribute('data-name'), 'doubler-inputs');
    const latest = page.getByTestId('latest-run');
    await latest.getByText(/columns drifted/).waitFor();
    assert.match(await latest.innerText(), /1 of 2 columns drifted[\s\S]*\bx\b/);
    assert.ok(Number(await latest.getByTestId('latest-dist-x').getAttribute('data-bins')) >= 2, "x's distributions beside the reference's");
    await shot(page, 'deployment-monitoring');
  });
});
