import multipart from '@fastify/multipart';
import { z } from 'zod';
import { AppError, invalid } from '../../errors.js';
import { contextOf, groupOf } from '../../http/auth-hooks.js';
import type { App } from '../../http/types.js';
import { editor, viewer, type DhuoDeps, type DhuoRoute } from './route.js';
import { registerDhuoBatchRoutes } from './batch-routes.js';
import { registerDhuoModelRoutes } from './model-routes.js';
import { given, intParam, rawQuery } from './query.js';
import { CHUNK_BYTES, DhuoRunUploads, RUN_FILES, type RunFile } from './run-uploads.js';
import { TagsDict, bodyOf, required, viewTypeOf, wireExperiment, wireRun } from './wire.js';
import { readSmallForm } from './form.js';

export type { DhuoDeps } from './route.js';

/**
 * The client's base is `<service_uri>/api`: service_uri=http://forja:5050/dhuo acts in the caller's
 * default group, http://forja:5050/g/<group>/dhuo in that group (the client cannot send a group header).
 */
export const DHUO_PREFIXES = ['/dhuo/api', '/g/:group/dhuo/api'];

/** DHuolib 0.2.3's REST surface, translated onto Forja's services: no second store. */
export function registerDhuoRoutes(app: App, deps: DhuoDeps): void {
  const runUploads = new DhuoRunUploads({ tracking: deps.tracking, uploads: deps.uploads });
  for (const prefix of DHUO_PREFIXES) {
    app.register(
      async (scope) => {
        // A chunk is 10 MiB; readSmallForm refuses bigger files with its own message before this limit.
        await scope.register(multipart, { limits: { fileSize: CHUNK_BYTES + 1024 * 1024, files: 2, fields: 10 } });
        scope.setNotFoundHandler((req) => {
          throw new AppError('ROUTE_NOT_FOUND', `Forja does not serve ${req.method} ${req.url.split('?')[0]} on its DHuolib API.`);
        });
        const route: DhuoRoute = (method, path, auth, handler) =>
          scope.route({ method, url: `/${path}`, config: { auth }, schema: { hide: true }, handler: async (req, reply) => (await handler(req, reply)) ?? {} });
        registerExperimentRoutes(route, deps, runUploads);
        registerDhuoModelRoutes(route, deps);
        registerDhuoBatchRoutes(route, deps);
      },
      { prefix },
    );
  }
}

const ExperimentCreate = z.object({ experiment_name: required('experiment_name'), experiment_tags: TagsDict });
const RunCreate = z.object({ type_model: required('type_model'), experiment_name: required('experiment_name'), tags: TagsDict });

function registerExperimentRoutes(route: DhuoRoute, d: DhuoDeps, runUploads: DhuoRunUploads): void {
  const t = d.tracking;

  // DHuolib's create_experiment: a name already taken in the group returns that experiment, tags left as they were.
  route('POST', 'experiment', editor, async (req) => {
    const b = bodyOf(req, ExperimentCreate);
    const ctx = contextOf(req);
    try {
      return wireExperiment(await t.createExperiment(ctx, groupOf(req), { name: b.experiment_name, tags: b.experiment_tags }));
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'ALREADY_EXISTS')) throw err;
      return wireExperiment(await t.getExperimentByName(ctx, groupOf(req), b.experiment_name));
    }
  });

  route('GET', 'experiment/search', viewer, async (req) => {
    const q = rawQuery(req.url, ['filter_string', 'max_results', 'page_token', 'view_type']);
    const page = await t.searchExperiments(contextOf(req), groupOf(req), {
      filter: given(q.filter_string),
      viewType: viewTypeOf(q.view_type),
      maxResults: intParam(q.max_results, 'max_results', 10, 1000),
      pageToken: given(q.page_token),
    });
    return { experiments: page.experiments.map(wireExperiment), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });

  // One 10 MiB chunk of requirements.txt or the pickle; see DhuoRunUploads for how order is checked.
  route('POST', 'runs/upload_chunk', editor, async (req) => {
    const form = await readSmallForm(req, CHUNK_BYTES, `A chunk is at most ${CHUNK_BYTES} bytes (10 MiB), the size dhuolib reads its files in.`);
    const experimentName = given(form.fields.experiment_name);
    if (!experimentName) throw invalid('experiment_name is required.');
    const fileName = form.fields.file_name as RunFile | undefined;
    if (!fileName || !(fileName in RUN_FILES)) throw invalid(`file_name must be one of ${Object.keys(RUN_FILES).join(', ')}.`);
    const part = form.files.get(fileName);
    if (!part) throw invalid(`Send the chunk as a file in the "${fileName}" part, as file_name says.`);
    return runUploads.chunk(contextOf(req), groupOf(req), experimentName, fileName, part.bytes);
  });

  route('POST', 'runs', editor, async (req) => {
    const b = bodyOf(req, RunCreate);
    return runUploads.finish(contextOf(req), groupOf(req), b.experiment_name, b.type_model, b.tags);
  });

  // search_runs: an experiment the group does not have is a 204, which dhuolib reads as "Experiment not found".
  route('GET', 'runs/:experiment', viewer, async (req, reply) => {
    const name = (req.params as { experiment: string }).experiment;
    const q = rawQuery(req.url, ['filter_string', 'max_results', 'page_token']);
    const ctx = contextOf(req);
    const experiment = await t.getExperimentByName(ctx, groupOf(req), name).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    });
    if (!experiment) return reply.code(204).send();
    // DHuolib's guide: filter_string=* lists every run.
    const filter = given(q.filter_string);
    const page = await t.searchRuns(
      ctx,
      {
        experimentIds: [experiment.experimentId],
        filter: filter === '*' ? undefined : filter,
        maxResults: intParam(q.max_results, 'max_results', 10, 50_000),
        pageToken: given(q.page_token),
      },
      groupOf(req),
    );
    return { runs: page.runs.map(wireRun), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
}
