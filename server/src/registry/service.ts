import {
  ModelSearchSchema,
  ModelVersionCreateSchema,
  RegisteredModelCreateSchema,
  StageSchema,
  type ModelSearch,
  type ModelVersion,
  type ModelVersionCreate,
  type RegisteredModel,
  type RegisteredModelCreate,
  type ApprovalRequest,
  type RegistrySettings,
  type RegistrySettingsUpdate,
  RegistrySettingsUpdateSchema,
  type Stage,
} from '@forja/contracts';
import { AliasSchema, DescriptionSchema, ModelNameSchema, RegistryTagKeySchema, RegistryTagValueSchema } from '@forja/contracts';
import { z } from 'zod';
import type { AuditLog } from '../auth/audit.js';
import type { EventBus } from '../events.js';
import type { GroupsService } from '../auth/groups-service.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { decodePageToken, pageOf } from '../db/paging.js';
import { AppError, alreadyExists, invalid, notFound, parseField } from '../errors.js';
import { requireScopeRole } from '../auth/access.js';
import { FilterError, parseFilter, parseOrderBy, type FilterExpr } from '../tracking/filter.js';
import type { LoggedModelsService } from '../tracking/logged-models.js';
import type { TrackingService } from '../tracking/service.js';
import type { KV } from '../tracking/store.js';
import type { ApprovalRow, ModelVersionRow, RegisteredModelRow, RegistryStore } from './store.js';

/**
 * The mlflow client adds `tags.mlflow.prompt.is_prompt != 'true'` to hide prompts; models without
 * the tag must pass it, so here it means "is not a prompt" rather than MLflow's usual "has the tag".
 */
function notAPrompt(expr: FilterExpr | null): FilterExpr | null {
  if (!expr) return expr;
  if (expr.kind === 'cmp')
    return expr.entity === 'tag' && expr.key === 'mlflow.prompt.is_prompt' && expr.op === '!=' ? { kind: 'not', expr: { ...expr, op: '=' } } : expr;
  if (expr.kind === 'not') return { kind: 'not', expr: notAPrompt(expr.expr)! };
  return { kind: expr.kind, items: expr.items.map((e) => notAPrompt(e)!) };
}

function searchArgs(q: { filter?: string; orderBy: string[]; pageToken?: string }) {
  try {
    const offset = decodePageToken(q.pageToken);
    return { filter: notAPrompt(parseFilter(q.filter)), order: q.orderBy.map(parseOrderBy), offset };
  } catch (err) {
    if (err instanceof FilterError) throw new AppError('INVALID_ARGUMENT', err.message, { position: err.position, token: err.token });
    throw err;
  }
}

/** Stage names in any case, as MLflow accepts them ("production", "PRODUCTION"). */
export function parseStage(stage: string): Stage {
  const found = StageSchema.options.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!found) throw invalid(`Invalid stage '${stage}': use None, Staging, Production or Archived.`);
  return found;
}

function parseVersion(version: string | number): number {
  const n = Number(version);
  if (!Number.isInteger(n) || n < 1 || n > 1e12)
    throw invalid(`Invalid value '${String(version).slice(0, 40)}' for parameter 'version': use a version number.`);
  return n;
}

export interface RegistryServiceOptions {
  store: RegistryStore;
  tracking: TrackingService;
  loggedModels: LoggedModelsService;
  audit: AuditLog;
  groups: GroupsService;
  events: EventBus;
  clock?: () => number;
}

/**
 * The model registry of a group: registered models, numbered versions, stages and aliases.
 * Names are unique per group; every change to a stage or alias lands in the audit log.
 */
export class RegistryService {
  private readonly store: RegistryStore;
  private readonly tracking: TrackingService;
  private readonly loggedModels: LoggedModelsService;
  private readonly audit: AuditLog;
  private readonly groups: GroupsService;
  private readonly events: EventBus;
  private readonly clock: () => number;

  constructor(options: RegistryServiceOptions) {
    this.store = options.store;
    this.tracking = options.tracking;
    this.loggedModels = options.loggedModels;
    this.audit = options.audit;
    this.groups = options.groups;
    this.events = options.events;
    this.clock = options.clock ?? Date.now;
  }

  /** Tells listeners (webhooks) what changed; called after the change and its audit entry are stored. */
  private emit(ctx: RequestContext, scope: GroupScope, type: string, data: Record<string, unknown>): Promise<void> {
    return this.events.publish({ type, groupId: scope.id, groupName: scope.name, actor: ctx.principal.name, at: this.clock(), data });
  }

