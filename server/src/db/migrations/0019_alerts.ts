import { sql, type Kysely } from 'kysely';

/** Alert rules of monitors, the breach streak each rule keeps per metric, and the alerts they fired. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alert_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    // The monitors domain's id; no foreign key, so the alerts domain migrates on its own.
    .addColumn('monitor_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('consecutive', 'integer', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('alert_rules_monitor_name_uq', ['group_id', 'monitor_id', 'name'])
    .execute();

  // One row per rule and concrete metric: how many runs in a row breached, and the alert of the open episode.
  await db.schema
    .createTable('alert_streaks')
    .addColumn('rule_id', 'text', (c) => c.notNull().references('alert_rules.id').onDelete('cascade'))
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('breaches', 'integer', (c) => c.notNull())
    .addColumn('episode_alert_id', 'text')
    .addColumn('last_run_id', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_streaks_pk', ['rule_id', 'metric'])
    .execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('monitor_id', 'text', (c) => c.notNull())
    .addColumn('monitor_name', 'text', (c) => c.notNull())
    // Kept when the rule is deleted: the history stays readable.
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('rule_name', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fired_at', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolution', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('alerts_group_idx').on('alerts').columns(['group_id', 'id']).execute();
  // At most one unresolved alert per rule and metric, even if two processes evaluate the same run.
  await db.schema.createIndex('alerts_open_uq').on('alerts').columns(['rule_id', 'metric']).unique().where(sql.ref('status'), '<>', 'resolved').execute();
}
