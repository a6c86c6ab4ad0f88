import type { FastifyRequest } from 'fastify';
import { SlugSchema, type Role } from '@forja/contracts';
import type { AccessPolicy } from '../../auth/access.js';
import type { GroupScope } from '../../auth/principal.js';
import { invalid, unauthenticated } from '../../errors.js';

/**
 * A Codex group name as a Forja group name: Codex matched names case-insensitively (and once lost
 * groups with upper case letters), Forja's are lower case, so the name is folded to lower case. A name
 * that still is no Forja name (spaces, accents, 1 or more than 63 characters) is refused, naming the rule.
 */
export function codexGroupName(name: string, field = 'group'): string {
  const folded = name.trim().toLowerCase();
  const parsed = SlugSchema.safeParse(folded);
  if (!parsed.success)
    throw invalid(`The group name "${name}" cannot be a Forja group: ${parsed.error.issues[0]?.message ?? 'invalid'} (upper case is folded to lower case).`, [
      { path: field, message: parsed.error.issues[0]?.message ?? 'invalid' },
    ]);
  return folded;
}

/**
 * The Forja group a Codex path's `{g}` names, with the caller's role there checked: 404 when it does
 * not exist or the caller is not in it, 403 when the role is too low. `needed` is 'predict' on the
 * routes a group token may call (runs, their status and results), which admits that group's token.
 * Declare the route `{ auth: { authenticated: true } }` (management: a group token is refused with a
 * 403 before this runs) or `{ auth: { authenticated: true, allowGroupToken: true } }` (data plane), and
 * name the path parameter anything but `group` (the auth hook would read that one as a Forja name).
 */
export function codexGroupScope(access: AccessPolicy, request: FastifyRequest, group: string, needed: Role | 'predict'): Promise<GroupScope> {
  if (!request.principal) throw unauthenticated('Authentication required: log in at POST /codex/api/login and send "Authorization: Bearer <token>".');
  return access.requireGroup(request.principal, codexGroupName(group), needed);
}
