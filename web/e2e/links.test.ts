// Links into the UI, in Debian's Chromium against the real server: the URLs the real `mlflow`
// client prints (with and without a /g/<group> tracking URI), /g/<group>/… addresses, sharing them
// across people whose current group differs, and signing in on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { http, type TestServer } from '../../server/src/testing/server.js';
import { assertAccessible, newPage as openPage, shot, startHarness, type Harness } from './harness.js';

const PYTHON = process.env.FORJA_PYTHON ?? 'python3';
const GROUP = 'vision';
const ANA = { username: 'ana', password: 'ana-password-1' };
const MODEL = 'digits-cnn';

let harness: Harness;
let server: TestServer;
/** What the mlflow client printed, and the ids it logged. */
let printed: { run: string; experiment: string };
let experimentId: string;
let runId: string;

// The user's script, as a data scientist writes it: the tracking URI names the group.
const SCRIPT = `
import sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("digits")
with mlflow.start_run(run_name="cnn-baseline") as run:
    mlflow.log_param("lr", "0.01")
    mlflow.log_metric("accuracy", 0.97)
    mlflow.log_text("weights", "model/weights.txt")
# MLflow prints no link for a version ("Created version '1'…"): the test opens the forms its UI uses.
mlflow.register_model(f"{run.info.artifact_uri}/model", "${MODEL}")
print("ids", run.info.experiment_id, run.info.run_id)
`;

before(async () => {
  harness = await startHarness();
  server = harness.server;
  const admin = new ForjaClient({ baseUrl: server.url, token: server.adminToken });
  await admin.groups.create({ name: GROUP });
  await admin.groups.create({ name: 'secret-lab' });
  await admin.users.create(ANA);
  // Ana works in default (her first group, where the UI opens) and in vision; secret-lab is not hers.
  await admin.groups.setMember('default', ANA.username, 'editor');
  await admin.groups.setMember(GROUP, ANA.username, 'editor');

  // The real client, so the links are the ones it prints today (a server process of its own would
  // be no more real: this one answers while Python waits, the test awaits the child asynchronously).
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', SCRIPT, `${server.url}/g/${GROUP}`], {
    env: {
      ...process.env,
      MLFLOW_TRACKING_USERNAME: ANA.username,
      MLFLOW_TRACKING_PASSWORD: ANA.password,
      PYTHONIOENCODING: 'utf-8',
      MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT: 'false',
    },
    timeout: 120_000,
  });
  const run = /View run cnn-baseline at: (\S+)/.exec(stdout)?.[1];
  const experiment = /View experiment at: (\S+)/.exec(stdout)?.[1];
  const ids = /^ids (\S+) (\S+)$/m.exec(stdout);
  assert.ok(run && experiment && ids, `the mlflow client printed its links:\n${stdout}`);
  [, experimentId = '', runId = ''] = ids;
  printed = { run, experiment };
  console.log(`# mlflow printed: ${run} and ${experiment}`);
});

after(async () => {
  await harness?.close();
});

/** Stores a session in the page before the app reads it, once per tab (later loads keep what the app stored). */
const sessionScript = (token: string, group: string) =>
  `if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1'); localStorage.setItem('forja.token', ${JSON.stringify(token)}); localStorage.setItem('forja.group', ${JSON.stringify(group)}); }`;

/** A browser signed in as Ana in `group`, her token in place before the first page loads (as after a login). */
async function signedIn(browser: Browser, group: string) {
  const { context, page, errors } = await openPage(browser);
  const { token } = (await http(server.url, 'POST', '/api/v1/auth/login', { body: ANA })).body;
  await context.addInitScript(sessionScript(token, group));
  return { context, page, errors, close: () => context.close() };
}

const groupShown = (page: Page) => page.getByTestId('group-switcher').inputValue();
const pathOf = (page: Page) => {
  const u = new URL(page.url());
  return u.pathname + u.search;
};

