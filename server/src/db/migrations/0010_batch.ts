import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cluster_profiles')
    .addColumn('size', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('cpus', 'real', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('parallel_runs', 'integer', (c) => c.notNull())
    .execute();
  await db
    .insertInto('cluster_profiles' as never)
    .values([
      { size: 1, name: 'small', cpus: 1, memory_mb: 2048, parallel_runs: 1 },
      { size: 2, name: 'medium', cpus: 2, memory_mb: 4096, parallel_runs: 2 },
      { size: 3, name: 'large', cpus: 4, memory_mb: 8192, parallel_runs: 4 },
    ] as never)
    .execute();

  await db.schema
    .createTable('batch_projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('cluster_size', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('batch_projects_group_name_uq', ['group_id', 'name'])
    .execute();

  await db.schema
    .createTable('batch_deploys')
    .addColumn('project_id', 'text', (c) => c.notNull().references('batch_projects.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('script_name', 'text', (c) => c.notNull())
    .addColumn('python_version', 'text', (c) => c.notNull())
    .addColumn('requirements', 'text', (c) => c.notNull())
    .addColumn('env_key', 'text')
    .addColumn('build_job_id', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('batch_deploys_pk', ['project_id', 'version'])
    .execute();

  await db.schema
    .createTable('batch_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('batch_projects.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('batch_runs_project_idx').on('batch_runs').columns(['project_id', 'id']).execute();
}
