// What every browser test needs: the real server serving the built UI, Debian's Chromium, and a
// few helpers. Screenshots go to /tmp so a person can judge the design.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/src/testing/server.js';

const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const CHROMIUM = process.env.FORJA_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.FORJA_SCREENSHOT_DIR ?? '/tmp';

export interface Harness {
  server: TestServer;
  browser: Browser;
  close(): Promise<void>;
}

/** `env`: the server's own settings, e.g. FORJA_WORKERS=0 so queued jobs stay queued. */
export async function startHarness(options: { env?: Record<string, string> } = {}): Promise<Harness> {
  // A missing build must fail loudly: skipping would let a broken UI build pass CI.
  assert.ok(existsSync(path.join(WEB_DIST, 'index.html')), `${WEB_DIST}/index.html is missing: build the UI first with \`npm run build -w web\``);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install Debian's "chromium" package or set FORJA_TEST_CHROMIUM`);
  const server = await startTestServer({ webDir: WEB_DIST, env: options.env });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/** `options` override the context's defaults, e.g. `{ colorScheme: 'dark' }` or a narrower viewport. */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // Each test ends by asserting the app threw nothing uncaught.
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  return { context, page, errors };
}

export async function login(page: Page, serverUrl: string, username: string, password: string) {
  await page.goto(serverUrl + '/');
  await page.waitForURL(/\/login/);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `forja-ui-${name}.png`) });

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** axe-core's browser build, read once: it is injected into the page under test, never fetched. */
let axeSource: string | undefined;

/**
 * Runs axe-core (WCAG 2.1 A/AA rules) on what the page shows now and fails on any serious or
 * critical violation, listing each with the elements it found — the bar is zero of them.
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated rather than added as a <script>, so the page under test holds nothing of the test's.
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  const violations =
    (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })
    .then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')) })))`)) as Array<{
      id: string;
      impact: string;
      help: string;
      nodes: string[];
    }>;
  assert.deepEqual(
    violations.map((v) => `${v.impact} ${v.id}: ${v.help}\n      ${v.nodes.join('\n      ')}`),
    [],
    `accessibility violations on ${what}`,
  );
}
