// Charts across the runs of a 10,000-run sweep in Debian's Chromium: each chart draws, answers its
// controls, restores from its URL, follows the filter, and passes axe. Draw times are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { TEST_ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/server.js';
import { assertAccessible, login, newPage, shot, startHarness, waitFor, type Harness } from './harness.js';
import { seedSweep, SWEEP_METRICS, SWEEP_PARAMS, type Sweep } from './sweep.js';

/** Fewer while developing (FORJA_SWEEP_RUNS=500); the figure by default. */
const RUNS = Number(process.env.FORJA_SWEEP_RUNS ?? 10_000);
const HISTORY_RUNS = 50;

let harness: Harness;
let server: TestServer;
let sweep: Sweep;
let page: Page;
let errors: string[];

before(async () => {
  harness = await startHarness();
  server = harness.server;
  sweep = await seedSweep(server.url, server.adminToken, { name: 'charts-sweep', runs: RUNS, historyRuns: HISTORY_RUNS, steps: 100 });
  console.log(`# seeded ${RUNS} runs in ${(sweep.seededMs / 1000).toFixed(1)} s`);
  ({ page, errors } = await newPage(harness.browser));
  await login(page, server.url, 'admin', TEST_ADMIN_PASSWORD);
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
});
after(async () => {
  assert.deepEqual(errors, [], 'uncaught errors in the page');
  await harness?.close();
});

const chartsUrl = (query: string) => `${server.url}/experiments/${sweep.experimentId}?view=charts&${query}`;
/** A screenshot with the chart's card in view. */
async function snap(name: string) {
  await page.locator('.runs-chart-card').evaluate((el: any) => el.scrollIntoView({ block: 'end' }));
  await shot(page, name);
}
const param = (name: string) => new URL(page.url()).searchParams.get(name);

/** Waits for the chart's draw number `after` + 1 or later and returns its draw time. */
async function drawn(testId: string, after = 0): Promise<number> {
  const el = page.getByTestId(testId);
  await waitFor(async () => Number((await el.getAttribute('data-draws').catch(() => null)) ?? 0) > after, `${testId} to draw`, 120_000);
  return Number(await el.getAttribute('data-draw-ms'));
}
const draws = async (testId: string) => Number((await page.getByTestId(testId).getAttribute('data-draws')) ?? 0);

