import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';

export type PipelineRow = Selectable<Database['pipelines']>;
export type RunRow = Selectable<Database['pipeline_runs']>;
export type StepRow = Selectable<Database['pipeline_steps']>;
/** The step statuses whose outputs later steps (and runs started from a step) may use. */
export const DONE_OK: StepRow['status'][] = ['succeeded', 'reused'];

/**
 * One run's rows inside a transaction that holds the run: everything written through it commits
 * together, and no other holder of the same run runs in between (two steps ending together see
 * each other's end, so one of them ends the run).
 */
export interface LockedRun {
  readonly runId: string;
  /** The transaction, for work of other domains that must commit with the run (queuing a step's job). */
  readonly trx: Transaction<Database>;
  run(): Promise<RunRow | undefined>;
  steps(): Promise<StepRow[]>;
  /** Records a step's end; false when the step was no longer waiting on that job (already settled). */
  settleStep(stepId: string, jobId: string, end: Pick<StepRow, 'status' | 'outputs' | 'error' | 'finished_at'>): Promise<boolean>;
  skipStep(stepId: string, error: string, at: number): Promise<void>;
  /** Moves a pending step to queued; false when another advance claimed it first. */
  claimStep(stepId: string): Promise<boolean>;
  setStepJob(stepId: string, jobId: string): Promise<void>;
  /** Ends a running run; a run already ended (cancelled meanwhile) is left as it is. */
  finish(status: 'succeeded' | 'failed', at: number): Promise<void>;
  /** Makes the failed, skipped and cancelled steps pending again and the run running. */
  reopen(): Promise<void>;
}

/** The pipelines domain's tables: pipelines, pipeline_runs and pipeline_steps. */
export class PipelinesStore {
  constructor(private readonly db: Db) {}

  private get k() {
    return this.db.kysely;
  }

  /** The names of runs' pipelines by run id (one query), for lists of jobs. */
  async pipelineNamesOfRuns(runIds: string[]): Promise<Map<string, string>> {
    if (runIds.length === 0) return new Map();
    const rows = await this.k
      .selectFrom('pipeline_runs')
      .innerJoin('pipelines', 'pipelines.id', 'pipeline_runs.pipeline_id')
      .select(['pipeline_runs.id as id', 'pipelines.name as name'])
      .where('pipeline_runs.id', 'in', runIds)
      .execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  find(groupId: string, name: string): Promise<PipelineRow | undefined> {
    return this.k.selectFrom('pipelines').selectAll().where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst();
  }

  list(groupId: string): Promise<PipelineRow[]> {
    return this.k.selectFrom('pipelines').selectAll().where('group_id', '=', groupId).orderBy('name').execute();
  }

  async nameOf(pipelineId: string): Promise<string> {
    return (await this.k.selectFrom('pipelines').select(['id', 'name']).where('id', '=', pipelineId).executeTakeFirstOrThrow()).name;
  }

  async insert(row: PipelineRow): Promise<void> {
    await this.k.insertInto('pipelines').values(row).execute();
  }

  /** A new version over `fromVersion`: nothing changes when someone else's upload moved it first. */
  async addVersion(id: string, fromVersion: number, set: Pick<PipelineRow, 'version' | 'definition' | 'steps' | 'files' | 'updated_at'>): Promise<void> {
    await this.k.updateTable('pipelines').set(set).where('id', '=', id).where('version', '=', fromVersion).execute();
  }

  /** A run, only within the group when one is given. */
  getRun(runId: string, groupId?: string): Promise<RunRow | undefined> {
    let q = this.k.selectFrom('pipeline_runs').selectAll().where('id', '=', runId);
    if (groupId !== undefined) q = q.where('group_id', '=', groupId);
    return q.executeTakeFirst();
  }

  async runIds(pipelineId: string, limit: number): Promise<string[]> {
    const rows = await this.k
      .selectFrom('pipeline_runs')
      .select('id')
      .where('pipeline_id', '=', pipelineId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The running runs, oldest first. */
  async runningRunIds(limit: number): Promise<string[]> {
    const rows = await this.k.selectFrom('pipeline_runs').select('id').where('status', '=', 'running').orderBy('created_at').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  steps(runId: string): Promise<StepRow[]> {
    return this.k.selectFrom('pipeline_steps').selectAll().where('run_id', '=', runId).execute();
  }

  /** The outputs of the run's steps that succeeded or were reused. */
  doneOutputs(runId: string): Promise<Pick<StepRow, 'step_id' | 'outputs'>[]> {
    return this.k.selectFrom('pipeline_steps').select(['step_id', 'outputs']).where('run_id', '=', runId).where('status', 'in', DONE_OK).execute();
  }

  /** The outputs of the given steps in the pipeline's newest run where each succeeded. */
  async lastOutputs(pipelineId: string, stepIds: string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    if (stepIds.length === 0) return out;
    const rows = await this.k
      .selectFrom('pipeline_steps')
      .innerJoin('pipeline_runs', 'pipeline_runs.id', 'pipeline_steps.run_id')
      .select(['pipeline_steps.step_id', 'pipeline_steps.outputs'])
      .where('pipeline_runs.pipeline_id', '=', pipelineId)
      .where('pipeline_steps.step_id', 'in', stepIds)
      .where('pipeline_steps.status', 'in', DONE_OK)
      .orderBy('pipeline_runs.created_at', 'desc')
      .execute();
    for (const r of rows) if (!out.has(r.step_id)) out.set(r.step_id, r.outputs);
    return out;
  }

  /** A queued step's job started. */
  async startStep(runId: string, stepId: string, at: number | null): Promise<void> {
    await this.k
      .updateTable('pipeline_steps')
      .set({ status: 'running', started_at: at })
      .where('run_id', '=', runId)
      .where('step_id', '=', stepId)
      .where('status', '=', 'queued')
      .execute();
  }

  /** Cancels a running run and its pending steps (queued and running ones end with their jobs). */
  async cancelRun(runId: string, at: number): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.updateTable('pipeline_runs').set({ status: 'cancelled', finished_at: at }).where('id', '=', runId).where('status', '=', 'running').execute();
      await trx
        .updateTable('pipeline_steps')
        .set({ status: 'cancelled', finished_at: at })
        .where('run_id', '=', runId)
        .where('status', '=', 'pending')
        .execute();
    });
  }

  /** Inserts a run and its steps, then hands the new run to `fn` in the same transaction. */
  createRun<T>(run: RunRow, steps: StepRow[], fn: (locked: LockedRun) => Promise<T>): Promise<T> {
    return this.db.transaction(async (trx) => {
      await trx.insertInto('pipeline_runs').values(run).execute();
      for (const s of steps) await trx.insertInto('pipeline_steps').values(s).execute();
      return this.holding(trx, run.id, fn);
    });
  }

  /** Runs `fn` in a transaction holding the run (see LockedRun). */
  withLockedRun<T>(runId: string, fn: (locked: LockedRun) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => this.holding(trx, runId, fn));
  }

