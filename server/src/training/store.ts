import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';

export type TrainingRunRow = Selectable<Database['training_runs']>;

/** How a training run is named where it is listed among other things: its number in the group. */
export function trainingRunName(number: number): string {
  return `#${number}`;
}

/** SQL for training runs. */
export class TrainingStore {
  constructor(private readonly db: Db) {}

  /** One transaction, so a run's row commits with the job that runs it. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insert(row: TrainingRunRow, trx?: Transaction<Database>): Promise<void> {
    await (trx ?? this.db.kysely).insertInto('training_runs').values(row).execute();
  }

  /** The group's 200 newest runs. */
  /** Training runs' names (their number in the group, as #3) by id, in one query, for lists of jobs. */
  async namesOf(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.kysely.selectFrom('training_runs').select(['id', 'number']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, trainingRunName(r.number)]));
  }

  list(groupId: string): Promise<TrainingRunRow[]> {
    return this.db.kysely.selectFrom('training_runs').selectAll().where('group_id', '=', groupId).orderBy('created_at', 'desc').limit(200).execute();
  }

  /** The next run number of a group; the unique index refuses a number two inserts both took. */
  async nextNumber(groupId: string, trx: Transaction<Database>): Promise<number> {
    const row = await trx
      .selectFrom('training_runs')
      .select((eb) => eb.fn.max('number').as('last'))
      .where('group_id', '=', groupId)
      .executeTakeFirst();
    return Number(row?.last ?? 0) + 1;
  }

  getByNumber(groupId: string, number: number): Promise<TrainingRunRow | undefined> {
    return this.db.kysely.selectFrom('training_runs').selectAll().where('group_id', '=', groupId).where('number', '=', number).executeTakeFirst();
  }

  /** The runs of one experiment, oldest first. */
  listOfExperiment(groupId: string, experimentId: string): Promise<TrainingRunRow[]> {
    return this.db.kysely
      .selectFrom('training_runs')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('experiment_id', '=', experimentId)
      .orderBy('number')
      .execute();
  }

  get(id: string): Promise<TrainingRunRow | undefined> {
    return this.db.kysely.selectFrom('training_runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getInGroup(groupId: string, id: string): Promise<TrainingRunRow | undefined> {
    return this.db.kysely.selectFrom('training_runs').selectAll().where('id', '=', id).where('group_id', '=', groupId).executeTakeFirst();
  }

  async setPromoted(id: string, promoted: string): Promise<void> {
    await this.db.kysely.updateTable('training_runs').set({ promoted }).where('id', '=', id).execute();
  }

  /** A guarded change of the `promoted` column: false when it no longer held `from`. */
  async movePromoted(id: string, from: string | null, to: string | null): Promise<boolean> {
    const q = this.db.kysely.updateTable('training_runs').set({ promoted: to }).where('id', '=', id);
    const res = await (from === null ? q.where('promoted', 'is', null) : q.where('promoted', '=', from)).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}