/** How much of the chart's first canvas is painted, and a fingerprint of its pixels, to tell drawings apart. */
async function ink(testId: string): Promise<{ painted: number; hash: number }> {
  return page.getByTestId(testId).evaluate((el: any) => {
    const canvas = el.querySelector('canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    let hash = 0;
    for (let i = 3; i < data.length; i += 4 * 7) {
      if (data[i]! > 0) painted++;
      hash = (hash * 31 + data[i - 3]! + data[i - 2]! * 3 + data[i - 1]! * 7 + data[i]! * 11) | 0;
    }
    return { painted, hash };
  });
}

async function assertPainted(testId: string, what: string) {
  const { painted } = await ink(testId);
  assert.ok(painted > 500, `${what}: only ${painted} sampled pixels painted`);
}

/** Moves the pointer over the chart until it shows a tooltip; returns its text. */
async function hoverSomething(testId: string): Promise<string> {
  const box = (await page.getByTestId(testId).boundingBox())!;
  for (let y = 0.15; y < 0.9; y += 0.05)
    for (let x = 0.08; x < 0.95; x += 0.03) {
      await page.mouse.move(box.x + box.width * x, box.y + box.height * y);
      const tip = page.getByTestId(`${testId}-tip`);
      if (await tip.isVisible()) return (await tip.textContent()) ?? '';
    }
  assert.fail(`no tooltip anywhere on ${testId}`);
}

test('the Charts switch opens parallel coordinates of every run; brushing, axes and the metric change it; the URL restores it', async () => {
  await page.goto(`${server.url}/experiments/${sweep.experimentId}`);
  await page.getByTestId('runs-view-charts').click();
  const ms = await drawn('chart-parallel');
  console.log(`# parallel coordinates, ${RUNS} runs: drawn ${ms.toFixed(0)} ms after the data arrived`);
  assert.equal(param('view'), 'charts');
  assert.equal(Number(await page.getByTestId('chart-count').getAttribute('data-runs')), RUNS);
  await assertPainted('chart-parallel', 'parallel coordinates');
  // The default axes are the params that vary, never the constant ones.
  const axes = await page
    .locator('[data-testid="parallel-axes"] [data-axis]')
    .evaluateAll((els: any[]) => els.map((e) => e.getAttribute('data-axis') as string));
  assert.equal(axes.length, 4);
  for (const constant of SWEEP_PARAMS.slice(0, 3).map(([k]) => `params.${k}`)) assert.ok(!axes.includes(constant), `${constant} does not vary`);

  await page.getByTestId('parallel-metric').selectOption('metrics.val_acc');
  let before = await draws('chart-parallel');
  const added = (await page.getByTestId('parallel-axes-add').locator('option[value^="params."]').first().getAttribute('value'))!;
  await page.getByTestId('parallel-axes-add').selectOption(added);
  await drawn('chart-parallel', before);
  assert.equal(param('c.metric'), 'metrics.val_acc');
  assert.ok(param('c.axes')?.endsWith(added), `c.axes=${param('c.axes')}`);
  const withAdded = await ink('chart-parallel');
  before = await draws('chart-parallel');
  await page.getByRole('button', { name: `Remove ${axes[0]!.slice('params.'.length)}` }).click();
  await drawn('chart-parallel', before);
  assert.notEqual((await ink('chart-parallel')).hash, withAdded.hash, 'removing an axis changes the drawing');

  // Brush the top part of the metric's axis (the last one, at the right).
  const box = (await page.getByTestId('chart-parallel').boundingBox())!;
  const axisX = box.x + box.width - 64;
  const beforeBrush = await ink('chart-parallel');
  before = await draws('chart-parallel');
  await page.mouse.move(axisX, box.y + 50);
  await page.mouse.down();
  await page.mouse.move(axisX, box.y + 120, { steps: 5 });
  await page.mouse.up();
  await drawn('chart-parallel', before);
  const matching = Number(await page.getByTestId('parallel-matching').getAttribute('data-matching'));
  assert.ok(matching > 0 && matching < RUNS, `${matching} runs in the brush`);
  assert.match(
    (await page.getByTestId('parallel-matching').textContent()) ?? '',
    new RegExp(`${matching.toLocaleString('en-US')} of ${RUNS.toLocaleString('en-US')} runs`),
  );
  assert.notEqual((await ink('chart-parallel')).hash, beforeBrush.hash, 'brushing changes the drawing');
  const brush = param('c.brush');
  assert.ok(brush?.includes('metrics.val_acc'), `c.brush=${brush}`);
  await snap('charts-parallel');

  const url = page.url();
  const exact = await ink('chart-parallel');
  await page.reload();
  await drawn('chart-parallel');
  assert.equal(page.url(), url);
  assert.equal(Number(await page.getByTestId('parallel-matching').getAttribute('data-matching')), matching, 'the brush comes back');
  assert.equal((await ink('chart-parallel')).hash, exact.hash, 'the same drawing after a reload');
  await assertAccessible(page, 'the parallel coordinates chart');

  const tip = await hoverSomething('chart-parallel');
  assert.match(tip, /sweep-\d{5}/);
  await page.mouse.down();
  await page.mouse.up();
  await page.waitForURL(/\/runs\//);
  await page.goBack();
  await drawn('chart-parallel');

  // The colours come from the theme's CSS variables: the system's dark mode redraws the chart in it.
  const light = await ink('chart-parallel');
  before = await draws('chart-parallel');
  await page.emulateMedia({ colorScheme: 'dark' });
  await drawn('chart-parallel', before);
  assert.notEqual((await ink('chart-parallel')).hash, light.hash, 'dark mode redraws');
  await snap('charts-parallel-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('scatter: any two fields coloured by a third, with a legend; a colour change redraws; the URL restores it', async () => {
  await page.goto(chartsUrl('chart=scatter&c.x=params.lr&c.y=metrics.val_loss&c.color=metrics.val_acc'));
  const ms = await drawn('chart-scatter');
  console.log(`# scatter, ${RUNS} runs: drawn ${ms.toFixed(0)} ms after the data arrived`);
  await assertPainted('chart-scatter', 'scatter');
  assert.match((await page.getByTestId('chart-legend').textContent()) ?? '', /val_acc/);
  const continuous = await ink('chart-scatter');

  let before = await draws('chart-scatter');
  await page.getByTestId('scatter-color').selectOption('params.batch_size');
  await drawn('chart-scatter', before);
  assert.notEqual((await ink('chart-scatter')).hash, continuous.hash, 'colouring by another field changes the drawing');
  // Four batch sizes: a categorical palette with four entries.
  assert.equal(await page.getByTestId('chart-legend').locator('li .swatch').count(), 4);

  before = await draws('chart-scatter');
  await page.getByTestId('scatter-x').selectOption('attributes.duration');
  await drawn('chart-scatter', before);
  assert.equal(param('c.x'), 'attributes.duration');
  await snap('charts-scatter');
  const exact = await ink('chart-scatter');
  await page.reload();
  await drawn('chart-scatter');
  assert.equal(await page.getByTestId('scatter-x').inputValue(), 'attributes.duration');
  assert.equal(await page.getByTestId('scatter-color').inputValue(), 'params.batch_size');
  assert.equal((await ink('chart-scatter')).hash, exact.hash, 'the same drawing after a reload');
  assert.match(await hoverSomething('chart-scatter'), /sweep-\d{5}.*duration/i);
  await assertAccessible(page, 'the scatter chart');
});

test('bar: one metric per run, best first, the best 100 or all of them', async () => {
  await page.goto(chartsUrl('chart=bar&c.metric=metrics.val_loss'));
  const ms = await drawn('chart-bar');
  await assertPainted('chart-bar', 'bar');
  assert.equal(await page.getByTestId('bar-order').inputValue(), 'asc', 'a loss is best when lowest');
  assert.equal(Number(await page.getByTestId('bar-caption').getAttribute('data-bars')), Math.min(100, RUNS));
  assert.match((await page.getByTestId('bar-caption').textContent()) ?? '', /best 100 of/);

  // The leftmost bar is the run with the lowest val_loss.
  const lowest = Math.min(...Array.from({ length: RUNS }, (_, i) => SWEEP_METRICS[0]![1](i)));
  const box = (await page.getByTestId('chart-bar').boundingBox())!;
  await page.mouse.move(box.x + 77, box.y + box.height - 40);
  const tip = (await page.getByTestId('chart-bar-tip').textContent()) ?? '';
  assert.match(tip, /#1/);
  assert.ok(tip.includes(String(lowest)), `${tip} shows ${lowest}`);
  await page.mouse.move(box.x + 2, box.y + 2);
  await snap('charts-bar');

  const before = await draws('chart-bar');
  await page.getByTestId('bar-top').selectOption('all');
  const allMs = await drawn('chart-bar', before);
  console.log(`# bar, best 100 of ${RUNS} runs: drawn ${ms.toFixed(0)} ms; all ${RUNS} bars: ${allMs.toFixed(0)} ms`);
  assert.equal(Number(await page.getByTestId('bar-caption').getAttribute('data-bars')), RUNS);
  await assertPainted('chart-bar', 'all bars');

  await snap('charts-bar-all');
  await page.reload();
  await drawn('chart-bar');
  assert.equal(await page.getByTestId('bar-top').inputValue(), 'all');
  await assertAccessible(page, 'the bar chart');
});

test('lines: the histories of the first 50 runs overlaid; smoothing and a log scale redraw it; the URL restores both', async () => {
  await page.goto(chartsUrl('chart=lines&c.metric=metrics.val_loss'));
  const ms = await drawn('chart-lines');
  console.log(`# lines, ${HISTORY_RUNS} runs × 100 steps: drawn ${ms.toFixed(0)} ms after the histories arrived`);
  assert.match((await page.getByTestId('chart-count').textContent()) ?? '', new RegExp(`first 50 runs .*, ${HISTORY_RUNS} with a history of val_loss`));
  await assertPainted('chart-lines', 'lines');
  const raw = await ink('chart-lines');

  let before = await draws('chart-lines');
  await page.getByTestId('lines-smooth').fill('0.9');
  await drawn('chart-lines', before);
  const smooth = await ink('chart-lines');
  assert.notEqual(smooth.hash, raw.hash, 'smoothing changes the drawing');
  before = await draws('chart-lines');
  // The box mirrors the address, which react-router updates in a transition: it ticks once that
  // commits, not within the click (what check() demands).
  await page.getByTestId('lines-log').click();
  await waitFor(() => page.getByTestId('lines-log').isChecked(), 'the log scale box ticked');
  await drawn('chart-lines', before);
  assert.notEqual((await ink('chart-lines')).hash, smooth.hash, 'a log scale changes the drawing');
  assert.equal(param('c.smooth'), '0.9');
  assert.equal(param('c.log'), '1');
  await snap('charts-lines');

  const exact = await ink('chart-lines');
  await page.reload();
  await drawn('chart-lines');
  assert.equal(await page.getByTestId('lines-smooth').inputValue(), '0.9');
  assert.ok(await page.getByTestId('lines-log').isChecked());
  assert.equal((await ink('chart-lines')).hash, exact.hash, 'the same drawing after a reload');
  assert.match(await hoverSomething('chart-lines'), /sweep-\d{5}.*step/);
  await assertAccessible(page, 'the line chart');
});

test('every chart draws only the runs of the filter typed in the charts view', async () => {
  await page.goto(chartsUrl('chart=scatter&c.x=params.lr&c.y=metrics.val_loss'));
  await drawn('chart-scatter');
  const depth = SWEEP_PARAMS.find(([k]) => k === 'depth')![1];
  const expected = Array.from({ length: RUNS }, (_, i) => depth(i)).filter((d) => d === '3').length;
  await page.getByTestId('runs-filter').fill("params.depth = '3'");
  await page.getByTestId('runs-filter').press('Enter');
  await waitFor(async () => Number(await page.getByTestId('chart-count').getAttribute('data-runs')) === expected, `${expected} runs of depth 3`, 60_000);
  assert.equal(param('filter'), "params.depth = '3'");
  for (const kind of ['parallel', 'bar'] as const) {
    await page.getByTestId(`chart-kind-${kind}`).click();
    await drawn(`chart-${kind}`);
    assert.equal(Number(await page.getByTestId('chart-count').getAttribute('data-runs')), expected, kind);
  }
  assert.equal(param('filter'), "params.depth = '3'", 'the filter stays across charts');
  // The table shows the same filter.
  await page.getByTestId('runs-view-table').click();
  assert.equal(await page.getByTestId('runs-filter').inputValue(), "params.depth = '3'");
});
