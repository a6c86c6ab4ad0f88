import { roleRank, type Role } from '@forja/contracts';
import { AppError, forbidden, invalid, notFound, unauthenticated } from '../errors.js';
import type { GroupScope, Principal } from './principal.js';
import type { AuthStore, GroupRow } from './store.js';

/** A refused call: the group whose resource was asked for, when known. */
export interface Refusal {
  groupId: string | null;
}

// Errors this policy raised to refuse a caller, so the 404s that hide another group's resources can
// be told from the 404s of things that do not exist (only the former are audited).
const refusals = new WeakMap<Error, Refusal>();

function refuse<E extends Error>(error: E, groupId: string | null): E {
  refusals.set(error, { groupId });
  return error;
}

/** The refusal behind an error: any 403, or a 404 this policy used to hide another group's resource. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof Error)) return undefined;
  return refusals.get(error) ?? (error instanceof AppError && error.code === 'PERMISSION_DENIED' ? { groupId: null } : undefined);
}

export interface AccessPolicyOptions {
  store: AuthStore;
  clock?: () => number;
  /** How long a role or group lookup is cached (5 s). */
  ttlMs?: number;
}

/** Decides what a principal may do in a group. The one place where roles are compared. */
export class AccessPolicy {
  // Roles and group names are read on every request of the hot paths (logging, predicting); a few
  // seconds of caching saves two queries per call. Changes made through this server clear it at once.
  private readonly roles = new Map<string, { role: Role | null; until: number }>();
  private readonly groupsByName = new Map<string, { group: GroupRow | undefined; until: number }>();
  private readonly groupNamesById = new Map<string, { name: string | undefined; until: number }>();

  private readonly store: AuthStore;
  private readonly clock: () => number;
  private readonly ttlMs: number;

  constructor(options: AccessPolicyOptions) {
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.ttlMs = options.ttlMs ?? 5_000;
  }

  invalidate(): void {
    this.roles.clear();
    this.groupsByName.clear();
    this.groupNamesById.clear();
  }

  /** The principal's role in the group, or null when it has none. */
  async roleIn(principal: Principal, groupId: string): Promise<Role | null> {
    if (principal.isAdmin) return 'admin';
    if (principal.boundGroup) return principal.boundGroup.id === groupId ? principal.boundGroup.role : null;
    if (!principal.userId) return null;
    const key = `${principal.userId}|${groupId}`;
    const now = this.clock();
    const hit = this.roles.get(key);
    if (hit && hit.until > now) return hit.role;
    const role = (await this.store.getRole(groupId, principal.userId)) ?? null;
    if (this.roles.size > 10_000) this.roles.clear();
    this.roles.set(key, { role, until: now + this.ttlMs });
    return role;
  }

  private async groupByName(name: string): Promise<GroupRow | undefined> {
    const now = this.clock();
    const hit = this.groupsByName.get(name);
    if (hit && hit.until > now) return hit.group;
    const group = await this.store.getGroupByName(name);
    if (this.groupsByName.size > 10_000) this.groupsByName.clear();
    this.groupsByName.set(name, { group, until: now + this.ttlMs });
    return group;
  }

  /**
   * Resolves a group by name and checks the principal holds at least `needed` in it
   * ('predict' admits group tokens too). A group the caller cannot see is reported as missing,
   * so group names do not leak across tenants.
   */
  async requireGroup(principal: Principal, groupName: string | undefined, needed: Role | 'predict'): Promise<GroupScope> {
    const name = groupName ?? (await this.defaultGroupName(principal));
    if (!name) throw invalid('No group given and you have no default group: pass the group (X-Forja-Group header or ?group=).');
    const group = await this.groupByName(name);
    if (!group) throw notFound('Group', name);
    const role = await this.roleIn(principal, group.id);
    const isGroupToken = principal.kind === 'group' && principal.boundGroup?.id === group.id;
    if (role === null && !isGroupToken) throw refuse(notFound('Group', name), group.id);
    if (needed === 'predict') return { id: group.id, name: group.name, role };
    if (role === null)
      throw refuse(forbidden(`A group token can only call models; "${needed}" access to group "${name}" needs a user or service token.`), group.id);
    if (roleRank[role] < roleRank[needed])
      throw refuse(forbidden(`You are ${article(role)} ${role} in group "${name}"; this needs ${needed} or higher.`), group.id);
    return { id: group.id, name: group.name, role };
  }

  /**
   * Checks the principal holds `needed` in the group that owns a resource it named by id. Without
   * any role there, the resource is reported missing (`missing`), so ids do not leak across groups.
   */
  async requireRoleIn(principal: Principal, groupId: string, needed: Role, missing: () => Error): Promise<Role> {
    const role = await this.roleIn(principal, groupId);
    if (role === null) throw refuse(missing(), groupId);
    if (roleRank[role] < roleRank[needed])
      throw refuse(forbidden(`You are ${article(role)} ${role} in this resource's group; this needs ${needed} or higher.`), groupId);
    return role;
  }

  /** The ids of every group the principal can read. */
  async readableGroupIds(principal: Principal): Promise<string[]> {
    if (principal.isAdmin) return (await this.store.listGroups()).map((g) => g.id);
    if (principal.boundGroup) return principal.boundGroup.role ? [principal.boundGroup.id] : [];
    if (!principal.userId) return [];
    return (await this.store.membershipsOfUser(principal.userId)).map((m) => m.group_id);
  }

  requireAdmin(principal: Principal | null): void {
    if (!principal) throw unauthenticated('Authentication required.');
    if (!principal.isAdmin) throw forbidden('Only a system administrator can do this.');
  }

  private async defaultGroupName(principal: Principal): Promise<string | undefined> {
    if (principal.boundGroup) return principal.boundGroup.name;
    if (!principal.defaultGroupId) return undefined;
    const now = this.clock();
    const hit = this.groupNamesById.get(principal.defaultGroupId);
    if (hit && hit.until > now) return hit.name;
    const name = (await this.store.getGroupById(principal.defaultGroupId))?.name;
    if (this.groupNamesById.size > 10_000) this.groupNamesById.clear();
    this.groupNamesById.set(principal.defaultGroupId, { name, until: now + this.ttlMs });
    return name;
  }
}

const article = (role: Role) => (/^[aeiou]/.test(role) ? 'an' : 'a');

/** For routes whose group was resolved by the auth hook: does the caller's role there reach `needed`? */
export function requireScopeRole(scope: GroupScope, needed: Role): void {
  if (!scope.role || roleRank[scope.role] < roleRank[needed])
    throw refuse(
      forbidden(`You are ${scope.role ? `${article(scope.role)} ${scope.role}` : 'not a member'} in group "${scope.name}"; this needs ${needed} or higher.`),
      scope.id,
    );
}
