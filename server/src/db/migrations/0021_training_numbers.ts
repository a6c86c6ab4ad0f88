import { sql, type Kysely } from 'kysely';

/**
 * Each training run gets a number within its group (1, 2, 3, … in creation order): MLOps Codex's
 * training execution id, which its client types as an integer and puts in URLs beside the group only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('training_runs').addColumn('number', 'integer').execute();
  // Existing runs are numbered in creation order (ties by id), with one statement both dialects run.
  await sql`UPDATE training_runs SET number = (SELECT COUNT(*) FROM training_runs t WHERE t.group_id = training_runs.group_id
    AND (t.created_at < training_runs.created_at OR (t.created_at = training_runs.created_at AND t.id <= training_runs.id)))`.execute(db);
  await db.schema.createIndex('training_runs_number_uq').unique().on('training_runs').columns(['group_id', 'number']).execute();
}
