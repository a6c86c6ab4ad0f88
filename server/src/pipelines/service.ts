import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineRunCreateSchema, type Pipeline, type PipelineRun, type PipelineRunCreate } from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupsService } from '../auth/groups-service.js';
import { systemContext, type GroupScope, type RequestContext } from '../auth/principal.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import type { StagedUpload } from '../http/multipart.js';
import { conflict, invalid, notFound } from '../errors.js';
import { readPayload, type JobKind } from '../jobs/catalog.js';
import { PermanentJobError, type JobEngine, type JobHandler } from '../jobs/engine.js';
import type { JobRow } from '../jobs/store.js';
import { runAction, type ActionDeps } from './actions.js';
import { downstreamOf, parseDefinition, resolve, topologicalOrder, type PipelineDef } from './definition.js';
import { DONE_OK, type LockedRun, type PipelineRow, type PipelinesStore, type RunRow, type StepRow } from './store.js';

export const PIPELINE_STEP_KIND = 'pipeline.step' satisfies JobKind;
const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const ACTIVE: StepRow['status'][] = ['pending', 'queued', 'running'];

/** What PipelinesService works with: its store, the job engine, and the services platform actions call. */
export interface PipelinesServiceDeps extends ActionDeps {
  store: PipelinesStore;
  /** Names the group a step acts in (a run holds only its id). */
  groups: GroupsService;
  audit: AuditLog;
  /** Where pipeline versions' files and steps' work folders live. */
  root: string;
  clock?: () => number;
}

/**
 * Pipelines: a DAG of steps (scripts and platform actions) run as jobs, one job a step. A step's
 * job settling advances its run: what now has all it needs is queued, what needed a failed step is
 * skipped, and the run ends when nothing is left to do.
 */
export class PipelinesService {
  private reconciler: NodeJS.Timeout | undefined;
  private readonly store: PipelinesStore;
  private readonly engine: JobEngine;
  private readonly audit: AuditLog;
  private readonly clock: () => number;
  readonly root: string;

  constructor(private readonly deps: PipelinesServiceDeps) {
    this.store = deps.store;
    this.engine = deps.engine;
    this.audit = deps.audit;
    this.root = deps.root;
    this.clock = deps.clock ?? Date.now;
    this.engine.onSettled((job) => {
      if (job.kind === PIPELINE_STEP_KIND) void this.settleStep(job).catch(() => undefined);
    });
  }

  private versionDir(pipelineId: string, version: number): string {
    return path.join(this.root, pipelineId, `v${version}`);
  }

