// The lake pages in Debian's Chromium against the real server: tables seeded through the HTTP API
// (CSV bodies, versioned appends), then the list, the upload dialog, a table's page (schema,
// versions, the preview grid with filters, order, VERSION and paging, export), drop, and batch
// predictions. The server runs no job workers (FORJA_WORKERS=0): a batch prediction stays queued,
// so its row, details and Cancel can be driven without building a Python environment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { TEST_ADMIN_PASSWORD, http, startTestServer, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, shot, waitFor, type Harness } from './harness.js';

const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const CHROMIUM = process.env.FORJA_TEST_CHROMIUM ?? '/usr/bin/chromium';

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;

const CITIES = ['Lisbon', 'Porto', 'Faro', ''];
/** Rows `from`..`to` of the customers table: every fourth city is empty (NULL). */
function customers(from: number, to: number): string {
  const lines = ['id,name,score,city'];
  for (let i = from; i <= to; i++) lines.push(`${i},name ${i},${((i * 37) % 100) + 0.5},${CITIES[(i - 1) % 4]}`);
  return lines.join('\n') + '\n';
}

async function writeCsv(table: string, csv: string, query = ''): Promise<void> {
  const r = await http(server.url, 'POST', `/api/v1/lake/tables/${table}/rows${query ? `?${query}` : ''}`, {
    token: server.adminToken,
    rawBody: csv,
    headers: { 'content-type': 'text/csv' },
  });
  assert.ok(r.status === 200 || r.status === 201, `${table}: ${r.status} ${r.text}`);
}

before(async () => {
  // As startHarness(), with no job workers in the server process.
  assert.ok(existsSync(path.join(WEB_DIST, 'index.html')), `${WEB_DIST}/index.html is missing: build the UI first with \`npm run build -w web\``);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
  server = await startTestServer({ webDir: WEB_DIST, env: { FORJA_WORKERS: '0' } });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  harness = {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });

  // 120 customers in two versioned writes: VERSION 1 has ids 1–70, VERSION 2 ids 71–120.
  await writeCsv('customers', customers(1, 70), 'mode=append&versioned=true');
  await writeCsv('customers', customers(71, 120), 'mode=append&versioned=true');
  await writeCsv('small_notes', 'note\nhello\n');

  // A registered model whose files are an MLflow model (an MLmodel file): enough to start a batch prediction.
  const experiment = await forja.experiments.create({ name: 'lake-scoring' });
  const run = await forja.runs.create({ experimentId: experiment.experimentId, runName: 'train' });
  await forja.runs.uploadArtifact(
    run.info.runId,
    'model/MLmodel',
    'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    python_version: 3.11.0\n',
  );
  await forja.models.create({ name: 'scorer' });
  await forja.models.createVersion('scorer', { source: `runs:/${run.info.runId}/model` });
  await forja.models.transition('scorer', 1, 'Production');
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

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).innerText()).trim();
const gridRows = (page: Page) => page.getByTestId('lake-grid-row');
/** The grid's values of one column, in the order shown. */
async function column(page: Page, name: string): Promise<string[]> {
  const headers = await page.getByTestId('lake-grid').locator('thead th').allInnerTexts();
  const at = headers.findIndex((h) => h.split('\n')[0]!.trim() === name);
  assert.ok(at >= 0, `no column ${name} in ${JSON.stringify(headers)}`);
  return (
    await gridRows(page)
      .locator(`td:nth-child(${at + 1})`)
      .allInnerTexts()
  ).map((s) => s.trim());
}
async function waitRows(page: Page, n: number, what: string) {
  await waitFor(
    async () => (await gridRows(page).count()) === n && !(await page.getByTestId('lake-grid').getAttribute('class'))!.includes('is-stale'),
    `${what} (${n} rows)`,
  );
}

