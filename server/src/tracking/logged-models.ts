import { randomUUID } from 'node:crypto';
import { decodePageToken, pageOf } from '../db/paging.js';
import type { RequestContext } from '../auth/principal.js';
import { LoggedModelNameSchema, ParamInputSchema, TRACKING_LIMITS, TagInputSchema, tagsInput } from '@forja/contracts';
import { z } from 'zod';
import { AppError, invalid, notFound, parseField } from '../errors.js';
import { FilterError, comparisons, parseFilter } from './filter.js';
import type { LoggedModelMetricRow, LoggedModelRow, LoggedModelsStore } from './logged-models-store.js';
import type { TrackingService } from './service.js';
import type { KV } from './store.js';

const TagsSchema = z.array(TagInputSchema);
const ParamsSchema = z.array(ParamInputSchema);

export interface LoggedModel {
  row: LoggedModelRow;
  tags: KV[];
  params: KV[];
  /** Run metric points linked to this model (MLflow 3 logs them with the model's id). */
  metrics: LoggedModelMetricRow[];
}

/** The tag MLflow keeps on a logged model: the registered versions made from it, as a JSON list. */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

const STATUSES = new Set(['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED']);

export interface LoggedModelsServiceOptions {
  store: LoggedModelsStore;
  tracking: TrackingService;
  clock?: () => number;
}

/**
 * MLflow 3 logged models: what `log_model` creates before it uploads the model's files, links to
 * the run as an output and finalizes. They live in an experiment and obey its group's roles.
 */
export class LoggedModelsService {
  private readonly store: LoggedModelsStore;
  private readonly tracking: TrackingService;
  private readonly clock: () => number;

  constructor(options: LoggedModelsServiceOptions) {
    this.store = options.store;
    this.tracking = options.tracking;
    this.clock = options.clock ?? Date.now;
  }

  async create(
    ctx: RequestContext,
    input: { experimentId: string; name?: string; modelType?: string; sourceRunId?: string; params: KV[]; tags: KV[] },
    scope?: Parameters<TrackingService['readableExperiment']>[3],
  ): Promise<LoggedModel> {
    const name = input.name ? parseField(LoggedModelNameSchema, input.name, 'name') : undefined;
    const tags = parseField(tagsInput(TRACKING_LIMITS.runTagValueLength), input.tags, 'tags');
    const params = parseField(ParamsSchema, input.params, 'params');
    const exp = await this.tracking.readableExperiment(ctx, input.experimentId, 'editor', scope);
    if (input.sourceRunId) await this.tracking.readableRun(ctx, input.sourceRunId, 'editor');
    const id = `m-${randomUUID().replace(/-/g, '')}`;
    const now = this.clock();
    const row: LoggedModelRow = {
      id,
      experiment_id: exp.id,
      group_id: exp.group_id,
      name: name || `model-${id.slice(2, 10)}`,
      model_type: input.modelType ?? null,
      source_run_id: input.sourceRunId ?? null,
      status: 'LOGGED_MODEL_PENDING',
      status_message: null,
      artifact_uri: `${exp.artifact_location.replace(/\/+$/, '')}/models/${id}/artifacts`,
      creator_id: ctx.principal.name,
      creation_time: now,
      last_updated_time: now,
      lifecycle_stage: 'active',
    };
    await this.store.insert(row, tags, dedupe(params));
    return this.get(ctx, id);
  }

  async get(ctx: RequestContext, id: string, allowDeleted = false): Promise<LoggedModel> {
    const row = await this.readable(ctx, id, 'viewer');
    if (row.lifecycle_stage === 'deleted' && !allowDeleted) throw notFound('Logged model', id);
    return { row, ...(await this.store.details(id)) };
  }

  async finalize(ctx: RequestContext, id: string, status: string): Promise<LoggedModel> {
    if (!STATUSES.has(status)) throw invalid(`Invalid value '${status}' for parameter 'status': use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`);
    await this.readable(ctx, id, 'editor');
    await this.store.update(id, { status: status as LoggedModelRow['status'], last_updated_time: this.clock() });
    return this.get(ctx, id);
  }

  async remove(ctx: RequestContext, id: string): Promise<void> {
    await this.readable(ctx, id, 'editor');
    await this.store.update(id, { lifecycle_stage: 'deleted', last_updated_time: this.clock() });
  }

  async setTags(ctx: RequestContext, id: string, input: KV[]): Promise<void> {
    const tags = parseField(TagsSchema, input, 'tags');
    await this.readable(ctx, id, 'editor');
    await this.store.setTags(id, tags);
  }

