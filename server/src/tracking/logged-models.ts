import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import { decodePageToken, pageOf } from '../db/paging.js';
import type { LoggedModelMetricsTable, LoggedModelsTable } from '../db/schema.js';
import type { RequestContext } from '../auth/principal.js';
import { LoggedModelNameSchema, ParamInputSchema, TRACKING_LIMITS, TagInputSchema, tagsInput } from '@forja/contracts';
import { z } from 'zod';
import { AppError, invalid, notFound, parseField } from '../errors.js';
import { FilterError, comparisons, parseFilter } from './filter.js';
import { compileFilter, type FilterTarget } from './sql-filter.js';
import type { TrackingService } from './service.js';
import type { KV } from './store.js';

const TagsSchema = z.array(TagInputSchema);
const ParamsSchema = z.array(ParamInputSchema);

export type LoggedModelRow = Selectable<LoggedModelsTable>;
export interface LoggedModel {
  row: LoggedModelRow;
  tags: KV[];
  params: KV[];
  /** Run metric points linked to this model (MLflow 3 logs them with the model's id). */
  metrics: Selectable<LoggedModelMetricsTable>[];
}

/** The tag MLflow keeps on a logged model: the registered versions made from it, as a JSON list. */
const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

const ATTRIBUTES: Record<string, { column: string; kind: 'string' | 'number' }> = {
  name: { column: 'logged_models.name', kind: 'string' },
  model_id: { column: 'logged_models.id', kind: 'string' },
  model_type: { column: 'logged_models.model_type', kind: 'string' },
  status: { column: 'logged_models.status', kind: 'string' },
  source_run_id: { column: 'logged_models.source_run_id', kind: 'string' },
  creation_timestamp: { column: 'logged_models.creation_time', kind: 'number' },
  creation_time: { column: 'logged_models.creation_time', kind: 'number' },
  last_updated_timestamp: { column: 'logged_models.last_updated_time', kind: 'number' },
};

const STATUSES = new Set(['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED']);

/**
 * MLflow 3 logged models: what `log_model` creates before it uploads the model's files, links to
 * the run as an output and finalizes. They live in an experiment and obey its group's roles.
 */
export class LoggedModelsService {
  constructor(
    private readonly db: Db,
    private readonly tracking: TrackingService,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(ctx: RequestContext, input: { experimentId: string; name?: string; modelType?: string; sourceRunId?: string; params: KV[]; tags: KV[] }, scope?: Parameters<TrackingService['readableExperiment']>[3]): Promise<LoggedModel> {
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
    await this.db.transaction(async (trx) => {
      await trx.insertInto('logged_models').values(row).execute();
      if (tags.length) await trx.insertInto('logged_model_tags').values(tags.map((t) => ({ model_id: id, key: t.key, value: t.value }))).execute();
      if (params.length) await trx.insertInto('logged_model_params').values(dedupe(params).map((p) => ({ model_id: id, key: p.key, value: p.value }))).execute();
    });
    return this.get(ctx, id);
  }

  async get(ctx: RequestContext, id: string, allowDeleted = false): Promise<LoggedModel> {
    const row = await this.readable(ctx, id, 'viewer');
    if (row.lifecycle_stage === 'deleted' && !allowDeleted) throw notFound('Logged model', id);
    const [tags, params, metrics] = await Promise.all([
      this.db.kysely.selectFrom('logged_model_tags').select(['key', 'value']).where('model_id', '=', id).orderBy('key').execute(),
      this.db.kysely.selectFrom('logged_model_params').select(['key', 'value']).where('model_id', '=', id).orderBy('key').execute(),
      this.db.kysely.selectFrom('logged_model_metrics').selectAll().where('model_id', '=', id).orderBy('timestamp').orderBy('step').orderBy('key').orderBy('run_id').execute(),
    ]);
    return { row, tags, params, metrics };
  }

  async finalize(ctx: RequestContext, id: string, status: string): Promise<LoggedModel> {
    if (!STATUSES.has(status)) throw invalid(`Invalid value '${status}' for parameter 'status': use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`);
    await this.readable(ctx, id, 'editor');
    await this.db.kysely
      .updateTable('logged_models')
      .set({ status: status as LoggedModelRow['status'], last_updated_time: this.clock() })
      .where('id', '=', id)
      .execute();
    return this.get(ctx, id);
  }

  async remove(ctx: RequestContext, id: string): Promise<void> {
    await this.readable(ctx, id, 'editor');
    await this.db.kysely.updateTable('logged_models').set({ lifecycle_stage: 'deleted', last_updated_time: this.clock() }).where('id', '=', id).execute();
  }

  async setTags(ctx: RequestContext, id: string, input: KV[]): Promise<void> {
    const tags = parseField(TagsSchema, input, 'tags');
    await this.readable(ctx, id, 'editor');
    for (const t of tags) {
      await this.db.kysely
        .insertInto('logged_model_tags')
        .values({ model_id: id, key: t.key, value: t.value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: t.value }))
        .execute();
    }
  }

