// Drives the built UI in Debian's Chromium against the real server: no mocks between the
// browser and the database. Screenshots go to /tmp so a person can judge the design.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { http, TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login as loginAt, newPage as openPage, shot, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;

before(async () => {
  harness = await startHarness();
  server = harness.server;
});

after(async () => {
  await harness?.close();
});

const newPage = () => openPage(harness.browser);
const login = (page: Page, username: string, password: string) => loginAt(page, server.url, username, password);

test('a wrong password shows the server’s message on the login page', async () => {
  const { context, page, errors } = await newPage();
  try {
    const direct = await http(server.url, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'not-the-password' } });
    assert.equal(direct.status, 401);
    const serverMessage: string = direct.body.error.message;

    await login(page, 'admin', 'not-the-password');
    const error = page.getByTestId('login-error');
    await error.waitFor();
    assert.equal((await error.innerText()).trim(), serverMessage);
    assert.match(page.url(), /\/login/);
    await shot(page, 'login-error');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an admin creates a user, a group with members, a token shown once, and finds it all in the audit log', async () => {
  const { context, page, errors } = await newPage();
  try {
    await login(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.getByTestId('user-menu').waitFor();
    await page.getByTestId('section-experiments').waitFor();
    await shot(page, 'experiments');

    // Users: create one with a password, then check it can sign in through the API.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByTestId('users-table').waitFor();
    await page.getByTestId('new-user').click();
    const userDialog = page.getByTestId('create-user-dialog');
    await userDialog.getByLabel('Username').fill('alice');
    await userDialog.getByLabel('Display name').fill('Alice Moreira');
    await userDialog.getByLabel('Password').fill('alice-password-1');
    await userDialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByTestId('user-row-alice').waitFor();
    assert.equal((await http(server.url, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password: 'alice-password-1' } })).status, 200);
    await shot(page, 'users');

    // Groups: create one; the creator lands on it as its admin.
    await page.getByTestId('admin-tab-groups').click();
    await page.getByTestId('new-group').click();
    const groupDialog = page.getByTestId('create-group-dialog');
    await groupDialog.getByLabel('Name', { exact: true }).fill('ml-team');
    await groupDialog.getByLabel('Description').fill('Credit risk models and their data.');
    await groupDialog.getByRole('button', { name: 'Create group' }).click();
    await page.waitForURL(/\/admin\/groups\/ml-team$/);
    await page.getByTestId('member-row-admin').waitFor();
    assert.equal(await page.getByLabel('Role of admin').inputValue(), 'admin');

    // Add a member, then change the role with the dropdown.
    await page.getByLabel('Add member').fill('alice');
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('form', { name: 'Add a member' }).getByRole('button', { name: 'Add' }).click();
    await page.getByTestId('member-row-alice').waitFor();
    await page.getByLabel('Role of alice').selectOption('editor');
    await waitFor(async () => {
      const members = await http(server.url, 'GET', '/api/v1/groups/ml-team/members', { token: server.adminToken });
      return members.body.items.find((m: { username: string }) => m.username === 'alice')?.role === 'editor';
    }, 'alice to become an editor of ml-team');
    await shot(page, 'group-detail');

    // Adding someone who does not exist shows the server's message inline.
    await page.getByLabel('Add member').fill('nobody-here');
    await page.getByRole('form', { name: 'Add a member' }).getByRole('button', { name: 'Add' }).click();
    const addError = page.getByRole('form', { name: 'Add a member' }).getByRole('alert');
    await addError.waitFor();
    assert.match(await addError.innerText(), /nobody-here/);

    // The new group is offered by the group switcher.
    const options = await page.getByTestId('group-switcher').locator('option').allInnerTexts();
    assert.ok(
      options.some((o) => o.startsWith('ml-team')),
      `group switcher offers ${options.join(', ')}`,
    );

    // Tokens: the secret is shown once, starts with "fj", works, and is gone after closing.
    await page.getByTestId('admin-tab-tokens').click();
    await page.getByTestId('new-token').click();
    const tokenDialog = page.getByTestId('create-token-dialog');
    await tokenDialog.getByLabel('Name', { exact: true }).fill('laptop-cli');
    await tokenDialog.getByRole('button', { name: 'Create token' }).click();
    const secretDialog = page.getByTestId('token-secret-dialog');
    await secretDialog.waitFor();
    const secret = (await secretDialog.getByTestId('token-secret').innerText()).trim();
    assert.match(secret, /^fj/);
    await secretDialog.getByText('only time Forja shows it').waitFor();
    await shot(page, 'token-secret');
    const who = await http(server.url, 'GET', '/api/v1/whoami', { token: secret });
    assert.equal(who.status, 200);
    assert.equal(who.body.user.username, 'admin');

    await secretDialog.getByTestId('token-secret-done').click();
    await secretDialog.waitFor({ state: 'hidden' });
    await page.getByTestId('token-row-laptop-cli').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret must not stay in the page once the dialog is closed');
    assert.equal(await page.getByTestId('token-secret').count(), 0);

    // A service token for the group lands in the group's list.
    await page.getByTestId('new-token').click();
    await tokenDialog.getByLabel('Name', { exact: true }).fill('nightly-pipeline');
    await tokenDialog.getByText('Service', { exact: true }).click();
    await tokenDialog.getByLabel('Group', { exact: true }).selectOption('ml-team');
    await tokenDialog.getByLabel('Role', { exact: true }).selectOption('editor');
    await shot(page, 'token-create');
    await tokenDialog.getByRole('button', { name: 'Create token' }).click();
    await secretDialog.waitFor();
    assert.match((await secretDialog.getByTestId('token-secret').innerText()).trim(), /^fj/);
    await secretDialog.getByTestId('token-secret-done').click();
    await page.getByTestId('token-row-nightly-pipeline').waitFor();
    assert.match(page.url(), /group=ml-team/);
    await shot(page, 'tokens-group');

    // Revoke the personal token with a confirmation; the API then refuses it.
    await page.getByTestId('scope-personal').click();
    await page.getByRole('button', { name: 'Revoke laptop-cli' }).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('token-row-laptop-cli').waitFor({ state: 'detached' });
    assert.equal((await http(server.url, 'GET', '/api/v1/whoami', { token: secret })).status, 401);

    // Audit log.
    await page.getByTestId('admin-tab-audit').click();
    await page.getByTestId('audit-table').waitFor();
    await page.locator('[data-testid="audit-row"][data-action="group.create"]').first().waitFor();
    await page.locator('[data-testid="audit-row"][data-action="token.create"]').first().waitFor();
    await page.locator('[data-testid="audit-row"][data-action="member.add"]').first().waitFor();
    await shot(page, 'audit');
    await page.locator('[data-testid="audit-row"][data-action="member.update"]').first().click();
    await page.getByText('"previousRole": "viewer"').waitFor();
    await shot(page, 'audit-details');

    await page.getByTestId('audit-action').fill('token.create');
    await waitFor(async () => {
      const others = await page.locator('[data-testid="audit-row"]:not([data-action="token.create"])').count();
      return others === 0 && (await page.getByTestId('audit-row').count()) === 2;
    }, 'the audit log to show only the two token.create entries');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the audit log pages with "load more"', async () => {
  // 55 entries: more than one page of 50.
  for (let i = 0; i < 55; i++) {
    const r = await http(server.url, 'POST', '/api/v1/tokens', { token: server.adminToken, body: { name: `bulk-${i}` } });
    assert.equal(r.status, 201);
  }
  const { context, page, errors } = await newPage();
  try {
    await login(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.getByTestId('user-menu').waitFor();
    await page.goto(server.url + '/admin/audit');
    await page.getByTestId('audit-table').waitFor();
    await waitFor(async () => (await page.getByTestId('audit-row').count()) === 50, 'a first page of 50 entries');
    await page.getByTestId('audit-load-more').click();
    await waitFor(async () => (await page.getByTestId('audit-row').count()) > 50, 'the next page to be appended');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a member who is no system admin sees no Users tab, and a dead session goes back to login', async () => {
  const created = await http(server.url, 'POST', '/api/v1/users', { token: server.adminToken, body: { username: 'bruno', password: 'bruno-password-1' } });
  assert.equal(created.status, 201);
  const { context, page, errors } = await newPage();
  try {
    await login(page, 'bruno', 'bruno-password-1');
    await page.getByTestId('user-menu').waitFor();
    await page.goto(server.url + '/admin');
    await page.waitForURL(/\/admin\/groups$/);
    await page.getByTestId('admin-tab-tokens').waitFor();
    assert.equal(await page.getByTestId('admin-tab-users').count(), 0);
    assert.equal(await page.getByTestId('admin-tab-audit').count(), 0);
    await shot(page, 'member-groups');

    // The session is revoked behind the UI's back: its next request gets 401 and the UI asks to sign in.
    await page.evaluate(`localStorage.setItem('forja.token', 'fjs_revoked-or-never-valid')`);
    await page.goto(server.url + '/admin/tokens');
    await page.waitForURL(/\/login\?next=%2Fadmin%2Ftokens/);
    await page.getByTestId('login-form').waitFor();

    // Signing in again returns to where the user was going.
    await page.getByLabel('Username').fill('bruno');
    await page.getByLabel('Password').fill('bruno-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/tokens$/);

    await page.getByTestId('user-menu').click();
    await shot(page, 'user-menu');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('login-form').waitFor();
    assert.equal(await page.evaluate(`localStorage.getItem('forja.token')`), null);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
