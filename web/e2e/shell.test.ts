// The app's shell in Debian's Chromium (issue 18, point 5): a failed request shows its error with a
// "Try again" that recovers, the sidebar collapses to an icon rail (by default below 1100 px, by
// hand anywhere, remembered), no page overflows sideways at 1024 px, and the dark scheme follows
// the system setting — charts included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { TEST_ADMIN_PASSWORD } from '../../server/src/testing/server.js';
import { assertAccessible, login, newPage, shot, startHarness, waitFor, type Harness } from './harness.js';
import { seedEverything, type Seeded } from './seed.js';

let harness: Harness;
let seeded: Seeded;

before(async () => {
  harness = await startHarness();
  seeded = await seedEverything(new ForjaClient({ baseUrl: harness.server.url, token: harness.server.adminToken }));
});

after(async () => {
  await harness?.close();
});

async function signedIn(options: Parameters<typeof newPage>[1] = {}) {
  const opened = await newPage(harness.browser, options);
  await login(opened.page, harness.server.url, 'admin', TEST_ADMIN_PASSWORD);
  await opened.page.waitForURL(/\/experiments/);
  return opened;
}

/**
 * Makes every `method` request whose path matches `path` fail with a 500 until the returned
 * function is called (the UI retries a 5xx once by itself, so failing only the first would hide it).
 */
async function failRequests(page: Page, method: string, path: RegExp): Promise<{ failed: () => number; heal: () => void }> {
  let failing = true;
  let failed = 0;
  await page.route(
    (url) => path.test(url.pathname),
    async (route) => {
      if (!failing || route.request().method() !== method) return route.fallback();
      failed++;
      await route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'INTERNAL', message: 'The test broke this request.' } }),
      });
    },
  );
  return { failed: () => failed, heal: () => (failing = false) };
}

test('a failed request shows its error and a Try again that loads the data', async () => {
  const { context, page, errors } = await signedIn();
  const cases = [
    {
      name: 'experiments',
      path: '/experiments',
      method: 'POST',
      api: /^\/api\/v1\/experiments\/search$/,
      data: page.getByRole('link', { name: 'shell-sweep' }),
    },
    {
      name: 'experiment',
      path: `/experiments/${seeded.experimentId}`,
      method: 'GET',
      api: new RegExp(`^/api/v1/experiments/${seeded.experimentId}$`),
      data: page.getByRole('heading', { name: 'shell-sweep' }),
    },
    {
      name: 'run',
      path: `/runs/${seeded.runIds[0]}`,
      method: 'GET',
      api: new RegExp(`^/api/v1/runs/${seeded.runIds[0]}$`),
      data: page.getByRole('heading', { name: /sweep-1/ }),
    },
    { name: 'models', path: '/models', method: 'POST', api: /^\/api\/v1\/models\/search$/, data: page.getByRole('link', { name: seeded.model }) },
    { name: 'lake', path: '/lake', method: 'GET', api: /^\/api\/v1\/lake\/tables$/, data: page.getByRole('link', { name: seeded.table }) },
    {
      name: 'monitor',
      path: `/monitoring/monitors/${seeded.monitorId}`,
      method: 'GET',
      api: new RegExp(`^/api/v1/monitors/${seeded.monitorId}$`),
      data: page.getByRole('heading', { name: 'shell-drift' }),
    },
  ];
  for (const c of cases) {
    const broken = await failRequests(page, c.method, c.api);
    await page.goto(harness.server.url + c.path);
    const retry = page.getByRole('button', { name: 'Try again' });
    await retry.waitFor();
    assert.ok(broken.failed() >= 1, `${c.name}: the request was failed`);
    assert.match(await page.getByRole('alert').filter({ hasText: 'The test broke this request.' }).innerText(), /The test broke this request\./, c.name);
    assert.equal(await c.data.count(), 0, `${c.name}: no data while the request fails`);
    if (c.name === 'experiments') await assertAccessible(page, 'a failed list with its retry');
    await shot(page, `shell-error-${c.name}`);
    broken.heal();
    await retry.click();
    await c.data.first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0, `${c.name}: the error is gone once the data came`);
    await page.unrouteAll();
  }
  assert.deepEqual(errors, []);
  await context.close();
});

/**
 * How far the page scrolls sideways (0 when nothing overflows: wide tables scroll inside their
 * card), and the outermost elements that reach past the main area's right edge.
 */
