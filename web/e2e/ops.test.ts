// The operator's pages in Debian's Chromium against the real server: a pipeline of 36 steps whose
// DAG fits its box and zooms and pans; a lake table whose filter, order, columns and page live in
// the address; the jobs list naming what each job belongs to, with links; the admin System page.
// The server runs no job workers (FORJA_WORKERS=0): jobs stay queued, and no Python environment is
// built.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ForjaClient } from '@forja/client';
import { TEST_ADMIN_PASSWORD, http, type TestServer } from '../../server/src/testing/server.js';
import { assertAccessible, login as loginAt, newPage, shot, startHarness, waitFor, type Harness } from './harness.js';

let harness: Harness;
let server: TestServer;
let forja: ForjaClient;
let pipelineRunId: string;
let deploymentId: string;
let monitorId: string;
let projectId: string;

const PIPELINE = 'wide-flow';
/** Six columns of six steps; each step needs one or two steps of the column before. */
const COLUMNS = 6;
const ROWS = 6;
const stepId = (c: number, r: number) => `s${c}_${r}`;
function wideDefinition(): string {
  const lines = [`name: ${PIPELINE}`, 'steps:'];
  for (let c = 0; c < COLUMNS; c++) {
    for (let r = 0; r < ROWS; r++) {
      lines.push(`  - id: ${stepId(c, r)}`, '    script: step.py');
      if (c > 0) lines.push(`    needs: [${[...new Set([stepId(c - 1, r), stepId(c - 1, (r + 1) % ROWS)])].join(', ')}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const CUSTOMERS = [
  'id,name,score,city',
  ...Array.from({ length: 120 }, (_, i) => `${i + 1},name ${i + 1},${((i * 37) % 100) + 0.5},${['Lisbon', 'Porto', 'Faro'][i % 3]}`),
].join('\n');

async function send(method: string, p: string, body: FormData | string, contentType?: string) {
  const r = await fetch(`${server.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, ...(contentType ? { 'content-type': contentType } : {}) },
    body,
  });
  const text = await r.text();
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${text}`);
  return JSON.parse(text) as any;
}

const login = (page: Page) => loginAt(page, server.url, 'admin', TEST_ADMIN_PASSWORD);

before(async () => {
  harness = await startHarness({ env: { FORJA_WORKERS: '0' } });
  server = harness.server;
  forja = new ForjaClient({ baseUrl: server.url, token: server.adminToken });

  const pipeline = new FormData();
  pipeline.append('definition', new Blob([wideDefinition()]), 'pipeline.yaml');
  pipeline.append('file', new Blob(['print("step")\n']), 'step.py');
  await send('PUT', `/api/v1/pipelines/${PIPELINE}`, pipeline);
  pipelineRunId = (await http(server.url, 'POST', `/api/v1/pipelines/${PIPELINE}/runs`, { token: server.adminToken, body: {} })).body.id;

  const deployment = new FormData();
  deployment.append('name', 'credit-scorer');
  deployment.append('source', new Blob(['def score(data, base_path):\n    return {"ok": True}\n']), 'scorer.py');
  deployment.append('model', new Blob(['{}']), 'model.json');
  deploymentId = (await send('POST', '/api/v1/deployments', deployment)).deployment.id;

  await send('POST', '/api/v1/lake/tables/customers/rows', `${CUSTOMERS}\n`, 'text/csv');
  await send('POST', '/api/v1/lake/tables/traffic/rows', 'ts,v\n2026-12-01 10:00:00,1\n2026-12-01 11:00:00,2\n', 'text/csv');
  await send('POST', '/api/v1/lake/tables/reference_rows/rows', 'ts,v\n2026-11-01 10:00:00,1\n', 'text/csv');
  const monitor = await http(server.url, 'POST', '/api/v1/monitors', {
    token: server.adminToken,
    body: {
      name: 'traffic-watch',
      target: { table: 'traffic', timeColumn: 'ts' },
      reference: { kind: 'table', table: 'reference_rows' },
      period: 'day',
      scheduled: false,
    },
  });
  assert.equal(monitor.status, 201, monitor.text);
  monitorId = monitor.body.id;
  assert.ok((await http(server.url, 'POST', `/api/v1/monitors/${monitorId}/runs`, { token: server.adminToken, body: {} })).status < 300);

  // A project run needs a built environment to be started through the API: queued as the batch service queues it.
  projectId = (await http(server.url, 'POST', '/api/v1/batch/projects', { token: server.adminToken, body: { name: 'nightly-report' } })).body.id;
  await queueProjectRun();
});

async function queueProjectRun(): Promise<string> {
  const group = await server.server.services.db.kysely.selectFrom('groups').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();
  const job = await server.server.services.engine.enqueue({
    kind: 'batch.run',
    groupId: group.id,
    params: { runId: `r-${Date.now()}`, projectId, project: 'nightly-report', version: 1 },
  });
  return job!.id;
}

after(async () => {
  await harness?.close();
});

/** The zoom the DAG is drawn at, and whether every node lies inside its box. */
async function dagState(page: Page, testId: string): Promise<{ zoom: number; inside: boolean; nodes: number; first: { x: number; y: number; w: number } }> {
  // A string, as the tests are not compiled with the DOM's types.
  return page.evaluate(`(() => {
    const box = document.querySelector('[data-testid="${testId}"]');
    const vp = box.getBoundingClientRect();
    const nodes = [...box.querySelectorAll('[data-testid^="dag-node-"]')].map((n) => n.getBoundingClientRect());
    const inside = nodes.every((r) => r.left >= vp.left - 0.5 && r.right <= vp.right + 0.5 && r.top >= vp.top - 0.5 && r.bottom <= vp.bottom + 0.5);
    const first = box.querySelector('[data-testid="dag-node-s0_0"]').getBoundingClientRect();
    return { zoom: Number(box.getAttribute('data-zoom')), inside, nodes: nodes.length, first: { x: first.left, y: first.top, w: first.width } };
  })()`);
}

test('a DAG of 36 steps fits its box on load and on resize; buttons, the wheel and a drag zoom and pan it', async () => {
  const { context, page, errors } = await newPage(harness.browser);
  try {
    await login(page);
    await page.waitForURL(/\/experiments/);
    await page.goto(`${server.url}/pipelines/${PIPELINE}`);
    const dag = page.getByTestId('pipeline-dag');
    await dag.waitFor();
    const fitted = await dagState(page, 'pipeline-dag');
    console.log(`# DAG of ${fitted.nodes} steps fitted at ${Math.round(fitted.zoom * 100)}%`);
    assert.equal(fitted.nodes, COLUMNS * ROWS);
    assert.ok(fitted.inside, 'every step is inside the box on load');
    assert.ok(fitted.zoom < 1, `a graph wider than its box is drawn smaller (${fitted.zoom})`);
    await assertAccessible(page, 'the pipeline page with its DAG');
    await shot(page, 'ops-dag-fitted');

    // The buttons, reached by keyboard: named, focusable, pressed with Enter.
    const zoomIn = page.getByRole('button', { name: 'Zoom in' });
    await zoomIn.focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    const zoomed = await dagState(page, 'pipeline-dag');
    assert.ok(Math.abs(zoomed.zoom / fitted.zoom - 1.25 ** 2) < 0.01, `two presses zoom in 1.25² (${fitted.zoom} → ${zoomed.zoom})`);
    assert.ok(zoomed.first.w > fitted.first.w * 1.5, 'the steps are drawn bigger');
    assert.equal(zoomed.inside, false, 'zoomed in, the graph overflows its box');
    await shot(page, 'ops-dag-zoomed');
    await page.getByRole('button', { name: 'Zoom out' }).click();
    assert.ok((await dagState(page, 'pipeline-dag')).zoom < zoomed.zoom);

    // A drag pans by as much as the pointer moved, and, started on a step, does not open it.
    const url = page.url();
    const before = await dagState(page, 'pipeline-dag');
    const node = await page.getByTestId('dag-node-s2_2').boundingBox();
    assert.ok(node);
    await page.mouse.move(node.x + 20, node.y + 20);
    await page.mouse.down();
    await page.mouse.move(node.x - 40, node.y - 10, { steps: 5 });
    await page.mouse.move(node.x - 100, node.y - 20, { steps: 5 });
    await page.mouse.up();
    const panned = await dagState(page, 'pipeline-dag');
    assert.ok(Math.abs(panned.first.x - before.first.x + 120) < 1 && Math.abs(panned.first.y - before.first.y + 40) < 1, JSON.stringify({ before, panned }));
    assert.equal(page.url(), url, 'a drag is not a click on the step it started on');

    // The wheel zooms about the pointer: the point under it stays put.
    const box = (await dag.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 200);
    await waitFor(async () => (await dagState(page, 'pipeline-dag')).zoom < panned.zoom, 'the wheel zooms out');
    await page.mouse.wheel(0, -400);
    await waitFor(async () => (await dagState(page, 'pipeline-dag')).zoom > panned.zoom, 'the wheel zooms in');

    await page.getByRole('button', { name: 'Fit the graph to its box' }).click();
    const refit = await dagState(page, 'pipeline-dag');
    assert.ok(refit.inside && Math.abs(refit.zoom - fitted.zoom) < 0.001, JSON.stringify(refit));

    // A narrower window: the graph is fitted again.
    await page.setViewportSize({ width: 1024, height: 800 });
    await waitFor(async () => (await dagState(page, 'pipeline-dag')).zoom < refit.zoom, 'the graph refitted to a narrower box');
    assert.ok((await dagState(page, 'pipeline-dag')).inside, 'every step is inside the narrower box');
    await shot(page, 'ops-dag-1024');

    // A step still opens with a click (the last run, at that step).
    await page.getByTestId('pipeline-dag-fit').click();
    await page.getByTestId('dag-node-s0_0').click();
    await page.waitForURL(new RegExp(`/pipelines/${PIPELINE}/runs/${pipelineRunId}\\?step=s0_0`));
    await page.getByTestId('pipeline-run-dag').waitFor();
    assert.ok((await dagState(page, 'pipeline-run-dag')).inside, "the run's DAG fits too");
    await assertAccessible(page, 'a pipeline run with its DAG');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a lake table's filter, order, columns, page size and page are in the address; the link opens the same rows; a bad filter shows its error", async () => {
  const { context, page, errors } = await newPage(harness.browser);
  try {
    await login(page);
    await page.waitForURL(/\/experiments/);
    await page.goto(`${server.url}/lake/customers`);
    await page.getByTestId('lake-grid').waitFor();
    await page.getByTestId('lake-filter').fill('score > 20');
    await page.getByTestId('lake-filter-apply').click();
    await page.waitForURL(/filter=score/);
    await page.getByTestId('lake-sort-score').click();
    await page.getByTestId('lake-sort-score').click();
    await page.waitForURL(/desc=1/);
    await page.getByTestId('lake-columns').click();
    await page.getByTestId('lake-column-option-city').click();
    await page.keyboard.press('Escape');
    await page.getByTestId('lake-page-size').selectOption('25');
    await page.waitForURL(/rows=25/);
    await waitFor(async () => !(await page.getByTestId('lake-next').isDisabled()), 'a next page');
    await page.getByTestId('lake-next').click();
    await page.waitForURL(/page=/);
    await waitFor(async () => (await page.getByTestId('lake-page-info').innerText()).startsWith('Rows 26'), 'the second page');
    const grid = async (p: Page) => ({
      rows: await p.getByTestId('lake-grid-row').allInnerTexts(),
      info: await p.getByTestId('lake-page-info').innerText(),
      order: await p.getByTestId('lake-order').innerText(),
      headers: await p.locator('[data-testid="lake-grid"] thead th').allInnerTexts(),
    });
    const shown = await grid(page);
    const link = page.url();
    const params = new URL(link).searchParams;
    assert.deepEqual(
      {
        filter: params.get('filter'),
        sort: params.get('sort'),
        desc: params.get('desc'),
        cols: params.getAll('col'),
        rows: params.get('rows'),
        pages: params.getAll('page').length,
      },
      { filter: 'score > 20', sort: 'score', desc: '1', cols: ['id', 'name', 'score'], rows: '25', pages: 1 },
    );
    assert.equal(shown.rows.length, 25);
    assert.ok(!shown.headers.some((h) => h.includes('city')), 'the city column is not read');
    await assertAccessible(page, 'a lake table with a filter, an order and chosen columns');
    await shot(page, 'ops-lake-url');

    // The same link in another tab: the same rows, filter, order and page.
    const other = await newPage(harness.browser);
    try {
      await login(other.page);
      await other.page.waitForURL(/\/experiments/);
      await other.page.goto(link);
      await other.page.getByTestId('lake-grid-row').first().waitFor();
      await waitFor(async () => (await other.page.getByTestId('lake-page-info').innerText()).startsWith('Rows 26'), 'the linked page');
      assert.deepEqual(await grid(other.page), shown);
      assert.equal(await other.page.getByTestId('lake-filter').inputValue(), 'score > 20');
      assert.equal(await other.page.getByTestId('lake-page-size').inputValue(), '25');
      // Previous page works from a restored link too.
      await other.page.getByTestId('lake-prev').click();
      await waitFor(async () => (await other.page.getByTestId('lake-page-info').innerText()).startsWith('Rows 1–'), 'the first page');
      assert.equal(new URL(other.page.url()).searchParams.getAll('page').length, 0);
      assert.deepEqual(other.errors, []);
    } finally {
      await other.context.close();
    }

    // A filter that does not parse, given in the address: the filter's error, not a broken page.
    await page.goto(`${server.url}/lake/customers?filter=${encodeURIComponent('score >> 1')}&sort=nosuchcolumn`);
    await page.getByTestId('filter-error').waitFor();
    assert.equal(await page.getByTestId('lake-filter').inputValue(), 'score >> 1');
    assert.equal(await page.getByTestId('lake-grid-row').count(), 0);
    await assertAccessible(page, 'a lake table with a bad filter from the address');
    await shot(page, 'ops-lake-bad-filter');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the jobs list says what each job belongs to, with a link to its page', async () => {
  const { context, page, errors } = await newPage(harness.browser);
  try {
    await login(page);
    await page.waitForURL(/\/experiments/);
    await page.goto(`${server.url}/jobs`);
    await page.getByTestId('jobs-table').waitFor();
    const ownerOf = async (kind: string) => {
      const cell = page.locator(`[data-kind="${kind}"] [data-testid="job-owner"]`).first();
      return { text: (await cell.innerText()).trim(), href: await cell.locator('a').getAttribute('href'), type: await cell.getAttribute('data-owner-type') };
    };
    await waitFor(async () => (await page.locator('[data-kind="monitor.run"]').count()) > 0, 'the monitor run job');
    assert.deepEqual(await ownerOf('deployment.build'), {
      text: 'Deployment credit-scorer',
      href: `/g/default/deployments/${deploymentId}`,
      type: 'deployment',
    });
    assert.deepEqual(await ownerOf('pipeline.step'), {
      text: `Run of pipeline ${PIPELINE}`,
      href: `/g/default/pipelines/${PIPELINE}/runs/${pipelineRunId}`,
      type: 'pipeline_run',
    });
    assert.deepEqual(await ownerOf('batch.run'), { text: 'Project nightly-report', href: '/g/default/projects/nightly-report', type: 'project' });
    const monitorRun = await ownerOf('monitor.run');
    assert.equal(monitorRun.text, 'Run of monitor traffic-watch');
    assert.match(monitorRun.href ?? '', new RegExp(`^/g/default/monitoring/monitors/${monitorId}/runs/[^/]+$`));
    // Every pipeline step job (one per first-column step) names the same run.
    assert.equal(await page.locator('[data-kind="pipeline.step"] [data-testid="job-owner"]').count(), ROWS);
    await assertAccessible(page, 'the jobs list');
    await shot(page, 'ops-jobs-owners');

    await page.locator('[data-kind="monitor.run"] [data-testid="job-owner"] a').first().click();
    await page.waitForURL(/\/monitoring\/monitors\/[^/]+\/runs\//);
    await page.goBack();
    await page.locator('[data-kind="deployment.build"] a.mono').first().click();
    await page.waitForURL(/\/jobs\/[^/]+$/);
    // The address changes before the job's page (loaded on demand) replaces the list.
    const jobPage = page.getByTestId('job-page');
    await jobPage.waitFor();
    assert.equal((await jobPage.getByTestId('job-owner').innerText()).trim(), 'Deployment credit-scorer');
    await assertAccessible(page, 'a job naming its deployment');
    await jobPage.getByTestId('job-owner').locator('a').click();
    await page.waitForURL(new RegExp(`/deployments/${deploymentId}$`));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the admin System page: the server's version, storage, queue, workers and disk; Refresh measures again; members do not see it", async () => {
  const { context, page, errors } = await newPage(harness.browser);
  try {
    await login(page);
    await page.waitForURL(/\/experiments/);
    await page.goto(`${server.url}/admin`);
    await page.getByTestId('admin-tab-system').click();
    await page.waitForURL(/\/admin\/system$/);
    await page.getByTestId('system-version').waitFor();
    const o = await forja.systemOverview();
    assert.equal(await page.getByTestId('system-version').innerText(), o.version);
    for (const id of ['system-database', 'system-lake', 'system-artifacts', 'system-disk']) {
      assert.match(await page.getByTestId(id).innerText(), /\d+(\.\d)? (B|KB|MB|GB|TB)/, id);
    }
    assert.match(await page.getByTestId('system-disk').innerText(), / free of /);
    assert.equal(await page.getByTestId('system-queued').innerText(), String(o.jobs.queued));
    assert.ok(o.jobs.queued >= ROWS + 3, `the queued jobs of the seed (${o.jobs.queued})`);
    assert.match(await page.getByTestId('system-sandbox').innerText(), new RegExp(o.sandbox.mode));
    await assertAccessible(page, 'the admin System page');
    await shot(page, 'ops-system');

    // One more queued job; Refresh reads the queue again.
    await queueProjectRun();
    await page.getByTestId('system-refresh').click();
    await waitFor(async () => (await page.getByTestId('system-queued').innerText()) === String(o.jobs.queued + 1), 'the refreshed queue');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }

  await http(server.url, 'POST', '/api/v1/users', { token: server.adminToken, body: { username: 'olga', password: 'olga-password-1' } });
  await http(server.url, 'PUT', '/api/v1/groups/default/members/olga', { token: server.adminToken, body: { role: 'admin' } });
  const member = await newPage(harness.browser);
  try {
    await loginAt(member.page, server.url, 'olga', 'olga-password-1');
    await member.page.waitForURL(/\/experiments/);
    await member.page.goto(`${server.url}/admin`);
    await member.page.getByTestId('admin-tab-groups').waitFor();
    assert.equal(await member.page.getByTestId('admin-tab-system').count(), 0);
    await member.page.goto(`${server.url}/admin/system`);
    await member.page.getByText('The system page is for system administrators').waitFor();
    assert.equal(await member.page.getByTestId('system-version').count(), 0);
    assert.deepEqual(member.errors, []);
  } finally {
    await member.context.close();
  }
});