  private async holding<T>(trx: Transaction<Database>, runId: string, fn: (locked: LockedRun) => Promise<T>): Promise<T> {
    // PostgreSQL: the run row's lock, held to the commit. SQLite: one connection runs one
    // transaction at a time, so holding the transaction is holding the run.
    if (this.db.dialect === 'postgres') await trx.selectFrom('pipeline_runs').select('id').where('id', '=', runId).forUpdate().execute();
    const step = (stepId: string) => trx.updateTable('pipeline_steps').where('run_id', '=', runId).where('step_id', '=', stepId);
    return fn({
      runId,
      trx,
      run: () => trx.selectFrom('pipeline_runs').selectAll().where('id', '=', runId).executeTakeFirst(),
      steps: () => trx.selectFrom('pipeline_steps').selectAll().where('run_id', '=', runId).execute(),
      settleStep: async (stepId, jobId, end) => {
        const moved = await step(stepId).set(end).where('job_id', '=', jobId).where('status', 'in', ['queued', 'running']).executeTakeFirst();
        return Number(moved.numUpdatedRows) > 0;
      },
      skipStep: async (stepId, error, at) => {
        await step(stepId).set({ status: 'skipped', error, finished_at: at }).where('status', '=', 'pending').execute();
      },
      claimStep: async (stepId) => {
        const claimed = await step(stepId).set({ status: 'queued' }).where('status', '=', 'pending').executeTakeFirst();
        return Number(claimed.numUpdatedRows) > 0;
      },
      setStepJob: async (stepId, jobId) => {
        await step(stepId).set({ job_id: jobId }).execute();
      },
      finish: async (status, at) => {
        await trx.updateTable('pipeline_runs').set({ status, finished_at: at }).where('id', '=', runId).where('status', '=', 'running').execute();
      },
      reopen: async () => {
        await trx
          .updateTable('pipeline_steps')
          .set({ status: 'pending', job_id: null, outputs: null, error: null, started_at: null, finished_at: null })
          .where('run_id', '=', runId)
          .where('status', 'in', ['failed', 'skipped', 'cancelled'])
          .execute();
        await trx.updateTable('pipeline_runs').set({ status: 'running', finished_at: null }).where('id', '=', runId).execute();
      },
    });
  }
}
