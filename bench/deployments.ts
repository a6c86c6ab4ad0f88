// Model serving, side by side on one machine: `mlflow models serve` (the anchor) and a Forja
// deployment of the same MLflow sklearn model, both with 2 workers, called over HTTP with
// single-row requests at concurrency 1, 8 and 32. Also the in-process predict() cost, so the
// overhead each server adds is visible. BENCH_SIZE=full for the sizes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, get, post, report, startForja, type Row, type Served } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const REQUESTS = FULL ? 3000 : 300;
const CONCURRENCY = [1, 8, 32];
const PYTHON = process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv/bin/python');

const work = mkdtempSync(path.join(os.tmpdir(), 'forja-serve-bench-'));
const modelDir = path.join(work, 'model');

/** Saves the model and measures predict() on one row in-process, as both servers call it. */
function prepareModel(): { inProcessP50Ms: number; row: { columns: string[]; data: number[][] } } {
  const script = `
import json, time, mlflow, numpy as np, pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
X = X.astype("float64")
clf = LogisticRegression(max_iter=500).fit(X, y)
mlflow.sklearn.save_model(clf, ${JSON.stringify(modelDir)}, input_example=X.head(1))
model = mlflow.pyfunc.load_model(${JSON.stringify(modelDir)})
row = X.head(1)
times = []
for _ in range(2000):
    t = time.perf_counter(); model.predict(row); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({"p50": times[len(times) // 2] * 1000, "columns": list(X.columns), "data": row.values.tolist()}))
`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`preparing the model failed: ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { p50: number; columns: string[]; data: number[][] };
  return { inProcessP50Ms: out.p50, row: { columns: out.columns, data: out.data } };
}

async function startMlflowServe(): Promise<Served> {
  const port = await freePort();
  const child = spawn(PYTHON, ['-m', 'mlflow', 'models', 'serve', '-m', modelDir, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port), '-w', '2'], {
    // mlflow starts `uvicorn` by name: the environment's bin folder must be on PATH.
    env: { ...process.env, PATH: `${path.dirname(PYTHON)}:${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mlflow models serve exited: ${out.slice(-2000)}`);
    try {
      if ((await fetch(`${url}/ping`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`mlflow models serve did not come up: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    headers: {},
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Registers the saved model in Forja through its API and deploys it; returns the invocations path. */
async function deployOnForja(forja: Served): Promise<string> {
  const exp = await post(forja, '/api/v1/experiments', { name: 'serve-bench' });
  const run = await post(forja, '/api/v1/runs', { experimentId: exp.experimentId });
  const runId = run.info.runId as string;
  for (const name of readdirSync(modelDir)) {
    const res = await fetch(`${forja.url}/api/v1/runs/${runId}/artifacts/file?path=model/${name}`, {
      method: 'PUT',
      headers: forja.headers,
      body: readFileSync(path.join(modelDir, name)),
    });
    if (!res.ok) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
  }
  await post(forja, '/api/v1/models', { name: 'iris' });
  await post(forja, '/api/v1/models/iris/versions', { source: `runs:/${runId}/model` });
  const created = await post(forja, '/api/v1/deployments/from-model', {
    name: 'iris',
    modelUri: 'models:/iris/1',
    kind: 'pyfunc',
    settings: { minWorkers: 2, maxWorkers: 2 },
  });
  let job = await get(forja, `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
  while (job.status === 'queued' || job.status === 'running') job = await get(forja, `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
  if (job.status !== 'succeeded') throw new Error(`the Forja build failed: ${job.error}`);
  return `/api/v1/deployments/${created.deployment.id}/invocations`;
}

interface Load {
  p50: number;
  p99: number;
  perSecond: number;
}

async function load(s: Served, route: string, body: string, concurrency: number, expected: string): Promise<Load> {
  const latencies: number[] = [];
  let next = 0;
  const call = async () => {
    const t = performance.now();
    const res = await fetch(`${s.url}${route}`, { method: 'POST', headers: { ...s.headers, 'content-type': 'application/json' }, body });
    const text = await res.text();
    latencies.push(performance.now() - t);
    if (!res.ok || text.replace(/\s/g, '') !== expected) throw new Error(`${route}: ${res.status} ${text.slice(0, 200)}`);
  };
  for (let i = 0; i < 20; i++) await call(); // warm-up: workers loaded, connections open
  latencies.length = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < REQUESTS) {
        next++;
        await call();
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
    perSecond: (latencies.length / elapsed) * 1000,
  };
}

async function main() {
  process.stdout.write(`serving bench (${FULL ? 'full' : 'small'} size): preparing the model, starting mlflow models serve and Forja…\n`);
  const { inProcessP50Ms, row } = prepareModel();
  // A second Forja with FORJA_SANDBOX=off serves the same model: what the sandbox costs the predict path.
  const [mlflow, forja, bare] = await Promise.all([
    startMlflowServe(),
    startForja(),
    startForja({ FORJA_SANDBOX: 'off', FORJA_UV_CACHE_DIR: path.join(os.homedir(), '.cache', 'forja-bench-unsandboxed-uv') }),
  ]);
  try {
    const [route, bareRoute] = await Promise.all([deployOnForja(forja), deployOnForja(bare)]);
    const body = JSON.stringify({ dataframe_split: row });
    // Both must answer the same thing, or the comparison is meaningless.
    const probe = await fetch(`${mlflow.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const expected = (await probe.text()).replace(/\s/g, '');
    const rows: Row[] = [{ name: 'in-process predict() of one row, p50', unit: 'ms', anchor: null, forja: inProcessP50Ms, higherIsBetter: false }];
    const sandboxRows: Row[] = [];
    for (const c of CONCURRENCY) {
      const m = await load(mlflow, '/invocations', body, c, expected);
      const f = await load(forja, route, body, c, expected);
      const b = await load(bare, bareRoute, body, c, expected);
      sandboxRows.push(
        { name: `concurrency ${c}: p50 latency`, unit: 'ms', anchor: b.p50, forja: f.p50, higherIsBetter: false },
        { name: `concurrency ${c}: throughput`, unit: 'req/s', anchor: b.perSecond, forja: f.perSecond, higherIsBetter: true },
      );
      rows.push(
        { name: `concurrency ${c}: p50 latency`, unit: 'ms', anchor: m.p50, forja: f.p50, higherIsBetter: false },
        { name: `concurrency ${c}: p99 latency`, unit: 'ms', anchor: m.p99, forja: f.p99, higherIsBetter: false },
        { name: `concurrency ${c}: throughput`, unit: 'req/s', anchor: m.perSecond, forja: f.perSecond, higherIsBetter: true },
      );
      if (c === 1)
        rows.push({
          name: 'concurrency 1: p50 overhead over in-process',
          unit: 'ms',
          anchor: m.p50 - inProcessP50Ms,
          forja: f.p50 - inProcessP50Ms,
          higherIsBetter: false,
        });
    }
    report(`Model serving: ${REQUESTS} single-row requests per level, 2 workers each (MLflow = mlflow models serve)`, rows);
    report('The sandbox on the predict path: the same deployment with FORJA_SANDBOX=off and sandboxed', sandboxRows, 'no sandbox');
  } finally {
    await Promise.all([mlflow.stop(), forja.stop(), bare.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
