import { Cron } from 'croner';
import { ScheduleCreateSchema, ScheduleUpdateSchema, type Schedule, type ScheduleCreate } from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupsService } from '../auth/groups-service.js';
import { systemContext, type GroupScope, type RequestContext } from '../auth/principal.js';
import { newId } from '../db/ids.js';
import { invalid, notFound } from '../errors.js';
import type { EngineLog } from '../jobs/graphile-dispatch.js';
import type { BatchService } from './service.js';
import type { BatchStore, ScheduleRow } from './store.js';

export interface SchedulesServiceOptions {
  store: BatchStore;
  /** Starts the runs; schedules belong to its projects. */
  batch: BatchService;
  /** The name of a schedule's group, for the scope its runs start in. */
  groups: GroupsService;
  audit: AuditLog;
  log: EngineLog;
  clock?: () => number;
}

/** A tick this late still counts as on time; later ones are "missed" and follow the schedule's policy. */
const ON_TIME_MS = 30_000;

function cronOf(pattern: string, timezone: string): Cron {
  let cron: Cron;
  try {
    cron = new Cron(pattern, { timezone, paused: true });
  } catch (err) {
    throw invalid(
      `Invalid cron "${pattern}": ${(err as Error).message.replace(/^CronPattern: /, '')}. Use 5 fields (minute hour day month weekday) or 6 with seconds first.`,
    );
  }
  try {
    cron.nextRun();
  } catch {
    throw invalid(`Unknown time zone "${timezone}": use an IANA name such as UTC, America/Sao_Paulo or Europe/Lisbon.`);
  }
  return cron;
}

/**
 * Cron schedules of batch runs. Every server (and worker) ticks them; a tick becomes a job with
 * the dedupe key `schedule:<id>:<tick>`, so it runs once however many processes saw it, and the
 * guarded advance of `next_fire_at` lets only one of them move the schedule on.
 */
export class SchedulesService {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  private readonly store: BatchStore;
  private readonly batch: BatchService;
  private readonly groups: GroupsService;
  private readonly audit: AuditLog;
  private readonly log: EngineLog;
  private readonly clock: () => number;

  constructor(o: SchedulesServiceOptions) {
    this.store = o.store;
    this.batch = o.batch;
    this.groups = o.groups;
    this.audit = o.audit;
    this.log = o.log;
    this.clock = o.clock ?? Date.now;
  }

  async create(ctx: RequestContext, scope: GroupScope, projectName: string, input: ScheduleCreate): Promise<Schedule> {
    requireScopeRole(scope, 'editor');
    const project = await this.batch.requireProject(scope, projectName);
    const body = ScheduleCreateSchema.parse(input);
    const cron = cronOf(body.cron, body.timezone);
    const row: ScheduleRow = {
      id: newId(),
      group_id: scope.id,
      project_id: project.id,
      cron: body.cron,
      timezone: body.timezone,
      params: JSON.stringify(body.params),
      missed_policy: body.missedPolicy,
      timeout_seconds: body.timeoutSeconds,
      paused: 0,
      next_fire_at: cron.nextRun(new Date(this.clock()))?.getTime() ?? null,
      last_fire_at: null,
      created_by: ctx.principal.name,
      created_at: this.clock(),
    };
    await this.store.insertSchedule(row);
    await this.audit.record(ctx, {
      action: 'schedule.create',
      resourceType: 'schedule',
      resourceId: row.id,
      groupId: scope.id,
      details: { project: projectName, cron: body.cron, timezone: body.timezone },
    });
    return this.present(row, projectName);
  }

  async list(scope: GroupScope, projectName?: string): Promise<Schedule[]> {
    const rows = await this.store.schedules(scope.id, projectName);
    return rows.map((r) => this.present(r, r.project));
  }

