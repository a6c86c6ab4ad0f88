// The jobs, workers and webhooks pages in Debian's Chromium against the real server. Webhooks made
// through the TypeScript SDK point at a small receiver started here (and one at a closed port), so
// registering a model queues real `webhook.deliver` jobs: one that succeeds, one that keeps failing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { type Job, WEBHOOK_EVENTS } from '@forja/contracts';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { login as loginAt, newPage as openPage, shot, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;
let receiver: Server;
let receiverUrl: string;
let closedUrl: string;
/** What the receiver was sent, newest last. */
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let okJob: Job;
let failingJob: Job;

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

before(async () => {
  harness = await startHarness();
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });

  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  receiverUrl = `http://127.0.0.1:${await listen(receiver)}/hook`;
  // A port that was just free and is closed again: deliveries there fail with ECONNREFUSED.
  const probe = createServer();
  closedUrl = `http://127.0.0.1:${await listen(probe)}/nobody-home`;
  await closeServer(probe);

  await forja.webhooks.create({ name: 'ci-receiver', url: receiverUrl, events: ['registered_model.created'] });
  await forja.webhooks.create({ name: 'broken-receiver', url: closedUrl, events: ['registered_model.created'] });
  await forja.models.create({ name: 'churn-classifier' });

  // One delivery lands; the other fails its first attempt and waits for a retry.
  const deliveryJobs = async () => (await forja.jobs.list({ kind: 'webhook.deliver' })).items;
  const hookOf = (j: Job) => String(j.params.webhook);
  await waitFor(
    async () => {
      const jobs = await deliveryJobs();
      const ok = jobs.find((j) => hookOf(j) === 'ci-receiver');
      const failing = jobs.find((j) => hookOf(j) === 'broken-receiver');
      if (ok?.status !== 'succeeded' || !failing || failing.attempt < 1 || failing.error === null) return false;
      okJob = ok;
      failingJob = failing;
      return true;
    },
    'the two webhook delivery jobs to run',
    20_000,
  );
});

after(async () => {
  if (receiver) await closeServer(receiver);
  await harness?.close();
});

const newPage = () => openPage(harness.browser);
const login = (page: Page) => loginAt(page, server.url, 'admin', TEST_ADMIN_PASSWORD);
const logText = async (page: Page) => (await page.getByTestId('log-line').allInnerTexts()).join('\n');

