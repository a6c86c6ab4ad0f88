import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { LATENCY_BUCKETS } from './usage-histogram.js';

/** One minute's counts of one deployment, as this process saw them since its last flush. */
export interface UsageDelta {
  deploymentId: string;
  minute: number;
  calls: number;
  errors: number;
  buckets: ArrayLike<number>;
}

/** Summed counts of one bucket of a window (t: the bucket's start, ms). */
export interface UsageBucketRow {
  t: number;
  calls: number;
  errors: number;
  buckets: number[];
}

const BUCKET_COLUMNS = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `b${i}` as const);
const ADDED = ['calls', 'errors', ...BUCKET_COLUMNS] as const;

/** SQL of the per-minute usage counters (table deployment_usage). */
export class UsageStore {
  constructor(private readonly db: Db) {}

  /** Adds the deltas to their minutes' rows: servers sharing the table each add what they counted. */
  async add(deltas: UsageDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    const rows = deltas.map((d) => ({
      deployment_id: d.deploymentId,
      minute: d.minute,
      calls: d.calls,
      errors: d.errors,
      ...Object.fromEntries(BUCKET_COLUMNS.map((c, i) => [c, d.buckets[i] ?? 0])),
    }));
    const set = Object.fromEntries(ADDED.map((c) => [c, sql<number>`${sql.ref(`deployment_usage.${c}`)} + ${sql.ref(`excluded.${c}`)}`]));
    await this.db.kysely
      .insertInto('deployment_usage')
      .values(rows)
      .onConflict((oc) => oc.columns(['deployment_id', 'minute']).doUpdateSet(set))
      .execute();
  }

  /** The window's counts summed per `stepMs` (buckets start at multiples of it). */
  async series(deploymentId: string, from: number, to: number, stepMs: number): Promise<UsageBucketRow[]> {
    const rows = await this.db.kysely
      .selectFrom('deployment_usage')
      .select([
        // SQLite binds a JS number as REAL: % works on integers in both dialects, / would not.
        sql<number>`minute - (minute % ${stepMs})`.as('t'),
        sql<number>`sum(calls)`.as('calls'),
        sql<number>`sum(errors)`.as('errors'),
        ...BUCKET_COLUMNS.map((c) => sql<number>`sum(${sql.ref(c)})`.as(c)),
      ])
      .where('deployment_id', '=', deploymentId)
      .where('minute', '>=', from)
      .where('minute', '<', to)
      .groupBy(sql`t`)
      .orderBy('t')
      .execute();
    return rows.map((r) => {
      const row = r as Record<string, unknown>;
      return { t: Number(row.t), calls: Number(row.calls), errors: Number(row.errors), buckets: BUCKET_COLUMNS.map((c) => Number(row[c])) };
    });
  }

  async firstMinute(deploymentId: string): Promise<number | null> {
    const row = await this.db.kysely
      .selectFrom('deployment_usage')
      .select(sql<number | null>`min(minute)`.as('first'))
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirst();
    return row?.first === null || row?.first === undefined ? null : Number(row.first);
  }

  async remove(deploymentId: string): Promise<void> {
    await this.db.kysely.deleteFrom('deployment_usage').where('deployment_id', '=', deploymentId).execute();
  }
}
