import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../auth/access.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { RequestContext } from '../auth/principal.js';
import { SlugSchema } from '@forja/contracts';
import { forbidden, invalid, unauthenticated } from '../errors.js';
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
 * Authentication and authorisation, checked in one place for every route from its declared
 * requirement. Authentication runs first (onRequest) so a bad token is a 401 whatever the body;
 * the group check runs once the path and query are parsed.
 */
export function registerAuthHooks(app: App, authenticator: Authenticator, access: AccessPolicy): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('group', null);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && !route.config?.auth) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no auth requirement`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config?.auth;
    if (!need) return;
    request.principal = await authenticator.fromAuthorization(request.headers.authorization, request.ip);
    if ('public' in need) return;
    if (!request.principal) throw unauthenticated('Authentication required: send "Authorization: Bearer <token>" (log in at POST /api/v1/auth/login).');
  });

  app.addHook('preValidation', async (request: FastifyRequest, _reply: FastifyReply) => {
    const need: AuthRequirement | undefined = request.routeOptions.config?.auth;
    const principal = request.principal;
    if (!need || 'public' in need || !principal) return;
    if ('group' in need) {
      request.group = await access.requireGroup(principal, groupNameOf(request), need.group);
      return;
    }
    if (principal.kind === 'group' && !('authenticated' in need && need.allowGroupToken))
      throw forbidden('A group token can only call models of its group.');
    if ('admin' in need) access.requireAdmin(principal);
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