  async deleteTag(ctx: RequestContext, id: string, key: string): Promise<void> {
    await this.readable(ctx, id, 'editor');
    const r = await this.db.kysely.deleteFrom('logged_model_tags').where('model_id', '=', id).where('key', '=', key).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound('Logged model tag', key);
  }

  async logParams(ctx: RequestContext, id: string, input: KV[]): Promise<void> {
    const params = parseField(ParamsSchema, input, 'params');
    await this.readable(ctx, id, 'editor');
    for (const p of dedupe(params)) {
      await this.db.kysely.insertInto('logged_model_params').values({ model_id: id, key: p.key, value: p.value }).onConflict((oc) => oc.columns(['model_id', 'key']).doNothing()).execute();
    }
  }

  async logOutputs(ctx: RequestContext, runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    const run = await this.tracking.readableRun(ctx, runId, 'editor');
    // Every model is checked before any link is written, so a bad id stores nothing.
    for (const m of models) await this.readable(ctx, m.modelId, 'viewer');
    await this.tracking.requireModelsOfRun(
      run,
      models.map((m) => m.modelId),
    );
    for (const m of models) {
      await this.db.kysely
        .insertInto('run_outputs')
        .values({ run_id: runId, model_id: m.modelId, step: m.step })
        .onConflict((oc) => oc.columns(['run_id', 'model_id']).doUpdateSet({ step: m.step }))
        .execute();
    }
  }

