import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http, startTestServer, until } from '@forja/server/testing';
import { spawnCli } from './testing.js';

test('PostgreSQL mode: two `forja worker`s; kill -9 the one mid-job and the other finishes it', { timeout: 120_000 }, async () => {
  const lease = { FORJA_JOB_LEASE_SECONDS: '2', FORJA_WEBHOOK_RETRY_SECONDS: '0.05' };
  // An API-only server: every job runs on the standalone workers.
  const s = await startTestServer({ dialect: 'postgres', env: { FORJA_WORKERS: '0', ...lease } });
  const hanging: ServerResponse[] = [];
  const deliveries: string[] = [];
  const receiver = createServer((req, res) => {
    deliveries.push(String(req.headers['x-forja-delivery']));
    req.resume();
    // The first delivery never gets an answer: its worker is killed while it waits.
    if (deliveries.length === 1) hanging.push(res);
    else res.end('ok');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
  const env = { FORJA_DATABASE_URL: s.databaseUrl, FORJA_DATA_DIR: s.dataDir, ...lease };
  const workers = [spawnCli(['worker', '--concurrency', '2'], env), spawnCli(['worker', '--concurrency', '2'], env)];
  const outputs = workers.map(() => ({ text: '' }));
  workers.forEach((w, i) => {
    w.stdout.on('data', (d) => (outputs[i]!.text += d));
    w.stderr.on('data', (d) => (outputs[i]!.text += d));
  });
  const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
  try {
    await until('both workers to start', async () => (outputs.every((o) => /taking jobs from/.test(o.text)) ? true : undefined));
    assert.match(outputs[0]!.text, /forja worker \S+ taking jobs from 127\.0\.0\.1:\d+\/forja_test_\w+ \(2 at a time\)/);
    const hook = (await call('POST', '/api/v1/webhooks', { name: 'slow', url, events: ['registered_model.created'] })).body;
    await call('POST', '/api/v1/models', { name: 'survivor' });
    const first = await until('the first delivery to be under way', async () => {
      const d = (await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items[0];
      if (!d?.jobId || deliveries.length === 0) return undefined;
      const job = (await call('GET', `/api/v1/jobs/${d.jobId}`)).body;
      return job.status === 'running' ? { delivery: d, job } : undefined;
    });
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(first.job.workerId)![1]);
    const victim = workers.find((w) => w.pid === pid);
    assert.ok(victim, `job ${first.job.id} runs on one of our workers (${first.job.workerId})`);
    victim.kill('SIGKILL');

    const done = await until('the job to finish on the other worker', async () => {
      const job = (await call('GET', `/api/v1/jobs/${first.job.id}`)).body;
      return job.status === 'succeeded' ? job : undefined;
    });
    assert.equal(done.attempt, 2);
    const delivery = (await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items[0];
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts, 2);
    assert.deepEqual(deliveries, [delivery.id, delivery.id], 'the receiver saw the one delivery twice, nothing more');
    const logs = (await call('GET', `/api/v1/jobs/${first.job.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
    assert.ok(
      logs.some((l: string) => /stopped heartbeating \(lease expired\) during attempt 1/.test(l)),
      logs.join('\n'),
    );

    const listed = (await call('GET', '/api/v1/workers')).body.workers;
    const survivor = workers.find((w) => w !== victim)!;
    assert.equal(listed.find((w: { pid: number }) => w.pid === survivor.pid)?.alive, true);
    const dead = await until('the killed worker to show as gone', async () => {
      const w = (await call('GET', '/api/v1/workers')).body.workers.find((x: { pid: number }) => x.pid === pid);
      return w && !w.alive ? w : undefined;
    });
    assert.equal(dead.mode, 'standalone');
  } finally {
    for (const res of hanging) res.destroy();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? undefined : new Promise((r) => w.once('exit', r)))));
    receiver.close();
    await s.close();
  }
});

/** A k-nearest-neighbours model: slow enough to predict that a worker can be killed mid-scoring. */
const SLOW_MODEL = `
import sys, joblib, numpy as np, pandas as pd
from sklearn.neighbors import KNeighborsClassifier
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(20000, 8)), columns=[f"f{i}" for i in range(8)])
joblib.dump(KNeighborsClassifier(n_neighbors=15, algorithm="brute").fit(X, (X.f0 > 0).astype(int)), sys.argv[1])
`;

test('kill -9 a worker mid batch prediction (PostgreSQL lake): the other worker finishes it and the rows are written once', { timeout: 300_000 }, async () => {
  const lease = { FORJA_JOB_LEASE_SECONDS: '2' };
  const s = await startTestServer({ dialect: 'postgres', env: { FORJA_WORKERS: '0', ...lease } });
  const env = { FORJA_DATABASE_URL: s.databaseUrl, FORJA_LAKE_URL: s.databaseUrl, FORJA_DATA_DIR: s.dataDir, ...lease };
  const workers = [spawnCli(['worker', '--concurrency', '1'], env), spawnCli(['worker', '--concurrency', '1'], env)];
  const outputs = workers.map(() => ({ text: '' }));
  workers.forEach((w, i) => {
    w.stdout.on('data', (d) => (outputs[i]!.text += d));
    w.stderr.on('data', (d) => (outputs[i]!.text += d));
  });
  const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'forja-knn-'));
  try {
    await until('both workers to start', async () => (outputs.every((o) => /taking jobs from/.test(o.text)) ? true : undefined));
    const modelFile = path.join(dir, 'model.joblib');
    execFileSync(process.env.FORJA_PYTHON ?? 'python3', ['-c', SLOW_MODEL, modelFile]);
    const exp = (await call('POST', '/api/v1/experiments', { name: 'knn' })).body.experimentId;
    const runId = (await call('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
    for (const [name, body] of [
      ['model.joblib', new Uint8Array(readFileSync(modelFile))],
      ['requirements.txt', 'scikit-learn\n'],
    ] as const) {
      const put = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/model/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body,
      });
      assert.equal(put.status, 200);
    }
    await call('POST', '/api/v1/models', { name: 'knn' });
    await call('POST', '/api/v1/models/knn/versions', { source: `runs:/${runId}/model` });
    const rows = 60_000;
    const csv = [
      'id,' + Array.from({ length: 8 }, (_, i) => `f${i}`).join(','),
      ...Array.from({ length: rows }, (_, r) => `${r},${Array.from({ length: 8 }, (_, i) => (((r * 7 + i * 13) % 200) / 100 - 1).toFixed(2)).join(',')}`),
    ].join('\n');
    const seeded = await fetch(`${s.url}/api/v1/lake/tables/features/rows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
      body: csv,
    });
    assert.equal(seeded.status, 201);
    const started = (
      await call('POST', '/api/v1/lake/batch-predictions', {
        sourceTable: 'features',
        model: 'models:/knn/1',
        outputTable: 'scores',
        keepColumns: ['id'],
        chunkRows: 500,
      })
    ).body;
    // Scoring has begun (some rows done, not all): kill the worker that runs it.
    let last: unknown;
    const running = await until(
      'the scoring to be under way',
      async () => {
        const job = (await call('GET', `/api/v1/jobs/${started.jobId}`)).body;
        last = job;
        return job.status === 'running' && job.progress?.done > 0 && job.progress.done < rows ? job : undefined;
      },
      240_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the job: ${JSON.stringify(last)}`);
    });
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(running.workerId)![1]);
    const victim = workers.find((w) => w.pid === pid);
    assert.ok(victim, `the job runs on one of our workers (${running.workerId})`);
    victim.kill('SIGKILL');
    const done = await until(
      'the other worker to finish it',
      async () => {
        const p = (await call('GET', `/api/v1/lake/batch-predictions/${started.jobId}`)).body;
        return ['succeeded', 'failed'].includes(p.status) ? p : undefined;
      },
      240_000,
    );
    assert.equal(done.status, 'succeeded', done.error);
    assert.deepEqual(done.result, { version: 1, rowsWritten: rows, modelName: 'knn', modelVersion: '1' });
    const out = (await call('GET', '/api/v1/lake/tables/scores')).body;
    assert.equal(out.rowCount, rows, 'every row written once');
    assert.deepEqual(
      out.versions.map((v: { version: number; rows: number }) => [v.version, v.rows]),
      [[1, rows]],
    );
    const job = (await call('GET', `/api/v1/jobs/${started.jobId}`)).body;
    assert.equal(job.attempt, 2);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? undefined : new Promise((r) => w.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
    await s.close();
  }
});
