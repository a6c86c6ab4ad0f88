// The pipeline and training pages in Debian's Chromium against the real server. A pipeline of three
// script steps (no requirements, so uv builds the environment quickly) is uploaded and run through
// the HTTP API: once to success, once with a parameter that makes its middle step fail (the last
// is skipped). The UI then shows the list, the DAG with each step's status, a step's outputs and
// live log, Retry on the failed run, a run started from a step through the Run dialog, and the
// upload dialog's 400 for a cycle. Training: the list and the new-run dialog's validation errors
// (a real training run builds a scikit-learn environment, so none is started).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { TEST_ADMIN_PASSWORD, http, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
let files: string;
let okRun: string;
let failedRun: string;

const PIPELINE = 'nightly-etl';
const RUN_MS = 180_000;
const SHOTS = process.env.FORJA_SCREENSHOT_DIR ?? '/tmp';

const EXTRACT = `import json, os
print("extracting 3 rows", flush=True)
open(os.environ["FORJA_OUTPUTS"], "w").write(json.dumps({"n": 3}))
`;
const TRANSFORM = `import json, os, sys
params = json.loads(os.environ["FORJA_PARAMS"])
print("transforming", params["n"], "rows", flush=True)
if params.get("fail_on") == "transform":
    print("transform was told to fail", file=sys.stderr, flush=True)
    sys.exit(4)
open(os.environ["FORJA_OUTPUTS"], "w").write(json.dumps({"total": params["n"] * 2}))
`;
const LOAD = `import json, os
params = json.loads(os.environ["FORJA_PARAMS"])
print("loaded", params["total"], flush=True)
`;
const DEFINITION = `name: nightly-etl
params:
  fail_on: ""
steps:
  - id: extract
    script: extract.py
  - id: transform
    script: transform.py
    needs: [extract]
    params: { n: "\${{ steps.extract.outputs.n }}", fail_on: "\${{ params.fail_on }}" }
  - id: load
    script: load.py
    needs: [transform]
    params: { total: "\${{ steps.transform.outputs.total }}" }
`;
const CYCLE = `steps:
  - id: a
    script: extract.py
    needs: [b]
  - id: b
    script: extract.py
    needs: [a]
`;

const DIAMOND = `steps:
  - id: fetch
    script: extract.py
  - id: features
    script: extract.py
    needs: [fetch]
  - id: labels
    script: extract.py
    needs: [fetch]
  - id: train
    action: train
    needs: [features, labels]
    with: { source: extract.py, data: "\${{ steps.features.outputs.n }}", experiment: fanout }
  - id: report
    script: extract.py
    needs: [fetch]
`;

const api = (method: string, p: string, body?: unknown) => http(server.url, method, p, { token: server.adminToken, body });

