// The run and model pages of issue 18 point 4, in Debian's Chromium against the real server: runs and
// MLflow 3 logged models are made by the real `mlflow` Python client (sklearn log_model with an input
// example, registered as versions), then the run page, the version page and the approvals are
// driven as a data scientist and an approver would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Locator, Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { assertAccessible, login, newPage, shot, startHarness, waitFor, type Harness } from './harness.js';

const PYTHON = process.env.FORJA_PYTHON ?? 'python3';
const GROUP = 'default';
const EDITOR = { username: 'erin', password: 'erin-password-1' };
const MODEL = 'churn-e2e';

// Two training runs as a user writes them: histories per epoch, test scores once, the model logged
// with an input example (so MLflow infers the signature) and registered in the same call.
const TRAIN = `
import json, sys
import mlflow, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression

mlflow.set_experiment("churn-e2e")
rng = np.random.default_rng(0)
X = pd.DataFrame({"tenure": rng.integers(1, 72, 200).astype("int64"), "monthly_charges": rng.uniform(20, 120, 200)})
y = (X["tenure"] < 12).astype(int)
out = []
for name, c, auc, loss_end in [("lr-baseline", 0.1, 0.81, 0.42), ("lr-tuned", 1.0, 0.88, 0.47)]:
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_param("C", c)
        for step in range(12):
            decay = (12 - step) / 12
            mlflow.log_metrics({"train_loss": loss_end - 0.1 + decay, "val_loss": loss_end + decay, "train_acc": 0.9 - 0.3 * decay, "val_acc": 0.86 - 0.3 * decay}, step=step)
        mlflow.log_metrics({"test_auc": auc, "test_f1": auc - 0.12})
        model = LogisticRegression(C=c).fit(X, y)
        info = mlflow.sklearn.log_model(model, name="churn-model", input_example=X.head(3), registered_model_name="${MODEL}")
        out.append({"run": run.info.run_id, "model": info.model_id, "version": str(info.registered_model_version)})
print(json.dumps(out))
`;

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;
let logged: { run: string; model: string; version: string }[];

before(async () => {
  harness = await startHarness();
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });
  const started = Date.now();
  // execFile, not execFileSync: the server answering the client runs in this process.
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', TRAIN], {
    env: { ...process.env, MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: server.adminToken, GIT_PYTHON_REFRESH: 'quiet' },
    maxBuffer: 10 * 1024 * 1024,
  });
  logged = JSON.parse(stdout.trim().split('\n').at(-1)!);
  console.log(`# mlflow logged two runs with sklearn models in ${Date.now() - started} ms`);
  await forja.users.create(EDITOR);
  await forja.groups.setMember(GROUP, EDITOR.username, 'editor');
});

after(async () => {
  await harness?.close();
});

async function signedIn(username = 'admin', password = TEST_ADMIN_PASSWORD) {
  const { context, page, errors } = await newPage(harness.browser);
  await login(page, server.url, username, password);
  await page.getByTestId('user-menu').waitFor();
  return { page, errors, close: () => context.close() };
}

/** The attribute `attr` of every element with the test id, in order. */
const texts = (within: Page | Locator, testId: string, attr: string) =>
  within.getByTestId(testId).evaluateAll((els, a) => els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute(a) ?? ''), attr);