  /** Creates a pipeline or adds a version: the definition and the files it names, checked first. */
  async upload(ctx: RequestContext, scope: GroupScope, name: string, staged: StagedUpload, staging: string): Promise<Pipeline> {
    requireScopeRole(scope, 'editor');
    if (!NAME.test(name)) throw invalid(`Bad pipeline name "${name.slice(0, 100)}": lowercase letters, digits, ".", "_" and "-".`);
    const defFile = staged.files.find((f) => f.role === 'definition');
    if (!defFile) throw invalid('Send the pipeline file (YAML) as the "definition" field.');
    const text = await readFile(defFile.path, 'utf8');
    const files = staged.files.filter((f) => f.role === 'file').map((f) => f.name);
    const def = parseDefinition(text, files);
    const now = this.clock();
    const existing = await this.store.find(scope.id, name);
    const id = existing?.id ?? newId();
    const version = (existing?.version ?? 0) + 1;
    const dir = this.versionDir(id, version);
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(staging, dir);
    await writeFile(path.join(dir, '.forja-pipeline.json'), JSON.stringify(def));
    const steps = JSON.stringify(def.steps.map((s) => ({ id: s.id, action: s.action, needs: s.needs })));
    try {
      if (existing) await this.store.addVersion(id, existing.version, { version, definition: text, steps, files: JSON.stringify(files), updated_at: now });
      else
        await this.store.insert({
          id,
          group_id: scope.id,
          name,
          version,
          definition: text,
          steps,
          files: JSON.stringify(files),
          created_by: ctx.principal.name,
          created_at: now,
          updated_at: now,
        });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`Pipeline ${name} was uploaded by someone else at the same moment; upload again.`);
      throw err;
    }
    await this.audit.record(ctx, { action: 'pipeline.upload', resourceType: 'pipeline', resourceId: name, groupId: scope.id, details: { version } });
    return this.get(scope, name);
  }

  async list(scope: GroupScope): Promise<Pipeline[]> {
    requireScopeRole(scope, 'viewer');
    const rows = await this.store.list(scope.id);
    return rows.map((r) => present(r, scope.name));
  }

  async get(scope: GroupScope, name: string): Promise<Pipeline> {
    requireScopeRole(scope, 'viewer');
    return present(await this.require(scope, name), scope.name);
  }

  private async require(scope: GroupScope, name: string): Promise<PipelineRow> {
    const row = await this.store.find(scope.id, name);
    if (!row) throw notFound('Pipeline', name);
    return row;
  }

  private async definition(pipelineId: string, version: number): Promise<PipelineDef> {
    return JSON.parse(await readFile(path.join(this.versionDir(pipelineId, version), '.forja-pipeline.json'), 'utf8')) as PipelineDef;
  }

  async start(ctx: RequestContext, scope: GroupScope, name: string, input: PipelineRunCreate): Promise<PipelineRun> {
    requireScopeRole(scope, 'editor');
    const body = PipelineRunCreateSchema.parse(input);
    const p = await this.require(scope, name);
    const def = await this.definition(p.id, p.version);
    const unknown = Object.keys(body.params).filter((k) => !(k in def.params));
    if (unknown.length) throw invalid(`Unknown params ${unknown.join(', ')}: the pipeline declares ${Object.keys(def.params).join(', ') || 'none'}.`);
    let reused = new Map<string, string | null>();
    if (body.fromStep) {
      if (!def.steps.some((s) => s.id === body.fromStep))
        throw invalid(`No step "${body.fromStep}" in pipeline ${name} (it has ${def.steps.map((s) => s.id).join(', ')}).`);
      const again = downstreamOf(def.steps, body.fromStep);
      const keep = def.steps.filter((s) => !again.has(s.id)).map((s) => s.id);
      reused = await this.store.lastOutputs(p.id, keep);
      const missing = keep.filter((id) => !reused.has(id));
      if (missing.length)
        throw invalid(
          `Starting from "${body.fromStep}" needs the outputs of ${missing.join(', ')} from an earlier run, and no run of ${name} has them succeeded.`,
        );
    }
    const id = newId();
    const now = this.clock();
    await this.store.createRun(
      {
        id,
        pipeline_id: p.id,
        group_id: scope.id,
        pipeline_version: p.version,
        status: 'running',
        params: JSON.stringify({ ...def.params, ...body.params }),
        from_step: body.fromStep ?? null,
        created_by: ctx.principal.name,
        created_at: now,
        finished_at: null,
      },
      def.steps.map((s) => ({
        run_id: id,
        step_id: s.id,
        status: reused.has(s.id) ? 'reused' : 'pending',
        job_id: null,
        outputs: reused.get(s.id) ?? null,
        error: null,
        started_at: null,
        finished_at: null,
      })),
      (locked) => this.advance(locked),
    );
    this.engine.wake();
    await this.audit.record(ctx, {
      action: 'pipeline.run',
      resourceType: 'pipeline',
      resourceId: name,
      groupId: scope.id,
      details: { runId: id, fromStep: body.fromStep ?? null },
    });
    return this.run(scope, id);
  }

  /** Queues what is ready, skips what can no longer run, and ends the run when nothing is left. */
  private async advance(locked: LockedRun): Promise<void> {
    // The run is held (one advance of a run at a time): two steps ending together must not both miss the run's end.
    const { runId, trx } = locked;
    const run = await locked.run();
    if (run?.status !== 'running') return;
    const def = await this.definition(run.pipeline_id, run.pipeline_version);
    const steps = await locked.steps();
    const status = new Map(steps.map((s) => [s.step_id, s.status]));
    let changed = true;
    while (changed) {
      changed = false;
      for (const s of def.steps) {
        if (status.get(s.id) !== 'pending') continue;
        const needs = s.needs.map((n) => status.get(n));
        if (needs.some((x) => x === 'failed' || x === 'skipped' || x === 'cancelled')) {
          await locked.skipStep(s.id, 'A step it needs did not succeed.', this.clock());
          status.set(s.id, 'skipped');
          changed = true;
        } else if (needs.every((x) => x !== undefined && DONE_OK.includes(x))) {
          // Claim the step first, so only one advance ever queues it.
          const claimed = await locked.claimStep(s.id);
          status.set(s.id, 'queued');
          if (!claimed) continue;
          const job = await this.engine.enqueue(
            { kind: PIPELINE_STEP_KIND, groupId: run.group_id, params: { runId, stepId: s.id }, createdBy: run.created_by },
            trx,
          );
          await locked.setStepJob(s.id, job!.id);
        }
      }
    }
    if ([...status.values()].some((x) => ACTIVE.includes(x))) return;
    const failed = [...status.values()].some((x) => x === 'failed' || x === 'skipped');
    await locked.finish(failed ? 'failed' : 'succeeded', this.clock());
  }

  /** A step's job ended: record how, then move the run on. Safe to call twice. */
  private async settleStep(job: JobRow): Promise<void> {
    const { runId, stepId } = readPayload(PIPELINE_STEP_KIND, job.params);
    const status = job.status === 'succeeded' ? 'succeeded' : job.status === 'cancelled' ? 'cancelled' : job.status === 'failed' ? 'failed' : undefined;
    if (!status) return;
    await this.store.withLockedRun(runId, async (locked) => {
      const moved = await locked.settleStep(stepId, job.id, {
        status,
        outputs: status === 'succeeded' ? (job.result ?? '{}') : null,
        error: job.error,
        finished_at: job.finished_at ?? this.clock(),
      });
      if (moved) await this.advance(locked);
    });
    this.engine.wake();
  }

  /**
   * A process that died between a step's job ending and the run's advance left the run behind:
   * settle what the jobs say and advance. Returns whether anything moved.
   */
  private async heal(runId: string, runStatus: RunRow['status'], steps: StepRow[]): Promise<boolean> {
    let healed = false;
    for (const s of steps.filter((x) => (x.status === 'queued' || x.status === 'running') && x.job_id)) {
      const job = await this.engine.get(s.job_id!);
      if (job && ['succeeded', 'failed', 'cancelled'].includes(job.status)) {
        await this.settleStep(job);
        healed = true;
      } else if (job?.status === 'running' && s.status === 'queued') {
        await this.store.startStep(runId, s.step_id, job.started_at);
        healed = true;
      }
    }
    if (runStatus === 'running' && !steps.some((x) => ACTIVE.includes(x.status))) {
      await this.store.withLockedRun(runId, (locked) => this.advance(locked));
      healed = true;
    }
    return healed;
  }

  /** Heals every running run, read or not (the periodic pass; reads heal too). Returns how many moved. */
  async reconcile(): Promise<number> {
    const runs = await this.store.runningRunIds(500);
    let moved = 0;
    for (const id of runs) {
      const steps = await this.store.steps(id);
      if (await this.heal(id, 'running', steps)) moved++;
    }
    return moved;
  }

  startReconciler(intervalMs = 30_000, onError: (err: unknown) => void = () => undefined): void {
    let busy = false;
    this.reconciler ??= setInterval(() => {
      if (busy) return;
      busy = true;
      this.reconcile()
        .catch(onError)
        .finally(() => (busy = false));
    }, intervalMs);
    this.reconciler.unref();
  }

  stopReconciler(): void {
    clearInterval(this.reconciler);
    this.reconciler = undefined;
  }

  async runs(scope: GroupScope, name: string): Promise<PipelineRun[]> {
    requireScopeRole(scope, 'viewer');
    const p = await this.require(scope, name);
    const ids = await this.store.runIds(p.id, 50);
    return Promise.all(ids.map((id) => this.run(scope, id)));
  }

  async run(scope: GroupScope, runId: string): Promise<PipelineRun> {
    requireScopeRole(scope, 'viewer');
    let run = await this.requireRun(scope, runId);
    let steps = await this.store.steps(runId);
    if (await this.heal(runId, run.status, steps)) {
      run = await this.requireRun(scope, runId);
      steps = await this.store.steps(runId);
    }
    const pipeline = await this.store.nameOf(run.pipeline_id);
    const def = await this.definition(run.pipeline_id, run.pipeline_version);
    const order = topologicalOrder(def.steps);
    const byId = new Map(steps.map((s) => [s.step_id, s]));
    return {
      id: run.id,
      pipeline,
      pipelineVersion: run.pipeline_version,
      status: run.status,
      params: JSON.parse(run.params) as Record<string, unknown>,
      fromStep: run.from_step,
      steps: order.map((sid) => {
        const d = def.steps.find((x) => x.id === sid)!;
        const s = byId.get(sid)!;
        return {
          id: sid,
          action: d.action,
          needs: d.needs,
          status: s.status,
          jobId: s.job_id,
          outputs: s.outputs ? (JSON.parse(s.outputs) as Record<string, unknown>) : null,
          error: s.error,
          startedAt: s.started_at,
          finishedAt: s.finished_at,
        };
      }),
      createdBy: run.created_by,
      createdAt: run.created_at,
      finishedAt: run.finished_at,
    };
  }

  private async requireRun(scope: GroupScope, runId: string): Promise<RunRow> {
    const run = await this.store.getRun(runId, scope.id);
    if (!run) throw notFound('Pipeline run', runId);
    return run;
  }

  async cancel(ctx: RequestContext, scope: GroupScope, runId: string): Promise<PipelineRun> {
    requireScopeRole(scope, 'editor');
    const run = await this.requireRun(scope, runId);
    if (run.status !== 'running') throw conflict(`Pipeline run ${runId} has already ${run.status === 'cancelled' ? 'been cancelled' : run.status}.`);
    const steps = await this.store.steps(runId);
    await this.store.cancelRun(runId, this.clock());
    for (const s of steps) if ((s.status === 'queued' || s.status === 'running') && s.job_id) await this.engine.cancel(s.job_id);
    await this.audit.record(ctx, { action: 'pipeline.cancel', resourceType: 'pipeline_run', resourceId: runId, groupId: scope.id });
    return this.run(scope, runId);
  }

  /** Runs the failed, skipped and cancelled steps of a finished run again; what succeeded is kept. */
  async retry(ctx: RequestContext, scope: GroupScope, runId: string): Promise<PipelineRun> {
    requireScopeRole(scope, 'editor');
    const run = await this.requireRun(scope, runId);
    if (run.status === 'running') throw conflict(`Pipeline run ${runId} is still running.`);
    if (run.status === 'succeeded') throw conflict(`Pipeline run ${runId} succeeded: start a new run instead.`);
    await this.store.withLockedRun(runId, async (locked) => {
      await locked.reopen();
      await this.advance(locked);
    });
    this.engine.wake();
    await this.audit.record(ctx, { action: 'pipeline.retry', resourceType: 'pipeline_run', resourceId: runId, groupId: scope.id });
    return this.run(scope, runId);
  }

  handler(): JobHandler<typeof PIPELINE_STEP_KIND> {
    return async (job) => {
      const { runId, stepId } = job.job.params;
      const run = await this.store.getRun(runId);
      if (!run) throw new PermanentJobError('The pipeline run no longer exists.');
      if (run.status !== 'running') throw new PermanentJobError(`The pipeline run is ${run.status}.`);
      const def = await this.definition(run.pipeline_id, run.pipeline_version);
      const step = def.steps.find((s) => s.id === stepId);
      if (!step) throw new PermanentJobError(`No step ${stepId} in this pipeline version.`);
      await this.store.startStep(runId, stepId, this.clock());
      const done = await this.store.doneOutputs(runId);
      const outputs = Object.fromEntries(done.map((d) => [d.step_id, d.outputs ? (JSON.parse(d.outputs) as Record<string, unknown>) : {}]));
      const params = JSON.parse(run.params) as Record<string, unknown>;
      const group = await this.deps.groups.nameOf(run.group_id);
      if (group === undefined) throw new PermanentJobError('The group of the pipeline run no longer exists.');
      let inputs: Record<string, unknown>;
      try {
        inputs = resolve(step.with, outputs, params) as Record<string, unknown>;
      } catch (err) {
        throw new PermanentJobError((err as Error).message);
      }
      job.log(`Step ${stepId} (${step.action}) with ${JSON.stringify(inputs)}`, 'system');
      const work = path.join(this.root, 'runs', runId, stepId);
      try {
        // Actions act as the run's creator would, within the run's group, as an editor.
        const ctx: RequestContext = { ...systemContext, principal: { ...systemContext.principal, name: run.created_by ?? 'pipeline' } };
        const result = await runAction(
          this.deps,
          {
            ctx,
            scope: { id: run.group_id, name: group, role: 'editor' },
            job,
            files: this.versionDir(run.pipeline_id, run.pipeline_version),
            work,
            pythonVersion: def.pythonVersion,
            runId,
            stepId,
            createdBy: run.created_by,
          },
          step.action,
          inputs,
        );
        job.log(`Step ${stepId} outputs ${JSON.stringify(result)}`, 'system');
        return result;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status !== undefined && status < 500) throw new PermanentJobError((err as Error).message);
        throw err;
      }
    };
  }
}

function present(r: PipelineRow, group: string): Pipeline {
  return {
    id: r.id,
    group,
    name: r.name,
    version: r.version,
    steps: JSON.parse(r.steps) as Pipeline['steps'],
    definition: r.definition,
    files: JSON.parse(r.files) as string[],
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
