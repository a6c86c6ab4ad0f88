import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, DatasetsTable, ExperimentsTable, MetricsTable, RunsTable } from '../db/schema.js';
import { FilterError, type Comparison, type FilterExpr, type OrderTerm } from './filter.js';
import { compileFilter, predicate, type FilterTarget } from './sql-filter.js';

export type ExperimentRow = Selectable<ExperimentsTable>;
export type RunRow = Selectable<RunsTable>;
export type MetricRow = Selectable<MetricsTable>;
export type DatasetRow = Selectable<DatasetsTable>;
export type KV = { key: string; value: string };
export interface ColumnSummaryRow {
  key: string;
  runs: number;
  distinct: number;
  lastLogged: number | null;
}
type Q = Kysely<Database> | Transaction<Database>;

/** Which runs a search or a count covers. */
export interface RunMatch {
  experimentIds: string[];
  filter: FilterExpr | null;
  viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
}

export interface RunData {
  metrics: MetricRow[];
  params: KV[];
  tags: KV[];
  inputs: { dataset: DatasetRow; tags: KV[] }[];
  modelInputs: string[];
  modelOutputs: { modelId: string; step: number }[];
}

/** A metric point to write; with modelId it is also linked to that logged model (MLflow 3). */
export type MetricPoint = Omit<MetricRow, 'run_id'> & { model_id?: string; dataset_name?: string | null; dataset_digest?: string | null };

/** A point of a sampled history, with the window numbers the sampling keeps points by. */
export interface SampledMetricRow extends MetricsTable {
  /** 1 for the first row of its NTILE bucket. */
  rn: number;
  /** 1 for the run's last row in (step, timestamp, value, is_nan) order. */
  rev: number;
}

/** Which keys to load with each run; undefined means all. */
export interface Projection {
  metrics?: string[];
  params?: string[];
  tags?: string[];
}

const RUN_ATTRIBUTES: Record<string, { column: string; kind: 'string' | 'number' }> = {
  run_id: { column: 'runs.id', kind: 'string' },
  run_name: { column: 'runs.name', kind: 'string' },
  'run name': { column: 'runs.name', kind: 'string' },
  status: { column: 'runs.status', kind: 'string' },
  user_id: { column: 'runs.user_id', kind: 'string' },
  artifact_uri: { column: 'runs.artifact_uri', kind: 'string' },
  start_time: { column: 'runs.start_time', kind: 'number' },
  created: { column: 'runs.start_time', kind: 'number' },
  end_time: { column: 'runs.end_time', kind: 'number' },
};

const EXPERIMENT_ATTRIBUTES: Record<string, { column: string; kind: 'string' | 'number' }> = {
  name: { column: 'experiments.name', kind: 'string' },
  experiment_id: { column: 'experiments.id', kind: 'string' },
  creation_time: { column: 'experiments.creation_time', kind: 'number' },
  last_update_time: { column: 'experiments.last_update_time', kind: 'number' },
};

