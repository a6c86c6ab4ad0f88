import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** The tables whose rows have a string id and a name. */
type NamedTable = { [T in keyof Database]: Database[T] extends { id: string; name: string } ? T : never }[keyof Database];

/** The names of a table's rows by id, in one query; ids that are not there are absent from the map. */
export async function namesById(k: Kysely<Database>, table: NamedTable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  // Every NamedTable has these two columns; Kysely cannot see that through the union of tables.
  const named = k as unknown as Kysely<Record<NamedTable, { id: string; name: string }>>;
  const rows = await named
    .selectFrom(table)
    .select(['id', 'name'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
