import { sql } from 'kysely';
import pg from 'pg';
import { Logger, makeWorkerUtils, run, runMigrations, type Runner, type Task, type WorkerUtils } from 'graphile-worker';
import type { Capability } from './catalog.js';
import type { Dispatch, Dispatcher } from './dispatch.js';
import type { Executor } from './store.js';

/** Jobs any worker runs; a job that needs a capability goes to the task of that name, which only workers with it register. */
const TASK = 'forja_job';
const taskFor = (needs: Capability | undefined) => (needs ? `${TASK}:${needs}` : TASK);

export interface EngineLog {
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * The PostgreSQL dispatcher: graphile-worker delivers "look at job X" to one of many worker
 * processes (LISTEN/NOTIFY plus SKIP LOCKED). Each dispatch is a graphile job with one attempt;
 * retries, leases and cancellation stay with the job row, the same in both modes.
 */
export class GraphileDispatcher implements Dispatcher {
  readonly name = 'graphile-worker';
  private runner: Runner | undefined;
  private utils: WorkerUtils | undefined;
  private readonly pool: pg.Pool;
  private readonly logger: Logger;

  /** poolSize: the worker concurrency plus room for LISTEN and housekeeping. */
  constructor(
    connectionString: string,
    log: EngineLog,
    poolSize: number,
    private readonly capabilities: readonly Capability[],
  ) {
    this.pool = new pg.Pool({ connectionString, max: poolSize });
    // A dropped connection must not crash the worker; graphile-worker reconnects.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.logger = new Logger(() => (level, message) => {
      if (level === 'error') log.error(`graphile-worker: ${message}`);
      else if (level === 'warning') log.warn(`graphile-worker: ${message}`);
    });
  }

  /** Creates graphile-worker's schema; every process that queues jobs needs it, even without workers. */
  async init(): Promise<void> {
    await runMigrations({ pgPool: this.pool, logger: this.logger });
  }

  async enqueue(trx: Executor, job: { id: string; token: string; runAt: number; priority: number; needs?: Capability }): Promise<void> {
    // In the caller's transaction: the dispatch exists exactly when the queued row commits.
    await sql`select graphile_worker.add_job(${taskFor(job.needs)}, json_build_object('id', ${job.id}::text, 'token', ${job.token}::text),
      run_at => to_timestamp(${job.runAt}::float8 / 1000), max_attempts => 1, priority => ${-job.priority}::int)`.execute(trx);
  }

  wake(): void {
    // add_job NOTIFYs every listening worker on commit.
  }

  async start(concurrency: number, runJob: (d: Dispatch) => Promise<void>): Promise<void> {
    const task: Task = async (payload, helpers) => {
      const p = payload as { id?: unknown; token?: unknown };
      if (typeof p.id !== 'string' || typeof p.token !== 'string') return;
      await runJob({ jobId: p.id, token: p.token, ref: `${helpers.job.id}:${helpers.job.locked_by ?? ''}` });
    };
    // graphile-worker hands a worker only the tasks it registered: a job needing what this worker lacks stays for another.
    const taskList = Object.fromEntries([undefined, ...this.capabilities].map((c) => [taskFor(c), task]));
    this.runner = await run({
      pgPool: this.pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: this.logger,
      taskList,
    });
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
    await this.utils?.release();
    this.utils = undefined;
    await this.pool.end();
  }

  async release(ref: string): Promise<void> {
    const [jobId, lockedBy] = ref.split(':');
    if (!jobId) return;
    this.utils ??= await makeWorkerUtils({ pgPool: this.pool, logger: this.logger });
    // Only called once the worker holding the lock has stopped heartbeating.
    if (lockedBy) await this.utils.forceUnlockWorkers([lockedBy]);
    await this.utils.completeJobs([jobId]);
  }
}
