import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { bodyOf, sendArtifact, streamBodies, wildcard } from '../artifacts/routes.js';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import { AppError } from '../errors.js';
import type { MlflowDeps } from './routes.js';
import { mlflowErrorHandler } from './wire.js';

/** MLflow's cap on a file uploaded through its UI. */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const GROUP_VIEWER = { auth: { group: 'viewer' as const } };

const bad = (message: string) => new AppError('INVALID_ARGUMENT', message);
const query = (req: FastifyRequest) => req.query as Record<string, string | string[] | undefined>;
/** One query value (the first, when repeated), as Flask's request.args.get reads it. */
const arg = (req: FastifyRequest, name: string): string | undefined => {
  const v = query(req)[name];
  return Array.isArray(v) ? v[0] : v;
};
const required = (req: FastifyRequest, name: string): string => {
  const v = arg(req, name);
  if (v === undefined) throw bad(`Missing value for required parameter '${name}'.`);
  return v;
};

/**
 * MLflow's check of an artifact path a caller names (validate_path_is_safe): decoded until stable,
 * then no '#', no '..' segment, no backslash and nothing absolute. Answers MLflow's "Invalid path".
 */
export function safeArtifactPath(raw: string): string {
  let path = raw;
  for (let i = 0; ; i++) {
    let next: string;
    try {
      next = decodeURIComponent(path);
    } catch {
      throw bad('Invalid path');
    }
    if (next === path) break;
    if (i === 10) throw bad('Invalid path');
    path = next;
  }
  if (path.startsWith('file://')) path = path.slice('file://'.length);
  if (path.includes('#') || path.includes('\\') || path.includes('\0') || path.split('/').includes('..') || path.startsWith('/') || /^[A-Za-z]:/.test(path))
    throw bad('Invalid path');
  return path;
}

/**
 * The artifact routes of MLflow's UI on the MLflow prefixes: uploads from the run page, and a logged
 * model's files. Each checks the caller's role in the group owning the run or model; another
 * group's run or model answers 404 exactly as a missing one.
 */
export function registerMlflowArtifactRoutes(scope: App, s: Pick<MlflowDeps, 'artifacts' | 'loggedModels'>): void {
  const modelId = (req: FastifyRequest) => String((req.params as Record<string, string>).model_id);

  scope.route({
    method: 'GET',
    url: '/logged-models/:model_id/artifacts/directories',
    config: GROUP_VIEWER,
    schema: { hide: true },
    handler: async (req) => {
      const raw = arg(req, 'artifact_directory_path');
      const sub = raw === undefined ? '' : safeArtifactPath(raw);
      const model = await s.loggedModels.get(contextOf(req), modelId(req));
      const files = await s.artifacts.listUnder(contextOf(req), model.row.artifact_uri, sub);
      return {
        root_uri: model.row.artifact_uri,
        // MLflow's proto JSON leaves an empty list out.
        ...(files.length ? { files: files.map((f) => ({ path: f.path, is_dir: f.isDir, ...(f.size !== null ? { file_size: f.size } : {}) })) } : {}),
      };
    },
  });

  scope.route({
    method: 'GET',
    url: '/logged-models/:model_id/artifacts/files',
    config: GROUP_VIEWER,
    schema: { hide: true },
    handler: async (req, reply) => {
      const raw = arg(req, 'artifact_file_path');
      if (!raw) throw bad('Request must include the "artifact_file_path" query parameter.');
      const path = safeArtifactPath(raw);
      const model = await s.loggedModels.get(contextOf(req), modelId(req));
      return send(reply, s, contextOf(req), model.row.artifact_uri, path);
    },
  });

  scope.register(async (raw) => {
    // The UI posts the file's bytes as they are, whatever their content type.
    streamBodies(raw);
    raw.route({
      method: 'POST',
      url: '/upload-artifact',
      config: GROUP_VIEWER,
      schema: { hide: true },
      handler: async (req, reply) => {
        // MLflow's UI sends run_uuid; run_id is taken too, as everywhere else on this API.
        const runId = arg(req, 'run_uuid') || arg(req, 'run_id');
        if (!runId) throw bad('Request must specify run_uuid.');
        const rawPath = arg(req, 'path');
        if (!rawPath) throw bad('Request must specify path.');
        const path = safeArtifactPath(rawPath);
        if (Number(req.headers['content-length'] ?? 0) > MAX_UPLOAD_BYTES) throw bad('Artifact size is too large. Max size is 10MB.');
        const data = await readCapped(bodyOf(req), MAX_UPLOAD_BYTES);
        if (data.length === 0) throw bad('Request must specify data.');
        await s.artifacts.writeRunFile(contextOf(req), runId, path, Readable.from([data]));
        // MLflow answers an empty JSON-typed body here, not {}.
        return reply.type('application/json').send('');
      },
    });
  });
}