  async deleteTag(ctx: RequestContext, id: string, key: string): Promise<void> {
    await this.readable(ctx, id, 'editor');
    if (!(await this.store.deleteTag(id, key))) throw notFound('Logged model tag', key);
  }

  async logParams(ctx: RequestContext, id: string, input: KV[]): Promise<void> {
    const params = parseField(ParamsSchema, input, 'params');
    await this.readable(ctx, id, 'editor');
    await this.store.addParams(id, dedupe(params));
  }

  async logOutputs(ctx: RequestContext, runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    const run = await this.tracking.readableRun(ctx, runId, 'editor');
    // Every model is checked before any link is written, so a bad id stores nothing.
    for (const m of models) await this.readable(ctx, m.modelId, 'viewer');
    await this.tracking.requireModelsOfRun(
      run,
      models.map((m) => m.modelId),
    );
    await this.store.setRunOutputs(runId, models);
  }

  /**
   * Records on a logged model that a registered version was made from it, as MLflow's server does:
   * the tag mlflow.modelVersions lists {name, version} once each, in Python's JSON spelling (the
   * mlflow client reads it back and appends its own entry).
   */
  async linkModelVersion(id: string, name: string, version: number): Promise<void> {
    await this.store.rewriteTag(id, MODEL_VERSIONS_TAG, (current) => {
      let list: unknown[] = [];
      try {
        const parsed: unknown = current !== undefined ? JSON.parse(current) : [];
        if (Array.isArray(parsed)) list = parsed;
      } catch {
        // A value someone else wrote that is not JSON is replaced, as MLflow would fail to read it.
      }
      const entry = { name, version };
      if (!list.some((e) => JSON.stringify(e) === JSON.stringify(entry))) list.push(entry);
      return pythonJson(list);
    });
  }

  /** The models a run made (logged from it or linked as its outputs), after checking the caller may read the run. */
  async ofRun(ctx: RequestContext, runId: string): Promise<LoggedModel[]> {
    await this.tracking.readableRun(ctx, runId, 'viewer');
    const rows = await this.store.ofRun(runId);
    return Promise.all(rows.map(async (row) => ({ row, ...(await this.store.details(row.id)) })));
  }

  async search(
    ctx: RequestContext,
    input: {
      experimentIds: string[];
      filter?: string;
      datasets?: { name: string; digest?: string }[];
      maxResults: number;
      pageToken?: string;
      orderBy: { field: string; ascending: boolean }[];
    },
  ): Promise<{ models: LoggedModel[]; nextPageToken?: string }> {
    const ids = await this.tracking.readableExperimentIds(ctx, input.experimentIds);
    if (ids.length === 0) return { models: [] };
    const offset = decodePageToken(input.pageToken);
    let rows: LoggedModelRow[];
    try {
      const expr = parseFilter(input.filter);
      rows = await this.store.search({
        experimentIds: ids,
        filter: expr,
        datasets: input.datasets ?? [],
        // Datasets without a metric comparison: the models with any metric measured on one of them.
        anyMetricOnDatasets: !comparisons(expr).some((c) => c.entity === 'metric'),
        orderBy: input.orderBy,
        offset,
        limit: input.maxResults + 1,
      });
    } catch (err) {
      if (err instanceof FilterError) throw new AppError('INVALID_ARGUMENT', err.message);
      throw err;
    }
    const { page, nextPageToken } = pageOf(rows, offset, input.maxResults);
    const models = await Promise.all(page.map((r) => this.get(ctx, r.id)));
    return { models, ...(nextPageToken ? { nextPageToken } : {}) };
  }

  private async readable(ctx: RequestContext, id: string, needed: 'viewer' | 'editor'): Promise<LoggedModelRow> {
    if (!/^m-[0-9a-f]{32}$/.test(id)) throw invalid(`Invalid value '${id.slice(0, 80)}' for parameter 'model_id'.`);
    const row = await this.store.get(id);
    if (!row) throw notFound('Logged model', id);
    await this.tracking.readableExperiment(ctx, row.experiment_id, needed).catch((err) => {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw notFound('Logged model', id);
      throw err;
    });
    return row;
  }
}

/** JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped), so values match MLflow's byte for byte. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`)
      .join(', ')}}`;
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function dedupe(items: KV[]): KV[] {
  return [...new Map(items.map((i) => [i.key, i.value]))].map(([key, value]) => ({ key, value }));
}