const CHUNK = 500;
const chunks = <T>(items: T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** SQL for experiments, runs, params, metrics, tags and dataset inputs, on SQLite and PostgreSQL. */
export class TrackingStore {
  constructor(private readonly db: Db) {}

  private get k(): Kysely<Database> {
    return this.db.kysely;
  }

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** Next value of a named sequence; experiment ids are integers in MLflow. */
  async nextCounter(q: Q, name: string, floor = 0): Promise<number> {
    const row = await sql<{ value: number }>`INSERT INTO counters (name, value) VALUES (${name}, ${floor + 1})
      ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`.execute(q);
    return Number(row.rows[0]!.value);
  }

  // experiments
  async insertExperiment(q: Q, row: ExperimentRow, tags: KV[]): Promise<void> {
    await q.insertInto('experiments').values(row).execute();
    if (tags.length)
      await q
        .insertInto('experiment_tags')
        .values(tags.map((t) => ({ experiment_id: row.id, ...t })))
        .execute();
  }
  getExperiment(id: string) {
    return this.k.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst();
  }
  getExperimentByName(groupId: string, name: string) {
    return this.k.selectFrom('experiments').selectAll().where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst();
  }
  async experimentTags(ids: string[]): Promise<Map<string, KV[]>> {
    const out = new Map<string, KV[]>();
    for (const part of chunks(ids)) {
      if (!part.length) continue;
      const rows = await this.k.selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', part).orderBy('key').execute();
      for (const r of rows) out.set(r.experiment_id, [...(out.get(r.experiment_id) ?? []), { key: r.key, value: r.value }]);
    }
    return out;
  }
  async updateExperiment(id: string, patch: Partial<Omit<ExperimentRow, 'id' | 'group_id'>>): Promise<void> {
    await this.k.updateTable('experiments').set(patch).where('id', '=', id).execute();
  }
  async setExperimentTag(id: string, key: string, value: string): Promise<void> {
    await this.k
      .insertInto('experiment_tags')
      .values({ experiment_id: id, key, value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
      .execute();
  }
  async deleteExperimentTag(id: string, key: string): Promise<boolean> {
    const r = await this.k.deleteFrom('experiment_tags').where('experiment_id', '=', id).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  /** Soft delete or restore, with the experiment's runs. */
  async setExperimentStage(id: string, stage: 'active' | 'deleted', now: number): Promise<void> {
    await this.transaction(async (trx) => {
      await trx
        .updateTable('experiments')
        .set({ lifecycle_stage: stage, last_update_time: now, deleted_time: stage === 'deleted' ? now : null })
        .where('id', '=', id)
        .execute();
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? now : null })
        .where('experiment_id', '=', id)
        .execute();
    });
  }
  async deleteExperimentPermanently(id: string): Promise<void> {
    await this.k.deleteFrom('experiments').where('id', '=', id).execute();
  }

  async searchExperiments(opts: {
    groupIds: string[];
    filter: FilterExpr | null;
    order: OrderTerm[];
    viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
    offset: number;
    limit: number;
  }): Promise<ExperimentRow[]> {
    if (opts.groupIds.length === 0) return [];
    const target: FilterTarget = {
      dialect: this.db.dialect,
      id: sql.ref('experiments.id'),
      attribute: (cmp) => {
        const a = EXPERIMENT_ATTRIBUTES[cmp.key.toLowerCase()];
        if (!a)
          throw new FilterError(`unknown experiment attribute '${cmp.key}': use name, creation_time, last_update_time or tags.<key>`, cmp.position, cmp.key);
        return { column: sql.ref(a.column), kind: a.kind };
      },
      keyTable: (entity) => (entity === 'tag' ? { table: 'experiment_tags', idColumn: 'experiment_id' } : undefined),
    };
    let q = this.k.selectFrom('experiments').selectAll().where('group_id', 'in', opts.groupIds);
    if (opts.viewType === 'ACTIVE_ONLY') q = q.where('lifecycle_stage', '=', 'active');
    if (opts.viewType === 'DELETED_ONLY') q = q.where('lifecycle_stage', '=', 'deleted');
    if (opts.filter) q = q.where(compileFilter(opts.filter, target) as RawBuilder<boolean>);
    for (const term of opts.order) {
      const a = term.entity === 'attribute' ? EXPERIMENT_ATTRIBUTES[term.key.toLowerCase()] : undefined;
      if (!a) throw new FilterError(`cannot order experiments by '${term.key}': use name, experiment_id, creation_time or last_update_time`, 0, term.key);
      const col = a.column === 'experiments.id' ? sql`CAST(experiments.id AS INTEGER)` : sql.ref(a.column);
      q = q.orderBy(col, term.ascending ? 'asc' : 'desc');
    }
    if (opts.order.length === 0) q = q.orderBy('creation_time', 'desc');
    return q.orderBy(sql`CAST(experiments.id AS INTEGER)`, 'asc').offset(opts.offset).limit(opts.limit).execute();
  }

  // runs
  async insertRun(q: Q, row: RunRow, tags: KV[]): Promise<void> {
    await q.insertInto('runs').values(row).execute();
    if (tags.length)
      await q
        .insertInto('run_tags')
        .values(tags.map((t) => ({ run_id: row.id, ...t })))
        .execute();
  }
  getRun(id: string) {
    return this.k.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async updateRun(q: Q, id: string, patch: Partial<Omit<RunRow, 'id'>>): Promise<void> {
    await q.updateTable('runs').set(patch).where('id', '=', id).execute();
  }
  async getRuns(ids: string[]): Promise<RunRow[]> {
    const out: RunRow[] = [];
    for (const part of chunks(ids)) out.push(...(await this.k.selectFrom('runs').selectAll().where('id', 'in', part).execute()));
    return out;
  }
  async updateRuns(q: Q, ids: string[], patch: Partial<Omit<RunRow, 'id'>>): Promise<void> {
    for (const part of chunks(ids)) await q.updateTable('runs').set(patch).where('id', 'in', part).execute();
  }
  /** One tag set on many runs, replacing a value they had. */
  async setRunsTag(q: Q, ids: string[], tag: KV): Promise<void> {
    for (const part of chunks(ids))
      await q
        .insertInto('run_tags')
        .values(part.map((id) => ({ run_id: id, ...tag })))
        .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
        .execute();
  }
  async deleteRunPermanently(id: string): Promise<void> {
    await this.k.deleteFrom('runs').where('id', '=', id).execute();
  }
  runIdsOfExperiment(experimentId: string) {
    return this.k.selectFrom('runs').select(['id', 'artifact_uri']).where('experiment_id', '=', experimentId).execute();
  }

  /** Params, tags, latest metrics and inputs of many runs at once: four queries per page, not four per run. */
  async runData(runIds: string[], projection: Projection = {}): Promise<Map<string, RunData>> {
    const out = new Map<string, RunData>(runIds.map((id) => [id, { metrics: [], params: [], tags: [], inputs: [], modelInputs: [], modelOutputs: [] }]));
    for (const part of chunks(runIds)) {
      if (!part.length) continue;
      // A projection with no keys of a kind skips that query entirely.
      // biome-ignore lint/suspicious/noExplicitAny: three query builders of different row types share this one key filter.
      const keysFilter = (keys: string[] | undefined, qb: any) => (keys === undefined ? qb : keys.length === 0 ? null : qb.where('key', 'in', keys));
      const mq = keysFilter(projection.metrics, this.k.selectFrom('latest_metrics').selectAll().where('run_id', 'in', part));
      const pq = keysFilter(projection.params, this.k.selectFrom('params').selectAll().where('run_id', 'in', part));
      const tq = keysFilter(projection.tags, this.k.selectFrom('run_tags').selectAll().where('run_id', 'in', part));
      const [metrics, params, tags, inputs, modelInputs, modelOutputs] = await Promise.all([
        mq ? (mq.orderBy('key').execute() as Promise<MetricRow[]>) : [],
        pq ? (pq.orderBy('key').execute() as Promise<(KV & { run_id: string })[]>) : [],
        tq ? (tq.orderBy('key').execute() as Promise<(KV & { run_id: string })[]>) : [],
        this.k
          .selectFrom('run_inputs')
          .innerJoin('datasets', 'datasets.id', 'run_inputs.dataset_id')
          .selectAll('datasets')
          .select(['run_inputs.run_id', 'run_inputs.tags as input_tags'])
          .where('run_inputs.run_id', 'in', part)
          .execute(),
        this.k.selectFrom('run_model_inputs').selectAll().where('run_id', 'in', part).orderBy('model_id').execute(),
        this.k.selectFrom('run_outputs').selectAll().where('run_id', 'in', part).orderBy('step').orderBy('model_id').execute(),
      ]);
      for (const i of modelInputs) out.get(i.run_id)!.modelInputs.push(i.model_id);
      for (const o of modelOutputs) out.get(o.run_id)!.modelOutputs.push({ modelId: o.model_id, step: Number(o.step) });
      for (const m of metrics) out.get(m.run_id)!.metrics.push(m);
      for (const p of params) out.get(p.run_id)!.params.push({ key: p.key, value: p.value });
      for (const t of tags) out.get(t.run_id)!.tags.push({ key: t.key, value: t.value });
      for (const i of inputs) {
        const { run_id, input_tags, ...dataset } = i;
        out.get(run_id)!.inputs.push({ dataset, tags: JSON.parse(input_tags) as KV[] });
      }
    }
    return out;
  }

  /**
   * Writes params, tags and metrics in one transaction with multi-row statements. Params are
   * immutable: a different value for an existing key aborts the whole batch.
   */
  async logBatch(
    runId: string,
    batch: { metrics: MetricPoint[]; params: KV[]; tags: KV[] },
  ): Promise<{ conflicts: { key: string; old: string; new: string }[] }> {
    return this.transaction(async (trx) => {
      if (batch.params.length) {
        const existing = await trx
          .selectFrom('params')
          .select(['key', 'value'])
          .where('run_id', '=', runId)
          .where(
            'key',
            'in',
            batch.params.map((p) => p.key),
          )
          .execute();
        const old = new Map(existing.map((p) => [p.key, p.value]));
        const conflicts = batch.params
          .filter((p) => old.has(p.key) && old.get(p.key) !== p.value)
          .map((p) => ({ key: p.key, old: old.get(p.key)!, new: p.value }));
        if (conflicts.length) return { conflicts };
        const fresh = batch.params.filter((p) => !old.has(p.key));
        if (fresh.length)
          await trx
            .insertInto('params')
            .values(fresh.map((p) => ({ run_id: runId, ...p })))
            .execute();
      }
      for (const part of chunks(batch.tags)) {
        await trx
          .insertInto('run_tags')
          .values(part.map((t) => ({ run_id: runId, ...t })))
          .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
          .execute();
      }
      if (batch.metrics.length) {
        await this.insertMetrics(trx, runId, batch.metrics);
        await this.linkMetrics(trx, runId, batch.metrics);
        // The latest value per key is the greatest (step, timestamp, value), as MLflow defines it.
        const best = new Map<string, MetricPoint>();
        for (const m of batch.metrics) {
          const cur = best.get(m.key);
          if (!cur || m.step > cur.step || (m.step === cur.step && (m.timestamp > cur.timestamp || (m.timestamp === cur.timestamp && m.value > cur.value))))
            best.set(m.key, m);
        }
        for (const part of chunks([...best.values()])) {
          await trx
            .insertInto('latest_metrics')
            .values(part.map((m) => ({ run_id: runId, key: m.key, value: m.value, timestamp: m.timestamp, step: m.step, is_nan: m.is_nan })))
            .onConflict((oc) =>
              oc
                .columns(['run_id', 'key'])
                .doUpdateSet({
                  value: (eb) => eb.ref('excluded.value'),
                  timestamp: (eb) => eb.ref('excluded.timestamp'),
                  step: (eb) => eb.ref('excluded.step'),
                  is_nan: (eb) => eb.ref('excluded.is_nan'),
                })
                .where(
                  sql<boolean>`(excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`,
                ),
            )
            .execute();
        }
      }
      return { conflicts: [] };
    });
  }

  /**
   * Metric history rows are the bulk of tracking writes. SQLite: one cached prepared statement run
   * per row inside the open transaction. PostgreSQL: one INSERT … SELECT FROM unnest() with six
   * array parameters, whatever the batch size, so the SQL text never changes. A point already
   * stored (the same key, step, timestamp and value) is skipped, as MLflow's primary key does.
   */
  private async insertMetrics(trx: Transaction<Database>, runId: string, rows: MetricPoint[]): Promise<void> {
    const raw = this.db.sqlite;
    if (raw) {
      this.insertMetricStmt ??= raw.prepare(
        'INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      );
      for (const m of rows) this.insertMetricStmt.run(runId, m.key, m.value, m.timestamp, m.step, m.is_nan);
      return;
    }
    await sql`INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan)
      SELECT ${runId}, k, v, t, s, n FROM unnest(${rows.map((m) => m.key)}::text[], ${rows.map((m) => m.value)}::float8[], ${rows.map((m) => m.timestamp)}::int8[], ${rows.map((m) => m.step)}::int8[], ${rows.map((m) => m.is_nan)}::int4[]) AS u(k, v, t, s, n)
      ON CONFLICT DO NOTHING`.execute(trx);
  }

  /** Points that name a logged model are linked to it; a link made before is kept as it was. */
  private async linkMetrics(trx: Transaction<Database>, runId: string, rows: MetricPoint[]): Promise<void> {
    const linked = rows.filter((m): m is MetricPoint & { model_id: string } => m.model_id !== undefined);
    for (const part of chunks(linked, 100)) {
      await trx
        .insertInto('logged_model_metrics')
        .values(
          part.map((m) => ({
            model_id: m.model_id,
            run_id: runId,
            key: m.key,
            value: m.value,
            timestamp: m.timestamp,
            step: m.step,
            is_nan: m.is_nan,
            dataset_name: m.dataset_name ?? null,
            dataset_digest: m.dataset_digest ?? null,
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  /** The group of a logged model, or undefined when there is none with that id. */
  async loggedModelGroup(modelId: string): Promise<string | undefined> {
    return (await this.k.selectFrom('logged_models').select('group_id').where('id', '=', modelId).where('lifecycle_stage', '=', 'active').executeTakeFirst())
      ?.group_id;
  }

  async addModelInputs(runId: string, modelIds: string[]): Promise<void> {
    if (!modelIds.length) return;
    await this.k
      .insertInto('run_model_inputs')
      .values(modelIds.map((model_id) => ({ run_id: runId, model_id })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  private insertMetricStmt: import('better-sqlite3').Statement | undefined;

  async deleteRunTag(runId: string, key: string): Promise<boolean> {
    const r = await this.k.deleteFrom('run_tags').where('run_id', '=', runId).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  getRunTag(runId: string, key: string) {
    return this.k.selectFrom('run_tags').select('value').where('run_id', '=', runId).where('key', '=', key).executeTakeFirst();
  }

  metricHistory(runId: string, key: string, offset: number, limit: number) {
    return this.k
      .selectFrom('metrics')
      .select(['key', 'value', 'timestamp', 'step', 'is_nan'])
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .orderBy('step')
      .orderBy('timestamp')
      .offset(offset)
      .limit(limit)
      .execute();
  }

  /** How many points each metric of the run has, and its step range. */
  metricPointCounts(runId: string) {
    return this.k
      .selectFrom('metrics')
      .select((eb) => ['key', eb.fn.countAll<number | string>().as('points'), eb.fn.min('step').as('first_step'), eb.fn.max('step').as('last_step')])
      .where('run_id', '=', runId)
      .groupBy('key')
      .orderBy('key')
      .execute();
  }

  /** Every point of `key` in the runs, ordered by run id, timestamp, step and value; at most `limit` in all. */
  metricHistories(runIds: string[], key: string, limit: number) {
    return this.k
      .selectFrom('metrics')
      .select(['run_id', 'key', 'value', 'timestamp', 'step', 'is_nan'])
      .where('key', '=', key)
      .where('run_id', 'in', runIds)
      .orderBy('run_id')
      .orderBy('timestamp')
      .orderBy('step')
      .orderBy('value')
      .limit(limit)
      .execute();
  }

  /**
   * The points of `key` in the runs (within [start, end] steps if given) that MLflow 3's sampling
   * can keep: per run, ordered by step, timestamp, value and NaN-ness and cut into `buckets` NTILE
   * buckets, the first point of each bucket (rn = 1) and the run's last point (rev = 1).
   */
  async sampledMetricHistories(runIds: string[], key: string, buckets: number, range?: { start: number; end: number }): Promise<SampledMetricRow[]> {
    const order = sql`step, timestamp, value, is_nan`;
    const inRange = range ? sql`AND step >= ${range.start} AND step <= ${range.end}` : sql``;
    const { rows } = await sql<SampledMetricRow>`
      WITH bucketed AS (
        SELECT run_id, key, value, timestamp, step, is_nan,
          NTILE(${buckets}) OVER (PARTITION BY run_id ORDER BY ${order}) AS bucket,
          ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC) AS rev
        FROM metrics
        WHERE key = ${key} AND run_id IN (${sql.join(runIds)}) ${inRange}
      ), ranked AS (
        SELECT bucketed.*, ROW_NUMBER() OVER (PARTITION BY run_id, bucket ORDER BY ${order}) AS rn FROM bucketed
      )
      SELECT run_id, key, value, timestamp, step, is_nan, rn, rev FROM ranked WHERE rn = 1 OR rev = 1
      ORDER BY run_id, ${order}`.execute(this.k);
    return rows;
  }

  // datasets
  /** Distinct (experiment, dataset name, digest, context) of the inputs logged in the experiments; at most `limit`. */
  datasetSummaries(experimentIds: string[], limit: number) {
    return this.k
      .selectFrom('datasets')
      .innerJoin('run_inputs', 'run_inputs.dataset_id', 'datasets.id')
      .select(['datasets.experiment_id', 'datasets.name', 'datasets.digest', 'run_inputs.context'])
      .distinct()
      .where('datasets.experiment_id', 'in', experimentIds)
      .orderBy('datasets.experiment_id')
      .orderBy('datasets.name')
      .orderBy('datasets.digest')
      .orderBy('run_inputs.context')
      .limit(limit)
      .execute();
  }

  async logInputs(
    experimentId: string,
    runId: string,
    inputs: { dataset: Omit<DatasetRow, 'id' | 'experiment_id'>; tags: KV[]; newId: string }[],
  ): Promise<void> {
    await this.transaction(async (trx) => {
      for (const input of inputs) {
        await trx
          .insertInto('datasets')
          .values({ id: input.newId, experiment_id: experimentId, ...input.dataset })
          .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
          .execute();
        const ds = await trx
          .selectFrom('datasets')
          .select('id')
          .where('experiment_id', '=', experimentId)
          .where('name', '=', input.dataset.name)
          .where('digest', '=', input.dataset.digest)
          .executeTakeFirstOrThrow();
        const context = input.tags.find((t) => t.key === 'mlflow.data.context')?.value ?? null;
        await trx
          .insertInto('run_inputs')
          .values({ run_id: runId, dataset_id: ds.id, tags: JSON.stringify(input.tags), context })
          // A dataset the run already has keeps its tags, as in MLflow: logging a metric with a
          // dataset makes the client send the dataset again, without its context tag.
          .onConflict((oc) => oc.columns(['run_id', 'dataset_id']).doNothing())
          .execute();
      }
    });
  }

  /** One SQL query: filter, order and paging pushed into the database. */
  async searchRuns(opts: RunMatch & { order: OrderTerm[]; offset: number; limit: number }): Promise<RunRow[]> {
    if (opts.experimentIds.length === 0) return [];
    let q = this.matchingRuns(opts).selectAll('runs');
    const seen = new Set<string>();
    opts.order.forEach((term, i) => {
      const id = `${term.entity}.${term.key}`;
      if (seen.has(id)) throw new FilterError(`'${term.key}' appears twice in order_by`, 0, term.key);
      seen.add(id);
      const dir = term.ascending ? sql`ASC` : sql`DESC`;
      if (term.entity === 'attribute') {
        const a = RUN_ATTRIBUTES[term.key.toLowerCase()];
        if (!a) throw new FilterError(`cannot order runs by '${term.key}'`, 0, term.key);
        q = q.orderBy(sql`${sql.ref(a.column)} IS NULL`).orderBy(sql`${sql.ref(a.column)} ${dir}`);
        return;
      }
      const table = term.entity === 'metric' ? 'latest_metrics' : term.entity === 'param' ? 'params' : term.entity === 'tag' ? 'run_tags' : undefined;
      if (!table) throw new FilterError(`cannot order runs by a ${term.entity}`, 0, term.key);
      const sub = sql`(SELECT ${sql.ref(`o${i}.value`)} FROM ${sql.table(table)} AS ${sql.id(`o${i}`)} WHERE ${sql.ref(`o${i}.run_id`)} = runs.id AND ${sql.ref(`o${i}.key`)} = ${term.key})`;
      // Missing values sort last whichever the direction, as in MLflow.
      q = q.orderBy(sql`${sub} IS NULL`).orderBy(sql`${sub} ${dir}`);
    });
    return q.orderBy('runs.start_time', 'desc').orderBy('runs.id', 'asc').offset(opts.offset).limit(opts.limit).execute();
  }

  /** How many runs a search matches over all its pages. */
  async countRuns(opts: RunMatch): Promise<number> {
    if (opts.experimentIds.length === 0) return 0;
    const row = await this.matchingRuns(opts)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The runs of the given experiments that pass the view type and the filter, as a query to select from. */
  private matchingRuns(opts: RunMatch) {
    const dialect = this.db.dialect;
    const target: FilterTarget = {
      dialect,
      id: sql.ref('runs.id'),
      attribute: (cmp) => {
        const a = RUN_ATTRIBUTES[cmp.key.toLowerCase()];
        if (!a)
          throw new FilterError(
            `unknown run attribute '${cmp.key}': use run_id, run_name, status, user_id, artifact_uri, start_time or end_time`,
            cmp.position,
            cmp.key,
          );
        return { column: sql.ref(a.column), kind: a.kind };
      },
      keyTable: (entity) =>
        entity === 'metric'
          ? { table: 'latest_metrics', idColumn: 'run_id' }
          : entity === 'param'
            ? { table: 'params', idColumn: 'run_id' }
            : { table: 'run_tags', idColumn: 'run_id' },
      dataset: (cmp: Comparison) => {
        const field = cmp.key.toLowerCase();
        const column =
          field === 'name'
            ? sql.ref('datasets.name')
            : field === 'digest'
              ? sql.ref('datasets.digest')
              : field === 'context'
                ? sql.ref('run_inputs.context')
                : undefined;
        if (!column) throw new FilterError(`unknown dataset field '${cmp.key}': use dataset.name, dataset.digest or dataset.context`, cmp.position, cmp.key);
        return sql`EXISTS (SELECT 1 FROM run_inputs INNER JOIN datasets ON datasets.id = run_inputs.dataset_id WHERE run_inputs.run_id = runs.id AND ${predicate(column, cmp, 'string', dialect)})`;
      },
    };
    let q = this.k.selectFrom('runs').where('runs.experiment_id', 'in', opts.experimentIds);
    if (opts.viewType === 'ACTIVE_ONLY') q = q.where('runs.lifecycle_stage', '=', 'active');
    if (opts.viewType === 'DELETED_ONLY') q = q.where('runs.lifecycle_stage', '=', 'deleted');
    if (opts.filter) q = q.where(compileFilter(opts.filter, target) as RawBuilder<boolean>);
    return q;
  }

  /**
   * Per key of an experiment's active runs: how many runs have it, how many distinct values, and
   * when it was last logged; newest first, at most `max` (+1, so the caller can tell it was cut).
   */
  async experimentColumns(experimentId: string, max: number): Promise<Record<'metrics' | 'params' | 'tags', ColumnSummaryRow[]>> {
    const summarise = async (table: 'latest_metrics' | 'params' | 'run_tags') => {
      const last = table === 'latest_metrics' ? sql.ref('kv.timestamp') : sql.ref('runs.start_time');
      const { rows } = await sql<{ key: string; runs: number | string; distinct_values: number | string; last: number | string | null }>`
        SELECT kv.key AS key, COUNT(kv.run_id) AS runs, COUNT(DISTINCT kv.value) AS distinct_values, MAX(${last}) AS last
        FROM ${sql.table(table)} AS kv INNER JOIN runs ON runs.id = kv.run_id
        WHERE runs.experiment_id = ${experimentId} AND runs.lifecycle_stage = 'active'
        GROUP BY kv.key ORDER BY MAX(${last}) DESC, kv.key LIMIT ${max + 1}`.execute(this.k);
      return rows.map((r) => ({ key: r.key, runs: Number(r.runs), distinct: Number(r.distinct_values), lastLogged: r.last === null ? null : Number(r.last) }));
    };
    const [metrics, params, tags] = await Promise.all([summarise('latest_metrics'), summarise('params'), summarise('run_tags')]);
    return { metrics, params, tags };
  }

  async countActiveRuns(experimentId: string): Promise<number> {
    const row = await this.k
      .selectFrom('runs')
      .where('experiment_id', '=', experimentId)
      .where('lifecycle_stage', '=', 'active')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
