import { test } from 'node:test';
import assert from 'node:assert/strict';
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
    assert.ok(logs.some((l: string) => /stopped heartbeating \(lease expired\) during attempt 1/.test(l)), logs.join('\n'));

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

