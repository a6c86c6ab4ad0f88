// The deployment pages in Debian's Chromium against the real server. Deployments are real: a scorer
// using only Python's standard library (no requirements, so the build is quick) is uploaded through
// the TypeScript SDK and built by the server's job worker; then the pages are driven as a user would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import type { Deployment } from '@forja/contracts';
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

    // Usage: the counters go up as calls come in, and the charts draw from them.
    await page.getByTestId('deployment-tab-usage').click();
    await page.getByTestId('usage-stats').waitFor();
    assert.equal(await stat(page, 'workers'), 1);
    const served = await stat(page, 'served');
    assert.ok(served >= 1, `served ${served}`);
    assert.ok((await stat(page, 'failed')) >= 1, 'the ValueError counts as failed');
    for (let i = 0; i < 5; i++) await forja.deployments.predict(scorer.id, { x: i, label: 'sdk' });
    await waitFor(async () => (await stat(page, 'served')) >= served + 5, 'the served counter to go up', 10_000);
    await page.getByTestId('requests-chart').waitFor();
    await page.getByTestId('errors-chart').waitFor();
    await page.getByTestId('latency-chart').waitFor();
    assert.match(await text(page, 'chart-requests-latest'), /\/s$/);
    await waitFor(async () => Number(await page.getByTestId('requests-chart').getAttribute('data-points')) >= 2, 'two rate samples');
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
    assert.deepEqual(created.files.map((f) => `${f.role}:${f.name}`).sort(), ['extra:notes.md', 'extra:units.txt', 'model:weights.json', 'schema:schema.json', 'source:pricing.py']);
    assert.deepEqual(created.schemaSample, [{ area: 40 }]);
    await page.getByTestId('build-log').waitFor();
    await waitFor(async () => ['Deployed', 'Failed'].includes((await statusOf(page)) ?? ''), 'the uploaded deployment’s build to end', BUILD_MS);
    assert.equal(await statusOf(page), 'Deployed', (await forja.deployments.get(id)).message ?? '');
    await waitFor(async () => (await logText(page)).includes('Test call on the schema sample answered: {"prices": [200.0], "unit": "EUR"}'), 'the build log’s test call');
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
