import { sql } from 'kysely';
import { isUniqueViolation, type Db } from '../db/database.js';
import type { SandboxUsers } from './sandbox.js';

/**
 * Numbers each group once, in the shared database, so every server and worker host runs a group's
 * code as the same user id (FORJA_SANDBOX_UID_BASE + slot) and two groups never share one.
 */
export class SandboxUserStore implements SandboxUsers {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly uidBase: number,
  ) {}

  async uidOf(groupId: string): Promise<number> {
    const cached = this.known.get(groupId);
    if (cached !== undefined) return cached;
    for (let attempt = 0; ; attempt++) {
      const row = await this.db.kysely.selectFrom('sandbox_users').select('slot').where('group_id', '=', groupId).executeTakeFirst();
      if (row) {
        this.known.set(groupId, this.uidBase + row.slot);
        return this.uidBase + row.slot;
      }
      try {
        await this.db.kysely
          .insertInto('sandbox_users')
          .columns(['group_id', 'slot'])
          .expression((eb) =>
            eb.selectFrom('sandbox_users').select([sql<string>`cast(${groupId} as text)`.as('group_id'), sql<number>`coalesce(max(slot), 0) + 1`.as('slot')]),
          )
          .execute();
      } catch (err) {
        // Two hosts numbered two groups at once: the loser reads again (its group may have won elsewhere).
        if (!isUniqueViolation(err) || attempt > 5) throw err;
      }
    }
  }
}
