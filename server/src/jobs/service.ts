import { TERMINAL_JOB_STATUSES, type Job, type JobLogs, type JobOwner, type Worker } from '@forja/contracts';
import type { AccessPolicy } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import type { GroupsService } from '../auth/groups-service.js';
import { decodePageToken, pageOf } from '../db/paging.js';
import { conflict, notFound } from '../errors.js';
import type { JobEngine } from './engine.js';
import { ownersOf, type OwnerNameLookups } from './owners.js';
import type { JobRow } from './store.js';

export interface JobsServiceOptions {
  engine: JobEngine;
  /** Names the group a job belongs to. */
  groups: GroupsService;
  access: AccessPolicy;
  audit: AuditLog;
  /** Names the deployments, projects, runs… that jobs work for. */
  owners: OwnerNameLookups;
  clock?: () => number;
}

/** What users see of jobs: read, tail logs, cancel; each checked against the job's group. */
export class JobsService {
  private readonly engine: JobEngine;
  private readonly groups: GroupsService;
  private readonly access: AccessPolicy;
  private readonly audit: AuditLog;
  private readonly owners: OwnerNameLookups;
  private readonly clock: () => number;

  constructor(options: JobsServiceOptions) {
    this.engine = options.engine;
    this.groups = options.groups;
    this.access = options.access;
    this.audit = options.audit;
    this.owners = options.owners;
    this.clock = options.clock ?? Date.now;
  }

  async list(
    scope: GroupScope,
    query: { status?: JobRow['status']; kind?: string; limit: number; pageToken?: string },
  ): Promise<{ items: Job[]; nextPageToken?: string }> {
    const offset = decodePageToken(query.pageToken);
    const rows = await this.engine.list({ groupId: scope.id, status: query.status, kind: query.kind, offset, limit: query.limit + 1 });
    const { page, nextPageToken } = pageOf(rows, offset, query.limit);
    const owners = await this.ownersOf(page);
    return { items: page.map((r, i) => toJob(r, scope.name, owners[i]!)), nextPageToken };
  }

  /** The job if the caller may see it; with waitMs, first waits until it has finished (or waitMs has passed). */
  async get(ctx: RequestContext, id: string, waitMs = 0): Promise<Job> {
    let row = await this.visible(ctx, id, 'viewer');
    if (waitMs > 0 && !TERMINAL_JOB_STATUSES.includes(row.status)) row = (await this.engine.waitFor(id, { timeoutMs: waitMs })) ?? row;
    return this.present(row);
  }

  async cancel(ctx: RequestContext, id: string): Promise<Job> {
    const row = await this.visible(ctx, id, 'editor');
    if (TERMINAL_JOB_STATUSES.includes(row.status)) throw conflict(`Job ${id} has already ${row.status === 'cancelled' ? 'been cancelled' : row.status}.`);
    const after = (await this.engine.cancel(id, { name: ctx.principal.name, attempt: row.attempt })) ?? row;
    await this.audit.record(ctx, {
      action: 'job.cancel',
      resourceType: 'job',
      resourceId: id,
      groupId: row.group_id,
      details: { kind: row.kind, was: row.status },
    });
    return this.present(after);
  }

  async logs(ctx: RequestContext, id: string, after: number, limit: number): Promise<JobLogs> {
    const row = await this.visible(ctx, id, 'viewer');
    const lines = await this.engine.logs(id, after, limit);
    const next = lines.length ? lines[lines.length - 1]!.seq : after;
    return {
      lines: lines.map((l) => ({ seq: l.seq, attempt: l.attempt, ts: l.ts, stream: l.stream, line: l.line })),
      next,
      complete: TERMINAL_JOB_STATUSES.includes(row.status) && lines.length < limit,
    };
  }

  /** The queue across every group: queued and running now, failed in the last day (system administrators). */
  async depth(): Promise<{ queued: number; running: number; failedLastDay: number }> {
    const { queued, running, failed } = await this.engine.depth(this.clock() - 24 * 3600_000);
    return { queued, running, failedLastDay: failed };
  }

  async workers(): Promise<Worker[]> {
    const now = this.clock();
    const rows = await this.engine.workers(now - 24 * 3600_000);
    const staleAfter = this.engine.leaseMs;
    return rows.map((w) => ({
      id: w.id,
      host: w.host,
      pid: w.pid,
      mode: w.mode,
      concurrency: w.concurrency,
      version: w.version,
      running: JSON.parse(w.running) as string[],
      startedAt: w.started_at,
      lastSeenAt: w.last_seen_at,
      stoppedAt: w.stopped_at,
      alive: w.stopped_at === null && now - w.last_seen_at < staleAfter,
    }));
  }

  private async visible(ctx: RequestContext, id: string, needed: 'viewer' | 'editor'): Promise<JobRow> {
    const row = await this.engine.get(id);
    const missing = () => notFound('Job', id);
    if (!row) throw missing();
    if (row.group_id === null) {
      // System work (no group) is for system administrators only.
      if (!ctx.principal.isAdmin) throw missing();
    } else await this.access.requireRoleIn(ctx.principal, row.group_id, needed, missing);
    return row;
  }

  private async present(row: JobRow): Promise<Job> {
    const [group, [owner]] = await Promise.all([this.groupName(row.group_id), this.ownersOf([row])]);
    return toJob(row, group, owner!);
  }

  private ownersOf(rows: JobRow[]): Promise<Array<JobOwner | null>> {
    return ownersOf(
      rows.map((r) => ({ kind: r.kind, params: JSON.parse(r.params) as Record<string, unknown> })),
      this.owners,
    );
  }

  private async groupName(groupId: string | null): Promise<string | null> {
    return groupId ? ((await this.groups.nameOf(groupId)) ?? null) : null;
  }
}

export function toJob(r: JobRow, group: string | null, owner: JobOwner | null): Job {
  return {
    id: r.id,
    group,
    kind: r.kind,
    queue: r.queue,
    status: r.status,
    params: JSON.parse(r.params) as Record<string, unknown>,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    error: r.error,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    priority: r.priority,
    runAt: r.run_at,
    workerId: r.lease_owner,
    heartbeatAt: r.heartbeat_at,
    cancelRequested: r.cancel_requested === 1,
    progress: r.progress === null ? null : (JSON.parse(r.progress) as unknown),
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    owner,
  };
}
