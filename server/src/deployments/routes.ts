import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CsvBodySchema,
  DeploymentCreatedSchema,
  DeploymentFromModelSchema,
  DeploymentListSchema,
  DeploymentSchema,
  DeploymentStatsSchema,
  DeploymentUpdateSchema,
  DeploymentUploadFormSchema,
  ExecutionUploadFormSchema,
  FileSchema,
  InferenceLogInfoSchema,
  ParquetBodySchema,
  PredictCodeSchema,
  UsageQuerySchema,
  UsageSeriesSchema,
} from '@forja/contracts';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import { attachment } from '../http/content-disposition.js';
import { contentResponse } from '../http/openapi.js';
import type { App } from '../http/types.js';
import { mlflowErrorHandler } from '../mlflow/wire.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InputFormat } from '../runtime/worker-process.js';
import type { GroupsService } from '../auth/groups-service.js';
import type { LakeService } from '../lake/service.js';
import type { ExecutionsService } from './executions.js';
import type { DeploymentsService } from './service.js';
import { stageUpload, type FileRole } from '../http/multipart.js';
import { deploymentOpenApi } from './openapi.js';
import { createReadStream } from 'node:fs';
import { ExecutionFromTableSchema, ExecutionListSchema, ExecutionSchema } from '@forja/contracts';

