import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { newId } from '../db/ids.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../testing/databases.js';
import { PipelinesStore, type LockedRun, type StepRow } from './store.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const dialect of DIALECTS) {
  describe(`PipelinesStore on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let store: PipelinesStore;
    const pipelineId = newId();

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      await migrateToLatest(db);
      store = new PipelinesStore(db);
      await db.kysely.insertInto('groups').values({ id: 'g1', name: 'g', description: '', created_at: 1, created_by: null }).execute();
      await store.insert({
        id: pipelineId,
        group_id: 'g1',
        name: 'p',
        version: 1,
        definition: '',
        steps: '[]',
        files: '[]',
        created_by: null,
        created_at: 1,
        updated_at: 1,
      });
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    /** A running run whose steps are as given (a job id each). */
    const runWith = (steps: Record<string, StepRow['status']>) => {
      const id = newId();
      return store.createRun(
        {
          id,
          pipeline_id: pipelineId,
          group_id: 'g1',
          pipeline_version: 1,
          status: 'running',
          params: '{}',
          from_step: null,
          created_by: null,
          created_at: Date.now(),
          finished_at: null,
        },
        Object.entries(steps).map(([step_id, status]) => ({
          run_id: id,
          step_id,
          status,
          job_id: `job-${step_id}`,
          outputs: null,
          error: null,
          started_at: null,
          finished_at: null,
        })),
        async () => id,
      );
    };
    const active = (steps: StepRow[]) => steps.some((s) => ['pending', 'queued', 'running'].includes(s.status));

    test('two steps ending together: the second holder of the run sees the first one’s end, so the run ends', async () => {
      const runId = await runWith({ a: 'running', b: 'running' });
      const events: string[] = [];
      // What the service's settle-and-advance does, with a pause where another advance could slip in.
      const settle = (stepId: string) =>
        store.withLockedRun(runId, async (locked: LockedRun) => {
          events.push(`in ${stepId}`);
          assert.ok(await locked.settleStep(stepId, `job-${stepId}`, { status: 'succeeded', outputs: '{}', error: null, finished_at: Date.now() }));
          await pause(100);
          if (!active(await locked.steps())) await locked.finish('succeeded', Date.now());
          events.push(`out ${stepId}`);
        });
      await Promise.all([settle('a'), settle('b')]);
      assert.deepEqual(events, ['in a', 'out a', 'in b', 'out b'], 'one holder at a time');
      assert.equal((await store.getRun(runId))?.status, 'succeeded');
      assert.equal(
        await store.withLockedRun(runId, (locked) => locked.settleStep('a', 'job-a', { status: 'failed', outputs: null, error: 'late', finished_at: 1 })),
        false,
        'a step is settled once',
      );
    });

    test('two advances of one run queue the ready step once', async () => {
      const runId = await runWith({ a: 'succeeded', next: 'pending' });
      let queued = 0;
      const advance = () =>
        store.withLockedRun(runId, async (locked) => {
          const pending = (await locked.steps()).some((s) => s.step_id === 'next' && s.status === 'pending');
          await pause(100);
          if (pending && (await locked.claimStep('next'))) {
            queued++;
            await locked.setStepJob('next', newId());
          }
        });
      await Promise.all([advance(), advance()]);
      assert.equal(queued, 1);
      const next = (await store.steps(runId)).find((s) => s.step_id === 'next')!;
      assert.equal(next.status, 'queued');
    });

    test('retry reopens what did not succeed; the newest succeeded outputs are reused', async () => {
      const older = await runWith({ a: 'succeeded', b: 'succeeded' });
      await pause(5);
      const runId = await runWith({ a: 'succeeded', b: 'failed', c: 'skipped' });
      await store.withLockedRun(runId, (locked) => locked.finish('failed', Date.now()));
      await store.withLockedRun(runId, (locked) => locked.reopen());
      assert.equal((await store.getRun(runId))?.status, 'running');
      assert.deepEqual((await store.steps(runId)).map((s) => [s.step_id, s.status, s.job_id]).sort(), [
        ['a', 'succeeded', 'job-a'],
        ['b', 'pending', null],
        ['c', 'pending', null],
      ]);
      await db.kysely.updateTable('pipeline_steps').set({ outputs: '{"run":"older"}' }).where('run_id', '=', older).execute();
      await db.kysely.updateTable('pipeline_steps').set({ outputs: '{"run":"newer"}' }).where('run_id', '=', runId).where('step_id', '=', 'a').execute();
      assert.deepEqual(
        await store.lastOutputs(pipelineId, ['a', 'b']),
        new Map([
          ['a', '{"run":"newer"}'],
          ['b', '{"run":"older"}'],
        ]),
      );
      assert.equal(await store.getRun(runId, 'other-group'), undefined);
    });
  });
}
