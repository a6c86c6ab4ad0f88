import { randomUUID } from 'node:crypto';
import {
  EXPERIMENT_COLUMNS_MAX,
  ExperimentCreateSchema,
  ExperimentNameSchema,
  ExperimentTagValueSchema,
  LogBatchSchema,
  RunNameSchema,
  RunSearchSchema,
  RunBulkSchema,
  type RunBulk,
  type RunPage,
  ExperimentSearchSchema,
  TRACKING_LIMITS,
  TrackingKeySchema,
  tagsInput,
  valueProblem,
  type Experiment,
  type ExperimentColumns,
  type ExperimentCreate,
  type ExperimentSearch,
  type LogBatch,
  type Metric,
  type MetricValue,
  type Role,
  type Run,
  type RunCreate,
  type RunMetricPoints,
  type RunSearch,
  type RunStatus,
  type ViewType,
} from '@forja/contracts';
import { requireScopeRole, type AccessPolicy } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import type { GroupsService } from '../auth/groups-service.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { decodePageToken, pageOf } from '../db/paging.js';
import { AppError, alreadyExists, invalid, notFound, parseField } from '../errors.js';
import { FilterError, parseFilter, parseOrderBy, type FilterExpr, type OrderTerm } from './filter.js';
import { randomRunName } from './names.js';
import type { LocalArtifactStore } from '../artifacts/local-store.js';
import { experimentLocation, ownedExperimentFolder, ownedRunFolder, runArtifactUri } from '../artifacts/uris.js';
import type { ColumnSummaryRow, ExperimentRow, KV, MetricRow, Projection, RunData, RunRow, TrackingStore } from './store.js';

export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
const MAX_DOUBLE = 1.7976931348623157e308;
/** What a run has logged before anything was logged. */
const NO_DATA: RunData = { metrics: [], params: [], tags: [], inputs: [], modelInputs: [], modelOutputs: [] };

/** A bad filter or order_by is the caller's mistake: a 400 that says where. */
function filterError(err: unknown): never {
  if (err instanceof FilterError) throw new AppError('INVALID_ARGUMENT', err.message, { position: err.position, token: err.token });
  throw err;
}

/** The filter and order_by of a search, parsed; a mistake in either is a 400 that says where. */
function parseQuery(filter: string | undefined, orderBy: string[]): { filter: FilterExpr | null; order: OrderTerm[] } {
  try {
    return { filter: parseFilter(filter), order: orderBy.map(parseOrderBy) };
  } catch (err) {
    filterError(err);
  }
}

/** NaN is stored as 0 with a flag and infinities are clamped, as MLflow does, so both databases agree. */
export function toStoredMetric(value: MetricValue): { value: number; is_nan: number } {
  if (value === 'NaN' || (typeof value === 'number' && Number.isNaN(value))) return { value: 0, is_nan: 1 };
  if (value === 'Infinity' || value === Infinity) return { value: MAX_DOUBLE, is_nan: 0 };
  if (value === '-Infinity' || value === -Infinity) return { value: -MAX_DOUBLE, is_nan: 0 };
  return { value: Math.max(-MAX_DOUBLE, Math.min(MAX_DOUBLE, value)), is_nan: 0 };
}

export const toMetric = (m: Pick<MetricRow, 'key' | 'value' | 'timestamp' | 'step' | 'is_nan'>): Metric => ({
  key: m.key,
  value: m.is_nan ? 'NaN' : m.value,
  timestamp: m.timestamp,
  step: m.step,
});

export interface RunCreateInput extends RunCreate {
  userId?: string;
}

export interface TrackingServiceOptions {
  store: TrackingStore;
  /** Group names for presented experiments, and the default group's id. */
  groups: GroupsService;
  access: AccessPolicy;
  audit: AuditLog;
  artifactStore: LocalArtifactStore;
  clock?: () => number;
}

/**
 * Experiments, runs and what is logged to them. Ids are global; every access checks the caller's
 * role in the group that owns the experiment, and a caller with no role there is told the thing
 * does not exist.
 */
