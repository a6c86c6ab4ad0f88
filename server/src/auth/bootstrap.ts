import { newId } from '../db/ids.js';
import { generatePassword, hashPassword } from './passwords.js';
import type { AuthStore } from './store.js';
import type { TokensService } from './tokens-service.js';

export interface BootstrapResult {
  /** Set only on the very first start when no password was configured: print it once. */
  generatedPassword?: string;
  createdAdmin: boolean;
}

/**
 * First start: a "default" group and an "admin" user in it. Later starts only make sure the
 * FORJA_ADMIN_TOKEN token exists. Runs under the migration lock's shadow: a second server racing
 * here hits the unique constraint, which we treat as "someone else did it".
 */
export async function bootstrap(
  store: AuthStore,
  tokens: TokensService,
  options: { adminPassword?: string; adminToken?: string; clock?: () => number },
): Promise<BootstrapResult> {
  const now = (options.clock ?? Date.now)();
  let result: BootstrapResult = { createdAdmin: false };
  if ((await store.countUsers()) === 0) {
    try {
      let group = await store.getGroupByName('default');
      if (!group) {
        group = { id: newId(), name: 'default', description: 'Everyone starts here.', created_at: now, created_by: null };
        await store.insertGroup(group);
      }
      const password = options.adminPassword ?? generatePassword();
      const admin = {
        id: newId(),
        username: 'admin',
        display_name: 'Administrator',
        email: null,
        password_hash: await hashPassword(password),
        is_admin: 1,
        disabled: 0,
        default_group_id: group.id,
        created_at: now,
        updated_at: now,
      };
      await store.insertUser(admin);
      await store.upsertMembership(group.id, admin.id, 'admin', now);
      result = { createdAdmin: true, ...(options.adminPassword ? {} : { generatedPassword: password }) };
    } catch (err) {
      if ((await store.countUsers()) === 0) throw err;
    }
  }
  if (options.adminToken) {
    const admin = await store.getUserByUsername('admin');
    if (admin) await tokens.ensureFixedToken(admin.id, options.adminToken, 'FORJA_ADMIN_TOKEN');
  }
  return result;
}