test('the tables list: each table with its rows, columns and latest VERSION', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Lake' }).click();
    await page.waitForURL(/\/lake$/);
    await page.getByTestId('lake-tables').waitFor();
    assert.equal(await text(page, 'lake-count'), '2 tables');
    const row = page.getByTestId('lake-row-customers');
    assert.equal((await row.getByTestId('lake-row-count').innerText()).trim(), '120');
    assert.match(await row.innerText(), /customers[\s\S]*120\s+6\s+2/); // id, name, score, city, VERSION, CREATED_AT
    assert.match(await page.getByTestId('lake-row-small_notes').innerText(), /small_notes[\s\S]*1\s+1\s+—/);
    await shot(page, 'lake-tables');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('the upload dialog: a CSV makes a table; the server’s errors (ragged CSV, schema mismatch) are shown; replace needs a confirmation', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(server.url + '/lake');
    await page.getByTestId('lake-upload').click();
    const dialog = page.getByTestId('lake-upload-dialog');
    await dialog.waitFor();

    // A ragged CSV: the server names the line.
    await page.getByTestId('lake-upload-file').setInputFiles({ name: 'ragged.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n3,4,5\n') });
    assert.equal(await page.getByTestId('lake-upload-name').inputValue(), 'ragged');
    await page.getByTestId('lake-upload-submit').click();
    await page.getByTestId('lake-upload-error').waitFor();
    assert.match(await text(page, 'lake-upload-error'), /CSV line 3 has 3 fields; the header has 2/);

    // Appending rows of another shape to customers: the server lists the differences.
    await page.getByTestId('lake-upload-file').setInputFiles({ name: 'other.csv', mimeType: 'text/csv', buffer: Buffer.from('id,extra\n1,x\n') });
    await page.getByTestId('lake-upload-name').fill('customers');
    assert.match(await dialog.innerText(), /Exists: 120 rows, 6 columns, VERSION 2/);
    await page.getByTestId('lake-upload-mode-append').click();
    await page.getByTestId('lake-upload-submit').click();
    await waitFor(async () => /missing columns/.test(await text(page, 'lake-upload-error')), 'the schema mismatch');
    assert.match(await text(page, 'lake-upload-error'), /missing columns "name", "score", "city"/);
    assert.match(await text(page, 'lake-upload-error'), /columns the table does not have "extra"/);

    // Replace cannot be sent without the confirmation.
    await page.getByTestId('lake-upload-mode-replace').click();
    assert.equal(await page.getByTestId('lake-upload-submit').isDisabled(), true);
    assert.match(await text(page, 'lake-upload-confirm-replace'), /Delete every row of customers \(120 rows\)/);
    await page.getByTestId('lake-upload-confirm-replace').locator('input').check();
    assert.equal(await page.getByTestId('lake-upload-submit').isDisabled(), false);
    await shot(page, 'lake-upload-dialog');

    // A new table from a CSV, versioned: the page of the new table opens.
    await page.getByTestId('lake-upload-mode-fail').click();
    await page
      .getByTestId('lake-upload-file')
      .setInputFiles({ name: 'city list.csv', mimeType: 'text/csv', buffer: Buffer.from('city,population\nLisbon,545000\nPorto,232000\nFaro,64000\n') });
    await page.getByTestId('lake-upload-name').fill('cities');
    await page.getByTestId('lake-upload-versioned').check();
    await page.getByTestId('lake-upload-submit').click();
    await page.waitForURL(/\/lake\/cities$/);
    await page.getByTestId('lake-table-page').waitFor();
    assert.equal(await text(page, 'lake-table-rows'), '3 rows');
    await waitRows(page, 3, 'the uploaded rows');
    assert.deepEqual(await column(page, 'city'), ['Lisbon', 'Porto', 'Faro']);
    assert.deepEqual(await column(page, 'VERSION'), ['1', '1', '1']);

    // Back on the list it is there.
    await page.getByRole('link', { name: 'Lake' }).first().click();
    await page.getByTestId('lake-row-cities').waitFor();
    assert.equal((await page.getByTestId('lake-row-cities').getByTestId('lake-row-count').innerText()).trim(), '3');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a table’s page: schema, versions, the preview with filter, bad filter, order, VERSION, paging and a CSV export', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(server.url + '/lake');
    await page.getByTestId('lake-row-customers').getByRole('link', { name: 'customers' }).click();
    await page.waitForURL(/\/lake\/customers$/);
    await page.getByTestId('lake-table-page').waitFor();
    assert.equal(await text(page, 'lake-table-rows'), '120 rows');
    assert.match(await page.getByTestId('lake-table-page').locator('h1').innerText(), /customers\s*(DuckDB|PostgreSQL)/);
    assert.match(await text(page, 'lake-table-size'), /\d|not estimated yet/); // DuckDB counts checkpointed blocks only

    // Schema and versions.
    assert.deepEqual(
      (await page.getByTestId('lake-column').allInnerTexts()).map((s) => s.split(/\s+/)[0]),
      ['id', 'name', 'score', 'city', 'VERSION', 'CREATED_AT'],
    );
    const versions = (await page.getByTestId('lake-version-row').allInnerTexts()).map((s) => s.split(/\s+/).slice(0, 2).join(' '));
    assert.deepEqual(versions, ['2 50', '1 70']);

    // The first page: 50 rows in write order; nulls shown as such.
    await waitRows(page, 50, 'the first page');
    assert.equal(await text(page, 'lake-page-info'), 'Rows 1–50');
    assert.deepEqual((await column(page, 'id')).slice(0, 3), ['1', '2', '3']);
    assert.equal((await column(page, 'city'))[3], 'null');
    await shot(page, 'lake-table');

    // Next page, and the last one; Next is then disabled; Previous goes back.
    await page.getByTestId('lake-next').click();
    await waitFor(async () => (await text(page, 'lake-page-info')) === 'Rows 51–100', 'page 2');
    assert.equal((await column(page, 'id'))[0], '51');
    await page.getByTestId('lake-next').click();
    await waitFor(async () => (await text(page, 'lake-page-info')) === 'Rows 101–120 (end)', 'page 3');
    assert.equal(await gridRows(page).count(), 20);
    assert.equal(await page.getByTestId('lake-next').isDisabled(), true);
    await page.getByTestId('lake-prev').click();
    await waitFor(async () => (await text(page, 'lake-page-info')) === 'Rows 51–100', 'back to page 2');

    // A filter narrows the rows (and starts again from the first page).
    await page.getByTestId('lake-filter').fill("city = 'Lisbon' AND id <= 40");
    await page.getByTestId('lake-filter-apply').click();
    await waitRows(page, 10, 'the Lisbon rows');
    assert.deepEqual(await column(page, 'id'), ['1', '5', '9', '13', '17', '21', '25', '29', '33', '37']);
    assert.equal(await text(page, 'lake-page-info'), 'Rows 1–10 (end)');

    // Clicking a header orders by it: ascending, then descending.
    await page.getByTestId('lake-sort-score').click();
    await waitFor(async () => (await text(page, 'lake-order')) === 'ordered by score ascending', 'ascending order');
    await waitFor(async () => {
      const s = (await column(page, 'score')).map(Number);
      return s.length === 10 && s.every((v, i) => i === 0 || s[i - 1]! <= v);
    }, 'scores ascending');
    await page.getByTestId('lake-sort-score').click();
    await waitFor(async () => {
      const s = (await column(page, 'score')).map(Number);
      return s.length === 10 && s.every((v, i) => i === 0 || s[i - 1]! >= v);
    }, 'scores descending');

    // A bad filter: the server's 400 is shown at the box, with where it went wrong.
    await page.getByTestId('lake-filter').fill("city = 'Lisbon' AND score >> 3");
    await page.getByTestId('lake-filter-apply').click();
    await page.getByTestId('filter-error').waitFor();
    assert.match(await text(page, 'filter-error'), /Bad filter at character \d+/);
    assert.equal(await gridRows(page).count(), 0);
    await shot(page, 'lake-table-bad-filter');

    // An unknown column is a 400 too.
    await page.getByTestId('lake-filter').fill('nope = 1');
    await page.getByTestId('lake-filter-apply').click();
    await waitFor(async () => /nope/.test(await text(page, 'filter-error')), 'the unknown column error');

    // Clear; the latest VERSION only: 50 rows, ids 71…
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByTestId('lake-sort-score').click(); // back to no order
    await page.getByTestId('lake-version').selectOption('latest');
    await waitRows(page, 50, 'VERSION 2');
    assert.equal((await column(page, 'id'))[0], '71');
    assert.ok((await column(page, 'VERSION')).every((v) => v === '2'));
    await page.getByTestId('lake-version').selectOption('1');
    await waitFor(async () => (await column(page, 'id'))[0] === '1' && (await column(page, 'VERSION')).every((v) => v === '1'), 'VERSION 1');

    // Fewer columns.
    await page.getByTestId('lake-columns').click();
    // The choice lives in the address, and react-router applies a change of it in a transition: the
    // box is unticked once the navigation commits, not within the click (what uncheck() demands).
    for (const name of ['score', 'CREATED_AT']) {
      const box = page.getByTestId(`lake-column-option-${name}`);
      await box.click();
      await waitFor(async () => !(await box.isChecked()), `column ${name} unticked`);
    }
    await page.keyboard.press('Escape');
    await waitFor(async () => (await page.getByTestId('lake-grid').locator('thead th').count()) === 5, 'four columns and the row number');

    // Export what the preview selects as CSV.
    const download = page.waitForEvent('download');
    await page.getByTestId('lake-export-csv').click();
    const file = await (await download).path();
    const csv = (await readFile(file, 'utf8')).trim().split('\n');
    assert.equal(csv[0], 'id,name,city,VERSION');
    assert.equal(csv.length, 71, 'VERSION 1 has 70 rows');
    assert.equal((await download).suggestedFilename(), 'customers.csv');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('drop asks for confirmation, then the table is gone', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(server.url + '/lake/small_notes');
    await page.getByTestId('lake-table-page').waitFor();
    await page.getByTestId('lake-drop').click();
    const confirm = page.getByTestId('confirm-dialog');
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /Drop small_notes and its 1 row\?/);
    // Cancel keeps it.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await http(server.url, 'GET', '/api/v1/lake/tables/small_notes', { token: server.adminToken })).status, 200);
    await page.getByTestId('lake-drop').click();
    await confirm.getByRole('button', { name: 'Drop table' }).click();
    await page.waitForURL(/\/lake$/);
    await page.getByTestId('lake-tables').waitFor();
    assert.equal(await page.getByTestId('lake-row-small_notes').count(), 0);
    assert.equal((await http(server.url, 'GET', '/api/v1/lake/tables/small_notes', { token: server.adminToken })).status, 404);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('batch predictions: the empty list, the server’s error for an unknown model, a queued job with its details, and Cancel', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(server.url + '/lake');
    await page.getByTestId('lake-tab-predictions').click();
    await page.waitForURL(/\/lake\?tab=predictions$/);
    await page.getByTestId('batch-form').waitFor();
    assert.equal(await text(page, 'batch-count'), '0 batch predictions');
    assert.match(await page.getByTestId('empty-state').innerText(), /No batch predictions yet/);

    // An unknown model: the server's 404, in the form.
    await page.getByTestId('batch-source').selectOption('customers');
    assert.equal(await page.getByTestId('batch-output').inputValue(), 'customers_predictions');
    await page.getByTestId('batch-model').fill('models:/nope/Production');
    await page.getByTestId('batch-start').click();
    await page.getByTestId('batch-start-error').waitFor();
    assert.match(await text(page, 'batch-start-error'), /nope/);
    assert.match(await text(page, 'batch-start-error'), /not found|does not exist|no /i);

    // A bad filter is caught before anything is queued.
    await page.getByTestId('batch-model').fill('models:/scorer/Production');
    await page.getByTestId('batch-filter').fill("city = 'Lisbon");
    await page.getByTestId('batch-start').click();
    await waitFor(async () => /Bad filter/.test(await text(page, 'batch-start-error')), 'the filter error');

    // A real model: queued (no workers here), listed, opened with its details.
    await page.getByTestId('batch-filter').fill("city = 'Lisbon'");
    await page.getByTestId('batch-output').fill('customer_scores');
    await page.getByTestId('batch-start').click();
    await page.getByTestId('batch-table').waitFor();
    assert.equal(await text(page, 'batch-count'), '1 batch prediction');
    const row = page.locator('[data-testid^="batch-row-"]');
    assert.equal(await row.getAttribute('data-status'), 'queued');
    assert.match(await row.innerText(), /queued[\s\S]*customers\s*→\s*customer_scores[\s\S]*models:\/scorer\/Production[\s\S]*waiting/);
    const details = page.getByTestId('batch-details');
    await details.waitFor();
    assert.match(await details.getByTestId('batch-result').innerText(), /Not finished yet/);
    await details.getByTestId('batch-log').waitFor();
    await shot(page, 'lake-predictions');

    // Cancel: the job stops and the list says so.
    await details.getByTestId('batch-cancel').click();
    await waitFor(async () => (await row.getAttribute('data-status')) === 'cancelled', 'the cancelled status');
    assert.equal(await details.getByTestId('batch-cancel').count(), 0);
    await waitFor(async () => (await details.getByTestId('log-state').innerText()).trim() === 'complete', 'the log to be complete');
    // Collapsing and reopening.
    await row.getByTestId('batch-expand').click();
    assert.equal(await page.getByTestId('batch-details').count(), 0);
    await row.locator('td').nth(1).click(); // anywhere on the row but its links
    await page.getByTestId('batch-details').waitFor();
    await shot(page, 'lake-predictions-cancelled');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
