import { sql, type Kysely, type Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditLogTable, Database, GroupsTable, TokensTable, UsersTable } from '../db/schema.js';

export type UserRow = Selectable<UsersTable>;
export type GroupRow = Selectable<GroupsTable>;
export type TokenRow = Selectable<TokensTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type RoleName = 'viewer' | 'editor' | 'admin';

export interface MemberRow {
  username: string;
  display_name: string;
  role: RoleName;
  created_at: number;
}

export interface TokenWithNames extends TokenRow {
  owner_name: string | null;
  group_name: string | null;
}

export interface AuditFilter {
  groupId?: string;
  /** Restrict to these groups (a group admin who is not a system admin). */
  groupIds?: string[];
  actorName?: string;
  /** Entries made with this token. */
  tokenId?: string;
  action?: string;
  beforeId?: string;
  limit: number;
}

/** One resource's trail: its own id and the ids of the resources named under it. */
export interface AuditResource {
  types: string[];
  id: string;
  /** The ids of resources named under it start with one of these (e.g. `model/` for its versions). */
  childPrefixes: string[];
}

/** SQL for users, groups, memberships, tokens and the audit log. No rules here: those live in the services. */
export class AuthStore {
  constructor(private readonly db: Db) {}

  private get k(): Kysely<Database> {
    return this.db.kysely;
  }