const Id = z.object({ id: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;
/** Predictions and executions: any member, and the group's tokens. */
const predictAuth = { auth: { group: 'predict' } } as const;
/** Sync predictions carry rows, not files: bigger bodies belong to async executions. */
const PREDICT_BODY_LIMIT = 50 * 1024 * 1024;
const UPLOAD_FILE_LIMIT = 2 * 1024 * 1024 * 1024;
const DEPLOYMENT_FILES: readonly FileRole[] = ['source', 'model', 'requirements', 'schema', 'env', 'extra', 'preprocess'];

const FORMATS: Record<string, InputFormat> = {
  'application/json': 'json',
  'text/csv': 'csv',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/octet-stream': 'parquet',
};
const FORMAT_BODIES: Record<InputFormat, z.ZodType> = {
  json: z.unknown().describe('An object, records, {"Input": …} or an MLflow shape (dataframe_split, inputs, …)'),
  csv: CsvBodySchema,
  parquet: ParquetBodySchema,
};
const predictBody = Object.fromEntries(Object.entries(FORMATS).map(([type, format]) => [type, FORMAT_BODIES[format]]));
/** The model raised (422) or ran out of time (504); a busy model is a 503, as on every route. */
const PREDICT_ERRORS = [422, 504];

export function registerDeploymentRoutes(
  app: App,
  s: { deployments: DeploymentsService; executions: ExecutionsService; lake: LakeService; groups: GroupsService },
): void {
  const d = s.deployments;
  const tags = ['deployments'];

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    // preservePath: a name with folders in it is refused, not quietly cut down to its last part.
    await scope.register(multipart, { preservePath: true, limits: { fileSize: UPLOAD_FILE_LIMIT, files: 100, fields: 20, fieldSize: 100_000 } });

    scope.get(
      '/api/v1/deployments',
      { config: role('viewer'), schema: { tags, summary: "The group's deployments", response: { 200: DeploymentListSchema } } },
      async (req) => ({
        items: await d.list(groupOf(req)),
      }),
    );
    scope.post(
      '/api/v1/deployments',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Deploy uploaded files (multipart form: the files and the fields)',
          streamedBody: { 'multipart/form-data': DeploymentUploadFormSchema },
          response: { 201: DeploymentCreatedSchema },
        },
      },
      async (req, reply) => {
        const id = newId();
        const staging = path.join(d.root, '.staging', id);
        try {
          const staged = await stageUpload(req, staging, DEPLOYMENT_FILES);
          return reply.code(201).send(await d.createFromUpload(contextOf(req), groupOf(req), id, staged, staging));
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
    scope.post(
      '/api/v1/deployments/from-model',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Deploy a registered model (models:/name@alias, /N, /Stage) with no code',
          body: DeploymentFromModelSchema,
          response: { 201: DeploymentCreatedSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await d.createFromModel(contextOf(req), groupOf(req), req.body)),
    );
    scope.get(
      '/api/v1/deployments/:id',
      { config: role('viewer'), schema: { tags, summary: 'A deployment', params: Id, response: { 200: DeploymentSchema } } },
      async (req) => d.get(groupOf(req), req.params.id),
    );
    scope.patch(
      '/api/v1/deployments/:id',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Change workers, timeout, queue, batch size or memory',
          params: Id,
          body: DeploymentUpdateSchema,
          response: { 200: DeploymentSchema },
        },
      },
      async (req) => d.updateSettings(contextOf(req), groupOf(req), req.params.id, req.body.settings),
    );
    scope.delete(
      '/api/v1/deployments/:id',
      {
        config: role('editor'),
        schema: { tags, summary: 'Delete a deployment and its files', params: Id, response: { 200: z.object({ ok: z.literal(true) }) } },
      },
      async (req) => {
        await d.remove(contextOf(req), groupOf(req), req.params.id);
        return { ok: true as const };
      },
    );
    scope.post(
      '/api/v1/deployments/:id/rebuild',
      { config: role('editor'), schema: { tags, summary: 'Build again', params: Id, response: { 202: DeploymentCreatedSchema } } },
      async (req, reply) => reply.code(202).send(await d.rebuild(contextOf(req), groupOf(req), req.params.id)),
    );
    for (const [action, enabled] of [
      ['disable', false],
      ['enable', true],
    ] as const) {
      scope.post(
        `/api/v1/deployments/:id/${action}`,
        {
          config: role('editor'),
          schema: { tags, summary: `${action[0]!.toUpperCase()}${action.slice(1)} predictions`, params: Id, response: { 200: DeploymentSchema } },
        },
        async (req) => d.setEnabled(contextOf(req), groupOf(req), req.params.id, enabled),
      );
    }
    scope.get(
      '/api/v1/deployments/:id/logs',
      {
        config: role('viewer'),
        schema: {
          tags,
          summary: "What the deployment's workers printed (the build log is its build job's log)",
          params: Id,
          response: { 200: z.object({ runtime: z.string() }) },
        },
      },
      async (req) => ({
        runtime: await d.runtimeLog(groupOf(req), req.params.id),
      }),
    );
    scope.get(
      '/api/v1/deployments/:id/stats',
      { config: role('viewer'), schema: { tags, summary: "This server's workers for the deployment", params: Id, response: { 200: DeploymentStatsSchema } } },
      async (req) => d.stats(groupOf(req), req.params.id),
    );
    scope.get(
      '/api/v1/deployments/:id/usage',
      {
        config: role('viewer'),
        schema: {
          tags,
          summary: 'Calls, errors and latency p50/p95/p99 per minute, hour or day, from the first call on (every server counts)',
          params: Id,
          querystring: UsageQuerySchema,
          response: { 200: UsageSeriesSchema },
        },
      },
      async (req) => d.usage(groupOf(req), req.params.id, req.query),
    );
    scope.get(
      '/api/v1/deployments/:id/inference-log',
      {
        config: role('viewer'),
        schema: {
          tags,
          summary: "The inference log: its lake table, settings, rows, first and last call, and this server's dropped calls",
          params: Id,
          response: { 200: InferenceLogInfoSchema },
        },
      },
      async (req) => d.inferenceLogInfo(groupOf(req), req.params.id),
    );
    scope.post(
      '/api/v1/deployments/:id/executions',
      {
        config: predictAuth,
        schema: {
          tags,
          summary: 'Start an async execution on a file (multipart form, file "input")',
          params: Id,
          streamedBody: { 'multipart/form-data': ExecutionUploadFormSchema },
          response: { 202: ExecutionSchema },
        },
      },
      async (req, reply) => {
        const id = newId();
        const staging = path.join(d.root, '.staging', id);
        try {
          const staged = await stageUpload(req, staging, ['input']);
          return reply.code(202).send(await s.executions.create(contextOf(req), groupOf(req), req.params.id, id, staged, staging));
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
    scope.post(
      '/api/v1/deployments/:id/executions/from-table',
      {
        config: predictAuth,
        schema: {
          tags,
          summary: 'Start an async execution on the rows of a lake table (a filter and columns optional), sent to the model as input.parquet',
          params: Id,
          body: ExecutionFromTableSchema,
          response: { 202: ExecutionSchema },
        },
      },
      async (req, reply) => {
        const id = newId();
        const staging = path.join(d.root, '.staging', id);
        const group = groupOf(req);
        // The lake writes the rows to a Parquet file; the execution takes it like an upload.
        const format = req.body.format ?? 'parquet';
        const out = await s.lake.export(group, req.body.table, { filter: req.body.filter, columns: req.body.columns }, format);
        try {
          await mkdir(staging, { recursive: true });
          const input = path.join(staging, `input.${format}`);
          await rename(out.file, input);
          const staged = { fields: {}, files: [{ role: 'input' as const, name: `input.${format}`, path: input, size: (await stat(input)).size }] };
          return reply.code(202).send(await s.executions.create(contextOf(req), group, req.params.id, id, staged, staging));
        } finally {
          await rm(out.file, { force: true });
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
    scope.get(
      '/api/v1/deployments/:id/executions',
      { config: predictAuth, schema: { tags, summary: "A deployment's executions, newest first", params: Id, response: { 200: ExecutionListSchema } } },
      async (req) => ({
        items: await s.executions.list(groupOf(req), req.params.id),
      }),
    );
    const ExecParams = Id.extend({ executionId: z.string().min(1).max(40) }).strict();
    scope.get(
      '/api/v1/deployments/:id/executions/:executionId',
      {
        config: predictAuth,
        schema: { tags, summary: 'An execution: Requested → Running → Succeeded or Failed', params: ExecParams, response: { 200: ExecutionSchema } },
      },
      async (req) => s.executions.get(groupOf(req), req.params.id, req.params.executionId),
    );
    const resultResponse = contentResponse("The scorer's output file, as it wrote it", { 'application/octet-stream': FileSchema });
    scope.get(
      '/api/v1/deployments/:id/executions/:executionId/result',
      { config: predictAuth, schema: { tags, summary: "The execution's output file", params: ExecParams, response: { 200: resultResponse } } },
      async (req, reply) => {
        const r = await s.executions.result(groupOf(req), req.params.id, req.params.executionId);
        return reply
          .header('content-type', 'application/octet-stream')
          .header('content-length', String(r.size))
          .header('content-disposition', attachment(r.name))
          .send(createReadStream(r.file));
      },
    );
    const openApiResponse = contentResponse('An OpenAPI 3 document', { 'application/json': z.record(z.string(), z.unknown()) });
    scope.get(
      '/api/v1/deployments/:id/openapi.json',
      {
        config: role('viewer'),
        schema: {
          tags,
          summary: "An OpenAPI document for this deployment's predict call, with its row schema",
          params: Id,
          response: { 200: openApiResponse },
        },
      },
      async (req) => {
        const group = groupOf(req);
        return deploymentOpenApi(await d.get(group, req.params.id), group.name, `${req.protocol}://${req.host}`);
      },
    );
    scope.get(
      '/api/v1/deployments/:id/code',
      { config: role('viewer'), schema: { tags, summary: 'How to call it: curl, Python and TypeScript', params: Id, response: { 200: PredictCodeSchema } } },
      async (req) => {
        const group = groupOf(req);
        return d.predictCode(group, await d.get(group, req.params.id), `${req.protocol}://${req.host}`);
      },
    );
  });

  // The predict path takes the body as bytes: the worker parses it, Node only checks it against the schema.
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(Object.keys(FORMATS), { parseAs: 'buffer', bodyLimit: PREDICT_BODY_LIMIT }, (req, body: Buffer, done) => {
      // A body sent in chunks has no Content-Length for the auth hook to check: measure it here.
      if (!req.principal && body.length > PUBLIC_BODY_LIMIT) done(publicTooLarge(), undefined);
      else done(null, body);
    });
    // Public deployments answer callers without credentials here, and only here.
    const publicAuth = {
      auth: {
        group: 'predict',
        anonymous: async (req: FastifyRequest) => {
          const groupId = await d.publicGroupOf((req.params as { id: string }).id, req.ip);
          if (!groupId) return undefined;
          if (Number(req.headers['content-length'] ?? 0) > PUBLIC_BODY_LIMIT) throw publicTooLarge();
          return s.groups.anonymousScope(groupId);
        },
      },
    } as const;
    const mediaTypeOf = (req: FastifyRequest) =>
      String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
    const summary =
      'Predict: JSON (an object, records, {"Input": …} or MLflow shapes), CSV or Parquet; group tokens allowed; no token needed on a public deployment';
    scope.post(
      '/api/v1/deployments/:id/predict',
      {
        config: publicAuth,
        bodyLimit: PREDICT_BODY_LIMIT,
        schema: { tags, summary, params: Id, streamedBody: predictBody, response: { 200: predictions }, errors: PREDICT_ERRORS },
      },
      async (req, reply) => {
        const format = FORMATS[mediaTypeOf(req)];
        if (!format) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json, text/csv or application/vnd.apache.parquet.');
        const out = await d.predict(groupOf(req), req.params.id, req.body as Buffer, format, req.id);
        return reply.header('content-type', 'application/json; charset=utf-8').send(out);
      },
    );
    // MLflow's scoring contract, status codes and error bodies ({"error_code", "message"}) included.
    scope.register(async (mlflow) => {
      mlflow.setErrorHandler(invocationsErrorHandler);
      mlflow.withTypeProvider<ZodTypeProvider>().post(
        '/api/v1/deployments/:id/invocations',
        {
          config: publicAuth,
          bodyLimit: PREDICT_BODY_LIMIT,
          schema: {
            tags,
            summary:
              "MLflow's /invocations for this deployment: dataframe_split, dataframe_records, instances, inputs (+ params), CSV or Parquet, answered as `mlflow models serve` answers",
            params: Id,
            streamedBody: predictBody,
            response: { 200: predictions },
            errors: [400, 415, 504],
          },
        },
        async (req, typed) => {
          // The status is the worker's (MLflow's), not one of the documented ones.
          const reply: FastifyReply = typed;
          const mediaType = mediaTypeOf(req);
          const refused = MLFLOW_MEDIA_TYPES.includes(mediaType) ? contentTypeRefusal(String(req.headers['content-type'])) : unsupportedMediaType(req);
          if (refused) return reply.code(415).type('text/plain; charset=utf-8').send(refused);
          const out = await d.invoke(groupOf(req), req.params.id, req.body as Buffer, FORMATS[mediaType]!, mediaType, req.id);
          return reply.code(out.status).header('content-type', out.contentType).send(out.body);
        },
      );
    });
  });
}

/** Calls without credentials carry rows for a dashboard, not files: a tighter limit than the group's 50 MB. */
const PUBLIC_BODY_LIMIT = 1024 * 1024;
const publicTooLarge = () =>
  new AppError(
    'PAYLOAD_TOO_LARGE',
    `A call without a token may send at most ${PUBLIC_BODY_LIMIT / 1024 / 1024} MB; send a token for bigger bodies, or use an async execution.`,
  );
const predictions = contentResponse("The model's predictions", { 'application/json': z.unknown() });
const MLFLOW_MEDIA_TYPES = ['text/csv', 'application/json', 'application/vnd.apache.parquet'];

/** MLflow's scoring server reads UTF-8 only and refuses content-type parameters other than charset (415). */
function contentTypeRefusal(contentType: string): string | undefined {
  const params = contentType
    .split(';')
    .slice(1)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => p.split('=')[0]!.trim().toLowerCase());
  const charset = /;\s*charset\s*=\s*"?([^;"]+)/i.exec(contentType)?.[1]?.trim().toLowerCase() ?? 'utf-8';
  if (charset !== 'utf-8') return 'The scoring server only supports UTF-8';
  const unknown = params.filter((p) => p !== 'charset');
  return unknown.length ? `Unrecognized content type parameters: ${unknown.join(', ')}.` : undefined;
}

const unsupportedMediaType = (req: FastifyRequest) =>
  `This predictor only supports the following content types: ${MLFLOW_MEDIA_TYPES.join(', ')}. Got '${req.headers['content-type'] ?? ''}'.`;

/** /invocations errors as MLflow's (400 for bad input or a model error), but a 415 stays a plain-text 415. */
function invocationsErrorHandler(error: Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if ((error as { statusCode?: number }).statusCode === 415) return reply.code(415).type('text/plain; charset=utf-8').send(unsupportedMediaType(request));
  return mlflowErrorHandler(error, request, reply);
}
