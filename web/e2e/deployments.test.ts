// The deployment pages in Debian's Chromium against the real server. Deployments are real: a scorer
// using only Python's standard library (no requirements, so the build is quick) is uploaded through
// the TypeScript SDK and built by the server's job worker; then the pages are driven as a user would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { ExecutionListSchema, type Deployment } from '@forja/contracts';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, shot, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;
let scorer: Deployment;
let broken: Deployment;
let files: string;

const SCORER = `import json

def score(data, base_path):
    req = json.loads(data)
    x = req["x"]
    print("scoring x =", x, "label =", req["label"])
    if x < 0:
        raise ValueError("x must not be negative")
    return {"score": x * 2}
`;
const SAMPLE = { x: 1, label: 'a' };

// A scorer that reads its model file and an extra file from base_path, as MLOps Codex scorers do.
const UPLOADED_SCORER = `import json, os

with open(os.path.join(os.environ["BASE_PATH"], os.environ["modelFileName"])) as f:
    WEIGHTS = json.load(f)
with open(os.path.join(os.environ["BASE_PATH"], "units.txt")) as f:
    UNIT = f.read().strip()

def score(data, base_path):
    req = json.loads(data)
    rows = req if isinstance(req, list) else [req]
    return {"prices": [WEIGHTS["a"] * r["area"] + WEIGHTS["b"] for r in rows], "unit": UNIT}
`;

const BUILD_MS = 180_000;

function form(fields: Record<string, string>, parts: { field: string; name: string; content: string }[]): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const p of parts) fd.append(p.field, new Blob([p.content]), p.name);
  return fd;
}

before(async () => {
  harness = await startHarness();
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });

  const created = await forja.deployments.upload(
    form({ name: 'doubler', entrypoint: 'score', settings: JSON.stringify({ maxWorkers: 1 }) }, [
      { field: 'source', name: 'doubler.py', content: SCORER },
      { field: 'schema', name: 'schema.json', content: JSON.stringify(SAMPLE) },
    ]),
  );
  scorer = await forja.deployments.waitReady(created.deployment.id, { timeoutMs: BUILD_MS });
  assert.equal(scorer.status, 'Deployed', scorer.message ?? '');

  // Same (Python, requirements) pair: the environment is reused, so this one fails fast, on loading.
  const bad = await forja.deployments.upload(
    form({ name: 'broken-scorer' }, [
      { field: 'source', name: 'broken.py', content: 'import json\n\ndef score(data, base_path)\n    return {"score": 1}\n' },
      { field: 'schema', name: 'schema.json', content: JSON.stringify(SAMPLE) },
    ]),
  );
  broken = await forja.deployments.waitReady(bad.deployment.id, { timeoutMs: BUILD_MS });
  assert.equal(broken.status, 'Failed');

  files = await mkdtemp(path.join(tmpdir(), 'forja-deploy-ui-'));
  await writeFile(path.join(files, 'pricing.py'), UPLOADED_SCORER);
  await writeFile(path.join(files, 'weights.json'), JSON.stringify({ a: 2.5, b: 100 }));
  await writeFile(path.join(files, 'schema.json'), JSON.stringify([{ area: 40 }]));
  await writeFile(path.join(files, 'units.txt'), 'EUR\n');
  await writeFile(path.join(files, 'notes.md'), '# not used by the scorer\n');
});

after(async () => {
  if (files) await rm(files, { recursive: true, force: true });
  await harness?.close();
});

async function signedIn(): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const { context, page, errors } = await openPage(harness.browser);
  await login(page, server.url, 'admin', TEST_ADMIN_PASSWORD);
  await page.getByTestId('user-menu').waitFor();
  return { page, errors, close: () => context.close() };
}

const statusOf = (page: Page) => page.getByTestId('deployment-page').locator('h1 [data-testid="deployment-status"]').getAttribute('data-status');
const text = async (page: Page, testId: string) => (await page.getByTestId(testId).innerText()).trim();
const logText = async (page: Page) => (await page.getByTestId('log-line').allInnerTexts()).join('\n');
const stat = async (page: Page, key: string) => Number(await text(page, `stat-${key}`));