  async createModel(ctx: RequestContext, scope: GroupScope, input: RegisteredModelCreate): Promise<RegisteredModel> {
    requireScopeRole(scope, 'editor');
    const body = RegisteredModelCreateSchema.parse(input);
    const now = this.clock();
    const row: RegisteredModelRow = {
      id: newId(),
      group_id: scope.id,
      name: body.name,
      description: body.description,
      creation_time: now,
      last_updated_time: now,
      created_by: ctx.principal.name,
      last_version: 0,
    };
    try {
      await this.store.insertModel(row, body.tags);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Registered Model (name=${body.name}) already exists.`);
      throw err;
    }
    await this.audit.record(ctx, { action: 'model.create', resourceType: 'registered_model', resourceId: row.name, groupId: scope.id });
    const model = await this.present(scope, row);
    await this.emit(ctx, scope, 'registered_model.created', { name: model.name, description: model.description, tags: model.tags });
    return model;
  }

  async getModel(scope: GroupScope, name: string): Promise<RegisteredModel> {
    return this.present(scope, await this.requireModel(scope, name));
  }

  async updateModel(ctx: RequestContext, scope: GroupScope, name: string, patch: { newName?: string; description?: string }): Promise<RegisteredModel> {
    requireScopeRole(scope, 'editor');
    const row = await this.requireModel(scope, name);
    const set: Partial<RegisteredModelRow> = { last_updated_time: this.clock() };
    if (patch.description !== undefined) set.description = parseField(DescriptionSchema, patch.description, 'description');
    if (patch.newName !== undefined) set.name = parseField(ModelNameSchema, patch.newName, 'new_name');
    try {
      await this.store.updateModel(row.id, set);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Registered Model (name=${patch.newName}) already exists.`);
      throw err;
    }
    if (set.name)
      await this.audit.record(ctx, {
        action: 'model.rename',
        resourceType: 'registered_model',
        resourceId: set.name,
        groupId: scope.id,
        details: { from: name },
      });
    return this.present(scope, { ...row, ...set });
  }

  async deleteModel(ctx: RequestContext, scope: GroupScope, name: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const row = await this.requireModel(scope, name);
    await this.store.deleteModel(row.id);
    await this.audit.record(ctx, { action: 'model.delete', resourceType: 'registered_model', resourceId: name, groupId: scope.id });
  }

  async setModelTag(scope: GroupScope, name: string, key: string, value: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const tag = checkedTag(key, value);
    await this.store.setModelTag((await this.requireModel(scope, name)).id, tag.key, tag.value);
  }
  async deleteModelTag(scope: GroupScope, name: string, key: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    if (!(await this.store.deleteModelTag((await this.requireModel(scope, name)).id, key))) throw notFound('Registered model tag', key);
  }

  async searchModels(scope: GroupScope, input: ModelSearch): Promise<{ registeredModels: RegisteredModel[]; nextPageToken?: string }> {
    const q = ModelSearchSchema.parse(input);
    const { filter, order, offset } = searchArgs(q);
    const rows = await this.store.searchModels([scope.id], filter, order, offset, q.maxResults + 1).catch(rethrowFilter);
    const { page, nextPageToken } = pageOf(rows, offset, q.maxResults);
    return { registeredModels: await this.presentMany(scope, page), ...(nextPageToken ? { nextPageToken } : {}) };
  }

  /**
   * A new version from a run's artifact path, a logged model (models:/m-…), another version
   * (models:/name/version), an mlflow-artifacts:/ location or any remote URI (stored as given).
   */
  async createVersion(ctx: RequestContext, scope: GroupScope, name: string, input: ModelVersionCreate): Promise<ModelVersion> {
    requireScopeRole(scope, 'editor');
    const body = ModelVersionCreateSchema.parse(input);
    const model = await this.requireModel(scope, name);
    const { source, storage, runId, modelId } = await this.resolveSource(ctx, scope, body.source, body.runId || undefined, body.modelId || undefined);
    const now = this.clock();
    const version = await this.store.insertVersion(
      model.id,
      {
        source,
        storage_location: storage,
        run_id: runId,
        run_link: body.runLink ?? null,
        logged_model_id: modelId,
        description: body.description,
        current_stage: 'None',
        status: 'READY',
        creation_time: now,
        last_updated_time: now,
        created_by: ctx.principal.name,
        deleted: 0,
      },
      body.tags,
    );
    if (modelId) await this.loggedModels.linkModelVersion(modelId, name, version);
    await this.audit.record(ctx, {
      action: 'model_version.create',
      resourceType: 'model_version',
      resourceId: `${name}/${version}`,
      groupId: scope.id,
      details: { source: body.source, runId },
    });
    const created = await this.getVersion(scope, name, version);
    await this.emit(ctx, scope, 'model_version.created', {
      name,
      version: created.version,
      source: created.source,
      runId: created.runId,
      stage: created.currentStage,
    });
    return created;
  }

  async getVersion(scope: GroupScope, name: string, version: string | number): Promise<ModelVersion> {
    const model = await this.requireModel(scope, name);
    return (await this.presentVersions(model, [await this.requireVersion(model, version)]))[0]!;
  }

  async updateVersion(scope: GroupScope, name: string, version: string, description: string): Promise<ModelVersion> {
    requireScopeRole(scope, 'editor');
    const model = await this.requireModel(scope, name);
    const v = await this.requireVersion(model, version);
    await this.store.updateVersion(null, model.id, v.version, {
      description: parseField(DescriptionSchema, description, 'description'),
      last_updated_time: this.clock(),
    });
    return this.getVersion(scope, name, v.version);
  }

  async deleteVersion(ctx: RequestContext, scope: GroupScope, name: string, version: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const model = await this.requireModel(scope, name);
    const v = await this.requireVersion(model, version);
    await this.store.updateVersion(null, model.id, v.version, { deleted: 1, last_updated_time: this.clock() });
    await this.audit.record(ctx, { action: 'model_version.delete', resourceType: 'model_version', resourceId: `${name}/${v.version}`, groupId: scope.id });
  }

  async setVersionTag(scope: GroupScope, name: string, version: string, key: string, value: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const tag = checkedTag(key, value);
    const model = await this.requireModel(scope, name);
    await this.store.setVersionTag(model.id, (await this.requireVersion(model, version)).version, tag.key, tag.value);
  }
  async deleteVersionTag(scope: GroupScope, name: string, version: string, key: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const model = await this.requireModel(scope, name);
    if (!(await this.store.deleteVersionTag(model.id, (await this.requireVersion(model, version)).version, key))) throw notFound('Model version tag', key);
  }

  /**
   * Moves a version to a stage; when the group says that stage needs approval, opens a request
   * instead (or returns the one already open) and leaves the version where it is.
   */
  async transition(
    ctx: RequestContext,
    scope: GroupScope,
    name: string,
    version: string,
    stage: string,
    archiveExisting: boolean,
    comment?: string,
  ): Promise<{ modelVersion: ModelVersion; approvalRequest: ApprovalRequest | null }> {
    requireScopeRole(scope, 'editor');
    const target = parseStage(stage);
    const model = await this.requireModel(scope, name);
    const v = await this.requireVersion(model, version);
    if ((await this.settings(scope)).approvalStages.includes(target as 'Staging' | 'Production')) {
      const open = await this.store.pendingApproval(model.id, v.version, target);
      const id = open?.id ?? newId();
      if (!open) {
        await this.store.insertApproval({
          id,
          group_id: scope.id,
          model_id: model.id,
          version: v.version,
          from_stage: v.current_stage,
          to_stage: target,
          archive_existing: archiveExisting ? 1 : 0,
          status: 'pending',
          requested_by: ctx.principal.name,
          requested_by_id: ctx.principal.userId,
          requested_at: this.clock(),
          comment: comment ?? null,
          decided_by: null,
          decided_at: null,
          decision_comment: null,
        });
        await this.audit.record(ctx, {
          action: 'approval.request',
          resourceType: 'model_version',
          resourceId: `${name}/${v.version}`,
          groupId: scope.id,
          details: { request: id, to: target, comment: comment ?? null },
        });
        await this.emit(ctx, scope, 'approval.requested', {
          request: id,
          name,
          version: String(v.version),
          from: v.current_stage,
          to: target,
          comment: comment ?? null,
        });
      }
      return { modelVersion: await this.getVersion(scope, name, v.version), approvalRequest: await this.approval(scope, id) };
    }
    return { modelVersion: await this.performTransition(ctx, scope, model, v, target, archiveExisting), approvalRequest: null };
  }

  private async performTransition(
    ctx: RequestContext,
    scope: GroupScope,
    model: RegisteredModelRow,
    v: ModelVersionRow,
    target: Stage,
    archiveExisting: boolean,
    approvalId?: string,
  ): Promise<ModelVersion> {
    const now = this.clock();
    const archived = await this.store.transaction(async (trx) => {
      await this.store.updateVersion(trx, model.id, v.version, { current_stage: target, last_updated_time: now });
      return archiveExisting && (target === 'Staging' || target === 'Production') ? this.store.archiveOthers(trx, model.id, v.version, target, now) : [];
    });
    await this.audit.record(ctx, {
      action: 'model_version.transition',
      resourceType: 'model_version',
      resourceId: `${model.name}/${v.version}`,
      groupId: scope.id,
      details: { from: v.current_stage, to: target, archived, ...(approvalId ? { approval: approvalId } : {}) },
    });
    await this.emit(ctx, scope, 'model_version.stage_changed', {
      name: model.name,
      version: String(v.version),
      from: v.current_stage,
      to: target,
      archivedVersions: archived.map(String),
      approval: approvalId ?? null,
    });
    return this.getVersion(scope, model.name, v.version);
  }

  async settings(scope: GroupScope): Promise<RegistrySettings> {
    const row = await this.store.groupSettings(scope.id);
    return row
      ? { approvalStages: JSON.parse(row.approval_stages) as RegistrySettings['approvalStages'], approvers: JSON.parse(row.approvers) as string[] }
      : { approvalStages: [], approvers: [] };
  }

  async updateSettings(ctx: RequestContext, scope: GroupScope, input: RegistrySettingsUpdate): Promise<RegistrySettings> {
    requireScopeRole(scope, 'admin');
    const settings = RegistrySettingsUpdateSchema.parse(input);
    const stages = [...new Set(settings.approvalStages)];
    const approvers = [...new Set(settings.approvers)];
    const unknown = await this.membersMissing(scope, approvers);
    if (unknown.length) throw invalid(`Approvers must be members of group "${scope.name}": ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not.`);
    await this.store.saveGroupSettings(scope.id, JSON.stringify(stages), JSON.stringify(approvers), this.clock());
    await this.audit.record(ctx, {
      action: 'registry.settings',
      resourceType: 'group',
      resourceId: scope.name,
      groupId: scope.id,
      details: { approvalStages: stages, approvers },
    });
    return { approvalStages: stages, approvers };
  }

  private async membersMissing(scope: GroupScope, usernames: string[]): Promise<string[]> {
    if (usernames.length === 0) return [];
    const members = new Set((await this.groups.members(scope)).map((m) => m.username));
    return usernames.filter((u) => !members.has(u));
  }

  async approvals(scope: GroupScope, status?: string): Promise<ApprovalRequest[]> {
    const rows = await this.store.approvals(scope.id, status);
    return rows.map((r) => toApproval(r, scope.name));
  }

  async approval(scope: GroupScope, id: string): Promise<ApprovalRequest> {
    const row = await this.store.approvalById(scope.id, id);
    if (!row) throw notFound('Approval request', id);
    return toApproval(row, scope.name);
  }

  /**
   * An approver (a named approver, or a group admin when none are named) who did not ask approves or rejects; approving performs the
   * transition the request asked for.
   */
  async decide(ctx: RequestContext, scope: GroupScope, id: string, decision: 'approve' | 'reject', comment?: string): Promise<ApprovalRequest> {
    const row = await this.store.approvalById(scope.id, id);
    if (!row) throw notFound('Approval request', id);
    const { approvers } = await this.settings(scope);
    if (approvers.length === 0) requireScopeRole(scope, 'admin');
    else if (!approvers.includes(ctx.principal.name))
      throw new AppError('PERMISSION_DENIED', `Only the group's approvers (${approvers.join(', ')}) can decide on transition requests.`);
    if (row.status !== 'pending') throw new AppError('CONFLICT', `This request was already ${row.status}.`);
    const self = ctx.principal.userId ? row.requested_by_id === ctx.principal.userId : row.requested_by === ctx.principal.name;
    if (self) throw new AppError('PERMISSION_DENIED', 'You asked for this transition; another approver has to decide on it.');
    const now = this.clock();
    const decided = await this.store.decideApproval(id, decision === 'approve' ? 'approved' : 'rejected', ctx.principal.name, now, comment ?? null);
    if (!decided) throw new AppError('CONFLICT', 'Someone decided on this request at the same moment.');
    const model = await this.store.modelById(row.model_id);
    await this.audit.record(ctx, {
      action: decision === 'approve' ? 'approval.approve' : 'approval.reject',
      resourceType: 'model_version',
      resourceId: `${model!.name}/${row.version}`,
      groupId: scope.id,
      details: { request: id, to: row.to_stage, comment: comment ?? null },
    });
    await this.emit(ctx, scope, 'approval.decided', {
      request: id,
      name: model!.name,
      version: String(row.version),
      to: row.to_stage,
      decision: decision === 'approve' ? 'approved' : 'rejected',
      comment: comment ?? null,
    });
    if (decision === 'approve') {
      const v = await this.requireVersion(model!, row.version);
      await this.performTransition(ctx, scope, model!, v, row.to_stage as Stage, row.archive_existing === 1, id);
    }
    return this.approval(scope, id);
  }

  /** Everything that happened to a model and its versions and aliases, newest first. */
  async timeline(
    scope: GroupScope,
    name: string,
  ): Promise<{ items: { at: number; actor: string | null; action: string; target: string | null; details: Record<string, unknown> | null }[] }> {
    await this.requireModel(scope, name);
    const rows = await this.audit.trailOf(
      scope.id,
      { types: ['registered_model', 'model_version', 'model_alias'], id: name, childPrefixes: [`${name}/`, `${name}@`] },
      500,
    );
    return {
      items: rows.map((r) => ({
        at: r.at,
        actor: r.actor_name,
        action: r.action,
        target: r.resource_id,
        details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
      })),
    };
  }

  async setAlias(ctx: RequestContext, scope: GroupScope, name: string, alias: string, version: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const a = parseAlias(alias);
    const model = await this.requireModel(scope, name);
    const v = await this.requireVersion(model, version);
    const previous = await this.store.setAlias(model.id, a, v.version);
    await this.audit.record(ctx, {
      action: 'model_alias.set',
      resourceType: 'model_alias',
      resourceId: `${name}@${a}`,
      groupId: scope.id,
      details: { version: v.version, previous },
    });
    await this.emit(ctx, scope, 'model_version.alias_set', {
      name,
      alias: a,
      version: String(v.version),
      previous: previous === null ? null : String(previous),
    });
  }

  async deleteAlias(ctx: RequestContext, scope: GroupScope, name: string, alias: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const model = await this.requireModel(scope, name);
    const previous = await this.store.deleteAlias(model.id, alias);
    if (previous === null) throw notFound('Alias', `${name}@${alias}`);
    await this.audit.record(ctx, {
      action: 'model_alias.delete',
      resourceType: 'model_alias',
      resourceId: `${name}@${alias}`,
      groupId: scope.id,
      details: { previous },
    });
    await this.emit(ctx, scope, 'model_version.alias_deleted', { name, alias, previous: String(previous) });
  }

  async versionByAlias(scope: GroupScope, name: string, alias: string): Promise<ModelVersion> {
    const model = await this.requireModel(scope, name);
    const version = await this.store.aliasVersion(model.id, alias);
    if (version === undefined) throw notFound('Alias', `${name}@${alias}`);
    return this.getVersion(scope, name, version);
  }

  /** The newest version in each of the stages (all stages when none are named). */
  async latestVersions(scope: GroupScope, name: string, stages: string[]): Promise<ModelVersion[]> {
    const model = await this.requireModel(scope, name);
    const wanted = new Set(stages.map(parseStage));
    const rows = (await this.store.latestPerStage([model.id])).filter((v) => wanted.size === 0 || wanted.has(v.current_stage));
    return this.presentVersions(model, rows);
  }

  async searchVersions(scope: GroupScope, input: ModelSearch): Promise<{ modelVersions: ModelVersion[]; nextPageToken?: string }> {
    const q = ModelSearchSchema.extend({ maxResults: z.number().int().min(1).max(200_000).default(1000) }).parse(input);
    const { filter, order, offset } = searchArgs(q);
    const rows = await this.store.searchVersions([scope.id], filter, order, offset, q.maxResults + 1).catch(rethrowFilter);
    const { page, nextPageToken } = pageOf(rows, offset, q.maxResults);
    const out: ModelVersion[] = [];
    for (const r of page) out.push(await this.getVersion(scope, r.name, r.version));
    return { modelVersions: out, ...(nextPageToken ? { nextPageToken } : {}) };
  }

  /** models:/name/3, models:/name/Production, models:/name/latest or models:/name@alias → the version. */
  async resolveUri(scope: GroupScope, uri: string): Promise<ModelVersion> {
    const m = /^models:\/([^/@]+)(?:\/([^/]+)|@([\w-]+))\/?$/.exec(uri);
    if (!m)
      throw invalid(
        `'${uri.slice(0, 200)}' is not a registry URI: use models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>.`,
      );
    const [, name, ref, alias] = m as unknown as [string, string, string | undefined, string | undefined];
    if (alias) return this.versionByAlias(scope, name, alias);
    if (/^\d+$/.test(ref!)) return this.getVersion(scope, name, ref!);
    if (ref!.toLowerCase() === 'latest') {
      const all = await this.latestVersions(scope, name, []);
      const newest = all.sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (!newest) throw notFound('Model version', `${name}/latest`);
      return newest;
    }
    const [v] = await this.latestVersions(scope, name, [ref!]);
    if (!v) throw notFound('Model version', `${name}/${ref}`);
    return v;
  }

  /**
   * What a new version's source means. Every source MLflow accepts is stored as given (the run_id
   * too, even when it names no run); Forja downloads a version's files only from a location of its
   * own in this group — a run, logged model or experiment folder of the group — and keeps that as
   * the storage location. A run, logged model or experiment of another group counts as missing, so
   * the answer never tells whether it exists.
   */
  private async resolveSource(
    ctx: RequestContext,
    scope: GroupScope,
    source: string,
    runId: string | undefined,
    modelId: string | undefined,
  ): Promise<{ source: string; storage: string; runId: string | null; modelId: string | null }> {
    if (/(^|\/)(\.\.|%2e%2e)(\/|$)/i.test(source) || /%2e%2e/i.test(source))
      throw invalid(`Invalid model version source '${source.slice(0, 200)}': '..' is not allowed.`);
    const notContained = (field: 'run_id' | 'model_id') =>
      invalid(`Invalid model version source: '${source.slice(0, 200)}'. The ${field} request parameter must identify the resource that contains the source.`);
    const runs = /^runs:\/([^/]+)\/(.+)$/.exec(source);
    if (runs) {
      const run = await this.groupRun(ctx, scope, runs[1]!);
      return { source, storage: run ? `${run.artifact_uri}/${runs[2]!.replace(/\/+$/, '')}` : source, runId: runId ?? runs[1]!, modelId: null };
    }
    const loggedId = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(source)?.[1] ?? modelId;
    if (loggedId) {
      const logged = await this.groupLoggedModel(ctx, scope, loggedId);
      if (!logged) throw notContained('model_id');
      return { source, storage: logged.artifact_uri, runId: runId ?? logged.source_run_id, modelId: logged.id };
    }
    if (source.startsWith('models:/')) {
      // Another version of this group's registry: the new one shares its files and lineage.
      const from = await this.resolveUri(scope, source);
      return { source: `models:/${from.name}/${from.version}`, storage: from.storageLocation, runId: runId ?? from.runId, modelId: from.modelId };
    }
    if (source.startsWith('mlflow-artifacts:/')) {
      const experimentId = source.slice('mlflow-artifacts:/'.length).replace(/^\/+/, '').split('/')[0] ?? '';
      if (!(await this.groupExperiment(ctx, scope, experimentId))) throw notContained('run_id');
      return { source, storage: source, runId: runId ?? null, modelId: null };
    }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(source) || /^file:/i.test(source))
      throw invalid(
        `Invalid model version source: '${source.slice(0, 200)}'. Forja does not read model files from its own disk: use runs:/<run_id>/<path>, models:/<logged model id>, an mlflow-artifacts:/ location, or a remote URI (s3://, gs://, …), which is stored as given.`,
      );
    // A remote URI (s3://, gs://, https://, dbfs:/ …): kept for whoever reads it; Forja never fetches it.
    return { source, storage: source, runId: runId ?? null, modelId: null };
  }

  /** The run if it is of this group and the caller may read it; otherwise undefined, as for a missing one. */
  private groupRun(ctx: RequestContext, scope: GroupScope, runId: string) {
    return this.tracking.readableRun(ctx, runId, 'viewer').then((r) => (r.group_id === scope.id ? r : undefined), missing);
  }
  private groupLoggedModel(ctx: RequestContext, scope: GroupScope, id: string) {
    return this.loggedModels.get(ctx, id).then((m) => (m.row.group_id === scope.id ? m.row : undefined), missing);
  }
  private groupExperiment(ctx: RequestContext, scope: GroupScope, id: string) {
    return this.tracking.readableExperiment(ctx, id, 'viewer').then((e) => (e.group_id === scope.id ? e : undefined), missing);
  }

  private async requireModel(scope: GroupScope, name: string): Promise<RegisteredModelRow> {
    const row = await this.store.getModel(scope.id, name);
    if (!row) throw new AppError('NOT_FOUND', `Registered Model with name=${name} not found`);
    return row;
  }

  private async requireVersion(model: RegisteredModelRow, version: string | number): Promise<ModelVersionRow> {
    const row = await this.store.getVersion(model.id, parseVersion(version));
    if (!row) throw new AppError('NOT_FOUND', `Model Version (name=${model.name}, version=${version}) not found`);
    return row;
  }

  private async present(scope: GroupScope, row: RegisteredModelRow): Promise<RegisteredModel> {
    return (await this.presentMany(scope, [row]))[0]!;
  }

  private async presentMany(scope: GroupScope, rows: RegisteredModelRow[]): Promise<RegisteredModel[]> {
    const ids = rows.map((r) => r.id);
    const [tags, aliases, latest] = await Promise.all([this.store.modelTags(ids), this.store.aliases(ids), this.store.latestPerStage(ids)]);
    const out: RegisteredModel[] = [];
    for (const r of rows) {
      out.push({
        name: r.name,
        group: scope.name,
        description: r.description,
        creationTime: r.creation_time,
        lastUpdatedTime: r.last_updated_time,
        userId: r.created_by,
        tags: tags.get(r.id) ?? [],
        aliases: aliases.filter((a) => a.model_id === r.id).map((a) => ({ alias: a.alias, version: String(a.version) })),
        latestVersions: await this.presentVersions(
          r,
          latest.filter((v) => v.model_id === r.id),
        ),
      });
    }
    return out;
  }

  private async presentVersions(model: RegisteredModelRow, rows: ModelVersionRow[]): Promise<ModelVersion[]> {
    const [tags, aliases] = await Promise.all([this.store.versionTags([model.id]), this.store.aliases([model.id])]);
    return rows.map((v) => ({
      name: model.name,
      version: String(v.version),
      creationTime: v.creation_time,
      lastUpdatedTime: v.last_updated_time,
      userId: v.created_by,
      currentStage: v.current_stage,
      description: v.description,
      source: v.source,
      storageLocation: v.storage_location,
      runId: v.run_id,
      runLink: v.run_link,
      modelId: v.logged_model_id,
      status: v.status,
      tags: tags.filter((t) => t.version === v.version).map((t): KV => ({ key: t.key, value: t.value })),
      aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias),
    }));
  }
}

