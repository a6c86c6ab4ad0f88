import { TokenCreateSchema, type LoginResponse, type Token, type TokenCreate, type TokenCreated } from '@forja/contracts';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { forbidden, invalid, notFound } from '../errors.js';
import type { AccessPolicy } from './access.js';
import type { AuditLog } from './audit.js';
import type { Authenticator } from './authenticator.js';
import { toToken, toUser } from './mappers.js';
import { anonymousContext, type RequestContext } from './principal.js';
import { generateTokenSecret, hashToken, tokenPrefix } from './secrets.js';
import type { SessionBearers } from './session-bearers.js';
import type { AuthStore, TokenRow, UserRow } from './store.js';

const DAY = 24 * 3600 * 1000;

/**
 * Clients that log in before every call (MLOps Codex 4.x does) and the name of the one session each
 * user shares between those logins; these sessions are listed with the user's tokens so they can end them.
 */
export const CLIENT_SESSIONS = { codex: 'MLOps Codex session' } as const;
export type SessionClient = keyof typeof CLIENT_SESSIONS;

export interface TokensServiceOptions {
  store: AuthStore;
  access: AccessPolicy;
  audit: AuditLog;
  authenticator: Authenticator;
  bearers: SessionBearers;
  /** How long a login session lasts. */
  sessionTtlMs: number;
  clock?: () => number;
}

/**
 * Tokens: sessions from login, personal tokens of a user, service tokens that act in one group
 * with a role, and group tokens that may only call the group's models. The secret is returned once.
 */
export class TokensService {
  private readonly store: AuthStore;
  private readonly access: AccessPolicy;
  private readonly audit: AuditLog;
  private readonly authenticator: Authenticator;
  private readonly bearers: SessionBearers;
  private readonly sessionTtlMs: number;
  private readonly clock: () => number;
  /** Sessions being opened, so concurrent logins of one user in this process open one. */
  private readonly opening = new Map<string, Promise<TokenRow>>();

  constructor(options: TokensServiceOptions) {
    this.store = options.store;
    this.access = options.access;
    this.audit = options.audit;
    this.authenticator = options.authenticator;
    this.bearers = options.bearers;
    this.sessionTtlMs = options.sessionTtlMs;
    this.clock = options.clock ?? Date.now;
  }

  async login(ctx: Omit<RequestContext, 'principal'>, username: string, password: string): Promise<LoginResponse> {
    const user = await this.authenticator.checkPassword(username, password, ctx, 'login');
    const now = this.clock();
    const secret = generateTokenSecret('session');
    const expiresAt = now + this.sessionTtlMs;
    const row: TokenRow = {
      ...this.baseRow(secretKeys(secret), 'session', `login ${new Date(now).toISOString()}`, now),
      user_id: user.id,
      created_by: user.id,
      expires_at: expiresAt,
    };
    await this.store.insertToken(row);
    const group = user.default_group_id ? await this.store.getGroupById(user.default_group_id) : undefined;
    await this.auditLogin(ctx, user, row);
    return { token: secret, expiresAt, user: toUser(user, group?.name ?? null) };
  }

