// Job engine benchmark: Forja's job engine (embedded SQLite, and PostgreSQL with two `forja worker`
// processes) side by side with graphile-worker 0.17 used bare, in one run on one machine: dispatch
// latency (schedule-to-start) p50/p99, end-to-end latency, jobs/s, short Python jobs, and how late
// jobs queued for later start. `BENCH_SIZE=full` for the issue's sizes; the default small size
// runs inside `npm test`. PostgreSQL comes from FORJA_TEST_PG_URL (or a throw-away cluster).
// No timed assertions; the run fails only if a job does not succeed exactly once.
//
// This file is also its own worker process: `jobs.ts child forja|bare <database url> <scratch dir>`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Logger, makeWorkerUtils, run, runMigrations, type Task, type WorkerUtils } from 'graphile-worker';
import { loadConfig } from '../server/src/config.js';
import type { JobContext } from '../server/src/jobs/engine.js';
import { runProcess } from '../server/src/runtime/process.js';
import { startServer, type RunningServer } from '../server/src/server.js';
import type { Services } from '../server/src/services.js';
import { createTestDatabase } from '../server/src/testing/databases.js';
import { startWorker } from '../server/src/worker.js';
import { ROOT } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const SIZE = FULL ? { noop: 1000, python: 100, scheduled: 50, idle: 50 } : { noop: 100, python: 10, scheduled: 10, idle: 10 };
/** Two worker processes with two slots each on PostgreSQL; one embedded engine with four (the server default) on SQLite. */
const PROCESSES = 2;
const SLOTS_PER_PROCESS = 2;
const EMBEDDED_SLOTS = 4;
const SCHEDULE_AHEAD_MS = 2000;
/** BENCH_ROUNDS=n repeats every scenario n times and reports the median of each figure. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
/** BENCH_TARGETS=sqlite,bare,pg measures only those systems (all by default). */
const TARGETS = new Set((process.env.BENCH_TARGETS ?? 'sqlite,bare,pg').split(','));
const THIS_FILE = fileURLToPath(import.meta.url);

const KINDS = ['warmup', 'idle', 'noop', 'drain', 'python', 'scheduled'] as const;
type Kind = (typeof KINDS)[number];
const forjaKind = (k: Kind) => `bench.${k}`;