async function predictInForm(page: Page, x: string) {
  const before = await page.getByTestId('call-row').count();
  await page.getByTestId('test-field-x').fill(x);
  await page.getByTestId('predict').click();
  await waitFor(async () => (await page.getByTestId('call-row').count()) === before + 1, `the call with x=${x} to be answered`);
}

test('a deployed scorer: listed as Deployed, its build log, a test form from its schema sample, usage, runtime log, code, disable and enable', async () => {
  const { page, errors, close } = await signedIn();
  try {
    // The list, reached from the navigation.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments' }).click();
    await page.waitForURL(/\/deployments$/);
    await page.getByTestId('deployments-table').waitFor();
    const row = page.getByTestId('deployment-row-doubler');
    assert.equal(await row.getAttribute('data-status'), 'Deployed');
    assert.match(await row.innerText(), /script[\s\S]*uploaded files/);
    assert.equal(await page.getByTestId('deployment-row-broken-scorer').getAttribute('data-status'), 'Failed');
    await shot(page, 'deployments');

    // Its page opens on the Test tab (it answers); the Build tab has the build job's whole log.
    await row.getByRole('link', { name: 'doubler' }).click();
    await page.waitForURL(new RegExp(`/deployments/${scorer.id}$`));
    await page.getByTestId('deployment-page').waitFor();
    assert.equal(await statusOf(page), 'Deployed');
    assert.match(await text(page, 'deployment-environment'), /\S/);
    assert.match(await text(page, 'deployment-settings'), /^1 worker · timeout 30 s/);
    assert.match(await text(page, 'deployment-files'), /doubler\.py\s*source[\s\S]*schema\.json\s*schema/);
    await page.getByTestId('test-form').waitFor();
    await page.getByTestId('deployment-tab-build').click();
    const build = page.getByTestId('build-log');
    await build.waitFor();
    await waitFor(async () => (await build.getByTestId('log-state').innerText()).trim() === 'complete', 'the build log to be complete');
    assert.match(await logText(page), /Test call on the schema sample answered: \{"score": 2\}/);
    await shot(page, 'deployment-build');

    // The Test tab: one input per field of the sample, typed like it.
    await page.getByTestId('deployment-tab-test').click();
    const x = page.getByTestId('test-field-x');
    const label = page.getByTestId('test-field-label');
    assert.equal(await x.getAttribute('type'), 'number');
    assert.equal(await x.inputValue(), '1');
    assert.equal(await label.getAttribute('type'), 'text');
    assert.equal(await label.inputValue(), 'a');

    await predictInForm(page, '21');
    assert.equal(await page.getByTestId('predict-answer').getAttribute('data-ok'), 'true');
    assert.deepEqual(JSON.parse(await text(page, 'predict-output')), { score: 42 });
    assert.match(await text(page, 'answer-ms'), /^\d+(\.\d)? ms$/);
    await shot(page, 'deployment-test');

    // A scorer that raises: the server's 422 MODEL_ERROR with the exception, in the page.
    await predictInForm(page, '-1');
    assert.equal(await page.getByTestId('predict-answer').getAttribute('data-ok'), 'false');
    assert.match(await page.getByTestId('predict-answer').innerText(), /422 MODEL_ERROR/);
    assert.equal(await text(page, 'predict-error'), 'The model raised ValueError: x must not be negative');

    // A body that breaks the schema, written as JSON: the server's 400 names the field.
    await page.getByTestId('test-mode-json').click();
    assert.deepEqual(JSON.parse(await page.getByTestId('test-json').inputValue()), { x: -1, label: 'a' });
    await page.getByTestId('test-json').fill('{"x": "lots", "label": "a"}');
    await page.getByTestId('predict').click();
    await waitFor(async () => (await page.getByTestId('call-row').count()) === 3, 'the schema error');
    assert.match(await page.getByTestId('predict-answer').innerText(), /400 INVALID_ARGUMENT|400 \w+/);
    assert.match(await text(page, 'predict-error'), /Row 0: field "x" should be a number, not a string/);
    await page.getByTestId('test-mode-form').click();
    assert.equal(await page.getByTestId('call-row').count(), 3);
    const history = await page.getByTestId('call-row').allInnerTexts();
    assert.match(history[0]!, /400/);
    assert.match(history[1]!, /422[\s\S]*The model raised ValueError/);
    assert.match(history[2]!, /200[\s\S]*\{"score":42\}/);
    await shot(page, 'deployment-test-error');

    // Usage: the live counters go up as calls come in; the charts read every call the server counted (the usage API).
    await page.getByTestId('deployment-tab-usage').click();
    await page.getByTestId('usage-stats').waitFor();
    assert.equal(await stat(page, 'workers'), 1);
    const served = await stat(page, 'served');
    assert.ok(served >= 1, `served ${served}`);
    assert.ok((await stat(page, 'failed')) >= 1, 'the ValueError counts as failed');
    for (let i = 0; i < 5; i++) await forja.deployments.predict(scorer.id, { x: i, label: 'sdk' });
    await waitFor(async () => (await stat(page, 'served')) >= served + 5, 'the served counter to go up', 10_000);
    await page.getByTestId('calls-chart').waitFor();
    await page.getByTestId('latency-pct-chart').waitFor();
    await page.getByTestId('error-rate-chart').waitFor();
    await waitFor(async () => Number(await text(page, 'usage-calls')) >= served + 5, 'the usage history to count the calls', 20_000);
    await shot(page, 'deployment-usage');

    // The runtime log has what the scorer printed.
    await page.getByTestId('deployment-tab-runtime').click();
    await waitFor(async () => (await text(page, 'runtime-log')).includes('scoring x = 21 label = a'), 'the scorer’s print in the runtime log');
    assert.match(await text(page, 'runtime-log'), /ValueError: x must not be negative/);
    await page.getByTestId('runtime-refresh').click();
    await shot(page, 'deployment-runtime-log');

    // The calling code.
    await page.getByTestId('deployment-tab-code').click();
    assert.match(await text(page, 'code-curl'), new RegExp(`curl -X POST '.*/api/v1/deployments/${scorer.id}/predict'`));
    assert.match(await text(page, 'code-curl'), /-d '\{"x":1,"label":"a"\}'/);
    assert.match(await text(page, 'code-python'), /requests\.post/);
    assert.match(await text(page, 'code-typescript'), /await fetch/);
    await shot(page, 'deployment-code');

    // Disable: the status follows, and the Test tab shows the server's 409.
    await page.getByTestId('disable-deployment').click();
    await waitFor(async () => (await statusOf(page)) === 'Disabled', 'the deployment to show Disabled');
    assert.equal((await forja.deployments.get(scorer.id)).status, 'Disabled');
    await page.getByTestId('deployment-tab-test').click();
    await page.getByTestId('test-not-deployed').waitFor();
    await predictInForm(page, '21');
    assert.match(await page.getByTestId('predict-answer').innerText(), /409 CONFLICT|409 \w+/);
    assert.match(await text(page, 'predict-error'), /doubler is disabled; enable it to predict/);
    await shot(page, 'deployment-disabled');

    // Enable brings it back.
    await page.getByTestId('enable-deployment').click();
    await waitFor(async () => (await statusOf(page)) === 'Deployed', 'the deployment to show Deployed again');
    await page.getByTestId('test-not-deployed').waitFor({ state: 'detached' });
    await predictInForm(page, '21');
    assert.deepEqual(JSON.parse(await text(page, 'predict-output')), { score: 42 });

    // The list shows the same.
    await page.getByRole('link', { name: 'Deployments' }).first().click();
    await page.getByTestId('deployments-table').waitFor();
    assert.equal(await page.getByTestId('deployment-row-doubler').getAttribute('data-status'), 'Deployed');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('the Upload files dialog sends the files and the new deployment builds to Deployed', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/deployments`);
    await page.getByTestId('deployments-table').waitFor();
    await page.getByTestId('new-upload').click();
    const dialog = page.getByTestId('upload-dialog');
    await dialog.waitFor();
    await dialog.getByLabel('Name').fill('pricing');
    await dialog.getByLabel('Python version').fill('');
    await dialog.getByTestId('upload-source').setInputFiles(path.join(files, 'pricing.py'));
    await dialog.getByTestId('upload-model').setInputFiles(path.join(files, 'weights.json'));
    await dialog.getByTestId('upload-schema').setInputFiles(path.join(files, 'schema.json'));
    await dialog.getByTestId('upload-extra').setInputFiles([path.join(files, 'units.txt'), path.join(files, 'notes.md')]);
    await shot(page, 'deployment-upload-dialog');
    await dialog.getByRole('button', { name: 'Upload and build' }).click();

    // The new deployment's page, on its build, which it follows live to the end.
    await page.waitForURL(/\/deployments\/[^/]+$/);
    await page.getByTestId('deployment-page').waitFor();
    await shot(page, 'deployment-just-uploaded');
    const id = page.url().split('/').pop()!;
    const created = await forja.deployments.get(id);
    assert.equal(created.name, 'pricing');
    assert.deepEqual(created.files.map((f) => `${f.role}:${f.name}`).sort(), [
      'extra:notes.md',
      'extra:units.txt',
      'model:weights.json',
      'schema:schema.json',
      'source:pricing.py',
    ]);
    assert.deepEqual(created.schemaSample, [{ area: 40 }]);
    await page.getByTestId('build-log').waitFor();
    await waitFor(async () => ['Deployed', 'Failed'].includes((await statusOf(page)) ?? ''), 'the uploaded deployment’s build to end', BUILD_MS);
    assert.equal(await statusOf(page), 'Deployed', (await forja.deployments.get(id)).message ?? '');
    await waitFor(
      async () => (await logText(page)).includes('Test call on the schema sample answered: {"prices": [200.0], "unit": "EUR"}'),
      'the build log’s test call',
    );
    await shot(page, 'deployment-uploaded');

    // Its form comes from a list-of-records sample, and the call is sent in that shape.
    await page.getByTestId('deployment-tab-test').click();
    await page.getByTestId('test-field-area').fill('100');
    await page.getByTestId('predict').click();
    await page.getByTestId('predict-output').waitFor();
    assert.deepEqual(JSON.parse(await text(page, 'predict-output')), { prices: [350], unit: 'EUR' });

    // Deleting asks first, then returns to the list without it.
    await page.getByTestId('delete-deployment').click();
    const confirm = page.getByTestId('confirm-dialog');
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/\/deployments$/);
    await page.getByTestId('deployments-table').waitFor();
    assert.equal(await page.getByTestId('deployment-row-pricing').count(), 0);
    assert.ok(!(await forja.deployments.list()).some((d) => d.name === 'pricing'));
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a build that fails shows Failed with its message, in the list and on its page', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/deployments`);
    const row = page.getByTestId('deployment-row-broken-scorer');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'Failed');
    const reason = broken.message ?? '';
    assert.ok(reason.length > 0, 'the server gives a reason');
    assert.equal((await row.getByTestId('deployment-message-cell').innerText()).trim(), reason.split('\n')[0]);

    await row.getByRole('link', { name: 'broken-scorer' }).click();
    await page.getByTestId('deployment-page').waitFor();
    assert.equal(await statusOf(page), 'Failed');
    const failure = page.getByTestId('deployment-failure');
    assert.match(await failure.innerText(), /The build failed/);
    assert.ok((await failure.innerText()).includes(reason.split('\n')[0]!));
    // A failed deployment opens on its build, whose log has the reason too.
    await page.getByTestId('build-log').waitFor();
    await waitFor(async () => (await page.getByTestId('build-log').getByTestId('log-state').innerText()).trim() === 'complete', 'the failed build’s log');
    assert.match(await logText(page), /SyntaxError|invalid syntax|expected ':'/);
    await shot(page, 'deployment-failed');

    // The Test tab says it cannot answer; a call shows the server's 409 with the build's failure.
    await page.getByTestId('deployment-tab-test').click();
    await page.getByTestId('test-not-deployed').waitFor();
    await page.getByTestId('predict').click();
    await page.getByTestId('predict-error').waitFor();
    assert.match(await text(page, 'predict-error'), /broken-scorer failed to build/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('the Deploy a registered model dialog checks the sample is JSON, shows the server’s refusal, and deploys a version whose source links to the model', async () => {
  const { page, errors, close } = await signedIn();
  try {
    // A registered version whose pickle would run os.system when loaded: the build's safety scan refuses it.
    const experimentId = (await forja.experiments.create({ name: 'house-training' })).experimentId;
    const run = await forja.runs.create({ experimentId, runName: 'forest' });
    await forja.runs.uploadArtifact(run.info.runId, 'model/model.pkl', "cos\nsystem\n(S'echo pwned'\ntR.");
    await forja.models.create({ name: 'house-prices' });
    await forja.models.createVersion('house-prices', { source: `runs:/${run.info.runId}/model` });

    await page.goto(`${server.url}/deployments`);
    await page.getByTestId('new-from-model').click();
    const dialog = page.getByTestId('from-model-dialog');
    await dialog.waitFor();
    await dialog.getByLabel('Name').fill('houses');
    await dialog.getByLabel('Model URI').fill('models:/house-prices@champion');
    await dialog.getByLabel('Kind').selectOption('pickle');
    await dialog.getByLabel('Predict method').selectOption('predict_proba');
    await dialog.getByLabel('Schema sample (optional)').fill('{"rooms": 3,');
    await dialog.getByTestId('sample-error').waitFor();
    assert.match(await text(page, 'sample-error'), /^Not valid JSON/);
    assert.ok(await dialog.getByRole('button', { name: 'Deploy' }).isDisabled());
    await dialog.getByLabel('Schema sample (optional)').fill('[{"rooms": 3, "area": 70.5}]');
    await dialog.getByTestId('sample-error').waitFor({ state: 'detached' });
    await shot(page, 'deployment-from-model-dialog');

    // No version has that alias: the server says so and the dialog stays open.
    await dialog.getByRole('button', { name: 'Deploy' }).click();
    await dialog.getByTestId('form-error').waitFor();
    assert.match(await dialog.getByTestId('form-error').innerText(), /champion/);
    assert.ok(await dialog.isVisible());
    assert.ok(!(await forja.deployments.list()).some((d) => d.name === 'houses'));

    // Version 1 is deployed; its build fails on the scan, and the page says why.
    await dialog.getByLabel('Model URI').fill('models:/house-prices/1');
    await dialog.getByRole('button', { name: 'Deploy' }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    await page.getByTestId('deployment-page').waitFor();
    await waitFor(async () => (await statusOf(page)) === 'Failed', 'the pickle’s build to fail', BUILD_MS);
    assert.match(await page.getByTestId('deployment-failure').innerText(), /os\.system/);
    assert.equal(await text(page, 'deployment-kind'), 'pickle');
    const created = (await forja.deployments.list()).find((d) => d.name === 'houses');
    assert.deepEqual(created?.schemaSample, [{ rooms: 3, area: 70.5 }]);
    assert.deepEqual(created?.modelVersion, { name: 'house-prices', version: '1' });
    await shot(page, 'deployment-from-model-failed');

    // The source links to the registered model, at the deployed version.
    await page.getByTestId('deployment-info').getByTestId('deployment-source-link').click();
    await page.waitForURL(/\/models\/house-prices\?version=1$/);
    await page.getByTestId('model-page').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

// Neomaril's async contract: score(data_path, model_path) gets the input's folder, writes its output there and returns its path.
const ASYNC_SCORER = `import csv, os

def score(data_path, model_path):
    out = os.path.join(data_path, "scored.csv")
    with open(os.path.join(data_path, os.environ["inputFileName"])) as f, open(out, "w", newline="") as g:
        rows = list(csv.DictReader(f))
        if rows and rows[0].get("x") == "boom":
            raise RuntimeError("column x must be numeric")
        w = csv.writer(g)
        w.writerow(["x", "double"])
        for r in rows:
            w.writerow([r["x"], float(r["x"]) * 2])
    print("scored", len(rows), "rows of", os.environ["inputFileName"])
    return out
`;

const executionRow = (page: Page, n: number) => page.getByTestId('execution-row').nth(n);
async function settled(page: Page, n: number, what: string) {
  await waitFor(async () => ['Succeeded', 'Failed'].includes((await executionRow(page, n).getAttribute('data-status')) ?? ''), what, 60_000);
  return executionRow(page, n).getAttribute('data-status');
}

test('an async deployment: executions of an uploaded file and of lake rows, each with its live log, a download once Succeeded, and the message of a failure', async () => {
  // Empty requirements and the same Python: the doubler's environment is reused, so this builds quickly.
  const created = await forja.deployments.upload(
    form({ name: 'async-doubler', operation: 'async' }, [{ field: 'source', name: 'async_doubler.py', content: ASYNC_SCORER }]),
  );
  const dep = await forja.deployments.waitReady(created.deployment.id, { timeoutMs: BUILD_MS });
  assert.equal(dep.status, 'Deployed', dep.message ?? '');
  assert.equal(dep.operation, 'async');
  const seeded = await fetch(`${server.url}/api/v1/lake/tables/exec_rows/rows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'text/csv' },
    body: 'x,y\n1,a\n2.5,b\n7,c\n',
  });
  assert.equal(seeded.status, 201, await seeded.text());

  const { page, errors, close } = await signedIn();
  try {
    // A Deployed async deployment opens on its executions; it has no Test tab (it answers no calls).
    await page.goto(`${server.url}/deployments/${dep.id}`);
    await page.getByTestId('executions').waitFor();
    assert.equal(await text(page, 'deployment-entrypoint'), 'score(data_path, model_path)');
    assert.match(await text(page, 'scorer-paths'), /data_path is the folder holding the input under its own name/);
    assert.equal(await page.getByTestId('deployment-tab-test').count(), 0);
    await page.getByTestId('executions').getByTestId('empty-state').waitFor();

    // An uploaded CSV: Requested → Running → Succeeded, its row opened on the live log.
    await page.getByTestId('new-execution').click();
    const dialog = page.getByTestId('execution-dialog');
    await dialog.waitFor();
    assert.ok(await dialog.getByTestId('execution-start').isDisabled(), 'nothing to run yet');
    await dialog.getByTestId('execution-file').setInputFiles({ name: 'data.csv', mimeType: 'text/csv', buffer: Buffer.from('x\n1\n2.5\n') });
    await dialog.getByTestId('execution-start').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('execution-log').waitFor();
    assert.equal(await settled(page, 0, 'the uploaded file’s execution to end'), 'Succeeded');
    const first = executionRow(page, 0);
    assert.match(await first.getByTestId('execution-input').innerText(), /data\.csv\s*8 B/);
    assert.match(await first.getByTestId('execution-output').innerText(), /scored\.csv\s*\d+ B/);
    assert.match(await first.getByTestId('execution-duration').innerText(), /\d+(\.\d)? (ms|s)/);
    await waitFor(async () => (await logText(page)).includes('scored 2 rows of data.csv'), 'the scorer’s print in the execution log', 15_000);

    // Download: the browser saves the output file under its name.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('execution-download').click()]);
    assert.equal(download.suggestedFilename(), 'scored.csv');
    assert.equal((await readFile((await download.path())!, 'utf8')).replace(/\r/g, ''), 'x,double\n1,2.0\n2.5,5.0\n');
    await page.screenshot({ path: '/tmp/deploy-executions.png' });

    // The rows of a lake table that a filter keeps, one column of two, as CSV.
    await page.getByTestId('new-execution').click();
    await dialog.waitFor();
    await dialog.getByTestId('execution-source-table').click();
    await dialog.getByTestId('execution-table').selectOption('exec_rows');
    await dialog.getByTestId('execution-filter').fill('x < 5');
    await dialog.getByTestId('execution-column-y').uncheck();
    await dialog.getByTestId('execution-format').selectOption('csv');
    assert.ok(await dialog.getByTestId('execution-column-x').isChecked());
    await page.screenshot({ path: '/tmp/deploy-execution-dialog.png' });
    await dialog.getByTestId('execution-start').click();
    await dialog.waitFor({ state: 'hidden' });
    await waitFor(async () => (await page.getByTestId('execution-row').count()) === 2, 'the second execution in the list');
    assert.equal(await settled(page, 0, 'the lake execution to end'), 'Succeeded');
    assert.match(await executionRow(page, 0).getByTestId('execution-input').innerText(), /input\.csv/);
    await waitFor(async () => (await logText(page)).includes('scored 2 rows of input.csv'), 'the lake execution’s log');
    const [fromTable] = await Promise.all([page.waitForEvent('download'), page.getByTestId('execution-details').getByTestId('execution-download').click()]);
    assert.equal((await readFile((await fromTable.path())!, 'utf8')).replace(/\r/g, ''), 'x,double\n1.0,2.0\n2.5,5.0\n');

    // A scorer that raises: Failed, with its message in the row and in the details.
    await page.getByTestId('new-execution').click();
    await dialog.getByTestId('execution-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('x\nboom\n') });
    await dialog.getByTestId('execution-start').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await settled(page, 0, 'the failing execution to end'), 'Failed');
    assert.match(await text(page, 'execution-message'), /column x must be numeric/);
    assert.equal((await executionRow(page, 0).getByTestId('execution-message-cell').innerText()).trim(), 'RuntimeError: column x must be numeric');
    assert.equal(await page.getByTestId('execution-details').getByTestId('execution-download').count(), 0);
    await page.screenshot({ path: '/tmp/deploy-execution-failed.png' });
    assert.equal((await forja.request('GET', `/api/v1/deployments/${dep.id}/executions`, ExecutionListSchema)).items.length, 3);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('the Workers tab shows this server’s workers after a call; the settings editor saves maxWorkers and shows the server’s 400', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await forja.deployments.predict(scorer.id, { x: 3, label: 'workers' });
    await page.goto(`${server.url}/deployments/${scorer.id}?tab=workers`);
    await page.getByTestId('workers-panel').waitFor();
    await waitFor(async () => Number((await text(page, 'workers-stat-workers')).split('/')[0]) >= 1, 'a live worker');
    assert.ok(Number(await text(page, 'workers-stat-served')) >= 1);
    for (const key of ['busy', 'queued', 'failed', 'restarts']) assert.match(await text(page, `workers-stat-${key}`), /^\d+$/);
    assert.match(await text(page, 'workers-note'), /this server’s/);
    const before = (await forja.deployments.get(scorer.id)).settings;
    assert.equal(await text(page, 'setting-value-maxWorkers'), String(before.maxWorkers));

    // The editor starts from the current values, with the contract's bounds.
    await page.getByTestId('edit-settings').click();
    const dialog = page.getByTestId('settings-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByTestId('setting-maxWorkers').inputValue(), String(before.maxWorkers));
    assert.equal(await dialog.getByTestId('setting-timeoutMs').inputValue(), String(before.timeoutMs));
    assert.match(await text(page, 'setting-hint-maxWorkers'), /^1–64, default 2/);
    assert.match(await text(page, 'settings-restart-note'), /restarts the deployment’s workers/);
    assert.ok(await dialog.getByTestId('settings-save').isDisabled(), 'nothing changed');

    // Too many workers: the server's 400 in the dialog, which stays open, and nothing saved.
    await dialog.getByTestId('setting-maxWorkers').fill('100');
    await dialog.getByTestId('settings-save').click();
    await dialog.getByTestId('settings-error').waitFor();
    assert.match(await text(page, 'settings-error'), /maxWorkers|64/);
    await page.screenshot({ path: '/tmp/deploy-settings-400.png' });
    assert.equal((await forja.deployments.get(scorer.id)).settings.maxWorkers, before.maxWorkers);
    // More minimum than maximum: the service's own check.
    await dialog.getByTestId('setting-maxWorkers').fill('3');
    await dialog.getByTestId('setting-minWorkers').fill('5');
    await dialog.getByTestId('settings-save').click();
    await waitFor(async () => /minWorkers \(5\) cannot be above maxWorkers \(3\)/.test(await text(page, 'settings-error')), 'the min/max error');
    await page.screenshot({ path: '/tmp/deploy-settings-error.png' });

    // A good value: saved, the dialog closes, the page shows it.
    await dialog.getByTestId('setting-minWorkers').fill(String(before.minWorkers));
    await page.screenshot({ path: '/tmp/deploy-settings.png' });
    await dialog.getByTestId('settings-save').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await text(page, 'setting-value-maxWorkers'), '3');
    assert.match(await text(page, 'deployment-settings'), /^1–3 workers · timeout 30 s/);
    assert.equal((await forja.deployments.get(scorer.id)).settings.maxWorkers, 3);

    // The workers come back with the new settings on the next call.
    assert.deepEqual(await forja.deployments.predict(scorer.id, { x: 4, label: 'workers' }), { score: 8 });
    await waitFor(
      async () => (await text(page, 'workers-stat-workers')).replace(/\s/g, '') !== '' && Number(await text(page, 'workers-stat-served')) >= 1,
      'the served count after the settings change',
    );
    assert.match(await text(page, 'workers-stat-workers'), /^\d+\s*\/\s*3$/);
    await page.screenshot({ path: '/tmp/deploy-workers.png' });

    // Outbound network: off by default; an admin allows it and the page says so.
    assert.equal(await text(page, 'setting-value-network'), 'off');
    await page.getByTestId('edit-settings').click();
    await dialog.getByTestId('setting-network').check();
    await dialog.getByTestId('settings-save').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await text(page, 'setting-value-network'), 'allowed');
    assert.equal((await forja.deployments.get(scorer.id)).settings.network, true);
    await page.screenshot({ path: '/tmp/deploy-network.png' });

    // Public: off by default; the switch warns before saving, then the page says so with a warning.
    assert.equal(await text(page, 'setting-value-public'), 'off');
    assert.equal(await page.getByTestId('public-warning').count(), 0);
    await page.getByTestId('edit-settings').click();
    await dialog.getByTestId('setting-public').check();
    assert.match(await text(page, 'public-dialog-warning'), /Anyone who can reach this server/);
    await dialog.getByTestId('settings-save').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await text(page, 'setting-value-public'), 'anyone, no token');
    assert.match(await text(page, 'public-warning'), /without a token \(60 calls a minute per address\)/);
    assert.match(await text(page, 'deployment-settings'), / · public$/);
    assert.equal((await forja.deployments.get(scorer.id)).settings.public, true);
    // And it answers without one.
    assert.deepEqual(await new ForjaClient({ baseUrl: forja.baseUrl }).deployments.predict(scorer.id, { x: 4, label: 'public' }), { score: 8 });
    await page.screenshot({ path: '/tmp/deploy-public.png' });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