  /**
   * A login for a client that logs in before every call. The user's session for that client is
   * reused while it has more than half its lifetime left (so one row and one `auth.login` entry, not
   * one per call); each login still gets a secret of its own, derived from the session and stored
   * nowhere, which dies with the session (logout, revoking it, a password change, its expiry).
   * Failed logins count toward the login limits like any other.
   */
  async clientLogin(
    ctx: Omit<RequestContext, 'principal'>,
    username: string,
    password: string,
    client: SessionClient,
  ): Promise<{ token: string; expiresAt: number }> {
    const user = await this.authenticator.checkPassword(username, password, ctx, 'login');
    const key = `${user.id}|${client}`;
    let opening = this.opening.get(key);
    if (!opening) {
      opening = this.reusableSession(ctx, user, client).finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    const session = await opening;
    return { token: this.bearers.issue(session.id), expiresAt: session.expires_at! };
  }

  private async reusableSession(ctx: Omit<RequestContext, 'principal'>, user: UserRow, client: SessionClient): Promise<TokenRow> {
    const now = this.clock();
    const name = CLIENT_SESSIONS[client];
    const live = await this.store.findSession(user.id, name, now + this.sessionTtlMs / 2);
    if (live) return live;
    // The row's own secret is never handed out: callers get bearers derived from the row's id.
    const row: TokenRow = {
      ...this.baseRow({ hash: hashToken(generateTokenSecret('session')), prefix: '' }, 'session', name, now),
      user_id: user.id,
      created_by: user.id,
      expires_at: now + this.sessionTtlMs,
    };
    row.prefix = tokenPrefix(this.bearers.issue(row.id));
    await this.store.insertToken(row);
    await this.auditLogin(ctx, user, row, { client: name });
    return row;
  }

  /**
   * Logins are audited as the session they open, so its later actions lead back here; failed logins
   * are audited where passwords are checked.
   */
  private async auditLogin(ctx: Omit<RequestContext, 'principal'>, user: UserRow, session: TokenRow, details?: Record<string, unknown>): Promise<void> {
    const principal = {
      ...anonymousContext(ctx.ip, ctx.requestId).principal,
      userId: user.id,
      name: user.username,
      tokenId: session.id,
      tokenName: session.name,
      tokenKind: 'session' as const,
    };
    await this.audit.record({ ...ctx, principal }, { action: 'auth.login', resourceType: 'user', resourceId: user.username, ...(details ? { details } : {}) });
  }

  async logout(ctx: RequestContext): Promise<void> {
    if (ctx.principal.tokenKind !== 'session' || !ctx.principal.tokenId) return;
    await this.store.revokeToken(ctx.principal.tokenId, this.clock());
    this.authenticator.invalidate();
  }

  async create(ctx: RequestContext, input: TokenCreate): Promise<TokenCreated> {
    const body = TokenCreateSchema.parse(input);
    const p = ctx.principal;
    const now = this.clock();
    const secret = generateTokenSecret(body.kind);
    const row: TokenRow = {
      ...this.baseRow(secretKeys(secret), body.kind, body.name, now),
      created_by: p.userId,
      expires_at: body.expiresInDays ? now + body.expiresInDays * DAY : null,
    };
    if (body.kind === 'personal') {
      if (p.kind !== 'user' || !p.userId) throw forbidden('Only users can create personal tokens.');
      if (body.group || body.role) throw invalid('A personal token acts as you in every group: leave out group and role.');
      row.user_id = p.userId;
    } else {
      if (!body.group) throw invalid(`A ${body.kind} token needs the group it belongs to.`);
      const scope = await this.access.requireGroup(p, body.group, 'admin');
      if (body.kind === 'service') {
        if (!body.role) throw invalid('A service token needs a role in its group: viewer, editor or admin.');
        row.role = body.role;
      } else if (body.role) {
        throw invalid('A group token can only call models; leave out role.');
      }
      row.group_id = scope.id;
    }
    await this.store.insertToken(row);
    await this.audit.record(ctx, {
      action: 'token.create',
      resourceType: 'token',
      resourceId: row.id,
      groupId: row.group_id,
      details: { name: row.name, kind: row.kind, prefix: row.prefix, role: row.role, expiresAt: row.expires_at },
    });
    return { token: toToken((await this.store.getToken(row.id))!), secret };
  }

  /**
   * A service token for one piece of background work (a batch run): its group and role only, an
   * expiry, and revoked by the caller when the work ends. The secret is handed to the work only.
   */
  async issueWorkToken(
    groupId: string,
    name: string,
    role: 'viewer' | 'editor',
    ttlMs: number,
    createdBy: string | null,
  ): Promise<{ id: string; secret: string }> {
    const now = this.clock();
    const secret = generateTokenSecret('service');
    const row: TokenRow = {
      ...this.baseRow(secretKeys(secret), 'service', name, now),
      created_by: createdBy,
      expires_at: now + ttlMs,
      group_id: groupId,
      role,
    };
    await this.store.insertToken(row);
    return { id: row.id, secret };
  }

  async revokeWorkToken(id: string): Promise<void> {
    await this.store.revokeToken(id, this.clock());
    this.authenticator.invalidate();
  }

  /** Your personal tokens; with a group, that group's service and group tokens (group admins only). */
  async list(ctx: RequestContext, group: string | undefined, includeRevoked: boolean): Promise<Token[]> {
    const p = ctx.principal;
    if (group) {
      const scope = await this.access.requireGroup(p, group, 'admin');
      return (await this.store.listTokens({ groupId: scope.id, includeRevoked })).map(toToken);
    }
    if (!p.userId) return [];
    return (await this.store.listTokens({ userId: p.userId, sessionNames: Object.values(CLIENT_SESSIONS), includeRevoked })).map(toToken);
  }

  async revoke(ctx: RequestContext, id: string): Promise<Token> {
    const token = await this.store.getToken(id);
    // Sessions have no group: only their user or a system admin can end one here.
    if (!token) throw notFound('Token', id);
    const p = ctx.principal;
    const own = token.user_id !== null && token.user_id === p.userId;
    if (!own && !p.isAdmin) {
      if (!token.group_name) throw notFound('Token', id);
      await this.access.requireGroup(p, token.group_name, 'admin');
    }
    await this.store.revokeToken(id, this.clock());
    this.authenticator.invalidate();
    await this.audit.record(ctx, {
      action: 'token.revoke',
      resourceType: 'token',
      resourceId: id,
      groupId: token.group_id,
      details: { name: token.name, kind: token.kind, prefix: token.prefix },
    });
    return toToken((await this.store.getToken(id))!);
  }

  /**
   * A new group token named `name` (the caller must be an admin of the group); with `replace`, the
   * group's other live tokens of that name are revoked, so whatever used them stops working.
   */
  async issueGroupToken(ctx: RequestContext, group: string, name: string, expiresInDays: number, replace: boolean): Promise<string> {
    const created = await this.create(ctx, { kind: 'group', name, group, expiresInDays });
    if (replace) {
      const groupId = (await this.store.getToken(created.token.id))!.group_id!;
      const others = await this.store.listTokens({ groupId, includeRevoked: false });
      for (const t of others) if (t.kind === 'group' && t.name === name && t.id !== created.token.id) await this.revoke(ctx, t.id);
    }
    return created.secret;
  }

  /**
   * Makes sure a token whose secret has this hash exists for the user (FORJA_ADMIN_TOKEN). One that
   * was revoked stays revoked: the operator did that on purpose.
   */
  async ensureFixedToken(userId: string, hash: string, name: string): Promise<void> {
    if (await this.store.findTokenByHash(hash)) return;
    const now = this.clock();
    try {
      await this.store.insertToken({ ...this.baseRow({ hash, prefix: '(from env)' }, 'personal', name, now), user_id: userId, created_by: userId });
    } catch (err) {
      // Another server starting at the same moment inserted it first.
      if (!isUniqueViolation(err)) throw err;
    }
  }

  private baseRow(keys: { hash: string; prefix: string }, kind: TokenRow['kind'], name: string, now: number): TokenRow {
    return {
      id: newId(),
      kind,
      name,
      prefix: keys.prefix,
      hash: keys.hash,
      user_id: null,
      group_id: null,
      role: null,
      created_at: now,
      created_by: null,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    };
  }
}

/** What is stored of a secret: its hash to find it by, its first characters to recognise it by. */
const secretKeys = (secret: string) => ({ hash: hashToken(secret), prefix: tokenPrefix(secret) });
