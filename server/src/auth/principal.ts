import type { Role, TokenKind } from '@forja/contracts';

/** Who is calling. Built once per request by the authenticator. */
export interface Principal {
  kind: 'user' | 'service' | 'group';
  userId: string | null;
  /** A user's username; for service and group tokens, the token's name. */
  name: string;
  isAdmin: boolean;
  tokenId: string | null;
  tokenName: string | null;
  tokenKind: TokenKind | null;
  /** Service and group tokens act in one group only. */
  boundGroup: { id: string; name: string; role: Role | null } | null;
  defaultGroupId: string | null;
}

/** What a service needs to know about the request it serves, for permission checks and the audit log. */
export interface RequestContext {
  principal: Principal;
  ip: string | null;
  requestId: string | null;
}

/** The group a request acts in, resolved and checked by the auth hook. */
export interface GroupScope {
  id: string;
  name: string;
  /** The caller's effective role; null for a group token, which may only call models. */
  role: Role | null;
}

export const systemContext: RequestContext = {
  principal: {
    kind: 'service',
    userId: null,
    name: 'system',
    isAdmin: true,
    tokenId: null,
    tokenName: null,
    tokenKind: null,
    boundGroup: null,
    defaultGroupId: null,
  },
  ip: null,
  requestId: null,
};

/** For recording what an unauthenticated caller tried (a failed login). */
export function anonymousContext(ip: string | null, requestId: string | null): RequestContext {
  return { principal: { ...systemContext.principal, kind: 'user', name: '(anonymous)', isAdmin: false }, ip, requestId };
}
