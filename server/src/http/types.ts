import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Role } from '@forja/contracts';
import type { GroupScope, Principal, RequestContext } from '../auth/principal.js';

/**
 * What a route needs from its caller; every /api route must declare one.
 * - public: anyone;
 * - authenticated: any user or service token (group tokens only with allowGroupToken);
 * - admin: a system administrator;
 * - group: at least this role in the request's group ('predict' also admits that group's tokens).
 */
export type AuthRequirement =
  | { public: true }
  | { authenticated: true; allowGroupToken?: boolean }
  | { admin: true }
  | { group: Role | 'predict' };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Set by the auth hook on routes that declare a group requirement. */
    group: GroupScope | null;
  }
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export type { RequestContext };