function requireRunIdShape(runId: string): void {
  if (!/^[a-zA-Z0-9][\w-]{0,255}$/.test(runId)) throw invalid(`Invalid value '${runId.slice(0, 80)}' for parameter 'run_id'.`);
}

export class TrackingService {
  private readonly store: TrackingStore;
  private readonly groups: GroupsService;
  private readonly access: AccessPolicy;
  private readonly audit: AuditLog;
  private readonly artifactStore: LocalArtifactStore;
  private readonly clock: () => number;

  constructor(options: TrackingServiceOptions) {
    this.store = options.store;
    this.groups = options.groups;
    this.access = options.access;
    this.audit = options.audit;
    this.artifactStore = options.artifactStore;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Removes a deleted experiment for good: its runs, metrics, params, tags, inputs, logged models
   * and artifact files. Group admins only, and only once it has been deleted (restorable) first.
   */
  async purgeExperiment(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.readableExperiment(ctx, id, 'admin');
    if (row.lifecycle_stage !== 'deleted') throw new AppError('CONFLICT', `Experiment ${id} is active: delete it first, then delete it permanently.`);
    await this.store.deleteExperimentPermanently(id);
    const dir = ownedExperimentFolder(row);
    if (dir) await this.artifactStore.remove(dir);
    await this.audit.record(ctx, {
      action: 'experiment.purge',
      resourceType: 'experiment',
      resourceId: id,
      groupId: row.group_id,
      details: { name: row.name },
    });
  }

  async purgeRun(ctx: RequestContext, runId: string): Promise<void> {
    const row = await this.readableRun(ctx, runId, 'admin');
    if (row.lifecycle_stage !== 'deleted') throw new AppError('CONFLICT', `Run ${runId} is active: delete it first, then delete it permanently.`);
    await this.store.deleteRunPermanently(runId);
    // The run's folder holds its artifacts/ directory; remove the folder, not just its contents.
    const dir = ownedRunFolder(row);
    if (dir) await this.artifactStore.remove(dir);
    await this.audit.record(ctx, { action: 'run.purge', resourceType: 'run', resourceId: runId, groupId: row.group_id });
  }

  /** Experiment "0" ("Default") of the default group, which the mlflow client falls back to. */
  async ensureDefaultExperiment(): Promise<void> {
    if (await this.store.getExperiment(DEFAULT_EXPERIMENT_ID)) return;
    const groupId = await this.groups.idOf('default');
    if (!groupId) return;
    const now = this.clock();
    try {
      await this.store.transaction((trx) =>
        this.store.insertExperiment(trx, this.experimentRow(DEFAULT_EXPERIMENT_ID, groupId, DEFAULT_EXPERIMENT_NAME, now), []),
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }

  // experiments
  async createExperiment(ctx: RequestContext, scope: GroupScope, input: ExperimentCreate): Promise<Experiment> {
    const body = ExperimentCreateSchema.parse(input);
    requireScopeRole(scope, 'editor');
    const now = this.clock();
    const row = await this.store.transaction(async (trx) => {
      const id = String(await this.store.nextCounter(trx, 'experiment'));
      const r = this.experimentRow(id, scope.id, body.name, now);
      try {
        await this.store.insertExperiment(trx, r, body.tags);
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`Experiment '${body.name}' already exists in group '${scope.name}'.`);
        throw err;
      }
      return r;
    });
    await this.audit.record(ctx, {
      action: 'experiment.create',
      resourceType: 'experiment',
      resourceId: row.id,
      groupId: scope.id,
      details: { name: row.name },
    });
    return this.presentExperiment(row, body.tags, scope.name);
  }

  async getExperiment(ctx: RequestContext, id: string, scope?: GroupScope): Promise<Experiment> {
    const row = await this.readableExperiment(ctx, id, 'viewer', scope);
    return this.presentExperiment(row);
  }

  async getExperimentByName(_ctx: RequestContext, scope: GroupScope, name: string): Promise<Experiment> {
    const row = await this.store.getExperimentByName(scope.id, name);
    if (!row) {
      if (name === DEFAULT_EXPERIMENT_NAME) return this.presentExperiment(await this.defaultExperimentOf(scope));
      // MLflow's words: its client and users match on them; the native API says the same.
      throw new AppError('NOT_FOUND', `Could not find experiment with name '${name}'`);
    }
    return this.presentExperiment(row, undefined, scope.name);
  }

  /** The keys of an experiment's active runs with how common, varied and recent each is (the runs table's columns). */
  async experimentColumns(ctx: RequestContext, id: string, scope?: GroupScope): Promise<ExperimentColumns> {
    const row = await this.readableExperiment(ctx, id, 'viewer', scope);
    const [runs, kinds] = await Promise.all([this.store.countActiveRuns(row.id), this.store.experimentColumns(row.id, EXPERIMENT_COLUMNS_MAX)]);
    const cut = (items: ColumnSummaryRow[]) => items.slice(0, EXPERIMENT_COLUMNS_MAX);
    const truncated = Object.values(kinds).some((items) => items.length > EXPERIMENT_COLUMNS_MAX);
    return { runs, metrics: cut(kinds.metrics), params: cut(kinds.params), tags: cut(kinds.tags), truncated };
  }

  async searchExperiments(_ctx: RequestContext, scope: GroupScope, input: ExperimentSearch): Promise<{ experiments: Experiment[]; nextPageToken?: string }> {
    const q = ExperimentSearchSchema.parse(input);
    const { filter, order } = parseQuery(q.filter, q.orderBy);
    const offset = decodePageToken(q.pageToken);
    const rows = await this.store
      .searchExperiments({ groupIds: [scope.id], filter, order, viewType: q.viewType, offset, limit: q.maxResults + 1 })
      .catch(filterError);
    const { page, nextPageToken } = pageOf(rows, offset, q.maxResults);
    const tags = await this.store.experimentTags(page.map((r) => r.id));
    return { experiments: page.map((r) => this.toExperiment(r, tags.get(r.id) ?? [], scope.name)), ...(nextPageToken ? { nextPageToken } : {}) };
  }

  async renameExperiment(ctx: RequestContext, id: string, newName: string): Promise<void> {
    const row = await this.readableExperiment(ctx, id, 'editor');
    this.requireActiveExperiment(row);
    if (!newName.trim()) throw invalid("Missing value for required parameter 'new_name'.");
    const name = parseField(ExperimentNameSchema, newName, 'new_name');
    try {
      await this.store.updateExperiment(id, { name, last_update_time: this.clock() });
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Experiment '${name}' already exists.`);
      throw err;
    }
    await this.audit.record(ctx, {
      action: 'experiment.rename',
      resourceType: 'experiment',
      resourceId: id,
      groupId: row.group_id,
      details: { from: row.name, to: name },
    });
  }

  async setExperimentTag(ctx: RequestContext, id: string, key: string, value: string): Promise<void> {
    const row = await this.readableExperiment(ctx, id, 'editor');
    this.requireActiveExperiment(row);
    this.checkKey(key, 'key');
    await this.store.setExperimentTag(id, key, parseField(ExperimentTagValueSchema, value, 'value'));
  }

  async deleteExperimentTag(ctx: RequestContext, id: string, key: string): Promise<void> {
    const row = await this.readableExperiment(ctx, id, 'editor');
    this.requireActiveExperiment(row);
    if (!(await this.store.deleteExperimentTag(id, key))) throw notFound('Experiment tag', key);
  }

  async setExperimentStage(ctx: RequestContext, id: string, stage: 'active' | 'deleted'): Promise<void> {
    const row = await this.readableExperiment(ctx, id, 'editor');
    if (stage === 'deleted' && id === DEFAULT_EXPERIMENT_ID) throw invalid('The Default experiment (id 0) cannot be deleted.');
    if (row.lifecycle_stage === stage) {
      if (stage === 'active') throw invalid(`Cannot restore an experiment that is not deleted: experiment ${id} is active.`);
      return;
    }
    await this.store.setExperimentStage(id, stage, this.clock());
    await this.audit.record(ctx, {
      action: stage === 'deleted' ? 'experiment.delete' : 'experiment.restore',
      resourceType: 'experiment',
      resourceId: id,
      groupId: row.group_id,
    });
  }

  // runs
  async createRun(ctx: RequestContext, scope: GroupScope, input: RunCreateInput): Promise<Run> {
    const exp = await this.readableExperiment(ctx, input.experimentId, 'editor', scope);
    if (exp.lifecycle_stage !== 'active') throw invalid(`The experiment ${exp.id} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
    const given: KV[] = parseField(tagsInput(TRACKING_LIMITS.runTagValueLength), input.tags ?? [], 'tags').map((t) => ({ key: t.key, value: t.value }));
    const runName = parseField(RunNameSchema.optional(), input.runName, 'run_name');
    const tagName = given.find((t) => t.key === 'mlflow.runName')?.value;
    if (runName && tagName && runName !== tagName)
      throw invalid(`Both 'run_name' ('${runName}') and the tag 'mlflow.runName' ('${tagName}') are set and differ.`);
    if (tagName) parseField(RunNameSchema, tagName, 'tags.mlflow.runName');
    const name = runName || tagName || randomRunName();
    const tags = [...given.filter((t) => t.key !== 'mlflow.runName'), { key: 'mlflow.runName', value: name }];
    const id = randomUUID().replace(/-/g, '');
    const row: RunRow = {
      id,
      experiment_id: exp.id,
      group_id: exp.group_id,
      name,
      user_id: input.userId || ctx.principal.name,
      status: 'RUNNING',
      start_time: input.startTime ?? this.clock(),
      end_time: null,
      artifact_uri: runArtifactUri(exp.artifact_location, id),
      lifecycle_stage: 'active',
      deleted_time: null,
    };
    await this.store.transaction((trx) => this.store.insertRun(trx, row, tags));
    return this.presentRun(row, { ...NO_DATA, tags: tags.sort((a, b) => a.key.localeCompare(b.key)) });
  }

  async getRun(ctx: RequestContext, runId: string): Promise<Run> {
    const row = await this.readableRun(ctx, runId, 'viewer');
    return this.presentRun(row, (await this.store.runData([row.id])).get(row.id)!);
  }

  async updateRun(ctx: RequestContext, runId: string, patch: { status?: RunStatus; endTime?: number; runName?: string }): Promise<Run['info']> {
    const row = await this.readableRun(ctx, runId, 'editor');
    this.requireActiveRun(row);
    const runName = parseField(RunNameSchema.optional(), patch.runName, 'run_name');
    const set: Partial<RunRow> = {};
    if (patch.status) set.status = patch.status;
    if (patch.endTime !== undefined) set.end_time = patch.endTime;
    if (runName) set.name = runName;
    await this.store.transaction(async (trx) => {
      if (Object.keys(set).length) await this.store.updateRun(trx, runId, set);
    });
    if (runName) await this.store.logBatch(runId, { metrics: [], params: [], tags: [{ key: 'mlflow.runName', value: runName }] });
    return this.presentRun({ ...row, ...set }, NO_DATA).info;
  }

  async setRunStage(ctx: RequestContext, runId: string, stage: 'active' | 'deleted'): Promise<void> {
    const row = await this.readableRun(ctx, runId, 'editor');
    await this.store.transaction((trx) =>
      this.store.updateRun(trx, runId, { lifecycle_stage: stage, deleted_time: stage === 'deleted' ? this.clock() : null }),
    );
    await this.audit.record(ctx, { action: stage === 'deleted' ? 'run.delete' : 'run.restore', resourceType: 'run', resourceId: runId, groupId: row.group_id });
  }

  /** params, tags and metrics in one transaction; the single-item log calls come through here too. */
  async logBatch(ctx: RequestContext, runId: string, input: LogBatch): Promise<void> {
    const batch = LogBatchSchema.parse(input);
    const total = batch.metrics.length + batch.params.length + batch.tags.length;
    if (total > TRACKING_LIMITS.batchTotal) throw invalid(`A batch may hold at most ${TRACKING_LIMITS.batchTotal} items in total; this one has ${total}.`);
    const row = await this.readableRun(ctx, runId, 'editor');
    this.requireActiveRun(row);
    const params = dedupeParams(batch.params);
    const tags = lastWins(batch.tags);
    // The tag mlflow.runName is the run's name: it follows the name rule, not just the tag's.
    const renamed = tags.find((t) => t.key === 'mlflow.runName');
    if (renamed) parseField(RunNameSchema, renamed.value, 'tags.mlflow.runName');
    await this.requireModelsOfRun(
      row,
      batch.metrics.flatMap((m) => (m.modelId ? [m.modelId] : [])),
    );
    const now = this.clock();
    const metrics = batch.metrics.map((m) => ({
      key: m.key,
      timestamp: m.timestamp ?? now,
      step: m.step,
      ...toStoredMetric(m.value),
      ...(m.modelId ? { model_id: m.modelId, dataset_name: m.datasetName ?? null, dataset_digest: m.datasetDigest ?? null } : {}),
    }));
    const { conflicts } = await this.store.logBatch(runId, { metrics, params, tags });
    if (conflicts.length) {
      const c = conflicts[0]!;
      throw new AppError(
        'INVALID_ARGUMENT',
        `Changing param values is not allowed. Param with key='${c.key}' was already logged with value='${c.old}' for run ID='${runId}'. Attempted logging new value '${c.new}'.`,
        { conflicts },
      );
    }
    if (renamed && renamed.value !== row.name) await this.store.transaction((trx) => this.store.updateRun(trx, runId, { name: renamed.value }));
  }

  /** MLflow 2's runs/log-model: the MLmodel JSON is appended to the run's `mlflow.log-model.history` tag. */
  async appendLoggedModelHistory(ctx: RequestContext, runId: string, modelJson: string): Promise<void> {
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw invalid("Invalid value for parameter 'model_json': it is not JSON.");
    }
    const row = await this.readableRun(ctx, runId, 'editor');
    this.requireActiveRun(row);
    const current = await this.store.getRunTag(runId, 'mlflow.log-model.history');
    const history = current ? (JSON.parse(current.value) as unknown[]) : [];
    history.push(model);
    await this.store.logBatch(runId, { metrics: [], params: [], tags: [{ key: 'mlflow.log-model.history', value: JSON.stringify(history) }] });
  }

  async deleteTag(ctx: RequestContext, runId: string, key: string): Promise<void> {
    const row = await this.readableRun(ctx, runId, 'editor');
    this.requireActiveRun(row);
    if (!(await this.store.deleteRunTag(runId, key))) throw new AppError('NOT_FOUND', `No tag with name: ${key} in run with id ${runId}`);
  }

  async metricHistory(
    ctx: RequestContext,
    runId: string,
    key: string,
    maxResults?: number,
    pageToken?: string,
  ): Promise<{ metrics: Metric[]; nextPageToken?: string }> {
    await this.readableRun(ctx, runId, 'viewer');
    const offset = decodePageToken(pageToken);
    const limit = maxResults ?? 1_000_000_000;
    const rows = await this.store.metricHistory(runId, key, offset, limit + 1);
    const { page, nextPageToken } = pageOf(rows, offset, limit);
    return { metrics: page.map(toMetric), ...(nextPageToken ? { nextPageToken } : {}) };
  }

  /** Per metric of the run: how many points it has and over which steps (one point is a value, more a history). */
  async metricPoints(ctx: RequestContext, runId: string): Promise<RunMetricPoints> {
    await this.readableRun(ctx, runId, 'viewer');
    const rows = await this.store.metricPointCounts(runId);
    return { metrics: rows.map((r) => ({ key: r.key, points: Number(r.points), firstStep: Number(r.first_step), lastStep: Number(r.last_step) })) };
  }

  async searchRuns(ctx: RequestContext, input: RunSearch, scope?: GroupScope): Promise<RunPage> {
    const q = RunSearchSchema.parse(input);
    const { filter, order } = parseQuery(q.filter, q.orderBy);
    const match = { experimentIds: await this.readableExperimentIds(ctx, q.experimentIds, scope), filter, viewType: q.viewType };
    const offset = decodePageToken(q.pageToken);
    const [rows, total] = await Promise.all([
      this.store.searchRuns({ ...match, order, offset, limit: q.maxResults + 1 }),
      q.includeTotal ? this.store.countRuns(match) : undefined,
    ]).catch(filterError);
    const { page, nextPageToken } = pageOf(rows, offset, q.maxResults);
    const data = await this.store.runData(
      page.map((r) => r.id),
      projectionOf(q.columns),
    );
    return {
      runs: page.map((r) => this.presentRun(r, data.get(r.id)!)),
      ...(nextPageToken ? { nextPageToken } : {}),
      ...(total === undefined ? {} : { total }),
    };
  }

  /**
   * Deletes, restores or tags many runs in one transaction. Every run must exist and be editable by
   * the caller (else a 404 naming it, and nothing changes); deletes and restores are audited per run
   * as the single calls are.
   */
  async bulkRuns(ctx: RequestContext, input: RunBulk): Promise<{ updated: number }> {
    const q = RunBulkSchema.parse(input);
    const ids = [...new Set(q.runIds)];
    for (const id of ids) requireRunIdShape(id);
    const rows = new Map((await this.store.getRuns(ids)).map((r) => [r.id, r]));
    const unknown = ids.find((id) => !rows.has(id));
    if (unknown) throw notFound('Run', unknown);
    for (const groupId of new Set([...rows.values()].map((r) => r.group_id))) {
      const first = [...rows.values()].find((r) => r.group_id === groupId)!;
      await this.access.requireRoleIn(ctx.principal, groupId, 'editor', () => notFound('Run', first.id));
    }
    if (q.action === 'setTag') {
      for (const row of rows.values()) this.requireActiveRun(row);
      await this.store.transaction((trx) => this.store.setRunsTag(trx, ids, { key: q.key, value: q.value }));
      return { updated: ids.length };
    }
    const stage = q.action === 'delete' ? 'deleted' : 'active';
    await this.store.transaction((trx) => this.store.updateRuns(trx, ids, { lifecycle_stage: stage, deleted_time: stage === 'deleted' ? this.clock() : null }));
    for (const row of rows.values())
      await this.audit.record(ctx, { action: `run.${q.action}`, resourceType: 'run', resourceId: row.id, groupId: row.group_id, details: { bulk: true } });
    return { updated: ids.length };
  }

  async logInputs(
    ctx: RequestContext,
    runId: string,
    datasets: { dataset: { name: string; digest: string; sourceType: string; source: string; schema?: string | null; profile?: string | null }; tags: KV[] }[],
    modelIds: string[] = [],
  ): Promise<void> {
    const row = await this.readableRun(ctx, runId, 'editor');
    this.requireActiveRun(row);
    await this.requireModelsOfRun(row, modelIds);
    datasets.forEach((d, i) => {
      if (!d.dataset.name || !d.dataset.digest || !d.dataset.sourceType || d.dataset.source === undefined)
        throw invalid('Each dataset needs name, digest, source_type and source.');
      for (const [field, value] of Object.entries(d.dataset)) {
        const problem = typeof value === 'string' ? valueProblem(value) : undefined;
        if (!problem) continue;
        const where = `datasets.${i}.dataset.${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
        throw invalid(`Invalid value for parameter '${where}': ${problem}.`, [{ path: where, message: problem }]);
      }
    });
    await this.store.logInputs(
      row.experiment_id,
      runId,
      datasets.map((d) => ({
        newId: newId(),
        tags: d.tags,
        dataset: {
          name: d.dataset.name,
          digest: d.dataset.digest,
          source_type: d.dataset.sourceType,
          source: d.dataset.source,
          schema: d.dataset.schema ?? null,
          profile: d.dataset.profile ?? null,
        },
      })),
    );
    await this.store.addModelInputs(runId, [...new Set(modelIds)]);
  }

  /**
   * Logged models that a run names (metrics, inputs, outputs) must be live models of the run's own
   * group; any other id is a 404, whether it exists elsewhere or not.
   */
  async requireModelsOfRun(run: RunRow, modelIds: string[]): Promise<void> {
    for (const id of new Set(modelIds)) {
      if ((await this.store.loggedModelGroup(id)) !== run.group_id) throw notFound('Logged model', id);
    }
  }

  /** The run row after the caller's role in its group is checked; for artifact access too. */
  async readableRun(ctx: RequestContext, runId: string, needed: Role): Promise<RunRow> {
    requireRunIdShape(runId);
    const row = await this.store.getRun(runId);
    const missing = () => notFound('Run', runId);
    if (!row) throw missing();
    await this.access.requireRoleIn(ctx.principal, row.group_id, needed, missing);
    return row;
  }

  async readableExperiment(ctx: RequestContext, id: string, needed: Role, scope?: GroupScope): Promise<ExperimentRow> {
    if (id === DEFAULT_EXPERIMENT_ID && scope) {
      const def = await this.defaultExperimentOf(scope);
      requireScopeRole(scope, needed);
      return def;
    }
    if (!/^\d{1,18}$/.test(id)) throw invalid(`Invalid value '${id.slice(0, 80)}' for parameter 'experiment_id': experiment ids are whole numbers.`);
    const row = await this.store.getExperiment(id);
    const missing = () => notFound('Experiment', id);
    if (!row) throw missing();
    await this.access.requireRoleIn(ctx.principal, row.group_id, needed, missing);
    return row;
  }

  // helpers
  /** "0" means the Default experiment of the caller's group (created on first use outside the default group). */
  private async defaultExperimentOf(scope: GroupScope): Promise<ExperimentRow> {
    await this.ensureDefaultExperiment();
    const zero = await this.store.getExperiment(DEFAULT_EXPERIMENT_ID);
    if (zero && zero.group_id === scope.id) return zero;
    const existing = await this.store.getExperimentByName(scope.id, DEFAULT_EXPERIMENT_NAME);
    if (existing) return existing;
    const now = this.clock();
    try {
      return await this.store.transaction(async (trx) => {
        const id = String(await this.store.nextCounter(trx, 'experiment'));
        const r = this.experimentRow(id, scope.id, DEFAULT_EXPERIMENT_NAME, now);
        await this.store.insertExperiment(trx, r, []);
        return r;
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return (await this.store.getExperimentByName(scope.id, DEFAULT_EXPERIMENT_NAME))!;
    }
  }

  /** The ids among `ids` the caller may read; others contribute nothing, as unknown ids do in MLflow. */
  async readableExperimentIds(ctx: RequestContext, ids: string[], scope?: GroupScope): Promise<string[]> {
    const out: string[] = [];
    for (const id of new Set(ids)) {
      try {
        out.push((await this.readableExperiment(ctx, id, 'viewer', scope)).id);
      } catch (err) {
        // Experiments the caller cannot see simply contribute no runs, as unknown ids do in MLflow.
        if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    return out;
  }

  private requireActiveRun(row: RunRow): void {
    if (row.lifecycle_stage !== 'active') throw invalid(`The run ${row.id} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
  }

  private requireActiveExperiment(row: ExperimentRow): void {
    if (row.lifecycle_stage !== 'active') throw invalid(`The experiment ${row.id} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
  }

  private checkKey(key: string, what: string): void {
    const r = TrackingKeySchema.safeParse(key);
    if (!r.success) throw invalid(`Invalid ${what} '${key.slice(0, 100)}': ${r.error.issues[0]?.message}`);
  }

  private experimentRow(id: string, groupId: string, name: string, now: number): ExperimentRow {
    return {
      id,
      group_id: groupId,
      name,
      artifact_location: experimentLocation(id),
      lifecycle_stage: 'active',
      creation_time: now,
      last_update_time: now,
      deleted_time: null,
    };
  }

  private async presentExperiment(row: ExperimentRow, tags?: KV[], groupName?: string): Promise<Experiment> {
    const t = tags ?? (await this.store.experimentTags([row.id])).get(row.id) ?? [];
    const g = groupName ?? (await this.groups.nameOf(row.group_id)) ?? '';
    return this.toExperiment(row, t, g);
  }

  private toExperiment(row: ExperimentRow, tags: KV[], group: string): Experiment {
    return {
      experimentId: row.id,
      name: row.name,
      group,
      artifactLocation: row.artifact_location,
      lifecycleStage: row.lifecycle_stage,
      creationTime: row.creation_time,
      lastUpdateTime: row.last_update_time,
      tags,
    };
  }

  private presentRun(row: RunRow, data: RunData): Run {
    return {
      info: {
        runId: row.id,
        runName: row.name,
        experimentId: row.experiment_id,
        userId: row.user_id,
        status: row.status,
        startTime: row.start_time,
        endTime: row.end_time,
        artifactUri: row.artifact_uri,
        lifecycleStage: row.lifecycle_stage,
      },
      data: { metrics: data.metrics.map(toMetric), params: data.params, tags: data.tags },
      inputs: {
        datasetInputs: data.inputs.map((i) => ({
          tags: i.tags,
          dataset: {
            name: i.dataset.name,
            digest: i.dataset.digest,
            sourceType: i.dataset.source_type,
            source: i.dataset.source,
            schema: i.dataset.schema,
            profile: i.dataset.profile,
          },
        })),
        modelInputs: data.modelInputs.map((modelId) => ({ modelId })),
      },
      outputs: { modelOutputs: data.modelOutputs },
    };
  }
}

/** `metrics.acc`, `params.lr`, `tags.team`, `metrics.*` → which keys to load; no columns → everything. */
export function projectionOf(columns: string[] | undefined): Projection {
  if (!columns) return {};
  const p: Required<Projection> = { metrics: [], params: [], tags: [] };
  const all = new Set<keyof Projection>();
  for (const c of columns) {
    const dot = c.indexOf('.');
    const kind = ({ metrics: 'metrics', metric: 'metrics', params: 'params', param: 'params', tags: 'tags', tag: 'tags' } as const)[
      c.slice(0, dot) as 'metrics'
    ];
    if (dot < 0 || !kind) throw invalid(`Invalid column '${c}': use metrics.<key>, params.<key> or tags.<key> (or metrics.* for all).`);
    const key = c.slice(dot + 1).replace(/^`(.*)`$/, '$1');
    if (key === '*') all.add(kind);
    else p[kind].push(key);
  }
  return { metrics: all.has('metrics') ? undefined : p.metrics, params: all.has('params') ? undefined : p.params, tags: all.has('tags') ? undefined : p.tags };
}

/** The same param twice in one batch is fine with the same value and a 400 with different ones, as in MLflow. */
function dedupeParams(params: KV[]): KV[] {
  const seen = new Map<string, string>();
  for (const p of params) {
    const prev = seen.get(p.key);
    if (prev !== undefined && prev !== p.value)
      throw invalid(`Duplicate parameter keys have been submitted: '${p.key}' with values '${prev}' and '${p.value}'.`);
    seen.set(p.key, p.value);
  }
  return [...seen].map(([key, value]) => ({ key, value }));
}

const lastWins = (tags: KV[]): KV[] => [...new Map(tags.map((t) => [t.key, t.value]))].map(([key, value]) => ({ key, value }));

export type { ViewType };
