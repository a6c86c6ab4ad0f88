import { createHash } from 'node:crypto';
import { rateLimited, unauthenticated } from '../errors.js';
import type { AuditLog } from './audit.js';
import { AuditSampler } from './audit-sampler.js';
import { verifyPassword } from './passwords.js';
import { anonymousContext, type Principal, type RequestContext } from './principal.js';
import { AttemptLimiter } from './rate-limit.js';
import { hashToken } from './secrets.js';
import type { SessionBearers } from './session-bearers.js';
import type { AuthStore, TokenWithNames, UserRow } from './store.js';

interface Cached {
  principal: Principal;
  until: number;
}

const TOKEN_CACHE_MS = 10_000;
const BASIC_CACHE_MS = 5 * 60_000;
const TOUCH_EVERY_MS = 60_000;
const TOKEN_SHAPE = /^fj[spvg]_[A-Za-z0-9]{40}$/;

/** Where a password came in, for the audit log. */
export type PasswordVia = 'login' | 'basic';

export interface LoginLimits {
  /** Failures one username may have in the window, from any address, before it is locked. */
  perUser: number;
  /** How long a locked username waits before its next try. */
  userLockMs: number;
  /** Failures one address may have in the window, whatever the usernames; it then waits out the window. */
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perUser: 10, userLockMs: 60_000, perAddress: 50, windowMs: 15 * 60_000 };

export interface AuthenticatorOptions {
  store: AuthStore;
  audit: AuditLog;
  /** Checks the bearers derived from reusable sessions (client logins). */
  bearers: SessionBearers;
  clock?: () => number;
  limits?: LoginLimits;
}

/**
 * Turns credentials into a Principal. Looks tokens up by hash, caches the answer for a few seconds
 * (the hot predict and tracking paths should not pay a query per request), and rate limits
 * password guesses per username and per address, separately: many users behind one proxy do not
 * lock each other out, and guesses at one account from many addresses are still counted together.
 */
