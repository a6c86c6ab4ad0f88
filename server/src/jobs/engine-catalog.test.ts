import { describe, test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../testing/databases.js';
import type { Capability, JobPayloadInput } from './catalog.js';
import { createJobEngine } from './create-engine.js';
import type { JobEngine } from './engine.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const LAKE_JOB: JobPayloadInput<'lake.batch_predict'> = {
  sourceTable: 'features',
  model: 'models:/churn/1',
  outputTable: 'scores',
  staged: { name: 'churn', version: '1', kind: 'pickle', path: '/nowhere/model.pkl', requirements: '' },
};

for (const dialect of DIALECTS) {
  describe(`job catalog, capabilities and waitFor on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    const engines: JobEngine[] = [];
    const warnings: string[] = [];
    /** Which engine ran each job. */
    const ranBy = new Map<string, string>();
    const gates = new Map<string, () => void>();

    /** An engine of its own on the shared database, as a separate worker process would have; it stops with the test. */
    const engine = async (t: TestContext, name: string, capabilities: Capability[]) => {
      const e = createJobEngine(db, {
        databaseUrl: tdb.url,
        workers: 2,
        jobLeaseMs: 10_000,
        // Standalone: an embedded engine on SQLite would take the other engine's running jobs for orphans.
        mode: 'standalone',
        capabilities,
        log: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      });
      e.register('lake.batch_predict', async (ctx) => {
        ranBy.set(ctx.job.id, name);
        return { table: ctx.job.params.outputTable };
      });
      e.register('deployment.execute', async (ctx) => {
        ranBy.set(ctx.job.id, name);
      });
      e.register('test.plain', async (ctx) => {
        ranBy.set(ctx.job.id, name);
      });
      // Runs until the test opens its gate.
      e.register('test.gated', async (ctx) => {
        ranBy.set(ctx.job.id, name);
        await new Promise<void>((resolve) => gates.set(ctx.job.id, resolve));
        return { opened: true };
      });
      await e.init();
      engines.push(e);
      t.after(async () => {
        engines.splice(engines.indexOf(e), 1);
        await e.stop();
      });
      return e;
    };

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      await migrateToLatest(db);
    });
    after(async () => {
      for (const e of engines) await e.stop();
      await db.close();
      await tdb.drop();
    });

    test('a payload that does not fit its kind fails at claim, for good, saying which field', async (t) => {
      const e = await engine(t, 'payloads', ['lake']);
      // The types stop this at compile time; the schema stops what slips past them at run time.
      const bad = { executionId: 42, deploymentId: 'd1' } as unknown as JobPayloadInput<'deployment.execute'>;
      await assert.rejects(
        e.enqueue({ kind: 'deployment.execute', groupId: null, params: bad }),
        /deployment\.execute job was queued with bad parameters \("executionId": .*expected string/,
      );
      // A row that no longer fits (written by another version, or by hand) never reaches its handler.
      const job = await db.transaction(async (trx) => {
        const queued = (await e.enqueue({ kind: 'deployment.execute', groupId: null, params: { executionId: 'x1', deploymentId: 'd1' } }, trx))!;
        await trx
          .updateTable('jobs')
          .set({ params: JSON.stringify(bad) })
          .where('id', '=', queued.id)
          .execute();
        return queued;
      });
      assert.equal(job.max_attempts, 2, 'attempts come from the catalog');
      await e.start();
      const done = (await e.waitFor(job.id, { timeoutMs: 20_000 }))!;
      assert.equal(done.status, 'failed');
      assert.equal(done.attempt, 1, 'not retried although the kind allows two attempts');
      assert.match(done.error!, /^The job's parameters do not fit a deployment\.execute job \("executionId": .*expected string.*\); it cannot run\.$/);
      assert.equal(ranBy.has(job.id), false);
    });

    test('an engine without the lake capability never claims a lake job; one with it does', async (t) => {
      const without = await engine(t, 'without-lake', []);
      await without.start();
      const lakeJobs = [];
      for (let i = 0; i < 3; i++) lakeJobs.push((await without.enqueue({ kind: 'lake.batch_predict', groupId: null, params: LAKE_JOB }))!);
      const plain = (await without.enqueue({ kind: 'test.plain', groupId: null }))!;
      assert.equal((await without.waitFor(plain.id, { timeoutMs: 20_000 }))?.status, 'succeeded');
      assert.equal(ranBy.get(plain.id), 'without-lake', 'the engine takes the jobs it can run');
      // Past a poll of the table (SQLite) and of graphile-worker (PostgreSQL).
      await sleep(2500);
      const waiting = await without.list({ ids: lakeJobs.map((j) => j.id) });
      assert.deepEqual(
        waiting.map((j) => [j.status, j.attempt]),
        lakeJobs.map(() => ['queued', 0]),
      );

      const withLake = await engine(t, 'with-lake', ['lake']);
      await withLake.start();
      for (const j of lakeJobs) {
        const done = (await withLake.waitFor(j.id, { timeoutMs: 20_000 }))!;
        assert.equal(done.status, 'succeeded', done.error ?? '');
        assert.deepEqual(JSON.parse(done.result!), { table: 'scores' });
        assert.equal(done.lease_owner, withLake.workerId);
        assert.equal(ranBy.get(j.id), 'with-lake');
      }
      // While both run, lake jobs still go only to the capable one.
      const more = [];
      for (let i = 0; i < 4; i++) more.push((await withLake.enqueue({ kind: 'lake.batch_predict', groupId: null, params: LAKE_JOB }))!);
      for (const j of more) assert.equal((await withLake.waitFor(j.id, { timeoutMs: 20_000 }))?.status, 'succeeded');
      assert.deepEqual(
        more.map((j) => ranBy.get(j.id)),
        more.map(() => 'with-lake'),
      );
      assert.deepEqual(
        (await withLake.list({ ids: [...lakeJobs, ...more].map((j) => j.id), status: ['succeeded', 'failed'] })).length,
        lakeJobs.length + more.length,
      );
    });

    test('waitFor answers on settle, not at a poll; it honours its timeout and abort', async (t) => {
      const runner = await engine(t, 'runner', ['lake']);
      await runner.start();
      // On PostgreSQL the waiter is another engine (as a server waiting on a standalone worker's job): its notice crosses processes.
      const waiter = dialect === 'postgres' ? await engine(t, 'waiter', []) : runner;
      const job = (await waiter.enqueue({ kind: 'test.gated', groupId: null }))!;
      for (let i = 0; i < 400 && !gates.has(job.id); i++) await sleep(25);
      assert.ok(gates.has(job.id), 'the gated job started');
      const waiting = waiter.waitFor(job.id);
      await sleep(200);
      const opened = Date.now();
      gates.get(job.id)!();
      const done = (await waiting)!;
      const took = Date.now() - opened;
      assert.equal(done.status, 'succeeded');
      assert.ok(took < 1000, `waitFor answered ${took} ms after the job settled (it re-checks only every 5 s)`);

      // A queued job cancelled elsewhere wakes its waiter too.
      const later = (await waiter.enqueue({ kind: 'test.plain', groupId: null, runAt: Date.now() + 3_600_000 }))!;
      const cancelledWait = waiter.waitFor(later.id);
      await sleep(200);
      const cancelledAt = Date.now();
      await runner.cancel(later.id);
      assert.equal((await cancelledWait)?.status, 'cancelled');
      assert.ok(Date.now() - cancelledAt < 1000);

      // A timeout answers with the job as it is; an abort rejects with the signal's reason.
      const queued = (await waiter.enqueue({ kind: 'test.plain', groupId: null, runAt: Date.now() + 3_600_000 }))!;
      const t0 = Date.now();
      const still = (await waiter.waitFor(queued.id, { timeoutMs: 300 }))!;
      assert.equal(still.status, 'queued');
      assert.ok(Date.now() - t0 >= 290 && Date.now() - t0 < 2000, `timed out after ${Date.now() - t0} ms`);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('the step was cancelled')), 100);
      await assert.rejects(waiter.waitFor(still.id, { signal: controller.signal }), /the step was cancelled/);
      assert.equal(await waiter.waitFor('no-such-job'), undefined);
    });
  });
}
