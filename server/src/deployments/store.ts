import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { DeploymentsTable } from '../db/schema.js';

export type DeploymentRow = Selectable<DeploymentsTable>;

export class DeploymentsStore {
  constructor(readonly db: Db) {}

  async insert(row: DeploymentRow): Promise<void> {
    await this.db.kysely.insertInto('deployments').values(row).execute();
  }

  get(id: string): Promise<DeploymentRow | undefined> {
    return this.db.kysely.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(groupId: string): Promise<DeploymentRow[]> {
    return this.db.kysely.selectFrom('deployments').selectAll().where('group_id', '=', groupId).orderBy('name').execute();
  }

  async update(id: string, set: Partial<DeploymentRow>): Promise<void> {
    await this.db.kysely.updateTable('deployments').set(set).where('id', '=', id).execute();
  }

  /** A guarded status change: false when the deployment was no longer in one of `from`. */
  async move(id: string, from: DeploymentRow['status'][], set: Partial<DeploymentRow>): Promise<boolean> {
    const res = await this.db.kysely.updateTable('deployments').set(set).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async remove(id: string): Promise<void> {
    await this.db.kysely.deleteFrom('deployments').where('id', '=', id).execute();
  }
}
