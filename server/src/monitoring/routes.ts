import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CodexMonitorCreateSchema,
  CodexMonitorFormSchema,
  MonitorCreateSchema,
  MonitorListSchema,
  MonitorMetricSeriesSchema,
  MonitorMetricsQuerySchema,
  MonitorReferenceFormSchema,
  MonitorRunListQuerySchema,
  MonitorRunPageSchema,
  MonitorRunRequestSchema,
  MonitorRunSchema,
  MonitorSchema,
  MonitorUpdateSchema,
  OkSchema,
} from '@forja/contracts';
import { newId } from '../db/ids.js';
import { invalid } from '../errors.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import { stageUpload, type StagedFile as UploadedFile } from '../http/multipart.js';
import type { App } from '../http/types.js';
import type { FileFormat } from '../lake/engine.js';
import type { LakeService, StagedFile } from '../lake/service.js';
import { stageBody } from '../lake/upload.js';
import type { MonitorsService } from './service.js';

const Id = z.object({ id: z.string().min(1).max(200) }).strict();
const RunId = Id.extend({ runId: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;
const group = { group: z.string().optional() };

/** A form file as the lake reads it: Parquet as is; CSV checked for its shape and delimiter on the way. */
async function asLakeFile(lake: LakeService, file: UploadedFile, dir: string): Promise<StagedFile & { name: string }> {
  const ext = path.extname(file.name).toLowerCase();
  const format: FileFormat | undefined = ext === '.parquet' || ext === '.pq' ? 'parquet' : ext === '.csv' ? 'csv' : undefined;
  if (!format) throw invalid(`The reference file ${file.name} must be Parquet (.parquet) or CSV (.csv).`);
  if (format === 'parquet') return { file: file.path, format, name: file.name };
  const checked = path.join(dir, `${newId()}.csv`);
  const { delimiter } = await stageBody(createReadStream(file.path), checked, 'csv', lake.maxUploadBytes);
  return { file: checked, format, ...(delimiter ? { delimiter } : {}), name: file.name };
}

/** A JSON text field of a form, parsed; a 400 naming the field when it is not JSON. */
function jsonField(fields: Record<string, string>, name: string): unknown {
  if (fields[name] === undefined) return undefined;
  try {
    return JSON.parse(fields[name]);
  } catch {
    throw invalid(`The form field "${name}" must be JSON.`);
  }
}

export function registerMonitorRoutes(app: App, s: { monitors: MonitorsService; lake: LakeService }): void {
  const m = s.monitors;
  const tags = ['monitoring'];
  const staging = () => path.join(s.lake.tempDir, `monitor-upload-${newId()}`);

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { preservePath: true, limits: { fileSize: s.lake.maxUploadBytes, files: 2, fields: 10, fieldSize: 1_000_000 } });

    scope.post(
      '/api/v1/monitors/codex',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: "Create a monitor of a deployment from MLOps Codex's configuration.json (JSON, or multipart with the file and the training data)",
          querystring: z.object(group).strict(),
          streamedBody: { 'application/json': CodexMonitorCreateSchema, 'multipart/form-data': CodexMonitorFormSchema },
          response: { 201: MonitorSchema },
        },
      },
      async (req: FastifyRequest, reply) => {
        if (!req.isMultipart()) {
          const body = CodexMonitorCreateSchema.parse(req.body ?? {});
          return reply.code(201).send(await m.createFromCodex(contextOf(req), groupOf(req), body));
        }
        const dir = staging();
        try {
          const staged = await stageUpload(req, dir, ['configuration', 'data']);
          const configFile = staged.files.find((f) => f.role === 'configuration');
          if (!configFile) throw invalid('Send configuration.json as the "configuration" file field.');
          let configuration: unknown;
          try {
            configuration = JSON.parse(await readFile(configFile.path, 'utf8'));
          } catch (err) {
            throw invalid(`${configFile.name} is not JSON: ${(err as Error).message}`);
          }
          const f = staged.fields;
          const body = CodexMonitorCreateSchema.parse({
            name: f.name,
            deployment: f.deployment,
            configuration,
            ...(f.description !== undefined ? { description: f.description } : {}),
            ...(f.scheduled !== undefined ? { scheduled: f.scheduled === 'true' } : {}),
            ...(f.checks !== undefined ? { checks: jsonField(f, 'checks') } : {}),
            ...(f.reference !== undefined ? { reference: jsonField(f, 'reference') } : {}),
          });
          const data = staged.files.find((x) => x.role === 'data');
          const uploaded = data ? await asLakeFile(s.lake, data, dir) : undefined;
          return reply.code(201).send(await m.createFromCodex(contextOf(req), groupOf(req), body, uploaded));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );

    scope.post(
      '/api/v1/monitors/:id/reference',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Set a monitor\'s reference to an uploaded file (multipart field "data": Parquet or CSV), kept as the lake table monitor_ref_<id>',
          params: Id,
          querystring: z.object(group).strict(),
          streamedBody: { 'multipart/form-data': MonitorReferenceFormSchema },
          response: { 200: MonitorSchema },
        },
      },
      async (req) => {
        const dir = staging();
        try {
          const staged = await stageUpload(req, dir, ['data']);
          const data = staged.files.find((x) => x.role === 'data');
          if (!data) throw invalid('Send the reference rows as the "data" file field (.parquet or .csv).');
          return await m.uploadReference(contextOf(req), groupOf(req), req.params.id, await asLakeFile(s.lake, data, dir));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  });

  app.get(
    '/api/v1/monitors',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: "The group's monitors (of one deployment, by name or id, with ?deployment=)",
        querystring: z.object({ ...group, deployment: z.string().max(200).optional() }).strict(),
        response: { 200: MonitorListSchema },
      },
    },
    async (req) => ({ items: await m.list(groupOf(req), req.query.deployment) }),
  );
  app.post(
    '/api/v1/monitors',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Create a monitor: a deployment or lake table, a reference, checks and a period',
        querystring: z.object(group).strict(),
        body: MonitorCreateSchema,
        response: { 201: MonitorSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await m.create(contextOf(req), groupOf(req), req.body)),
  );
  app.get(
    '/api/v1/monitors/:id',
    { config: role('viewer'), schema: { tags, summary: 'A monitor (by id or name) and its last run', params: Id, response: { 200: MonitorSchema } } },
    async (req) => m.get(groupOf(req), req.params.id),
  );
  app.patch(
    '/api/v1/monitors/:id',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: "Change a monitor's reference, columns, checks, period or schedule",
        params: Id,
        body: MonitorUpdateSchema,
        response: { 200: MonitorSchema },
      },
    },
    async (req) => m.update(contextOf(req), groupOf(req), req.params.id, req.body),
  );
  app.delete(
    '/api/v1/monitors/:id',
    { config: role('editor'), schema: { tags, summary: 'Delete a monitor, its runs and its uploaded reference', params: Id, response: { 200: OkSchema } } },
    async (req) => {
      await m.remove(contextOf(req), groupOf(req), req.params.id);
      return { ok: true as const };
    },
  );
  app.post(
    '/api/v1/monitors/:id/runs',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Run a monitor now over a window: from/to, the current period so far (now), or the last full period (202; a monitor.run job)',
        params: Id,
        body: MonitorRunRequestSchema.optional(),
        response: { 202: MonitorRunSchema },
      },
    },
    async (req, reply) => reply.code(202).send(await m.startRun(contextOf(req), groupOf(req), req.params.id, req.body ?? {})),
  );
  app.get(
    '/api/v1/monitors/:id/runs',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: "A monitor's runs, newest first (summaries; one run has the reports)",
        params: Id,
        querystring: MonitorRunListQuerySchema.extend(group),
        response: { 200: MonitorRunPageSchema },
      },
    },
    async (req) => m.runs(groupOf(req), req.params.id, req.query),
  );
  app.get(
    '/api/v1/monitors/:id/runs/:runId',
    {
      config: role('viewer'),
      schema: { tags, summary: 'One run: drift, performance and explanation reports and its metrics', params: RunId, response: { 200: MonitorRunSchema } },
    },
    async (req) => m.run(groupOf(req), req.params.id, req.params.runId),
  );
  app.get(
    '/api/v1/monitors/:id/metrics',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: "Metrics over a monitor's runs, by window end (names: comma-separated, `drift.*` for a prefix)",
        params: Id,
        querystring: MonitorMetricsQuerySchema.extend(group),
        response: { 200: MonitorMetricSeriesSchema },
      },
    },
    async (req) => m.metrics(groupOf(req), req.params.id, req.query),
  );
}
