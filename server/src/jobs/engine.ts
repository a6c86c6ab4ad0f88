import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TERMINAL_JOB_STATUSES } from '@forja/contracts';
import type { Transaction } from 'kysely';
import type { Database, JobLogsTable } from '../db/schema.js';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import { definitionOf, parsePayload, readPayload, type Capability, type JobKind, type JobPayload, type JobPayloadInput } from './catalog.js';
import type { Dispatch, Dispatcher } from './dispatch.js';
import type { EngineLog } from './graphile-dispatch.js';
import type { SettleFeed } from './settle-feed.js';
import type { JobFilter, JobRow, JobsStore, WorkerRow } from './store.js';

/**
 * A job to queue. A kind in the catalog takes its payload type, attempts and capability from
 * there (its time limit and first retry delay may be the caller's); other kinds (tests',
 * benches') carry plain parameters.
 */
export type JobSpec<K extends string = string> = {
  kind: K;
  /** The owning group's id; null for system work. */
  groupId: string | null;
  queue?: string;
  /** Higher runs sooner. */
  priority?: number;
  /** First retry delay; each later one doubles it (capped at an hour), with jitter. */
  backoffMs?: number;
  timeoutMs?: number;
  runAt?: number;
  /** A job with the same key is made once (a schedule tick seen by several servers). */
  dedupeKey?: string;
  createdBy?: string | null;
} & (K extends JobKind ? { params: JobPayloadInput<K> } : { params?: Record<string, unknown>; maxAttempts?: number });

export interface JobContext<P = Record<string, unknown>> {
  /** params: the payload, parsed by its kind's schema when the job was claimed. */
  readonly job: Pick<JobRow, 'id' | 'kind' | 'group_id' | 'attempt' | 'max_attempts' | 'created_by' | 'timeout_ms'> & { params: P };
  /** Aborted on cancel, timeout, shutdown or a lost lease; the reason is a JobAbort. */
  readonly signal: AbortSignal;
  log(line: string, stream?: JobLogsTable['stream']): void;
  progress(value: unknown): void;
}

export type JobHandler<K extends string = string> = (ctx: JobContext<JobPayload<K>>) => Promise<unknown>;

/** Why a running job was stopped from outside. */
export class JobAbort extends Error {
  constructor(
    readonly reason: 'cancelled' | 'timeout' | 'shutdown' | 'lease-lost',
    message: string,
  ) {
    super(message);
    this.name = 'JobAbort';
  }
}

/** Not now: the job goes back to the queue for `delayMs` without spending an attempt (a full cluster). */
export class DeferJob extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'DeferJob';
  }
}

/** A failure that retrying cannot fix (bad parameters, a missing handler). */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface EngineOptions {
  mode: 'embedded' | 'standalone';
  concurrency: number;
  leaseMs: number;
  version: string;
  log: EngineLog;
  clock?: () => number;
  /** How long a handler gets to wind down after an abort before its attempt is settled anyway. */
  abortGraceMs?: number;
  /** What this process can do; kinds needing anything else are never claimed here. */
  capabilities: readonly Capability[];
  /** Hears jobs settle in other processes (PostgreSQL); without it, only this process's settles wake waiters. */
  feed?: SettleFeed;
}

interface Running {
  controller: AbortController;
  attempt: number;
  logs: Array<Omit<JobLogsTable, 'seq' | 'job_id'>>;
  progress: string | null | undefined;
  /** Flushes of one job run one after another: concurrent ones would number their lines alike. */
  flushing: Promise<void>;
}

const MAX_LINE = 8192;
const MAX_RESULT = 1_000_000;
/** How often a waiter looks at its job anyway, in case a settle notice was lost (a dropped connection). */
const WAIT_RECHECK_MS = 5000;

/**
 * Runs jobs: claims a dispatched row, keeps its lease alive, streams its logs, and settles it
 * (succeeded, retried with backoff, failed, cancelled). Leases that lapse are reaped by whichever
 * engine notices first, so a killed worker's job is retried or failed by its policy.
 */
export class JobEngine {
  readonly workerId: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Map<string, Running>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly clock: () => number;
  private readonly startedAt: number;
  private timers: NodeJS.Timeout[] = [];
  private working = false;
  private readonly settled = new Set<(job: JobRow) => void>();
  /** waitFor calls by job id, each woken when that job may have reached a final status. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly capabilities: ReadonlySet<Capability>;

  constructor(
    private readonly store: JobsStore,
    readonly dispatcher: Dispatcher,
    private readonly options: EngineOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    this.workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.capabilities = new Set(options.capabilities);
    options.feed?.subscribe((id) => this.wakeWaiters(id));
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /** Prepares the dispatcher (graphile-worker's schema on PostgreSQL). */
  init(): Promise<void> {
    return this.dispatcher.init();
  }