/** The real interpreter, not a pyenv shim (a shim is a bash script that would dominate every spawn). */
function resolvePython(): string {
  const candidate = process.env.FORJA_PYTHON ?? (existsSync(path.join(ROOT, '.venv/bin/python')) ? path.join(ROOT, '.venv/bin/python') : 'python3');
  const r = spawnSync(candidate, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot run ${candidate}: ${r.stderr || r.error?.message}`);
  return r.stdout.trim() || candidate;
}
const PYTHON = process.env.BENCH_JOBS_PYTHON ?? resolvePython();
const PY_ARGS = ['-c', 'pass'];

// ---- round trips to PostgreSQL, counted in every process (each client.query is one)

let queries = 0;
function countQueries(): void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    queries++;
    return original.apply(this, args);
  };
}

/** As graphile-worker asks: a dropped connection must not crash the process. */
function quietPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

// ---- statistics

interface Timing {
  created: number;
  runAt: number;
  started: number;
  finished: number;
}

/** The median of per-round figures (null when a figure does not apply). */
function median(values: Array<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? percentile(v, 0.5) : null;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

// ---- the job kinds, registered the same way in the embedded server and in each worker process

function registerKinds(services: Services, ran: Map<string, number>, scratch: string): void {
  const count = (ctx: JobContext) => ran.set(ctx.job.id, (ran.get(ctx.job.id) ?? 0) + 1);
  for (const k of KINDS) {
    services.engine.register(
      forjaKind(k),
      k === 'python'
        ? async (ctx) => {
            count(ctx);
            await runProcess(ctx, {
              sandbox: services.sandbox,
              run: { groupId: 'bench', argv: [PYTHON, ...PY_ARGS], cwd: scratch, python: PYTHON, env: {}, writable: [scratch] },
            });
          }
        : async (ctx) => {
            count(ctx);
          },
    );
  }
}

function spawnPython(): Promise<void> {
  return new Promise((resolve, reject) => {
    // The environment runProcess gives a job, without its watchdog shell and log capture.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1' };
    const child = spawn(PYTHON, PY_ARGS, { stdio: 'ignore', env });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`python exited with ${code}`))));
  });
}

// ---- worker processes, driven over IPC

type Rpc = { rpc: number; op: 'executions' | 'queries' | 'cpu' | 'count' | 'timings' | 'stop'; kind?: Kind };

async function childMain(mode: string, url: string, scratch: string): Promise<void> {
  countQueries();
  const send = (msg: unknown) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));
  // Never outlive the bench.
  process.on('disconnect', () => process.exit(1));
  const ran = new Map<string, number>();
  const timings = new Map<Kind, Map<string, Timing>>(KINDS.map((k) => [k, new Map()]));
  let stop: () => Promise<void>;
  if (mode === 'forja') {
    const config = loadConfig({ FORJA_WORKERS: String(SLOTS_PER_PROCESS), FORJA_LOG_LEVEL: 'warn' }, { dataDir: scratch, databaseUrl: url });
    const worker = await startWorker(config, { beforeStart: (s) => registerKinds(s, ran, scratch) });
    stop = () => worker.close();
  } else {
    // graphile-worker as its README shows it, with the settings Forja's dispatcher uses.
    const pool = quietPool(url, SLOTS_PER_PROCESS + 3);
    const task =
      (kind: Kind): Task =>
      async (payload) => {
        const started = Date.now();
        const p = payload as { id: string; created: number; runAt: number };
        ran.set(p.id, (ran.get(p.id) ?? 0) + 1);
        if (kind === 'python') await spawnPython();
        timings.get(kind)!.set(p.id, { created: p.created, runAt: p.runAt, started, finished: Date.now() });
      };
    const runner = await run({
      pgPool: pool,
      concurrency: SLOTS_PER_PROCESS,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: quietLogger,
      taskList: Object.fromEntries(KINDS.map((k) => [k, task(k)])),
    });
    stop = async () => {
      await runner.stop();
      await pool.end();
    };
  }
  process.on('message', (m: Rpc) => {
    void (async () => {
      let result: unknown;
      if (m.op === 'executions') result = [...ran];
      else if (m.op === 'queries') result = queries;
      else if (m.op === 'cpu') result = cpuMs();
      else if (m.op === 'count') result = timings.get(m.kind!)!.size;
      else if (m.op === 'timings') result = [...timings.get(m.kind!)!];
      else if (m.op === 'stop') {
        await stop();
      }
      await send({ rpc: m.rpc, result });
      if (m.op === 'stop') process.exit(0);
    })();
  });
  await send({ ready: true });
}

class Child {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (err: Error) => void }>();
  private constructor(
    private readonly proc: ChildProcess,
    private readonly scratch: string,
  ) {
    proc.on('message', (m: { rpc?: number; result?: unknown }) => {
      if (m.rpc !== undefined) {
        this.waiting.get(m.rpc)?.resolve(m.result);
        this.waiting.delete(m.rpc);
      }
    });
    // A worker that dies fails the bench rather than leaving it waiting for an answer.
    proc.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`a worker process exited (${code ?? signal}) while the bench waited on it`));
      this.waiting.clear();
    });
  }

  static start(mode: 'forja' | 'bare', url: string): Promise<Child> {
    // BENCH_JOBS_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the worker processes.
    const extra = (process.env.BENCH_JOBS_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // The worker's data directory (and the Python jobs' cwd), removed by the bench even if the worker dies.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'forja-bench-jobs-worker-'));
    const proc = spawn(process.execPath, [...extra, '--conditions=source', '--import', 'tsx', THIS_FILE, 'child', mode, url, scratch], {
      cwd: ROOT,
      env: { ...process.env, BENCH_JOBS_PYTHON: PYTHON },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => {
        rmSync(scratch, { recursive: true, force: true });
        reject(new Error(`${mode} worker process exited with ${code} before it was ready`));
      };
      proc.once('exit', onExit);
      proc.on('message', function ready(m: { ready?: boolean }) {
        if (!m.ready) return;
        proc.off('message', ready);
        proc.off('exit', onExit);
        resolve(new Child(proc, scratch));
      });
    });
  }

  call<T>(op: Rpc['op'], kind?: Kind): Promise<T> {
    const rpc = ++this.seq;
    return new Promise((resolve, reject) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null || !this.proc.connected) return reject(new Error('worker process is gone'));
      this.waiting.set(rpc, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ rpc, op, kind } satisfies Rpc);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
      await Promise.race([this.call('stop').catch(() => undefined), exited]);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

// ---- what each scenario needs from a system under test

interface Target {
  label: string;
  enqueue(kind: Kind, runAt?: number): Promise<string>;
  done(kind: Kind): Promise<number>;
  /** Every finished job of the kind so far, by id. */
  timings(kind: Kind): Promise<Map<string, Timing>>;
  /** Handler invocations per job id, over all worker processes. */
  executions(): Promise<Map<string, number>>;
  /** PostgreSQL round trips so far: [by the enqueuing side, by the workers]. */
  queries(): Promise<[number, number] | undefined>;
  /** CPU time (ms) used so far by the processes that run the jobs. */
  cpu(): Promise<number>;
}

const groupId = null;

/** Forja on an already started server (enqueue side) with its workers in-process or in children. */
function forjaTarget(label: string, server: RunningServer, ran: Map<string, number>, children: Child[]): Target {
  const k = server.services.db.kysely;
  return {
    label,
    async enqueue(kind, runAt) {
      const row = await server.services.engine.enqueue({ groupId, kind: forjaKind(kind), ...(runAt !== undefined ? { runAt } : {}) });
      if (!row) throw new Error('enqueue returned nothing');
      return row.id;
    },
    async done(kind) {
      const r = await k
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kind', '=', forjaKind(kind))
        .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async timings(kind) {
      const rows = await k.selectFrom('jobs').selectAll().where('kind', '=', forjaKind(kind)).execute();
      return new Map(
        rows.map((r) => {
          if (r.status !== 'succeeded' || r.attempt !== 1 || r.started_at === null || r.finished_at === null)
            throw new Error(`${label}: job ${r.id} (${r.kind}) ended ${r.status} after ${r.attempt} attempt(s): ${r.error ?? ''}`);
          return [r.id, { created: r.created_at, runAt: r.run_at, started: r.started_at, finished: r.finished_at }];
        }),
      );
    },
    async executions() {
      if (children.length === 0) return ran;
      return mergeCounts(await Promise.all(children.map((c) => c.call<Array<[string, number]>>('executions'))));
    },
    async queries() {
      if (children.length === 0) return undefined;
      const workers = await Promise.all(children.map((c) => c.call<number>('queries')));
      return [queries, workers.reduce((a, b) => a + b, 0)];
    },
    cpu: async () => (children.length === 0 ? cpuMs() : sumCpu(children)),
  };
}

function bareTarget(utils: WorkerUtils, children: Child[]): Target {
  let seq = 0;
  const sum = async (kind: Kind) => (await Promise.all(children.map((c) => c.call<number>('count', kind)))).reduce((a, b) => a + b, 0);
  return {
    label: 'graphile-worker bare',
    async enqueue(kind, runAt) {
      const id = `${kind}-${++seq}`;
      const created = Date.now();
      await utils.addJob(kind, { id, created, runAt: runAt ?? created }, { maxAttempts: 1, ...(runAt !== undefined ? { runAt: new Date(runAt) } : {}) });
      return id;
    },
    done: sum,
    async timings(kind) {
      const all = await Promise.all(children.map((c) => c.call<Array<[string, Timing]>>('timings', kind)));
      return new Map(all.flat());
    },
    async executions() {
      return mergeCounts(await Promise.all(children.map((c) => c.call<Array<[string, number]>>('executions'))));
    },
    async queries() {
      const workers = await Promise.all(children.map((c) => c.call<number>('queries')));
      return [queries, workers.reduce((a, b) => a + b, 0)];
    },
    cpu: () => sumCpu(children),
  };
}

async function sumCpu(children: Child[]): Promise<number> {
  return (await Promise.all(children.map((c) => c.call<number>('cpu')))).reduce((a, b) => a + b, 0);
}

function mergeCounts(lists: Array<Array<[string, number]>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const list of lists) for (const [id, n] of list) out.set(id, (out.get(id) ?? 0) + n);
  return out;
}

// ---- the scenarios

interface Burst {
  n: number;
  enqueuePerSec: number;
  startP50: number;
  startP99: number;
  e2eP50: number;
  e2eP99: number;
  runP50: number;
  perSec: number;
  /** PostgreSQL round trips per job: enqueue side, worker side. */
  rtEnqueue: number | null;
  rtWorker: number | null;
}

interface Drain {
  n: number;
  /** From the first start to the last finish: the workers' rate with a backlog, enqueueing out of the way. */
  perSec: number;
  firstLate: number;
  cpuPerJob: number;
  rtWorker: number | null;
}

interface Measured {
  idle: { startP50: number; startP99: number; e2eP50: number };
  noop: Burst;
  drain: Drain;
  python: Burst;
  scheduled: { lateP50: number; lateP99: number; lateMax: number };
}

async function waitFor(t: Target, kind: Kind, n: number, intervalMs: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await t.done(kind);
    if (d >= n) return;
    if (Date.now() > deadline) throw new Error(`${t.label}: only ${d} of ${n} ${kind} jobs finished in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A system under test, with the ids it was given (to check that each ran once) and its results per round. */
interface System {
  t: Target;
  ids: Map<Kind, string[]>;
  rounds: Measured[];
  close(): Promise<void>;
}

/** Queues n jobs of a kind (one after another) and waits for them; their timings, in queueing order. */
async function queueAndWait(
  sys: System,
  kind: Kind,
  n: number,
  runAt: (i: number) => number | undefined,
  between?: () => Promise<void>,
): Promise<{ ts: Timing[]; enqueueMs: number; t0: number }> {
  const before = await sys.t.done(kind);
  const ids: string[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) ids.push(await sys.t.enqueue(kind, runAt(i)));
  const enqueueMs = Date.now() - t0;
  sys.ids.get(kind)!.push(...ids);
  await between?.();
  await waitFor(sys.t, kind, before + n, 20);
  const all = await sys.t.timings(kind);
  const ts = ids.map((id) => {
    const x = all.get(id);
    if (!x) throw new Error(`${sys.t.label}: ${kind} job ${id} finished without a record`);
    return x;
  });
  return { ts, enqueueMs, t0 };
}

async function warmup(sys: System): Promise<void> {
  // Connections, JIT, statement caches.
  await queueAndWait(sys, 'warmup', PROCESSES * SLOTS_PER_PROCESS * 3, () => undefined);
}

/** One job at a time on an idle queue: the dispatch latency itself. */
async function idleLatency(sys: System): Promise<Measured['idle']> {
  const ts: Timing[] = [];
  for (let i = 0; i < SIZE.idle; i++) {
    const before = await sys.t.done('idle');
    const id = await sys.t.enqueue('idle');
    sys.ids.get('idle')!.push(id);
    await waitFor(sys.t, 'idle', before + 1, 2);
    ts.push((await sys.t.timings('idle')).get(id)!);
  }
  return {
    startP50: percentile(
      ts.map((x) => x.started - x.runAt),
      0.5,
    ),
    startP99: percentile(
      ts.map((x) => x.started - x.runAt),
      0.99,
    ),
    e2eP50: percentile(
      ts.map((x) => x.finished - x.created),
      0.5,
    ),
  };
}

/** n jobs queued back to back while the workers take them. */
async function burst(sys: System, kind: Kind, n: number): Promise<Burst> {
  const q0 = await sys.t.queries();
  let qEnq: [number, number] | undefined;
  const { ts, enqueueMs, t0 } = await queueAndWait(
    sys,
    kind,
    n,
    () => undefined,
    async () => {
      qEnq = await sys.t.queries();
    },
  );
  const q1 = await sys.t.queries();
  const last = Math.max(...ts.map((x) => x.finished));
  const start = ts.map((x) => x.started - x.runAt);
  const e2e = ts.map((x) => x.finished - x.created);
  return {
    n,
    enqueuePerSec: n / (Math.max(1, enqueueMs) / 1000),
    startP50: percentile(start, 0.5),
    startP99: percentile(start, 0.99),
    e2eP50: percentile(e2e, 0.5),
    e2eP99: percentile(e2e, 0.99),
    runP50: percentile(
      ts.map((x) => x.finished - x.started),
      0.5,
    ),
    perSec: n / (Math.max(1, last - t0) / 1000),
    // The waits poll with queries of their own, so the enqueue side is counted before they start.
    rtEnqueue: q0 && qEnq ? (qEnq[0] - q0[0]) / n : null,
    rtWorker: q0 && q1 ? (q1[1] - q0[1]) / n : null,
  };
}

/** A backlog: n jobs all due at one moment after they have all been queued, then drained. */
async function drain(sys: System, n: number, enqueuePerSec: number): Promise<Drain> {
  const runAt = Date.now() + Math.max(2000, Math.ceil((3 * n * 1000) / enqueuePerSec));
  let cpu0 = 0;
  let q0: [number, number] | undefined;
  const { ts } = await queueAndWait(
    sys,
    'drain',
    n,
    () => runAt,
    async () => {
      // Not an error (a bench asserts no timings): the drain rate still counts from the first start.
      if (Date.now() > runAt - 100)
        process.stderr.write(`\n${sys.t.label}: queueing the backlog took longer than planned; workers started before it was complete\n`);
      await new Promise((r) => setTimeout(r, Math.max(0, runAt - 100 - Date.now())));
      cpu0 = await sys.t.cpu();
      q0 = await sys.t.queries();
    },
  );
  const cpu1 = await sys.t.cpu();
  const q1 = await sys.t.queries();
  const first = Math.min(...ts.map((x) => x.started));
  const last = Math.max(...ts.map((x) => x.finished));
  return {
    n,
    perSec: n / (Math.max(1, last - first) / 1000),
    firstLate: first - runAt,
    cpuPerJob: (cpu1 - cpu0) / n,
    rtWorker: q0 && q1 ? (q1[1] - q0[1]) / n : null,
  };
}

/**
 * Queued for later: how late after run_at they start. The due times are spread over one second so
 * that they fall at every phase of a poll interval rather than all at one.
 */
async function scheduled(sys: System): Promise<Measured['scheduled']> {
  const base = Date.now() + SCHEDULE_AHEAD_MS;
  const { ts } = await queueAndWait(sys, 'scheduled', SIZE.scheduled, (i) => base + Math.round((i * 1000) / SIZE.scheduled));
  const late = ts.map((x) => x.started - x.runAt);
  if (late.some((l) => l < 0)) throw new Error(`${sys.t.label}: a scheduled job started before its run_at`);
  return { lateP50: percentile(late, 0.5), lateP99: percentile(late, 0.99), lateMax: Math.max(...late) };
}

/** Correctness: every job queued ran exactly once, and nothing else ran. */
async function verify(sys: System): Promise<void> {
  const ran = await sys.t.executions();
  const all = [...sys.ids.values()].flat();
  const wrong = all.filter((id) => ran.get(id) !== 1);
  if (wrong.length) throw new Error(`${sys.t.label}: ${wrong.length} jobs did not run exactly once (e.g. ${wrong[0]} ran ${ran.get(wrong[0]!) ?? 0} times)`);
  if (ran.size !== all.length) throw new Error(`${sys.t.label}: ${ran.size} jobs ran, ${all.length} were queued`);
}

// ---- the systems under test

const ADMIN = { FORJA_ADMIN_PASSWORD: 'bench-password', FORJA_LOG_LEVEL: 'warn' };

function system(t: Target, close: () => Promise<void>): System {
  return { t, ids: new Map(KINDS.map((k) => [k, []])), rounds: [], close };
}

async function embedded(): Promise<System> {
  const db = await createTestDatabase('sqlite');
  const ran = new Map<string, number>();
  try {
    const server = await startServer(
      loadConfig({ ...ADMIN, FORJA_WORKERS: String(EMBEDDED_SLOTS) }, { host: '127.0.0.1', port: 0, dataDir: db.dir, databaseUrl: db.url }),
      {
        logger: false,
        beforeStart: (s) => registerKinds(s, ran, db.dir),
      },
    );
    return system(forjaTarget('Forja embedded SQLite', server, ran, []), async () => {
      await server.close();
      await db.drop();
    });
  } catch (err) {
    await db.drop();
    throw err;
  }
}

async function forjaPostgres(): Promise<System> {
  const db = await createTestDatabase('postgres');
  let server: RunningServer | undefined;
  const children: Child[] = [];
  const close = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await server?.close();
    await db.drop();
  };
  try {
    // The server enqueues (as the API would) and works nothing itself; it migrates both schemas first.
    server = await startServer(loadConfig({ ...ADMIN, FORJA_WORKERS: '0' }, { host: '127.0.0.1', port: 0, dataDir: db.dir, databaseUrl: db.url }), {
      logger: false,
    });
    children.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => Child.start('forja', db.url)))));
    return system(forjaTarget('Forja on PostgreSQL', server, new Map(), children), close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function barePostgres(): Promise<System> {
  const db = await createTestDatabase('postgres');
  const pool = quietPool(db.url, 4);
  const children: Child[] = [];
  let utils: WorkerUtils | undefined;
  const close = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await utils?.release();
    await pool.end();
    await db.drop();
  };
  try {
    await runMigrations({ pgPool: pool, logger: quietLogger });
    utils = await makeWorkerUtils({ pgPool: pool, logger: quietLogger });
    children.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => Child.start('bare', db.url)))));
    return system(bareTarget(utils, children), close);
  } catch (err) {
    await close();
    throw err;
  }
}

