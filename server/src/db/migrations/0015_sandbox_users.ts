import type { Kysely } from 'kysely';

/** Each group's sandboxed processes run as a user of their own (root servers): the slot numbers them. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sandbox_users')
    .addColumn('group_id', 'text', (c) => c.primaryKey())
    .addColumn('slot', 'integer', (c) => c.notNull().unique())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sandbox_users').execute();
}
