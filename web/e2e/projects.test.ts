// The batch project pages in Debian's Chromium against the real server, driven as a user would: a
// project created through its dialog, a script deployed through the Deploy dialog (an empty
// requirements file, so uv builds the environment quickly) with its build log followed live, runs
// started with "Run now" (one that succeeds, one that exits 3, one cancelled while it sleeps) with
// their logs, and cron schedules with their next fire times, the server's 400 for a bad cron, and
// pause/resume.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;
let files: string;

const PROJECT = 'nightly-scoring';
const BUILD_MS = 180_000;
const RUN_MS = 60_000;
const SHOTS = process.env.FORJA_SCREENSHOT_DIR ?? '/tmp';

const SCRIPT = `import json, os, sys, time
params = json.loads(os.environ["FORJA_PARAMS"])
mode = params.get("mode", "ok")
print("starting", os.environ["FORJA_PROJECT"], "with", json.dumps(params, sort_keys=True), flush=True)
if mode == "fail":
    print("loading the table")
    print("KeyError: 'churn'", file=sys.stderr)
    sys.exit(3)
if mode == "sleep":
    print("sleeping", flush=True)
    time.sleep(120)
print("hello from the batch run")
`;

before(async () => {
  harness = await startHarness();
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });
  files = await mkdtemp(path.join(tmpdir(), 'forja-projects-ui-'));
  await writeFile(path.join(files, 'nightly.py'), SCRIPT);
  await writeFile(path.join(files, 'requirements.txt'), '');
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

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `projects-${name}.png`) });
const text = async (page: Page, testId: string) => (await page.getByTestId(testId).innerText()).trim();
const logText = async (page: Page, testId: string) => (await page.getByTestId(testId).getByTestId('log-line').allInnerTexts()).join('\n');
const openProject = (page: Page, tab: string) => page.goto(`${server.url}/projects/${PROJECT}?tab=${tab}`);

/** Starts a run through the "Run now" dialog; the page opens it. Returns its id. */
async function runNow(page: Page, params: string): Promise<string> {
  const before = new URL(page.url()).searchParams.get('run');
  await page.getByTestId('open-run').click();
  const dialog = page.getByTestId('run-dialog');
  await dialog.getByTestId('run-params-input').fill(params);
  await dialog.getByTestId('run-submit').click();
  await page.waitForURL((url) => url.searchParams.has('run') && url.searchParams.get('run') !== before);
  const id = new URL(page.url()).searchParams.get('run');
  assert.ok(id);
  await page.getByTestId(`run-row-${id}`).waitFor();
  await page.getByTestId('run-log').waitFor();
  return id;
}

const runStatus = (page: Page, id: string) => page.getByTestId(`run-row-${id}`).getAttribute('data-status');