const sideways = (page: Page) =>
  page.evaluate(`(() => {
    const main = document.querySelector('main.content');
    const right = main.getBoundingClientRect().right;
    const past = [...main.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > right + 1 && !e.parentElement.closest('.table-card, [class*="scroll"]'));
    const outermost = past.filter((e) => !past.includes(e.parentElement)).slice(0, 3).map((e) => e.tagName.toLowerCase() + '.' + [...e.classList].join('.'));
    return { overflow: Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth, main.scrollWidth - main.clientWidth), outermost };
  })()`) as Promise<{ overflow: number; outermost: string[] }>;

test('at 1024 px the sidebar is an icon rail, toggles, is remembered, and no page overflows sideways', async () => {
  const { context, page, errors } = await signedIn({ viewport: { width: 1024, height: 768 } });
  const sidebar = page.getByTestId('sidebar');
  const toggle = page.getByTestId('sidebar-toggle');
  assert.match((await sidebar.getAttribute('class')) ?? '', /collapsed/, 'collapsed by default below 1100 px');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  // The rail keeps every link's name for screen readers, and a tooltip for the eye.
  const models = sidebar.getByRole('link', { name: 'Models' });
  assert.equal(await models.getAttribute('title'), 'Models');
  assert.ok((await sidebar.boundingBox())!.width < 64, 'an icon rail');
  await assertAccessible(page, 'the collapsed sidebar');

  const pages = [
    { name: 'experiments', path: '/experiments', ready: page.getByRole('link', { name: 'shell-sweep' }) },
    { name: 'experiment', path: `/experiments/${seeded.experimentId}`, ready: page.getByRole('link', { name: 'sweep-1' }) },
    { name: 'run', path: `/runs/${seeded.runIds[0]}`, ready: page.getByRole('heading', { name: /sweep-1/ }) },
    { name: 'model', path: `/models/${seeded.model}`, ready: page.getByRole('heading', { name: seeded.model }) },
    { name: 'lake-table', path: `/lake/${seeded.table}`, ready: page.getByTestId('lake-grid-row').first() },
    { name: 'monitor', path: `/monitoring/monitors/${seeded.monitorId}`, ready: page.getByRole('heading', { name: 'shell-drift' }) },
    { name: 'admin-audit', path: '/admin/audit', ready: page.getByTestId('audit-row').first() },
    { name: 'jobs', path: '/jobs', ready: page.getByRole('heading', { name: 'Jobs', exact: true }) },
  ];
  for (const p of pages) {
    await page.goto(harness.server.url + p.path);
    await p.ready.waitFor();
    await shot(page, `shell-1024-${p.name}`);
    assert.deepEqual(await sideways(page), { overflow: 0, outermost: [] }, `${p.name} overflows sideways at 1024 px`);
  }

  // Expanded by hand, it stays expanded on the next visit; the pages still fit.
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.reload();
  await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
  assert.doesNotMatch((await sidebar.getAttribute('class')) ?? '', /collapsed/, 'the choice is remembered');
  assert.ok((await sidebar.boundingBox())!.width > 150);
  assert.deepEqual(await sideways(page), { overflow: 0, outermost: [] }, 'jobs overflows sideways with the sidebar expanded');
  await shot(page, 'shell-1024-expanded');
  await toggle.click();
  assert.match((await sidebar.getAttribute('class')) ?? '', /collapsed/);
  assert.deepEqual(errors, []);
  await context.close();
});

/** --bg of the light scheme, as the browser reports it. */
const LIGHT_BG = 'rgb(246, 246, 247)';

test('the dark scheme follows the system setting, charts included', async () => {
  const { context, page, errors } = await signedIn({ colorScheme: 'dark' });
  const background = () => page.evaluate('getComputedStyle(document.body).backgroundColor') as Promise<string>;
  const dark = await background();
  assert.notEqual(dark, LIGHT_BG, 'the dark background, not the light one');
  await page.goto(`${harness.server.url}/runs/${seeded.runIds[0]}?tab=metrics`);
  const chart = page.getByTestId('metric-chart').first();
  await chart.waitFor();
  await assertAccessible(page, 'a run chart in the dark');
  await shot(page, 'shell-dark-run-chart');

  // Switching the system to light redraws the same page in the light tokens.
  await page.emulateMedia({ colorScheme: 'light' });
  await waitFor(async () => (await background()) === LIGHT_BG, 'the light background');
  await chart.waitFor();
  await shot(page, 'shell-light-run-chart');
  assert.deepEqual(errors, []);
  await context.close();
});
