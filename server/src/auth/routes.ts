import { z } from 'zod';
import {
  AuditListSchema,
  AuditQuerySchema,
  GroupCreateSchema,
  GroupListSchema,
  GroupSchema,
  GroupUpdateSchema,
  IdSchema,
  LoginRequestSchema,
  LoginResponseSchema,
  MemberListSchema,
  MemberPutSchema,
  MemberSchema,
  OkSchema,
  PageQuerySchema,
  SlugSchema,
  TokenCreatedSchema,
  TokenCreateSchema,
  TokenListQuerySchema,
  TokenListSchema,
  TokenSchema,
  UserCreateSchema,
  UserListSchema,
  UserSchema,
  UserUpdateSchema,
  WhoamiSchema,
} from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { AuditLog } from './audit.js';
import type { GroupsService } from './groups-service.js';
import type { TokensService } from './tokens-service.js';
import type { UsersService } from './users-service.js';

const GroupParams = z.object({ group: SlugSchema }).strict();
const MemberParams = z.object({ group: SlugSchema, username: SlugSchema }).strict();
const UserParams = z.object({ username: SlugSchema }).strict();
const TokenParams = z.object({ id: IdSchema }).strict();

const authed = { auth: { authenticated: true } } as const;
const authedOrGroupToken = { auth: { authenticated: true, allowGroupToken: true } } as const;
const admin = { auth: { admin: true } } as const;
const groupRole = (role: 'viewer' | 'editor' | 'admin') => ({ auth: { group: role } }) as const;