// ---- the tables

interface Line {
  name: string;
  unit: string;
  sqlite: number | null;
  bare: number | null;
  pg: number | null;
  higherIsBetter: boolean;
}

function table(title: string, lines: Line[]): void {
  const fmt = (v: number | null) => (v === null || Number.isNaN(v) ? '-' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
  const out = [
    `\n${title}`,
    `${'measure'.padEnd(50)} ${'Forja SQLite'.padStart(13)} ${'bare graphile'.padStart(14)} ${'Forja PG'.padStart(10)} ${'PG vs bare'.padStart(11)}`,
  ];
  for (const l of lines) {
    let ratio = '-';
    if (l.bare !== null && l.pg !== null && l.bare > 0 && l.pg > 0) ratio = `${(l.higherIsBetter ? l.pg / l.bare : l.bare / l.pg).toFixed(2)}×`;
    out.push(`${`${l.name} (${l.unit})`.padEnd(50)} ${fmt(l.sqlite).padStart(13)} ${fmt(l.bare).padStart(14)} ${fmt(l.pg).padStart(10)} ${ratio.padStart(11)}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

async function startPgIfNeeded(): Promise<(() => void) | undefined> {
  if (process.env.FORJA_TEST_PG_URL) return undefined;
  // A variable specifier: the script is plain JavaScript with no types to check.
  const script = path.join(ROOT, 'scripts', 'pg-cluster.mjs');
  const m = (await import(script)) as { startPgCluster(): Promise<{ url: string; stop(): void }> };
  const cluster = await m.startPgCluster();
  process.env.FORJA_TEST_PG_URL = cluster.url;
  return () => cluster.stop();
}

async function main(): Promise<void> {
  process.stdout.write(
    `jobs bench (${FULL ? 'full' : 'small'} size${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''}) on ${os.cpus().length} CPUs; Python jobs run ${PYTHON} ${PY_ARGS.join(' ')}\n` +
      `  Forja SQLite: a Forja server in the bench process, its embedded engine with ${EMBEDDED_SLOTS} slots (table dispatcher), jobs enqueued in-process.\n` +
      `  Forja PG: ${PROCESSES} separate \`forja worker\` processes (startWorker) × ${SLOTS_PER_PROCESS} slots (graphile-worker dispatcher), enqueued by a server with 0 workers in the bench process.\n` +
      `  bare graphile: ${PROCESSES} separate processes running graphile-worker 0.17 run() × concurrency ${SLOTS_PER_PROCESS}, pollInterval 1000, jobs added with WorkerUtils.addJob.\n` +
      `  Both PostgreSQL systems share one local cluster (\`npm test\` runs it with fsync and synchronous_commit off); each gets a fresh database.\n`,
  );
  const stopPg = TARGETS.has('bare') || TARGETS.has('pg') ? await startPgIfNeeded() : undefined;
  let s: System | undefined, b: System | undefined, p: System | undefined;
  try {
    // All three are up at once and take turns scenario by scenario, so that a burst of load from
    // elsewhere on the machine lands on all of them rather than on whichever ran at that moment.
    if (TARGETS.has('sqlite')) s = await embedded();
    if (TARGETS.has('bare')) b = await barePostgres();
    if (TARGETS.has('pg')) p = await forjaPostgres();
    const systems = [s, b, p].filter((x): x is System => x !== undefined);
    const each = async (label: string, fn: (sys: System) => Promise<void>) => {
      process.stdout.write(`  ${label}: `);
      for (const sys of systems) {
        process.stdout.write(`${sys.t.label}… `);
        await fn(sys);
      }
      process.stdout.write('\n');
    };
    await each('warm-up', warmup);
    for (let round = 0; round < ROUNDS; round++) {
      const m = new Map<System, Partial<Measured>>(systems.map((x) => [x, {}]));
      const r = ROUNDS > 1 ? ` (round ${round + 1} of ${ROUNDS})` : '';
      await each(`idle queue${r}`, async (x) => void (m.get(x)!.idle = await idleLatency(x)));
      await each(`no-op burst${r}`, async (x) => void (m.get(x)!.noop = await burst(x, 'noop', SIZE.noop)));
      await each(`backlog${r}`, async (x) => void (m.get(x)!.drain = await drain(x, SIZE.noop, m.get(x)!.noop!.enqueuePerSec)));
      await each(`Python${r}`, async (x) => void (m.get(x)!.python = await burst(x, 'python', SIZE.python)));
      await each(`scheduled${r}`, async (x) => void (m.get(x)!.scheduled = await scheduled(x)));
      for (const x of systems) x.rounds.push(m.get(x) as Measured);
    }
    await each('exactly once', verify);
  } finally {
    // Every system is closed and the cluster stopped even when one of them fails to close.
    for (const x of [p, b, s]) await x?.close().catch((err: Error) => process.stderr.write(`closing ${x.t.label} failed: ${err.message}\n`));
    stopPg?.();
  }
  /** One table row: the same measure taken from each system's results. */
  const row =
    <T>(pick: (m: Measured) => T) =>
    (name: string, unit: string, f: (x: T) => number | null, higherIsBetter = false): Line => {
      const v = (sys: System | undefined) => (sys ? median(sys.rounds.map((m) => f(pick(m)))) : null);
      return { name, unit, sqlite: v(s), bare: v(b), pg: v(p), higherIsBetter };
    };
  const idle = row((m) => m.idle);
  table(`Dispatch latency: ${SIZE.idle} no-op jobs one at a time on an idle queue`, [
    idle('schedule-to-start p50', 'ms', (x) => x.startP50),
    idle('schedule-to-start p99', 'ms', (x) => x.startP99),
    idle('end-to-end p50 (enqueue → finish)', 'ms', (x) => x.e2eP50),
  ]);
  const burstLines = (pick: (m: Measured) => Burst, withRun: boolean): Line[] => {
    const r = row(pick);
    return [
      r('enqueue, one after another', 'jobs/s', (x) => x.enqueuePerSec, true),
      r('schedule-to-start p50', 'ms', (x) => x.startP50),
      r('schedule-to-start p99', 'ms', (x) => x.startP99),
      ...(withRun ? [r('run time p50 (start → finish)', 'ms', (x) => x.runP50)] : []),
      r('end-to-end p50 (enqueue → finish)', 'ms', (x) => x.e2eP50),
      r('end-to-end p99', 'ms', (x) => x.e2eP99),
      r('throughput, first enqueue → last finish', 'jobs/s', (x) => x.perSec, true),
      r('PostgreSQL round trips per job, enqueue side', 'count', (x) => x.rtEnqueue),
      r('PostgreSQL round trips per job, worker side', 'count', (x) => x.rtWorker),
    ];
  };
  table(
    `${SIZE.noop} no-op jobs, enqueued back to back while the workers run`,
    burstLines((m) => m.noop, false),
  );
  const d = row((m) => m.drain);
  table(`Backlog: ${SIZE.noop} no-op jobs queued first, all due at one moment, then drained`, [
    d('drain throughput, first start → last finish', 'jobs/s', (x) => x.perSec, true),
    d('first start after the due time (one sample)', 'ms', (x) => x.firstLate),
    d('worker CPU per job (worker processes only)', 'ms', (x) => x.cpuPerJob),
    d('PostgreSQL round trips per job, worker side', 'count', (x) => x.rtWorker),
  ]);
  table(
    `${SIZE.python} short Python jobs (${path.basename(PYTHON)} -c pass), enqueued back to back`,
    burstLines((m) => m.python, true),
  );
  const late = row((m) => m.scheduled);
  table(`${SIZE.scheduled} no-op jobs queued with runAt = now + ${SCHEDULE_AHEAD_MS / 1000}…${SCHEDULE_AHEAD_MS / 1000 + 1} s: how late they start`, [
    late('lateness after runAt p50', 'ms', (x) => x.lateP50),
    late('lateness after runAt p99', 'ms', (x) => x.lateP99),
    late('lateness after runAt max', 'ms', (x) => x.lateMax),
  ]);
  if (b && p) {
    const [bs, ps] = [b, p];
    /** A figure's median over the rounds, for bare graphile and for Forja on PostgreSQL. */
    const both = (f: (m: Measured) => number | null): [number, number] => [median(bs.rounds.map(f)) ?? NaN, median(ps.rounds.map(f)) ?? NaN];
    const ms = (perSec: number) => 1000 / perSec;
    const [enqB, enqP] = both((m) => ms(m.noop.enqueuePerSec));
    const [rtEB, rtEP] = both((m) => m.noop.rtEnqueue);
    const [drB, drP] = both((m) => ms(m.drain.perSec));
    const [cpuB, cpuP] = both((m) => m.drain.cpuPerJob);
    const [rtWB, rtWP] = both((m) => m.drain.rtWorker);
    process.stdout.write(
      `\nPG vs bare: above 1× Forja is faster. Per no-op job, Forja on PostgreSQL adds ${(enqP - enqB).toFixed(2)} ms to enqueue ` +
        `(${enqP.toFixed(2)} vs ${enqB.toFixed(2)} ms, ${rtEP.toFixed(1)} vs ${rtEB.toFixed(1)} round trips), ` +
        `${(drP - drB).toFixed(2)} ms of drain time with a backlog (${drP.toFixed(2)} vs ${drB.toFixed(2)} ms), ` +
        `${(cpuP - cpuB).toFixed(2)} ms of worker CPU and ${(rtWP - rtWB).toFixed(1)} worker round trips.\n`,
    );
  }
}

if (process.argv[2] === 'child') await childMain(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else {
  countQueries();
  await main();
}
