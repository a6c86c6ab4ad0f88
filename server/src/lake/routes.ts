import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CsvBodySchema,
  LakeBatchPredictionCreateSchema,
  LakeBatchPredictionListSchema,
  LakeBatchPredictionSchema,
  LakeModelRefSchema,
  LakeQuerySchema,
  LakeRenameSchema,
  LakeRowsSchema,
  LakeTableListSchema,
  LakeTableSchema,
  LakeWriteQuerySchema,
  LakeWriteResultSchema,
  ParquetBodySchema,
} from '@forja/contracts';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import { contentResponse } from '../http/openapi.js';
import type { App } from '../http/types.js';
import type { LakeScoringService } from './scoring.js';
import type { LakeService } from './service.js';
import type { FileFormat } from './engine.js';
import { stageBody, tooLarge } from './upload.js';

const TableParams = z.object({ name: z.string().min(1).max(300) }).strict();
const JobParams = z.object({ jobId: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;
const group = { group: z.string().optional() };

const BODY_FORMATS: Record<string, FileFormat> = {
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/octet-stream': 'parquet',
  'text/csv': 'csv',
};

const CONTENT_TYPES: Record<FileFormat, string> = { parquet: 'application/vnd.apache.parquet', csv: 'text/csv; charset=utf-8' };
const FILE_SCHEMAS: Record<FileFormat, z.ZodType> = { parquet: ParquetBodySchema, csv: CsvBodySchema };
/** The documented body of a route that takes rows in these formats, under each content type that says so. */
const rowsBody = (formats: FileFormat[]) =>
  Object.fromEntries(Object.entries(BODY_FORMATS).flatMap(([type, format]) => (formats.includes(format) ? [[type, FILE_SCHEMAS[format]]] : [])));
/** The documented types of a file this module sends: the media type without its parameters. */
const fileTypes = (formats: FileFormat[]) => Object.fromEntries(formats.map((f) => [CONTENT_TYPES[f].split(';')[0]!, FILE_SCHEMAS[f]]));
const ROWS_HEADER = 'The file; the header x-forja-rows gives its row count';

function bodyFormat(contentType: string | undefined): FileFormat {
  const type = String(contentType ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const format = BODY_FORMATS[type];
  if (!format) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the rows as application/vnd.apache.parquet or text/csv.');
  return format;
}

/** Sends a file we made for this response and deletes it once sent (or abandoned). */
function sendFile(reply: FastifyReply, file: string, format: FileFormat, downloadName: string, rows: number) {
  const stream = createReadStream(file);
  stream.on('close', () => void rm(file, { force: true }));
  return reply
    .header('content-type', CONTENT_TYPES[format])
    .header('content-disposition', `attachment; filename="${downloadName}.${format}"`)
    .header('x-forja-rows', String(rows))
    .send(stream);
}

export function registerLakeRoutes(app: App, s: { lake: LakeService; lakeScoring: LakeScoringService }): void {
  const lake = s.lake;
  const tags = ['lake'];

  app.get(
    '/api/v1/lake/tables',
    { config: role('viewer'), schema: { tags, summary: "The group's lake tables", response: { 200: LakeTableListSchema } } },
    async (req) => ({
      items: await lake.list(groupOf(req)),
    }),
  );
  app.get(
    '/api/v1/lake/tables/:name',
    {
      config: role('viewer'),
      schema: { tags, summary: 'A table: columns, row count, size and versions', params: TableParams, response: { 200: LakeTableSchema } },
    },
    async (req) => lake.describe(groupOf(req), req.params.name),
  );
  app.patch(
    '/api/v1/lake/tables/:name',
    { config: role('editor'), schema: { tags, summary: 'Rename a table', params: TableParams, body: LakeRenameSchema, response: { 200: LakeTableSchema } } },
    async (req) => lake.rename(contextOf(req), groupOf(req), req.params.name, req.body.name),
  );
  app.delete(
    '/api/v1/lake/tables/:name',
    {
      config: role('editor'),
      schema: { tags, summary: 'Drop a table and its rows (audit-logged)', params: TableParams, response: { 200: z.object({ ok: z.literal(true) }) } },
    },
    async (req) => {
      await lake.drop(contextOf(req), groupOf(req), req.params.name);
      return { ok: true as const };
    },
  );
  app.post(
    '/api/v1/lake/tables/:name/query',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary:
          'Read rows: columns, a filter (parsed and bound, never pasted into SQL), order, keyset pages, a VERSION; JSON pages or a whole Parquet/CSV file',
        params: TableParams,
        querystring: z.object(group).strict(),
        body: LakeQuerySchema,
        response: {
          200: contentResponse(`A JSON page (format json), or the whole file (format csv or parquet). ${ROWS_HEADER}`, {
            'application/json': LakeRowsSchema,
            ...fileTypes(['csv', 'parquet']),
          }),
        },
      },
    },
    async (req, reply) => {
      const format = req.body.format ?? 'json';
      if (format === 'json') return lake.rows(groupOf(req), req.params.name, req.body);
      const out = await lake.export(groupOf(req), req.params.name, req.body, format);
      return sendFile(reply, out.file, format, out.table, out.rows);
    },
  );
  app.get(
    '/api/v1/lake/tables/:name/export',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: 'Download a table (or the rows a filter keeps) as CSV or Parquet, streamed',
        params: TableParams,
        querystring: z.object({ ...group, format: z.enum(['csv', 'parquet']).default('parquet'), filter: z.string().max(20_000).optional() }).strict(),
        response: { 200: contentResponse(ROWS_HEADER, fileTypes(['csv', 'parquet'])) },
      },
    },
    async (req, reply) => {
      const out = await lake.export(groupOf(req), req.params.name, { filter: req.query.filter }, req.query.format);
      return sendFile(reply, out.file, req.query.format, out.table, out.rows);
    },
  );

  app.get(
    '/api/v1/lake/batch-predictions',
    { config: role('viewer'), schema: { tags, summary: "The group's batch predictions, newest first", response: { 200: LakeBatchPredictionListSchema } } },
    async (req) => ({
      items: await s.lakeScoring.list(groupOf(req)),
    }),
  );
  app.post(
    '/api/v1/lake/batch-predictions',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Score a table (or the rows a filter keeps) with a registered model into a versioned output table, as a job',
        body: LakeBatchPredictionCreateSchema,
        response: { 202: LakeBatchPredictionSchema },
      },
    },
    async (req, reply) => reply.code(202).send(await s.lakeScoring.start(contextOf(req), groupOf(req), req.body)),
  );
  app.get(
    '/api/v1/lake/batch-predictions/:jobId',
    {
      config: role('viewer'),
      schema: { tags, summary: 'A batch prediction: progress, result or error', params: JobParams, response: { 200: LakeBatchPredictionSchema } },
    },
    async (req) => s.lakeScoring.get(groupOf(req), req.params.jobId),
  );
  app.post(
    '/api/v1/lake/batch-predictions/:jobId/cancel',
    {
      config: role('editor'),
      schema: { tags, summary: 'Stop a batch prediction (its output is not written)', params: JobParams, response: { 200: LakeBatchPredictionSchema } },
    },
    async (req) => s.lakeScoring.cancel(contextOf(req), groupOf(req), req.params.jobId),
  );

  // Bodies of rows stream to disk: they can be far bigger than any in-memory limit.
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    const staged = async (body: unknown, contentType: string | undefined, contentLength: string | undefined) => {
      const format = bodyFormat(contentType);
      if (contentLength && Number(contentLength) > lake.maxUploadBytes) {
        (body as Readable).resume();
        throw tooLarge(lake.maxUploadBytes);
      }
      await mkdir(lake.tempDir, { recursive: true });
      const file = path.join(lake.tempDir, `${newId()}.${format}`);
      const { delimiter } = await stageBody(body as Readable, file, format, lake.maxUploadBytes);
      return { file, format, delimiter };
    };

    scope.post(
      '/api/v1/lake/tables/:name/rows',
      {
        config: role('editor'),
        schema: {
          tags,
          summary: 'Write rows (body: Parquet or CSV) with mode fail | append | replace; versioned writes add VERSION and CREATED_AT',
          params: TableParams,
          querystring: LakeWriteQuerySchema.extend(group),
          streamedBody: rowsBody(['parquet', 'csv']),
          response: { 200: LakeWriteResultSchema, 201: LakeWriteResultSchema },
        },
      },
      async (req, reply) => {
        const upload = await staged(req.body, req.headers['content-type'], req.headers['content-length']);
        try {
          const { group: _ignored, ...query } = req.query;
          const result = await lake.write(contextOf(req), groupOf(req), req.params.name, upload, query);
          return reply.code(result.created ? 201 : 200).send(LakeWriteResultSchema.parse(result));
        } finally {
          await rm(upload.file, { force: true });
        }
      },
    );
    scope.post(
      '/api/v1/lake/predict',
      {
        config: role('viewer'),
        schema: {
          tags,
          summary: "Score rows (Parquet body) with a registered model in the model's own environment on the server; answers Parquet with a PREDICT column",
          querystring: z.object({ ...group, model: LakeModelRefSchema }).strict(),
          streamedBody: rowsBody(['parquet']),
          response: { 200: contentResponse(`The rows with a PREDICT column. ${ROWS_HEADER}`, fileTypes(['parquet'])) },
          errors: [422, 504],
        },
      },
      async (req, reply) => {
        const upload = await staged(req.body, req.headers['content-type'], req.headers['content-length']);
        try {
          const out = await s.lakeScoring.predictFile(contextOf(req), groupOf(req), req.query.model, upload);
          return sendFile(reply, out.file, 'parquet', 'predictions', out.rows);
        } finally {
          await rm(upload.file, { force: true });
        }
      },
    );
  });
}
