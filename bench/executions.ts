// Async scoring of a big CSV, side by side: a plain pandas script (read_csv, predict, to_csv in one
// process: the anchor) and a Forja async deployment of the same scikit-learn pickle (upload the file,
// an execution job scores it chunk by chunk, download the result). Reports rows/s and the peak
// memory of the anchor, Forja's scorer process and the server. BENCH_SIZE=full for 1,000,000 rows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { openAsBlob } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, get, report, startForja, type Row } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const ROWS = FULL ? 1_000_000 : 50_000;
const PYTHON = process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv/bin/python');
const work = mkdtempSync(path.join(os.tmpdir(), 'forja-exec-bench-'));
const csv = path.join(work, 'input.csv');
const modelFile = path.join(work, 'model.joblib');

const PREPARE = `
import sys, joblib, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = pd.DataFrame({f"f{i}": rng.normal(size=2000) for i in range(8)})
joblib.dump(LogisticRegression().fit(X, (X.f0 > 0).astype(int)), sys.argv[1])
pd.DataFrame({f"f{i}": rng.normal(size=int(sys.argv[3])) for i in range(8)}).to_csv(sys.argv[2], index=False)
`;

// The anchor: what a data scientist writes without a platform (it prints its in-process time and peak memory).
const PLAIN = `
import resource, sys, time, joblib, pandas as pd
t = time.perf_counter()
model = joblib.load(sys.argv[1])
df = pd.read_csv(sys.argv[2])
pd.DataFrame({"prediction": model.predict(df)}).to_csv(sys.argv[3], index=False)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
`;

function python(args: string[]): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr.slice(-3000)}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

async function main(): Promise<void> {
  python(['-c', PREPARE, modelFile, csv, String(ROWS)]);
  // The anchor is timed as a user runs it, `python score.py` from start to end (imports included),
  // as Forja's side includes its process start.
  const started = performance.now();
  const [, plainMb] = python(['-c', PLAIN, modelFile, csv, path.join(work, 'plain.csv')])
    .split(' ')
    .map(Number) as [number, number];
  const plainSeconds = (performance.now() - started) / 1000;
  const forja = await startForja();
  try {
    const form = new FormData();
    form.append('name', 'bench-async');
    form.append('kind', 'pickle');
    form.append('operation', 'async');
    form.append('model', new Blob([readFileSync(modelFile)]), 'model.joblib');
    form.append('requirements', new Blob(['scikit-learn\npandas\n']), 'requirements.txt');
    const created = (await (await fetch(`${forja.url}/api/v1/deployments`, { method: 'POST', headers: forja.headers, body: form })).json()) as any;
    for (;;) {
      const job = await get(forja, `/api/v1/jobs/${created.buildJobId}?waitSeconds=30`);
      if (job.status === 'succeeded') break;
      if (['failed', 'cancelled'].includes(job.status)) throw new Error(`build ${job.status}: ${job.error}`);
    }
    const id = created.deployment.id;
    const t0 = performance.now();
    const input = new FormData();
    input.append('input', await openAsBlob(csv), 'input.csv');
    const exec = (await (
      await fetch(`${forja.url}/api/v1/deployments/${id}/executions`, { method: 'POST', headers: forja.headers, body: input })
    ).json()) as any;
    const uploaded = performance.now();
    let scorerMb = 0;
    for (;;) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('forja_execute.py')) continue;
          const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          if (hwm) scorerMb = Math.max(scorerMb, Number(hwm[1]) / 1024);
        } catch {
          // gone between the listing and the read
        }
      }
      const e = await get(forja, `/api/v1/deployments/${id}/executions/${exec.id}`);
      if (e.status === 'Succeeded') break;
      if (e.status === 'Failed') throw new Error(`execution failed: ${e.message ?? JSON.stringify(e)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const scored = performance.now();
    const result = await fetch(`${forja.url}/api/v1/deployments/${id}/executions/${exec.id}/result`, { headers: forja.headers });
    const text = await result.text();
    const downloaded = performance.now();
    const forjaSeconds = (downloaded - t0) / 1000;
    const lines = text.trim().split('\n').length - 1;
    if (lines !== ROWS) throw new Error(`the result has ${lines} rows, expected ${ROWS}`);
    const serverMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${forja.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const rows: Row[] = [
      {
        name: `score a ${ROWS}-row CSV (${(statSync(csv).size / 1e6).toFixed(0)} MB): rows/s, end to end`,
        unit: 'rows/s',
        anchor: ROWS / plainSeconds,
        forja: ROWS / forjaSeconds,
        higherIsBetter: true,
      },
      { name: "peak memory: the plain script vs Forja's scorer", unit: 'MiB', anchor: plainMb, forja: scorerMb, higherIsBetter: false },
      { name: 'peak memory of the Forja server', unit: 'MiB', anchor: null, forja: serverMb, higherIsBetter: false },
      { name: '  Forja: upload (multipart, streamed to disk)', unit: 's', anchor: null, forja: (uploaded - t0) / 1000, higherIsBetter: false },
      { name: '  Forja: queued → scored (process start, imports, scoring)', unit: 's', anchor: null, forja: (scored - uploaded) / 1000, higherIsBetter: false },
      { name: '  Forja: result download', unit: 's', anchor: null, forja: (downloaded - scored) / 1000, higherIsBetter: false },
    ];
    report(`Async scoring (plain = one pandas script; Forja = upload, execution job scoring 50,000 rows at a time, download)`, rows, 'plain');
  } finally {
    await forja.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
