import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { isUniqueViolation, type Db } from '../db/database.js';
import type { Database, JobLogsTable, JobsTable, WorkersTable } from '../db/schema.js';
import { SETTLED_CHANNEL } from './settle-feed.js';

export type JobRow = Selectable<JobsTable>;
export type WorkerRow = Selectable<WorkersTable>;
export type Executor = Kysely<Database> | Transaction<Database>;

/** Which jobs `list` returns, newest first; every field narrows. */
export interface JobFilter {
  ids?: readonly string[];
  groupId?: string;
  status?: JobRow['status'] | readonly JobRow['status'][];
  kind?: string;
  /** Only with a limit. */
  offset?: number;
  limit?: number;
}

const FINAL: ReadonlyArray<JobRow['status'] | undefined> = ['succeeded', 'failed', 'cancelled'];

/** All SQL of the job engine. Every state change is a guarded UPDATE, so two workers never both win. */
export class JobsStore {
  constructor(readonly db: Db) {}

  private get k() {
    return this.db.kysely;
  }

  async insert(row: JobRow, trx: Executor = this.k): Promise<boolean> {
    // A dedupe key that is taken means the job already exists (a schedule tick fired elsewhere).
    const res = await trx
      .insertInto('jobs')
      .values(row)
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  get(id: string, trx: Executor = this.k): Promise<JobRow | undefined> {
    return trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Queued jobs that are due, best first (the SQLite dispatcher's poll), leaving the kinds this worker cannot run. */
  async due(now: number, limit: number, exclude: ReadonlySet<string>, skipKinds: readonly string[]): Promise<Array<{ id: string; token: string }>> {
    const rows = await this.k
      .selectFrom('jobs')
      .select(['id', 'token'])
      .where('status', '=', 'queued')
      .where('run_at', '<=', now)
      .$if(skipKinds.length > 0, (q) => q.where('kind', 'not in', skipKinds))
      .orderBy('priority', 'desc')
      .orderBy('run_at')
      .orderBy('id')
      .limit(limit + exclude.size)
      .execute();
    return rows.filter((r) => !exclude.has(r.id)).slice(0, limit);
  }

  /** When the next queued job that is not yet due falls due, to sleep exactly that long. */
  async nextRunAt(now: number, skipKinds: readonly string[]): Promise<number | undefined> {
    const row = await this.k
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('run_at').as('next'))
      .where('status', '=', 'queued')
      .where('run_at', '>', now)
      .$if(skipKinds.length > 0, (q) => q.where('kind', 'not in', skipKinds))
      .executeTakeFirst();
    return row?.next == null ? undefined : Number(row.next);
  }

  async claim(id: string, token: string, owner: string, now: number, leaseMs: number, dispatchRef: string | null): Promise<JobRow | undefined> {
    return this.k
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        attempt: eb('attempt', '+', 1),
        lease_owner: owner,
        lease_expires_at: now + leaseMs,
        heartbeat_at: now,
        dispatch_ref: dispatchRef,
        started_at: now,
        error: null,
      }))
      .where('id', '=', id)
      .where('token', '=', token)
      .where('status', '=', 'queued')
      .where('run_at', '<=', now)
      .returningAll()
      .executeTakeFirst();
  }

  /** Extends the lease; undefined when the job is no longer this worker's (reaped or finished). */
  async heartbeat(
    id: string,
    owner: string,
    attempt: number,
    now: number,
    leaseMs: number,
    progress: string | null | undefined,
  ): Promise<{ cancelRequested: boolean } | undefined> {
    const row = await this.k
      .updateTable('jobs')
      .set({ lease_expires_at: now + leaseMs, heartbeat_at: now, ...(progress !== undefined ? { progress } : {}) })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('attempt', '=', attempt)
      .where('status', '=', 'running')
      .returning(['cancel_requested'])
      .executeTakeFirst();
    return row && { cancelRequested: row.cancel_requested === 1 };
  }

  /** Moves a running attempt on: to a final status, or back to queued for a retry. */
  async settle(
    id: string,
    owner: string | null,
    attempt: number,
    change: Partial<Pick<JobRow, 'status' | 'result' | 'error' | 'token' | 'run_at' | 'finished_at' | 'progress'>>,
    trx: Executor = this.k,
  ): Promise<JobRow | undefined> {
    let q = trx
      .updateTable('jobs')
      // lease_owner stays: it tells which worker ran the attempt.
      .set({ ...change, lease_expires_at: null })
      .where('id', '=', id)
      .where('attempt', '=', attempt)
      .where('status', '=', 'running');
    if (owner !== null) q = q.where('lease_owner', '=', owner);
    // A final status is announced to other processes' waiters in the same statement (no extra round trip).
    const announce = this.db.dialect === 'postgres' && FINAL.includes(change.status);
    const row = await q
      .returningAll()
      .$if(announce, (r) => r.returning(sql<string>`pg_notify(${SETTLED_CHANNEL}, id)`.as('announced')))
      .executeTakeFirst();
    if (row) delete row.announced;
    return row;
  }

  /** Tells other processes' waiters that a job reached a final status (PostgreSQL NOTIFY, sent on commit). */
  async announceSettled(id: string, trx: Executor = this.k): Promise<void> {
    if (this.db.dialect === 'postgres') await sql`select pg_notify(${SETTLED_CHANNEL}, ${id})`.execute(trx);
  }

  /** Running jobs whose lease ran out: their worker died or stalled. */
  expired(now: number, limit = 100): Promise<JobRow[]> {
    return this.k
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', 'running')
      .where('lease_expires_at', '<', now)
      .orderBy('lease_expires_at')
      .limit(limit)
      .execute();
  }

  /** Whether only one process can use this database (SQLite): then a running row at start-up is an orphan. */
  get singleProcess(): boolean {
    return this.db.dialect === 'sqlite';
  }

  /** A requeue that should not count as an attempt gives the attempt back. */
  async refundAttempt(id: string, attempt: number, trx: Executor): Promise<void> {
    await trx
      .updateTable('jobs')
      .set({ attempt: attempt - 1 })
      .where('id', '=', id)
      .execute();
  }

  /** Ends a job that a cancel reached while it was being requeued. */
  async cancelRequeued(id: string, now: number, trx: Executor): Promise<void> {
    await trx.updateTable('jobs').set({ status: 'cancelled', finished_at: now, error: 'Cancelled while waiting to run again.' }).where('id', '=', id).execute();
  }

  /** On an embedded SQLite server nothing else can hold a lease: every running row is an orphan of the last process. */
  async expireAllLeases(): Promise<number> {
    const res = await this.k.updateTable('jobs').set({ lease_expires_at: 0 }).where('status', '=', 'running').executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async cancelQueued(id: string, now: number): Promise<boolean> {
    const res = await this.k
      .updateTable('jobs')
      .set((eb) => ({
        status: 'cancelled',
        finished_at: now,
        error: eb.case().when('attempt', '=', 0).then('Cancelled before it started.').else('Cancelled while waiting to retry.').end(),
      }))
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async requestCancel(id: string): Promise<boolean> {
    const res = await this.k.updateTable('jobs').set({ cancel_requested: 1 }).where('id', '=', id).where('status', '=', 'running').executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  list(filter: JobFilter): Promise<JobRow[]> {
    const { ids, groupId, status, kind, offset, limit } = filter;
    if (ids?.length === 0) return Promise.resolve([]);
    const statuses = status === undefined ? undefined : typeof status === 'string' ? [status] : status;
    if (statuses?.length === 0) return Promise.resolve([]);
    return (
      this.k
        .selectFrom('jobs')
        .selectAll()
        .$if(ids !== undefined, (q) => q.where('id', 'in', ids!))
        .$if(groupId !== undefined, (q) => q.where('group_id', '=', groupId!))
        .$if(statuses !== undefined, (q) => q.where('status', 'in', statuses!))
        .$if(!!kind, (q) => q.where('kind', '=', kind!))
        .orderBy('id', 'desc')
        // SQLite takes an OFFSET only after a LIMIT.
        .$if(limit !== undefined, (q) => q.limit(limit!).offset(offset ?? 0))
        .execute()
    );
  }

  // ---- logs

  async appendLogs(lines: Array<Omit<JobLogsTable, 'seq' | 'job_id'>>, jobId: string, within?: Transaction<Database>): Promise<void> {
    if (lines.length === 0) return;
    const write = async (trx: Transaction<Database>) => {
      const last = await trx
        .selectFrom('job_logs')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('job_id', '=', jobId)
        .executeTakeFirst();
      let seq = Number(last?.seq ?? 0);
      for (let i = 0; i < lines.length; i += 500) {
        await trx
          .insertInto('job_logs')
          .values(lines.slice(i, i + 500).map((l) => ({ ...l, job_id: jobId, seq: ++seq })))
          .execute();
      }
    };
    if (within) return write(within);
    // Another process may append to the same job at the same moment (a reaper's note): renumber and retry.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(write);
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= 3) throw err;
      }
    }
  }

  logs(jobId: string, after: number, limit: number): Promise<Array<Selectable<JobLogsTable>>> {
    return this.k.selectFrom('job_logs').selectAll().where('job_id', '=', jobId).where('seq', '>', after).orderBy('seq').limit(limit).execute();
  }

  async tail(jobId: string, lines: number): Promise<string[]> {
    const rows = await this.k
      .selectFrom('job_logs')
      .select('line')
      .where('job_id', '=', jobId)
      .where('stream', '!=', 'system')
      .orderBy('seq', 'desc')
      .limit(lines)
      .execute();
    return rows.map((r) => r.line).reverse();
  }

  // ---- workers

  async upsertWorker(row: WorkerRow): Promise<void> {
    await this.k
      .insertInto('workers')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen_at: row.last_seen_at, running: row.running, stopped_at: row.stopped_at }))
      .execute();
  }

  /** Every group's jobs queued and running now, and those that failed since a time: one query. */
  async depth(failedSince: number): Promise<{ queued: number; running: number; failed: number }> {
    const rows = await this.k
      .selectFrom('jobs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where((eb) => eb.or([eb('status', 'in', ['queued', 'running']), eb.and([eb('status', '=', 'failed'), eb('finished_at', '>=', failedSince)])]))
      .groupBy('status')
      .execute();
    const count = (status: JobRow['status']) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { queued: count('queued'), running: count('running'), failed: count('failed') };
  }

  workers(since: number): Promise<WorkerRow[]> {
    return this.k.selectFrom('workers').selectAll().where('last_seen_at', '>=', since).orderBy('started_at', 'desc').execute();
  }

  /** Forgets workers gone for a day so the table does not grow with every restart. */
  async pruneWorkers(before: number): Promise<void> {
    await this.k.deleteFrom('workers').where('last_seen_at', '<', before).execute();
  }
}
