import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusalOf, type AccessPolicy } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import { AuditSampler } from '../auth/audit-sampler.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { RequestContext } from '../auth/principal.js';
import { SlugSchema } from '@forja/contracts';
import { AppError, forbidden, invalid, unauthenticated } from '../errors.js';
import { apiPrefixOf } from './prefixes.js';
import type { App, AuthRequirement } from './types.js';

const GROUP_HEADER = 'x-forja-group';

/**
 * Where the request names its group: the path, the query string, then a header; else the caller's
 * default. Checked here because the group is resolved before the route's own schemas run.
 */
function groupNameOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  const query = request.query as Record<string, unknown> | undefined;
  const header = request.headers[GROUP_HEADER];
  const candidates: [string, unknown][] = [
    ['params.group', params?.group],
    ['querystring.group', query?.group],
    [`headers.${GROUP_HEADER}`, Array.isArray(header) ? header[0] : header],
  ];
  const found = candidates.find(([, c]) => typeof c === 'string' && c.length > 0);
  if (!found) return undefined;
  const [where, name] = found as [string, string];
  const parsed = SlugSchema.safeParse(name);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? 'invalid';
    throw invalid(`Invalid request: ${where}: ${message}`, [{ path: where, message }]);
  }
  return name;
}

/**
 * The Authorization header; on DHuolib's wire layer also its X-Dhuo-Access-Key header (the client
 * sends any token without "Bearer" in it that way), which is a Forja token like any other.
 */
function credentialsOf(request: FastifyRequest): string | undefined {
  if (request.headers.authorization) return request.headers.authorization;
  const key = request.headers['x-dhuo-access-key'];
  if (typeof key === 'string' && key.length > 0 && apiPrefixOf(request.url.split('?')[0]!) === 'dhuo') return `Bearer ${key}`;
  return undefined;
}

/**
 * Authentication and authorisation, checked in one place for every route from its declared
 * requirement. Authentication runs first (onRequest) so a bad token is a 401 whatever the body;
 * the group check runs once the path and query are parsed.
 */
export function registerAuthHooks(app: App, authenticator: Authenticator, access: AccessPolicy, audit: AuditLog): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('group', null);

  app.addHook('onRoute', (route) => {
    const api = apiPrefixOf(route.url);
    if ((route.url.startsWith('/api/') || api === 'dhuo' || api === 'codex') && !route.config?.auth) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no auth requirement`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config?.auth;
    if (!need) return;
    request.principal = await authenticator.fromAuthorization(credentialsOf(request), { ip: request.ip, requestId: request.id });
    if ('public' in need) return;
    if (!request.principal && 'group' in need && need.anonymous) request.group = (await need.anonymous(request)) ?? null;
    if (!request.principal && !request.group)
      throw unauthenticated('Authentication required: send "Authorization: Bearer <token>" (log in at POST /api/v1/auth/login).');
  });

  app.addHook('preValidation', async (request: FastifyRequest, _reply: FastifyReply) => {
    const need: AuthRequirement | undefined = request.routeOptions.config?.auth;
    const principal = request.principal;
    if (!need || 'public' in need || !principal) return;
    if ('group' in need) {
      request.group = await access.requireGroup(principal, groupNameOf(request), need.group);
      return;
    }
    if (principal.kind === 'group' && !('authenticated' in need && need.allowGroupToken)) throw forbidden('A group token can only call models of its group.');
    if ('admin' in need) access.requireAdmin(principal);
  });

  auditRefusals(app, audit);
}

/**
 * Refused calls leave a trace (`access.denied`): every 403, and the 404s by which the access policy
 * hides another group's resources — not 404s of things that do not exist, which would bury probes
 * under typos. At most one entry per caller and route a minute; the entry counts those held back.
 */
function auditRefusals(app: App, audit: AuditLog): void {
  const sampler = new AuditSampler();
  app.addHook('onError', async (request, reply, error) => {
    const refusal = refusalOf(error);
    const principal = request.principal;
    if (!refusal || !principal) return;
    const route = `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
    const held = sampler.admit(`${principal.userId ?? principal.tokenId ?? principal.name}|${route}`);
    if (held === null) return;
    const details = {
      path: request.url.split('?')[0]!.slice(0, 300),
      status: error instanceof AppError ? error.status : reply.statusCode,
      reason: error.message.slice(0, 300),
      ...(held ? { heldBack: held } : {}),
    };
    try {
      await audit.record(contextOf(request), {
        action: 'access.denied',
        resourceType: 'route',
        resourceId: route.slice(0, 200),
        groupId: refusal.groupId,
        details,
      });
    } catch (err) {
      // The refusal stands whether or not it could be written down.
      request.log.warn({ err }, 'could not audit a refused request');
    }
  });
}

/** The request facts services need, for permission checks and the audit log. */
export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.principal) throw unauthenticated('Authentication required.');
  return { principal: request.principal, ip: request.ip, requestId: request.id };
}

export function groupOf(request: FastifyRequest) {
  if (!request.group) throw new Error(`route ${request.routeOptions.url} reads a group but declares no group requirement`);
  return request.group;
}
