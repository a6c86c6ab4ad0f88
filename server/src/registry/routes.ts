import { z } from 'zod';
import {
  AliasSetSchema,
  ModelSearchSchema,
  ModelVersionCreateSchema,
  ModelVersionPageSchema,
  ModelVersionSchema,
  OkSchema,
  RegisteredModelCreateSchema,
  RegisteredModelPageSchema,
  RegisteredModelSchema,
  RegisteredModelUpdateSchema,
  TransitionSchema,
  TransitionResultSchema,
  TimelineSchema,
  RegistrySettingsSchema,
  RegistrySettingsUpdateSchema,
  ApprovalStatusSchema,
  ApprovalListSchema,
  ApprovalRequestSchema,
  ApprovalDecisionSchema,
} from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { RegistryService } from './service.js';

const Name = z.object({ name: z.string().min(1).max(256) }).strict();
const NameKey = z.object({ name: z.string().min(1).max(256), key: z.string().min(1).max(250) }).strict();
const NameVersion = z.object({ name: z.string().min(1).max(256), version: z.string().max(20) }).strict();
const NameVersionKey = NameVersion.extend({ key: z.string().min(1).max(250) }).strict();
const NameAlias = z.object({ name: z.string().min(1).max(256), alias: z.string().min(1).max(256) }).strict();
const role = (r: 'viewer' | 'editor' | 'admin') => ({ auth: { group: r } }) as const;
const ok = { ok: true as const };

