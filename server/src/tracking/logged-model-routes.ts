import { z } from 'zod';
import { ArtifactListSchema, LoggedModelListSchema, type MlmodelSummary } from '@forja/contracts';
import { contextOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { RequestContext } from '../auth/principal.js';
import type { ArtifactsService } from '../artifacts/service.js';
import { artifactResponse, sendArtifact } from '../artifacts/routes.js';
import { AppError } from '../errors.js';
import type { LoggedModelsService } from './logged-models.js';
import { loggedModelView, summarizeMlmodel } from './logged-model-view.js';

/** An MLmodel file is a few kilobytes; past this it is not one worth reading for the page. */
const MLMODEL_MAX_BYTES = 1024 * 1024;

const byId = { auth: { authenticated: true } } as const;
const RunParams = z.object({ runId: z.string().max(256) }).strict();
const ModelParams = z.object({ modelId: z.string().max(64) }).strict();
const PathQuery = z.object({ path: z.string().max(2000).default('') }).strict();

/** The model's MLmodel summary, or null when it has no readable MLmodel (not uploaded yet, upload failed, stored elsewhere). */
async function readMlmodel(ctx: RequestContext, artifacts: ArtifactsService, rootUri: string): Promise<MlmodelSummary | null> {
  let file: Awaited<ReturnType<ArtifactsService['openUnder']>>;
  try {
    file = await artifacts.openUnder(ctx, rootUri, 'MLmodel');
  } catch (err) {
    if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) return null;
    throw err;
  }
  if (file.size > MLMODEL_MAX_BYTES) {
    file.stream.destroy();
    return null;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of file.stream) chunks.push(chunk as Buffer);
  return summarizeMlmodel(Buffer.concat(chunks).toString('utf8'));
}

/** The native API's view of MLflow 3 logged models: those a run made, and their files. */
export function registerLoggedModelRoutes(app: App, s: { loggedModels: LoggedModelsService; artifacts: ArtifactsService }): void {
  const tags = ['tracking'];
  app.get(
    '/api/v1/runs/:runId/logged-models',
    {
      config: byId,
      schema: {
        tags,
        summary: 'The MLflow 3 logged models a run made, with flavors, signature, input example and the registered versions made from them',
        params: RunParams,
        response: { 200: LoggedModelListSchema },
      },
    },
    async (req) => {
      const ctx = contextOf(req);
      const models = await s.loggedModels.ofRun(ctx, req.params.runId);
      return { models: await Promise.all(models.map(async (m) => loggedModelView(m, await readMlmodel(ctx, s.artifacts, m.row.artifact_uri)))) };
    },
  );
  app.get(
    '/api/v1/logged-models/:modelId/artifacts',
    {
      config: byId,
      schema: {
        tags,
        summary: "List a directory of a logged model's files",
        params: ModelParams,
        querystring: PathQuery,
        response: { 200: ArtifactListSchema },
      },
    },
    async (req) => {
      const ctx = contextOf(req);
      const model = await s.loggedModels.get(ctx, req.params.modelId);
      return { rootUri: model.row.artifact_uri, files: await s.artifacts.listUnder(ctx, model.row.artifact_uri, req.query.path) };
    },
  );
  app.get(
    '/api/v1/logged-models/:modelId/artifacts/file',
    {
      config: byId,
      schema: {
        tags,
        summary: "Download one of a logged model's files (streamed)",
        params: ModelParams,
        querystring: PathQuery,
        response: { 200: artifactResponse },
      },
    },
    async (req, reply) => {
      if (!req.query.path) throw new AppError('INVALID_ARGUMENT', 'Name the file to download with ?path=.');
      const ctx = contextOf(req);
      const model = await s.loggedModels.get(ctx, req.params.modelId);
      return sendArtifact(reply, await s.artifacts.openUnder(ctx, model.row.artifact_uri, req.query.path), req.query.path);
    },
  );
}
