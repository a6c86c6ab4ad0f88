import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { LoggedModelMetricsTable, LoggedModelsTable } from '../db/schema.js';
import { invalid } from '../errors.js';
import { FilterError, type FilterExpr } from './filter.js';
import { compileFilter, type FilterTarget } from './sql-filter.js';
import type { KV } from './store.js';

export type LoggedModelRow = Selectable<LoggedModelsTable>;
export type LoggedModelMetricRow = Selectable<LoggedModelMetricsTable>;

export interface LoggedModelSearch {
  experimentIds: string[];
  filter: FilterExpr | null;
  datasets: { name: string; digest?: string }[];
  /** Keep only models with any metric measured on one of `datasets` (when no metric comparison narrows them already). */
  anyMetricOnDatasets: boolean;
  orderBy: { field: string; ascending: boolean }[];
  offset: number;
  limit: number;
}

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

/** SQL for MLflow 3 logged models: their rows, tags and params, the run metrics linked to them, and run outputs. */
export class LoggedModelsStore {
  constructor(private readonly db: Db) {}

  async insert(row: LoggedModelRow, tags: KV[], params: KV[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.insertInto('logged_models').values(row).execute();
      if (tags.length)
        await trx
          .insertInto('logged_model_tags')
          .values(tags.map((t) => ({ model_id: row.id, key: t.key, value: t.value })))
          .execute();
      if (params.length)
        await trx
          .insertInto('logged_model_params')
          .values(params.map((p) => ({ model_id: row.id, key: p.key, value: p.value })))
          .execute();
    });
  }

  get(id: string): Promise<LoggedModelRow | undefined> {
    return this.db.kysely.selectFrom('logged_models').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async details(id: string): Promise<{ tags: KV[]; params: KV[]; metrics: LoggedModelMetricRow[] }> {
    const [tags, params, metrics] = await Promise.all([
      this.db.kysely.selectFrom('logged_model_tags').select(['key', 'value']).where('model_id', '=', id).orderBy('key').execute(),
      this.db.kysely.selectFrom('logged_model_params').select(['key', 'value']).where('model_id', '=', id).orderBy('key').execute(),
      this.db.kysely
        .selectFrom('logged_model_metrics')
        .selectAll()
        .where('model_id', '=', id)
        .orderBy('timestamp')
        .orderBy('step')
        .orderBy('key')
        .orderBy('run_id')
        .execute(),
    ]);
    return { tags, params, metrics };
  }

  async update(id: string, set: Partial<Pick<LoggedModelRow, 'status' | 'lifecycle_stage' | 'last_updated_time'>>): Promise<void> {
    await this.db.kysely.updateTable('logged_models').set(set).where('id', '=', id).execute();
  }

  /** Sets each tag in turn, replacing a value the key already had. */
  async setTags(id: string, tags: KV[]): Promise<void> {
    for (const t of tags) {
      await this.db.kysely
        .insertInto('logged_model_tags')
        .values({ model_id: id, key: t.key, value: t.value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: t.value }))
        .execute();
    }
  }

  /** False when the model had no such tag. */
  async deleteTag(id: string, key: string): Promise<boolean> {
    const r = await this.db.kysely.deleteFrom('logged_model_tags').where('model_id', '=', id).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Adds each param in turn; a key the model already has keeps its value. */
  async addParams(id: string, params: KV[]): Promise<void> {
    for (const p of params) {
      await this.db.kysely
        .insertInto('logged_model_params')
        .values({ model_id: id, key: p.key, value: p.value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doNothing())
        .execute();
    }
  }

  /** Links each model to the run as an output at its step (a link that exists moves to the new step). */
  async setRunOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    for (const m of models) {
      await this.db.kysely
        .insertInto('run_outputs')
        .values({ run_id: runId, model_id: m.modelId, step: m.step })
        .onConflict((oc) => oc.columns(['run_id', 'model_id']).doUpdateSet({ step: m.step }))
        .execute();
    }
  }

  /** The active models a run made: those logged from it and those it links as outputs, oldest first. */
  async ofRun(runId: string): Promise<LoggedModelRow[]> {
    return this.db.kysely
      .selectFrom('logged_models')
      .selectAll()
      .where('lifecycle_stage', '=', 'active')
      .where((eb) => eb.or([eb('source_run_id', '=', runId), eb('id', 'in', eb.selectFrom('run_outputs').select('model_id').where('run_id', '=', runId))]))
      .orderBy('creation_time')
      .orderBy('id')
      .execute();
  }

  /** Reads a tag and writes `next(current value)` in one transaction, so two writers never lose an update. */
  async rewriteTag(id: string, key: string, next: (current: string | undefined) => string): Promise<void> {
    await this.db.transaction(async (trx) => {
      const current = await trx.selectFrom('logged_model_tags').select('value').where('model_id', '=', id).where('key', '=', key).executeTakeFirst();
      const value = next(current?.value);
      await trx
        .insertInto('logged_model_tags')
        .values({ model_id: id, key, value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
        .execute();
    });
  }

  /** The active models of the experiments that match, in the asked order, then newest first. Throws FilterError for a filter it cannot compile. */
  async search(opts: LoggedModelSearch): Promise<LoggedModelRow[]> {
    const onDatasets = datasetCondition(opts.datasets);
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
    let q = this.db.kysely.selectFrom('logged_models').selectAll().where('experiment_id', 'in', opts.experimentIds).where('lifecycle_stage', '=', 'active');
    if (opts.filter) q = q.where(compileFilter(opts.filter, target) as RawBuilder<boolean>);
    if (onDatasets && opts.anyMetricOnDatasets)
      q = q.where(sql<boolean>`EXISTS (SELECT 1 FROM logged_model_metrics WHERE logged_model_metrics.model_id = logged_models.id AND ${onDatasets})`);
    for (const o of opts.orderBy) {
      const a = ATTRIBUTES[o.field.toLowerCase()];
      if (!a) throw invalid(`Cannot order logged models by '${o.field}'.`);
      q = q.orderBy(sql.ref(a.column), o.ascending ? 'asc' : 'desc');
    }
    return q.orderBy('creation_time', 'desc').orderBy('id').offset(opts.offset).limit(opts.limit).execute();
  }
}

/** `(dataset_name = a AND dataset_digest = d) OR dataset_name = b …` over logged_model_metrics, or null for no datasets. */
function datasetCondition(datasets: { name: string; digest?: string }[]): RawBuilder<unknown> | null {
  if (datasets.length === 0) return null;
  const one = (d: { name: string; digest?: string }) =>
    d.digest !== undefined
      ? sql`(logged_model_metrics.dataset_name = ${d.name} AND logged_model_metrics.dataset_digest = ${d.digest})`
      : sql`logged_model_metrics.dataset_name = ${d.name}`;
  return sql`(${sql.join(datasets.map(one), sql` OR `)})`;
}
