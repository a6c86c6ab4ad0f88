import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactListSchema, FileSchema, UploadCompletedSchema, UploadStateSchema } from '@forja/contracts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { contextOf } from '../http/auth-hooks.js';
import { attachment } from '../http/content-disposition.js';
import { contentResponse } from '../http/openapi.js';
import type { App } from '../http/types.js';
import type { ArtifactsService } from './service.js';
import type { ChunkedUploads } from './uploads.js';
import { AppError } from '../errors.js';

const OCTET = 'application/octet-stream';
const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
  '.yml': 'text/yaml; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};

/** Streams a stored file to the client; never reads it whole into memory. */
export async function sendArtifact(reply: FastifyReply, file: { stream: Readable; size: number }, name: string): Promise<FastifyReply> {
  const type = MIME[path.extname(name).toLowerCase()] ?? OCTET;
  return reply
    .header('content-type', type)
    .header('content-length', String(file.size))
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', attachment(name))
    .send(file.stream);
}

/** A stored file as sent back: typed by its extension, bytes when the extension is not known. */
export const artifactResponse = contentResponse(
  'The file, typed by its extension (application/octet-stream when unknown)',
  Object.fromEntries([OCTET, ...Object.values(MIME)].map((type) => [type.split(';')[0]!, FileSchema])),
);
/** Raw bytes in the body, whatever the Content-Type says. */
const rawBody = { [OCTET]: FileSchema.describe('The bytes of the file (any Content-Type is taken as bytes)') };

/** Request bodies reach upload handlers as raw streams, whatever their content type. */
export function streamBodies(scope: App): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
}

/** The raw body; a request without one (no Content-Type, no length) sends zero bytes, such as an empty file. */
export const bodyOf = (req: FastifyRequest): Readable => (req.body as Readable | undefined) ?? Readable.from([]);

// The router has already decoded the path once; decoding again would turn a file named "a%b" into an error.
export const wildcard = (req: FastifyRequest) => String((req.params as Record<string, string>)['*'] ?? '');

/** The native run-artifact routes and resumable uploads (MLflow's artifact proxy is in mlflow/). */
export function registerArtifactRoutes(app: App, s: { artifacts: ArtifactsService; uploads: ChunkedUploads }): void {
  const a = s.artifacts;
  const cfg = { auth: { authenticated: true } } as const;

  // A run's artifacts by run id.
  const RunParams = z.object({ runId: z.string().max(256) }).strict();
  const PathQuery = z.object({ path: z.string().max(2000).default('') }).strict();
  app.get(
    '/api/v1/runs/:runId/artifacts',
    {
      config: cfg,
      schema: {
        tags: ['artifacts'],
        summary: "List a directory of a run's artifacts",
        params: RunParams,
        querystring: PathQuery,
        response: { 200: ArtifactListSchema },
      },
    },
    async (req) => a.listRun(contextOf(req), req.params.runId, req.query.path),
  );
  app.get(
    '/api/v1/runs/:runId/artifacts/file',
    {
      config: cfg,
      schema: {
        tags: ['artifacts'],
        summary: "Download one of a run's artifacts (streamed)",
        params: RunParams,
        querystring: PathQuery,
        response: { 200: artifactResponse },
      },
    },
    async (req, reply) => {
      const { rel } = await a.runPath(contextOf(req), req.params.runId, req.query.path, 'viewer');
      if (!req.query.path) throw new AppError('INVALID_ARGUMENT', 'Name the file to download with ?path=.');
      return sendArtifact(reply, await a.store.open(rel), rel);
    },
  );
  const UploadParams = z.object({ uploadId: z.string().max(64) }).strict();
  const u = s.uploads;
  app.post(
    '/api/v1/runs/:runId/uploads',
    {
      config: cfg,
      schema: {
        tags: ['artifacts'],
        summary: 'Start a resumable chunked upload of one artifact file',
        params: RunParams,
        body: z.object({ path: z.string().min(1).max(2000), size: z.number().int().nonnegative().optional() }).strict(),
        response: { 201: UploadStateSchema },
      },
    },
    async (req, reply) => reply.status(201).send(await u.start(contextOf(req), req.params.runId, req.body.path, req.body.size)),
  );
  app.get(
    '/api/v1/uploads/:uploadId',
    { config: cfg, schema: { tags: ['artifacts'], summary: 'How much of an upload has arrived', params: UploadParams, response: { 200: UploadStateSchema } } },
    async (req) => u.status(contextOf(req), req.params.uploadId),
  );
  app.post(
    '/api/v1/uploads/:uploadId/complete',
    {
      config: cfg,
      schema: {
        tags: ['artifacts'],
        summary: 'Finish an upload: checks size (and SHA-256) and makes the file visible',
        params: UploadParams,
        body: z
          .object({
            sha256: z
              .string()
              .regex(/^[a-fA-F0-9]{64}$/)
              .optional(),
          })
          .strict(),
        response: { 200: UploadCompletedSchema },
      },
    },
    async (req) => u.complete(contextOf(req), req.params.uploadId, req.body.sha256),
  );
  app.delete(
    '/api/v1/uploads/:uploadId',
    { config: cfg, schema: { tags: ['artifacts'], summary: 'Abandon an upload', params: UploadParams, response: { 200: z.object({ ok: z.literal(true) }) } } },
    async (req) => {
      await u.abort(contextOf(req), req.params.uploadId);
      return { ok: true as const };
    },
  );

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    streamBodies(scope);
    scope.put(
      '/api/v1/uploads/:uploadId',
      {
        config: cfg,
        schema: {
          tags: ['artifacts'],
          summary: 'Append one chunk (raw body) at ?offset=',
          params: UploadParams,
          querystring: z.object({ offset: z.coerce.number().int().nonnegative() }).strict(),
          streamedBody: rawBody,
          response: { 200: UploadStateSchema },
        },
      },
      async (req) => u.append(contextOf(req), req.params.uploadId, req.query.offset, bodyOf(req)),
    );
    scope.put(
      '/api/v1/runs/:runId/artifacts/file',
      {
        config: cfg,
        schema: {
          tags: ['artifacts'],
          summary: 'Upload one artifact file (raw body, streamed)',
          params: RunParams,
          querystring: PathQuery,
          streamedBody: rawBody,
        },
      },
      async (req) => {
        if (!req.query.path) throw new AppError('INVALID_ARGUMENT', 'Name the file to upload with ?path=.');
        const size = await a.writeRunFile(contextOf(req), req.params.runId, req.query.path, bodyOf(req));
        return { path: req.query.path, size };
      },
    );
  });
}