  /** Sets the code that runs jobs of a kind here; it receives the payload its catalog entry declares. */
  register<K extends string>(kind: K, handler: JobHandler<K>): void {
    if (this.handlers.has(kind)) throw new Error(`job kind ${kind} registered twice`);
    this.handlers.set(kind, handler as unknown as JobHandler);
  }

  /** Whether this process may run a kind: it has what the kind needs. */
  private canRun(kind: string): boolean {
    const needs = definitionOf(kind)?.needs;
    return needs === undefined || this.capabilities.has(needs);
  }

  /** Called with every job that reaches a final status in this process (for waiters and live views). */
  onSettled(listener: (job: JobRow) => void): () => void {
    this.settled.add(listener);
    return () => this.settled.delete(listener);
  }

  /**
   * Queues a job. Pass the caller's transaction to make the job part of its commit (a webhook
   * delivery exists exactly when the event does); then call `wake()` after the commit.
   * Returns undefined when the dedupe key was taken.
   */
  async enqueue<K extends string>(typed: JobSpec<K>, trx?: Transaction<Database>): Promise<JobRow | undefined> {
    const spec = typed as JobSpec;
    const def = definitionOf(spec.kind);
    const checked = parsePayload(spec.kind, spec.params ?? {});
    if (!checked.ok) throw new AppError('INTERNAL', `A ${spec.kind} job was queued with bad parameters (${checked.message}); this is a bug in Forja.`);
    const now = this.clock();
    const row: JobRow = {
      id: newId(),
      group_id: spec.groupId,
      kind: spec.kind,
      queue: spec.queue ?? 'default',
      status: 'queued',
      params: JSON.stringify(spec.params ?? {}),
      result: null,
      error: null,
      priority: spec.priority ?? 0,
      attempt: 0,
      max_attempts: def?.maxAttempts ?? spec.maxAttempts ?? 1,
      backoff_ms: spec.backoffMs ?? def?.backoffMs ?? 10_000,
      timeout_ms: spec.timeoutMs ?? def?.timeoutMs ?? 3600_000,
      token: newToken(),
      run_at: spec.runAt ?? now,
      lease_owner: null,
      lease_expires_at: null,
      heartbeat_at: null,
      dispatch_ref: null,
      cancel_requested: 0,
      dedupe_key: spec.dedupeKey ?? null,
      progress: null,
      created_by: spec.createdBy ?? null,
      created_at: now,
      started_at: null,
      finished_at: null,
    };
    const insert = async (t: Transaction<Database>) => {
      if (!(await this.store.insert(row, t))) return false;
      await this.dispatcher.enqueue(t, { id: row.id, token: row.token, runAt: row.run_at, priority: row.priority, needs: def?.needs });
      return true;
    };
    const inserted = trx ? await insert(trx) : await this.store.db.transaction(insert);
    if (!inserted) return undefined;
    if (!trx) this.wake();
    return row;
  }

  wake(): void {
    this.dispatcher.wake();
  }

  /**
   * Cancels a queued job at once, or asks a running one to stop (its worker kills it within a
   * heartbeat). `by` names who asked, in the job's log.
   */
  async cancel(id: string, by?: { name: string; attempt: number }): Promise<JobRow | undefined> {
    if (by) await this.store.appendLogs([{ attempt: by.attempt, ts: this.clock(), stream: 'system', line: `Cancel requested by ${by.name}.` }], id);
    // A job can move between queued and running while we look (a deferred or retried attempt):
    // try both until one takes or the job has ended.
    for (let i = 0; i < 10; i++) {
      if (await this.store.cancelQueued(id, this.clock())) {
        await this.store.announceSettled(id);
        this.wakeWaiters(id);
        break;
      }
      if (await this.store.requestCancel(id)) {
        this.running.get(id)?.controller.abort(new JobAbort('cancelled', 'Cancelled while running.'));
        break;
      }
      const row = await this.store.get(id);
      if (!row || row.status === 'succeeded' || row.status === 'failed' || row.status === 'cancelled') break;
    }
    return this.store.get(id);
  }

  get(id: string): Promise<JobRow | undefined> {
    return this.store.get(id);
  }

  list(filter: JobFilter): Promise<JobRow[]> {
    return this.store.list(filter);
  }

  /** A job's log lines after a sequence number. */
  logs(id: string, after: number, limit: number) {
    return this.store.logs(id, after, limit);
  }

