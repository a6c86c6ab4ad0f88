import { rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  PipelineListSchema,
  PipelineRunCreateSchema,
  PipelineRunListSchema,
  PipelineRunSchema,
  PipelineSchema,
  PipelineUploadFormSchema,
} from '@forja/contracts';
import { newId } from '../db/ids.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { PipelinesService } from './service.js';
import { stageUpload } from '../http/multipart.js';

const Name = z.object({ name: z.string().min(1).max(100) }).strict();
const RunId = z.object({ runId: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;

export function registerPipelineRoutes(app: App, s: { pipelines: PipelinesService }): void {
  const p = s.pipelines;
  const tags = ['pipelines'];
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { preservePath: true, limits: { fileSize: 2 * 1024 * 1024 * 1024, files: 200, fields: 10, fieldSize: 10_000 } });
    scope.put(
      '/api/v1/pipelines/:name',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Create a pipeline or upload a new version (multipart form: the YAML definition and the files it names)',
          params: Name,
          streamedBody: { 'multipart/form-data': PipelineUploadFormSchema },
          response: { 200: PipelineSchema },
        },
      },
      async (req) => {
        const staging = path.join(p.root, '.staging', newId());
        try {
          const staged = await stageUpload(req, staging, ['definition', 'file']);
          return await p.upload(contextOf(req), groupOf(req), req.params.name, staged, staging);
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
  });
  app.get(
    '/api/v1/pipelines',
    { config: role('viewer'), schema: { tags, summary: "The group's pipelines", response: { 200: PipelineListSchema } } },
    async (req) => ({ items: await p.list(groupOf(req)) }),
  );
  app.get(
    '/api/v1/pipelines/:name',
    { config: role('viewer'), schema: { tags, summary: 'A pipeline: its steps, definition and files', params: Name, response: { 200: PipelineSchema } } },
    async (req) => p.get(groupOf(req), req.params.name),
  );
  app.post(
    '/api/v1/pipelines/:name/runs',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Run the pipeline (whole, or from a step reusing the last outputs before it)',
        params: Name,
        body: PipelineRunCreateSchema,
        response: { 202: PipelineRunSchema },
      },
    },
    async (req, reply) => reply.code(202).send(await p.start(contextOf(req), groupOf(req), req.params.name, req.body)),
  );
  app.get(
    '/api/v1/pipelines/:name/runs',
    { config: role('viewer'), schema: { tags, summary: "The pipeline's runs, newest first", params: Name, response: { 200: PipelineRunListSchema } } },
    async (req) => ({
      items: await p.runs(groupOf(req), req.params.name),
    }),
  );
  app.get(
    '/api/v1/pipeline-runs/:runId',
    {
      config: role('viewer'),
      schema: { tags, summary: 'A run: the status, job, outputs and error of every step', params: RunId, response: { 200: PipelineRunSchema } },
    },
    async (req) => p.run(groupOf(req), req.params.runId),
  );
  app.post(
    '/api/v1/pipeline-runs/:runId/cancel',
    {
      config: role('editor'),
      schema: { tags, summary: 'Cancel a run: running steps are stopped, pending ones never start', params: RunId, response: { 200: PipelineRunSchema } },
    },
    async (req) => p.cancel(contextOf(req), groupOf(req), req.params.runId),
  );
  app.post(
    '/api/v1/pipeline-runs/:runId/retry',
    {
      config: role('editor'),
      schema: { tags, summary: 'Run the failed, skipped and cancelled steps again', params: RunId, response: { 202: PipelineRunSchema } },
    },
    async (req, reply) => reply.code(202).send(await p.retry(contextOf(req), groupOf(req), req.params.runId)),
  );
}
