import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { AlertRulesTable, AlertStreaksTable, AlertsTable, Database } from '../db/schema.js';

export type AlertRuleRow = Selectable<AlertRulesTable>;
export type AlertStreakRow = Selectable<AlertStreaksTable>;
export type AlertRow = Selectable<AlertsTable>;
export type AlertStatus = AlertRow['status'];
type Trx = Transaction<Database>;

/** Every query of the alerts domain: rules, the breach streaks they keep, and the alerts they fired. */
export class AlertsStore {
  constructor(readonly db: Db) {}

  private get k() {
    return this.db.kysely;
  }

  async insertRule(row: AlertRuleRow): Promise<void> {
    await this.k.insertInto('alert_rules').values(row).execute();
  }

  rule(groupId: string, monitorId: string, id: string): Promise<AlertRuleRow | undefined> {
    return this.k
      .selectFrom('alert_rules')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('monitor_id', '=', monitorId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  rules(groupId: string, monitorId: string, onlyEnabled = false): Promise<AlertRuleRow[]> {
    let q = this.k.selectFrom('alert_rules').selectAll().where('group_id', '=', groupId).where('monitor_id', '=', monitorId);
    if (onlyEnabled) q = q.where('enabled', '=', 1);
    return q.orderBy('name').execute();
  }

  async updateRule(id: string, set: Partial<AlertRuleRow>): Promise<void> {
    await this.k.updateTable('alert_rules').set(set).where('id', '=', id).execute();
  }

  /** Its streaks go with it (cascade); its alerts stay as history. */
  async deleteRule(id: string): Promise<void> {
    await this.k.deleteFrom('alert_rules').where('id', '=', id).execute();
  }

  /** A rule's changed condition starts every streak over. */
  async resetStreaks(ruleId: string): Promise<void> {
    await this.k.deleteFrom('alert_streaks').where('rule_id', '=', ruleId).execute();
  }

  streak(trx: Trx, ruleId: string, metric: string): Promise<AlertStreakRow | undefined> {
    return trx.selectFrom('alert_streaks').selectAll().where('rule_id', '=', ruleId).where('metric', '=', metric).executeTakeFirst();
  }

  async saveStreak(trx: Trx, row: AlertStreakRow): Promise<void> {
    const { rule_id: _r, metric: _m, ...rest } = row;
    await trx
      .insertInto('alert_streaks')
      .values(row)
      .onConflict((oc) => oc.columns(['rule_id', 'metric']).doUpdateSet(rest))
      .execute();
  }

  async insertAlert(trx: Trx, row: AlertRow): Promise<void> {
    await trx.insertInto('alerts').values(row).execute();
  }

  alert(groupId: string, id: string, trx?: Trx): Promise<AlertRow | undefined> {
    return (trx ?? this.k).selectFrom('alerts').selectAll().where('group_id', '=', groupId).where('id', '=', id).executeTakeFirst();
  }

  /** Moves an alert on only from the states given; false when another caller moved it first. */
  async transition(id: string, from: AlertStatus[], set: Partial<AlertRow>, trx?: Trx): Promise<boolean> {
    const r = await (trx ?? this.k).updateTable('alerts').set(set).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Newest first; `monitor` is a monitor's id or name. */
  alerts(groupId: string, filter: { status?: AlertStatus; monitor?: string }, offset: number, limit: number): Promise<AlertRow[]> {
    let q = this.k.selectFrom('alerts').selectAll().where('group_id', '=', groupId);
    if (filter.status) q = q.where('status', '=', filter.status);
    const monitor = filter.monitor;
    if (monitor) q = q.where((eb) => eb.or([eb('monitor_id', '=', monitor), eb('monitor_name', '=', monitor)]));
    return q.orderBy('id', 'desc').offset(offset).limit(limit).execute();
  }
}
