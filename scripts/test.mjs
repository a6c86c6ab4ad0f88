// `npm test`: installs what the tests need, builds, starts PostgreSQL, runs the TypeScript, browser
// and Python suites, the schema fuzzing of the API and the benchmarks, and ends with one line
// "N passed, N failed" for the whole run.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, ensureAptPackages, ensureBuilt, ensureNodeDependencies, ensurePythonVenv, log } from './lib.mjs';
import { startPgCluster } from './pg-cluster.mjs';

const WORK = path.join(ROOT, '.test-work');
const only = process.argv.slice(2); // optional: file filters, e.g. `npm test -- auth`

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findTests(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const results = [];
const T0 = Date.now();
/** Minutes since `npm test` started, to say in the summary when each suite ended: CI's time budget is what they add up to. */
const at = () => ((Date.now() - T0) / 60_000).toFixed(1);
/** Past this a suite is stopped and counted as failed, so a hang still ends in a verdict. */
const SUITE_TIMEOUT_MS = 40 * 60_000;

/** Test files run through tsx, which strips types without checking them: check them here. */
function typecheckTests() {
  log('type-checking tests and benches…');
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const checks = [
    ['tsconfig.tests.json', [tsc, '-p', 'tsconfig.tests.json']],
    ['web (UI and browser tests)', [tsc, '-p', 'web/tsconfig.json', '--noEmit'], [tsc, '-p', 'web/e2e/tsconfig.json', '--noEmit']],
  ];
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const [name, ...commands] of checks) {
    const ok = commands.every((args) => spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' }).status === 0);
    if (ok) counts.passed++;
    else {
      counts.failed++;
      counts.failures.push(`type errors in ${name} (above)`);
    }
  }
  results.push({ suite: 'Type checks', ...counts, ended: at() });
}

/**
 * Formatting and lint rules (biome.json for TypeScript, ruff.toml for Python), one counted check
 * each; `npm run format` fixes what a formatter can. Runs with no filter, or `npm test -- lint`.
 */
function runLint(python) {
  if (only.length && !only.includes('lint')) return;
  log('checking formatting and lint rules…');
  const ruff = path.join(path.dirname(python), 'ruff');
  const checks = [
    ['TypeScript, CSS (biome ci)', path.join(ROOT, 'node_modules', '.bin', 'biome'), ['ci', '--max-diagnostics=50', '.']],
    ['Python formatting (ruff format --check)', ruff, ['format', '--check', '.']],
    ['Python lint (ruff check)', ruff, ['check', '.']],
  ];
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const [name, cmd, args] of checks) {
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
    if (r.status === 0) counts.passed++;
    else {
      counts.failed++;
      counts.failures.push(`${name}: ${r.error ? r.error.message : `exit ${r.status ?? r.signal}`} (above)`);
    }
  }
  results.push({ suite: 'Format and lint', ...counts, ended: at() });
}

function runNodeTests(env) {
  const files = ['server/src', 'cli/src', 'packages', 'web/e2e']
    .flatMap((d) => findTests(path.join(ROOT, d)))
    // Matched inside the repository, so a checkout whose own path holds the word does not match everything.
    .filter((f) => only.length === 0 || only.some((o) => path.relative(ROOT, f).includes(o)))
    .sort();
  if (files.length === 0) return;
  const countsFile = path.join(WORK, 'node-counts.json');
  rmSync(countsFile, { force: true });
  log(`running ${files.length} TypeScript test files…`);
  const r = spawnSync(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      // A test that hangs fails after 10 minutes; a file kept alive by what a test leaked runs into
      // the suite's deadline. Either way CI reaches the closing line. (No --test-force-exit: it
      // ends the run before the count reporter has written its file.)
      '--test-timeout=600000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${path.join(ROOT, 'scripts', 'count-reporter.mjs')}`,
      `--test-reporter-destination=${countsFile}`,
      ...files,
    ],
    { cwd: ROOT, stdio: 'inherit', env, timeout: SUITE_TIMEOUT_MS, killSignal: 'SIGKILL' },
  );
  let counts = { passed: 0, failed: 1, skipped: 0, failures: [r.error ? `node --test stopped: ${r.error.message}` : 'the node test runner wrote no results'] };
  if (existsSync(countsFile)) {
    try {
      counts = JSON.parse(readFileSync(countsFile, 'utf8'));
    } catch (err) {
      counts = { ...counts, failures: [`the node test counts could not be read (${err.message})`] };
    }
  }
  if (r.status !== 0 && counts.failed === 0) counts = { ...counts, failed: 1, failures: [`node --test exited with ${r.status}`] };
  results.push({ suite: 'TypeScript + browser', ...counts, ended: at() });
}

/**
 * Starts pytest in the background, its output to a file: the node suite and pytest each leave the
 * two cores half idle (servers starting, environments building), so they run side by side. The
 * returned function waits for it, prints its output and records its counts.
 */
