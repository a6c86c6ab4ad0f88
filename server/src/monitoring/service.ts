import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CodexMonitorCreateSchema,
  MonitorCreateSchema,
  MonitorRunRequestSchema,
  MonitorUpdateSchema,
  type CodexMonitorCreate,
  type DriftReport,
  type LakeColumn,
  type Monitor,
  type MonitorCreate,
  type MonitorReference,
  type MonitorRun,
  type MonitorRunRequest,
} from '@forja/contracts';
import { z } from 'zod';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupsService } from '../auth/groups-service.js';
import { systemContext, type GroupScope, type RequestContext } from '../auth/principal.js';
import { newId } from '../db/ids.js';
import type { DeploymentsService } from '../deployments/service.js';
import { AppError, alreadyExists, invalid, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { JobKind } from '../jobs/catalog.js';
import { PermanentJobError, type JobContext, type JobEngine, type JobHandler } from '../jobs/engine.js';
import type { EngineLog } from '../jobs/graphile-dispatch.js';
import { quoteIdent, sqlTimestamp, typeFamily } from '../lake/engine.js';
import type { LakeService, StagedFile } from '../lake/service.js';
import { monitorOfCodex } from './codex-config.js';
import { inferenceTableOf } from './inference-log.js';
import { flatMetrics } from './metrics.js';
import { computeDrift } from './stats/index.js';
import { LAKE_SYSTEM_COLUMNS, uploadedReferenceTable, type ReferenceResolver, type ReferenceSource } from './reference.js';
import type { MonitorRow, MonitorRunRow, MonitorsStore } from './store.js';
import { currentWindow, lastFullWindow, nextPeriodStart, windowEndingAt, type Window } from './windows.js';

export const MONITOR_RUN_KIND = 'monitor.run' satisfies JobKind;

/** The log's own columns: never features. */
const LOG_COLUMNS = new Set(['request_id', 'logged_at', 'latency_ms', 'model_version', 'row_index']);
const LOG_TIME_COLUMN = 'logged_at';

/** The parts of a run other modules compute; each optional, each failing soft. */
export interface MonitorParts {
  /** Performance of the window's labelled rows (the `alerts` helper's performanceOf). */
  performance?: (
    req: { groupId: string; logTable: string; window: Window; check: NonNullable<Checks['performance']> },
    ctx: { signal: AbortSignal; log: (line: string) => void },
  ) => Promise<NonNullable<MonitorRun['performance']>>;
  /** SHAP importance of a sample of the window's rows (the `shap` helper's Explainer.explain). */
  explain?: (
    req: { deploymentId: string; groupId: string; current: string; reference: string | null; features: string[]; sampleRows: number; fn?: string },
    ctx: { signal: AbortSignal; log: (line: string) => void },
  ) => Promise<NonNullable<MonitorRun['explanations']>>;
}

export interface MonitorsServiceOptions {
  store: MonitorsStore;
  engine: JobEngine;
  lake: LakeService;
  deployments: DeploymentsService;
  groups: GroupsService;
  audit: AuditLog;
  events: EventBus;
  references: ReferenceResolver;
  /** Where exported references are cached (one folder per monitor) and windows are exported. */
  cacheDir: string;
  log: EngineLog;
  parts?: MonitorParts;
  clock?: () => number;
}

type Target = { deployment: string } | { table: string; timeColumn: string };
type Checks = z.output<typeof MonitorCreateSchema>['checks'];
const Columns = z.array(z.string());

const list = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * Monitors: a target (a deployment's inference log or a lake table with a time column), a
 * reference (what "normal" is), checks and a period. Each look is a `monitor.run` job over one
 * window; the scheduler queues one per monitor per due window, once across every process.
 */
export class MonitorsService {
  private readonly store: MonitorsStore;
  private readonly engine: JobEngine;
  private readonly lake: LakeService;
  private readonly deployments: DeploymentsService;
  private readonly groups: GroupsService;
  private readonly audit: AuditLog;
  private readonly events: EventBus;
  private readonly references: ReferenceResolver;
  private readonly cacheDir: string;
  private readonly log: EngineLog;
  private readonly parts: MonitorParts;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(o: MonitorsServiceOptions) {
    this.store = o.store;
    this.engine = o.engine;
    this.lake = o.lake;
    this.deployments = o.deployments;
    this.groups = o.groups;
    this.audit = o.audit;
    this.events = o.events;
    this.references = o.references;
    this.cacheDir = o.cacheDir;
    this.log = o.log;
    this.parts = o.parts ?? {};
    this.clock = o.clock ?? Date.now;
  }

  // ---- CRUD

  async create(ctx: RequestContext, scope: GroupScope, input: MonitorCreate): Promise<Monitor> {
    requireScopeRole(scope, 'editor');
    const body = MonitorCreateSchema.parse(input);
    if (body.reference?.kind === 'file')
      throw invalid('A file reference is set by uploading it: POST /api/v1/monitors/{id}/reference (multipart field "data").');
    if (await this.store.byName(scope.id, body.name)) throw alreadyExists(`Monitor ${body.name} already exists in group ${scope.name}.`);
    const id = newId();
    const deploymentId = await this.targetDeployment(scope, body.target);
    const targetColumns = await this.targetColumns(scope, body.target, deploymentId);
    if (body.reference) await this.checkReference(ctx, scope, id, body.reference, body.inputColumns, targetColumns);
    this.checkTargetColumns(body.target, targetColumns, body.inputColumns, body.outputColumns);
    const now = this.clock();
    const row: MonitorRow = {
      id,
      group_id: scope.id,
      name: body.name,
      description: body.description,
      target: JSON.stringify(body.target),
      deployment_id: deploymentId,
      reference: body.reference ? JSON.stringify(body.reference) : null,
      input_columns: body.inputColumns ? JSON.stringify(body.inputColumns) : null,
      output_columns: body.outputColumns ? JSON.stringify(body.outputColumns) : null,
      checks: JSON.stringify(body.checks),
      period: body.period,
      scheduled: body.scheduled ? 1 : 0,
      next_run_at: body.scheduled ? nextPeriodStart(body.period, now) : null,
      created_by: ctx.principal.name,
      created_at: now,
      updated_at: now,
    };
    await this.store.insert(row);
    await this.audit.record(ctx, {
      action: 'monitor.create',
      resourceType: 'monitor',
      resourceId: id,
      groupId: scope.id,
      details: { name: body.name, target: body.target, reference: body.reference?.kind ?? null, period: body.period },
    });
    return this.present(scope, row);
  }

  /**
   * A monitor of a deployment from MLOps Codex's configuration.json; `uploaded` is a reference
   * data file sent with it. InputCols and OutputCols become the monitor's columns.
   */
  async createFromCodex(ctx: RequestContext, scope: GroupScope, input: CodexMonitorCreate, uploaded?: StagedFile & { name: string }): Promise<Monitor> {
    requireScopeRole(scope, 'editor');
    const create = monitorOfCodex(CodexMonitorCreateSchema.parse(input), uploaded !== undefined);
    if (!uploaded) return this.create(ctx, scope, create);
    // The file is checked (rows, columns) before the monitor exists, so a bad one leaves nothing behind.
    const monitor = await this.create(ctx, scope, create);
    try {
      return await this.uploadReference(ctx, scope, monitor.id, uploaded);
    } catch (err) {
      await this.remove(ctx, scope, monitor.id);
      throw err;
    }
  }

  async list(scope: GroupScope, deployment?: string): Promise<Monitor[]> {
    requireScopeRole(scope, 'viewer');
    const deploymentId = deployment ? (await this.resolveDeployment(scope, deployment)).id : undefined;
    const rows = await this.store.list(scope.id, deploymentId);
    const last = await this.store.latestRuns(rows.map((r) => r.id));
    return rows.map((r) => this.presentWith(scope, r, last.get(r.id)));
  }

  async get(scope: GroupScope, idOrName: string): Promise<Monitor> {
    requireScopeRole(scope, 'viewer');
    return this.present(scope, await this.require(scope, idOrName));
  }

  async update(ctx: RequestContext, scope: GroupScope, idOrName: string, input: unknown): Promise<Monitor> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, idOrName);
    const patch = MonitorUpdateSchema.parse(input);
    if (patch.reference?.kind === 'file') throw invalid('A file reference is set by uploading it: POST /api/v1/monitors/{id}/reference.');
    const target = JSON.parse(row.target) as Target;
    const inputColumns = patch.inputColumns ?? this.columnsOf(row.input_columns);
    const outputColumns = patch.outputColumns ?? this.columnsOf(row.output_columns);
    const targetColumns = await this.targetColumns(scope, target, row.deployment_id);
    const reference = patch.reference ?? this.referenceOf(row);
    if (patch.reference || patch.inputColumns) {
      if (reference) await this.checkReference(ctx, scope, row.id, reference, inputColumns, targetColumns);
    }
    this.checkTargetColumns(target, targetColumns, inputColumns, outputColumns);
    const period = patch.period ?? row.period;
    const scheduled = patch.scheduled ?? row.scheduled === 1;
    const set: Partial<MonitorRow> = {
      updated_at: this.clock(),
      period,
      scheduled: scheduled ? 1 : 0,
      // A new period or a resumed schedule starts at the next boundary; what fell due meanwhile is not replayed.
      next_run_at: scheduled ? (period === row.period && row.next_run_at !== null ? row.next_run_at : nextPeriodStart(period, this.clock())) : null,
    };
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.reference !== undefined) set.reference = JSON.stringify(patch.reference);
    if (patch.inputColumns !== undefined) set.input_columns = JSON.stringify(patch.inputColumns);
    if (patch.outputColumns !== undefined) set.output_columns = JSON.stringify(patch.outputColumns);
    if (patch.checks !== undefined) set.checks = JSON.stringify(MonitorCreateSchema.shape.checks.parse(patch.checks));
    await this.store.update(row.id, set);
    if (patch.reference && row.reference && JSON.parse(row.reference).kind === 'file') await this.dropUploaded(ctx, scope, row.id);
    await this.audit.record(ctx, { action: 'monitor.update', resourceType: 'monitor', resourceId: row.id, groupId: scope.id, details: patch });
    return this.get(scope, row.id);
  }

  async remove(ctx: RequestContext, scope: GroupScope, idOrName: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, idOrName);
    await this.store.delete(row.id);
    await this.dropUploaded(ctx, scope, row.id);
    await rm(path.join(this.cacheDir, row.id), { recursive: true, force: true });
    await this.audit.record(ctx, { action: 'monitor.delete', resourceType: 'monitor', resourceId: row.id, groupId: scope.id, details: { name: row.name } });
  }

  /**
   * Sets the reference to an uploaded file (Parquet or CSV): its rows go to the lake table
   * `monitor_ref_<id>` of the monitor's group, replacing an earlier upload.
   */
  async uploadReference(ctx: RequestContext, scope: GroupScope, idOrName: string, staged: StagedFile & { name: string }): Promise<Monitor> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, idOrName);
    const table = uploadedReferenceTable(row.id);
    await this.dropUploaded(ctx, scope, row.id);
    const written = await this.lake.writeRows({ groupId: scope.id, createdBy: ctx.principal.name }, table, staged, { mode: 'fail' });
    try {
      if (written.rowsWritten === 0) throw invalid(`The reference file ${staged.name} has no rows: a reference needs the data the model learned from.`);
      const reference: MonitorReference = { kind: 'file', name: staged.name, rows: written.rowsWritten };
      const target = JSON.parse(row.target) as Target;
      const targetColumns = await this.targetColumns(scope, target, row.deployment_id);
      await this.checkReference(ctx, scope, row.id, reference, this.columnsOf(row.input_columns), targetColumns);
      await this.store.update(row.id, { reference: JSON.stringify(reference), updated_at: this.clock() });
    } catch (err) {
      await this.dropUploaded(ctx, scope, row.id);
      throw err;
    }
    await this.audit.record(ctx, {
      action: 'monitor.reference.upload',
      resourceType: 'monitor',
      resourceId: row.id,
      groupId: scope.id,
      details: { file: staged.name, rows: written.rowsWritten },
    });
    return this.get(scope, row.id);
  }

  private async dropUploaded(ctx: RequestContext, scope: GroupScope, monitorId: string): Promise<void> {
    await this.lake.drop(ctx, { ...scope, role: 'editor' }, uploadedReferenceTable(monitorId)).catch((err: unknown) => {
      if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
    });
  }

  // ---- runs

  /** Queues a run over a window: `from`/`to`, the current period so far (`now`), or the last full period. */
  async startRun(ctx: RequestContext, scope: GroupScope, idOrName: string, input: MonitorRunRequest = {}): Promise<MonitorRun> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, idOrName);
    const req = MonitorRunRequestSchema.parse(input);
    if (!row.reference)
      throw invalid(`Monitor ${row.name} has no reference yet: set one (PATCH) or upload a file (POST /api/v1/monitors/${row.id}/reference).`);
    const now = this.clock();
    let window: Window;
    if (req.from !== undefined || req.to !== undefined) {
      if (req.now) throw invalid('Give "from"/"to" or "now", not both.');
      const to = req.to ?? now;
      const from = req.from ?? windowEndingAt(row.period, nextPeriodStart(row.period, to - 1)).start;
      if (from >= to) throw invalid(`"from" (${new Date(from).toISOString()}) must be before "to" (${new Date(to).toISOString()}).`);
      window = { start: from, end: to };
    } else window = req.now ? currentWindow(row.period, now) : lastFullWindow(row.period, now);
    const run = await this.store.transaction(async (trx) => {
      const r = this.newRun(row, 'manual', window);
      const job = await this.engine.enqueue(
        { kind: MONITOR_RUN_KIND, groupId: row.group_id, params: { runId: r.id, monitorId: row.id }, createdBy: ctx.principal.name },
        trx,
      );
      r.job_id = job!.id;
      await this.store.insertRun(r, trx);
      return r;
    });
    this.engine.wake();
    await this.audit.record(ctx, {
      action: 'monitor.run',
      resourceType: 'monitor',
      resourceId: row.id,
      groupId: scope.id,
      details: { runId: run.id, windowStart: window.start, windowEnd: window.end },
    });
    return this.presentRun(run);
  }

  async runs(scope: GroupScope, idOrName: string, query: { limit: number; pageToken?: string }) {
    requireScopeRole(scope, 'viewer');
    const row = await this.require(scope, idOrName);
    const before = query.pageToken ? Buffer.from(query.pageToken, 'base64url').toString('utf8') : undefined;
    if (before !== undefined && !/^[a-z0-9]{20}$/.test(before)) throw invalid('pageToken is not one this server gave out.');
    const rows = await this.store.runs(row.id, query.limit + 1, before);
    const page = rows.slice(0, query.limit);
    return {
      // Pages carry the summary; the reports are in GET …/runs/{runId}.
      items: page.map((r) => ({ ...this.presentRun(r), drift: undefined, performance: undefined, explanations: undefined })),
      ...(rows.length > query.limit ? { nextPageToken: Buffer.from(page[page.length - 1]!.id).toString('base64url') } : {}),
    };
  }

  async run(scope: GroupScope, idOrName: string, runId: string): Promise<MonitorRun> {
    requireScopeRole(scope, 'viewer');
    const row = await this.require(scope, idOrName);
    const run = await this.store.run(row.id, runId);
    if (!run) throw notFound('Monitor run', runId);
    return this.presentRun(run);
  }

  /** Each metric's values over the monitor's succeeded runs, by window end; `names` may end a prefix with `*`. */
  async metrics(scope: GroupScope, idOrName: string, query: { names?: string; from?: number; to?: number }) {
    requireScopeRole(scope, 'viewer');
    const row = await this.require(scope, idOrName);
    const patterns = query.names
      ?.split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const wanted = (name: string) => !patterns?.length || patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
    const out: Record<string, { t: number; value: number; runId: string }[]> = {};
    for (const p of patterns ?? []) if (!p.endsWith('*')) out[p] = [];
    for (const r of await this.store.series(row.id, query.from, query.to)) {
      for (const [name, value] of Object.entries(JSON.parse(r.metrics) as Record<string, number>)) {
        if (!wanted(name)) continue;
        (out[name] ??= []).push({ t: Number(r.window_end), value, runId: r.id });
      }
    }
    return { metrics: out };
  }

  // ---- the schedule

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Queues a run for every due window; safe in every process at once: a window is claimed by a
   * guarded UPDATE of next_run_at in the transaction that inserts its run and queues its job.
   * Windows missed while no server ran are caught up one by one. The count of runs queued here.
   */
  async tick(now = this.clock()): Promise<number> {
    if (this.ticking) return 0;
    this.ticking = true;
    let fired = 0;
    try {
      for (let round = 0; round < 10; round++) {
        const due = await this.store.due(now, 100);
        if (due.length === 0) break;
        for (const m of due) if (await this.fire(m)) fired++;
      }
    } catch (err) {
      this.log.warn(`monitor scheduler tick failed: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
    return fired;
  }

  private async fire(m: MonitorRow): Promise<boolean> {
    const tick = Number(m.next_run_at);
    const window = windowEndingAt(m.period, tick);
    const next = nextPeriodStart(m.period, tick);
    const queued = await this.store.transaction(async (trx) => {
      if (!(await this.store.advance(m.id, tick, next, trx))) return false;
      // No reference yet: the window passes without a run (nothing to compare with).
      if (!m.reference) return false;
      const r = this.newRun(m, 'schedule', window);
      const job = await this.engine.enqueue(
        {
          kind: MONITOR_RUN_KIND,
          groupId: m.group_id,
          params: { runId: r.id, monitorId: m.id },
          createdBy: `monitor ${m.name}`,
          dedupeKey: `monitor:${m.id}:${tick}`,
        },
        trx,
      );
      if (!job) return false;
      r.job_id = job.id;
      await this.store.insertRun(r, trx);
      return true;
    });
    if (queued) this.engine.wake();
    return queued;
  }

  private newRun(m: MonitorRow, trigger: 'schedule' | 'manual', window: Window): MonitorRunRow {
    return {
      id: newId(),
      monitor_id: m.id,
      status: 'queued',
      job_id: null,
      trigger,
      window_start: window.start,
      window_end: window.end,
      current_rows: null,
      reference_rows: null,
      drift: null,
      performance: null,
      explanations: null,
      metrics: '{}',
      problems: '[]',
      error: null,
      created_at: this.clock(),
      finished_at: null,
    };
  }

  // ---- the run job

  handler(): JobHandler<'monitor.run'> {
    return async (ctx) => {
      const run = await this.store.runById(ctx.job.params.runId);
      if (!run) throw new PermanentJobError('The monitor run no longer exists (its monitor was deleted).');
      const monitor = await this.store.get(run.monitor_id);
      if (!monitor) throw new PermanentJobError('The monitor no longer exists.');
      await this.store.updateRun(run.id, { status: 'running' });
      try {
        const done = await this.execute(ctx, monitor, run);
        const finished = this.clock();
        await this.store.updateRun(run.id, { ...done, status: 'succeeded', finished_at: finished });
        const group = (await this.groups.nameOf(monitor.group_id)) ?? '';
        await this.events.publish({
          type: 'monitor.run.completed',
          groupId: monitor.group_id,
          groupName: group,
          actor: `monitor ${monitor.name}`,
          at: finished,
          data: {
            monitorId: monitor.id,
            monitorName: monitor.name,
            runId: run.id,
            metrics: JSON.parse(done.metrics) as unknown,
            windowEnd: Number(run.window_end),
          },
        });
        return { runId: run.id, rows: done.current_rows, metrics: Object.keys(JSON.parse(done.metrics) as object).length };
      } catch (err) {
        await this.store.updateRun(run.id, { status: 'failed', error: (err as Error).message, finished_at: this.clock() });
        if (err instanceof AppError) throw new PermanentJobError(err.message);
        throw err;
      }
    };
  }

  private async execute(ctx: JobContext, m: MonitorRow, run: MonitorRunRow) {
    const started = performance.now();
    const group = await this.groups.nameOf(m.group_id);
    if (group === undefined) throw new PermanentJobError('The monitor’s group no longer exists.');
    const scope: GroupScope = { id: m.group_id, name: group, role: 'viewer' };
    const target = JSON.parse(m.target) as Target;
    const { table, timeColumn } = 'deployment' in target ? { table: inferenceTableOf({ id: m.deployment_id! }), timeColumn: LOG_TIME_COLUMN } : target;
    const window: Window = { start: Number(run.window_start), end: Number(run.window_end) };
    ctx.log(`Monitor ${m.name}: window ${new Date(window.start).toISOString()} → ${new Date(window.end).toISOString()} of ${table}.`, 'system');
    const reference = this.referenceOf(m);
    if (!reference) throw invalid(`Monitor ${m.name} has no reference.`);
    const source = await this.references.source(systemContext, scope, m.id, reference);
    const problems: MonitorRun['problems'] = [];
    try {
      const probe = await this.references.probe(scope, source);
      const targetColumns = await this.describeTarget(scope, table);
      const { compared, types } = this.comparedColumns(m, target, probe.columns, targetColumns);
      ctx.log(`Comparing ${compared.length} columns: ${compared.join(', ')}.`, 'system');
      const dir = path.join(this.cacheDir, m.id);
      await mkdir(dir, { recursive: true });
      const refFile = await this.cachedReference(ctx, scope, m, source, compared, dir);
      const curFile = path.join(dir, `window-${run.id}.parquet`);
      try {
        let currentRows = 0;
        if (targetColumns) {
          const filter = `${quoteIdent(timeColumn)} >= '${sqlTimestamp(window.start)}' AND ${quoteIdent(timeColumn)} < '${sqlTimestamp(window.end)}'`;
          currentRows = await this.lake.exportForJob(
            m.group_id,
            table,
            { filter, columns: compared.filter((c) => targetColumns.some((t) => t.name === c)) },
            curFile,
          );
        }
        ctx.log(`Read ${refFile.rows} reference rows and ${currentRows} rows of the window.`, 'system');
        const checks = JSON.parse(m.checks) as Checks;
        let drift: DriftReport | null = null;
        if (currentRows === 0) problems.push({ part: 'drift', message: `The window has no rows in ${table}: nothing to compare.` });
        else {
          try {
            drift = await computeDrift(
              refFile.file,
              curFile,
              compared.map((name) => ({ name, type: types.get(name)! })),
              checks.drift ?? {},
            );
            ctx.log(`Drift: ${drift.driftedColumns} of ${drift.columns.length} columns drifted (share ${drift.driftShare.toFixed(3)}).`, 'system');
          } catch (err) {
            problems.push({ part: 'drift', message: (err as Error).message });
            ctx.log(`Drift failed: ${(err as Error).message}`, 'system');
          }
        }
        const performanceReport = await this.softly('performance', problems, ctx, async () => {
          if (!checks.performance) return null;
          if (!m.deployment_id) throw new Error('Performance checks need a deployment target (its labels).');
          if (!this.parts.performance) throw new Error('This server computes no performance yet (the performance module is not installed).');
          return this.parts.performance(
            { groupId: m.group_id, logTable: table, window, check: checks.performance },
            { signal: ctx.signal, log: (l) => ctx.log(l) },
          );
        });
        const explanations = await this.softly('explanations', problems, ctx, async () => {
          if (!checks.explanations || currentRows === 0) return null;
          if (!m.deployment_id) throw new Error('Explanations need a deployment target (its model).');
          if (!this.parts.explain) throw new Error('This server computes no explanations yet (the explainer module is not installed).');
          return this.parts.explain(
            {
              deploymentId: m.deployment_id,
              groupId: m.group_id,
              current: curFile,
              reference: refFile.file,
              features: this.columnsOf(m.input_columns) ?? compared,
              sampleRows: checks.explanations.sampleRows,
              ...(checks.explanations.function ? { fn: checks.explanations.function } : {}),
            },
            { signal: ctx.signal, log: (l) => ctx.log(l) },
          );
        });
        const metrics = flatMetrics({ rows: currentRows, drift, performance: performanceReport, explanations });
        ctx.log(`Done in ${Math.round(performance.now() - started)} ms: ${Object.keys(metrics).length} metrics.`, 'system');
        return {
          current_rows: currentRows,
          reference_rows: refFile.rows,
          drift: drift ? JSON.stringify(drift) : null,
          performance: performanceReport ? JSON.stringify(performanceReport) : null,
          explanations: explanations ? JSON.stringify(explanations) : null,
          metrics: JSON.stringify(metrics),
          problems: JSON.stringify(problems),
        };
      } finally {
        await rm(curFile, { force: true });
      }
    } finally {
      await this.references.release(source);
    }
  }

  /** Runs an optional part; its failure is recorded in the run instead of failing it. */
  private async softly<T>(
    part: MonitorRun['problems'][number]['part'],
    problems: MonitorRun['problems'],
    ctx: JobContext,
    fn: () => Promise<T | null>,
  ): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      problems.push({ part, message: (err as Error).message });
      ctx.log(`${part} failed: ${(err as Error).message}`, 'system');
      return null;
    }
  }

  /**
   * The reference's rows as Parquet, exported once per monitor and kept while the reference, the
   * columns and (for a lake table) its rows stay the same.
   */
  private async cachedReference(
    ctx: JobContext,
    scope: GroupScope,
    m: MonitorRow,
    source: ReferenceSource,
    columns: string[],
    dir: string,
  ): Promise<{ file: string; rows: number }> {
    const stamp = 'table' in source ? await this.lake.describe(scope, source.table).then((t) => [t.rowCount, t.updatedAt]) : [source.file];
    const key = createHash('sha256')
      .update(JSON.stringify([m.reference, columns, stamp]))
      .digest('hex')
      .slice(0, 24);
    const file = path.join(dir, `reference-${key}.parquet`);
    const counted = path.join(dir, `reference-${key}.rows`);
    const cached = await stat(file).catch(() => undefined);
    if (cached) {
      const rows = Number((await readFile(counted, 'utf8').catch(() => '')) || Number.NaN);
      if (Number.isFinite(rows)) {
        ctx.log(`Reference: cached export (${rows} rows).`, 'system');
        return { file, rows };
      }
    }
    // Older exports of this monitor's reference are of another reference or version of it.
    for (const name of await readdir(dir)) if (name.startsWith('reference-')) await rm(path.join(dir, name), { force: true });
    const tmp = `${file}.tmp-${newId()}`;
    const rows = await this.references.export(m.group_id, source, columns, tmp);
    if (rows === 0) {
      await rm(tmp, { force: true });
      throw invalid('The reference has no rows (any more): set another reference.');
    }
    await rename(tmp, file);
    await writeFile(counted, String(rows));
    ctx.log(`Reference: exported ${rows} rows.`, 'system');
    return { file, rows };
  }

  /** The columns compared: the inputs (given, or the reference's that the target also has) and the outputs both sides have. */
  private comparedColumns(m: MonitorRow, target: Target, reference: LakeColumn[], targetColumns: LakeColumn[] | undefined) {
    const timeColumn = 'deployment' in target ? LOG_TIME_COLUMN : target.timeColumn;
    const meta = (n: string) => n === timeColumn || LAKE_SYSTEM_COLUMNS.includes(n) || ('deployment' in target && LOG_COLUMNS.has(n));
    const onTarget = (n: string) => !targetColumns || targetColumns.some((t) => t.name === n);
    const inputs = this.columnsOf(m.input_columns) ?? reference.map((c) => c.name).filter((n) => !meta(n) && onTarget(n) && !n.startsWith('prediction'));
    const outputs =
      this.columnsOf(m.output_columns) ??
      ('deployment' in target ? (targetColumns ?? []).map((c) => c.name).filter((n) => n === 'prediction' || n.startsWith('prediction_')) : []);
    const types = new Map(reference.map((c) => [c.name, c.type]));
    const compared = [...new Set([...inputs, ...outputs])].filter((n) => types.has(n) && onTarget(n));
    if (compared.length === 0)
      throw invalid(`The reference and ${'deployment' in target ? 'the inference log' : target.table} share no columns to compare; set inputColumns.`);
    return { compared, types };
  }

  // ---- checks

  private async resolveDeployment(scope: GroupScope, nameOrId: string) {
    const all = await this.deployments.list(scope);
    const found = all.find((d) => d.id === nameOrId) ?? all.find((d) => d.name === nameOrId);
    if (!found) throw invalid(`No deployment ${JSON.stringify(nameOrId)} in group ${scope.name}: name one of ${list(all.map((d) => d.name)) || '(none)'}.`);
    return found;
  }

  private async targetDeployment(scope: GroupScope, target: Target): Promise<string | null> {
    return 'deployment' in target ? (await this.resolveDeployment(scope, target.deployment)).id : null;
  }

  /** A lake table's columns, or undefined when it does not exist (a deployment that logged nothing yet). */
  private async describeTarget(scope: GroupScope, table: string): Promise<LakeColumn[] | undefined> {
    try {
      return (await this.lake.describe({ ...scope, role: 'viewer' }, table)).columns;
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  private async targetColumns(scope: GroupScope, target: Target, deploymentId: string | null): Promise<LakeColumn[] | undefined> {
    if ('deployment' in target) return this.describeTarget(scope, inferenceTableOf({ id: deploymentId! }));
    const columns = await this.describeTarget(scope, target.table);
    if (!columns) throw invalid(`No lake table ${JSON.stringify(target.table)} in group ${scope.name} to monitor.`);
    const time = columns.find((c) => c.name === target.timeColumn);
    if (!time)
      throw invalid(`Table ${target.table} has no column ${JSON.stringify(target.timeColumn)} (timeColumn); it has ${list(columns.map((c) => c.name))}.`);
    if (typeFamily(time.type) !== 'timestamp' && time.type !== 'DATE')
      throw invalid(`timeColumn ${JSON.stringify(target.timeColumn)} of ${target.table} is ${time.type}: a monitor's windows need a TIMESTAMP or DATE column.`);
    return columns;
  }

  /** Input and output columns the target lacks (when its columns are known): a 400 naming them. */
  private checkTargetColumns(target: Target, columns: LakeColumn[] | undefined, inputs: string[] | undefined, outputs: string[] | undefined): void {
    if (!columns) return;
    const missing = [...(inputs ?? []), ...(outputs ?? [])].filter((n) => !columns.some((c) => c.name === n));
    if (missing.length)
      throw invalid(
        `Columns not in ${'deployment' in target ? "the deployment's inference log" : `table ${target.table}`}: ${list(missing)}; it has ${list(columns.map((c) => c.name))}.`,
      );
  }

  /** The reference must resolve, have rows, and have every input column. */
  private async checkReference(
    ctx: RequestContext,
    scope: GroupScope,
    monitorId: string,
    reference: MonitorReference,
    inputs: string[] | undefined,
    targetColumns: LakeColumn[] | undefined,
  ): Promise<void> {
    const source = await this.references.source(ctx, { ...scope, role: 'viewer' }, monitorId, reference);
    try {
      const probe = await this.references.probe({ ...scope, role: 'viewer' }, source);
      if (!probe.hasRows)
        throw invalid(`The reference (${describeReference(reference)}) has no rows: a monitor compares with the data the model learned from.`);
      const missing = (inputs ?? []).filter((n) => !probe.columns.some((c) => c.name === n));
      if (missing.length)
        throw invalid(`Columns not in the reference (${describeReference(reference)}): ${list(missing)}; it has ${list(probe.columns.map((c) => c.name))}.`);
      if (!inputs && targetColumns && !probe.columns.some((c) => targetColumns.some((t) => t.name === c.name)))
        throw invalid(`The reference (${describeReference(reference)}) shares no column with the target: set inputColumns.`);
    } finally {
      await this.references.release(source);
    }
  }

  // ---- reading rows

  private async require(scope: GroupScope, idOrName: string): Promise<MonitorRow> {
    const row = (await this.store.get(idOrName)) ?? (await this.store.byName(scope.id, idOrName));
    if (!row || row.group_id !== scope.id) throw notFound('Monitor', idOrName);
    return row;
  }

  private columnsOf(json: string | null): string[] | undefined {
    return json === null ? undefined : Columns.parse(JSON.parse(json));
  }

  private referenceOf(row: MonitorRow): MonitorReference | null {
    return row.reference === null ? null : (JSON.parse(row.reference) as MonitorReference);
  }

  private async present(scope: GroupScope, row: MonitorRow): Promise<Monitor> {
    const last = await this.store.latestRuns([row.id]);
    return this.presentWith(scope, row, last.get(row.id));
  }

  private presentWith(scope: GroupScope, r: MonitorRow, last: MonitorRunRow | undefined): Monitor {
    return {
      id: r.id,
      group: scope.name,
      name: r.name,
      description: r.description,
      target: JSON.parse(r.target) as Target,
      deploymentId: r.deployment_id,
      reference: this.referenceOf(r),
      inputColumns: this.columnsOf(r.input_columns) ?? null,
      outputColumns: this.columnsOf(r.output_columns) ?? null,
      checks: JSON.parse(r.checks) as Checks,
      period: r.period,
      scheduled: r.scheduled === 1,
      nextRunAt: r.next_run_at === null ? null : Number(r.next_run_at),
      lastRun: last
        ? {
            id: last.id,
            status: last.status,
            windowEnd: Number(last.window_end),
            datasetDrift: last.drift ? (JSON.parse(last.drift) as DriftReport).datasetDrift : null,
          }
        : null,
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
  }

  private presentRun(r: MonitorRunRow): MonitorRun {
    const json = <T>(v: string | null): T | null => (v === null ? null : (JSON.parse(v) as T));
    return {
      id: r.id,
      monitorId: r.monitor_id,
      status: r.status,
      jobId: r.job_id,
      trigger: r.trigger,
      windowStart: Number(r.window_start),
      windowEnd: Number(r.window_end),
      currentRows: r.current_rows === null ? null : Number(r.current_rows),
      referenceRows: r.reference_rows === null ? null : Number(r.reference_rows),
      drift: json(r.drift),
      performance: json(r.performance),
      explanations: json(r.explanations),
      metrics: JSON.parse(r.metrics) as Record<string, number>,
      problems: JSON.parse(r.problems) as MonitorRun['problems'],
      error: r.error,
      createdAt: Number(r.created_at),
      finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    };
  }
}

function describeReference(r: MonitorReference): string {
  switch (r.kind) {
    case 'table':
      return `table ${r.table}${r.filter ? ` where ${r.filter}` : ''}${r.version !== undefined ? ` VERSION ${r.version}` : ''}`;
    case 'run':
      return `run ${r.runId}${r.dataset ? ` dataset ${r.dataset}` : ''}`;
    case 'training':
      return `training run ${r.trainingId}`;
    case 'file':
      return `file ${r.name}`;
  }
}
