// Tracking benchmark: the same MLflow REST calls against a real `mlflow server` (SQLite) and
// against Forja (SQLite), in one run on one machine. `BENCH_SIZE=full` for the sizes;
// the default small size runs inside `npm test`.
import { get, pool, post, report, startForja, startMlflow, timed, type Row, type Served } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const SIZE = FULL
  ? { batchRuns: 100, pointsPerRun: 1000, singleCalls: 10_000, searchRuns: 10_000, keys: 20, results: 1000, history: 100_000 }
  : { batchRuns: 5, pointsPerRun: 200, singleCalls: 300, searchRuns: 300, keys: 5, results: 100, history: 5_000 };
const API = '/api/2.0/mlflow';

async function experiment(s: Served, name: string): Promise<string> {
  return (await post(s, `${API}/experiments/create`, { name })).experiment_id;
}
async function run(s: Served, experimentId: string): Promise<string> {
  return (await post(s, `${API}/runs/create`, { experiment_id: experimentId, start_time: Date.now() })).run.info.run_id;
}

async function ingest(s: Served): Promise<{ batchPointsPerSec: number; singlePerSec: number }> {
  const exp = await experiment(s, 'ingest');
  const runs: string[] = [];
  for (let i = 0; i < SIZE.batchRuns; i++) runs.push(await run(s, exp));
  const points = SIZE.batchRuns * SIZE.pointsPerRun;
  const batchMs = await timed(async () => {
    for (const runId of runs) {
      const metrics = Array.from({ length: SIZE.pointsPerRun }, (_, step) => ({ key: `m${step % 10}`, value: Math.random(), timestamp: Date.now(), step }));
      await post(s, `${API}/runs/log-batch`, { run_id: runId, metrics });
    }
  });
  const single = await run(s, exp);
  const singleMs = await timed(async () => {
    for (let i = 0; i < SIZE.singleCalls; i++)
      await post(s, `${API}/runs/log-metric`, { run_id: single, key: 'loss', value: 1 / (i + 1), timestamp: Date.now(), step: i });
  });
  return { batchPointsPerSec: points / (batchMs / 1000), singlePerSec: SIZE.singleCalls / (singleMs / 1000) };
}

async function populateSearch(s: Served): Promise<string> {
  const exp = await experiment(s, 'search');
  const indexes = Array.from({ length: SIZE.searchRuns }, (_, i) => i);
  await pool(indexes, 4, async (i) => {
    const runId = await run(s, exp);
    const params = Array.from({ length: SIZE.keys }, (_, k) => ({ key: `p${k}`, value: k === 0 ? (i % 2 ? 'rf' : 'xgb') : String((i * 7 + k) % 13) }));
    const metrics = Array.from({ length: SIZE.keys }, (_, k) => ({ key: `m${k}`, value: ((i * 31 + k * 17) % 1000) / 1000, timestamp: Date.now(), step: 0 }));
    await post(s, `${API}/runs/log-batch`, { run_id: runId, params, metrics });
  });
  return exp;
}

async function search(s: Served, exp: string, repeats: number): Promise<number> {
  const body = { experiment_ids: [exp], filter: "metrics.m1 > 0.2 and params.p0 = 'rf'", order_by: ['metrics.m2 DESC'], max_results: SIZE.results };
  const first = await post(s, `${API}/runs/search`, body);
  if (!first.runs?.length) throw new Error('search returned no runs');
  const ms = await timed(async () => {
    for (let i = 0; i < repeats; i++) await post(s, `${API}/runs/search`, body);
  });
  return ms / repeats;
}

async function projectedSearch(s: Served, exp: string, repeats: number): Promise<number> {
  const body = {
    experimentIds: [exp],
    filter: "metrics.m1 > 0.2 and params.p0 = 'rf'",
    orderBy: ['metrics.m2 DESC'],
    maxResults: SIZE.results,
    columns: ['metrics.m1', 'metrics.m2', 'params.p0'],
  };
  const ms = await timed(async () => {
    for (let i = 0; i < repeats; i++) await post(s, '/api/v1/runs/search', body);
  });
  return ms / repeats;
}

async function history(s: Served): Promise<number> {
  const exp = await experiment(s, 'history');
  const runId = await run(s, exp);
  for (let step = 0; step < SIZE.history; step += 1000) {
    const metrics = Array.from({ length: Math.min(1000, SIZE.history - step) }, (_, j) => ({
      key: 'loss',
      value: Math.random(),
      timestamp: Date.now(),
      step: step + j,
    }));
    await post(s, `${API}/runs/log-batch`, { run_id: runId, metrics });
  }
  let count = 0;
  const ms = await timed(async () => {
    count = (await get(s, `${API}/metrics/get-history?run_id=${runId}&metric_key=loss`)).metrics.length;
  });
  if (count !== SIZE.history) throw new Error(`history returned ${count} points, expected ${SIZE.history}`);
  return ms;
}

/** BENCH_PARTS=ingest,search,history measures only those parts (all by default). */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'ingest,search,history').split(','));

async function measure(s: Served) {
  const ing = PARTS.has('ingest') ? await ingest(s) : { batchPointsPerSec: NaN, singlePerSec: NaN };
  const exp = PARTS.has('search') ? await populateSearch(s) : '';
  const searchMs = PARTS.has('search') ? await search(s, exp, FULL ? 5 : 3) : NaN;
  const hist = PARTS.has('history') ? await history(s) : NaN;
  return { ...ing, searchMs, hist, exp };
}

async function main(): Promise<void> {
  process.stdout.write(`tracking bench (${FULL ? 'full' : 'small'} size): starting MLflow and Forja…\n`);
  const mlflow = await startMlflow();
  let anchor;
  try {
    anchor = await measure(mlflow);
  } finally {
    await mlflow.stop();
  }
  const forja = await startForja();
  let ours;
  let projected;
  try {
    ours = await measure(forja);
    projected = PARTS.has('search') ? await projectedSearch(forja, ours.exp, FULL ? 5 : 3) : NaN;
  } finally {
    await forja.stop();
  }
  const rows: Row[] = [
    {
      name: `log_batch ingest, ${SIZE.batchRuns} runs × ${SIZE.pointsPerRun} points`,
      unit: 'points/s',
      anchor: anchor.batchPointsPerSec,
      forja: ours.batchPointsPerSec,
      higherIsBetter: true,
    },
    { name: `${SIZE.singleCalls} single log_metric calls`, unit: 'calls/s', anchor: anchor.singlePerSec, forja: ours.singlePerSec, higherIsBetter: true },
    {
      name: `search ${SIZE.searchRuns} runs × ${SIZE.keys}+${SIZE.keys} keys → ${SIZE.results}`,
      unit: 'ms',
      anchor: anchor.searchMs,
      forja: ours.searchMs,
      higherIsBetter: false,
    },
    { name: `  same search, projection of 3 columns (Forja only)`, unit: 'ms', anchor: anchor.searchMs, forja: projected, higherIsBetter: false },
    { name: `metric history of ${SIZE.history} points`, unit: 'ms', anchor: anchor.hist, forja: ours.hist, higherIsBetter: false },
  ];
  report(
    'Tracking: MLflow server (SQLite) vs Forja (SQLite), same machine, same run',
    rows.filter((r) => !Number.isNaN(r.forja)),
  );
}

await main();