/**
 * MLflow's artifact proxy, which `mlflow-artifacts:/` URIs resolve to: files by their store path,
 * authorized by the experiment the path starts with.
 */
export function registerMlflowArtifactProxy(app: App, s: Pick<MlflowDeps, 'artifacts'>): void {
  const a = s.artifacts;
  const cfg = { auth: { authenticated: true } } as const;

  // Also under /g/<group>/, for an mlflow client whose tracking URI names a group.
  for (const prefix of ['/api/2.0/mlflow-artifacts', '/g/:group/api/2.0/mlflow-artifacts']) {
    app.register(
      async (plain) => {
        const scope = plain.withTypeProvider<ZodTypeProvider>();
        streamBodies(scope);
        scope.setErrorHandler(mlflowErrorHandler);
        scope.put('/artifacts/*', { config: cfg, schema: { hide: true } }, async (req) => {
          await a.write(contextOf(req), wildcard(req), bodyOf(req));
          return {};
        });
        scope.get('/artifacts/*', { config: cfg, schema: { hide: true } }, async (req, reply) => {
          const rel = wildcard(req);
          return sendArtifact(reply, await a.open(contextOf(req), rel), rel);
        });
        scope.get('/artifacts', { config: cfg, schema: { hide: true, querystring: z.object({ path: z.string().max(2000).default('') }) } }, async (req) => {
          const files = await a.list(contextOf(req), req.query.path);
          return { files: files.map((f) => ({ path: f.path, is_dir: f.isDir, ...(f.size !== null ? { file_size: f.size } : {}) })) };
        });
        scope.delete('/artifacts/*', { config: cfg, schema: { hide: true } }, async (req) => {
          await a.remove(contextOf(req), wildcard(req));
          return {};
        });
      },
      { prefix },
    );
  }
}

/**
 * `/get-artifact` and `/model-versions/get-artifact`, which MLflow serves at the server's root (and
 * Forja also under /g/<group>/): the UI's file previews and downloads.
 */
export function registerMlflowRootArtifactRoutes(app: App, s: Pick<MlflowDeps, 'artifacts' | 'registry'>): void {
  for (const prefix of ['', '/g/:group']) {
    app.register(
      async (scope) => {
        scope.setErrorHandler(mlflowErrorHandler);
        scope.get('/get-artifact', { config: GROUP_VIEWER, schema: { hide: true } }, async (req, reply) => {
          const path = safeArtifactPath(required(req, 'path'));
          const runId = arg(req, 'run_id') || arg(req, 'run_uuid');
          if (!runId) throw bad("Missing value for required parameter 'run_id'.");
          return sendArtifact(reply, await s.artifacts.openRunFile(contextOf(req), runId, path), path);
        });
        scope.get('/model-versions/get-artifact', { config: GROUP_VIEWER, schema: { hide: true } }, async (req, reply) => {
          const path = safeArtifactPath(required(req, 'path'));
          const version = await s.registry.getVersion(groupOf(req), required(req, 'name'), required(req, 'version'));
          return send(reply, s, contextOf(req), version.storageLocation, path);
        });
      },
      { prefix },
    );
  }
}

async function send(
  reply: FastifyReply,
  s: Pick<MlflowDeps, 'artifacts'>,
  ctx: ReturnType<typeof contextOf>,
  rootUri: string,
  path: string,
): Promise<FastifyReply> {
  return sendArtifact(reply, await s.artifacts.openUnder(ctx, rootUri, path), path);
}

/** The whole body, refused past `limit` bytes (MLflow reads UI uploads into memory too). */
async function readCapped(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw bad('Artifact size is too large. Max size is 10MB.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
