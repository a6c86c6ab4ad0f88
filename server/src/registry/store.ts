import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { ApprovalRequestsTable, Database, ModelVersionsTable, RegisteredModelsTable } from '../db/schema.js';
import { FilterError, type FilterExpr, type OrderTerm } from '../tracking/filter.js';
import { compileFilter, type FilterTarget } from '../tracking/sql-filter.js';
import type { KV } from '../tracking/store.js';

export type RegisteredModelRow = Selectable<RegisteredModelsTable>;
export type ModelVersionRow = Selectable<ModelVersionsTable>;
export type ApprovalRow = Selectable<ApprovalRequestsTable>;

const MODEL_ATTRIBUTES: Record<string, { column: string; kind: 'string' | 'number' }> = {
  name: { column: 'registered_models.name', kind: 'string' },
  creation_timestamp: { column: 'registered_models.creation_time', kind: 'number' },
  timestamp: { column: 'registered_models.creation_time', kind: 'number' },
  last_updated_timestamp: { column: 'registered_models.last_updated_time', kind: 'number' },
};
const VERSION_ATTRIBUTES: Record<string, { column: string; kind: 'string' | 'number' }> = {
  name: { column: 'registered_models.name', kind: 'string' },
  run_id: { column: 'model_versions.run_id', kind: 'string' },
  source_path: { column: 'model_versions.source', kind: 'string' },
  source: { column: 'model_versions.source', kind: 'string' },
  version_number: { column: 'model_versions.version', kind: 'number' },
  current_stage: { column: 'model_versions.current_stage', kind: 'string' },
  creation_timestamp: { column: 'model_versions.creation_time', kind: 'number' },
  last_updated_timestamp: { column: 'model_versions.last_updated_time', kind: 'number' },
};

