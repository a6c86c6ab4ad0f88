import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { processesWith } from '../testing/processes.js';
import path from 'node:path';
import type { Services } from '../services.js';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';
import { PermanentJobError, type JobSpec } from './engine.js';
import { runProcess } from '../runtime/process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Job kinds that exercise the engine: each does exactly what its parameters say. */
function registerTestKinds(services: Services, calls: Map<string, number>) {
  const e = services.engine;
  e.register('test.echo', async (ctx) => {
    ctx.log(`hello from attempt ${ctx.job.attempt}`);
    ctx.progress({ done: 1, total: 1 });
    return { echoed: ctx.job.params.value };
  });
  e.register('test.flaky', async (ctx) => {
    calls.set(ctx.job.id, (calls.get(ctx.job.id) ?? 0) + 1);
    if (ctx.job.attempt < Number(ctx.job.params.succeedOn)) throw new Error(`boom on attempt ${ctx.job.attempt}`);
    return { attempt: ctx.job.attempt };
  });
  e.register('test.bad-params', async () => {
    throw new PermanentJobError('parameter "x" is missing');
  });
  e.register('test.process', async (ctx) => {
    const cwd = String(ctx.job.params.cwd);
    mkdirSync(cwd, { recursive: true });
    await runProcess(ctx, {
      sandbox: services.sandbox,
      run: { groupId: 'engine-tests', argv: ['/bin/sh', '-c', String(ctx.job.params.script)], cwd, env: {}, writable: [cwd] },
    });
  });
  e.register('test.count', async (ctx) => {
    calls.set(ctx.job.id, (calls.get(ctx.job.id) ?? 0) + 1);
  });
}

