import { DeploymentSettingsSchema, type DeploymentSettings } from '@forja/contracts';
import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, DeploymentsTable, ExecutionsTable } from '../db/schema.js';
import { namesById } from '../db/names.js';

export type DeploymentRow = Selectable<DeploymentsTable>;
export type ExecutionRow = Selectable<ExecutionsTable>;

/** A row's settings, parsed, so settings added since the row was written read as their defaults. */
export function settingsOf(row: Pick<DeploymentRow, 'settings'>): DeploymentSettings {
  return DeploymentSettingsSchema.parse(JSON.parse(row.settings));
}

/** SQL for deployments and their async executions. */
export class DeploymentsStore {
  constructor(readonly db: Db) {}

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insert(row: DeploymentRow): Promise<void> {
    await this.db.kysely.insertInto('deployments').values(row).execute();
  }

  /** Deployments' names by id (one query), for lists of jobs. */
  namesOf(ids: string[]): Promise<Map<string, string>> {
    return namesById(this.db.kysely, 'deployments', ids);
  }

  get(id: string): Promise<DeploymentRow | undefined> {
    return this.db.kysely.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(groupId: string): Promise<DeploymentRow[]> {
    return this.db.kysely.selectFrom('deployments').selectAll().where('group_id', '=', groupId).orderBy('name').execute();
  }

  /** Every deployment's id, group and settings (the inference log's retention sweep). */
  listAll(): Promise<Pick<DeploymentRow, 'id' | 'group_id' | 'settings'>[]> {
    return this.db.kysely.selectFrom('deployments').select(['id', 'group_id', 'settings']).execute();
  }

  /** The deployments made from a version of this registered model, in one group or in all. */
  listOfModel(modelName: string, groupId?: string): Promise<Pick<DeploymentRow, 'id' | 'group_id' | 'settings' | 'model_version'>[]> {
    let q = this.db.kysely.selectFrom('deployments').select(['id', 'group_id', 'settings', 'model_version']).where('model_name', '=', modelName);
    if (groupId !== undefined) q = q.where('group_id', '=', groupId);
    return q.execute();
  }

  async update(id: string, set: Partial<DeploymentRow>, trx?: Transaction<Database>): Promise<void> {
    await (trx ?? this.db.kysely).updateTable('deployments').set(set).where('id', '=', id).execute();
  }

  /** A guarded status change: false when the deployment was no longer in one of `from`. */
  async move(id: string, from: DeploymentRow['status'][], set: Partial<DeploymentRow>): Promise<boolean> {
    const res = await this.db.kysely.updateTable('deployments').set(set).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async remove(id: string): Promise<void> {
    await this.db.kysely.deleteFrom('deployments').where('id', '=', id).execute();
  }

  // executions
  async insertExecution(row: ExecutionRow, trx?: Transaction<Database>): Promise<void> {
    await (trx ?? this.db.kysely).insertInto('executions').values(row).execute();
  }

  getExecution(id: string): Promise<ExecutionRow | undefined> {
    return this.db.kysely.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getExecutionOf(deploymentId: string, id: string): Promise<ExecutionRow | undefined> {
    return this.db.kysely.selectFrom('executions').selectAll().where('id', '=', id).where('deployment_id', '=', deploymentId).executeTakeFirst();
  }

  /** The deployment's 500 newest executions. */
  listExecutions(deploymentId: string): Promise<ExecutionRow[]> {
    return this.db.kysely.selectFrom('executions').selectAll().where('deployment_id', '=', deploymentId).orderBy('id', 'desc').limit(500).execute();
  }

  async updateExecution(id: string, set: Partial<ExecutionRow>, trx?: Transaction<Database>): Promise<void> {
    await (trx ?? this.db.kysely).updateTable('executions').set(set).where('id', '=', id).execute();
  }
}
