// Registry benchmark: registered models × versions × tags, a search by two tags and a name
// pattern, and alias resolution, against a real `mlflow server` (SQLite) and Forja (SQLite), with
// the same MLflow REST calls. BENCH_SIZE=full for the sizes.
import { get, pool, post, report, startForja, startMlflow, timed, type Row, type Served } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const SIZE = FULL ? { models: 1000, versions: 5, tags: 5, resolves: 500 } : { models: 60, versions: 3, tags: 5, resolves: 100 };
const API = '/api/2.0/mlflow';

async function populate(s: Served): Promise<string> {
  const exp = (await post(s, `${API}/experiments/create`, { name: 'registry-bench' })).experiment_id;
  const run = (await post(s, `${API}/runs/create`, { experiment_id: exp, start_time: Date.now() })).run.info.run_id;
  await pool(
    Array.from({ length: SIZE.models }, (_, i) => i),
    4,
    async (i) => {
      const name = `${i % 3 === 0 ? 'fraud' : 'churn'}-model-${i}`;
      const tags = Array.from({ length: SIZE.tags }, (_, k) => ({
        key: `t${k}`,
        value: k === 0 ? (i % 2 ? 'risk' : 'growth') : k === 1 ? (i % 5 === 0 ? 'tree' : 'linear') : String(k),
      }));
      await post(s, `${API}/registered-models/create`, { name, tags });
      for (let v = 0; v < SIZE.versions; v++) await post(s, `${API}/model-versions/create`, { name, source: `runs:/${run}/model`, run_id: run });
      await post(s, `${API}/registered-models/alias`, { name, alias: 'champion', version: String(SIZE.versions) });
    },
  );
  return run;
}

async function measure(s: Served) {
  await populate(s);
  const filter = encodeURIComponent("name LIKE 'fraud%' AND tags.t0 = 'risk' AND tags.t1 = 'tree'");
  const expected = Array.from({ length: SIZE.models }, (_, i) => i).filter((i) => i % 3 === 0 && i % 2 === 1 && i % 5 === 0).length;
  const first = await get(s, `${API}/registered-models/search?filter=${filter}&max_results=1000`);
  if ((first.registered_models ?? []).length !== expected) throw new Error(`search found ${(first.registered_models ?? []).length}, expected ${expected}`);
  const repeats = 5;
  const searchMs =
    (await timed(async () => {
      for (let i = 0; i < repeats; i++) await get(s, `${API}/registered-models/search?filter=${filter}&max_results=1000`);
    })) / repeats;
  const latencies: number[] = [];
  for (let i = 0; i < SIZE.resolves; i++) {
    const name = `${i % 3 === 0 ? 'fraud' : 'churn'}-model-${i % SIZE.models}`;
    const t = performance.now();
    const r = await get(s, `${API}/registered-models/alias?name=${encodeURIComponent(name)}&alias=champion`);
    latencies.push(performance.now() - t);
    if (r.model_version.version !== String(SIZE.versions)) throw new Error('alias resolved to the wrong version');
  }
  latencies.sort((a, b) => a - b);
  return { searchMs, p50: latencies[Math.floor(latencies.length / 2)]! };
}

async function main(): Promise<void> {
  process.stdout.write(`registry bench (${FULL ? 'full' : 'small'} size): starting MLflow and Forja…\n`);
  const mlflow = await startMlflow();
  let anchor;
  try {
    anchor = await measure(mlflow);
  } finally {
    await mlflow.stop();
  }
  const forja = await startForja();
  let ours;
  try {
    ours = await measure(forja);
  } finally {
    await forja.stop();
  }
  const rows: Row[] = [
    {
      name: `search ${SIZE.models} models × ${SIZE.versions} versions by 2 tags + name pattern`,
      unit: 'ms',
      anchor: anchor.searchMs,
      forja: ours.searchMs,
      higherIsBetter: false,
    },
    { name: `resolve name@alias, p50 of ${SIZE.resolves}`, unit: 'ms', anchor: anchor.p50, forja: ours.p50, higherIsBetter: false },
  ];
  report('Registry: MLflow server (SQLite) vs Forja (SQLite), same machine, same run', rows);
}

await main();
