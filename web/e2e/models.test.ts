// The model registry pages in Debian's Chromium against the real server: models, versions, runs and
// people are made through the TypeScript SDK, then the pages are driven and checked as a user would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { ForjaClient, PermissionDeniedError } from '@forja/client';
import { http, TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login, newPage as openPage, shot, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;

const GROUP = 'default';
const EDITOR = { username: 'erin', password: 'erin-password-1' };
/** A second group admin, demoted while her page is open, to see the server's 403 in the UI. */
const STALE_ADMIN = { username: 'gina', password: 'gina-password-1' };

// Three runs whose params and metrics partly differ, each registered as a version of churn-classifier.
const runs = [
  { name: 'gbm-baseline', params: { lr: '0.1', max_depth: '4', optimizer: 'adam' }, metrics: { auc: 0.81, f1: 0.7 } },
  { name: 'gbm-deeper', params: { lr: '0.05', max_depth: '8', optimizer: 'adam' }, metrics: { auc: 0.86, f1: 0.74 } },
  { name: 'gbm-tuned', params: { lr: '0.03', max_depth: '6', optimizer: 'adam' }, metrics: { auc: 0.88, f1: 0.77 } },
] as const;
const runIds: string[] = [];
let experimentId: string;

before(async () => {
  harness = await startHarness();
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });

  experimentId = (await forja.experiments.create({ name: 'churn-training' })).experimentId;
  for (const r of runs) {
    const run = await forja.runs.create({ experimentId, runName: r.name });
    const at = Date.now();
    await forja.runs.logBatch(run.info.runId, {
      params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
      metrics: Object.entries(r.metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: at })),
    });
    await forja.runs.update(run.info.runId, { status: 'FINISHED', endTime: at });
    runIds.push(run.info.runId);
  }

  await forja.models.create({ name: 'churn-classifier', description: 'Predicts which customers leave next month.', tags: [{ key: 'team', value: 'risk' }] });
  for (const [i, runId] of runIds.entries())
    await forja.models.createVersion('churn-classifier', { source: `runs:/${runId}/model`, description: `Trained as ${runs[i]!.name}.` });
  await forja.models.transition('churn-classifier', 1, 'Production');
  await forja.models.transition('churn-classifier', 2, 'Staging');
  await forja.models.setAlias('churn-classifier', 'champion', 1);

  await forja.models.create({ name: 'churn-legacy', tags: [{ key: 'team', value: 'growth' }] });
  await forja.models.create({ name: 'fraud-detector', description: 'Flags card payments for review.', tags: [{ key: 'team', value: 'risk' }] });
  await forja.models.createVersion('fraud-detector', { source: `runs:/${runIds[0]}/fraud` });

  for (const [user, role] of [
    [EDITOR, 'editor'],
    [STALE_ADMIN, 'admin'],
  ] as const) {
    await forja.users.create(user);
    await forja.groups.setMember(GROUP, user.username, role);
  }
});

after(async () => {
  await harness?.close();
});

async function signedIn(username = 'admin', password = TEST_ADMIN_PASSWORD): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const { context, page, errors } = await openPage(harness.browser);
  await login(page, server.url, username, password);
  await page.getByTestId('user-menu').waitFor();
  return { page, errors, close: () => context.close() };
}

/** What the browser side of evaluateAll uses of an element (these tests are checked without the DOM lib). */
interface DomElement {
  getAttribute(name: string): string | null;
}

/**
 * One attribute of each element the locator finds, in page order, read in one step: reading the
 * elements one by one races a list that re-renders in between (a row gone waits out the timeout).
 */
const attributes = async (elements: Locator, name: string) =>
  elements.evaluateAll((els, n) => els.map((e) => (e as unknown as DomElement).getAttribute(n)), name);
const modelNames = async (page: Page) =>
  (await attributes(page.locator('[data-testid^="model-row-"]'), 'data-testid')).map((id) => id!.slice('model-row-'.length));
const versionRow = (page: Page, version: number) => page.locator(`[data-testid="version-row"][data-version="${version}"]`);
const stageOf = (page: Page, version: number) => versionRow(page, version).getAttribute('data-stage');