/** SQL for registered models, their versions, tags and aliases. */
export class RegistryStore {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insertModel(row: RegisteredModelRow, tags: KV[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.insertInto('registered_models').values(row).execute();
      if (tags.length)
        await trx
          .insertInto('registered_model_tags')
          .values(tags.map((t) => ({ model_id: row.id, ...t })))
          .execute();
    });
  }
  getModel(groupId: string, name: string) {
    return this.db.kysely.selectFrom('registered_models').selectAll().where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst();
  }
  async updateModel(id: string, patch: Partial<Pick<RegisteredModelRow, 'name' | 'description' | 'last_updated_time'>>): Promise<void> {
    await this.db.kysely.updateTable('registered_models').set(patch).where('id', '=', id).execute();
  }
  async deleteModel(id: string): Promise<void> {
    await this.db.kysely.deleteFrom('registered_models').where('id', '=', id).execute();
  }
  async setModelTag(id: string, key: string, value: string): Promise<void> {
    await this.db.kysely
      .insertInto('registered_model_tags')
      .values({ model_id: id, key, value })
      .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
      .execute();
  }
  async deleteModelTag(id: string, key: string): Promise<boolean> {
    return (
      Number((await this.db.kysely.deleteFrom('registered_model_tags').where('model_id', '=', id).where('key', '=', key).executeTakeFirst()).numDeletedRows) > 0
    );
  }

  /** Hands out the next version number and inserts the version in one transaction. */
  async insertVersion(modelId: string, row: Omit<ModelVersionRow, 'model_id' | 'version'>, tags: KV[]): Promise<number> {
    return this.db.transaction(async (trx) => {
      const bumped = await sql<{
        last_version: number;
      }>`UPDATE registered_models SET last_version = last_version + 1, last_updated_time = ${row.creation_time} WHERE id = ${modelId} RETURNING last_version`.execute(
        trx,
      );
      const version = Number(bumped.rows[0]!.last_version);
      await trx
        .insertInto('model_versions')
        .values({ ...row, model_id: modelId, version })
        .execute();
      if (tags.length)
        await trx
          .insertInto('model_version_tags')
          .values(tags.map((t) => ({ model_id: modelId, version, ...t })))
          .execute();
      return version;
    });
  }
  getVersion(modelId: string, version: number) {
    return this.db.kysely
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }
  async updateVersion(trx: Transaction<Database> | null, modelId: string, version: number, patch: Partial<ModelVersionRow>): Promise<void> {
    await (trx ?? this.db.kysely).updateTable('model_versions').set(patch).where('model_id', '=', modelId).where('version', '=', version).execute();
  }
  /** Moves every other version in `stage` to Archived (MLflow's archive_existing_versions). */
  async archiveOthers(trx: Transaction<Database>, modelId: string, version: number, stage: string, now: number): Promise<number[]> {
    const others = await trx
      .selectFrom('model_versions')
      .select('version')
      .where('model_id', '=', modelId)
      .where('current_stage', '=', stage as ModelVersionRow['current_stage'])
      .where('version', '!=', version)
      .where('deleted', '=', 0)
      .execute();
    if (others.length)
      await trx
        .updateTable('model_versions')
        .set({ current_stage: 'Archived', last_updated_time: now })
        .where('model_id', '=', modelId)
        .where(
          'version',
          'in',
          others.map((o) => o.version),
        )
        .execute();
    return others.map((o) => o.version);
  }
  async setVersionTag(modelId: string, version: number, key: string, value: string): Promise<void> {
    await this.db.kysely
      .insertInto('model_version_tags')
      .values({ model_id: modelId, version, key, value })
      .onConflict((oc) => oc.columns(['model_id', 'version', 'key']).doUpdateSet({ value }))
      .execute();
  }
  async deleteVersionTag(modelId: string, version: number, key: string): Promise<boolean> {
    return (
      Number(
        (
          await this.db.kysely
            .deleteFrom('model_version_tags')
            .where('model_id', '=', modelId)
            .where('version', '=', version)
            .where('key', '=', key)
            .executeTakeFirst()
        ).numDeletedRows,
      ) > 0
    );
  }
  async setAlias(modelId: string, alias: string, version: number): Promise<number | null> {
    return this.db.transaction(async (trx) => {
      const prev = await trx.selectFrom('model_aliases').select('version').where('model_id', '=', modelId).where('alias', '=', alias).executeTakeFirst();
      await trx
        .insertInto('model_aliases')
        .values({ model_id: modelId, alias, version })
        .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version }))
        .execute();
      return prev?.version ?? null;
    });
  }
  async deleteAlias(modelId: string, alias: string): Promise<number | null> {
    const prev = await this.db.kysely
      .selectFrom('model_aliases')
      .select('version')
      .where('model_id', '=', modelId)
      .where('alias', '=', alias)
      .executeTakeFirst();
    if (!prev) return null;
    await this.db.kysely.deleteFrom('model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).execute();
    return prev.version;
  }
  async aliasVersion(modelId: string, alias: string): Promise<number | undefined> {
    return (await this.db.kysely.selectFrom('model_aliases').select('version').where('model_id', '=', modelId).where('alias', '=', alias).executeTakeFirst())
      ?.version;
  }

  // Details for presenting many models or versions at once.
  async modelTags(ids: string[]): Promise<Map<string, KV[]>> {
    const out = new Map<string, KV[]>();
    if (!ids.length) return out;
    for (const r of await this.db.kysely.selectFrom('registered_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute())
      out.set(r.model_id, [...(out.get(r.model_id) ?? []), { key: r.key, value: r.value }]);
    return out;
  }
  aliases(ids: string[]) {
    if (!ids.length) return Promise.resolve([]);
    return this.db.kysely.selectFrom('model_aliases').selectAll().where('model_id', 'in', ids).orderBy('alias').execute();
  }
  versionTags(ids: string[]) {
    if (!ids.length) return Promise.resolve([]);
    return this.db.kysely.selectFrom('model_version_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute();
  }
  /** The newest live version in each stage, per model. */
  latestPerStage(ids: string[]) {
    if (!ids.length) return Promise.resolve([] as ModelVersionRow[]);
    return this.db.kysely
      .selectFrom('model_versions as v')
      .selectAll('v')
      .where('v.model_id', 'in', ids)
      .where('v.deleted', '=', 0)
      .where(({ eb, selectFrom }) =>
        eb(
          'v.version',
          '=',
          selectFrom('model_versions as w')
            .select((e) => e.fn.max('w.version').as('m'))
            .whereRef('w.model_id', '=', 'v.model_id')
            .whereRef('w.current_stage', '=', 'v.current_stage')
            .where('w.deleted', '=', 0),
        ),
      )
      .orderBy('v.version')
      .execute();
  }

  async searchModels(groupIds: string[], filter: FilterExpr | null, order: OrderTerm[], offset: number, limit: number): Promise<RegisteredModelRow[]> {
    if (!groupIds.length) return [];
    let q = this.db.kysely.selectFrom('registered_models').selectAll().where('group_id', 'in', groupIds);
    if (filter)
      q = q.where(
        compileFilter(
          filter,
          this.target(MODEL_ATTRIBUTES, 'registered_models.id', { table: 'registered_model_tags', idColumn: 'model_id' }),
        ) as RawBuilder<boolean>,
      );
    for (const t of order) {
      const a = t.entity === 'attribute' ? MODEL_ATTRIBUTES[t.key.toLowerCase()] : undefined;
      if (!a) throw new FilterError(`cannot order registered models by '${t.key}': use name, creation_timestamp or last_updated_timestamp`, 0, t.key);
      q = q.orderBy(sql.ref(a.column), t.ascending ? 'asc' : 'desc');
    }
    return q.orderBy('name').offset(offset).limit(limit).execute();
  }

  async searchVersions(groupIds: string[], filter: FilterExpr | null, order: OrderTerm[], offset: number, limit: number) {
    if (!groupIds.length) return [];
    let q = this.db.kysely
      .selectFrom('model_versions')
      .innerJoin('registered_models', 'registered_models.id', 'model_versions.model_id')
      .selectAll('model_versions')
      .select('registered_models.name')
      .where('registered_models.group_id', 'in', groupIds)
      .where('model_versions.deleted', '=', 0);
    if (filter) {
      // Version tags are keyed by (model, version), so the tag subquery matches on both columns.
      const withTags: FilterTarget = {
        ...this.target(VERSION_ATTRIBUTES, 'model_versions.model_id', { table: 'model_version_tags', idColumn: 'model_id' }),
        id: sql`model_versions.model_id AND model_version_tags.version = model_versions.version`,
      };
      q = q.where(compileFilter(filter, withTags) as RawBuilder<boolean>);
    }
    for (const t of order) {
      const a = t.entity === 'attribute' ? VERSION_ATTRIBUTES[t.key.toLowerCase()] : undefined;
      if (!a) throw new FilterError(`cannot order model versions by '${t.key}'`, 0, t.key);
      q = q.orderBy(sql.ref(a.column), t.ascending ? 'asc' : 'desc');
    }
    return q.orderBy('registered_models.name').orderBy('model_versions.version', 'desc').offset(offset).limit(limit).execute();
  }

  modelById(id: string) {
    return this.db.kysely.selectFrom('registered_models').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // approvals
  groupSettings(groupId: string) {
    return this.db.kysely.selectFrom('group_settings').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  }
  async saveGroupSettings(groupId: string, approvalStages: string, approvers: string, now: number): Promise<void> {
    await this.db.kysely
      .insertInto('group_settings')
      .values({ group_id: groupId, approval_stages: approvalStages, approvers, updated_at: now })
      .onConflict((oc) => oc.column('group_id').doUpdateSet({ approval_stages: approvalStages, approvers, updated_at: now }))
      .execute();
  }
  async insertApproval(row: ApprovalRow): Promise<void> {
    await this.db.kysely.insertInto('approval_requests').values(row).execute();
  }
  pendingApproval(modelId: string, version: number, stage: string) {
    return this.db.kysely
      .selectFrom('approval_requests')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .where('to_stage', '=', stage)
      .where('status', '=', 'pending')
      .executeTakeFirst();
  }
  private approvalsQuery(groupId: string) {
    return this.db.kysely
      .selectFrom('approval_requests')
      .innerJoin('registered_models', 'registered_models.id', 'approval_requests.model_id')
      .selectAll('approval_requests')
      .select('registered_models.name as model_name')
      .where('approval_requests.group_id', '=', groupId);
  }
  approvals(groupId: string, status?: string) {
    let q = this.approvalsQuery(groupId).orderBy('approval_requests.requested_at', 'desc').limit(500);
    if (status) q = q.where('approval_requests.status', '=', status as ApprovalRow['status']);
    return q.execute();
  }
  approvalById(groupId: string, id: string) {
    return this.approvalsQuery(groupId).where('approval_requests.id', '=', id).executeTakeFirst();
  }
  /** Decides a pending request; false when someone else decided first. */
  async decideApproval(id: string, status: 'approved' | 'rejected', by: string, at: number, comment: string | null): Promise<boolean> {
    const r = await this.db.kysely
      .updateTable('approval_requests')
      .set({ status, decided_by: by, decided_at: at, decision_comment: comment })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private target(attrs: typeof MODEL_ATTRIBUTES, idColumn: string, tags: { table: string; idColumn: string } | undefined): FilterTarget {
    return {
      dialect: this.db.dialect,
      id: sql.ref(idColumn),
      attribute: (cmp) => {
        const a = attrs[cmp.key.toLowerCase()];
        if (!a) throw new FilterError(`unknown attribute '${cmp.key}': use ${Object.keys(attrs).join(', ')} or tags.<key>`, cmp.position, cmp.key);
        return { column: sql.ref(a.column), kind: a.kind };
      },
      keyTable: (entity) => (entity === 'tag' ? tags : undefined),
    };
  }
}
