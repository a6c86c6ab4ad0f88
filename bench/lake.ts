// The lake, side by side on one machine: DHuolib's way (pandas.to_sql / read_sql through
// SQLAlchemy into SQLite and PostgreSQL) against Forja's Python SDK (GenericRepository, Parquet
// over HTTP into DuckDB or PostgreSQL). Writes N rows x 20 columns, reads them back with a filter
// and 5 columns, then batch-scores the table with a scikit-learn model as a server job and reports
// rows/s and the scorer's peak memory for two chunk sizes. BENCH_SIZE=full for the 1,000,000 rows.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, get, post, report, startForja, type Row, type Served } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const ROWS = FULL ? 1_000_000 : 20_000;
const CHUNKS = FULL ? [20_000, 200_000] : [2_000, 10_000];
const PYTHON = process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv/bin/python');
const PG = process.env.FORJA_TEST_PG_URL;

const work = mkdtempSync(path.join(os.tmpdir(), 'forja-lake-bench-'));

/** The Python side: one frame, written and read both ways; prints the timings as JSON. */
const SCRIPT = `
import json, sys, time
import numpy as np, pandas as pd, sqlalchemy as sa
import forja

rows, sqlite_path, pg_url, targets = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
rng = np.random.default_rng(1)
cols = {}
for i in range(8): cols[f"f{i}"] = rng.normal(size=rows)
for i in range(6): cols[f"i{i}"] = rng.integers(0, 1000, size=rows)
for i in range(4): cols[f"s{i}"] = rng.choice(["alpha", "beta", "gamma", "delta"], size=rows)
cols["flag"] = rng.integers(0, 2, size=rows).astype(bool)
cols["id"] = np.arange(rows)
df = pd.DataFrame(cols)
FILTER_SQL = "i0 < 100 AND s0 = 'alpha'"
COLUMNS = ["id", "f0", "f1", "i0", "s0"]
out = {}

def clock(fn):
    t = time.perf_counter(); r = fn(); return time.perf_counter() - t, r

def best(fn, times=3):
    # Reads are short: the best of three leaves out first-call imports on both sides.
    runs = [clock(fn) for _ in range(times)]
    return min(r[0] for r in runs), runs[-1][1]

for name, url in [("sqlite", f"sqlite:///{sqlite_path}"), ("postgres", pg_url)]:
    if not url: continue
    url = url.replace("postgres://", "postgresql+psycopg2://", 1)
    engine = sa.create_engine(url)
    with engine.begin() as c: c.exec_driver_sql("DROP TABLE IF EXISTS bench_lake")
    # DHuolib's write: to_sql with its dtype map, the default method.
    dtype = {c: (sa.Integer() if str(df[c].dtype).startswith("int") else sa.Float(53) if str(df[c].dtype).startswith("float") else sa.String(255)) for c in df.columns if c != "flag"}
    w, _ = clock(lambda: df.to_sql("bench_lake", engine, if_exists="replace", index=False, dtype=dtype))
    r, got = best(lambda: pd.read_sql(f"SELECT {', '.join(COLUMNS)} FROM bench_lake WHERE {FILTER_SQL}", engine))
    out[name] = {"write": w, "read": r, "readRows": len(got)}
    with engine.begin() as c: c.exec_driver_sql("DROP TABLE IF EXISTS bench_lake")
    engine.dispose()

for name, t in targets.items():
    client = forja.Client(base_url=t["url"], token=t["token"], timeout=600)
    repo = forja.GenericRepository(client)
    w, _ = clock(lambda: repo.create_table_by_dataframe("bench_lake", df))
    r, got = best(lambda: repo.to_dataframe("bench_lake", filter_clause=FILTER_SQL, list_columns=COLUMNS))
    out[name] = {"write": w, "read": r, "readRows": len(got)}
print(json.dumps(out))
`;

/** A small scikit-learn model on the bench's features, registered in Forja as a pickle. */
const TRAIN = `
import sys, joblib, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = pd.DataFrame({f"f{i}": rng.normal(size=2000) for i in range(8)})
joblib.dump(LogisticRegression().fit(X, (X.f0 > 0).astype(int)), sys.argv[1])
`;

function python(args: string[]): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python') } });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr.slice(-3000)}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

/** Peak resident memory (VmHWM, MiB) of the scorer processes seen while `until` runs. */
async function watchScorerPeak(until: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('forja_lake_score.py')) continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
      } catch {
        // gone between the listing and the read
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return peak;
}

function serverPeakMb(pid: number): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return hwm ? Number(hwm[1]) / 1024 : 0;
}

async function registerModel(forja: Served): Promise<void> {
  const file = path.join(work, 'model.joblib');
  python(['-c', TRAIN, file]);
  const exp = (await post(forja, '/api/v1/experiments', { name: 'lake-bench' })).experimentId;
  const runId = (await post(forja, '/api/v1/runs', { experimentId: exp })).info.runId;
  for (const [name, body] of [
    ['model.joblib', readFileSync(file)],
    ['requirements.txt', 'scikit-learn\n'],
  ] as const) {
    const res = await fetch(`${forja.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/model/${name}`, {
      method: 'PUT',
      headers: forja.headers,
      body,
    });
    if (!res.ok) throw new Error(`artifact upload: ${res.status}`);
  }
  await post(forja, '/api/v1/models', { name: 'bench-scorer' });
  await post(forja, '/api/v1/models/bench-scorer/versions', { source: `runs:/${runId}/model` });
}