export function registerAuthRoutes(app: App, s: { audit: AuditLog; groups: GroupsService; tokens: TokensService; users: UsersService }): void {
  app.post(
    '/api/v1/auth/login',
    {
      config: { auth: { public: true } },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a username and password for a session token',
        body: LoginRequestSchema,
        response: { 200: LoginResponseSchema },
      },
    },
    async (req) => s.tokens.login({ ip: req.ip, requestId: req.id }, req.body.username, req.body.password),
  );

  app.post(
    '/api/v1/auth/logout',
    { config: authed, schema: { tags: ['auth'], summary: 'Revoke the current session token', response: { 200: OkSchema } } },
    async (req) => {
      await s.tokens.logout(contextOf(req));
      return { ok: true as const };
    },
  );

  app.get(
    '/api/v1/whoami',
    { config: authedOrGroupToken, schema: { tags: ['auth'], summary: 'Who the token belongs to', response: { 200: WhoamiSchema } } },
    async (req) => s.users.whoami(contextOf(req), typeof req.headers['x-forja-group'] === 'string' ? req.headers['x-forja-group'] : undefined),
  );

  // users
  app.get(
    '/api/v1/users',
    { config: admin, schema: { tags: ['users'], summary: 'List users', querystring: PageQuerySchema, response: { 200: UserListSchema } } },
    async (req) => s.users.list(contextOf(req), req.query.limit, req.query.pageToken),
  );
  app.post(
    '/api/v1/users',
    { config: admin, schema: { tags: ['users'], summary: 'Create a user', body: UserCreateSchema, response: { 201: UserSchema } } },
    async (req, reply) => reply.status(201).send(await s.users.create(contextOf(req), req.body)),
  );
  app.get(
    '/api/v1/users/:username',
    { config: authed, schema: { tags: ['users'], summary: 'A user (yourself, or anyone for admins)', params: UserParams, response: { 200: UserSchema } } },
    async (req) => s.users.get(contextOf(req), req.params.username),
  );
  app.patch(
    '/api/v1/users/:username',
    { config: authed, schema: { tags: ['users'], summary: 'Update a user', params: UserParams, body: UserUpdateSchema, response: { 200: UserSchema } } },
    async (req) => s.users.update(contextOf(req), req.params.username, req.body),
  );

  // groups
  app.get(
    '/api/v1/groups',
    { config: authedOrGroupToken, schema: { tags: ['groups'], summary: 'Your groups', response: { 200: GroupListSchema } } },
    async (req) => ({
      items: await s.groups.list(contextOf(req)),
    }),
  );
  app.post(
    '/api/v1/groups',
    { config: authed, schema: { tags: ['groups'], summary: 'Create a group (you become its admin)', body: GroupCreateSchema, response: { 201: GroupSchema } } },
    async (req, reply) => reply.status(201).send(await s.groups.create(contextOf(req), req.body)),
  );
  app.get(
    '/api/v1/groups/:group',
    { config: groupRole('viewer'), schema: { tags: ['groups'], summary: 'A group', params: GroupParams, response: { 200: GroupSchema } } },
    async (req) => s.groups.get(contextOf(req), groupOf(req)),
  );
  app.patch(
    '/api/v1/groups/:group',
    {
      config: groupRole('admin'),
      schema: { tags: ['groups'], summary: 'Update a group', params: GroupParams, body: GroupUpdateSchema, response: { 200: GroupSchema } },
    },
    async (req) => s.groups.update(contextOf(req), groupOf(req), req.body.description),
  );
  app.delete(
    '/api/v1/groups/:group',
    { config: groupRole('admin'), schema: { tags: ['groups'], summary: 'Delete a group (system admins)', params: GroupParams, response: { 200: OkSchema } } },
    async (req) => {
      await s.groups.remove(contextOf(req), groupOf(req));
      return { ok: true as const };
    },
  );
  app.get(
    '/api/v1/groups/:group/members',
    { config: groupRole('viewer'), schema: { tags: ['groups'], summary: 'Members and their roles', params: GroupParams, response: { 200: MemberListSchema } } },
    async (req) => ({ items: await s.groups.members(groupOf(req)) }),
  );
  app.put(
    '/api/v1/groups/:group/members/:username',
    {
      config: groupRole('admin'),
      schema: { tags: ['groups'], summary: 'Add a member or change their role', params: MemberParams, body: MemberPutSchema, response: { 200: MemberSchema } },
    },
    async (req) => s.groups.setMember(contextOf(req), groupOf(req), req.params.username, req.body.role),
  );
  app.delete(
    '/api/v1/groups/:group/members/:username',
    { config: groupRole('admin'), schema: { tags: ['groups'], summary: 'Remove a member', params: MemberParams, response: { 200: OkSchema } } },
    async (req) => {
      await s.groups.removeMember(contextOf(req), groupOf(req), req.params.username);
      return { ok: true as const };
    },
  );

  // tokens
  app.get(
    '/api/v1/tokens',
    {
      config: authed,
      schema: {
        tags: ['tokens'],
        summary: "Your personal tokens and MLOps Codex sessions, or a group's service and group tokens",
        querystring: TokenListQuerySchema,
        response: { 200: TokenListSchema },
      },
    },
    async (req) => ({ items: await s.tokens.list(contextOf(req), req.query.group, req.query.includeRevoked === 'true') }),
  );
  app.post(
    '/api/v1/tokens',
    {
      config: authed,
      schema: {
        tags: ['tokens'],
        summary: 'Create a token; the secret is in this response only',
        body: TokenCreateSchema,
        response: { 201: TokenCreatedSchema },
      },
    },
    async (req, reply) => reply.status(201).send(await s.tokens.create(contextOf(req), req.body)),
  );
  app.delete(
    '/api/v1/tokens/:id',
    { config: authed, schema: { tags: ['tokens'], summary: 'Revoke a token', params: TokenParams, response: { 200: TokenSchema } } },
    async (req) => s.tokens.revoke(contextOf(req), req.params.id),
  );

  // audit
  app.get(
    '/api/v1/audit',
    { config: authed, schema: { tags: ['audit'], summary: 'Audit log, newest first', querystring: AuditQuerySchema, response: { 200: AuditListSchema } } },
    async (req) => s.audit.listFor(contextOf(req), req.query),
  );
}
