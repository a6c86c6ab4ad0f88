import { z } from 'zod';
import {
  OkSchema,
  WebhookCreateSchema,
  WebhookDeliveryPageSchema,
  WebhookDeliveryQuerySchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  WebhookUpdateSchema,
  WebhookWithSecretSchema,
} from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { WebhooksService } from './service.js';

const Id = z.object({ id: z.string().min(1).max(40) }).strict();
const DeliveryParams = Id.extend({ deliveryId: z.string().min(1).max(40) }).strict();
const groupAdmin = { auth: { group: 'admin' } } as const;

export function registerWebhookRoutes(app: App, s: { webhooks: WebhooksService }): void {
  const tags = ['webhooks'];
  const w = s.webhooks;
  app.get(
    '/api/v1/webhooks',
    { config: groupAdmin, schema: { tags, summary: "The group's webhooks (group admins)", response: { 200: WebhookListSchema } } },
    async (req) => ({
      items: await w.list(groupOf(req)),
    }),
  );
  app.post(
    '/api/v1/webhooks',
    {
      config: groupAdmin,
      schema: {
        tags,
        summary: 'Subscribe a URL to registry events; the signing secret is returned once',
        body: WebhookCreateSchema,
        response: { 201: WebhookWithSecretSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await w.create(contextOf(req), groupOf(req), req.body)),
  );
  app.get('/api/v1/webhooks/:id', { config: groupAdmin, schema: { tags, summary: 'A webhook', params: Id, response: { 200: WebhookSchema } } }, async (req) =>
    w.get(groupOf(req), req.params.id),
  );
  app.patch(
    '/api/v1/webhooks/:id',
    {
      config: groupAdmin,
      schema: {
        tags,
        summary: 'Change a webhook; rotateSecret returns a new secret once',
        params: Id,
        body: WebhookUpdateSchema,
        response: { 200: WebhookSchema.extend({ secret: z.string().optional() }) },
      },
    },
    async (req) => w.update(contextOf(req), groupOf(req), req.params.id, req.body),
  );
  app.delete(
    '/api/v1/webhooks/:id',
    { config: groupAdmin, schema: { tags, summary: 'Delete a webhook and its delivery log', params: Id, response: { 200: OkSchema } } },
    async (req) => {
      await w.remove(contextOf(req), groupOf(req), req.params.id);
      return { ok: true as const };
    },
  );
  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      config: groupAdmin,
      schema: {
        tags,
        summary: 'Deliveries, newest first, with status codes',
        params: Id,
        querystring: WebhookDeliveryQuerySchema,
        response: { 200: WebhookDeliveryPageSchema },
      },
    },
    async (req) => w.deliveries(groupOf(req), req.params.id, req.query),
  );
  app.post(
    '/api/v1/webhooks/:id/ping',
    { config: groupAdmin, schema: { tags, summary: 'Send a ping delivery now', params: Id, response: { 202: WebhookDeliverySchema } } },
    async (req, reply) => reply.code(202).send(await w.ping(contextOf(req), groupOf(req), req.params.id)),
  );
  app.post(
    '/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    { config: groupAdmin, schema: { tags, summary: 'Send a past delivery again', params: DeliveryParams, response: { 202: WebhookDeliverySchema } } },
    async (req, reply) => reply.code(202).send(await w.redeliver(groupOf(req), req.params.id, req.params.deliveryId)),
  );
}