export class Authenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly lastTouch = new Map<string, number>();
  private readonly perUser: AttemptLimiter;
  private readonly perAddress: AttemptLimiter;
  /** Refused attempts while locked are audited once a minute per lock, not once per request. */
  private readonly lockedAudits: AuditSampler;

  private readonly store: AuthStore;
  private readonly audit: AuditLog;
  private readonly bearers: SessionBearers;
  private readonly clock: () => number;

  constructor(options: AuthenticatorOptions) {
    this.store = options.store;
    this.audit = options.audit;
    this.bearers = options.bearers;
    this.clock = options.clock ?? Date.now;
    const limits = options.limits ?? DEFAULT_LOGIN_LIMITS;
    this.perUser = new AttemptLimiter(limits.perUser, limits.windowMs, this.clock, limits.userLockMs);
    this.perAddress = new AttemptLimiter(limits.perAddress, limits.windowMs, this.clock);
    this.lockedAudits = new AuditSampler(60_000, this.clock);
  }

  /** Principal for an Authorization header, null when there is none; throws 401 on bad credentials. */
  async fromAuthorization(header: string | undefined, ctx: Omit<RequestContext, 'principal'>): Promise<Principal | null> {
    if (!header) return null;
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') {
      if (!value) throw unauthenticated('The Authorization header says Bearer but carries no token.');
      return this.fromToken(value);
    }
    if (scheme === 'basic') return this.fromBasic(value, ctx);
    throw unauthenticated(`Unsupported authorization scheme "${scheme}": use "Bearer <token>" or HTTP Basic.`);
  }

  async fromToken(secret: string): Promise<Principal> {
    const hash = hashToken(secret);
    const hit = this.cache.get(hash);
    const now = this.clock();
    if (hit && hit.until > now) {
      this.touch(hit.principal.tokenId, now);
      return hit.principal;
    }
    const token = await this.findToken(secret, hash);
    if (!token) throw unauthenticated('The token is not valid. Log in again or create a new token.');
    if (token.revoked_at !== null) throw unauthenticated(`The token "${token.name}" has been revoked.`);
    if (token.expires_at !== null && token.expires_at <= now)
      throw unauthenticated(`The token "${token.name}" has expired. Log in again or create a new token.`);
    const principal = await this.principalForToken(token);
    const until = Math.min(now + TOKEN_CACHE_MS, token.expires_at ?? Infinity);
    this.cache.set(hash, { principal, until });
    this.touch(token.id, now);
    return principal;
  }

  /** A stored token by its secret's hash, or the session a derived bearer names (its MAC checked first). */
  private async findToken(secret: string, hash: string): Promise<TokenWithNames | undefined> {
    const sessionId = this.bearers.sessionOf(secret);
    if (!sessionId) return this.store.findTokenByHash(hash);
    const session = await this.store.getToken(sessionId);
    return session?.kind === 'session' ? session : undefined;
  }

  /**
   * Checks a username and password, whether sent to the login route or with HTTP Basic. Failures
   * count toward the limits and are audited here, the one place passwords are checked.
   */
  async checkPassword(username: string, password: string, ctx: Omit<RequestContext, 'principal'>, via: PasswordVia): Promise<UserRow> {
    const userKey = username.toLowerCase();
    const address = ctx.ip ?? 'unknown';
    const waitUser = this.perUser.retryAfter(userKey);
    const waitAddress = this.perAddress.retryAfter(address);
    if (waitUser > 0 || waitAddress > 0) {
      const lock = waitAddress > 0 ? { key: `address|${address}`, locked: 'address' } : { key: `user|${userKey}`, locked: 'user' };
      const held = this.lockedAudits.admit(lock.key);
      if (held !== null) await this.recordFailure(ctx, 'auth.login_limited', username, { via, locked: lock.locked, ...(held ? { heldBack: held } : {}) });
      const wait = Math.max(waitUser, waitAddress);
      throw rateLimited(wait, `Too many failed logins. Try again in ${wait} seconds.`);
    }
    const user = await this.store.getUserByUsername(username);
    const ok = await verifyPassword(password, user?.password_hash ?? null);
    if (!ok || !user) {
      this.perUser.fail(userKey);
      this.perAddress.fail(address);
      await this.recordFailure(ctx, 'auth.login_failed', username, { via });
      throw unauthenticated('Wrong username or password.');
    }
    if (user.disabled) {
      await this.recordFailure(ctx, 'auth.login_failed', username, { via, disabled: true });
      throw unauthenticated(`The user "${username}" is disabled. Ask an administrator to enable it.`);
    }
    this.perUser.reset(userKey);
    return user;
  }

  private recordFailure(ctx: Omit<RequestContext, 'principal'>, action: string, username: string, details: Record<string, unknown>): Promise<void> {
    return this.audit.record(anonymousContext(ctx.ip, ctx.requestId), { action, resourceType: 'user', resourceId: username.slice(0, 63), details });
  }

  private readonly listeners: (() => void)[] = [];

  /** Forget cached principals (and whatever listens): after a revoke, a role change or a user update. */
  invalidate(): void {
    this.cache.clear();
    for (const l of this.listeners) l();
  }

  onInvalidate(listener: () => void): void {
    this.listeners.push(listener);
  }

  private async fromBasic(value: string, ctx: Omit<RequestContext, 'principal'>): Promise<Principal> {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw unauthenticated('HTTP Basic credentials must be base64("username:password").');
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // The mlflow client can only send a token as a password; accept that too.
    if (TOKEN_SHAPE.test(password)) return this.fromToken(password);
    // Clients send Basic on every call; a scrypt per request would cap throughput at a few dozen calls a second.
    const key = 'basic:' + createHash('sha256').update(decoded).digest('hex');
    const hit = this.cache.get(key);
    const now = this.clock();
    if (hit && hit.until > now) return hit.principal;
    const user = await this.checkPassword(username, password, ctx, 'basic');
    const principal = userPrincipal(user, null);
    this.cache.set(key, { principal, until: now + BASIC_CACHE_MS });
    return principal;
  }

  private async principalForToken(token: TokenWithNames): Promise<Principal> {
    if (token.kind === 'service' || token.kind === 'group') {
      if (!token.group_id || !token.group_name) throw unauthenticated(`The token "${token.name}" belongs to a group that no longer exists.`);
      return {
        kind: token.kind,
        userId: null,
        name: `${token.kind}:${token.name}`,
        isAdmin: false,
        tokenId: token.id,
        tokenName: token.name,
        tokenKind: token.kind,
        boundGroup: { id: token.group_id, name: token.group_name, role: token.kind === 'service' ? token.role : null },
        defaultGroupId: token.group_id,
      };
    }
    const user = token.user_id ? await this.store.getUserById(token.user_id) : undefined;
    if (!user) throw unauthenticated('The token belongs to a user that no longer exists.');
    if (user.disabled) throw unauthenticated(`The user "${user.username}" is disabled.`);
    return userPrincipal(user, token);
  }

  private touch(tokenId: string | null, now: number): void {
    if (!tokenId) return;
    const last = this.lastTouch.get(tokenId) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.lastTouch.set(tokenId, now);
    // Last-used is advisory; a failed write must not fail the request.
    this.store.touchToken(tokenId, now).catch(() => undefined);
  }
}

function userPrincipal(user: UserRow, token: TokenWithNames | null): Principal {
  return {
    kind: 'user',
    userId: user.id,
    name: user.username,
    isAdmin: user.is_admin === 1,
    tokenId: token?.id ?? null,
    tokenName: token?.name ?? null,
    tokenKind: token?.kind ?? null,
    boundGroup: null,
    defaultGroupId: user.default_group_id,
  };
}