async function scoreTable(forja: Served & { pid: number }, chunkRows: number): Promise<{ seconds: number; peakMb: number; rows: number }> {
  const started = await post(forja, '/api/v1/lake/batch-predictions', {
    sourceTable: 'bench_lake',
    model: 'models:/bench-scorer/1',
    outputTable: `bench_scores_${chunkRows}`,
    keepColumns: ['id'],
    chunkRows,
  });
  const t0 = performance.now();
  const finished = (async () => {
    for (;;) {
      const job = await get(forja, `/api/v1/jobs/${started.jobId}?waitSeconds=30`);
      if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    }
  })();
  const peakMb = await watchScorerPeak(finished);
  const job = await finished;
  if (job.status !== 'succeeded') throw new Error(`batch prediction ${job.status}: ${job.error}`);
  return { seconds: (performance.now() - t0) / 1000, peakMb, rows: job.result.rowsWritten };
}

async function main(): Promise<void> {
  const forja = await startForja();
  const forjaPg = PG ? await startForja({ FORJA_LAKE_URL: PG }) : undefined;
  try {
    const token = forja.headers.authorization!.replace('Bearer ', '');
    const targets: Record<string, { url: string; token: string }> = { forja: { url: forja.url, token } };
    if (forjaPg) targets.forjaPg = { url: forjaPg.url, token };
    const t = JSON.parse(python(['-c', SCRIPT, String(ROWS), path.join(work, 'dhuolib.db'), PG ?? '', JSON.stringify(targets)])) as Record<
      string,
      { write: number; read: number; readRows: number }
    >;
    for (const [k, v] of Object.entries(t))
      if (v.readRows !== t.forja!.readRows) throw new Error(`${k} read ${v.readRows} rows, Forja ${t.forja!.readRows}: the reads disagree`);
    const rows: Row[] = [
      { name: `write ${ROWS} x 20: to_sql SQLite vs SDK → DuckDB`, unit: 's', anchor: t.sqlite!.write, forja: t.forja!.write, higherIsBetter: false },
      { name: `read filter + 5 cols: read_sql SQLite vs SDK ← DuckDB`, unit: 's', anchor: t.sqlite!.read, forja: t.forja!.read, higherIsBetter: false },
    ];
    if (t.postgres && t.forjaPg) {
      rows.push(
        {
          name: `write ${ROWS} x 20: to_sql PostgreSQL vs SDK → PostgreSQL`,
          unit: 's',
          anchor: t.postgres.write,
          forja: t.forjaPg.write,
          higherIsBetter: false,
        },
        { name: `read filter + 5 cols: read_sql PG vs SDK ← PostgreSQL`, unit: 's', anchor: t.postgres.read, forja: t.forjaPg.read, higherIsBetter: false },
      );
    }
    report(`Lake: ${ROWS} rows x 20 columns from pandas, and back with a filter (${t.forja!.readRows} rows; reads: best of 3)`, rows, 'DHuolib');

    await registerModel(forja);
    // Build the model's environment first (a few rows through /lake/predict): the timings are of scoring.
    const sample = await fetch(`${forja.url}/api/v1/lake/tables/bench_lake/query`, {
      method: 'POST',
      headers: { ...forja.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'parquet', limit: 10 }),
    });
    const warm = await fetch(`${forja.url}/api/v1/lake/predict?model=${encodeURIComponent('models:/bench-scorer/1')}`, {
      method: 'POST',
      headers: { ...forja.headers, 'content-type': 'application/vnd.apache.parquet' },
      body: await sample.arrayBuffer(),
    });
    if (!warm.ok) throw new Error(`warming the model environment: ${warm.status} ${await warm.text()}`);
    const scoring: Row[] = [];
    for (const chunk of CHUNKS) {
      const r = await scoreTable(forja, chunk);
      if (r.rows !== ROWS) throw new Error(`scored ${r.rows} rows, expected ${ROWS}`);
      scoring.push({ name: `batch score ${ROWS} rows, chunk ${chunk}: rows/s`, unit: 'rows/s', anchor: null, forja: ROWS / r.seconds, higherIsBetter: true });
      scoring.push({ name: `  scorer peak memory, chunk ${chunk}`, unit: 'MiB', anchor: null, forja: r.peakMb, higherIsBetter: false });
    }
    scoring.push({ name: '  server peak memory over the whole bench', unit: 'MiB', anchor: null, forja: serverPeakMb(forja.pid), higherIsBetter: false });
    report(`Lake batch scoring (a server job in the model's own environment)`, scoring, 'DHuolib');
  } finally {
    await forja.stop();
    await forjaPg?.stop();
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

await main();