test('a project is created through the dialog, with the cluster profiles, and its cluster size can be changed', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.waitForURL(/\/projects$/);
    await page.getByTestId('empty-state').waitFor();

    await page.getByTestId('new-project').click();
    const dialog = page.getByTestId('new-project-dialog');
    // Each size shows its profile from GET /clusters.
    const profiles = await forja.batch.clusters();
    assert.deepEqual(
      profiles.map((p) => p.size),
      [1, 2, 3],
    );
    for (const p of profiles) {
      const card = dialog.getByTestId(`cluster-size-${p.size}`);
      await waitFor(async () => (await card.innerText()).includes(`${p.parallelRuns} parallel run`), `the profile of size ${p.size}`);
      assert.match(await card.innerText(), new RegExp(`${p.cpus} CPU`));
    }
    await dialog.getByLabel('Name').fill(PROJECT);
    await dialog.getByLabel('Description').fill('Scores the churn table every morning');
    await dialog.getByTestId('cluster-size-2').click();
    await dialog.getByTestId('create-project').click();
    await page.waitForURL(new RegExp(`/projects/${PROJECT}$`));
    await page.getByTestId('project-page').waitFor();
    assert.equal(await text(page, 'project-current-version'), 'not deployed');
    assert.equal(await text(page, 'project-description'), 'Scores the churn table every morning');
    assert.equal(await page.getByTestId('cluster-size-button-2').getAttribute('aria-checked'), 'true');
    assert.equal(await page.getByTestId('open-run').isDisabled(), true, 'nothing to run before a deploy');
    assert.equal((await forja.batch.get(PROJECT)).clusterSize, 2);

    // Moving it to another cluster size.
    await page.getByTestId('cluster-size-button-1').click();
    await waitFor(async () => (await page.getByTestId('cluster-size-button-1').getAttribute('aria-checked')) === 'true', 'size 1 to be checked');
    assert.equal((await forja.batch.get(PROJECT)).clusterSize, 1);
    assert.match(await text(page, 'cluster-profile'), /parallel run/);

    // A duplicate name answers with the server's message in the dialog.
    await page.goto(`${server.url}/projects`);
    await page.getByTestId(`project-row-${PROJECT}`).waitFor();
    await page.getByTestId('new-project').click();
    await page.getByTestId('new-project-dialog').getByLabel('Name').fill(PROJECT);
    await page.getByTestId('create-project').click();
    await page.getByTestId('new-project-dialog').getByTestId('form-error').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a deploy through the dialog: the build log follows live and the deploy becomes Ready', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await openProject(page, 'deploys');
    await page.getByTestId('project-page').waitFor();
    await page.getByTestId('open-deploy').click();
    const dialog = page.getByTestId('deploy-dialog');
    await dialog.getByTestId('deploy-source').setInputFiles(path.join(files, 'nightly.py'));
    await dialog.getByTestId('deploy-requirements').setInputFiles(path.join(files, 'requirements.txt'));
    await dialog.getByTestId('deploy-submit').click();
    await dialog.getByTestId('deploy-progress').waitFor();
    await dialog.getByTestId('deploy-dialog-log').waitFor();
    await dialog.getByTestId('deploy-ready').waitFor({ timeout: BUILD_MS });
    await waitFor(async () => (await dialog.getByTestId('log-line').count()) > 0, 'build log lines');
    await waitFor(async () => (await dialog.getByTestId('log-state').innerText()).includes('complete'), 'the build log to be complete');
    await shot(page, 'deploy-dialog');
    await dialog.getByTestId('deploy-dialog-close').click();

    const row = page.getByTestId('deploy-row-1');
    await waitFor(async () => (await row.getAttribute('data-status')) === 'Ready', 'v1 to be Ready in the table');
    assert.match(await row.innerText(), /nightly\.py/);
    assert.match(await row.innerText(), /current/);
    assert.match(await row.innerText(), /none/, 'no requirements');
    await waitFor(async () => (await text(page, 'project-current-version')) === 'v1', 'the header to show v1');

    // A row opens its build log.
    await page.getByTestId('deploy-expand').click();
    await page.getByTestId('deploy-build-log').waitFor();
    await waitFor(async () => (await page.getByTestId('deploy-build-log').getByTestId('log-line').count()) > 0, 'the build log in the row');
    await shot(page, 'deploys');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('runs: Run now shows the live log and Succeeded; a failing run shows Failed with its last lines; Cancel stops a running one', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await openProject(page, 'runs');
    await page.getByTestId('project-page').waitFor();

    // Parameters must be a JSON object: the dialog says so before anything is sent.
    await page.getByTestId('open-run').click();
    await page.getByTestId('run-params-input').fill('{"mode": ');
    await page.getByTestId('params-error').waitFor();
    assert.equal(await page.getByTestId('run-submit').isDisabled(), true);
    await page.getByTestId('run-dialog').getByRole('button', { name: 'Cancel' }).click();

    const ok = await runNow(page, '{"mode": "ok", "date": "2026-01-31"}');
    await waitFor(async () => (await runStatus(page, ok)) === 'succeeded', 'the run to succeed', RUN_MS);
    await waitFor(async () => (await logText(page, 'run-log')).includes('hello from the batch run'), 'the run log line', RUN_MS);
    assert.match(await logText(page, 'run-log'), /starting nightly-scoring with \{"date": "2026-01-31", "mode": "ok"\}/);
    assert.equal((await page.getByTestId(`run-row-${ok}`).getByTestId('run-exit').innerText()).trim(), 'exit 0');
    assert.match(await page.getByTestId(`run-row-${ok}`).innerText(), /Succeeded/);
    await shot(page, 'runs-succeeded');

    const failed = await runNow(page, '{"mode": "fail"}');
    await waitFor(async () => (await runStatus(page, failed)) === 'failed', 'the run to fail', RUN_MS);
    assert.match(await page.getByTestId(`run-row-${failed}`).innerText(), /Failed/);
    assert.equal((await page.getByTestId(`run-row-${failed}`).getByTestId('run-exit').innerText()).trim(), 'exit 3');
    await page.getByTestId('run-error').waitFor();
    const error = await text(page, 'run-error');
    assert.match(error, /exited with code 3/);
    assert.match(error, /loading the table/);
    assert.match(error, /KeyError: 'churn'/);
    await waitFor(async () => (await logText(page, 'run-log')).includes("KeyError: 'churn'"), 'the stderr line in the log', RUN_MS);
    await shot(page, 'runs');

    const slow = await runNow(page, '{"mode": "sleep"}');
    await waitFor(async () => (await logText(page, 'run-log')).includes('sleeping'), 'the sleeping run to print', RUN_MS);
    assert.equal(await runStatus(page, slow), 'running');
    await page.getByTestId('run-cancel').click();
    await waitFor(async () => (await runStatus(page, slow)) === 'cancelled', 'the run to be cancelled', RUN_MS);
    assert.equal(await page.getByTestId('run-cancel').count(), 0, 'no Cancel once it ended');

    // Every run is in the table, newest first, with its version.
    const runs = await forja.batch.runs(PROJECT);
    assert.deepEqual(
      runs.map((r) => [r.id, r.status]),
      [
        [slow, 'cancelled'],
        [failed, 'failed'],
        [ok, 'succeeded'],
      ],
    );
    assert.equal(await page.getByTestId('runs-table').locator('tbody tr[data-status]').count(), 3);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('schedules: create with a time zone and see the next fire times, a bad cron shows the server’s message, pause and resume, delete; the list sums it up', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await openProject(page, 'schedules');
    await page.getByTestId('new-schedule').waitFor();

    // A bad cron: the server's 400 message, shown at the form.
    await page.getByTestId('schedule-cron-input').fill('61 * * * *');
    await page.getByTestId('schedule-timezone-input').fill('UTC');
    await page.getByTestId('schedule-submit').click();
    await page.getByTestId('schedule-error').waitFor();
    assert.match(await text(page, 'schedule-error'), /Invalid cron "61 \* \* \* \*"/);

    await page.getByTestId('schedule-cron-input').fill('0 6 * * *');
    await page.getByTestId('schedule-timezone-input').fill('America/Sao_Paulo');
    await page.getByTestId('schedule-params-input').fill('{"mode": "ok"}');
    await page.getByTestId('schedule-submit').click();
    await page.getByTestId('schedules-table').waitFor();
    const [schedule] = await forja.batch.schedules(PROJECT);
    assert.ok(schedule);
    const row = page.getByTestId(`schedule-row-${schedule.id}`);
    await row.waitFor();
    assert.equal(await page.getByTestId('schedule-error').count(), 0);
    assert.equal((await row.getByTestId('schedule-timezone').innerText()).trim(), 'America/Sao_Paulo');
    assert.match(await row.innerText(), /daily at 06:00/);
    const times = await row.getByTestId('schedule-fire-time').allInnerTexts();
    assert.equal(times.length, 3);
    for (const t of times) assert.match(t, /06:00/, 'fire times are shown in the schedule’s time zone');
    // 06:00 in São Paulo (UTC-3, no daylight saving) is 09:00 UTC.
    for (const t of schedule.nextFireTimes) assert.equal(new Date(t).getUTCHours(), 9);
    assert.equal((await row.getByTestId('schedule-state').innerText()).trim(), 'Active');
    await shot(page, 'schedules');

    await row.getByTestId('schedule-pause').click();
    await waitFor(async () => (await row.getByTestId('schedule-state').innerText()).trim() === 'Paused', 'the schedule to be paused');
    assert.equal((await row.getByTestId('schedule-next').innerText()).trim(), 'paused');
    assert.equal((await forja.batch.schedules(PROJECT))[0]?.paused, true);
    await row.getByTestId('schedule-resume').click();
    await waitFor(async () => (await row.getByTestId('schedule-state').innerText()).trim() === 'Active', 'the schedule to be active again');
    await waitFor(async () => (await row.getByTestId('schedule-fire-time').count()) === 3, 'the fire times to come back');

    // The list: version, last run and the schedules count.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    const listRow = page.getByTestId(`project-row-${PROJECT}`);
    await listRow.waitFor();
    assert.equal((await listRow.getByTestId('project-version').innerText()).trim(), 'v1');
    await waitFor(async () => (await listRow.getByTestId('run-status').count()) === 1, 'the last run in the list');
    assert.equal(await listRow.getByTestId('run-status').getAttribute('data-status'), 'cancelled');
    assert.equal((await listRow.getByTestId('project-schedules').innerText()).trim(), '1');
    assert.match(await listRow.getByTestId('project-cluster').innerText(), /size 1/);
    await shot(page, 'list');

    // Delete the schedule.
    await listRow.getByRole('link', { name: PROJECT }).click();
    await page.getByTestId('project-tab-schedules').click();
    await page.getByTestId(`schedule-row-${schedule.id}`).getByTestId('schedule-delete').click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('schedules-table').waitFor({ state: 'detached' });
    assert.deepEqual(await forja.batch.schedules(PROJECT), []);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