  // users
  async insertUser(row: UserRow): Promise<void> {
    await this.k.insertInto('users').values(row).execute();
  }
  getUserById(id: string) {
    return this.k.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }
  getUserByUsername(username: string) {
    return this.k.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }
  async countUsers(): Promise<number> {
    const row = await this.k
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  listUsers(limit: number, afterUsername?: string) {
    let q = this.k.selectFrom('users').selectAll().orderBy('username').limit(limit);
    if (afterUsername) q = q.where('username', '>', afterUsername);
    return q.execute();
  }
  async updateUser(id: string, patch: Partial<Omit<UserRow, 'id' | 'created_at'>>): Promise<void> {
    await this.k.updateTable('users').set(patch).where('id', '=', id).execute();
  }

  // groups
  async insertGroup(row: GroupRow): Promise<void> {
    await this.k.insertInto('groups').values(row).execute();
  }
  getGroupByName(name: string) {
    return this.k.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
  }
  getGroupById(id: string) {
    return this.k.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
  }
  listGroups() {
    return this.k.selectFrom('groups').selectAll().orderBy('name').execute();
  }
  async updateGroup(id: string, patch: Partial<Pick<GroupRow, 'description'>>): Promise<void> {
    await this.k.updateTable('groups').set(patch).where('id', '=', id).execute();
  }
  async deleteGroup(id: string): Promise<void> {
    await this.k.deleteFrom('groups').where('id', '=', id).execute();
  }

  // memberships
  /** Each group the user belongs to, with the role, by group name. */
  membershipsOfUser(userId: string) {
    return this.k
      .selectFrom('memberships')
      .innerJoin('groups', 'groups.id', 'memberships.group_id')
      .select(['groups.id as group_id', 'groups.name as group_name', 'memberships.role'])
      .where('memberships.user_id', '=', userId)
      .orderBy('groups.name')
      .execute();
  }
  async upsertMembership(groupId: string, userId: string, role: RoleName, now: number): Promise<void> {
    await this.k
      .insertInto('memberships')
      .values({ group_id: groupId, user_id: userId, role, created_at: now })
      .onConflict((oc) => oc.columns(['group_id', 'user_id']).doUpdateSet({ role }))
      .execute();
  }
  async deleteMembership(groupId: string, userId: string): Promise<boolean> {
    const res = await this.k.deleteFrom('memberships').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
  async getRole(groupId: string, userId: string): Promise<RoleName | undefined> {
    const row = await this.k.selectFrom('memberships').select('role').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
    return row?.role;
  }
  async countAdmins(groupId: string): Promise<number> {
    const row = await this.k
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('group_id', '=', groupId)
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  listMembers(groupId: string): Promise<MemberRow[]> {
    return this.k
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.username', 'users.display_name', 'memberships.role', 'memberships.created_at'])
      .where('memberships.group_id', '=', groupId)
      .orderBy('users.username')
      .execute();
  }

  // tokens
  async insertToken(row: TokenRow): Promise<void> {
    await this.k.insertInto('tokens').values(row).execute();
  }
  private tokensWithNames() {
    return this.k
      .selectFrom('tokens')
      .leftJoin('users', 'users.id', 'tokens.user_id')
      .leftJoin('groups', 'groups.id', 'tokens.group_id')
      .selectAll('tokens')
      .select(['users.username as owner_name', 'groups.name as group_name']);
  }
  findTokenByHash(hash: string): Promise<TokenWithNames | undefined> {
    return this.tokensWithNames().where('tokens.hash', '=', hash).executeTakeFirst();
  }
  getToken(id: string): Promise<TokenWithNames | undefined> {
    return this.tokensWithNames().where('tokens.id', '=', id).executeTakeFirst();
  }
  /**
   * A user's tokens (personal, and the sessions named `sessionNames`: reusable client sessions they may
   * want to see and end) or a group's tokens; ordinary login sessions are never listed.
   */
  listTokens(filter: { userId?: string; sessionNames?: string[]; groupId?: string; includeRevoked: boolean }): Promise<TokenWithNames[]> {
    const sessionNames = filter.sessionNames?.length ? filter.sessionNames : ['-'];
    let q = this.tokensWithNames()
      .where((eb) => eb.or([eb('tokens.kind', '!=', 'session'), eb('tokens.name', 'in', sessionNames)]))
      .orderBy('tokens.id', 'desc');
    if (filter.userId)
      q = q
        .where('tokens.user_id', '=', filter.userId)
        .where((eb) => eb.or([eb('tokens.kind', '=', 'personal'), eb.and([eb('tokens.kind', '=', 'session'), eb('tokens.name', 'in', sessionNames)])]));
    if (filter.groupId) q = q.where('tokens.group_id', '=', filter.groupId);
    if (!filter.includeRevoked) q = q.where('tokens.revoked_at', 'is', null);
    return q.execute();
  }
  async revokeToken(id: string, at: number): Promise<void> {
    await this.k.updateTable('tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }
  /** Revokes the user's live sessions except `keepId`; returns how many it revoked. */
  async revokeSessionsOfUser(userId: string, at: number, keepId: string | null): Promise<number> {
    let q = this.k.updateTable('tokens').set({ revoked_at: at }).where('user_id', '=', userId).where('kind', '=', 'session').where('revoked_at', 'is', null);
    if (keepId) q = q.where('id', '!=', keepId);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  }
  /** The user's live session of this name with the most time left, if it outlives `liveAfter`. */
  findSession(userId: string, name: string, liveAfter: number): Promise<TokenWithNames | undefined> {
    return this.tokensWithNames()
      .where('tokens.user_id', '=', userId)
      .where('tokens.kind', '=', 'session')
      .where('tokens.name', '=', name)
      .where('tokens.revoked_at', 'is', null)
      .where('tokens.expires_at', '>', liveAfter)
      .orderBy('tokens.expires_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
  async touchToken(id: string, at: number): Promise<void> {
    await this.k.updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  // audit
  async insertAudit(row: AuditRow): Promise<void> {
    await this.k.insertInto('audit_log').values(row).execute();
  }
  listAudit(filter: AuditFilter) {
    let q = this.k
      .selectFrom('audit_log')
      .leftJoin('groups', 'groups.id', 'audit_log.group_id')
      .selectAll('audit_log')
      .select('groups.name as group_name')
      .orderBy('audit_log.id', 'desc')
      .limit(filter.limit);
    if (filter.groupId) q = q.where('audit_log.group_id', '=', filter.groupId);
    if (filter.groupIds) q = q.where('audit_log.group_id', 'in', filter.groupIds.length ? filter.groupIds : ['-']);
    if (filter.actorName) q = q.where('audit_log.actor_name', '=', filter.actorName);
    if (filter.tokenId) q = q.where('audit_log.actor_token_id', '=', filter.tokenId);
    if (filter.action) q = q.where('audit_log.action', '=', filter.action);
    if (filter.beforeId) q = q.where('audit_log.id', '<', filter.beforeId);
    return q.execute();
  }
  /** A group's entries about the resource and those named under it, newest first. */
  auditOfResource(groupId: string, resource: AuditResource, limit: number) {
    return this.k
      .selectFrom('audit_log')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('resource_type', 'in', resource.types)
      .where((eb) =>
        eb.or([eb('resource_id', '=', resource.id), ...resource.childPrefixes.map((prefix) => eb(sql`substr(resource_id, 1, ${prefix.length})`, '=', prefix))]),
      )
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
