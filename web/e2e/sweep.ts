// The sweep: an experiment of many runs × 20 params × 20 metrics, logged over HTTP as the
// SDKs do, deterministic so tests can assert what the UI shows. Some keys vary across runs and
// some do not, and the metric keys are logged in an order unlike the alphabet, so "default columns
// are the varying ones, recently logged first" can be checked.
import assert from 'node:assert/strict';
import { http } from '../../server/src/testing/server.js';

/** Params: name → value of run i. The first three never change across runs. */
export const SWEEP_PARAMS: Array<[string, (i: number) => string]> = [
  ['optimizer', () => 'adam'],
  ['framework', () => 'torch'],
  ['epochs', () => '10'],
  ['lr', (i) => String([0.1, 0.03, 0.01, 0.003, 0.001][i % 5])],
  ['batch_size', (i) => String([32, 64, 128, 256][i % 4])],
  ['depth', (i) => String(2 + (i % 7))],
  ['dropout', (i) => String([0, 0.1, 0.2, 0.3, 0.5][(i >> 1) % 5])],
  ['seed', (i) => String(i)],
  ...Array.from({ length: 12 }, (_, k): [string, (i: number) => string] => [`p${String(k).padStart(2, '0')}`, (i) => String((i * (k + 3)) % (k + 5))]),
];

/** Metrics: name → value of run i (all vary but `const_metric`), logged in this order. */
export const SWEEP_METRICS: Array<[string, (i: number) => number]> = [
  ['val_loss', (i) => 0.2 + ((i * 7919) % 1000) / 2000],
  ['val_acc', (i) => 0.5 + ((i * 104729) % 1000) / 2001],
  ['train_loss', (i) => 0.1 + ((i * 31) % 997) / 1994],
  ['const_metric', () => 1],
  ...Array.from({ length: 16 }, (_, k): [string, (i: number) => number] => [`m${String(k).padStart(2, '0')}`, (i) => ((i * 7 + k * 13) % 101) / 100]),
];

export const sweepRunName = (i: number) => `sweep-${String(i).padStart(5, '0')}`;

export interface SweepOptions {
  name: string;
  runs: number;
  /** The runs (from the newest) that also log a `val_loss`/`train_loss` history of `steps` points. */
  historyRuns?: number;
  steps?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Group to create it in; the token's default group otherwise. */
  group?: string;
}

export interface Sweep {
  experimentId: string;
  runIds: string[];
  /** Milliseconds it took, for the test's report. */
  seededMs: number;
}

/** Creates the experiment and its runs; run i starts i seconds after run 0, so the newest is runs − 1. */
export async function seedSweep(serverUrl: string, token: string, opts: SweepOptions): Promise<Sweep> {
  const started = Date.now();
  const headers: Record<string, string> = opts.group ? { 'x-forja-group': opts.group } : {};
  const call = async (method: string, path: string, body: unknown) => {
    const r = await http(serverUrl, method, path, { token, body, headers });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };
  const experimentId = (await call('POST', '/api/v1/experiments', { name: opts.name })).experimentId as string;
  const t0 = started - opts.runs * 1000;
  const runIds: string[] = new Array(opts.runs);
  const historyFrom = opts.runs - (opts.historyRuns ?? 0);
  const steps = opts.steps ?? 100;
  let next = 0;
  const worker = async () => {
    while (next < opts.runs) {
      const i = next++;
      const at = t0 + i * 1000;
      const run = await call('POST', '/api/v1/runs', { experimentId, runName: sweepRunName(i), startTime: at });
      const runId = run.info.runId as string;
      runIds[i] = runId;
      const history =
        i >= historyFrom
          ? ['val_loss', 'train_loss'].flatMap((key, k) =>
              Array.from({ length: steps - 1 }, (_, step) => ({ key, value: (1 + k) / (step + 1) + ((i * 13 + step * 7) % 17) / 200, step, timestamp: at })),
            )
          : [];
      await call('POST', `/api/v1/runs/${runId}/batch`, {
        params: SWEEP_PARAMS.map(([key, f]) => ({ key, value: f(i) })),
        // Each metric a millisecond after the one before: "recently logged" has an order to follow.
        metrics: [...history, ...SWEEP_METRICS.map(([key, f], k) => ({ key, value: f(i), step: history.length ? steps - 1 : 0, timestamp: at + k }))],
      });
      await call('PATCH', `/api/v1/runs/${runId}`, { status: i % 50 === 7 ? 'FAILED' : 'FINISHED', endTime: at + 500 + (i % 90) * 1000 });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
  return { experimentId, runIds, seededMs: Date.now() - started };
}