  /** Every group's jobs queued and running now, and those that failed since a time. */
  depth(failedSince: number) {
    return this.store.depth(failedSince);
  }

  /** Workers seen since a time, newest first. */
  workers(since: number): Promise<WorkerRow[]> {
    return this.store.workers(since);
  }

  /**
   * The job once it has reached a final status, or as it is when timeoutMs has passed; undefined
   * for no such job. Woken by settles in this process and, on PostgreSQL, by other processes'
   * notices; it looks again every few seconds in case a notice was lost. Rejects with the signal's
   * reason when aborted.
   */
  async waitFor(id: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<JobRow | undefined> {
    const { signal, timeoutMs } = options;
    signal?.throwIfAborted();
    const deadline = timeoutMs === undefined ? Infinity : this.clock() + timeoutMs;
    let wake = () => {};
    const waiter = () => wake();
    const waiting = this.waiters.get(id) ?? new Set();
    this.waiters.set(id, waiting.add(waiter));
    try {
      for (;;) {
        // Armed before looking, so a settle between the look and the wait is not missed.
        const woken = new Promise<void>((resolve) => (wake = resolve));
        await this.options.feed?.listen();
        const row = await this.store.get(id);
        if (!row || TERMINAL_JOB_STATUSES.includes(row.status) || this.clock() >= deadline) return row;
        await until(woken, Math.min(WAIT_RECHECK_MS, deadline - this.clock()), signal);
      }
    } finally {
      waiting.delete(waiter);
      if (waiting.size === 0) this.waiters.delete(id);
    }
  }

  private wakeWaiters(id: string): void {
    for (const w of this.waiters.get(id) ?? []) w();
  }

  /** Starts taking jobs in this process, with heartbeats, the lease reaper and the worker's row. */
  async start(): Promise<void> {
    if (this.working) return;
    this.working = true;
    if (this.options.mode === 'embedded' && this.store.singleProcess) {
      // Nothing else can hold a lease on an embedded SQLite database: these are orphans of the last run.
      await this.store.expireAllLeases();
      await this.reap();
    }
    await this.beat();
    await this.dispatcher.start(this.options.concurrency, (d) => {
      const run = this.execute(d).finally(() => this.inflight.delete(run));
      this.inflight.add(run);
      return run;
    });
    const heartbeatMs = Math.max(200, Math.min(5000, this.options.leaseMs / 5));
    this.timers.push(setInterval(() => void this.beat(), heartbeatMs).unref());
    this.timers.push(setInterval(() => void this.reap(), Math.max(250, this.options.leaseMs / 2)).unref());
  }

  /** Stops taking jobs; running ones are stopped and queued again without spending an attempt. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.working) {
      for (const r of this.running.values()) r.controller.abort(new JobAbort('shutdown', 'The worker is shutting down.'));
    }
    await this.dispatcher.stop();
    // Aborted jobs settle (back to the queue) before the database closes under them.
    await Promise.all([...this.inflight]);
    await this.options.feed?.close();
    if (this.working) {
      this.working = false;
      await this.beat(true).catch(() => undefined);
    }
  }

  get runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  /** Heartbeats every running job, flushes their logs and refreshes this worker's row. */
  private async beat(stopping = false): Promise<void> {
    const now = this.clock();
    try {
      await Promise.all(
        [...this.running.entries()].map(async ([id, r]) => {
          await this.flush(id, r);
          const hb = await this.store.heartbeat(id, this.workerId, r.attempt, now, this.options.leaseMs, r.progress);
          r.progress = undefined;
          if (!hb) r.controller.abort(new JobAbort('lease-lost', 'Another worker took this job over after its lease ran out.'));
          else if (hb.cancelRequested) r.controller.abort(new JobAbort('cancelled', 'Cancelled while running.'));
        }),
      );
      await this.store.upsertWorker({
        id: this.workerId,
        host: hostname(),
        pid: process.pid,
        mode: this.options.mode,
        concurrency: this.options.concurrency,
        version: this.options.version,
        running: JSON.stringify([...this.running.keys()]),
        started_at: this.startedAt,
        last_seen_at: now,
        stopped_at: stopping ? now : null,
      });
    } catch (err) {
      if (!stopping) this.options.log.warn(`job heartbeat failed: ${(err as Error).message}`);
    }
  }

  /** Takes over jobs whose worker stopped heartbeating: retry by policy, or fail. */
  async reap(): Promise<number> {
    let count = 0;
    try {
      const now = this.clock();
      for (const job of await this.store.expired(now)) {
        const message = `Worker ${job.lease_owner ?? '?'} stopped heartbeating (lease expired) during attempt ${job.attempt}.`;
        if (await this.finishAttempt(job, null, { kind: 'error', message, retryable: true }, message)) {
          count++;
          if (job.dispatch_ref) await this.dispatcher.release(job.dispatch_ref).catch(() => undefined);
        }
      }
    } catch (err) {
      this.options.log.warn(`job reaper failed: ${(err as Error).message}`);
    }
    return count;
  }

  private async execute(d: Dispatch): Promise<void> {
    const now = this.clock();
    let job: JobRow | undefined;
    try {
      job = await this.store.claim(d.jobId, d.token, this.workerId, now, this.options.leaseMs, d.ref);
    } catch (err) {
      this.options.log.warn(`claiming job ${d.jobId} failed: ${(err as Error).message}`);
      return;
    }
    if (!job) return;
    if (!this.canRun(job.kind)) {
      // Only a dispatch made before its kind needed a capability lands here: back to the queue,
      // no attempt spent, dispatched again to workers that have it.
      await this.finishAttempt(job, this.workerId, { kind: 'requeue' }).catch((err: unknown) =>
        this.options.log.error(`requeuing job ${job.id} failed: ${(err as Error).message}`),
      );
      return;
    }
    const r: Running = { controller: new AbortController(), attempt: job.attempt, logs: [], progress: undefined, flushing: Promise.resolve() };
    this.running.set(job.id, r);
    const timeout = setTimeout(
      () => r.controller.abort(new JobAbort('timeout', `Timed out after ${formatMs(job.timeout_ms)}; its process tree was killed.`)),
      job.timeout_ms,
    );
    const log = (line: string, stream: JobLogsTable['stream'] = 'stdout') => {
      r.logs.push({ attempt: r.attempt, ts: this.clock(), stream, line: line.length > MAX_LINE ? line.slice(0, MAX_LINE) + '…' : line });
      if (r.logs.length >= 500) this.flush(job.id, r).catch(() => undefined);
    };
    if (job.attempt > 1) log(`Attempt ${job.attempt} of ${job.max_attempts}.`, 'system');
    let outcome: Outcome;
    try {
      const handler = this.handlers.get(job.kind);
      if (!handler) throw new PermanentJobError(`No worker here knows jobs of kind "${job.kind}".`);
      const ctx: JobContext = {
        job: {
          id: job.id,
          kind: job.kind,
          group_id: job.group_id,
          attempt: job.attempt,
          max_attempts: job.max_attempts,
          created_by: job.created_by,
          timeout_ms: job.timeout_ms,
          params: payloadOf(job),
        },
        signal: r.controller.signal,
        log,
        progress: (value) => {
          r.progress = JSON.stringify(value);
        },
      };
      const result = await untilAborted(handler(ctx), r.controller.signal, this.options.abortGraceMs ?? 10_000);
      outcome = r.controller.signal.aborted ? abortOutcome(r.controller.signal.reason) : { kind: 'ok', result };
    } catch (err) {
      outcome = r.controller.signal.aborted
        ? abortOutcome(r.controller.signal.reason)
        : err instanceof DeferJob
          ? { kind: 'requeue', delayMs: err.delayMs }
          : { kind: 'error', message: (err as Error)?.message || String(err), retryable: !(err instanceof PermanentJobError) };
    } finally {
      clearTimeout(timeout);
    }
    if (outcome.kind === 'error') log(outcome.message, 'system');
    await this.flush(job.id, r).catch(() => undefined);
    this.running.delete(job.id);
    if (outcome.kind === 'lost') return;
    try {
      await this.finishAttempt(job, this.workerId, outcome, undefined, r.progress ?? undefined);
    } catch (err) {
      this.options.log.error(`settling job ${job.id} failed: ${(err as Error).message}`);
    }
  }

  /** Settles one attempt; false when the row had already moved on (someone else settled it). */
  private async finishAttempt(
    job: JobRow,
    owner: string | null,
    outcome: Exclude<Outcome, { kind: 'lost' }>,
    note?: string,
    progress?: string,
  ): Promise<boolean> {
    const now = this.clock();
    // The note lands with the state change, so it precedes anything the next attempt logs.
    const writeNote = (trx: Transaction<Database>) =>
      note ? this.store.appendLogs([{ attempt: job.attempt, ts: now, stream: 'system', line: note }], job.id, trx) : Promise.resolve();
    if (outcome.kind === 'requeue' || (outcome.kind === 'error' && outcome.retryable && job.attempt < job.max_attempts)) {
      const token = newToken();
      const runAt = outcome.kind === 'requeue' ? now + (outcome.delayMs ?? 0) : now + backoff(job.backoff_ms, job.attempt);
      let cancelled = false;
      const ok = await this.store.db.transaction(async (trx) => {
        const moved = await this.store.settle(
          job.id,
          owner,
          job.attempt,
          { status: 'queued', token, run_at: runAt, error: outcome.kind === 'error' ? outcome.message : null },
          trx,
        );
        if (!moved) return false;
        if (outcome.kind === 'requeue') await this.store.refundAttempt(job.id, job.attempt, trx);
        await writeNote(trx);
        // A cancel that arrived during this attempt ends the job here instead of queuing it again.
        if (moved.cancel_requested === 1) {
          await this.store.cancelRequeued(job.id, now, trx);
          await this.store.announceSettled(job.id, trx);
          cancelled = true;
          return true;
        }
        await this.dispatcher.enqueue(trx, { id: job.id, token, runAt, priority: job.priority, needs: definitionOf(job.kind)?.needs });
        return true;
      });
      if (cancelled) this.wakeWaiters(job.id);
      if (ok) this.wake();
      return ok;
    }
    const ended =
      outcome.kind === 'ok'
        ? { status: 'succeeded' as const, result: resultJson(outcome.result) }
        : outcome.kind === 'cancelled'
          ? { status: 'cancelled' as const, error: outcome.message }
          : { status: 'failed' as const, error: outcome.message };
    // The last progress reported since the final heartbeat lands with the outcome.
    const change = progress === undefined ? ended : { ...ended, progress };
    // One statement when there is no note to write with it: the common path costs one round trip.
    const final = note
      ? await this.store.db.transaction(async (trx) => {
          const moved = await this.store.settle(job.id, owner, job.attempt, { ...change, finished_at: now }, trx);
          if (moved) await writeNote(trx);
          return moved;
        })
      : await this.store.settle(job.id, owner, job.attempt, { ...change, finished_at: now });
    if (final) {
      for (const l of this.settled) l(final);
      this.wakeWaiters(final.id);
    }
    return final !== undefined;
  }

  private flush(id: string, r: Running): Promise<void> {
    const next = r.flushing
      .catch(() => undefined)
      .then(async () => {
        if (r.logs.length === 0) return;
        const lines = r.logs.splice(0, r.logs.length);
        try {
          await this.store.appendLogs(lines, id);
        } catch (err) {
          // Kept for the next flush rather than lost.
          r.logs.unshift(...lines);
          throw err;
        }
      });
    r.flushing = next;
    return next;
  }
}

type Outcome =
  | { kind: 'ok'; result: unknown }
  | { kind: 'error'; message: string; retryable: boolean }
  | { kind: 'cancelled'; message: string }
  | { kind: 'requeue'; delayMs?: number }
  | { kind: 'lost' };

function abortOutcome(reason: unknown): Outcome {
  if (!(reason instanceof JobAbort)) return { kind: 'error', message: String(reason), retryable: true };
  switch (reason.reason) {
    case 'cancelled':
      return { kind: 'cancelled', message: reason.message };
    case 'shutdown':
      return { kind: 'requeue' };
    case 'lease-lost':
      return { kind: 'lost' };
    case 'timeout':
      return { kind: 'error', message: reason.message, retryable: true };
  }
}

/** The payload its kind declares; one that does not parse can never run, so the job fails for good. */
function payloadOf(job: JobRow): Record<string, unknown> {
  try {
    return readPayload(job.kind, job.params);
  } catch (err) {
    throw new PermanentJobError((err as Error).message);
  }
}

/** Resolves when woken or after ms; rejects with the signal's reason when it aborts first. */
function until(woken: Promise<void>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal!.reason);
    };
    const timer = setTimeout(
      () => {
        done();
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    void woken.then(() => {
      done();
      resolve();
    });
  });
}

/** Waits for the handler, but no longer than the grace period once the job has been aborted. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const onAbort = new Promise<never>((_, reject) => {
    const arm = () => {
      timer = setTimeout(() => reject(signal.reason), graceMs);
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true });
  });
  try {
    return await Promise.race([work, onAbort]);
  } finally {
    clearTimeout(timer);
  }
}

function backoff(baseMs: number, attempt: number): number {
  const delay = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3600_000);
  return Math.round(delay * (0.9 + Math.random() * 0.2));
}

function resultJson(result: unknown): string | null {
  if (result === undefined) return null;
  const text = JSON.stringify(result);
  return text.length > MAX_RESULT ? JSON.stringify({ truncated: true, size: text.length }) : text;
}

function newToken(): string {
  return randomBytes(12).toString('hex');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
