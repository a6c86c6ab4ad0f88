// The inference log's cost on the predict path: one Forja, one deployment (a Neomaril script that
// scores 10-row JSON records with 2 workers), sync throughput with logging off and at 100 %
// sampling, side by side in the same run. Rounds alternate (off, on, off, on…) so a warming or
// busy machine weighs on both sides alike. The goal (issue 17): 100 % costs at most 5 %.
// BENCH_SIZE=full for the issue's sizes.
import { get, startForja, type Served } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const REQUESTS = FULL ? 4000 : 600;
const ROUNDS = FULL ? 3 : 2;
const CONCURRENCY = [8, 32];
const FEATURES = ['age', 'income', 'tenure', 'balance', 'products', 'score', 'region', 'active'];

const SCORER = `
import json

def score(data, base_path):
    rows = json.loads(data)
    return [0.001 * r["income"] + 0.5 * r["age"] - 0.2 * r["products"] for r in rows]
`;

async function send(s: Served, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(`${s.url}${route}`, {
    method,
    headers: { ...s.headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function deploy(s: Served): Promise<string> {
  const fd = new FormData();
  fd.append('name', 'logged');
  fd.append('settings', JSON.stringify({ minWorkers: 2, maxWorkers: 2 }));
  fd.append('source', new Blob([SCORER]), 'scorer.py');
  const res = await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: s.headers, body: fd });
  if (!res.ok) throw new Error(`deploy: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { deployment: { id: string }; buildJobId: string };
  let job = await get(s, `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
  while (job.status === 'queued' || job.status === 'running') job = await get(s, `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
  if (job.status !== 'succeeded') throw new Error(`the build failed: ${job.error}`);
  return created.deployment.id;
}

/** Requests per second at `concurrency`, after a warm-up (the pool restarts when settings change). */
async function throughput(s: Served, route: string, body: string, concurrency: number): Promise<number> {
  const call = async () => {
    const res = await fetch(`${s.url}${route}`, { method: 'POST', headers: { ...s.headers, 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${route}: ${res.status}`);
  };
  for (let i = 0; i < 40; i++) await call();
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < REQUESTS) {
        next++;
        await call();
      }
    }),
  );
  return (REQUESTS / (performance.now() - start)) * 1000;
}

async function main() {
  process.stdout.write(`inference log bench (${FULL ? 'full' : 'small'} size): starting Forja and deploying a scorer…\n`);
  const forja = await startForja();
  try {
    const id = await deploy(forja);
    const route = `/api/v1/deployments/${id}/predict`;
    const rows = Array.from({ length: 10 }, (_, i) =>
      Object.fromEntries(FEATURES.map((f, j) => [f, f === 'region' ? ['N', 'S', 'E', 'W'][i % 4] : f === 'active' ? i % 2 === 0 : i * 10 + j + 0.5])),
    );
    const body = JSON.stringify(rows);
    const lines = [
      `\nSync predict throughput, ${REQUESTS} requests of 10 rows × ${FEATURES.length} features per round, ${ROUNDS} rounds per side, 2 workers`,
      `${'concurrency'.padEnd(14)} ${'log off (req/s)'.padStart(16)} ${'log 100 % (req/s)'.padStart(18)} ${'100 % / off'.padStart(12)} ${'cost'.padStart(8)}`,
    ];
    let calls = 0;
    for (const c of CONCURRENCY) {
      const sides = { off: 0, on: 0 };
      for (let r = 0; r < ROUNDS; r++)
        for (const side of ['off', 'on'] as const) {
          await send(forja, 'PATCH', `/api/v1/deployments/${id}`, { settings: { inferenceLog: { sampleRate: side === 'on' ? 100 : 0 } } });
          sides[side] += await throughput(forja, route, body, c);
          if (side === 'on') calls += REQUESTS + 40;
        }
      const off = sides.off / ROUNDS;
      const on = sides.on / ROUNDS;
      lines.push(
        `${String(c).padEnd(14)} ${off.toFixed(0).padStart(16)} ${on.toFixed(0).padStart(18)} ${(on / off).toFixed(3).padStart(12)} ${`${((1 - on / off) * 100).toFixed(1)} %`.padStart(8)}`,
      );
    }
    // The log must really have kept every sampled call, or the figure above measures nothing.
    let info = await get(forja, `/api/v1/deployments/${id}/inference-log`);
    const deadline = Date.now() + 60_000;
    while (info.rows < calls * rows.length && info.dropped === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      info = await get(forja, `/api/v1/deployments/${id}/inference-log`);
    }
    lines.push(`logged rows: ${info.rows} of ${calls * rows.length} expected (${calls} calls at 100 %), dropped calls: ${info.dropped}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await forja.stop();
  }
}

await main();
