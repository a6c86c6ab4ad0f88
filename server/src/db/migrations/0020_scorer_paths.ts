import { sql, type Kysely } from 'kysely';

/**
 * Deployment setting `scorerPaths`: async scorers now get folders by default (Neomaril's contract).
 * Every deployment stored before it is written `files`, so a scorer written for file paths keeps
 * getting them; new deployments get the contract's default.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await rewriteSettings(db, (settings) => ({ ...settings, scorerPaths: 'files' }));
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await rewriteSettings(db, ({ scorerPaths: _dropped, ...settings }) => settings);
}

/** Settings are JSON text; parsing them here keeps one code path for both dialects' JSON functions. */
async function rewriteSettings(db: Kysely<unknown>, change: (settings: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const rows = await sql<{ id: string; settings: string }>`SELECT id, settings FROM deployments`.execute(db);
  for (const row of rows.rows) {
    const settings = JSON.stringify(change(JSON.parse(row.settings) as Record<string, unknown>));
    await sql`UPDATE deployments SET settings = ${settings} WHERE id = ${row.id}`.execute(db);
  }
}