  /**
   * Records on a logged model that a registered version was made from it, as MLflow's server does:
   * the tag mlflow.modelVersions lists {name, version} once each, in Python's JSON spelling (the
   * mlflow client reads it back and appends its own entry).
   */
  async linkModelVersion(id: string, name: string, version: number): Promise<void> {
    await this.db.transaction(async (trx) => {
      const current = await trx.selectFrom('logged_model_tags').select('value').where('model_id', '=', id).where('key', '=', MODEL_VERSIONS_TAG).executeTakeFirst();
      let list: unknown[] = [];
      try {
        const parsed: unknown = current ? JSON.parse(current.value) : [];
        if (Array.isArray(parsed)) list = parsed;
      } catch {
        // A value someone else wrote that is not JSON is replaced, as MLflow would fail to read it.
      }
      const entry = { name, version };
      if (!list.some((e) => JSON.stringify(e) === JSON.stringify(entry))) list.push(entry);
      const value = pythonJson(list);
      await trx
        .insertInto('logged_model_tags')
        .values({ model_id: id, key: MODEL_VERSIONS_TAG, value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
        .execute();
    });
  }

  async search(ctx: RequestContext, input: {
    experimentIds: string[];
    filter?: string;
    datasets?: { name: string; digest?: string }[];
    maxResults: number;
    pageToken?: string;
    orderBy: { field: string; ascending: boolean }[];
  }): Promise<{ models: LoggedModel[]; nextPageToken?: string }> {
    const ids = await this.tracking.readableExperimentIds(ctx, input.experimentIds);
    if (ids.length === 0) return { models: [] };
    const offset = decodePageToken(input.pageToken);
    const onDatasets = datasetCondition(input.datasets ?? []);
    const target: FilterTarget = {
      dialect: this.db.dialect,
      id: sql.ref('logged_models.id'),
      attribute: (cmp) => {
        const a = ATTRIBUTES[cmp.key.toLowerCase()];
        if (!a) throw new FilterError(`unknown logged model attribute '${cmp.key}'`, cmp.position, cmp.key);
        return { column: sql.ref(a.column), kind: a.kind };
      },
      keyTable: (entity) =>
        entity === 'tag'
          ? { table: 'logged_model_tags', idColumn: 'model_id' }
          : entity === 'param'
            ? { table: 'logged_model_params', idColumn: 'model_id' }
            : { table: 'logged_model_metrics', idColumn: 'model_id', ...(onDatasets ? { where: onDatasets } : {}) },
    };
    let q = this.db.kysely.selectFrom('logged_models').selectAll().where('experiment_id', 'in', ids).where('lifecycle_stage', '=', 'active');
    try {
      const expr = parseFilter(input.filter);
      if (expr) q = q.where(compileFilter(expr, target) as RawBuilder<boolean>);
      // Datasets without a metric comparison: the models with any metric measured on one of them.
      if (onDatasets && !comparisons(expr).some((c) => c.entity === 'metric'))
        q = q.where(sql<boolean>`EXISTS (SELECT 1 FROM logged_model_metrics WHERE logged_model_metrics.model_id = logged_models.id AND ${onDatasets})`);
    } catch (err) {
      if (err instanceof FilterError) throw new AppError('INVALID_ARGUMENT', err.message);
      throw err;
    }
    for (const o of input.orderBy) {
      const a = ATTRIBUTES[o.field.toLowerCase()];
      if (!a) throw invalid(`Cannot order logged models by '${o.field}'.`);
      q = q.orderBy(sql.ref(a.column), o.ascending ? 'asc' : 'desc');
    }
    const rows = await q.orderBy('creation_time', 'desc').orderBy('id').offset(offset).limit(input.maxResults + 1).execute();
    const { page, nextPageToken } = pageOf(rows, offset, input.maxResults);
    const models = await Promise.all(page.map((r) => this.get(ctx, r.id)));
    return { models, ...(nextPageToken ? { nextPageToken } : {}) };
  }

  private async readable(ctx: RequestContext, id: string, needed: 'viewer' | 'editor'): Promise<LoggedModelRow> {
    if (!/^m-[0-9a-f]{32}$/.test(id)) throw invalid(`Invalid value '${id.slice(0, 80)}' for parameter 'model_id'.`);
    const row = await this.db.kysely.selectFrom('logged_models').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Logged model', id);
    await this.tracking.readableExperiment(ctx, row.experiment_id, needed).catch((err) => {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw notFound('Logged model', id);
      throw err;
    });
    return row;
  }
}

/** `(dataset_name = a AND dataset_digest = d) OR dataset_name = b …` over logged_model_metrics, or null for no datasets. */
function datasetCondition(datasets: { name: string; digest?: string }[]): RawBuilder<unknown> | null {
  if (datasets.length === 0) return null;
  const one = (d: { name: string; digest?: string }) =>
    d.digest !== undefined ? sql`(logged_model_metrics.dataset_name = ${d.name} AND logged_model_metrics.dataset_digest = ${d.digest})` : sql`logged_model_metrics.dataset_name = ${d.name}`;
  return sql`(${sql.join(datasets.map(one), sql` OR `)})`;
}

/** JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped), so values match MLflow's byte for byte. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function dedupe(items: KV[]): KV[] {
  return [...new Map(items.map((i) => [i.key, i.value]))].map(([key, value]) => ({ key, value }));
}
