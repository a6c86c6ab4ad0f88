import { rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BatchDeployFormSchema,
  BatchDeployListSchema,
  BatchDeploySchema,
  BatchProjectCreateSchema,
  BatchProjectListSchema,
  BatchProjectSchema,
  BatchProjectUpdateSchema,
  BatchRunCreateSchema,
  BatchRunListSchema,
  BatchRunSchema,
  ClusterProfileListSchema,
  ClusterSizeSchema,
  ClusterProfileSchema,
  ClusterProfileUpdateSchema,
  OkSchema,
  ScheduleCreateSchema,
  ScheduleListSchema,
  ScheduleSchema,
  ScheduleUpdateSchema,
} from '@forja/contracts';
import { newId } from '../db/ids.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { SchedulesService } from './schedules.js';
import type { BatchService } from './service.js';
import { stageUpload } from '../http/multipart.js';

const Name = z.object({ name: z.string().min(1).max(100) }).strict();
const RunParams = Name.extend({ runId: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;

export function registerBatchRoutes(app: App, s: { batch: BatchService; schedules: SchedulesService }): void {
  const b = s.batch;
  const tags = ['batch'];
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { preservePath: true, limits: { fileSize: 100 * 1024 * 1024, files: 2, fields: 5 } });

    scope.get(
      '/api/v1/clusters',
      {
        config: { auth: { authenticated: true } },
        schema: { tags, summary: 'Cluster profiles: sizes 1, 2 and 3', response: { 200: ClusterProfileListSchema } },
      },
      async () => ({
        items: await b.clusters(),
      }),
    );
    scope.patch(
      '/api/v1/clusters/:size',
      {
        config: { auth: { admin: true } },
        schema: {
          tags,
          summary: 'Change a cluster profile (system administrators)',
          params: z.object({ size: z.coerce.number().pipe(ClusterSizeSchema) }).strict(),
          body: ClusterProfileUpdateSchema,
          response: { 200: ClusterProfileSchema },
        },
      },
      async (req) => b.updateCluster(contextOf(req), req.params.size, req.body),
    );
    scope.get(
      '/api/v1/batch/projects',
      { config: role('viewer'), schema: { tags, summary: "The group's batch projects", response: { 200: BatchProjectListSchema } } },
      async (req) => ({
        items: await b.projects(groupOf(req)),
      }),
    );
    scope.post(
      '/api/v1/batch/projects',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Create a batch project (DHuolib create_batch_project)',
          body: BatchProjectCreateSchema,
          response: { 201: BatchProjectSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await b.createProject(contextOf(req), groupOf(req), req.body)),
    );
    scope.get(
      '/api/v1/batch/projects/:name',
      { config: role('viewer'), schema: { tags, summary: 'A batch project', params: Name, response: { 200: BatchProjectSchema } } },
      async (req) => b.project(groupOf(req), req.params.name),
    );
    scope.patch(
      '/api/v1/batch/projects/:name',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Describe it or move it to another cluster size',
          params: Name,
          body: BatchProjectUpdateSchema,
          response: { 200: BatchProjectSchema },
        },
      },
      async (req) => b.updateProject(contextOf(req), groupOf(req), req.params.name, req.body),
    );
    scope.delete(
      '/api/v1/batch/projects/:name',
      {
        config: role('editor'),
        schema: { tags, summary: 'Delete it, its deploys and runs (running ones are cancelled)', params: Name, response: { 200: OkSchema } },
      },
      async (req) => {
        await b.removeProject(contextOf(req), groupOf(req), req.params.name);
        return { ok: true as const };
      },
    );
    scope.post(
      '/api/v1/batch/projects/:name/deploys',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Deploy a new version (multipart form: the script, its requirements, pythonVersion)',
          params: Name,
          streamedBody: { 'multipart/form-data': BatchDeployFormSchema },
          response: { 202: z.object({ deploy: BatchDeploySchema, buildJobId: z.string() }) },
        },
      },
      async (req, reply) => {
        const staging = path.join(b.root, '.staging', newId());
        try {
          const staged = await stageUpload(req, staging, ['source', 'requirements']);
          return reply.code(202).send(await b.deploy(contextOf(req), groupOf(req), req.params.name, staged, staging));
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
    scope.get(
      '/api/v1/batch/projects/:name/deploys',
      { config: role('viewer'), schema: { tags, summary: 'Deploy history, newest first', params: Name, response: { 200: BatchDeployListSchema } } },
      async (req) => ({
        items: await b.deploys(groupOf(req), req.params.name),
      }),
    );
    scope.post(
      '/api/v1/batch/projects/:name/runs',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Run the current deploy now with parameters (DHuolib batch_run)',
          params: Name,
          body: BatchRunCreateSchema,
          response: { 202: BatchRunSchema },
        },
      },
      async (req, reply) => reply.code(202).send(await b.run(contextOf(req), groupOf(req), req.params.name, req.body)),
    );
    scope.get(
      '/api/v1/batch/projects/:name/runs',
      {
        config: role('viewer'),
        schema: { tags, summary: 'Run history, newest first (DHuolib pipeline_status_report)', params: Name, response: { 200: BatchRunListSchema } },
      },
      async (req) => ({
        items: await b.runs(groupOf(req), req.params.name),
      }),
    );
    scope.get(
      '/api/v1/batch/projects/:name/runs/:runId',
      { config: role('viewer'), schema: { tags, summary: "A run (its log is its job's log)", params: RunParams, response: { 200: BatchRunSchema } } },
      async (req) => b.getRun(groupOf(req), req.params.name, req.params.runId),
    );
    scope.post(
      '/api/v1/batch/projects/:name/schedules',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Run on a cron (5 fields, or 6 with seconds) in a time zone (DHuolib schedule_batch_run)',
          params: Name,
          body: ScheduleCreateSchema,
          response: { 201: ScheduleSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await s.schedules.create(contextOf(req), groupOf(req), req.params.name, req.body)),
    );
    scope.get(
      '/api/v1/batch/projects/:name/schedules',
      {
        config: role('viewer'),
        schema: { tags, summary: "A project's schedules with their next fire times", params: Name, response: { 200: ScheduleListSchema } },
      },
      async (req) => ({
        items: await s.schedules.list(groupOf(req), req.params.name),
      }),
    );
    scope.get(
      '/api/v1/schedules',
      { config: role('viewer'), schema: { tags, summary: "The group's schedules with their next fire times", response: { 200: ScheduleListSchema } } },
      async (req) => ({
        items: await s.schedules.list(groupOf(req)),
      }),
    );
    const ScheduleId = z.object({ id: z.string().min(1).max(40) }).strict();
    scope.patch(
      '/api/v1/schedules/:id',
      {
        config: role('editor'),
        schema: { tags, summary: 'Change, pause or resume a schedule', params: ScheduleId, body: ScheduleUpdateSchema, response: { 200: ScheduleSchema } },
      },
      async (req) => s.schedules.update(contextOf(req), groupOf(req), req.params.id, req.body),
    );
    scope.delete(
      '/api/v1/schedules/:id',
      { config: role('editor'), schema: { tags, summary: 'Remove a schedule (DHuolib remove_schedule)', params: ScheduleId, response: { 200: OkSchema } } },
      async (req) => {
        await s.schedules.remove(contextOf(req), groupOf(req), req.params.id);
        return { ok: true as const };
      },
    );
    scope.post(
      '/api/v1/batch/projects/:name/runs/:runId/cancel',
      { config: role('editor'), schema: { tags, summary: 'Cancel a queued or running run', params: RunParams, response: { 200: BatchRunSchema } } },
      async (req) => b.cancelRun(contextOf(req), groupOf(req), req.params.name, req.params.runId),
    );
  });
}