test('the jobs list shows the delivery jobs with their statuses, filters by status, and a job page tails its log', async () => {
  const { context, page, errors } = await newPage();
  try {
    await login(page);
    await page.getByTestId('user-menu').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.waitForURL(/\/jobs$/);
    await page.getByTestId('jobs-table').waitFor();

    const okRow = page.getByTestId(`job-row-${okJob.id}`);
    const failingRow = page.getByTestId(`job-row-${failingJob.id}`);
    assert.equal(await okRow.getAttribute('data-kind'), 'webhook.deliver');
    assert.equal(await okRow.getAttribute('data-status'), 'succeeded');
    assert.match(await okRow.innerText(), /1\/6/);
    // Between attempts the failing job is queued again, with the last attempt's error.
    assert.match((await failingRow.getAttribute('data-status')) ?? '', /^(queued|running)$/);
    assert.match(await failingRow.innerText(), /Could not reach 127\.0\.0\.1:\d+/);
    await shot(page, 'jobs');

    // The status filter asks the server for that status only, and survives in the URL.
    await page.getByTestId('jobs-status').selectOption('succeeded');
    await page.waitForURL(/status=succeeded/);
    await failingRow.waitFor({ state: 'detached' });
    await okRow.waitFor();
    const shown = await page.locator('[data-testid^="job-row-"]').all();
    assert.deepEqual(new Set(await Promise.all(shown.map((r) => r.getAttribute('data-status')))), new Set(['succeeded']));
    await page.getByTestId('jobs-status').selectOption('');

    // The succeeded job: its header, parameters, result and its complete log.
    await okRow.getByRole('link', { name: okJob.id }).click();
    await page.waitForURL(new RegExp(`/jobs/${okJob.id}$`));
    await page.getByTestId('job-page').waitFor();
    assert.equal(await page.getByTestId('job-info').getByTestId('job-status').getAttribute('data-status'), 'succeeded');
    assert.equal((await page.getByTestId('job-attempts').innerText()).trim(), '1 of 6');
    assert.match(await page.getByTestId('job-params').innerText(), /"webhook": "ci-receiver"/);
    assert.match(await page.getByTestId('job-result').innerText(), /"status": 200/);
    await waitFor(async () => (await page.getByTestId('log-state').innerText()).trim() === 'complete', 'the log to be complete');
    const escaped = receiverUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    assert.match(await logText(page), new RegExp(`POST ${escaped} → 200 in \\d+ ms`));
    assert.equal(await page.getByTestId('cancel-job').count(), 0, 'a finished job cannot be cancelled');
    await shot(page, 'job-succeeded');

    // The failing job: its error, the error line marked as a system line, and a Cancel that asks first.
    await page.goto(`${server.url}/jobs/${failingJob.id}`);
    await page.getByTestId('job-page').waitFor();
    assert.match(await page.getByTestId('job-error').innerText(), /Could not reach 127\.0\.0\.1:\d+/);
    await page.locator('[data-testid="log-line"][data-stream="system"]').first().waitFor();
    assert.match(await logText(page), /POST .* → no answer in \d+ ms/);
    assert.match(await page.locator('[data-testid="log-line"][data-stream="system"]').first().innerText(), /system\s*Could not reach/);
    await shot(page, 'job-retrying');

    await page.getByTestId('cancel-job').click();
    const confirm = page.getByTestId('confirm-dialog');
    await confirm.waitFor();
    await shot(page, 'job-cancel-confirm');
    await confirm.getByRole('button', { name: 'Yes, cancel it' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await waitFor(
      async () => (await page.getByTestId('job-info').getByTestId('job-status').getAttribute('data-status')) === 'cancelled',
      'the job page to show it cancelled',
    );
    assert.equal((await forja.jobs.get(failingJob.id)).status, 'cancelled');
    await waitFor(async () => (await page.getByTestId('log-state').innerText()).trim() === 'complete', 'the cancelled job’s log to be complete');
    assert.equal(await page.getByTestId('cancel-job').count(), 0);
    await shot(page, 'job-cancelled');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the workers page shows the server’s embedded worker, alive', async () => {
  const { context, page, errors } = await newPage();
  try {
    await login(page);
    await page.getByTestId('user-menu').waitFor();
    await page.goto(`${server.url}/jobs`);
    await page.getByTestId('jobs-tab-workers').click();
    await page.waitForURL(/\/workers$/);
    await page.getByTestId('workers-table').waitFor();
    const rows = page.locator('[data-testid^="worker-row-"]');
    assert.equal(await rows.count(), 1);
    const row = rows.first();
    assert.equal(await row.getAttribute('data-alive'), 'true');
    assert.match(await row.innerText(), /embedded/);
    assert.equal((await row.getByTestId('worker-state').innerText()).trim(), 'alive');
    assert.match(await row.getByTestId('worker-slots').innerText(), /^\d+\/\d+$/);
    // The Jobs section stays highlighted in the navigation.
    assert.match((await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).getAttribute('class')) ?? '', /active/);
    await shot(page, 'workers');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an admin creates a webhook, sees its secret once, pings it, rotates its secret, turns it off and deletes it', async () => {
  const { context, page, errors } = await newPage();
  try {
    await login(page);
    await page.getByTestId('user-menu').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByTestId('admin-tab-webhooks').click();
    await page.waitForURL(/\/admin\/webhooks$/);
    await page.getByTestId('webhooks-table').waitFor();
    await page.getByTestId('webhook-row-ci-receiver').waitFor();

    // The delivery made in before() is listed with the receiver's answer.
    await page.getByTestId('webhook-row-ci-receiver').getByTestId('webhook-deliveries-toggle').click();
    const firstDeliveries = page.getByTestId('deliveries-ci-receiver');
    await firstDeliveries.waitFor();
    const delivered = firstDeliveries.getByTestId('delivery-row').first();
    assert.equal(await delivered.getAttribute('data-status'), 'delivered');
    assert.match(await delivered.innerText(), /registered_model\.created[\s\S]*200/);
    await shot(page, 'webhooks');

    // Create one through the dialog, subscribed to two events only.
    await page.getByTestId('new-webhook').click();
    const dialog = page.getByTestId('create-webhook-dialog');
    await dialog.getByLabel('Name').fill('deploy-bot');
    await dialog.getByLabel('URL').fill(receiverUrl);
    await dialog.getByLabel('Description').fill('Tells the deploy bot about new versions.');
    const kept = ['model_version.created', 'model_version.stage_changed'];
    for (const ev of WEBHOOK_EVENTS.filter((e) => !kept.includes(e))) await dialog.getByTestId(`event-${ev}`).uncheck();
    await shot(page, 'webhook-create');
    await dialog.getByRole('button', { name: 'Create webhook' }).click();

    const secretDialog = page.getByTestId('webhook-secret-dialog');
    await secretDialog.waitFor();
    const secret = (await secretDialog.getByTestId('webhook-secret').innerText()).trim();
    assert.ok(secret.length >= 16, `secret "${secret}" looks too short`);
    await shot(page, 'webhook-secret');
    // Escape does not close a secret shown once: only its own button does.
    await page.keyboard.press('Escape');
    assert.ok(await secretDialog.isVisible());
    await secretDialog.getByTestId('webhook-secret-done').click();
    await secretDialog.waitFor({ state: 'hidden' });

    const row = page.getByTestId('webhook-row-deploy-bot');
    await row.waitFor();
    assert.match(await row.innerText(), /2 events/);
    const hook = (await forja.webhooks.list()).find((h) => h.name === 'deploy-bot');
    assert.ok(hook);
    assert.deepEqual(hook.events, kept);
    // The list (and the whole page) never shows the secret again, nor does a reload.
    assert.ok(!(await page.content()).includes(secret));
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret));

    // Ping: a delivery shows up and arrives, signed with the secret shown once.
    const before = received.length;
    await row.getByTestId('webhook-ping').click();
    const deliveries = page.getByTestId('deliveries-deploy-bot');
    await deliveries.waitFor();
    const ping = deliveries.locator('[data-testid="delivery-row"][data-event="ping"]');
    await ping.waitFor();
    await waitFor(async () => (await ping.getAttribute('data-status')) === 'delivered', 'the ping to be delivered');
    assert.match(await ping.innerText(), /200/);
    const got = received.slice(before).find((r) => r.headers['x-forja-event'] === 'ping');
    assert.ok(got, 'the receiver got the ping');
    const signed =
      'sha256=' +
      createHmac('sha256', secret)
        .update(`${String(got.headers['x-forja-timestamp'])}.${got.body}`)
        .digest('hex');
    assert.equal(got.headers['x-forja-signature'], signed);
    await shot(page, 'webhook-ping');

    // The delivery's job link leads to its job page.
    await ping.getByRole('link').click();
    await page.getByTestId('job-page').waitFor();
    await waitFor(async () => (await logText(page)).includes(`POST ${receiverUrl} → 200`), 'the ping job’s log');
    await page.goBack();
    await row.waitFor();

    // Rotating shows a new secret once, and the next ping is signed with it.
    await row.getByTestId('webhook-rotate').click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Rotate' }).click();
    await secretDialog.waitFor();
    const rotated = (await secretDialog.getByTestId('webhook-secret').innerText()).trim();
    assert.notEqual(rotated, secret);
    await secretDialog.getByTestId('webhook-secret-done').click();
    await secretDialog.waitFor({ state: 'hidden' });
    assert.ok(!(await page.content()).includes(rotated));
    const beforeSecond = received.length;
    await row.getByTestId('webhook-ping').click();
    await waitFor(async () => received.slice(beforeSecond).some((r) => r.headers['x-forja-event'] === 'ping'), 'the second ping');
    const second = received.slice(beforeSecond).find((r) => r.headers['x-forja-event'] === 'ping')!;
    assert.equal(
      second.headers['x-forja-signature'],
      'sha256=' +
        createHmac('sha256', rotated)
          .update(`${String(second.headers['x-forja-timestamp'])}.${second.body}`)
          .digest('hex'),
    );
    await waitFor(async () => (await deliveries.getByTestId('delivery-row').count()) === 2, 'both pings in the deliveries table');

    // Turn it off, then delete it after confirming.
    await row.getByTestId('webhook-active').uncheck();
    await waitFor(async () => (await forja.webhooks.get(hook.id)).active === false, 'the webhook to be inactive');
    await waitFor(async () => (await row.getAttribute('class'))?.includes('row-muted') === true, 'the row to look inactive');
    await row.getByRole('button', { name: 'Delete deploy-bot' }).click();
    const confirm = page.getByTestId('confirm-dialog');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    assert.ok(!(await forja.webhooks.list()).some((h) => h.name === 'deploy-bot'));
    await shot(page, 'webhooks-after-delete');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
