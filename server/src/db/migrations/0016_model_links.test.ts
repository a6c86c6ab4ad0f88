import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, sql, type MigrationProvider } from 'kysely';
import { openDatabase, type Db } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../testing/databases.js';
import { migrations } from './index.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

for (const dialect of DIALECTS) {
  describe(`migration 0016_model_links on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      // The schema as it was before: metrics could hold the same point twice.
      const { error } = await new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true }).migrateTo('0015_sandbox_users');
      if (error) throw error;
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    test('folds duplicated metric points into one, keeps distinct ones, then refuses duplicates', async () => {
      const k = db.kysely;
      await k.insertInto('groups').values({ id: 'g1', name: 'g', description: '', created_at: 1, created_by: null }).execute();
      await k
        .insertInto('experiments')
        .values({
          id: '7',
          group_id: 'g1',
          name: 'e',
          artifact_location: 'mlflow-artifacts:/7',
          lifecycle_stage: 'active',
          creation_time: 1,
          last_update_time: 1,
          deleted_time: null,
        })
        .execute();
      await k
        .insertInto('runs')
        .values({
          id: 'r1',
          experiment_id: '7',
          group_id: 'g1',
          name: 'r',
          user_id: 'u',
          status: 'RUNNING',
          start_time: 1,
          end_time: null,
          artifact_uri: 'x',
          lifecycle_stage: 'active',
          deleted_time: null,
        })
        .execute();
      const point = (step: number, value: number, timestamp = 100) => ({ run_id: 'r1', key: 'loss', value, timestamp, step, is_nan: 0 });
      // What log_model used to leave behind: step 0 twice (three times here), the rest once.
      await k
        .insertInto('metrics')
        .values([point(0, 1), point(0, 1), point(0, 1), point(1, 0.5), point(0, 1, 101), point(2, 0.25)])
        .execute();

      await migrateToLatest(db);

      const rows = await k
        .selectFrom('metrics')
        .select(['step', 'value', 'timestamp'])
        .where('run_id', '=', 'r1')
        .orderBy('step')
        .orderBy('timestamp')
        .execute();
      assert.deepEqual(
        rows.map((r) => [Number(r.step), r.value, Number(r.timestamp)]),
        [
          [0, 1, 100],
          [0, 1, 101],
          [1, 0.5, 100],
          [2, 0.25, 100],
        ],
      );
      await assert.rejects(k.insertInto('metrics').values(point(1, 0.5)).execute());
      const tables = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM logged_model_metrics`.execute(k);
      assert.equal(Number(tables.rows[0]!.n), 0);
    });
  });
}
