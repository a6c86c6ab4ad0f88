import type { Group, GroupCreate, Member, Role } from '@forja/contracts';
import { GroupCreateSchema } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { isUniqueViolation } from '../db/database.js';
import { alreadyExists, conflict, forbidden, notFound } from '../errors.js';
import type { AccessPolicy } from './access.js';
import type { AuditLog } from './audit.js';
import type { Authenticator } from './authenticator.js';
import { toGroup } from './mappers.js';
import type { GroupScope, RequestContext } from './principal.js';
import type { AuthStore } from './store.js';

export interface GroupsServiceOptions {
  store: AuthStore;
  access: AccessPolicy;
  audit: AuditLog;
  authenticator: Authenticator;
  clock?: () => number;
}

/** Groups are the namespace of every resource; members hold a role in each. */
export class GroupsService {
  private readonly store: AuthStore;
  private readonly access: AccessPolicy;
  private readonly audit: AuditLog;
  private readonly authenticator: Authenticator;
  private readonly clock: () => number;

  constructor(options: GroupsServiceOptions) {
    this.store = options.store;
    this.access = options.access;
    this.audit = options.audit;
    this.authenticator = options.authenticator;
    this.clock = options.clock ?? Date.now;
  }

  /** Any user may create a group; they become its first admin. */
  async create(ctx: RequestContext, input: GroupCreate): Promise<Group> {
    const p = ctx.principal;
    if (p.kind !== 'user' || !p.userId) throw forbidden('Only users can create groups; service and group tokens cannot.');
    const body = GroupCreateSchema.parse(input);
    const now = this.clock();
    const row = { id: newId(), name: body.name, description: body.description, created_at: now, created_by: p.userId };
    try {
      await this.store.insertGroup(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`A group named "${body.name}" already exists.`);
      throw err;
    }
    await this.store.upsertMembership(row.id, p.userId, 'admin', now);
    this.authenticator.invalidate();
    await this.audit.record(ctx, { action: 'group.create', resourceType: 'group', resourceId: row.name, groupId: row.id });
    return toGroup(row, 'admin');
  }

  /** The caller's groups; a system admin sees every group. */
  async list(ctx: RequestContext): Promise<Group[]> {
    const p = ctx.principal;
    if (p.isAdmin) {
      const mine = p.userId ? new Map((await this.store.membershipsOfUser(p.userId)).map((m) => [m.group_id, m.role])) : new Map();
      return (await this.store.listGroups()).map((g) => toGroup(g, mine.get(g.id) ?? null));
    }
    if (p.boundGroup) {
      const g = await this.store.getGroupById(p.boundGroup.id);
      return g ? [toGroup(g, p.boundGroup.role)] : [];
    }
    if (!p.userId) return [];
    const memberships = await this.store.membershipsOfUser(p.userId);
    const groups = await Promise.all(memberships.map((m) => this.store.getGroupById(m.group_id)));
    return groups.flatMap((g, i) => (g ? [toGroup(g, memberships[i]!.role)] : []));
  }

  async get(ctx: RequestContext, scope: GroupScope): Promise<Group> {
    const row = await this.store.getGroupById(scope.id);
    if (!row) throw notFound('Group', scope.name);
    const own = ctx.principal.userId ? await this.store.getRole(scope.id, ctx.principal.userId) : undefined;
    return toGroup(row, own ?? (ctx.principal.boundGroup?.id === scope.id ? ctx.principal.boundGroup.role : null));
  }

  /** A group's name by id, for domains that keep only the id (a batch run's FORJA_GROUP, a schedule's scope). */
  async nameOf(id: string): Promise<string | undefined> {
    return (await this.store.getGroupById(id))?.name;
  }

  /** A group's id by name, for domains that create rows in a well-known group (tracking's default experiment). */
  async idOf(name: string): Promise<string | undefined> {
    return (await this.store.getGroupByName(name))?.id;
  }

  async update(ctx: RequestContext, scope: GroupScope, description: string): Promise<Group> {
    await this.store.updateGroup(scope.id, { description });
    await this.audit.record(ctx, { action: 'group.update', resourceType: 'group', resourceId: scope.name, groupId: scope.id });
    return this.get(ctx, scope);
  }

  async remove(ctx: RequestContext, scope: GroupScope): Promise<void> {
    this.access.requireAdmin(ctx.principal);
    if (scope.name === 'default') throw conflict('The "default" group cannot be deleted: new users join it.');
    await this.store.deleteGroup(scope.id);
    this.authenticator.invalidate();
    await this.audit.record(ctx, { action: 'group.delete', resourceType: 'group', resourceId: scope.name });
  }

  async members(scope: GroupScope): Promise<Member[]> {
    const rows = await this.store.listMembers(scope.id);
    return rows.map((r) => ({ username: r.username, displayName: r.display_name, role: r.role, addedAt: r.created_at }));
  }

  async setMember(ctx: RequestContext, scope: GroupScope, username: string, role: Role): Promise<Member> {
    const user = await this.store.getUserByUsername(username);
    if (!user) throw notFound('User', username);
    const current = await this.store.getRole(scope.id, user.id);
    if (current === 'admin' && role !== 'admin') await this.keepOneAdmin(scope);
    await this.store.upsertMembership(scope.id, user.id, role, this.clock());
    this.authenticator.invalidate();
    await this.audit.record(ctx, {
      action: current ? 'member.update' : 'member.add',
      resourceType: 'membership',
      resourceId: username,
      groupId: scope.id,
      details: { role, previousRole: current ?? null },
    });
    const member = (await this.members(scope)).find((m) => m.username === username);
    return member!;
  }

  async removeMember(ctx: RequestContext, scope: GroupScope, username: string): Promise<void> {
    const user = await this.store.getUserByUsername(username);
    const role = user ? await this.store.getRole(scope.id, user.id) : undefined;
    if (!user || !role) throw notFound('Member', `${username}@${scope.name}`);
    if (role === 'admin') await this.keepOneAdmin(scope);
    await this.store.deleteMembership(scope.id, user.id);
    if (user.default_group_id === scope.id) await this.store.updateUser(user.id, { default_group_id: null, updated_at: this.clock() });
    this.authenticator.invalidate();
    await this.audit.record(ctx, { action: 'member.remove', resourceType: 'membership', resourceId: username, groupId: scope.id, details: { role } });
  }

  /** The group a caller without credentials acts in (a public deployment's): it holds no role there. */
  async anonymousScope(groupId: string): Promise<GroupScope | undefined> {
    const group = await this.store.getGroupById(groupId);
    return group ? { id: group.id, name: group.name, role: null } : undefined;
  }

  private async keepOneAdmin(scope: GroupScope): Promise<void> {
    if ((await this.store.countAdmins(scope.id)) <= 1) throw conflict(`"${scope.name}" would be left without an admin: make another member admin first.`);
  }
}
