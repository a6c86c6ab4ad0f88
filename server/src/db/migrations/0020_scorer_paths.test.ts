import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, type MigrationProvider } from 'kysely';
import { DeploymentSettingsSchema } from '@forja/contracts';
import { openDatabase, type Db } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../testing/databases.js';
import { migrations } from './index.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

for (const dialect of DIALECTS) {
  describe(`migration 0020_scorer_paths on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      const { error } = await new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true }).migrateTo('0019_alerts');
      if (error) throw error;
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    test('every stored deployment keeps file paths (scorerPaths "files") and its other settings', async () => {
      const k = db.kysely;
      await k.insertInto('groups').values({ id: 'g1', name: 'g', description: '', created_at: 1, created_by: null }).execute();
      const deployment = (id: string, settings: object) => ({
        id,
        group_id: 'g1',
        name: id,
        status: 'Deployed' as const,
        message: null,
        operation: 'async' as const,
        kind: 'script' as const,
        source: 'files',
        model_name: null,
        model_version: null,
        entrypoint: 'score',
        predict_method: 'predict' as const,
        python_version: '',
        model_path: 'files/scorer.py',
        files: '[]',
        requirements: '',
        secrets_sealed: null,
        schema_sample: null,
        settings: JSON.stringify(settings),
        env_key: null,
        build_job_id: null,
        created_by: null,
        created_at: 1,
        updated_at: 1,
        deployed_at: null,
      });
      // Written before the setting existed: an older row with few settings, and one with many.
      await k
        .insertInto('deployments')
        .values([deployment('old', { minWorkers: 1, maxWorkers: 2 }), deployment('tuned', { maxWorkers: 8, network: true, inferenceLog: { sampleRate: 5 } })])
        .execute();

      await migrateToLatest(db);

      const rows = await k.selectFrom('deployments').select(['id', 'settings', 'updated_at']).orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => [r.id, JSON.parse(r.settings), Number(r.updated_at)]),
        [
          ['old', { minWorkers: 1, maxWorkers: 2, scorerPaths: 'files' }, 1],
          ['tuned', { maxWorkers: 8, network: true, inferenceLog: { sampleRate: 5 }, scorerPaths: 'files' }, 1],
        ],
      );
      // What the server reads: files for stored rows, folders (the default) for a row without it.
      assert.equal(DeploymentSettingsSchema.parse(JSON.parse(rows[0]!.settings)).scorerPaths, 'files');
      assert.equal(DeploymentSettingsSchema.parse({}).scorerPaths, 'folders');
    });
  });
}
