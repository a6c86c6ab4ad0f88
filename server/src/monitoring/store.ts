import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { namesById } from '../db/names.js';

export type MonitorRow = Selectable<Database['monitors']>;
export type MonitorRunRow = Selectable<Database['monitor_runs']>;
type Executor = Kysely<Database> | Transaction<Database>;

/** SQL for monitors and their runs. */
export class MonitorsStore {
  constructor(private readonly db: Db) {}

  private get k(): Kysely<Database> {
    return this.db.kysely;
  }

  /** A fired window's claim, its run and its job commit together. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  // ---- monitors

  async insert(row: MonitorRow): Promise<void> {
    await this.k.insertInto('monitors').values(row).execute();
  }
  /** Monitors' names by id (one query), for lists of jobs. */
  namesOf(ids: string[]): Promise<Map<string, string>> {
    return namesById(this.k, 'monitors', ids);
  }

  get(id: string): Promise<MonitorRow | undefined> {
    return this.k.selectFrom('monitors').selectAll().where('id', '=', id).executeTakeFirst();
  }
  byName(groupId: string, name: string): Promise<MonitorRow | undefined> {
    return this.k.selectFrom('monitors').selectAll().where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst();
  }
  list(groupId: string, deploymentId?: string): Promise<MonitorRow[]> {
    let q = this.k.selectFrom('monitors').selectAll().where('group_id', '=', groupId);
    if (deploymentId) q = q.where('deployment_id', '=', deploymentId);
    return q.orderBy('name').execute();
  }
  async update(id: string, set: Partial<Omit<MonitorRow, 'id' | 'group_id'>>): Promise<void> {
    await this.k.updateTable('monitors').set(set).where('id', '=', id).execute();
  }
  /** Its runs go with it (the foreign key cascades). */
  async delete(id: string): Promise<void> {
    await this.k.deleteFrom('monitors').where('id', '=', id).execute();
  }

  // ---- the schedule

  due(now: number, limit: number): Promise<MonitorRow[]> {
    return this.k.selectFrom('monitors').selectAll().where('scheduled', '=', 1).where('next_run_at', '<=', now).orderBy('next_run_at').limit(limit).execute();
  }
  /**
   * Moves a monitor past the window end it was read at. Guarded by that value, so when several
   * processes fire the same window only one moves it on (PostgreSQL re-checks the WHERE after the
   * row lock; SQLite's writer lock serializes), and only that one queues the run.
   */
  async advance(id: string, tick: number, next: number, trx: Executor): Promise<boolean> {
    const res = await trx.updateTable('monitors').set({ next_run_at: next }).where('id', '=', id).where('next_run_at', '=', tick).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  // ---- runs

  async insertRun(row: MonitorRunRow, trx: Executor = this.k): Promise<void> {
    await trx.insertInto('monitor_runs').values(row).execute();
  }
  run(monitorId: string, id: string): Promise<MonitorRunRow | undefined> {
    return this.k.selectFrom('monitor_runs').selectAll().where('monitor_id', '=', monitorId).where('id', '=', id).executeTakeFirst();
  }
  runById(id: string): Promise<MonitorRunRow | undefined> {
    return this.k.selectFrom('monitor_runs').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async updateRun(id: string, set: Partial<Omit<MonitorRunRow, 'id' | 'monitor_id'>>): Promise<void> {
    await this.k.updateTable('monitor_runs').set(set).where('id', '=', id).execute();
  }
  /** Newest first, keyed on the (time-ordered) id. */
  runs(monitorId: string, limit: number, before?: string): Promise<MonitorRunRow[]> {
    let q = this.k.selectFrom('monitor_runs').selectAll().where('monitor_id', '=', monitorId);
    if (before) q = q.where('id', '<', before);
    return q.orderBy('id', 'desc').limit(limit).execute();
  }
  /** The newest run of each monitor given. */
  async latestRuns(monitorIds: string[]): Promise<Map<string, MonitorRunRow>> {
    if (monitorIds.length === 0) return new Map();
    const rows = await this.k
      .selectFrom('monitor_runs as r')
      .selectAll('r')
      .where('r.monitor_id', 'in', monitorIds)
      .where('r.id', '=', (eb) =>
        eb
          .selectFrom('monitor_runs as l')
          .select((e) => e.fn.max('l.id').as('id'))
          .whereRef('l.monitor_id', '=', 'r.monitor_id'),
      )
      .execute();
    return new Map(rows.map((r) => [r.monitor_id, r]));
  }
  /** Succeeded runs' windows and metrics, oldest window first (for series). */
  series(monitorId: string, from?: number, to?: number): Promise<Pick<MonitorRunRow, 'id' | 'window_end' | 'metrics'>[]> {
    let q = this.k.selectFrom('monitor_runs').select(['id', 'window_end', 'metrics']).where('monitor_id', '=', monitorId).where('status', '=', 'succeeded');
    if (from !== undefined) q = q.where('window_end', '>=', from);
    if (to !== undefined) q = q.where('window_end', '<=', to);
    return q.orderBy('window_end').orderBy('id').limit(10_000).execute();
  }
}
