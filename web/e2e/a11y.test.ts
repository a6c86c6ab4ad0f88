// The accessibility pass of issue 18: every page of the app, seeded with a little of everything,
// checked with axe-core (WCAG 2.1 A/AA) in the light and the dark colour scheme — zero serious or
// critical violations — and each page's browser title ("<thing> · <section> · Forja").
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

interface PageSpec {
  name: string;
  path: string;
  title: string;
}

function everyPage(s: Seeded): PageSpec[] {
  return [
    { name: 'experiments', path: '/experiments', title: 'Experiments · Forja' },
    { name: 'experiment', path: `/experiments/${s.experimentId}`, title: 'shell-sweep · Experiments · Forja' },
    { name: 'run', path: `/runs/${s.runIds[0]}`, title: `${s.runNames[0]} · Runs · Forja` },
    { name: 'compare', path: `/compare?runs=${s.runIds.join(',')}`, title: 'Compare runs · Experiments · Forja' },
    { name: 'models', path: '/models', title: 'Models · Forja' },
    { name: 'model', path: `/models/${s.model}`, title: `${s.model} · Models · Forja` },
    { name: 'approvals', path: '/approvals', title: 'Approvals · Models · Forja' },
    { name: 'deployments', path: '/deployments', title: 'Deployments · Forja' },
    { name: 'lake', path: '/lake', title: 'Lake · Forja' },
    { name: 'lake-table', path: `/lake/${s.table}`, title: `${s.table} · Lake · Forja` },
    { name: 'projects', path: '/projects', title: 'Projects · Forja' },
    { name: 'pipelines', path: '/pipelines', title: 'Pipelines · Forja' },
    { name: 'jobs', path: '/jobs', title: 'Jobs · Forja' },
    { name: 'workers', path: '/workers', title: 'Workers · Jobs · Forja' },
    { name: 'training', path: '/training', title: 'Training · Forja' },
    { name: 'monitoring', path: '/monitoring', title: 'Monitoring · Forja' },
    { name: 'monitor', path: `/monitoring/monitors/${s.monitorId}`, title: 'shell-drift · Monitoring · Forja' },
    { name: 'admin-users', path: '/admin/users', title: 'Users · Admin · Forja' },
    { name: 'admin-groups', path: '/admin/groups', title: 'Groups · Admin · Forja' },
    { name: 'admin-group', path: '/admin/groups/default', title: 'default · Groups · Admin · Forja' },
    { name: 'admin-tokens', path: '/admin/tokens', title: 'Tokens · Admin · Forja' },
    { name: 'admin-audit', path: '/admin/audit', title: 'Audit log · Admin · Forja' },
    { name: 'admin-webhooks', path: '/admin/webhooks', title: 'Webhooks · Admin · Forja' },
    { name: 'admin-system', path: '/admin/system', title: 'System · Admin · Forja' },
  ];
}

/** Waits until the page has its heading, its title and no loading spinner left in the main area. */
async function settle(page: Page, spec: Pick<PageSpec, 'name' | 'title'>): Promise<void> {
  await page.locator('h1').first().waitFor();
  await waitFor(async () => (await page.title()) === spec.title, `${spec.name}'s title to be "${spec.title}" (it is "${await page.title()}")`);
  await waitFor(async () => (await page.locator('.loading').count()) === 0, `${spec.name} to finish loading`);
}

/** Every page in one colour scheme; the violations of all pages are reported together. */
async function checkEveryPage(scheme: 'light' | 'dark') {
  const { context, page, errors } = await newPage(harness.browser, { colorScheme: scheme });
  const problems: string[] = [];
  const check = async (spec: Pick<PageSpec, 'name' | 'title'>) => {
    await settle(page, spec);
    await assertAccessible(page, `${spec.name} (${scheme})`).catch((e: Error) => problems.push(e.message));
    await shot(page, `a11y-${scheme}-${spec.name}`);
  };

  await page.goto(`${harness.server.url}/login`);
  await check({ name: 'login', title: 'Sign in · Forja' });
  await login(page, harness.server.url, 'admin', TEST_ADMIN_PASSWORD);
  await page.waitForURL(/\/experiments/);
  for (const spec of everyPage(seeded)) {
    await page.goto(harness.server.url + spec.path);
    await check(spec);
  }
  assert.deepEqual(problems, [], problems.join('\n\n'));
  assert.deepEqual(errors, []);
  await context.close();
}

test('every page has its title and no serious accessibility violation, in the light scheme', () => checkEveryPage('light'));

test('every page has its title and no serious accessibility violation, in the dark scheme', () => checkEveryPage('dark'));
