import type { Kysely } from 'kysely';

/**
 * Every sync call of a deployment, counted per minute: calls, errors and a fixed histogram of
 * latencies (one column a bucket), so servers sharing the table add to a minute's row and any
 * window's percentiles come from summed buckets. No foreign key: a deployment's rows go with it
 * explicitly, and a flush racing its deletion must not fail the other deployments' counts.
 */
/** deployments/usage-histogram.ts's LATENCY_BUCKETS when this was written: a migration never changes. */
const LATENCY_BUCKETS = 36;

export async function up(db: Kysely<unknown>): Promise<void> {
  let table = db.schema
    .createTable('deployment_usage')
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('minute', 'bigint', (c) => c.notNull())
    .addColumn('calls', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('errors', 'bigint', (c) => c.notNull().defaultTo(0));
  for (let i = 0; i < LATENCY_BUCKETS; i++) table = table.addColumn(`b${i}`, 'bigint', (c) => c.notNull().defaultTo(0));
  await table.addPrimaryKeyConstraint('deployment_usage_pk', ['deployment_id', 'minute']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('deployment_usage').execute();
}