test('the links the mlflow client prints open the run and the experiment, in their group', async () => {
  assert.ok(printed.run.startsWith(`${server.url}/g/${GROUP}/#/experiments/${experimentId}/runs/${runId}`), printed.run);
  assert.equal(printed.experiment, `${server.url}/g/${GROUP}/#/experiments/${experimentId}`);
  // Ana's current group is default: the links must still open vision's pages, and switch her to it.
  const { page, errors, close } = await signedIn(harness.browser, 'default');
  try {
    await page.goto(printed.run);
    await page.getByTestId('run-page').waitFor();
    assert.equal(pathOf(page), `/g/${GROUP}/runs/${runId}`);
    assert.match(await page.locator('h1').innerText(), /cnn-baseline/);
    assert.equal(await groupShown(page), GROUP);
    await assertAccessible(page, 'a run opened from the link mlflow printed');
    await shot(page, 'links-run-from-mlflow');

    await page.goto(printed.experiment);
    await page.locator('[data-testid="run-row"]').first().waitFor();
    assert.equal(pathOf(page), `/g/${GROUP}/experiments/${experimentId}`);
    assert.match(await page.locator('h1').innerText(), /digits/);
    assert.equal(await groupShown(page), GROUP);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("a tracking URI without a group prints links that still find the object's group", async () => {
  // `<server>/#/experiments/<id>` names no group; the experiment is vision's, Ana's current group is default.
  const { page, errors, close } = await signedIn(harness.browser, 'default');
  try {
    await page.goto(`${server.url}/#/experiments/${experimentId}/runs/${runId}/artifacts/model`);
    await page.getByTestId('run-page').waitFor();
    await page.waitForURL(new RegExp(`/g/${GROUP}/runs/${runId}$`));
    assert.equal(await groupShown(page), GROUP);
    // A plain page address (no prefix, no hash) too, as an old bookmark would be.
    await page.goto(`${server.url}/experiments/${experimentId}`);
    await page.getByTestId('experiment-page').waitFor();
    await page.waitForURL(new RegExp(`/g/${GROUP}/experiments/${experimentId}$`));
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('model links in the forms MLflow uses open the model on that version', async () => {
  const { page, errors, close } = await signedIn(harness.browser, 'default');
  try {
    for (const link of [`/g/${GROUP}/#/models/${MODEL}/versions/1`, `/g/${GROUP}/models/${MODEL}/versions/1`]) {
      await page.goto(server.url + link);
      await page.getByTestId('model-page').waitFor();
      assert.equal(pathOf(page), `/g/${GROUP}/models/${MODEL}?version=1`, link);
      assert.equal(await groupShown(page), GROUP, link);
    }
    await page.goto(`${server.url}/g/${GROUP}/#/models/${MODEL}`);
    await page.getByTestId('model-page').waitFor();
    assert.equal(pathOf(page), `/g/${GROUP}/models/${MODEL}`);
    await assertAccessible(page, 'a model opened from an MLflow link');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a link opened signed out keeps its page and group through the sign-in', async () => {
  const { context, page, errors } = await openPage(harness.browser);
  try {
    await page.goto(printed.run);
    await page.waitForURL(/\/login\?next=/);
    assert.equal(pathOf(page), `/g/${GROUP}/login?next=${encodeURIComponent(`/runs/${runId}`)}`);
    await page.getByLabel('Username').fill(ANA.username);
    await page.getByLabel('Password').fill(ANA.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('run-page').waitFor();
    assert.equal(pathOf(page), `/g/${GROUP}/runs/${runId}`);
    assert.equal(await groupShown(page), GROUP);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('every address carries the group, so a copied address opens the same page for a colleague', async () => {
  const ana = await signedIn(harness.browser, GROUP);
  try {
    await ana.page.goto(`${server.url}/`);
    await ana.page.locator('[data-testid="experiments-page"], .page').first().waitFor();
    assert.match(pathOf(ana.page), new RegExp(`^/g/${GROUP}/experiments`));
    await ana.page.goto(`${server.url}/g/${GROUP}/models/${MODEL}`);
    await ana.page.getByTestId('model-page').waitFor();
    const copied = ana.page.url();
    // The admin's current group is default, where no model of that name exists.
    const { context, page } = await openPage(harness.browser);
    await context.addInitScript(sessionScript(server.adminToken, 'default'));
    await page.goto(copied);
    await page.getByTestId('model-page').waitFor();
    assert.equal(await groupShown(page), GROUP);
    assert.match(await page.locator('h1').innerText(), new RegExp(MODEL));
    await context.close();
  } finally {
    await ana.close();
  }
});

test("a link to a group the user cannot read says so and stays in the user's group", async () => {
  const { page, errors, close } = await signedIn(harness.browser, GROUP);
  try {
    await page.goto(`${server.url}/g/secret-lab/experiments`);
    const notice = page.getByTestId('group-refused');
    await notice.waitFor();
    assert.match(await notice.innerText(), /secret-lab.*cannot read/);
    assert.equal(await groupShown(page), GROUP);
    assert.equal(pathOf(page), `/g/${GROUP}/experiments`);
    await assertAccessible(page, 'the notice for a group the user cannot read');
    await shot(page, 'links-group-refused');
    // The notice belongs to that page only.
    await page.getByRole('link', { name: 'Models' }).first().click();
    await page.getByTestId('section-models').waitFor();
    assert.equal(await notice.count(), 0);
    // Nor does it come back with the same path reached another way.
    await page.getByRole('link', { name: 'Experiments' }).first().click();
    await page.getByTestId('section-experiments').waitFor();
    assert.equal(await notice.count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("choosing another group on an object's page opens that section in the new group; Back returns", async () => {
  const { page, errors, close } = await signedIn(harness.browser, GROUP);
  try {
    await page.goto(`${server.url}/g/${GROUP}/runs/${runId}`);
    await page.getByTestId('run-page').waitFor();
    await page.getByTestId('group-switcher').selectOption('default');
    await page.waitForURL(/\/g\/default\/experiments$/);
    assert.equal(await groupShown(page), 'default');
    await page.goBack();
    await page.getByTestId('run-page').waitFor();
    assert.equal(pathOf(page), `/g/${GROUP}/runs/${runId}`);
    assert.equal(await groupShown(page), GROUP);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('under /g/<group>/ the server serves the UI for pages and JSON for every API path', async () => {
  for (const p of [
    `/g/${GROUP}/`,
    `/g/${GROUP}`,
    `/g/${GROUP}/experiments/${experimentId}`,
    `/g/${GROUP}/models/${MODEL}/versions/1`,
    `/g/${GROUP}/lake/t.v2`,
  ]) {
    const r = await http(server.url, 'GET', p, { headers: { accept: 'text/html' } });
    assert.equal(r.status, 200, p);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/, p);
    assert.match(r.text, /<div id="root">/, p);
  }
  for (const p of [`/g/${GROUP}/api/v1/nope`, `/g/${GROUP}/api/2.0/mlflow/nope`, `/g/${GROUP}/ajax-api/2.0/mlflow/nope`, `/g/${GROUP}/dhuo/api/nope`]) {
    const r = await http(server.url, 'GET', p, { token: server.adminToken, headers: { accept: 'text/html' } });
    assert.equal(r.status, 404, p);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/, p);
  }
});

test('speed: from navigation to the first run row of an experiment (printed, not asserted)', async () => {
  // Cold: a new browser profile (nothing cached), signed in. Warm: the same page opened again.
  const { context, page, close } = await signedIn(harness.browser, GROUP);
  try {
    // The moment the first row is in the DOM, in ms since the navigation started (performance.now's origin).
    await context.addInitScript(`new MutationObserver((_, o) => {
      if (!document.querySelector('[data-testid="run-row"]')) return;
      window.firstRowAt = performance.now();
      o.disconnect();
    }).observe(document, { childList: true, subtree: true });`);
    const firstRow = async (url: string) => {
      await page.goto(url);
      return Number(await (await page.waitForFunction('window.firstRowAt')).jsonValue());
    };
    const address = `${server.url}/g/${GROUP}/experiments/${experimentId}`;
    const cold = await firstRow(address);
    const warm = await firstRow(address);
    const plain = await firstRow(`${server.url}/experiments/${experimentId}`);
    const scripts = (await page.evaluate(
      `performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')).map((e) => e.name.split('/').pop())`,
    )) as string[];
    console.log(
      `# first run row at /experiments/<id> (1 run): cold ${cold.toFixed(0)} ms, warm ${warm.toFixed(0)} ms, without /g/ ${plain.toFixed(0)} ms; scripts: ${scripts.join(' ')}`,
    );
  } finally {
    await close();
  }
});