/** A tag set one at a time (native path parameter or MLflow body): the same rules as tags given at creation. */
function checkedTag(key: string, value: string): { key: string; value: string } {
  return { key: parseField(RegistryTagKeySchema, key, 'key'), value: parseField(RegistryTagValueSchema, value, 'value') };
}

function parseAlias(alias: string): string {
  const r = AliasSchema.safeParse(alias);
  if (!r.success) throw invalid(`Invalid alias '${alias.slice(0, 100)}': ${r.error.issues[0]?.message}`);
  return r.data;
}

/** A lookup that found nothing the caller may see (or an id that cannot exist) is simply absent. */
function missing(err: unknown): undefined {
  if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) return undefined;
  throw err;
}

function rethrowFilter(err: unknown): never {
  if (err instanceof FilterError) throw new AppError('INVALID_ARGUMENT', err.message, { position: err.position, token: err.token });
  throw err;
}

function toApproval(r: ApprovalRow & { model_name: string }, group: string): ApprovalRequest {
  return {
    id: r.id,
    group,
    model: r.model_name,
    version: String(r.version),
    fromStage: r.from_stage,
    toStage: r.to_stage as Stage,
    archiveExistingVersions: r.archive_existing === 1,
    status: r.status,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    comment: r.comment,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionComment: r.decision_comment,
  };
}