for (const dialect of DIALECTS) {
  describe(`job engine on ${dialect}`, () => {
    let s: TestServer;
    let groupId: string;
    const calls = new Map<string, number>();
    const call = (method: string, p: string, body?: unknown, token?: string) => http(s.url, method, p, { token: token ?? s.adminToken, body });
    const enqueue = async (spec: Omit<JobSpec, 'groupId'>) => (await s.server.services.engine.enqueue({ groupId, ...spec }))!;
    const waitDone = async (id: string) => {
      const res = await call('GET', `/api/v1/jobs/${id}?waitSeconds=20`);
      assert.equal(res.status, 200, res.text);
      return res.body;
    };

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_JOB_LEASE_SECONDS: '2' }, beforeStart: (services) => registerTestKinds(services, calls) });
      groupId = (await s.server.services.authStore.getGroupByName('default'))!.id;
    });
    after(() => s.close());

    test('a job runs once, keeps its result, logs and progress, and is listed in its group', async () => {
      const job = await enqueue({ kind: 'test.echo', params: { value: 42 } });
      const done = await waitDone(job.id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.result, { echoed: 42 });
      assert.deepEqual(done.progress, null === done.progress ? null : { done: 1, total: 1 });
      assert.equal(done.attempt, 1);
      assert.equal(done.group, 'default');
      assert.ok(done.startedAt >= done.createdAt && done.finishedAt >= done.startedAt);
      const logs = await call('GET', `/api/v1/jobs/${job.id}/logs`);
      assert.deepEqual(
        logs.body.lines.map((l: { line: string }) => l.line),
        ['hello from attempt 1'],
      );
      assert.equal(logs.body.complete, true);
      const tail = await call('GET', `/api/v1/jobs/${job.id}/logs?after=${logs.body.next}`);
      assert.deepEqual(tail.body.lines, []);
      const list = await call('GET', '/api/v1/jobs?kind=test.echo&status=succeeded');
      assert.ok(list.body.items.some((j: { id: string }) => j.id === job.id));
    });

    test('a failing job is retried with backoff and succeeds on its third attempt', async () => {
      const job = await enqueue({ kind: 'test.flaky', params: { succeedOn: 3 }, maxAttempts: 3, backoffMs: 100 });
      const done = await waitDone(job.id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.equal(done.attempt, 3);
      assert.equal(calls.get(job.id), 3);
      const lines = (await call('GET', `/api/v1/jobs/${job.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.deepEqual(lines, ['boom on attempt 1', 'Attempt 2 of 3.', 'boom on attempt 2', 'Attempt 3 of 3.']);
    });

    test('retries stop at maxAttempts; a permanent error is not retried', async () => {
      const job = await enqueue({ kind: 'test.flaky', params: { succeedOn: 9 }, maxAttempts: 2, backoffMs: 50 });
      const done = await waitDone(job.id);
      assert.equal(done.status, 'failed');
      assert.equal(done.attempt, 2);
      assert.equal(done.error, 'boom on attempt 2');
      const bad = await waitDone((await enqueue({ kind: 'test.bad-params', maxAttempts: 5 })).id);
      assert.equal(bad.status, 'failed');
      assert.equal(bad.attempt, 1);
      assert.equal(bad.error, 'parameter "x" is missing');
      const unknown = await waitDone((await enqueue({ kind: 'test.nobody-knows', maxAttempts: 3 })).id);
      assert.equal(unknown.status, 'failed');
      assert.match(unknown.error, /No worker here knows jobs of kind "test.nobody-knows"/);
    });

    test('a process that exits non-zero fails with its last log lines', async () => {
      const job = await enqueue({
        kind: 'test.process',
        params: { cwd: path.join(s.dataDir, 'engine-tests'), script: 'echo reading data; echo "KeyError: churn" >&2; exit 3' },
      });
      const done = await waitDone(job.id);
      assert.equal(done.status, 'failed');
      assert.equal(done.error, 'The process exited with code 3. Last lines:\nreading data\nKeyError: churn');
      const streams = (await call('GET', `/api/v1/jobs/${job.id}/logs`)).body.lines.map((l: { stream: string }) => l.stream);
      assert.deepEqual(streams, ['stdout', 'stderr', 'system']);
    });

    test('a timeout kills the whole process tree', async () => {
      // A child that starts a grandchild (one that even leaves its session); both would sleep for ever.
      const token = `${dialect === 'sqlite' ? 611 : 612}.25`;
      // The token only reaches the sleepers' command lines through a variable, not the shell's own.
      const script = `t=${token}; sleep $t & setsid sleep $t & echo started; wait`;
      const job = await enqueue({ kind: 'test.process', params: { cwd: path.join(s.dataDir, 'engine-tests'), script }, timeoutMs: 1500 });
      for (let i = 0; i < 40 && processesWith(`sleep ${token}`).length < 2; i++) await sleep(25);
      assert.equal(processesWith(`sleep ${token}`).length, 2, 'both sleepers started');
      const done = await waitDone(job.id);
      assert.equal(done.status, 'failed');
      assert.match(done.error, /^Timed out after 1500 ms; its process tree was killed\.$/);
      await sleep(300);
      assert.deepEqual(processesWith(`sleep ${token}`), [], 'every process of the job is gone');
    });

    test('cancel: a queued job at once, a running one within a heartbeat (its process killed)', async () => {
      const later = await enqueue({ kind: 'test.echo', runAt: Date.now() + 60_000 });
      const cancelled = await call('POST', `/api/v1/jobs/${later.id}/cancel`);
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.equal(cancelled.body.status, 'cancelled');
      assert.equal((await call('POST', `/api/v1/jobs/${later.id}/cancel`)).status, 409);

      const cwd = path.join(s.dataDir, 'engine-tests');
      const marker = path.join(cwd, `cancel-${dialect}.txt`);
      const token = `${dialect === 'sqlite' ? 621 : 622}.25`;
      const running = await enqueue({ kind: 'test.process', params: { cwd, script: `echo $$ > ${marker}; t=${token}; sleep $t` } });
      for (let i = 0; i < 100 && !existsSync(marker); i++) await sleep(50);
      const res = await call('POST', `/api/v1/jobs/${running.id}/cancel`);
      assert.equal(res.status, 200);
      const done = await waitDone(running.id);
      assert.equal(done.status, 'cancelled');
      assert.equal(done.error, 'Cancelled while running.');
      await sleep(200);
      assert.deepEqual(processesWith(`sleep ${token}`), []);
    });

    test('a job whose worker stopped heartbeating is taken over and retried', async () => {
      const db = s.server.services.db.kysely;
      const job = await enqueue({ kind: 'test.count', maxAttempts: 2, backoffMs: 10, runAt: Date.now() + 3_600_000 });
      // As a worker that claimed the job and then died: running, its lease already past.
      await db
        .updateTable('jobs')
        .set({ status: 'running', attempt: 1, lease_owner: 'dead-worker', lease_expires_at: Date.now() - 1, run_at: Date.now() })
        .where('id', '=', job.id)
        .execute();
      const done = await waitDone(job.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.attempt, 2);
      assert.equal(calls.get(job.id), 1);
      const lines = (await call('GET', `/api/v1/jobs/${job.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.deepEqual(lines, ['Worker dead-worker stopped heartbeating (lease expired) during attempt 1.', 'Attempt 2 of 2.']);
      const lost = await enqueue({ kind: 'test.count', maxAttempts: 1, runAt: Date.now() + 3_600_000 });
      await db
        .updateTable('jobs')
        .set({ status: 'running', attempt: 1, lease_owner: 'dead-worker', lease_expires_at: Date.now() - 1 })
        .where('id', '=', lost.id)
        .execute();
      const failed = await waitDone(lost.id);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error, /Worker dead-worker stopped heartbeating \(lease expired\) during attempt 1\./);
    });

    test('a dedupe key makes a job once', async () => {
      const first = await enqueue({ kind: 'test.echo', dedupeKey: `tick-${dialect}` });
      assert.ok(first);
      assert.equal(await s.server.services.engine.enqueue({ groupId, kind: 'test.echo', dedupeKey: `tick-${dialect}` }), undefined);
    });

    test('the workers page lists this server as a live embedded worker', async () => {
      const res = await call('GET', '/api/v1/workers');
      assert.equal(res.status, 200);
      const me = res.body.workers.find((w: { id: string }) => w.id === s.server.services.engine.workerId);
      assert.ok(me, JSON.stringify(res.body));
      assert.equal(me.alive, true);
      assert.equal(me.mode, 'embedded');
      assert.equal(me.concurrency, 4);
    });

    test('bad input: unknown job 404, other groups 404, viewers cannot cancel, bad queries 400', async () => {
      assert.equal((await call('GET', '/api/v1/jobs/nope')).status, 404);
      await call('POST', '/api/v1/groups', { name: 'other-team' });
      await call('POST', '/api/v1/users', { username: 'outsider', password: 'outsider-password' });
      await call('PUT', '/api/v1/groups/other-team/members/outsider', { role: 'admin' });
      // New users join the default group; the outsider leaves it.
      assert.equal((await call('DELETE', '/api/v1/groups/default/members/outsider')).status, 200);
      await call('POST', '/api/v1/users', { username: 'watcher', password: 'watcher-password' });
      await call('PUT', '/api/v1/groups/default/members/watcher', { role: 'viewer' });
      const login = async (u: string, p: string) => {
        const res = await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: u, password: p } });
        assert.equal(res.status, 200, res.text);
        return res.body.token as string;
      };
      const outsider = await login('outsider', 'outsider-password');
      const watcher = await login('watcher', 'watcher-password');
      const job = await enqueue({ kind: 'test.echo', runAt: Date.now() + 60_000 });
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}`, undefined, outsider)).status, 404);
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}/logs`, undefined, outsider)).status, 404);
      assert.equal((await call('POST', `/api/v1/jobs/${job.id}/cancel`, undefined, outsider)).status, 404);
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}`, undefined, watcher)).status, 200);
      const denied = await call('POST', `/api/v1/jobs/${job.id}/cancel`, undefined, watcher);
      assert.equal(denied.status, 403);
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}`)).body.status, 'queued');
      assert.equal((await call('GET', '/api/v1/jobs?status=sleeping')).status, 400);
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}?waitSeconds=999`)).status, 400);
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}/logs?after=-1`)).status, 400);
      // Past the 32-bit sequence column: a 400, not the database's out-of-range error (a 500 on PostgreSQL).
      assert.equal((await call('GET', `/api/v1/jobs/${job.id}/logs?after=9007199254740991`)).status, 400);
      assert.equal((await call('GET', '/api/v1/jobs?pageToken=garbage')).status, 400);
    });
  });
}
