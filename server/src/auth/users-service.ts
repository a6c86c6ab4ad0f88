import { UserCreateSchema, type User, type UserCreate, type UserUpdate, type Whoami } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { isUniqueViolation } from '../db/database.js';
import { alreadyExists, forbidden, invalid, notFound } from '../errors.js';
import type { AccessPolicy } from './access.js';
import type { AuditLog } from './audit.js';
import type { Authenticator } from './authenticator.js';
import { toUser } from './mappers.js';
import { hashPassword } from './passwords.js';
import type { RequestContext } from './principal.js';
import type { AuthStore, UserRow } from './store.js';

export interface UsersServiceOptions {
  store: AuthStore;
  access: AccessPolicy;
  audit: AuditLog;
  authenticator: Authenticator;
  clock?: () => number;
}

export class UsersService {
  private readonly store: AuthStore;
  private readonly access: AccessPolicy;
  private readonly audit: AuditLog;
  private readonly authenticator: Authenticator;
  private readonly clock: () => number;

  constructor(options: UsersServiceOptions) {
    this.store = options.store;
    this.access = options.access;
    this.audit = options.audit;
    this.authenticator = options.authenticator;
    this.clock = options.clock ?? Date.now;
  }

  /** Creates a user; they join the default group as a viewer so they can look around at once. */
  async create(ctx: RequestContext, input: UserCreate, options: { joinGroupId?: string | null } = {}): Promise<User> {
    this.access.requireAdmin(ctx.principal);
    const body = UserCreateSchema.parse(input);
    const now = this.clock();
    const row: UserRow = {
      id: newId(),
      username: body.username,
      display_name: body.displayName ?? body.username,
      email: body.email ?? null,
      password_hash: await hashPassword(body.password),
      is_admin: body.isAdmin ? 1 : 0,
      disabled: 0,
      default_group_id: options.joinGroupId ?? (await this.store.getGroupByName('default'))?.id ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.insertUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`A user named "${body.username}" already exists.`);
      throw err;
    }
    if (row.default_group_id) await this.store.upsertMembership(row.default_group_id, row.id, 'viewer', now);
    await this.audit.record(ctx, { action: 'user.create', resourceType: 'user', resourceId: row.username, details: { isAdmin: body.isAdmin } });
    return this.present(row);
  }

  async list(ctx: RequestContext, limit: number, pageToken?: string): Promise<{ items: User[]; nextPageToken?: string }> {
    this.access.requireAdmin(ctx.principal);
    const rows = await this.store.listUsers(limit + 1, pageToken);
    const page = rows.slice(0, limit);
    const items = await Promise.all(page.map((r) => this.present(r)));
    return rows.length > limit ? { items, nextPageToken: page.at(-1)!.username } : { items };
  }

  async get(ctx: RequestContext, username: string): Promise<User> {
    if (ctx.principal.name !== username || ctx.principal.kind !== 'user') this.access.requireAdmin(ctx.principal);
    return this.present(await this.require(username));
  }

  /**
   * Admins may change anything; users may change their own name, e-mail, password and default group,
   * but not their admin flag or whether they are disabled.
   */
  async update(ctx: RequestContext, username: string, patch: UserUpdate): Promise<User> {
    const self = ctx.principal.kind === 'user' && ctx.principal.name === username;
    if (!self) this.access.requireAdmin(ctx.principal);
    if (!ctx.principal.isAdmin && (patch.isAdmin !== undefined || patch.disabled !== undefined))
      throw forbidden('Only a system administrator can change isAdmin or disabled.');
    if (self && (patch.disabled === true || patch.isAdmin === false))
      throw invalid('You cannot disable yourself or remove your own admin right; ask another administrator.');
    const user = await this.require(username);
    const set: Partial<UserRow> = { updated_at: this.clock() };
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.email !== undefined) set.email = patch.email;
    if (patch.isAdmin !== undefined) set.is_admin = patch.isAdmin ? 1 : 0;
    if (patch.disabled !== undefined) set.disabled = patch.disabled ? 1 : 0;
    if (patch.password !== undefined) set.password_hash = await hashPassword(patch.password);
    if (patch.defaultGroup !== undefined) {
      const group = await this.store.getGroupByName(patch.defaultGroup);
      const role = group ? await this.store.getRole(group.id, user.id) : undefined;
      if (!group || (!role && user.is_admin !== 1)) throw invalid(`"${patch.defaultGroup}" is not a group ${self ? 'you belong' : 'the user belongs'} to.`);
      set.default_group_id = group.id;
    }
    await this.store.updateUser(user.id, set);
    const sessionsRevoked = patch.password === undefined ? undefined : await this.endSessionsAfterPasswordChange(ctx, user.id, self);
    this.authenticator.invalidate();
    const changed = Object.keys(patch).filter((k) => k !== 'password');
    await this.audit.record(ctx, {
      action: 'user.update',
      resourceType: 'user',
      resourceId: username,
      details: { changed, ...(sessionsRevoked !== undefined ? { passwordChanged: true, sessionsRevoked } : {}) },
    });
    return this.present((await this.store.getUserById(user.id))!);
  }

  /**
   * A new password ends the user's sessions, so whoever logged in with the old one is out. A user
   * changing their own keeps the session they did it with; personal tokens stay (revoke them apart).
   */
  private endSessionsAfterPasswordChange(ctx: RequestContext, userId: string, self: boolean): Promise<number> {
    const p = ctx.principal;
    const keep = self && p.tokenKind === 'session' ? p.tokenId : null;
    return this.store.revokeSessionsOfUser(userId, this.clock(), keep);
  }

  async whoami(ctx: RequestContext, requestedGroup?: string): Promise<Whoami> {
    const p = ctx.principal;
    const user = p.userId ? await this.store.getUserById(p.userId) : undefined;
    const memberships = user
      ? (await this.store.membershipsOfUser(user.id)).map((m) => ({ group: m.group_name, role: m.role }))
      : p.boundGroup?.role
        ? [{ group: p.boundGroup.name, role: p.boundGroup.role }]
        : [];
    const defaultGroup = p.defaultGroupId ? ((await this.store.getGroupById(p.defaultGroupId))?.name ?? null) : null;
    const actingGroup = requestedGroup
      ? await this.access.requireGroup(p, requestedGroup, 'predict').then(
          (g) => g.name,
          () => null,
        )
      : defaultGroup;
    return {
      kind: p.kind,
      user: user ? await this.present(user) : null,
      tokenId: p.tokenId,
      tokenName: p.tokenName,
      defaultGroup,
      actingGroup,
      memberships,
    };
  }

  private async require(username: string): Promise<UserRow> {
    const user = await this.store.getUserByUsername(username);
    if (!user) throw notFound('User', username);
    return user;
  }

  private async present(row: UserRow): Promise<User> {
    const group = row.default_group_id ? await this.store.getGroupById(row.default_group_id) : undefined;
    return toUser(row, group?.name ?? null);
  }
}
