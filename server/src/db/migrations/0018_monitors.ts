import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('monitors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    // The target as the user gave it (JSON), and the deployment's id when it is one.
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('deployment_id', 'text')
    .addColumn('reference', 'text')
    .addColumn('input_columns', 'text')
    .addColumn('output_columns', 'text')
    .addColumn('checks', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('scheduled', 'integer', (c) => c.notNull())
    // The end of the next window to run; moved on by a guarded UPDATE, so one process fires it.
    .addColumn('next_run_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('monitors_group_name_idx').on('monitors').columns(['group_id', 'name']).unique().execute();
  await db.schema.createIndex('monitors_due_idx').on('monitors').columns(['scheduled', 'next_run_at']).execute();
  await db.schema
    .createTable('monitor_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text')
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_end', 'bigint', (c) => c.notNull())
    .addColumn('current_rows', 'bigint')
    .addColumn('reference_rows', 'bigint')
    .addColumn('drift', 'text')
    .addColumn('performance', 'text')
    .addColumn('explanations', 'text')
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addColumn('problems', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('monitor_runs_monitor_idx').on('monitor_runs').columns(['monitor_id', 'id']).execute();
}
