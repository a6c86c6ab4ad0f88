import { sql, type Kysely } from 'kysely';

/**
 * MLflow 3 links between runs and logged models, and one row per metric point.
 *
 * - A metric point is (run, key, step, timestamp, value, is_nan), as MLflow's primary key makes it:
 *   logging the same point again (mlflow.<flavor>.log_model re-sends a run's step-0 metrics with the
 *   model's id) stores nothing new. Duplicates written before this migration are folded into one.
 * - logged_model_metrics links a point to a logged model, with the dataset it was measured on.
 * - run_model_inputs: models a run used (runs/log-inputs `models`), the counterpart of run_outputs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const cols = sql`run_id, key, step, timestamp, value, is_nan`;
  const dup = await sql`SELECT 1 FROM metrics GROUP BY ${cols} HAVING COUNT(*) > 1 LIMIT 1`.execute(db);
  if (dup.rows.length) {
    // Portable (no rowid/ctid): keep one copy of each duplicated point, rewrite only those points.
    await sql`CREATE TABLE metrics_dedup AS SELECT ${cols} FROM metrics GROUP BY ${cols} HAVING COUNT(*) > 1`.execute(db);
    await sql`DELETE FROM metrics WHERE EXISTS (SELECT 1 FROM metrics_dedup d WHERE d.run_id = metrics.run_id AND d.key = metrics.key
      AND d.step = metrics.step AND d.timestamp = metrics.timestamp AND d.value = metrics.value AND d.is_nan = metrics.is_nan)`.execute(db);
    await sql`INSERT INTO metrics (${cols}) SELECT ${cols} FROM metrics_dedup`.execute(db);
    await sql`DROP TABLE metrics_dedup`.execute(db);
  }
  // Leads with the old index's columns, so it serves history reads too and replaces it.
  await db.schema.createIndex('metrics_point_uq').unique().on('metrics').columns(['run_id', 'key', 'step', 'timestamp', 'value', 'is_nan']).execute();
  await db.schema.dropIndex('metrics_run_key_step_idx').execute();

  await db.schema
    .createTable('logged_model_metrics')
    .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.id').onDelete('cascade'))
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('is_nan', 'integer', (c) => c.notNull())
    .addColumn('dataset_name', 'text')
    .addColumn('dataset_digest', 'text')
    .addPrimaryKeyConstraint('logged_model_metrics_pk', ['model_id', 'run_id', 'key', 'step', 'timestamp', 'value', 'is_nan'])
    .execute();
  // Purging a run deletes its links through this index rather than a scan.
  await db.schema.createIndex('logged_model_metrics_run_idx').on('logged_model_metrics').column('run_id').execute();

  await db.schema
    .createTable('run_model_inputs')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('run_model_inputs_pk', ['run_id', 'model_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('run_model_inputs').execute();
  await db.schema.dropTable('logged_model_metrics').execute();
  await db.schema.createIndex('metrics_run_key_step_idx').on('metrics').columns(['run_id', 'key', 'step', 'timestamp']).execute();
  await db.schema.dropIndex('metrics_point_uq').execute();
}
