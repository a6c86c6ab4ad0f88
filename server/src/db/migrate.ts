import { Migrator, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import { migrations } from './migrations/index.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

export const latestMigration = Object.keys(migrations).sort().at(-1) ?? 'none';

/** Brings the schema to the latest version. Concurrent servers are safe: Kysely locks the migration table. */
export async function migrateToLatest(db: Db): Promise<void> {
  // Branches land migrations out of numeric order; each one still runs exactly once.
  const migrator = new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error | undefined)?.message ?? 'unknown error'}`);
  }
}

/** The name of the newest applied migration, or null when none ran. */
export async function appliedMigration(db: Db): Promise<string | null> {
  // Branches land migrations out of numeric order; each one still runs exactly once.
  const migrator = new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true });
  const all = await migrator.getMigrations();
  const applied = all.filter((m) => m.executedAt !== undefined);
  return applied.at(-1)?.name ?? null;
}
