import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, isUniqueViolation, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { newId } from '../db/ids.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../testing/databases.js';
import { AuthStore } from '../auth/store.js';
import { BatchStore, type DeployRow, type ProjectRow, type ScheduleRow } from './store.js';

for (const dialect of DIALECTS) {
  describe(`BatchStore on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let store: BatchStore;
    let groupId: string;

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      await migrateToLatest(db);
      store = new BatchStore(db);
      groupId = newId();
      await new AuthStore(db).insertGroup({ id: groupId, name: 'batch-store', description: '', created_at: 1, created_by: null });
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    const project = async (name: string): Promise<ProjectRow> => {
      const row = { id: newId(), group_id: groupId, name, description: '', cluster_size: 1, created_by: 'ana', created_at: 1, updated_at: 1 };
      await store.insertProject(row);
      return row;
    };
    const deploy = (projectId: string, version: number, status: DeployRow['status']): DeployRow => ({
      project_id: projectId,
      version,
      status,
      message: null,
      script_name: 'job.py',
      python_version: '3.12',
      requirements: '',
      env_key: null,
      build_job_id: null,
      created_by: 'ana',
      created_at: 1,
    });
    const schedule = (projectId: string, nextFireAt: number): ScheduleRow => ({
      id: newId(),
      group_id: groupId,
      project_id: projectId,
      cron: '* * * * *',
      timezone: 'UTC',
      params: '{}',
      missed_policy: 'skip',
      timeout_seconds: 60,
      paused: 0,
      next_fire_at: nextFireAt,
      last_fire_at: null,
      created_by: 'ana',
      created_at: 1,
    });

    test('deploy versions count up per project; a version already taken fails on the unique key', async () => {
      const p = await project('versions');
      for (const status of ['Ready', 'Failed'] as const) {
        await store.transaction(async (trx) => store.insertDeploy(trx, deploy(p.id, await store.nextDeployVersion(trx, p.id), status)));
      }
      assert.deepEqual(
        (await store.deploys(p.id)).map((d) => [d.version, d.status]),
        [
          [2, 'Failed'],
          [1, 'Ready'],
        ],
      );
      assert.equal((await store.currentDeploy(p.id))?.version, 1, 'the newest Ready deploy, not the newest');
      // What a deploy that read the same next version as another one meets; the service retries on it.
      await assert.rejects(
        store.transaction((trx) => store.insertDeploy(trx, deploy(p.id, 2, 'Building'))),
        isUniqueViolation,
      );
    });

    test('a schedule tick advances once however many processes fire it', async () => {
      const p = await project('ticks');
      const s = schedule(p.id, 1000);
      await store.insertSchedule(s);
      assert.deepEqual(
        (await store.dueSchedules(1000, 100)).map((r) => r.id),
        [s.id],
      );
      const moved = await Promise.all([1, 2, 3].map(() => store.advanceSchedule(s.id, 1000, { next_fire_at: 2000, last_fire_at: 1000 })));
      assert.deepEqual(moved.sort(), [false, false, true]);
      assert.deepEqual(await store.dueSchedules(1999, 100), []);
      const [row] = await store.schedules(groupId, 'ticks');
      assert.deepEqual([row?.project, row?.next_fire_at, row?.last_fire_at], ['ticks', 2000, 1000]);
    });

    test("deleting a project takes its deploys, runs and schedules with it; its runs' job ids are listed first", async () => {
      const p = await project('gone');
      await store.transaction(async (trx) => {
        await store.insertDeploy(trx, deploy(p.id, 1, 'Ready'));
        for (const job of ['job-a', 'job-b'])
          await store.insertRun(trx, {
            id: newId(),
            project_id: p.id,
            version: 1,
            params: '{}',
            trigger: 'manual',
            job_id: job,
            created_by: 'ana',
            created_at: 1,
          });
      });
      await store.insertSchedule(schedule(p.id, 5000));
      assert.deepEqual((await store.runJobIds(p.id)).sort(), ['job-a', 'job-b']);
      await store.deleteProject(p.id);
      assert.equal(await store.projectById(p.id), undefined);
      assert.deepEqual([await store.deploys(p.id), await store.runs(p.id, 10), await store.schedules(groupId, 'gone')], [[], [], []]);
    });
  });
}
