import { z } from 'zod';
import type { AccessPolicy } from '../../auth/access.js';
import type { GroupsService } from '../../auth/groups-service.js';
import type { TokensService } from '../../auth/tokens-service.js';
import { contextOf } from '../../http/auth-hooks.js';
import type { App } from '../../http/types.js';
import { unauthenticated } from '../../errors.js';
import { VERSION } from '../../version.js';
import { codexGroupName, codexGroupScope } from './group-scope.js';

/** The name of the group tokens this API hands out; a forced refresh revokes the group's others of that name. */
export const CODEX_GROUP_TOKEN = 'MLOps Codex group token';
/** Codex's group tokens live a year. */
const GROUP_TOKEN_DAYS = 365;

export interface CodexAuthDeps {
  access: AccessPolicy;
  groups: GroupsService;
  tokens: TokensService;
  /** FORJA_CODEX_TENANT: the only tenant a login may name. */
  tenant: string;
}

const field = (what: string) => z.string({ error: `${what} is required (a form field)` }).min(1, `${what} is required (a form field)`);
const LoginForm = z.object({ user: field('user'), password: field('password'), tenant: field('tenant') });
const GroupForm = z.object({ name: field('name'), description: z.string().max(2000).default('') });
const RefreshParams = z.object({ g: z.string() });
const RefreshQuery = z.object({ force: z.enum(['true', 'false'], { error: 'force must be true or false' }).optional() });

// Codex paths are not Forja's API: they stay out of /api/v1/openapi.json.
const publicRoute = { auth: { public: true } } as const;
/** Management calls take any user credential (a Codex login, a session, a personal or service token); a group token gets a 403. */
const management = { auth: { authenticated: true } } as const;

/** MLOps Codex's health, login, groups and group tokens, in its field names. */
export function registerCodexAuthRoutes(scope: App, deps: CodexAuthDeps): void {
  scope.get('/health', { config: publicRoute, schema: { hide: true } }, async () => ({ Version: VERSION }));

  scope.post('/login', { config: publicRoute, schema: { hide: true, body: LoginForm } }, async (req) => {
    const { user, password, tenant } = req.body;
    if (tenant !== deps.tenant)
      throw unauthenticated(
        `Unknown tenant "${tenant}": this Forja server answers MLOps Codex logins for tenant "${deps.tenant}". Log in with that tenant, or have the administrator set FORJA_CODEX_TENANT=${tenant}.`,
      );
    const session = await deps.tokens.clientLogin({ ip: req.ip, requestId: req.id }, user, password, 'codex');
    return { Token: session.token };
  });

  scope.get('/groups', { config: management, schema: { hide: true } }, async (req) => ({
    Results: (await deps.groups.list(contextOf(req))).map((g) => ({
      Name: g.name,
      Description: g.description,
      CreatedAt: new Date(g.createdAt).toISOString(),
      Role: g.myRole,
    })),
  }));

  scope.post('/groups', { config: management, schema: { hide: true, body: GroupForm } }, async (req, reply) => {
    const ctx = contextOf(req);
    const name = codexGroupName(req.body.name, 'name');
    await deps.groups.create(ctx, { name, description: req.body.description });
    const token = await deps.tokens.issueGroupToken(ctx, name, CODEX_GROUP_TOKEN, GROUP_TOKEN_DAYS, false);
    return reply.status(201).send({ Token: token });
  });

  // Forja keeps only hashes, so a group's current token cannot be shown again: every refresh makes a
  // new one; force=true also revokes the group's earlier Codex group tokens (what Codex's forced
  // expiry does), force=false leaves them working.
  scope.get('/groups/refresh/:g', { config: management, schema: { hide: true, params: RefreshParams, querystring: RefreshQuery } }, async (req, reply) => {
    const group = await codexGroupScope(deps.access, req, req.params.g, 'admin');
    const token = await deps.tokens.issueGroupToken(contextOf(req), group.name, CODEX_GROUP_TOKEN, GROUP_TOKEN_DAYS, req.query.force === 'true');
    return reply.status(201).send({ Token: token });
  });
}