  async update(ctx: RequestContext, scope: GroupScope, id: string, input: unknown): Promise<Schedule> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, id);
    const patch = ScheduleUpdateSchema.parse(input);
    const cronText = patch.cron ?? row.cron;
    const timezone = patch.timezone ?? row.timezone;
    const cron = cronOf(cronText, timezone);
    const paused = patch.paused ?? row.paused === 1;
    const set: Partial<ScheduleRow> = {
      cron: cronText,
      timezone,
      paused: paused ? 1 : 0,
      // Resuming does not replay what fell due while paused.
      next_fire_at: paused ? row.next_fire_at : (cron.nextRun(new Date(this.clock()))?.getTime() ?? null),
    };
    if (patch.params !== undefined) set.params = JSON.stringify(patch.params);
    if (patch.missedPolicy !== undefined) set.missed_policy = patch.missedPolicy;
    if (patch.timeoutSeconds !== undefined) set.timeout_seconds = patch.timeoutSeconds;
    await this.store.updateSchedule(id, set);
    await this.audit.record(ctx, { action: 'schedule.update', resourceType: 'schedule', resourceId: id, groupId: scope.id, details: patch });
    return (await this.list(scope)).find((s) => s.id === id)!;
  }

  async remove(ctx: RequestContext, scope: GroupScope, id: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    await this.require(scope, id);
    await this.store.deleteSchedule(id);
    await this.audit.record(ctx, { action: 'schedule.delete', resourceType: 'schedule', resourceId: id, groupId: scope.id });
  }

  start(intervalMs = 500): void {
    this.timer ??= setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fires what is due; safe to run in every process at once. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      // A few rounds, so schedules behind by several ticks catch up within one call.
      for (let round = 0; round < 10; round++) {
        const now = this.clock();
        const due = await this.store.dueSchedules(now, 100);
        if (due.length === 0) break;
        for (const s of due) await this.fire(s, now);
      }
    } catch (err) {
      this.log.warn(`scheduler tick failed: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async fire(s: ScheduleRow, now: number): Promise<void> {
    const cron = new Cron(s.cron, { timezone: s.timezone, paused: true });
    const tick = s.next_fire_at!;
    let fireAt: number | undefined;
    let next: number | null;
    if (now - tick <= ON_TIME_MS) {
      // On time (or a little late): this tick fires and the next one is the tick after it, so a
      // slow loop catches up tick by tick instead of skipping any.
      fireAt = tick;
      next = cron.nextRun(new Date(tick))?.getTime() ?? null;
    } else {
      // Missed while no server ran: skip them all, or run once for the latest.
      if (s.missed_policy === 'run_once') {
        let last = tick;
        for (let t = cron.nextRun(new Date(tick)); t && t.getTime() <= now; t = cron.nextRun(t)) last = t.getTime();
        fireAt = last;
      }
      next = cron.nextRun(new Date(now))?.getTime() ?? null;
    }
    // The run first, then the advance: a crash in between re-fires the same tick, which its dedupe
    // key turns into nothing, where the other order could lose the tick.
    if (fireAt !== undefined) await this.startTick(s, fireAt);
    await this.store.advanceSchedule(s.id, tick, { next_fire_at: next, ...(fireAt !== undefined ? { last_fire_at: fireAt } : {}) });
  }

  private async startTick(s: ScheduleRow, fireAt: number): Promise<void> {
    const project = await this.store.projectById(s.project_id);
    if (!project) return;
    const group = await this.groups.nameOf(project.group_id);
    if (group === undefined) return;
    const ctx: RequestContext = { ...systemContext, principal: { ...systemContext.principal, name: `schedule ${s.id}` } };
    try {
      await this.batch.startRun(
        ctx,
        { id: s.group_id, name: group, role: 'editor' },
        project.name,
        { params: JSON.parse(s.params) as Record<string, unknown>, timeoutSeconds: s.timeout_seconds },
        'schedule',
        `schedule:${s.id}:${fireAt}`,
      );
    } catch (err) {
      this.log.warn(`schedule ${s.id} of ${project.name} could not start a run: ${(err as Error).message}`);
    }
  }

  private async require(scope: GroupScope, id: string): Promise<ScheduleRow> {
    const row = await this.store.schedule(scope.id, id);
    if (!row) throw notFound('Schedule', id);
    return row;
  }

  private present(r: ScheduleRow, project: string): Schedule {
    const cron = new Cron(r.cron, { timezone: r.timezone, paused: true });
    const from = new Date(Math.max(this.clock(), (r.next_fire_at ?? this.clock()) - 1));
    return {
      id: r.id,
      project,
      cron: r.cron,
      timezone: r.timezone,
      params: JSON.parse(r.params) as Record<string, unknown>,
      missedPolicy: r.missed_policy,
      paused: r.paused === 1,
      nextFireTimes: r.paused === 1 ? [] : cron.nextRuns(5, from).map((d) => d.getTime()),
      lastFireAt: r.last_fire_at,
      createdBy: r.created_by,
      createdAt: r.created_at,
    };
  }
}
