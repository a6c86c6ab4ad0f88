import { rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TrainingPromoteSchema, TrainingPromotedSchema, TrainingRunListSchema, TrainingRunSchema, TrainingUploadFormSchema } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { TrainingService } from './service.js';
import { stageUpload } from '../http/multipart.js';

const Id = z.object({ id: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;
const UPLOAD_FILE_LIMIT = 2 * 1024 * 1024 * 1024;

export function registerTrainingRoutes(app: App, s: { training: TrainingService }): void {
  const t = s.training;
  const tags = ['training'];
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { preservePath: true, limits: { fileSize: UPLOAD_FILE_LIMIT, files: 50, fields: 20, fieldSize: 100_000 } });
    scope.post(
      '/api/v1/training/runs',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Start a training run (multipart form: the script, the data file or a lake table, the fields)',
          streamedBody: { 'multipart/form-data': TrainingUploadFormSchema },
          response: { 202: TrainingRunSchema },
        },
      },
      async (req, reply) => {
        const id = newId();
        const staging = path.join(t.root, '.staging', id);
        try {
          const staged = await stageUpload(req, staging, ['source', 'data', 'requirements', 'extra']);
          return reply.code(202).send(await t.create(contextOf(req), groupOf(req), id, staged, staging));
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
  });
  app.get(
    '/api/v1/training/runs',
    { config: role('viewer'), schema: { tags, summary: "The group's training runs, newest first", response: { 200: TrainingRunListSchema } } },
    async (req) => ({
      items: await t.list(contextOf(req), groupOf(req)),
    }),
  );
  app.get(
    '/api/v1/training/runs/:id',
    {
      config: role('viewer'),
      schema: { tags, summary: 'A training run: status, metrics, its tracking run', params: Id, response: { 200: TrainingRunSchema } },
    },
    async (req) => t.get(contextOf(req), groupOf(req), req.params.id),
  );
  app.post(
    '/api/v1/training/runs/:id/cancel',
    { config: role('editor'), schema: { tags, summary: 'Stop a training run', params: Id, response: { 200: TrainingRunSchema } } },
    async (req) => t.cancel(contextOf(req), groupOf(req), req.params.id),
  );
  app.post(
    '/api/v1/training/runs/:id/promote',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Register the trained model as a new version (and deploy it)',
        params: Id,
        body: TrainingPromoteSchema,
        response: { 200: TrainingPromotedSchema },
      },
    },
    async (req) => t.promote(contextOf(req), groupOf(req), req.params.id, req.body),
  );
}