function startPytest(python, env) {
  if (!existsSync(path.join(ROOT, 'python', 'tests'))) return async () => {};
  if (only.length && !only.some((o) => 'python'.includes(o) || o.includes('py'))) return async () => {};
  const xml = path.join(WORK, 'pytest.xml');
  const out = path.join(WORK, 'pytest.log');
  rmSync(xml, { force: true });
  log(`running Python tests beside the others, two files at a time (output in ${path.relative(ROOT, out)}, printed when they end)…`);
  // `npm test -- python/tests/test_x.py` runs those files only; any other filter with "py" runs them all.
  const files = only.filter((o) => o.startsWith('python/tests/') && o.endsWith('.py'));
  const fd = openSync(out, 'w');
  const child = spawn(
    python,
    [
      '-m',
      'pytest',
      ...(files.length ? files : ['python/tests']),
      '-q',
      '-p',
      'no:cacheprovider',
      '--timeout=600',
      '--durations=15',
      '-n',
      '2',
      '--dist',
      'loadfile',
      `--junitxml=${xml}`,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', fd, fd],
      env,
    },
  );
  closeSync(fd);
  const started = Date.now();
  const exited = new Promise((resolve) => {
    child.on('error', (err) => resolve({ status: null, error: err }));
    child.on('exit', (status, signal) => resolve({ status, signal }));
  });
  return async () => {
    // The node suite blocks this process while it runs, so the deadline is checked when it ends.
    const left = SUITE_TIMEOUT_MS - (Date.now() - started);
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, left));
    const r = await exited;
    clearTimeout(timer);
    process.stdout.write(`\n--- Python tests (pytest) ---\n${readFileSync(out, 'utf8')}\n`);
    let counts = { passed: 0, failed: 1, skipped: 0, failures: [`pytest exited with ${r.status ?? r.signal ?? r.error?.message} and wrote no report`] };
    if (existsSync(xml)) {
      const head = readFileSync(xml, 'utf8').match(/<testsuite [^>]*>/)?.[0] ?? '';
      const attr = (n) => Number(head.match(new RegExp(`${n}="(\\d+)"`))?.[1] ?? 0);
      const failed = attr('failures') + attr('errors');
      const skipped = attr('skipped');
      counts = { passed: attr('tests') - failed - skipped, failed, skipped, failures: failed ? ['see the pytest output above'] : [] };
      if (r.status !== 0 && failed === 0 && r.status !== 5) counts = { ...counts, failed: 1, failures: [`pytest exited with ${r.status ?? r.signal}`] };
    }
    results.push({ suite: 'Python', ...counts, ended: at() });
  };
}

/**
 * Schema fuzzing of the API (fuzz/api.ts, Schemathesis from the test venv): one check, which
 * prints each server error it provokes with a curl command to send it again.
 */
function runFuzz(env) {
  const script = 'fuzz/api.ts';
  if (only.length && !only.some((o) => script.includes(o))) return;
  log('fuzzing the API from its OpenAPI document…');
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    stdio: 'inherit',
    env,
    timeout: 15 * 60_000,
    killSignal: 'SIGKILL',
  });
  const ok = r.status === 0;
  const why = r.error ? r.error.message : r.signal ? `stopped by ${r.signal}` : `exit ${r.status}`;
  results.push({
    suite: 'Schema fuzzing',
    passed: ok ? 1 : 0,
    failed: ok ? 0 : 1,
    skipped: 0,
    failures: ok ? [] : [`${script}: ${why} (its failures are listed above)`],
    ended: at(),
  });
}

/** Benchmarks at small size, so they never rot; each counts as one check and prints its figures. */
function runBenches(env) {
  const benches = existsSync(path.join(ROOT, 'bench')) ? readdirSync(path.join(ROOT, 'bench')).filter((f) => f.endsWith('.ts') && f !== 'lib.ts') : [];
  const picked = benches.filter((b) => only.length === 0 || only.some((o) => `bench/${b}`.includes(o)));
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const b of picked) {
    log(`running bench/${b} (small size)…`);
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(ROOT, 'bench', b)], {
      cwd: ROOT,
      stdio: 'inherit',
      env,
      timeout: 15 * 60_000,
    });
    if (r.status === 0) counts.passed++;
    else {
      counts.failed++;
      counts.failures.push(`bench/${b} exited with ${r.status ?? r.signal}`);
    }
  }
  if (picked.length) results.push({ suite: 'Benchmarks (small size)', ...counts, ended: at() });
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  let pg;
  const cleanup = () => {
    try {
      pg?.stop();
    } catch (err) {
      process.stderr.write(`could not stop PostgreSQL: ${err.message}\n`);
    }
    pg = undefined;
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    ensureNodeDependencies();
    ensureAptPackages(['postgresql', 'chromium', 'bubblewrap']);
    ensureBuilt();
    const python = ensurePythonVenv();
    pg = await startPgCluster();
    log(`installed, built and PostgreSQL up at ${at()} min`);
    // The CLI was built above: its tests run the compiled CLI, as users do.
    // The venv's bin goes last on PATH so that test servers find its uv rather than each installing
    // uv from PyPI into its throw-away data directory (10–30 s per server); nothing else there shadows the machine's.
    const PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:${path.dirname(python)}`;
    const env = { ...process.env, PATH, FORJA_TEST_PG_URL: pg.url, FORJA_PYTHON: python, FORJA_TEST_CHROMIUM: '/usr/bin/chromium', FORJA_TEST_CLI: 'dist' };
    typecheckTests();
    runLint(python);
    const pytestDone = startPytest(python, env);
    runNodeTests(env);
    // The schema fuzzer times nothing, so it runs while pytest (the longer suite) finishes; benches
    // wait for pytest, so that both sides of each comparison run on an otherwise quiet machine.
    runFuzz(env);
    await pytestDone();
    runBenches(env);
  } catch (err) {
    results.push({ suite: 'setup', passed: 0, failed: 1, skipped: 0, failures: [err.message] });
  } finally {
    cleanup();
  }
  const total = results.reduce((a, r) => ({ passed: a.passed + r.passed, failed: a.failed + r.failed, skipped: a.skipped + r.skipped }), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
  process.stdout.write('\n');
  for (const r of results) {
    process.stdout.write(
      `  ${r.suite}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}${r.ended ? ` (ended at ${r.ended} min)` : ''}\n`,
    );
    for (const f of r.failures ?? []) process.stdout.write(`    ✗ ${f}\n`);
  }
  process.stdout.write(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
  process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
}

await main();
