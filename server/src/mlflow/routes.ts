import type { FastifyRequest } from 'fastify';
import type { LogBatch as LogBatchInput } from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { ArtifactsService } from '../artifacts/service.js';
import type { RegistryService } from '../registry/service.js';
import type { LoggedModelsService } from '../tracking/logged-models.js';
import type { MetricBulkService } from '../tracking/metric-bulk.js';
import type { TrackingService } from '../tracking/service.js';
import { AppError } from '../errors.js';
import * as S from './schemas.js';
import { registerMlflowArtifactProxy, registerMlflowArtifactRoutes, registerMlflowRootArtifactRoutes } from './artifact-routes.js';
import { registerBulkRoutes } from './bulk-routes.js';
import { input, mlflowErrorHandler, wireExperiment, wireLoggedModel, wireMetric, wireModelVersion, wireRegisteredModel, wireRun, wireRunInfo } from './wire.js';

const BASE_PREFIXES = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow', '/api/3.0/mlflow'];
/**
 * Also under /g/<group>/…: MLFLOW_TRACKING_URI=http://host/g/fraud-team points an unchanged mlflow
 * client at another group, since it cannot send an X-Forja-Group header.
 */
export const MLFLOW_PREFIXES = [...BASE_PREFIXES, ...BASE_PREFIXES.map((p) => `/g/:group${p}`)];

type Handler = (req: FastifyRequest) => Promise<unknown>;

/** The services MLflow's REST surface is translated onto. */
export interface MlflowDeps {
  tracking: TrackingService;
  loggedModels: LoggedModelsService;
  metricBulk: MetricBulkService;
  registry: RegistryService;
  artifacts: ArtifactsService;
}

/**
 * The MLflow tracking REST surface, translated onto the tracking service. Every route acts in the
 * caller's group (X-Forja-Group, else their default group); resources named by id are checked
 * against the group that owns them.
 */
export function registerMlflowRoutes(app: App, s: MlflowDeps): void {
  for (const prefix of MLFLOW_PREFIXES) {
    app.register(
      async (scope) => {
        scope.setErrorHandler(mlflowErrorHandler);
        scope.setNotFoundHandler((req) => {
          throw new AppError('ROUTE_NOT_FOUND', `Forja does not serve ${req.method} ${req.url.split('?')[0]} on its MLflow API.`);
        });
        const route = (method: Method, path: string, handler: Handler) =>
          scope.route({
            method,
            url: `/${path}`,
            config: { auth: { group: 'viewer' } },
            schema: { hide: true },
            handler: async (req) => (await handler(req)) ?? {},
          });
        registerTracking(route, s);
        registerLoggedModels(route, s);
        registerRegistry(route, s);
        registerBulkRoutes(route, s);
        registerMlflowArtifactRoutes(scope, s);
      },
      { prefix },
    );
  }
  registerMlflowRootArtifactRoutes(app, s);
  registerMlflowArtifactProxy(app, s);
}

