import { isUniqueViolation } from '../db/database.js';
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
 * FORJA_ADMIN_TOKEN token exists. Only hashes of the configured password and token come in here. Several servers may start at once on one PostgreSQL database:
 * whoever loses a race hits a unique constraint and looks again, finding the winner's rows.
 */
export async function bootstrap(
  store: AuthStore,
  tokens: TokensService,
  options: { adminPasswordHash?: string; adminTokenHash?: string; clock?: () => number },
): Promise<BootstrapResult> {
  let result: BootstrapResult = { createdAdmin: false };
  for (let attempt = 0; ; attempt++) {
    try {
      result = await createFirstAdmin(store, options);
      break;
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
  if (options.adminTokenHash) {
    const admin = await store.getUserByUsername('admin');
    if (admin) await tokens.ensureFixedToken(admin.id, options.adminTokenHash, 'FORJA_ADMIN_TOKEN');
  }
  return result;
}

async function createFirstAdmin(store: AuthStore, options: { adminPasswordHash?: string; clock?: () => number }): Promise<BootstrapResult> {
  if ((await store.countUsers()) > 0) return { createdAdmin: false };
  const now = (options.clock ?? Date.now)();
  let group = await store.getGroupByName('default');
  if (!group) {
    group = { id: newId(), name: 'default', description: 'Everyone starts here.', created_at: now, created_by: null };
    await store.insertGroup(group);
  }
  let generated: string | undefined;
  let passwordHash = options.adminPasswordHash;
  if (!passwordHash) {
    generated = generatePassword();
    passwordHash = await hashPassword(generated);
  }
  const admin = {
    id: newId(),
    username: 'admin',
    display_name: 'Administrator',
    email: null,
    password_hash: passwordHash,
    is_admin: 1,
    disabled: 0,
    default_group_id: group.id,
    created_at: now,
    updated_at: now,
  };
  await store.insertUser(admin);
  await store.upsertMembership(group.id, admin.id, 'admin', now);
  return { createdAdmin: true, ...(generated === undefined ? {} : { generatedPassword: generated }) };
}
