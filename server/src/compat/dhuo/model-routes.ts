import type { ModelVersion } from '@forja/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GroupScope, RequestContext } from '../../auth/principal.js';
import { AppError, conflict, invalid, notFound, unauthenticated } from '../../errors.js';
import { contextOf, groupOf } from '../../http/auth-hooks.js';
import { parseStage } from '../../registry/service.js';
import { PICKLE_FILE } from '../../runtime/models.js';
import { given, intParam, rawQuery } from './query.js';
import { editor, viewer, type DhuoDeps, type DhuoRoute } from './route.js';
import { readSmallForm } from './form.js';
import { TagsDict, bodyOf, required, wireModel, wireModelVersion } from './wire.js';

const ModelCreate = z.object({
  modelname: required('modelname'),
  stage: required('stage'),
  run_id: required('run_id'),
  model_uri: required('model_uri'),
  tags: TagsDict,
});

/** predict_online sends no token, so it may only send what Forja takes from anyone: the public predict limit. */
const PUBLIC_CSV_BYTES = 1024 * 1024;

export function registerDhuoModelRoutes(route: DhuoRoute, d: DhuoDeps): void {
  const r = d.registry;

  // create_model: registers the run's model as a new version of `modelname` (the name first, when new) at `stage`.
  route('POST', 'models', editor, async (req) => {
    const b = bodyOf(req, ModelCreate);
    const ctx = contextOf(req);
    const scope = groupOf(req);
    const stage = parseStage(b.stage);
    await groupRun(d, ctx, scope, b.run_id);
    const uriRun = /^runs:\/([^/]+)\//.exec(b.model_uri)?.[1];
    if (uriRun !== undefined && uriRun !== b.run_id)
      throw invalid(
        `model_uri ${b.model_uri.slice(0, 200)} is of run ${uriRun}, not of run_id ${b.run_id}: send the model_uri that execute_run_for_experiment returned.`,
      );
    await r.createModel(ctx, scope, { name: b.modelname, tags: b.tags }).catch((err: unknown) => {
      // A new version of a name registered before, as DHuolib does.
      if (!(err instanceof AppError && err.code === 'ALREADY_EXISTS')) throw err;
    });
    const created = await r.createVersion(ctx, scope, b.modelname, { source: b.model_uri, runId: b.run_id, tags: b.tags });
    if (stage === 'None') return wireModelVersion(created, 'None');
    const moved = await r.transition(ctx, scope, b.modelname, created.version, stage, false);
    return wireModelVersion(moved.modelVersion, created.currentStage, moved.approvalRequest?.id);
  });

  // transition_model is a GET in dhuolib (it changes the stage all the same).
  route('GET', 'models/transition-model/:model', editor, async (req) => {
    const name = (req.params as { model: string }).model;
    const q = rawQuery(req.url, ['version', 'stage']);
    const version = given(q.version);
    const stage = given(q.stage);
    if (!version) throw invalid('version is required.');
    if (!stage) throw invalid('stage is required: None, Staging, Production or Archived.');
    const scope = groupOf(req);
    const before = await r.getVersion(scope, name, version);
    const moved = await r.transition(contextOf(req), scope, name, version, stage, false);
    return wireModelVersion(moved.modelVersion, before.currentStage, moved.approvalRequest?.id);
  });

  route('GET', 'models/search', viewer, async (req) => {
    const q = rawQuery(req.url, ['filter_string', 'max_results', 'page_token']);
    const page = await r.searchModels(groupOf(req), {
      filter: given(q.filter_string),
      maxResults: intParam(q.max_results, 'max_results', 10, 1000),
      pageToken: given(q.page_token),
    });
    return page.registeredModels.map(wireModel);
  });

  // download_pkl / prediction_batch_with_dataframe: the raw pickle of the model at a stage, or of a run.
  route('GET', 'experiment/download/batch/:experiment/:model', viewer, async (req, reply) => {
    const { model } = req.params as { experiment: string; model: string };
    const q = rawQuery(req.url, ['model_stage', 'run_id', 'type_model']);
    const stage = given(q.model_stage);
    const runId = given(q.run_id);
    const ctx = contextOf(req);
    const scope = groupOf(req);
    let file: Awaited<ReturnType<typeof d.artifacts.openUnder>>;
    if (stage) {
      const version = await r.resolveUri(scope, `models:/${model}/${parseStage(stage)}`);
      if (runId && version.runId !== runId) throw notFound('Model version', `${model} at ${stage} from run ${runId}`);
      file = await pickleUnder(d, ctx, version.storageLocation, `${model} version ${version.version}`);
    } else if (runId) {
      await r.getModel(scope, model);
      const run = await groupRun(d, ctx, scope, runId);
      file = await pickleUnder(d, ctx, `${run.artifact_uri}/model`, `run ${runId}`);
    } else throw invalid('Send model_stage (with the model name) or run_id: which pickle to download.');
    return reply
      .type('application/octet-stream')
      .header('content-length', String(file.size))
      .header('content-disposition', `attachment; filename="${model.replace(/[^\w.-]/g, '_')}.pkl"`)
      .send(file.stream);
  });

  /**
   * predict_online posts modelname, stage, run_id and a CSV file with no credentials, so Forja answers
   * it only from a public deployment serving that version (a group admin's setting); otherwise a 401
   * saying so, the same whether or not the model exists, so an anonymous caller learns nothing.
   */
  route('POST', 'experiment/predict_online', { public: true }, async (req) => {
    const form = await readSmallForm(req, PUBLIC_CSV_BYTES, `predict_online sends no token, so its CSV may be at most ${PUBLIC_CSV_BYTES} bytes (1 MiB).`);
    const name = given(form.fields.modelname);
    const stageText = given(form.fields.stage);
    const runId = given(form.fields.run_id);
    if (!name) throw invalid('modelname is required.');
    if (!stageText) throw invalid('stage is required: None, Staging, Production or Archived.');
    const stage = parseStage(stageText);
    const csv = form.files.get('data');
    if (!csv || csv.bytes.length === 0) throw invalid('Send the rows to score as a CSV file in the "data" part.');
    const target = await publicTarget(d, req, name, stage, runId);
    // The public predict's own rate limit, per deployment and address.
    const groupId = await d.deployments.publicGroupOf(target.id, req.ip);
    const scope = groupId ? await d.groups.anonymousScope(groupId) : undefined;
    if (!scope) throw closed(name, stage);
    const out = JSON.parse((await d.deployments.predict(scope, target.id, csv.bytes, 'csv', req.id)).toString('utf8')) as { predictions?: unknown };
    return { model_name: name, stage, model_version: Number(target.version.version), predictions: out.predictions ?? out };
  });
}