/** MLflow 3's link from a metric to a logged model and the dataset it was measured on; empty means none. */
function modelLink(m: { model_id?: unknown; dataset_name?: unknown; dataset_digest?: unknown }) {
  return {
    ...(m.model_id ? { modelId: m.model_id } : {}),
    ...(m.dataset_name ? { datasetName: m.dataset_name } : {}),
    ...(m.dataset_digest ? { datasetDigest: m.dataset_digest } : {}),
  } as { modelId?: string; datasetName?: string; datasetDigest?: string };
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | ('GET' | 'POST')[];
export type Route = (method: Method, path: string, handler: Handler) => unknown;

function registerTracking(route: Route, s: Pick<MlflowDeps, 'tracking' | 'artifacts'>): void {
  const t = s.tracking;
  const ctx = contextOf;

  // The client asks before large uploads whether multipart is on; Forja's resumable uploads are native-only.
  route('GET', 'server-info', async () => ({
    store_type: 'SqlStore',
    workspaces_enabled: false,
    trace_archival_enabled: false,
    multipart_uploads_enabled: false,
    multipart_downloads_enabled: false,
  }));

  route('POST', 'experiments/create', async (req) => {
    const b = input(req, S.ExperimentCreate);
    const e = await t.createExperiment(ctx(req), groupOf(req), { name: b.name, artifactLocation: b.artifact_location, tags: b.tags });
    return { experiment_id: e.experimentId };
  });
  route('GET', 'experiments/get', async (req) => ({
    experiment: wireExperiment(await t.getExperiment(ctx(req), input(req, S.ExperimentIdOnly).experiment_id, groupOf(req))),
  }));
  route('GET', 'experiments/get-by-name', async (req) => ({
    experiment: wireExperiment(await t.getExperimentByName(ctx(req), groupOf(req), input(req, S.ExperimentByName).experiment_name)),
  }));
  route(['GET', 'POST'], 'experiments/search', async (req) => {
    const b = input(req, S.ExperimentSearch);
    if (b.max_results === undefined || b.max_results < 1)
      throw new AppError('INVALID_ARGUMENT', `Invalid value ${b.max_results ?? 0} for parameter 'max_results' supplied: it must be at least 1.`);
    const page = await t.searchExperiments(ctx(req), groupOf(req), {
      filter: b.filter,
      orderBy: b.order_by ?? [],
      viewType: b.view_type,
      maxResults: b.max_results,
      pageToken: b.page_token || undefined,
    });
    return { experiments: page.experiments.map(wireExperiment), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  route('POST', 'experiments/update', async (req) => {
    const b = input(req, S.ExperimentUpdate);
    await t.renameExperiment(ctx(req), b.experiment_id, b.new_name);
  });
  route('POST', 'experiments/delete', async (req) => {
    await t.setExperimentStage(ctx(req), input(req, S.ExperimentIdOnly).experiment_id, 'deleted');
  });
  route('POST', 'experiments/restore', async (req) => {
    await t.setExperimentStage(ctx(req), input(req, S.ExperimentIdOnly).experiment_id, 'active');
  });
  route('POST', 'experiments/set-experiment-tag', async (req) => {
    const b = input(req, S.ExperimentTag);
    await t.setExperimentTag(ctx(req), b.experiment_id, b.key, b.value);
  });
  route('POST', 'experiments/delete-experiment-tag', async (req) => {
    const b = input(req, S.ExperimentTagDelete);
    await t.deleteExperimentTag(ctx(req), b.experiment_id, b.key);
  });

  route('POST', 'runs/create', async (req) => {
    const b = input(req, S.RunCreate);
    const run = await t.createRun(ctx(req), groupOf(req), {
      experimentId: b.experiment_id || '0',
      runName: b.run_name,
      startTime: b.start_time,
      tags: b.tags,
      userId: b.user_id,
    });
    return { run: wireRun(run, { modelInputs: true }) };
  });
  route('POST', 'runs/update', async (req) => {
    const b = input(req, S.RunUpdate);
    return { run_info: wireRunInfo(await t.updateRun(ctx(req), b.runId, { status: b.status, endTime: b.end_time, runName: b.run_name })) };
  });
  route('POST', 'runs/delete', async (req) => {
    await t.setRunStage(ctx(req), input(req, S.RunOnly).runId, 'deleted');
  });
  route('POST', 'runs/restore', async (req) => {
    await t.setRunStage(ctx(req), input(req, S.RunOnly).runId, 'active');
  });
  route('GET', 'runs/get', async (req) => ({ run: wireRun(await t.getRun(ctx(req), input(req, S.RunOnly).runId), { modelInputs: true }) }));
  route('POST', 'runs/search', async (req) => {
    const b = input(req, S.RunSearch);
    if (b.max_results !== undefined && b.max_results > 50_000)
      throw new AppError('INVALID_ARGUMENT', `Invalid value ${b.max_results} for parameter 'max_results' supplied: it must be at most 50000.`);
    if (b.experiment_ids.length === 0) return { runs: [] };
    const page = await t.searchRuns(
      ctx(req),
      {
        experimentIds: b.experiment_ids,
        filter: b.filter,
        orderBy: b.order_by ?? [],
        viewType: b.run_view_type,
        maxResults: b.max_results ?? 1000,
        pageToken: b.page_token || undefined,
      },
      groupOf(req),
    );
    // MLflow's runs/search leaves model inputs out (runs/get has them).
    return { runs: page.runs.map((r) => wireRun(r, { modelInputs: false })), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  route('POST', 'runs/log-metric', async (req) => {
    const b = input(req, S.LogMetric);
    await t.logBatch(ctx(req), b.runId, { metrics: [{ key: b.key, value: b.value, timestamp: b.timestamp, step: b.step ?? 0, ...modelLink(b) }] });
  });
  route('POST', 'runs/log-parameter', async (req) => {
    const b = input(req, S.LogParam);
    await t.logBatch(ctx(req), b.runId, { params: [{ key: b.key, value: b.value }] });
  });
  route('POST', 'runs/log-batch', async (req) => {
    const b = input(req, S.LogBatch);
    // MLflow ignores fields it does not know (run_id inside a metric, for one).
    const metrics = b.metrics.map((m) => {
      const { key, value, timestamp, step, ...rest } = (m ?? {}) as Record<string, unknown>;
      return { key, value, timestamp, step: step ?? 0, ...modelLink(rest) };
    }) as LogBatchInput['metrics'];
    await t.logBatch(ctx(req), b.runId, { metrics, params: b.params, tags: b.tags });
  });
  route('POST', 'runs/set-tag', async (req) => {
    const b = input(req, S.SetTag);
    await t.logBatch(ctx(req), b.runId, { tags: [{ key: b.key, value: b.value }] });
  });
  route('POST', 'runs/delete-tag', async (req) => {
    const b = input(req, S.DeleteTag);
    await t.deleteTag(ctx(req), b.runId, b.key);
  });
  route('POST', 'runs/log-model', async (req) => {
    const b = input(req, S.LogModel);
    await t.appendLoggedModelHistory(ctx(req), b.runId, b.model_json);
  });
  route('POST', 'runs/log-inputs', async (req) => {
    const b = input(req, S.LogInputs);
    await t.logInputs(
      ctx(req),
      b.runId,
      b.datasets.map((d) => ({
        tags: d.tags,
        dataset: {
          name: d.dataset.name,
          digest: d.dataset.digest,
          sourceType: d.dataset.source_type,
          source: d.dataset.source,
          schema: d.dataset.schema,
          profile: d.dataset.profile,
        },
      })),
      b.models.map((m) => m.model_id),
    );
  });
  route('GET', 'artifacts/list', async (req) => {
    const b = input(req, S.ArtifactList);
    const { rootUri, files } = await s.artifacts.listRun(ctx(req), b.runId, b.path);
    return { root_uri: rootUri, files: files.map((f) => ({ path: f.path, is_dir: f.isDir, ...(f.size !== null ? { file_size: f.size } : {}) })) };
  });
  route('GET', 'metrics/get-history', async (req) => {
    const b = input(req, S.MetricHistory);
    const page = await t.metricHistory(ctx(req), b.runId, b.metric_key, b.max_results, b.page_token || undefined);
    return { metrics: page.metrics.map(wireMetric), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
}

function registerLoggedModels(route: Route, s: Pick<MlflowDeps, 'loggedModels'>): void {
  const lm = s.loggedModels;
  const modelId = (req: FastifyRequest) => String((req.params as Record<string, string>).model_id);
  route('POST', 'logged-models', async (req) => {
    const b = input(req, S.LoggedModelCreate);
    const m = await lm.create(
      contextOf(req),
      { experimentId: b.experiment_id, name: b.name, modelType: b.model_type, sourceRunId: b.source_run_id, params: b.params, tags: b.tags },
      groupOf(req),
    );
    return { model: wireLoggedModel(m) };
  });
  route('POST', 'logged-models/search', async (req) => {
    const b = input(req, S.LoggedModelSearch);
    const page = await lm.search(contextOf(req), {
      experimentIds: b.experiment_ids,
      filter: b.filter,
      datasets: b.datasets.map((d) => ({ name: d.dataset_name, digest: d.dataset_digest || undefined })),
      maxResults: Math.min(b.max_results ?? 100, 1000),
      pageToken: b.page_token || undefined,
      orderBy: b.order_by.map((o) => ({ field: o.field_name, ascending: o.ascending ?? true })),
    });
    return { models: page.models.map(wireLoggedModel), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  route('GET', 'logged-models/:model_id', async (req) => ({ model: wireLoggedModel(await lm.get(contextOf(req), modelId(req))) }));
  route('PATCH', 'logged-models/:model_id', async (req) => ({
    model: wireLoggedModel(await lm.finalize(contextOf(req), modelId(req), input(req, S.LoggedModelFinalize).status)),
  }));
  route('DELETE', 'logged-models/:model_id', async (req) => {
    await lm.remove(contextOf(req), modelId(req));
  });
  route('PATCH', 'logged-models/:model_id/tags', async (req) => {
    await lm.setTags(contextOf(req), modelId(req), input(req, S.LoggedModelTags).tags);
  });
  route('DELETE', 'logged-models/:model_id/tags/:tag_key', async (req) => {
    await lm.deleteTag(contextOf(req), modelId(req), String((req.params as Record<string, string>).tag_key));
  });
  route('POST', 'logged-models/:model_id/params', async (req) => {
    await lm.logParams(contextOf(req), modelId(req), input(req, S.LoggedModelParams).params);
  });
  route('POST', 'runs/outputs', async (req) => {
    const b = input(req, S.RunOutputs);
    await lm.logOutputs(
      contextOf(req),
      b.runId,
      b.models.map((m) => ({ modelId: m.model_id, step: m.step ?? 0 })),
    );
  });
}

function registerRegistry(route: Route, s: Pick<MlflowDeps, 'registry'>): void {
  const r = s.registry;
  const g = groupOf;
  const page = (token?: string) => (token ? { next_page_token: token } : {});

  route('POST', 'registered-models/create', async (req) => {
    const b = input(req, S.ModelCreate);
    return {
      registered_model: wireRegisteredModel(await r.createModel(contextOf(req), g(req), { name: b.name, description: b.description ?? '', tags: b.tags })),
    };
  });
  route('GET', 'registered-models/get', async (req) => ({ registered_model: wireRegisteredModel(await r.getModel(g(req), input(req, S.ModelName).name)) }));
  route('POST', 'registered-models/rename', async (req) => {
    const b = input(req, S.ModelRename);
    return { registered_model: wireRegisteredModel(await r.updateModel(contextOf(req), g(req), b.name, { newName: b.new_name })) };
  });
  route('PATCH', 'registered-models/update', async (req) => {
    const b = input(req, S.ModelUpdate);
    return { registered_model: wireRegisteredModel(await r.updateModel(contextOf(req), g(req), b.name, { description: b.description })) };
  });
  route('DELETE', 'registered-models/delete', async (req) => {
    await r.deleteModel(contextOf(req), g(req), input(req, S.ModelName).name);
  });
  route('GET', 'registered-models/search', async (req) => {
    const b = input(req, S.ModelSearchQ);
    const res = await r.searchModels(g(req), {
      filter: b.filter,
      orderBy: b.order_by ?? [],
      maxResults: b.max_results ?? 100,
      pageToken: b.page_token || undefined,
    });
    return { registered_models: res.registeredModels.map(wireRegisteredModel), ...page(res.nextPageToken) };
  });
  route(['GET', 'POST'], 'registered-models/get-latest-versions', async (req) => {
    const b = input(req, S.LatestVersions);
    return { model_versions: (await r.latestVersions(g(req), b.name, b.stages)).map(wireModelVersion) };
  });
  route('POST', 'registered-models/set-tag', async (req) => {
    const b = input(req, S.ModelTag);
    await r.setModelTag(g(req), b.name, b.key, b.value);
  });
  route('DELETE', 'registered-models/delete-tag', async (req) => {
    const b = input(req, S.ModelTagDelete);
    await r.deleteModelTag(g(req), b.name, b.key);
  });
  route('POST', 'registered-models/alias', async (req) => {
    const b = input(req, S.AliasSet);
    await r.setAlias(contextOf(req), g(req), b.name, b.alias, b.version);
  });
  route('DELETE', 'registered-models/alias', async (req) => {
    const b = input(req, S.AliasRef);
    await r.deleteAlias(contextOf(req), g(req), b.name, b.alias);
  });
  route('GET', 'registered-models/alias', async (req) => {
    const b = input(req, S.AliasRef);
    return { model_version: wireModelVersion(await r.versionByAlias(g(req), b.name, b.alias)) };
  });

  route('POST', 'model-versions/create', async (req) => {
    const b = input(req, S.VersionCreate);
    const v = await r.createVersion(contextOf(req), g(req), b.name, {
      source: b.source,
      runId: b.run_id || undefined,
      runLink: b.run_link,
      modelId: b.model_id || undefined,
      description: b.description ?? '',
      tags: b.tags,
    });
    return { model_version: wireModelVersion(v) };
  });
  route('GET', 'model-versions/get', async (req) => {
    const b = input(req, S.VersionRef);
    return { model_version: wireModelVersion(await r.getVersion(g(req), b.name, b.version)) };
  });
  route('PATCH', 'model-versions/update', async (req) => {
    const b = input(req, S.VersionUpdate);
    return { model_version: wireModelVersion(await r.updateVersion(g(req), b.name, b.version, b.description)) };
  });
  route('DELETE', 'model-versions/delete', async (req) => {
    const b = input(req, S.VersionRef);
    await r.deleteVersion(contextOf(req), g(req), b.name, b.version);
  });
  route('GET', 'model-versions/search', async (req) => {
    const b = input(req, S.ModelSearchQ);
    const res = await r.searchVersions(g(req), {
      filter: b.filter,
      orderBy: b.order_by ?? [],
      maxResults: b.max_results ?? 1000,
      pageToken: b.page_token || undefined,
    });
    return { model_versions: res.modelVersions.map(wireModelVersion), ...page(res.nextPageToken) };
  });
  route('POST', 'model-versions/transition-stage', async (req) => {
    const b = input(req, S.VersionTransition);
    const result = await r.transition(contextOf(req), g(req), b.name, b.version, b.stage, b.archive_existing_versions);
    // MLflow's protocol has no "accepted, pending" answer: say plainly what happened instead.
    if (result.approvalRequest)
      throw new AppError(
        'PERMISSION_DENIED',
        `Moving ${b.name} version ${b.version} to ${result.approvalRequest.toStage} needs an approval in group '${g(req).name}'. Approval request ${result.approvalRequest.id} is waiting for an approver; the version stays in ${result.modelVersion.currentStage}.`,
      );
    return { model_version: wireModelVersion(result.modelVersion) };
  });
  route('GET', 'model-versions/get-download-uri', async (req) => {
    const b = input(req, S.VersionRef);
    return { artifact_uri: (await r.getVersion(g(req), b.name, b.version)).storageLocation };
  });
  route('POST', 'model-versions/set-tag', async (req) => {
    const b = input(req, S.VersionTag);
    await r.setVersionTag(g(req), b.name, b.version, b.key, b.value);
  });
  route('DELETE', 'model-versions/delete-tag', async (req) => {
    const b = input(req, S.VersionTagDelete);
    await r.deleteVersionTag(g(req), b.name, b.version, b.key);
  });
}
