import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deployments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('model_name', 'text')
    .addColumn('model_version', 'text')
    .addColumn('entrypoint', 'text')
    .addColumn('predict_method', 'text', (c) => c.notNull())
    .addColumn('python_version', 'text', (c) => c.notNull())
    // Relative to the deployment's folder: the source file (script) or the model file/directory.
    .addColumn('model_path', 'text', (c) => c.notNull())
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('requirements', 'text', (c) => c.notNull())
    // The .env of secrets, AES-256-GCM under the server key; never returned.
    .addColumn('secrets_sealed', 'text')
    .addColumn('schema_sample', 'text')
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('env_key', 'text')
    .addColumn('build_job_id', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deployed_at', 'bigint')
    .addUniqueConstraint('deployments_group_name_uq', ['group_id', 'name'])
    .execute();
}
