import type { Kysely } from 'kysely';

/** Audit entries name the token used, not only the user, so what a stolen token did can be told apart. */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds a single column per ALTER TABLE.
  await db.schema.alterTable('audit_log').addColumn('actor_token_id', 'text').execute();
  await db.schema.alterTable('audit_log').addColumn('actor_token_name', 'text').execute();
  await db.schema.createIndex('audit_token_idx').on('audit_log').columns(['actor_token_id', 'id']).execute();
}