/** A run of this group, or a 404 as for one that does not exist (a run of another group is not shown). */
async function groupRun(d: DhuoDeps, ctx: RequestContext, scope: GroupScope, runId: string) {
  const run = await d.tracking.readableRun(ctx, runId, 'viewer').catch((err: unknown) => {
    if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'PERMISSION_DENIED')) return undefined;
    throw err;
  });
  if (!run || run.group_id !== scope.id) throw notFound('Run', runId);
  return run;
}

/** The model file (.pkl, .pickle or .joblib) in a model folder Forja stores. */
async function pickleUnder(d: DhuoDeps, ctx: RequestContext, folderUri: string, what: string) {
  const entries = await d.artifacts.listUnder(ctx, folderUri, '');
  const pickle = entries.find((e) => !e.isDir && PICKLE_FILE.test(e.path));
  if (!pickle) throw notFound('Model pickle', `${what} (it holds ${entries.map((e) => e.path).join(', ') || 'no files'})`);
  return d.artifacts.openUnder(ctx, folderUri, pickle.path);
}

const closed = (name: string, stage: string) =>
  unauthenticated(
    `No public deployment serves model '${name}' at stage ${stage}. predict_online sends no credentials, so Forja answers it only from a deployment marked public: deploy that version (POST /api/v1/deployments/from-model with modelUri models:/${name}/${stage}) and have a group admin turn on its "public" setting (PATCH /api/v1/deployments/<id> {"settings": {"public": true}}).`,
  );

/**
 * The public deployment serving the version of `name` now at `stage` (and of `runId`, when given):
 * in the path's group, else in any group; several groups → name one with /g/<group>/dhuo.
 */
async function publicTarget(d: DhuoDeps, req: FastifyRequest, name: string, stage: string, runId: string | undefined) {
  const groupName = (req.params as { group?: string }).group;
  const groupId = groupName === undefined ? undefined : await d.groups.idOf(groupName);
  if (groupName !== undefined && !groupId) throw closed(name, stage);
  const found: Array<{ id: string; groupId: string; version: ModelVersion }> = [];
  for (const candidate of await d.deployments.publicServing(name, groupId)) {
    const scope = await d.groups.anonymousScope(candidate.groupId);
    const version = scope && (await d.registry.resolveUri(scope, `models:/${name}/${stage}`).catch(() => undefined));
    if (!version || version.version !== candidate.modelVersion || (runId && version.runId !== runId)) continue;
    found.push({ ...candidate, version });
  }
  if (found.length === 0) throw closed(name, stage);
  if (new Set(found.map((f) => f.groupId)).size > 1)
    throw conflict(`Public deployments of model '${name}' at ${stage} exist in several groups: set service_uri to http://<forja>/g/<group>/dhuo to say which.`);
  return found[0]!;
}