export function registerRegistryRoutes(app: App, s: { registry: RegistryService }): void {
  const r = s.registry;
  const tags = ['registry'];

  app.post(
    '/api/v1/models',
    {
      config: role('editor'),
      schema: { tags, summary: 'Register a model name in the group', body: RegisteredModelCreateSchema, response: { 201: RegisteredModelSchema } },
    },
    async (req, reply) => reply.status(201).send(await r.createModel(contextOf(req), groupOf(req), req.body)),
  );
  app.post(
    '/api/v1/models/search',
    {
      config: role('viewer'),
      schema: { tags, summary: 'Search registered models (name, tags.<key>)', body: ModelSearchSchema, response: { 200: RegisteredModelPageSchema } },
    },
    async (req) => r.searchModels(groupOf(req), req.body),
  );
  app.get(
    '/api/v1/models/resolve',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: 'Resolve models:/name/3, models:/name/Production, models:/name/latest or models:/name@alias',
        querystring: z.object({ uri: z.string().max(600) }).strict(),
        response: { 200: ModelVersionSchema },
      },
    },
    async (req) => r.resolveUri(groupOf(req), req.query.uri),
  );
  app.post(
    '/api/v1/model-versions/search',
    { config: role('viewer'), schema: { tags, summary: 'Search model versions', body: ModelSearchSchema, response: { 200: ModelVersionPageSchema } } },
    async (req) => r.searchVersions(groupOf(req), req.body),
  );
  app.get(
    '/api/v1/models/:name',
    {
      config: role('viewer'),
      schema: { tags, summary: 'A registered model with its latest version per stage', params: Name, response: { 200: RegisteredModelSchema } },
    },
    async (req) => r.getModel(groupOf(req), req.params.name),
  );
  app.patch(
    '/api/v1/models/:name',
    {
      config: role('editor'),
      schema: { tags, summary: 'Rename or describe a model', params: Name, body: RegisteredModelUpdateSchema, response: { 200: RegisteredModelSchema } },
    },
    async (req) => r.updateModel(contextOf(req), groupOf(req), req.params.name, req.body),
  );
  app.delete(
    '/api/v1/models/:name',
    { config: role('editor'), schema: { tags, summary: 'Delete a model and its versions', params: Name, response: { 200: OkSchema } } },
    async (req) => {
      await r.deleteModel(contextOf(req), groupOf(req), req.params.name);
      return ok;
    },
  );
  app.put(
    '/api/v1/models/:name/tags/:key',
    {
      config: role('editor'),
      schema: { tags, summary: 'Set a model tag', params: NameKey, body: z.object({ value: z.string().max(100_000) }).strict(), response: { 200: OkSchema } },
    },
    async (req) => {
      await r.setModelTag(groupOf(req), req.params.name, req.params.key, req.body.value);
      return ok;
    },
  );
  app.delete(
    '/api/v1/models/:name/tags/:key',
    { config: role('editor'), schema: { tags, summary: 'Delete a model tag', params: NameKey, response: { 200: OkSchema } } },
    async (req) => {
      await r.deleteModelTag(groupOf(req), req.params.name, req.params.key);
      return ok;
    },
  );
  app.get(
    '/api/v1/models/:name/latest',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: 'Newest version per stage',
        params: Name,
        querystring: z.object({ stages: z.string().max(200).optional() }).strict(),
        response: { 200: z.object({ modelVersions: z.array(ModelVersionSchema) }) },
      },
    },
    async (req) => ({ modelVersions: await r.latestVersions(groupOf(req), req.params.name, req.query.stages ? req.query.stages.split(',') : []) }),
  );

  app.post(
    '/api/v1/models/:name/versions',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Create a version from a run artifact path or a logged model',
        params: Name,
        body: ModelVersionCreateSchema,
        response: { 201: ModelVersionSchema },
      },
    },
    async (req, reply) => reply.status(201).send(await r.createVersion(contextOf(req), groupOf(req), req.params.name, req.body)),
  );
  app.get(
    '/api/v1/models/:name/versions/:version',
    { config: role('viewer'), schema: { tags, summary: 'A model version', params: NameVersion, response: { 200: ModelVersionSchema } } },
    async (req) => r.getVersion(groupOf(req), req.params.name, req.params.version),
  );
  app.patch(
    '/api/v1/models/:name/versions/:version',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: "Update a version's description",
        params: NameVersion,
        body: z.object({ description: z.string().max(100_000) }).strict(),
        response: { 200: ModelVersionSchema },
      },
    },
    async (req) => r.updateVersion(groupOf(req), req.params.name, req.params.version, req.body.description),
  );
  app.delete(
    '/api/v1/models/:name/versions/:version',
    { config: role('editor'), schema: { tags, summary: 'Delete a version', params: NameVersion, response: { 200: OkSchema } } },
    async (req) => {
      await r.deleteVersion(contextOf(req), groupOf(req), req.params.name, req.params.version);
      return ok;
    },
  );
  app.post(
    '/api/v1/models/:name/versions/:version/transition',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Move a version to a stage (200), or open an approval request when the stage needs one (202)',
        params: NameVersion,
        body: TransitionSchema.extend({ comment: z.string().max(5000).optional() }).strict(),
        response: { 200: TransitionResultSchema, 202: TransitionResultSchema },
      },
    },
    async (req, reply) => {
      const result = await r.transition(
        contextOf(req),
        groupOf(req),
        req.params.name,
        req.params.version,
        req.body.stage,
        req.body.archiveExistingVersions,
        req.body.comment,
      );
      return reply.status(result.approvalRequest ? 202 : 200).send(result);
    },
  );
  app.get(
    '/api/v1/models/:name/timeline',
    {
      config: role('viewer'),
      schema: { tags, summary: 'Transitions, alias moves, approvals and edits of a model, newest first', params: Name, response: { 200: TimelineSchema } },
    },
    async (req) => r.timeline(groupOf(req), req.params.name),
  );

  app.get(
    '/api/v1/registry/settings',
    { config: role('viewer'), schema: { tags, summary: "The group's registry settings", response: { 200: RegistrySettingsSchema } } },
    async (req) => r.settings(groupOf(req)),
  );
  app.put(
    '/api/v1/registry/settings',
    {
      config: role('admin'),
      schema: { tags, summary: 'Which stages need an approval (group admins)', body: RegistrySettingsUpdateSchema, response: { 200: RegistrySettingsSchema } },
    },
    async (req) => r.updateSettings(contextOf(req), groupOf(req), req.body),
  );
  app.get(
    '/api/v1/approvals',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: "The group's approval requests, newest first",
        querystring: z.object({ status: ApprovalStatusSchema.optional() }).strict(),
        response: { 200: ApprovalListSchema },
      },
    },
    async (req) => ({ items: await r.approvals(groupOf(req), req.query.status) }),
  );
  app.get(
    '/api/v1/approvals/:id',
    {
      config: role('viewer'),
      schema: { tags, summary: 'An approval request', params: z.object({ id: z.string().max(40) }).strict(), response: { 200: ApprovalRequestSchema } },
    },
    async (req) => r.approval(groupOf(req), req.params.id),
  );
  app.post(
    '/api/v1/approvals/:id/decision',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: 'Approve (performs the transition) or reject, with a comment; group admins, not the requester',
        params: z.object({ id: z.string().max(40) }).strict(),
        body: ApprovalDecisionSchema,
        response: { 200: ApprovalRequestSchema },
      },
    },
    async (req) => r.decide(contextOf(req), groupOf(req), req.params.id, req.body.decision, req.body.comment),
  );
  app.put(
    '/api/v1/models/:name/versions/:version/tags/:key',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Set a version tag',
        params: NameVersionKey,
        body: z.object({ value: z.string().max(100_000) }).strict(),
        response: { 200: OkSchema },
      },
    },
    async (req) => {
      await r.setVersionTag(groupOf(req), req.params.name, req.params.version, req.params.key, req.body.value);
      return ok;
    },
  );
  app.delete(
    '/api/v1/models/:name/versions/:version/tags/:key',
    { config: role('editor'), schema: { tags, summary: 'Delete a version tag', params: NameVersionKey, response: { 200: OkSchema } } },
    async (req) => {
      await r.deleteVersionTag(groupOf(req), req.params.name, req.params.version, req.params.key);
      return ok;
    },
  );
  app.put(
    '/api/v1/models/:name/aliases/:alias',
    { config: role('editor'), schema: { tags, summary: 'Point an alias at a version', params: NameAlias, body: AliasSetSchema, response: { 200: OkSchema } } },
    async (req) => {
      await r.setAlias(contextOf(req), groupOf(req), req.params.name, req.params.alias, req.body.version);
      return ok;
    },
  );
  app.delete(
    '/api/v1/models/:name/aliases/:alias',
    { config: role('editor'), schema: { tags, summary: 'Delete an alias', params: NameAlias, response: { 200: OkSchema } } },
    async (req) => {
      await r.deleteAlias(contextOf(req), groupOf(req), req.params.name, req.params.alias);
      return ok;
    },
  );
  app.get(
    '/api/v1/models/:name/aliases/:alias',
    { config: role('viewer'), schema: { tags, summary: 'The version an alias points at', params: NameAlias, response: { 200: ModelVersionSchema } } },
    async (req) => r.versionByAlias(groupOf(req), req.params.name, req.params.alias),
  );
}
