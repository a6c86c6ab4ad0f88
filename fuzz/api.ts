// Schema fuzzing, one check of `npm test` (scripts/test.mjs): Schemathesis generates requests from
// /api/v1/openapi.json — valid ones, boundary values and invalid ones — and sends them as the
// admin to a real server on a throw-away data directory and database (no job worker). Any 5xx
// fails the check. docs/security.md ("Schema fuzzing") describes the run.
//
// Nothing is left out: every documented operation is fuzzed. The token operations run last, in a
// pass of their own, because revoking a token may revoke the fuzzer's own (every later request
// would be a 401). The MLflow-compatible API (/api/2.0/mlflow, /ajax-api) is not in the document:
// it has its own error shape and its own tests.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@forja/server/testing';
import { curl, readRun, type FailedCase } from './report.js';
import { seed, type Seeded } from './seed.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, '.test-work', 'fuzz');
const SCHEMATHESIS = path.join(path.dirname(process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python')), 'schemathesis');
/** Fixed, so a run sends what the last one sent (one worker: the same order too); FORJA_FUZZ_SEED to explore. */
const SEED = Number(process.env.FORJA_FUZZ_SEED ?? 20261207);
/** Cases per operation in the fuzzing phase; the coverage phase's boundary cases come on top. */
const EXAMPLES = Number(process.env.FORJA_FUZZ_EXAMPLES ?? 10);
/**
 * PostgreSQL when `npm test` has started one (FORJA_TEST_PG_URL), SQLite otherwise, or as
 * FORJA_FUZZ_DIALECT says. PostgreSQL is the stricter of the two: a number past a column's range,
 * say, is an error there and not in SQLite.
 */
const DIALECT = process.env.FORJA_FUZZ_DIALECT === 'sqlite' || !process.env.FORJA_TEST_PG_URL ? 'sqlite' : 'postgres';
const LAST = ['GET /api/v1/tokens', 'POST /api/v1/tokens', 'DELETE /api/v1/tokens/{id}'];
/** How often a path parameter takes the name of something seeded rather than a generated value. */
const SEEDED_SHARE = 0.5;

/**
 * Schemathesis' settings: under each path, the path parameters take the name of what was seeded
 * there half of the time, so the routes past a lookup are reached too. No job worker runs during
 * the fuzz, so a job never finishes and a long poll (GET /api/v1/jobs/{id}?waitSeconds=N) would
 * hold each request for up to a minute: it waits 0.
 */
function config(seeded: Seeded): string {
  const toml = (v: unknown) => JSON.stringify(v);
  const dictionaries: string[] = [];
  const operations: string[] = [];
  Object.entries(seeded).forEach(([prefix, params], i) => {
    const bindings = Object.entries(params).map(([param, values]) => {
      dictionaries.push(`[dictionaries.seeded${i}_${param}]`, `values = ${toml(values)}`, '');
      return `${toml(`path.${param}`)} = { dictionary = "seeded${i}_${param}", probability = ${SEEDED_SHARE} }`;
    });
    if (prefix === '/api/v1/jobs/') bindings.push('"query.waitSeconds" = 0');
    operations.push('[[operations]]', `include-path-regex = ${toml(`^${prefix}`)}`, `parameters = { ${bindings.join(', ')} }`, '');
  });
  return [...dictionaries, ...operations].join('\n');
}

/**
 * The fuzz runs in passes, each on resources seeded for it (the one before may have deleted
 * them): the boundary and invalid values of the coverage phase, then generated cases, then the
 * token operations.
 */
interface Pass {
  name: string;
  phases: string;
  filter: string[];
}
const PASSES: Pass[] = [
  { name: 'coverage', phases: 'examples,coverage', filter: LAST.flatMap((op) => ['--exclude-name', op]) },
  { name: 'fuzzing', phases: 'fuzzing', filter: LAST.flatMap((op) => ['--exclude-name', op]) },
  { name: 'tokens', phases: 'examples,coverage,fuzzing', filter: LAST.flatMap((op) => ['--include-name', op]) },
];

interface LogEntry {
  reqId?: string;
  level?: number;
  msg?: string;
  err?: { type?: string; message?: string; stack?: string };
}

/** What the server logged for a request: the error and where in our code it was thrown. */
function describeLogged(entry: LogEntry): string {
  const where = entry.err?.stack
    ?.split('\n')
    .find((l) => l.includes('/server/src/'))
    ?.trim()
    .replace(/^at /, '')
    .replace(`${ROOT}/`, '');
  return `${entry.err?.type ?? 'Error'}: ${entry.err?.message ?? entry.msg ?? ''}${where ? ` (${where})` : ''}`;
}

function schemathesis(url: string, token: string, pass: Pass, seeded: Seeded): Promise<{ dir: string; code: number | null }> {
  const dir = path.join(WORK, pass.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'schemathesis.toml'), config(seeded));
  const args = [
    '--config-file',
    path.join(dir, 'schemathesis.toml'),
    'run',
    `${url}/api/v1/openapi.json`,
    ...['--header', `Authorization: Bearer ${token}`, '--header', 'X-Forja-Group: default'],
    ...['--checks', 'not_a_server_error', '--phases', pass.phases],
    ...['--max-examples', String(EXAMPLES), '--seed', String(SEED), '--generation-database', 'none'],
    ...['--workers', '1', '--continue-on-failure', '--request-timeout', '30'],
    ...['--output-sanitize', 'false', '--no-color', '--report', 'ndjson,json', '--report-dir', dir],
    ...pass.filter,
  ];
  const out = openSync(path.join(dir, 'schemathesis.log'), 'w');
  return new Promise((resolve, reject) => {
    // Asynchronous: the server answering it lives in this process.
    const child = spawn(SCHEMATHESIS, args, { cwd: dir, stdio: ['ignore', out, out] });
    child.on('error', reject);
    child.on('exit', (code) => {
      closeSync(out);
      resolve({ dir, code });
    });
  });
}

const reportIn = (dir: string, ext: string) => readdirSync(dir).find((f) => f.endsWith(ext));

async function main(): Promise<number> {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: python/requirements-test.txt installs it into the test venv.`);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const logged = new Map<string, string>();
  const stream = {
    write(line: string) {
      const entry = JSON.parse(line) as LogEntry;
      // The first error logged for a request is its cause; Fastify logs some failures as warnings.
      if (entry.reqId && entry.err && !logged.has(entry.reqId)) logged.set(entry.reqId, describeLogged(entry));
    },
  };
  const started = Date.now();
  const s = await startTestServer({ dialect: DIALECT, env: { FORJA_WORKERS: '0' }, logger: { level: 'warn', stream } });
  let failures: FailedCase[] = [];
  const errors: string[] = [];
  const operations = new Set<string>();
  let cases = 0;
  try {
    for (const pass of PASSES) {
      const t0 = Date.now();
      const { dir, code } = await schemathesis(s.url, s.adminToken, pass, await seed(s.url, s.adminToken, pass.name));
      const ndjson = reportIn(dir, '.ndjson');
      const json = reportIn(dir, '.json');
      if (!ndjson || !json)
        throw new Error(`Schemathesis (${pass.name} pass) exited with ${code} and wrote no report: see ${path.join(dir, 'schemathesis.log')}`);
      const summary = JSON.parse(readFileSync(path.join(dir, json), 'utf8')) as { test_cases: { generated: number } };
      const run = await readRun(path.join(dir, ndjson));
      failures = failures.concat(run.failures);
      errors.push(...run.errors);
      for (const op of run.operations) operations.add(op);
      cases += summary.test_cases.generated;
      console.log(
        `schema fuzzing, ${pass.name} pass: ${run.operations.size} operations, ${summary.test_cases.generated} cases, ${run.failures.length} 5xx, in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
    }
  } finally {
    await s.close();
  }

  const serverSaid = (f: FailedCase) => (f.requestId && logged.get(f.requestId)) || 'nothing logged';
  // One line per route and cause: the same error with other numbers in it is the same bug.
  const groups = new Map<string, FailedCase[]>();
  for (const f of failures) {
    const key = `${f.request.operation} ${f.status} ${serverSaid(f).replace(/\d+/g, '#')}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const group of groups.values()) {
    const f = group[0]!;
    console.log(`  ✗ ${f.request.operation} → ${f.status ?? 'no answer'}: ${serverSaid(f)}  [${f.title}, ${group.length} case${group.length > 1 ? 's' : ''}]`);
    console.log(`      ${curl(f.request)}`);
  }
  for (const e of errors) console.log(`  ✗ ${e}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `schema fuzzing: ${operations.size} operations, ${cases} cases, ${failures.length} server errors in ${groups.size} groups, ${errors.length} errors, in ${seconds} s (reports in ${path.relative(ROOT, WORK)})`,
  );
  return failures.length === 0 && errors.length === 0 && operations.size > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`schema fuzzing could not run: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
