import { z } from 'zod';
import { JobListQuerySchema, JobLogsQuerySchema, JobLogsSchema, JobPageSchema, JobSchema, WorkerListSchema } from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { JobsService } from './service.js';

const Id = z.object({ id: z.string().min(1).max(40) }).strict();

export function registerJobRoutes(app: App, s: { jobs: JobsService }): void {
  const tags = ['jobs'];
  app.get(
    '/api/v1/jobs',
    {
      config: { auth: { group: 'viewer' } },
      schema: { tags, summary: "The group's jobs, newest first", querystring: JobListQuerySchema, response: { 200: JobPageSchema } },
    },
    async (req) => s.jobs.list(groupOf(req), req.query),
  );
  app.get(
    '/api/v1/jobs/:id',
    {
      config: { auth: { authenticated: true } },
      schema: {
        tags,
        summary: 'A job; with ?waitSeconds=N, answers once it has finished or N seconds have passed',
        params: Id,
        querystring: z.object({ waitSeconds: z.coerce.number().min(0).max(60).default(0) }).strict(),
        response: { 200: JobSchema },
      },
    },
    async (req) => s.jobs.get(contextOf(req), req.params.id, req.query.waitSeconds * 1000),
  );
  app.post(
    '/api/v1/jobs/:id/cancel',
    {
      config: { auth: { authenticated: true } },
      schema: { tags, summary: 'Cancel a queued or running job (editors)', params: Id, response: { 200: JobSchema } },
    },
    async (req) => s.jobs.cancel(contextOf(req), req.params.id),
  );
  app.get(
    '/api/v1/jobs/:id/logs',
    {
      config: { auth: { authenticated: true } },
      schema: {
        tags,
        summary: "A job's log lines after a sequence number (tail by passing back `next`)",
        params: Id,
        querystring: JobLogsQuerySchema,
        response: { 200: JobLogsSchema },
      },
    },
    async (req) => s.jobs.logs(contextOf(req), req.params.id, req.query.after, req.query.limit),
  );
  app.get(
    '/api/v1/workers',
    {
      config: { auth: { authenticated: true } },
      schema: { tags, summary: 'Workers seen in the last day, and what each runs', response: { 200: WorkerListSchema } },
    },
    async () => ({ workers: await s.jobs.workers() }),
  );
}