test('run page: values logged once are a table, histories are charts of several metrics grouped by name, and the grouping is the user’s', async () => {
  const { page, errors, close } = await signedIn();
  try {
    const runId = logged[1]!.run;
    const t0 = Date.now();
    await page.goto(`${server.url}/runs/${runId}?tab=metrics`);
    await page.getByTestId('metric-values').waitFor();
    await page.getByTestId('metric-chart').first().waitFor();
    console.log(`# run metrics tab: values and first chart ${Date.now() - t0} ms after navigation`);

    // test_auc and test_f1 were logged once: values with their step, never a chart of one dot.
    assert.deepEqual(await texts(page, 'metric-value-row', 'data-key'), ['test_auc', 'test_f1']);
    const auc = page.locator('[data-testid="metric-value-row"][data-key="test_auc"]');
    assert.match(await auc.innerText(), /0\.88/);
    // The charts hold the histories only, each loss with its split partner.
    assert.deepEqual(await texts(page, 'chart-card', 'data-keys'), ['train_acc,val_acc', 'train_loss,val_loss']);
    await waitFor(async () => (await page.getByTestId('metric-chart').count()) === 2, 'both charts drawn');
    // One line per metric: uPlot's legend lists both series of the loss chart.
    const lossChart = page.locator('[data-testid="chart-card"][data-keys="train_loss,val_loss"]');
    assert.equal(await lossChart.locator('.u-legend .u-series').count(), 3, 'x plus two series');
    await assertAccessible(page, 'the run metrics tab');
    await shot(page, 'run-metrics');

    // Regroup: take val_loss off its chart, then add it to the accuracy chart. The URL keeps it.
    await lossChart.getByRole('button', { name: 'Take val_loss off this chart' }).click();
    await page.locator('[data-testid="chart-card"][data-keys="train_acc,val_acc"]').getByTestId('chart-add-metric').selectOption('val_loss');
    await waitFor(async () => (await texts(page, 'chart-card', 'data-keys')).join(';') === 'train_acc,val_acc,val_loss;train_loss', 'the regrouped charts');
    assert.equal(new URL(page.url()).searchParams.get('charts'), 'train_acc,val_acc,val_loss;train_loss');
    await page.reload();
    await page.getByTestId('metric-charts').waitFor();
    assert.deepEqual(await texts(page, 'chart-card', 'data-keys'), ['train_acc,val_acc,val_loss', 'train_loss']);
    const three = page.locator('[data-testid="chart-card"][data-keys="train_acc,val_acc,val_loss"]');
    await three.getByTestId('metric-chart').waitFor();
    assert.equal(await three.locator('.u-legend .u-series').count(), 4, 'x plus three series');
    await shot(page, 'run-metrics-regrouped');
    await page.getByTestId('reset-charts').click();
    await waitFor(
      async () => (await texts(page, 'chart-card', 'data-keys')).join(';') === 'train_acc,val_acc;train_loss,val_loss',
      'the default grouping back',
    );

    // The lines take the theme's series colours: in dark mode, the dark palette's.
    const markerMatchesTheme = () =>
      page.evaluate(`(() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--series-0)';
        document.body.append(probe);
        const want = getComputedStyle(probe).color;
        probe.remove();
        const marker = document.querySelector('[data-testid="chart-card"] .u-legend .u-series:nth-child(2) .u-marker');
        return marker !== null && getComputedStyle(marker).borderColor === want;
      })()`);
    assert.ok(await markerMatchesTheme(), 'light: the first line has --series-0');
    await page.emulateMedia({ colorScheme: 'dark' });
    await waitFor(async () => (await markerMatchesTheme()) === true, 'the charts redrawn in the dark palette');
    await shot(page, 'run-metrics-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // The Overview's metric link opens the metric's chart.
    await page.goto(`${server.url}/runs/${runId}`);
    await page.locator('[data-testid="run-metrics-row"][data-key="val_loss"] a').click();
    await page.getByTestId('metric-charts').waitFor();
    assert.deepEqual(await texts(page, 'chart-card', 'data-keys'), ['val_loss']);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('run page: the MLflow 3 logged model with flavors, signature, input example as a table, its files and the version made from it', async () => {
  const { page, errors, close } = await signedIn();
  try {
    const { run, model, version } = logged[1]!;
    await page.goto(`${server.url}/runs/${run}`);
    await page.getByTestId('run-tab-models').click();
    const card = page.getByTestId('logged-model');
    await card.waitFor();
    assert.equal(await card.getAttribute('data-model-id'), model);
    assert.match(await page.getByTestId('run-tab-models').innerText(), /1/);
    const flavors = await page.getByTestId('logged-model-flavors').innerText();
    assert.match(flavors, /python_function/);
    assert.match(flavors, /sklearn/);
    // The signature MLflow inferred from the input example, as a table.
    assert.deepEqual(await texts(page.getByTestId('signature-inputs'), 'signature-row', 'data-name'), ['tenure', 'monthly_charges']);
    const inputs = await page.getByTestId('signature-inputs').innerText();
    assert.match(inputs, /long/);
    assert.match(inputs, /double/);
    assert.match(await page.getByTestId('signature-outputs').innerText(), /long|int64/);
    // The input example (pandas split) is a table of its three rows.
    const example = page.getByTestId('input-example-table');
    await example.waitFor();
    assert.deepEqual(await example.locator('thead th').allInnerTexts(), ['tenure', 'monthly_charges']);
    assert.equal(await example.locator('tbody tr').count(), 3);
    // The registered version links to the version page.
    const link = page.getByTestId('logged-model-versions').getByTestId('registered-version-link');
    assert.equal(await link.innerText(), `${MODEL} v${version}`);
    // The model's files, with a preview of MLmodel.
    const files = card.getByTestId('artifact-browser');
    await files.locator('[data-testid="artifact-entry"][data-path="MLmodel"]').click();
    await waitFor(
      async () =>
        /flavors:/.test(
          await files
            .getByTestId('artifact-text')
            .innerText()
            .catch(() => ''),
        ),
      'the MLmodel preview',
    );
    const paths = await texts(files, 'artifact-entry', 'data-path');
    for (const p of ['MLmodel', 'input_example.json', 'requirements.txt', 'python_env.yaml']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    assert.equal(new URL(page.url()).searchParams.get('mfile'), 'MLmodel');
    await assertAccessible(page, 'the run’s logged models tab');
    await shot(page, 'run-logged-model-files');
    await page.getByTestId('run-page').locator('h1').scrollIntoViewIfNeeded();
    await shot(page, 'run-logged-model');

    await link.click();
    await page.waitForURL(new RegExp(`/models/${MODEL}\\?version=${version}$`));
    await page.getByTestId('lineage').waitFor();
    assert.equal(await page.getByTestId('lineage').getAttribute('data-version'), version);

    // A run without a logged model says how to log one.
    const plain = await forja.runs.create({ experimentId: (await forja.experiments.getByName('churn-e2e')).experimentId, runName: 'no-model' });
    await page.goto(`${server.url}/runs/${plain.info.runId}?tab=models`);
    await page.getByTestId('logged-models').getByText('No logged models').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('version page: "Deploy this version" opens the deployment dialog on that version, and the version lists the deployments serving it', async () => {
  const { page, errors, close } = await signedIn();
  try {
    // A version whose pickle the build's safety scan refuses: the deployment settles fast, as Failed.
    const experimentId = (await forja.experiments.getByName('churn-e2e')).experimentId;
    const run = await forja.runs.create({ experimentId, runName: 'unsafe' });
    await forja.runs.uploadArtifact(run.info.runId, 'model/model.pkl', "cos\nsystem\n(S'echo pwned'\ntR.");
    await forja.models.create({ name: 'unsafe-model' });
    await forja.models.createVersion('unsafe-model', { source: `runs:/${run.info.runId}/model` });

    await page.goto(`${server.url}/models/unsafe-model?version=1`);
    const section = page.getByTestId('version-deployments');
    await section.getByTestId('no-version-deployments').waitFor();
    await section.getByTestId('deploy-version').click();
    const dialog = page.getByTestId('from-model-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Model URI').inputValue(), 'models:/unsafe-model/1');
    await dialog.getByLabel('Name').fill('unsafe-svc');
    await dialog.getByLabel('Kind').selectOption('pickle');
    await assertAccessible(page, 'the deploy-this-version dialog');
    await shot(page, 'version-deploy-dialog');
    await dialog.getByRole('button', { name: 'Deploy' }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    await page.getByTestId('deployment-page').waitFor();
    const created = (await forja.deployments.list()).find((d) => d.name === 'unsafe-svc');
    assert.deepEqual(created?.modelVersion, { name: 'unsafe-model', version: '1' });

    // Back on the version: the deployment is listed with its status and a link to it.
    await page.goto(`${server.url}/models/unsafe-model?version=1`);
    const row = section.locator('[data-testid="version-deployment-row"][data-name="unsafe-svc"]');
    await row.waitFor();
    assert.ok(['Uploaded', 'Building', 'Deployed', 'Failed'].includes((await row.getByTestId('deployment-status').getAttribute('data-status')) ?? ''));
    // Another model's version lists none of it.
    await page.goto(`${server.url}/models/${MODEL}?version=${logged[0]!.version}`);
    await page.getByTestId('version-deployments').getByTestId('no-version-deployments').waitFor();
    await page.goto(`${server.url}/models/unsafe-model?version=1`);
    await row.waitFor();
    await assertAccessible(page, 'the version page with its deployments');
    await shot(page, 'version-deployments');
    await row.getByRole('link', { name: 'unsafe-svc' }).click();
    await page.waitForURL(new RegExp(`/deployments/${created!.id}$`));
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('an approver sees the metric change of a version waiting for Production against the version in Production, better and worse marked', async () => {
  const [baseline, tuned] = logged as [(typeof logged)[0], (typeof logged)[0]];
  await forja.models.updateSettings({ approvalStages: ['Production'], approvers: [] });
  const asEditor = new ForjaClient({ baseUrl: server.url, group: GROUP });
  await asEditor.login(EDITOR.username, EDITOR.password);

  const { page, errors, close } = await signedIn();
  try {
    // Nothing in Production yet: the first request says so.
    const first = await asEditor.models.transition(MODEL, baseline.version, 'Production', { comment: 'first release' });
    assert.ok(first.approvalRequest);
    await page.goto(`${server.url}/approvals`);
    const firstRow = page.locator(`[data-testid="approval-metrics"][data-version="${baseline.version}"]`);
    await firstRow.getByTestId('no-production').waitFor();
    await forja.models.decide(first.approvalRequest!.id, 'approve');

    // The tuned version asks for Production while the baseline is there.
    const second = await asEditor.models.transition(MODEL, tuned.version, 'Production', { comment: 'better AUC' });
    assert.ok(second.approvalRequest);
    await page.goto(`${server.url}/approvals`);
    const change = page.locator(`[data-testid="approval-metrics"][data-version="${tuned.version}"]`).getByTestId('metric-change');
    await change.waitFor();
    await waitFor(async () => (await change.getAttribute('data-against')) === baseline.version, 'the comparison against Production');
    const judged = async (key: string) => (await change.locator(`[data-testid="metric-change-row"][data-key="${key}"]`).getAttribute('data-judged')) ?? '';
    await change.locator('[data-testid="metric-change-row"][data-key="test_auc"]').waitFor();
    // AUC and F1 went up (better), the losses went up (worse).
    assert.equal(await judged('test_auc'), 'better');
    assert.equal(await judged('test_f1'), 'better');
    assert.equal(await judged('val_loss'), 'worse');
    assert.equal(await judged('train_loss'), 'worse');
    const aucRow = await change.locator('[data-testid="metric-change-row"][data-key="test_auc"]').innerText();
    assert.match(aucRow, /0\.88/);
    assert.match(aucRow, /0\.81/);
    assert.match(aucRow, /\+0\.07/);
    await assertAccessible(page, 'the approvals page with the metric change');
    await shot(page, 'approval-metric-change');

    // The same comparison on the model's page, in its pending approvals above the versions.
    await page.goto(`${server.url}/models/${MODEL}?version=${tuned.version}`);
    const onVersion = page
      .getByTestId('model-approvals')
      .locator(`[data-testid="approval-metrics"][data-version="${tuned.version}"]`)
      .getByTestId('metric-change');
    await onVersion.waitFor();
    await waitFor(async () => (await onVersion.getAttribute('data-against')) === baseline.version, 'the version page comparison');
    await onVersion.locator('[data-testid="metric-change-row"][data-key="val_loss"]').waitFor();
    assert.equal(await onVersion.locator('[data-testid="metric-change-row"][data-key="val_loss"]').getAttribute('data-judged'), 'worse');
    await assertAccessible(page, 'the version page with a pending Production approval');
    await shot(page, 'version-metric-change');
    // Decided, the request leaves the page and the comparison with it.
    await forja.models.decide(second.approvalRequest!.id, 'reject', 'the loss went up');
    await page.reload();
    await page.getByTestId('lineage').waitFor();
    assert.equal(await page.getByTestId('approval-metrics').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
