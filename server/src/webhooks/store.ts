import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from '../db/schema.js';

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export class WebhooksStore {
  constructor(readonly db: Db) {}

  private get k() {
    return this.db.kysely;
  }

  async insert(row: WebhookRow): Promise<void> {
    await this.k.insertInto('webhooks').values(row).execute();
  }

  byId(groupId: string, id: string): Promise<WebhookRow | undefined> {
    return this.k.selectFrom('webhooks').selectAll().where('group_id', '=', groupId).where('id', '=', id).executeTakeFirst();
  }

  /** For the delivery job, which has only the delivery's id. */
  byIdAnyGroup(id: string): Promise<WebhookRow | undefined> {
    return this.k.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(groupId: string): Promise<WebhookRow[]> {
    return this.k.selectFrom('webhooks').selectAll().where('group_id', '=', groupId).orderBy('name').execute();
  }

  /** Active hooks of the group; the event filter is applied by the caller (events are a JSON list). */
  active(groupId: string): Promise<WebhookRow[]> {
    return this.k.selectFrom('webhooks').selectAll().where('group_id', '=', groupId).where('active', '=', 1).execute();
  }

  async update(id: string, set: Partial<WebhookRow>): Promise<void> {
    await this.k.updateTable('webhooks').set(set).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.k.deleteFrom('webhooks').where('id', '=', id).execute();
  }

  async insertDelivery(trx: Transaction<Database>, row: DeliveryRow): Promise<void> {
    await trx.insertInto('webhook_deliveries').values(row).execute();
  }

  delivery(id: string): Promise<DeliveryRow | undefined> {
    return this.k.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  deliveries(webhookId: string, offset: number, limit: number): Promise<DeliveryRow[]> {
    return this.k.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('id', 'desc').offset(offset).limit(limit).execute();
  }

  async updateDelivery(id: string, set: Partial<DeliveryRow>): Promise<void> {
    await this.k.updateTable('webhook_deliveries').set(set).where('id', '=', id).execute();
  }
}