async function finished(runId: string): Promise<{ status: string; steps: { id: string; status: string }[] }> {
  const deadline = Date.now() + RUN_MS;
  for (;;) {
    const run = (await api('GET', `/api/v1/pipeline-runs/${runId}`)).body;
    if (run.status !== 'running') return run;
    if (Date.now() > deadline) assert.fail(`pipeline run ${runId} did not finish: ${JSON.stringify(run.steps)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

before(async () => {
  harness = await startHarness();
  server = harness.server;
  files = await mkdtemp(path.join(tmpdir(), 'forja-pipelines-ui-'));
  await writeFile(path.join(files, 'pipeline.yaml'), DEFINITION);
  await writeFile(path.join(files, 'cycle.yaml'), CYCLE);
  await writeFile(path.join(files, 'fan-out.yaml'), DIAMOND);
  await writeFile(path.join(files, 'extract.py'), EXTRACT);
  await writeFile(path.join(files, 'not-python.txt'), 'hello');
  await writeFile(path.join(files, 'train.py'), 'def train_model(df, base_path):\n    return {}\n');
  await writeFile(path.join(files, 'data.csv'), 'x,y\n1,0\n2,1\n');

  const form = new FormData();
  form.append('definition', new Blob([DEFINITION]), 'pipeline.yaml');
  for (const [name, content] of [
    ['extract.py', EXTRACT],
    ['transform.py', TRANSFORM],
    ['load.py', LOAD],
  ])
    form.append('file', new Blob([content!]), name);
  const up = await fetch(`${server.url}/api/v1/pipelines/${PIPELINE}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.adminToken}` },
    body: form,
  });
  assert.equal(up.status, 200, await up.text());

  const ok = await api('POST', `/api/v1/pipelines/${PIPELINE}/runs`, {});
  assert.equal(ok.status, 202, ok.text);
  okRun = ok.body.id;
  assert.equal((await finished(okRun)).status, 'succeeded');
  const failing = await api('POST', `/api/v1/pipelines/${PIPELINE}/runs`, { params: { fail_on: 'transform' } });
  assert.equal(failing.status, 202, failing.text);
  failedRun = failing.body.id;
  const run = await finished(failedRun);
  assert.deepEqual(Object.fromEntries(run.steps.map((s) => [s.id, s.status])), { extract: 'succeeded', transform: 'failed', load: 'skipped' });
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

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `pipelines-${name}.png`), fullPage: true });
const nodeStatus = (page: Page, step: string) => page.getByTestId(`dag-node-${step}`).getAttribute('data-status');
const logText = async (page: Page, testId: string) => (await page.getByTestId(testId).getByTestId('log-line').allInnerTexts()).join('\n');

test('the list shows the pipeline with its version, steps and last run; its page draws the DAG, the runs and the definition', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pipelines' }).click();
    await page.waitForURL(/\/pipelines$/);
    const row = page.getByTestId(`pipeline-row-${PIPELINE}`);
    await row.waitFor();
    assert.equal((await row.getByTestId('pipeline-version').innerText()).trim(), 'v1');
    assert.equal((await row.getByTestId('pipeline-steps').innerText()).trim(), '3');
    await waitFor(async () => (await row.getByTestId('pipeline-run-status').count()) === 1, 'the last run in the list');
    assert.equal(await row.getByTestId('pipeline-run-status').getAttribute('data-status'), 'failed');
    await shot(page, 'list');

    await row.getByRole('link', { name: PIPELINE }).click();
    await page.getByTestId('pipeline-page').waitFor();
    const dag = page.getByTestId('pipeline-dag');
    for (const id of ['extract', 'transform', 'load']) await dag.getByTestId(`dag-node-${id}`).waitFor();
    // The graph is coloured by the newest run (the failed one), in columns by depth.
    await waitFor(async () => (await nodeStatus(page, 'transform')) === 'failed', 'the graph to show the last run');
    const x = async (id: string) => (await dag.getByTestId(`dag-node-${id}`).boundingBox())!.x;
    assert.ok((await x('extract')) < (await x('transform')) && (await x('transform')) < (await x('load')), 'one column per depth');
    assert.equal(await dag.locator('path[data-edge]').count(), 2);
    const runs = page.getByTestId('pipeline-runs-table');
    await runs.waitFor();
    assert.equal(await page.getByTestId(`pipeline-run-row-${okRun}`).getAttribute('data-status'), 'succeeded');
    assert.equal(await page.getByTestId(`pipeline-run-row-${failedRun}`).getAttribute('data-status'), 'failed');
    assert.match(await page.getByTestId(`pipeline-run-row-${failedRun}`).innerText(), /fail_on/);
    await shot(page, 'pipeline');

    await page.getByTestId('pipeline-tab-definition').click();
    assert.match(await page.getByTestId('pipeline-definition').innerText(), /script: transform\.py/);
    assert.match(await page.getByTestId('pipeline-files').innerText(), /load\.py/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a failed run: the DAG shows succeeded, failed and skipped; a step shows its outputs, error and log; Retry is offered', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/pipelines/${PIPELINE}/runs/${failedRun}`);
    await page.getByTestId('pipeline-run-page').waitFor();
    assert.equal(await page.getByTestId('pipeline-run-page').getByTestId('pipeline-run-status').first().getAttribute('data-status'), 'failed');
    assert.equal(await nodeStatus(page, 'extract'), 'succeeded');
    assert.equal(await nodeStatus(page, 'transform'), 'failed');
    assert.equal(await nodeStatus(page, 'load'), 'skipped');
    assert.match(await page.getByTestId('pipeline-run-summary').innerText(), /1 succeeded · 1 failed · 1 skipped/);
    assert.match(await page.getByTestId('pipeline-run-params').innerText(), /"fail_on":"transform"/);

    // The failed step opens by itself: its error and its log with the stderr line.
    const panel = page.getByTestId('pipeline-step-panel');
    await waitFor(async () => (await panel.getAttribute('data-step')) === 'transform', 'the failed step to be shown');
    await page.getByTestId('pipeline-step-error').waitFor();
    await waitFor(async () => (await logText(page, 'pipeline-step-log')).includes('transform was told to fail'), 'the failed step log');
    assert.match(await logText(page, 'pipeline-step-log'), /transforming 3 rows/);
    await page.getByTestId('pipeline-run-retry').waitFor();
    assert.equal(await page.getByTestId('pipeline-run-cancel').count(), 0, 'no Cancel on a finished run');
    await shot(page, 'run-failed');

    // Clicking a step shows its outputs and log.
    await page.getByTestId('dag-node-extract').click();
    await waitFor(async () => (await panel.getAttribute('data-step')) === 'extract', 'extract to be shown');
    assert.equal(await page.getByTestId('dag-node-extract').getAttribute('aria-pressed'), 'true');
    assert.deepEqual(JSON.parse(await page.getByTestId('pipeline-step-outputs').innerText()), { n: 3 });
    await waitFor(async () => (await logText(page, 'pipeline-step-log')).includes('extracting 3 rows'), 'the extract log');
    assert.match(page.url(), /step=extract/);
    await shot(page, 'run-step');

    // A skipped step has no job and says why.
    await page.getByTestId('dag-node-load').click();
    await waitFor(async () => (await panel.getAttribute('data-step')) === 'load', 'load to be shown');
    assert.match(await page.getByTestId('pipeline-step-log').innerText(), /a step it needs did not succeed/);

    // The succeeded run: every step green, the last step's log.
    await page.goto(`${server.url}/pipelines/${PIPELINE}/runs/${okRun}?step=load`);
    await page.getByTestId('pipeline-run-page').waitFor();
    for (const id of ['extract', 'transform', 'load']) assert.equal(await nodeStatus(page, id), 'succeeded');
    await waitFor(async () => (await logText(page, 'pipeline-step-log')).includes('loaded 6'), 'the load log');
    assert.equal(await page.getByTestId('pipeline-run-retry').count(), 0, 'no Retry on a succeeded run');
    await shot(page, 'run-succeeded');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('Run dialog: a bad JSON is refused; a run from a step reuses the steps before it and is followed live', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/pipelines/${PIPELINE}`);
    await page.getByTestId('open-pipeline-run').click();
    const dialog = page.getByTestId('pipeline-run-dialog');
    await dialog.getByTestId('pipeline-params-input').fill('{"fail_on": ');
    await dialog.getByTestId('pipeline-params-error').waitFor();
    assert.equal(await dialog.getByTestId('pipeline-run-submit').isDisabled(), true);
    // An undeclared parameter: the server's 400 in the dialog.
    await dialog.getByTestId('pipeline-params-input').fill('{"nope": 1}');
    await dialog.getByTestId('pipeline-run-submit').click();
    await dialog.getByTestId('pipeline-run-error').waitFor();
    assert.match(await dialog.getByTestId('pipeline-run-error').innerText(), /Unknown params nope/);

    await dialog.getByTestId('pipeline-params-input').fill('{}');
    await dialog.getByTestId('pipeline-from-step').selectOption('transform');
    await dialog.getByTestId('pipeline-run-submit').click();
    await page.waitForURL(/\/pipelines\/nightly-etl\/runs\//);
    await page.getByTestId('pipeline-run-page').waitFor();
    assert.equal(await nodeStatus(page, 'extract'), 'reused');
    await waitFor(async () => (await nodeStatus(page, 'load')) === 'succeeded', 'the run to finish live', RUN_MS);
    assert.equal(await nodeStatus(page, 'transform'), 'succeeded');
    await page.getByTestId('dag-node-transform').click();
    assert.deepEqual(JSON.parse(await page.getByTestId('pipeline-step-outputs').innerText()), { total: 6 });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('the upload dialog shows the server’s message for a cycle, and uploads a new version', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/pipelines`);
    await page.getByTestId('upload-pipeline').click();
    const dialog = page.getByTestId('pipeline-upload-dialog');
    await dialog.getByTestId('pipeline-upload-definition').setInputFiles(path.join(files, 'cycle.yaml'));
    assert.equal(await dialog.getByTestId('pipeline-upload-name').inputValue(), 'cycle');
    await dialog.getByTestId('pipeline-upload-files').setInputFiles(path.join(files, 'extract.py'));
    await dialog.getByTestId('pipeline-upload-submit').click();
    await dialog.getByTestId('pipeline-upload-error').waitFor();
    assert.match(await dialog.getByTestId('pipeline-upload-error').innerText(), /The steps form a cycle: (a → b → a|b → a → b)/);
    await shot(page, 'upload-cycle');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api('GET', '/api/v1/pipelines/cycle')).status, 404);

    // A valid one opens its page: a fan-out and fan-in drawn in three columns.
    await page.getByTestId('upload-pipeline').click();
    await dialog.getByTestId('pipeline-upload-definition').setInputFiles(path.join(files, 'fan-out.yaml'));
    await dialog.getByTestId('pipeline-upload-files').setInputFiles(path.join(files, 'extract.py'));
    await dialog.getByTestId('pipeline-upload-submit').click();
    await page.waitForURL(/\/pipelines\/fan-out$/);
    const dag = page.getByTestId('pipeline-dag');
    await dag.getByTestId('dag-node-train').waitFor();
    const box = async (id: string) => (await dag.getByTestId(`dag-node-${id}`).boundingBox())!;
    assert.equal((await box('features')).x, (await box('labels')).x);
    assert.equal((await box('features')).x, (await box('report')).x);
    assert.ok((await box('train')).x > (await box('labels')).x);
    assert.equal(await dag.locator('path[data-edge]').count(), 5);
    assert.equal(await dag.getByTestId('dag-node-train').getAttribute('data-status'), 'none');
    await shot(page, 'fan-out');

    // A new version of the existing pipeline from its page.
    await page.goto(`${server.url}/pipelines/${PIPELINE}`);
    await page.getByTestId('open-upload-version').click();
    await dialog.getByTestId('pipeline-upload-definition').setInputFiles(path.join(files, 'pipeline.yaml'));
    await dialog.getByTestId('pipeline-upload-files').setInputFiles([path.join(files, 'extract.py')]);
    await dialog.getByTestId('pipeline-upload-submit').click();
    await dialog.getByTestId('pipeline-upload-error').waitFor();
    assert.match(await dialog.getByTestId('pipeline-upload-error').innerText(), /transform\.py" is not among the uploaded files/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('training: the list and the new-run dialog’s validation errors, client-side and from the server', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Training' }).click();
    await page.waitForURL(/\/training$/);
    await page.getByTestId('empty-state').waitFor();
    assert.equal((await page.getByTestId('training-count').innerText()).trim(), '0 runs');

    await page.getByTestId('new-training-run').click();
    const dialog = page.getByTestId('new-training-dialog');
    await dialog.getByTestId('training-submit').click();
    await dialog.getByTestId('training-error-source').waitFor();
    await dialog.getByTestId('training-error-data').waitFor();
    await dialog.getByTestId('training-error-experiment').waitFor();
    await shot(page, 'training-dialog-errors');

    await dialog.getByTestId('training-source').setInputFiles(path.join(files, 'not-python.txt'));
    assert.match(await dialog.getByTestId('training-error-source').innerText(), /not a Python file/);
    await dialog.getByTestId('training-source').setInputFiles(path.join(files, 'train.py'));
    await dialog.getByTestId('training-data-file').setInputFiles(path.join(files, 'extract.py'));
    assert.match(await dialog.getByTestId('training-error-data').innerText(), /must be a \.csv or \.parquet file/);
    await dialog.getByTestId('training-data-file').setInputFiles(path.join(files, 'data.csv'));
    await dialog.getByTestId('training-experiment').fill('churn');
    assert.equal(await dialog.getByTestId('training-error-source').count(), 0);
    assert.equal(await dialog.getByTestId('training-error-data').count(), 0);

    // Lake table mode wants a table.
    await dialog.getByTestId('training-data-mode-table').click();
    await dialog.getByTestId('training-submit').click();
    await dialog.getByTestId('training-error-table').waitFor();
    await dialog.getByTestId('training-data-mode-file').click();
    await dialog.getByTestId('training-data-file').setInputFiles(path.join(files, 'data.csv'));

    // What only the server checks: its 400 shows in the dialog, and nothing starts.
    await dialog.getByTestId('training-function').fill('1-not-a-function');
    await dialog.getByTestId('training-submit').click();
    await dialog.getByTestId('training-create-error').waitFor();
    assert.match(await dialog.getByTestId('training-create-error').innerText(), /trainFunction: must be a Python function name/);
    assert.deepEqual((await api('GET', '/api/v1/training/runs')).body.items, []);
    await shot(page, 'training-dialog-server-error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await shot(page, 'training');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