test('models list: latest versions per stage, aliases, the filter grammar with the server’s error, and registering a model', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models' }).click();
    await page.getByTestId('models-table').waitFor();
    assert.deepEqual(await modelNames(page), ['churn-classifier', 'churn-legacy', 'fraud-detector']);
    const churn = page.getByTestId('model-row-churn-classifier');
    // Newest per stage, in release order: Production v1, Staging v2, None v3.
    assert.match(await churn.innerText(), /Production\s+v1\s+Staging\s+v2\s+None\s+v3/);
    assert.match(await churn.innerText(), /@champion\s+v1/);
    assert.match(await churn.innerText(), /team\s+risk/);
    assert.match(await churn.innerText(), /Predicts which customers leave next month/);
    assert.match(await page.getByTestId('model-row-churn-legacy').innerText(), /No versions/);
    await shot(page, 'models-list');

    await page.getByTestId('models-filter').fill("name LIKE 'churn%' AND tags.team = 'risk'");
    await page.getByTestId('models-filter').press('Enter');
    await waitFor(async () => JSON.stringify(await modelNames(page)) === '["churn-classifier"]', 'the filter to keep churn-classifier');
    assert.match(page.url(), /\?filter=/);

    // A mistake shows the server's own message, and the hint comes back once it is fixed.
    const bad = "tags.team == 'risk'";
    const expected = (await http(server.url, 'POST', '/api/v1/models/search', { token: server.adminToken, body: { filter: bad } })).body.error
      .message as string;
    await page.getByTestId('models-filter').fill(bad);
    await page.getByTestId('models-filter-apply').click();
    const error = page.getByTestId('filter-error');
    await error.waitFor();
    assert.ok((await error.innerText()).includes(expected), `${await error.innerText()} should show ${expected}`);
    await page.getByText('The filter has a mistake').waitFor();
    await shot(page, 'models-filter-error');
    await page.getByRole('button', { name: 'Clear' }).click();
    await waitFor(async () => (await modelNames(page)).length === 3, 'all models after clearing the filter');
    assert.equal(await page.getByTestId('filter-error').count(), 0);

    await page.getByTestId('new-model').click();
    const dialog = page.getByTestId('create-model-dialog');
    await dialog.getByLabel('Name').fill('bad/name');
    await dialog.getByRole('button', { name: 'Register model' }).click();
    await dialog.getByTestId('form-error').waitFor();
    await dialog.getByLabel('Name').fill('ltv-regressor');
    await dialog.getByLabel('Description').fill('Lifetime value, in euros.');
    await shot(page, 'models-register');
    await dialog.getByRole('button', { name: 'Register model' }).click();
    await page.waitForURL(/\/models\/ltv-regressor$/);
    await page.getByText('No versions yet').waitFor();
    assert.equal((await forja.models.get('ltv-regressor')).description, 'Lifetime value, in euros.');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('model page: versions with stages and aliases, a transition, aliases set, moved and deleted, description and tags', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/models`);
    await page.getByTestId('model-row-churn-classifier').getByRole('link', { name: 'churn-classifier' }).click();
    await page.waitForURL(/\/models\/churn-classifier$/);
    await page.getByTestId('versions-table').waitFor();
    assert.equal(await page.getByTestId('version-row').count(), 3);
    assert.deepEqual([await stageOf(page, 1), await stageOf(page, 2), await stageOf(page, 3)], ['Production', 'Staging', 'None']);
    assert.match(await versionRow(page, 1).innerText(), /@champion/);
    assert.match(await versionRow(page, 2).innerText(), /Trained as gbm-deeper\./);
    assert.equal(
      await versionRow(page, 3)
        .getByRole('link', { name: runIds[2]!.slice(0, 8) })
        .getAttribute('href'),
      // Every address carries the group it belongs to (docs/ui.links.md).
      `/g/${GROUP}/runs/${runIds[2]}`,
    );
    await shot(page, 'model-versions');

    // Staging for version 3, archiving version 2 which is there now.
    await page.getByRole('button', { name: 'Change the stage of version 3' }).click();
    const transition = page.getByTestId('transition-dialog');
    await transition.getByLabel('New stage').selectOption('Staging');
    await transition.getByTestId('archive-existing').check();
    await shot(page, 'model-transition');
    await transition.getByRole('button', { name: 'Change stage' }).click();
    await waitFor(async () => (await stageOf(page, 3)) === 'Staging', 'version 3 in Staging');
    await waitFor(async () => (await stageOf(page, 2)) === 'Archived', 'version 2 archived');
    assert.equal((await forja.models.getVersion('churn-classifier', 2)).currentStage, 'Archived');

    // Set an alias on version 3, move champion to it, then delete the first one.
    await page.getByRole('button', { name: 'Aliases of version 3' }).click();
    const aliases = page.getByTestId('alias-dialog');
    await aliases.getByLabel('Set an alias').fill('challenger');
    await aliases.getByRole('button', { name: 'Set', exact: true }).click();
    await aliases.getByTestId('version-aliases').getByText('@challenger').waitFor();
    await aliases.getByLabel('Set an alias').fill('champion');
    await aliases.getByText('@champion points at version 1 now').waitFor();
    await shot(page, 'model-alias-move');
    await aliases.getByRole('button', { name: 'Move here' }).click();
    await aliases.getByTestId('version-aliases').getByText('@champion').waitFor();
    await aliases.getByRole('button', { name: 'Delete alias challenger' }).click();
    await aliases.getByTestId('version-aliases').getByText('@challenger').waitFor({ state: 'detached' });
    await aliases.getByLabel('Set an alias').fill('latest');
    await aliases.getByRole('button', { name: 'Set', exact: true }).click();
    assert.match(await aliases.getByTestId('form-error').innerText(), /reserved/);
    await aliases.getByRole('button', { name: 'Done' }).click();
    await waitFor(
      async () => /@champion/.test(await versionRow(page, 3).innerText()) && !/@champion/.test(await versionRow(page, 1).innerText()),
      'champion on version 3 in the table',
    );
    assert.equal((await forja.models.resolve('models:/churn-classifier@champion')).version, '3');

    // The description is edited in place; tags are added and removed.
    await page.getByTestId('edit-description').click();
    await page.getByTestId('model-description-input').fill('Predicts churn 30 days ahead.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('model-description').getByText('Predicts churn 30 days ahead.').waitFor();
    await page.getByTestId('add-tag').click();
    const tag = page.getByTestId('tag-dialog');
    await tag.getByLabel('Key').fill('owner');
    await tag.getByLabel('Value').fill('ana');
    await tag.getByRole('button', { name: 'Add tag' }).click();
    await page.getByTestId('model-tags').getByText('ana').waitFor();
    await page.getByRole('button', { name: 'Remove tag owner' }).click();
    await page.getByTestId('model-tags').getByText('ana').waitFor({ state: 'detached' });
    const model = await forja.models.get('churn-classifier');
    assert.equal(model.description, 'Predicts churn 30 days ahead.');
    assert.deepEqual(model.tags, [{ key: 'team', value: 'risk' }]);

    // The timeline shows the moves, newest first.
    await page.getByTestId('model-tab-timeline').click();
    const items = page.getByTestId('timeline-item');
    await items.first().waitFor();
    const actions = await attributes(items, 'data-action');
    // Description and tag edits are not in the audit log, so not here.
    assert.deepEqual(actions.slice(0, 4), ['model_alias.delete', 'model_alias.set', 'model_alias.set', 'model_version.transition']);
    assert.match(await items.first().innerText(), /admin deleted @challenger \(was on version 3\)/);
    assert.match(await items.nth(1).innerText(), /admin moved @champion from version 1 to version 3/);
    const transitionText = await page.locator('[data-testid="timeline-item"][data-action="model_version.transition"]').first().innerText();
    assert.match(transitionText, /moved version 3 from\s+None\s+to\s+Staging\s*, archiving version 2/);
    assert.equal(actions[actions.length - 1], 'model.create');
    await shot(page, 'model-timeline');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('lineage: a version leads to its run and experiment, with the run’s params and latest metrics', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/models/churn-classifier`);
    await versionRow(page, 2).getByRole('link', { name: 'Version 2' }).click();
    const lineage = page.locator('[data-testid="lineage"][data-version="2"]');
    await lineage.waitFor();
    assert.match(page.url(), /\?version=2$/);
    assert.match(await lineage.getByTestId('lineage-version').innerText(), /churn-classifier v2/);
    await lineage.getByTestId('lineage-run').getByRole('link', { name: 'gbm-deeper' }).waitFor();
    assert.match(await lineage.getByTestId('lineage-run').innerText(), /finished/);
    await lineage.getByTestId('lineage-experiment').getByRole('link', { name: 'churn-training' }).waitFor();
    assert.match(await lineage.innerText(), new RegExp(`runs:/${runIds[1]}/model`));
    const params = lineage.getByTestId('lineage-params');
    assert.match(await params.locator('[data-key="lr"]').innerText(), /lr\s+0\.05/);
    assert.match(await params.locator('[data-key="max_depth"]').innerText(), /8/);
    assert.match(await lineage.locator('[data-testid="run-metrics-row"][data-key="auc"]').innerText(), /0\.86/);
    await shot(page, 'model-lineage');

    // The run link is the existing run page.
    await lineage.getByTestId('lineage-run').getByRole('link', { name: 'gbm-deeper' }).click();
    await page.waitForURL(new RegExp(`/runs/${runIds[1]}$`));
    await page.getByTestId('run-page').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('compare two versions: their runs’ params and metrics side by side, differences marked', async () => {
  const { page, errors, close } = await signedIn();
  try {
    await page.goto(`${server.url}/models/churn-classifier`);
    await page.getByTestId('model-tab-compare').click();
    await page.getByTestId('compare-versions').waitFor();
    // The two newest versions first.
    assert.equal(await page.getByTestId('compare-a').inputValue(), '3');
    assert.equal(await page.getByTestId('compare-b').inputValue(), '2');
    await page.getByTestId('compare-a').selectOption('1');
    await waitFor(async () => /\?tab=compare&a=1$/.test(page.url()), 'the choice in the URL');
    const lr = page.locator('[data-testid="param-diff-row"][data-key="lr"]');
    await lr.waitFor();
    assert.equal(await lr.getAttribute('data-differs'), 'true');
    assert.match(await lr.innerText(), /lr\s+0\.1\s+0\.05/);
    assert.equal(await page.locator('[data-testid="param-diff-row"][data-key="optimizer"]').getAttribute('data-differs'), 'false');
    assert.match(await page.locator('[data-testid="metric-diff-row"][data-key="auc"]').innerText(), /0\.81\s+0\.86/);
    assert.match(await page.getByTestId('param-diff').innerText(), /Version 1\s+Version 2/);
    assert.match(await page.getByTestId('compare-versions-table').innerText(), /gbm-baseline[\s\S]*gbm-deeper/);
    await shot(page, 'model-compare');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('approvals: an editor asks for Production, cannot approve it, a stale approver gets the 403, an admin approves with a comment', async () => {
  await forja.models.updateSettings({ approvalStages: ['Production'], approvers: [] });
  const editor = await signedIn(EDITOR.username, EDITOR.password);
  const stale = await signedIn(STALE_ADMIN.username, STALE_ADMIN.password);
  const admin = await signedIn();
  try {
    // The editor asks: the version stays where it is and the request shows as pending.
    let page = editor.page;
    await page.goto(`${server.url}/models/churn-classifier`);
    await page.getByRole('button', { name: 'Change the stage of version 3' }).click();
    const transition = page.getByTestId('transition-dialog');
    await transition.getByLabel('New stage').selectOption('Production');
    await transition.getByTestId('approval-note').waitFor();
    await transition.getByTestId('archive-existing').check();
    await transition.getByLabel('Comment').fill('Beats v1 on AUC by 7 points.');
    await shot(page, 'model-request-approval');
    await transition.getByRole('button', { name: 'Request approval' }).click();
    await page.getByTestId('approval-requested').waitFor();
    const mine = page.getByTestId('model-approvals').getByTestId('approval-row');
    await mine.waitFor();
    assert.equal(await mine.getAttribute('data-status'), 'pending');
    assert.match(await mine.innerText(), /Staging\s+→\s+Production/);
    assert.match(await mine.innerText(), /Beats v1 on AUC by 7 points/);
    assert.equal(await stageOf(page, 3), 'Staging');
    // The requester gets no buttons, and the server would refuse anyway.
    assert.match(await mine.getByTestId('decision-blocked').innerText(), /You asked; another approver decides/);
    assert.equal(await mine.getByRole('button', { name: /Approve/ }).count(), 0);
    await shot(page, 'model-approval-pending');
    const [request] = await forja.models.approvals('pending');
    assert.ok(request);
    const asEditor = new ForjaClient({ baseUrl: server.url, group: GROUP });
    await asEditor.login(EDITOR.username, EDITOR.password);
    await assert.rejects(asEditor.models.decide(request.id, 'approve'), PermissionDeniedError);

    // Gina's page still thinks she is an admin after her demotion: the server says no, and the dialog says why.
    page = stale.page;
    await page.goto(`${server.url}/approvals`);
    const staleRow = page.getByTestId('approvals-table').getByTestId('approval-row');
    await staleRow.waitFor();
    await forja.groups.setMember(GROUP, STALE_ADMIN.username, 'editor');
    const asDemoted = new ForjaClient({ baseUrl: server.url, group: GROUP });
    await asDemoted.login(STALE_ADMIN.username, STALE_ADMIN.password);
    const forbidden = await asDemoted.models.decide(request.id, 'approve').then(
      () => assert.fail('a demoted admin approved'),
      (err: unknown) => {
        assert.ok(err instanceof PermissionDeniedError);
        return err.message;
      },
    );
    await staleRow.getByRole('button', { name: 'Approve version 3 to Production' }).click();
    await page.getByTestId('decision-dialog').getByRole('button', { name: 'Approve' }).click();
    const refused = page.getByTestId('decision-dialog').getByTestId('form-error');
    await refused.waitFor();
    assert.equal((await refused.innerText()).trim(), forbidden);
    await shot(page, 'approval-forbidden');

    // The admin approves from the Approvals view, with a comment.
    page = admin.page;
    await page.goto(`${server.url}/models`);
    await page.getByTestId('registry-tab-approvals').getByText('1').waitFor();
    await page.getByTestId('registry-tab-approvals').click();
    await page.waitForURL(/\/approvals$/);
    assert.equal(await page.getByTestId('approval-stage-Production').isChecked(), true);
    assert.equal(await page.getByTestId('approval-stage-Staging').isChecked(), false);
    assert.match(await page.getByTestId('approvers').innerText(), /Approved by the group’s admins/);
    // Approvers must be members: the server's 400 shows, and nothing changes.
    await page.getByTestId('edit-approvers').click();
    await page.getByLabel('Approvers', { exact: true }).fill('admin, nobody');
    await page.getByRole('form', { name: 'Change the approvers' }).getByRole('button', { name: 'Save' }).click();
    assert.match(await page.getByTestId('approval-settings').getByTestId('form-error').innerText(), /nobody is not/);
    await shot(page, 'approvals-approvers-error');
    await page.getByRole('form', { name: 'Change the approvers' }).getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual((await forja.models.settings()).approvers, []);
    const row = page.getByTestId('approvals-table').getByTestId('approval-row');
    assert.match(await row.innerText(), /churn-classifier v3/);
    assert.match(await row.innerText(), /erin/);
    await shot(page, 'approvals');
    await row.getByRole('button', { name: 'Approve version 3 to Production' }).click();
    const decision = page.getByTestId('decision-dialog');
    await decision.getByLabel('Comment').fill('Checked the holdout, ship it.');
    await shot(page, 'approval-decision');
    await decision.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Nothing waits for a decision').waitFor();
    await page.getByTestId('approvals-status').selectOption('approved');
    await waitFor(
      async () => /Checked the holdout, ship it/.test(await page.getByTestId('approvals-table').innerText()),
      'the decided request with its comment',
    );
    assert.match(await page.getByTestId('approvals-table').innerText(), /approved\s+by admin/);

    // Version 3 is in Production, version 1 archived, and the timeline tells the story.
    await page.goto(`${server.url}/models/churn-classifier`);
    await waitFor(async () => (await stageOf(page, 3)) === 'Production', 'version 3 in Production');
    assert.equal(await stageOf(page, 1), 'Archived');
    assert.equal(await page.getByTestId('model-approvals').count(), 0);
    await page.getByTestId('model-tab-timeline').click();
    const items = page.getByTestId('timeline-item');
    await items.first().waitFor();
    const actions = await attributes(items, 'data-action');
    assert.deepEqual(actions.slice(0, 3), ['model_version.transition', 'approval.approve', 'approval.request']);
    assert.match(await items.nth(0).innerText(), /admin moved version 3 from\s+Staging\s+to\s+Production\s*, archiving version 1 \(approved request\)/);
    assert.match(await items.nth(1).innerText(), /admin approved moving version 3 to\s+Production[\s\S]*Checked the holdout, ship it/);
    assert.match(await items.nth(2).innerText(), /erin asked to move version 3 to\s+Production[\s\S]*Beats v1 on AUC by 7 points/);
    await shot(page, 'model-timeline-approved');

    for (const s of [editor, stale, admin]) assert.deepEqual(s.errors, []);
  } finally {
    await Promise.all([editor.close(), stale.close(), admin.close()]);
    await forja.models.updateSettings({ approvalStages: [], approvers: [] });
  }
});
