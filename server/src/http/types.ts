import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Role } from '@forja/contracts';
import type { GroupScope, Principal, RequestContext } from '../auth/principal.js';

/**
 * What a route needs from its caller; every /api route must declare one.
 * - public: anyone;
 * - authenticated: any user or service token (group tokens only with allowGroupToken);
 * - admin: a system administrator;
 * - group: at least this role in the request's group ('predict' also admits that group's tokens;
 *   `anonymous` lets a route admit callers without credentials case by case).
 */
export type AuthRequirement =
  | { public: true }
  | { authenticated: true; allowGroupToken?: boolean }
  | { admin: true }
  | {
      group: Role | 'predict';
      /**
       * For a caller without credentials: the group to act in when the route answers anonymous
       * callers for this request (a public deployment), else undefined and the caller gets a 401.
       */
      anonymous?: (request: FastifyRequest) => Promise<GroupScope | undefined>;
    };

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
