import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BatchProjectCreateSchema,
  BatchRunCreateSchema,
  BatchDeployFieldsSchema,
  ClusterProfileUpdateSchema,
  type BatchDeploy,
  type BatchProject,
  type BatchRun,
  type BatchRunCreate,
  type ClusterProfile,
} from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import type { GroupsService } from '../auth/groups-service.js';
import type { TokensService } from '../auth/tokens-service.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { alreadyExists, conflict, invalid, notFound } from '../errors.js';
import type { JobKind } from '../jobs/catalog.js';
import { DeferJob, PermanentJobError, type JobEngine, type JobHandler } from '../jobs/engine.js';
import { openApiRelay } from '../runtime/api-relay.js';
import { runProcess } from '../runtime/process.js';
import type { JobRow } from '../jobs/store.js';
import type { Environments } from '../runtime/environments.js';
import type { StagedUpload } from '../http/multipart.js';
import type { BatchStore, DeployRow, ProjectRow, RunRow } from './store.js';

export const BATCH_BUILD_KIND = 'batch.build' satisfies JobKind;
export const BATCH_RUN_KIND = 'batch.run' satisfies JobKind;

export interface BatchServiceOptions {
  store: BatchStore;
  engine: JobEngine;
  envs: Environments;
  tokens: TokensService;
  /** Group names for FORJA_GROUP: batch keeps only the group's id. */
  groups: GroupsService;
  audit: AuditLog;
  /** Deploys and run folders live under it. */
  root: string;
  /** Where a script reaches this server (FORJA_URL inside runs). */
  publicUrl: () => string;
  clock?: () => number;
}

/**
 * DHuolib's batch projects: a script deployed in versions (each built into a shared Python
 * environment), run now or later as durable jobs on a cluster profile, with a scoped token so the
 * script can use Forja's API.
 */
export class BatchService {
  private readonly store: BatchStore;
  private readonly engine: JobEngine;
  private readonly envs: Environments;
  private readonly tokens: TokensService;
  private readonly groups: GroupsService;
  private readonly audit: AuditLog;
  readonly root: string;
  private readonly publicUrl: () => string;
  private readonly clock: () => number;

  constructor(o: BatchServiceOptions) {
    this.store = o.store;
    this.engine = o.engine;
    this.envs = o.envs;
    this.tokens = o.tokens;
    this.groups = o.groups;
    this.audit = o.audit;
    this.root = o.root;
    this.publicUrl = o.publicUrl;
    this.clock = o.clock ?? Date.now;
  }

  // ---- cluster profiles

  async clusters(): Promise<ClusterProfile[]> {
    const rows = await this.store.clusters();
    return rows.map((r) => ({ size: r.size, name: r.name, cpus: Number(r.cpus), memoryMb: r.memory_mb, parallelRuns: r.parallel_runs }));
  }

  async updateCluster(ctx: RequestContext, size: number, input: unknown): Promise<ClusterProfile> {
    const patch = ClusterProfileUpdateSchema.parse(input);
    const given = { name: patch.name, cpus: patch.cpus, memory_mb: patch.memoryMb, parallel_runs: patch.parallelRuns };
    const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length === 0) throw invalid(`Nothing to change: send at least one of ${Object.keys(ClusterProfileUpdateSchema.shape).join(', ')}.`);
    if (!(await this.store.updateCluster(size, set))) throw notFound('Cluster size', String(size));
    await this.audit.record(ctx, { action: 'cluster.update', resourceType: 'cluster', resourceId: String(size), details: patch });
    return (await this.clusters()).find((c) => c.size === size)!;
  }

  // ---- projects

  async createProject(ctx: RequestContext, scope: GroupScope, input: unknown): Promise<BatchProject> {
    requireScopeRole(scope, 'editor');
    const body = BatchProjectCreateSchema.parse(input);
    const now = this.clock();
    const row: ProjectRow = {
      id: newId(),
      group_id: scope.id,
      name: body.name,
      description: body.description,
      cluster_size: body.clusterSize,
      created_by: ctx.principal.name,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.insertProject(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`A batch project named "${body.name}" already exists in group "${scope.name}".`);
      throw err;
    }
    await this.audit.record(ctx, { action: 'batch_project.create', resourceType: 'batch_project', resourceId: row.name, groupId: scope.id });
    return this.present(row, scope.name);
  }

  async projects(scope: GroupScope): Promise<BatchProject[]> {
    const rows = await this.store.projects(scope.id);
    return Promise.all(rows.map((r) => this.present(r, scope.name)));
  }

  async project(scope: GroupScope, name: string): Promise<BatchProject> {
    return this.present(await this.requireProject(scope, name), scope.name);
  }

  async updateProject(ctx: RequestContext, scope: GroupScope, name: string, patch: { description?: string; clusterSize?: number }): Promise<BatchProject> {
    requireScopeRole(scope, 'editor');
    const row = await this.requireProject(scope, name);
    const set: Partial<ProjectRow> = { updated_at: this.clock() };
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.clusterSize !== undefined) set.cluster_size = patch.clusterSize;
    await this.store.updateProject(row.id, set);
    await this.audit.record(ctx, { action: 'batch_project.update', resourceType: 'batch_project', resourceId: name, groupId: scope.id, details: patch });
    return this.project(scope, name);
  }

  async removeProject(ctx: RequestContext, scope: GroupScope, name: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const row = await this.requireProject(scope, name);
    const active = await this.jobsOf(await this.store.runJobIds(row.id), ['queued', 'running']);
    for (const j of active.values()) await this.engine.cancel(j.id);
    await this.store.deleteProject(row.id);
    await rm(path.join(this.root, row.id), { recursive: true, force: true });
    await this.audit.record(ctx, { action: 'batch_project.delete', resourceType: 'batch_project', resourceId: name, groupId: scope.id });
  }

  // ---- deploys

  async deploy(
    ctx: RequestContext,
    scope: GroupScope,
    name: string,
    staged: StagedUpload,
    stagingDir: string,
  ): Promise<{ deploy: BatchDeploy; buildJobId: string }> {
    requireScopeRole(scope, 'editor');
    const project = await this.requireProject(scope, name);
    const fields = BatchDeployFieldsSchema.safeParse(staged.fields);
    if (!fields.success) throw invalid(`${fields.error.issues[0]!.path.join('.')}: ${fields.error.issues[0]!.message}`);
    const script = staged.files.find((f) => f.role === 'source');
    if (!script || !/\.py$/i.test(script.name)) throw invalid('Send the batch script (.py) in the "source" field.');
    const reqFile = staged.files.find((f) => f.role === 'requirements');
    const requirements = reqFile ? await readFile(reqFile.path, 'utf8') : '';
    let deploy!: DeployRow;
    let jobId = '';
    // Two deploys at once can pick the same next version; the one that loses the race takes the next.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.transaction(async (trx) => {
          const version = await this.store.nextDeployVersion(trx, project.id);
          const job = await this.engine.enqueue(
            { kind: BATCH_BUILD_KIND, groupId: scope.id, params: { projectId: project.id, version, project: name }, createdBy: ctx.principal.name },
            trx,
          );
          jobId = job!.id;
          deploy = {
            project_id: project.id,
            version,
            status: 'Building',
            message: null,
            script_name: script.name,
            python_version: fields.data.pythonVersion,
            requirements,
            env_key: null,
            build_job_id: jobId,
            created_by: ctx.principal.name,
            created_at: this.clock(),
          };
          await this.store.insertDeploy(trx, deploy);
        });
        break;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        if (attempt >= 5) throw conflict(`Other deploys of ${name} were being made at the same moment; send this one again.`);
      }
    }
    const dir = this.deployDir(project.id, deploy.version);
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(stagingDir, dir);
    this.engine.wake();
    await this.audit.record(ctx, {
      action: 'batch_project.deploy',
      resourceType: 'batch_project',
      resourceId: name,
      groupId: scope.id,
      details: { version: deploy.version, script: script.name },
    });
    return { deploy: toDeploy(deploy), buildJobId: jobId };
  }

  async deploys(scope: GroupScope, name: string): Promise<BatchDeploy[]> {
    const project = await this.requireProject(scope, name);
    return (await this.store.deploys(project.id)).map(toDeploy);
  }

  buildHandler(): JobHandler<typeof BATCH_BUILD_KIND> {
    return async (ctx) => {
      const { projectId, version } = ctx.job.params;
      const deploy = await this.store.deploy(projectId, version);
      if (!deploy) throw new PermanentJobError('The deploy no longer exists.');
      try {
        const project = await this.store.projectById(projectId);
        if (!project) throw new PermanentJobError('The project was deleted.');
        const env = await this.envs.ensure(
          { python: deploy.python_version, requirements: deploy.requirements },
          { log: (l) => ctx.log(l), signal: ctx.signal, groupId: project.group_id },
        );
        await this.store.updateDeploy(projectId, version, { status: 'Ready', env_key: env.key });
        return { environment: env.key, reused: env.reused };
      } catch (err) {
        await this.store.updateDeploy(projectId, version, { status: 'Failed', message: (err as Error).message });
        throw new PermanentJobError((err as Error).message);
      }
    };
  }

  // ---- runs

  async run(ctx: RequestContext, scope: GroupScope, name: string, input: BatchRunCreate): Promise<BatchRun> {
    const run = await this.startRun(ctx, scope, name, input, 'manual');
    return run!;
  }

  /** A run from a trigger; with a dedupe key (a schedule tick), undefined when that tick already made one. */
  async startRun(
    ctx: RequestContext,
    scope: GroupScope,
    name: string,
    input: BatchRunCreate,
    trigger: RunRow['trigger'],
    dedupeKey?: string,
  ): Promise<BatchRun | undefined> {
    requireScopeRole(scope, 'editor');
    const project = await this.requireProject(scope, name);
    const body = BatchRunCreateSchema.parse(input);
    const deploy = await this.store.currentDeploy(project.id);
    if (!deploy) throw conflict(`Project ${name} has no Ready deploy yet: deploy its script (and wait for the build) first.`);
    const id = newId();
    let run: RunRow | undefined;
    await this.store.transaction(async (trx) => {
      const job = await this.engine.enqueue(
        {
          kind: BATCH_RUN_KIND,
          groupId: scope.id,
          params: { runId: id, projectId: project.id, project: name, version: deploy.version, params: body.params },
          timeoutMs: body.timeoutSeconds * 1000,
          createdBy: ctx.principal.name,
          dedupeKey,
        },
        trx,
      );
      if (!job) return;
      run = {
        id,
        project_id: project.id,
        version: deploy.version,
        params: JSON.stringify(body.params),
        trigger,
        job_id: job.id,
        created_by: ctx.principal.name,
        created_at: this.clock(),
      };
      await this.store.insertRun(trx, run);
    });
    if (!run) return undefined;
    this.engine.wake();
    return (await this.presentRuns([run], name))[0];
  }

  async runs(scope: GroupScope, name: string, limit = 100): Promise<BatchRun[]> {
    const project = await this.requireProject(scope, name);
    const rows = await this.store.runs(project.id, limit);
    return this.presentRuns(rows, name);
  }

  async getRun(scope: GroupScope, name: string, runId: string): Promise<BatchRun> {
    const project = await this.requireProject(scope, name);
    const row = await this.store.run(project.id, runId);
    if (!row) throw notFound('Run', runId);
    return (await this.presentRuns([row], name))[0]!;
  }

  async cancelRun(ctx: RequestContext, scope: GroupScope, name: string, runId: string): Promise<BatchRun> {
    requireScopeRole(scope, 'editor');
    const run = await this.getRun(scope, name, runId);
    if (['succeeded', 'failed', 'cancelled'].includes(run.status)) throw conflict(`Run ${runId} has already ${run.status}.`);
    await this.engine.cancel(run.jobId);
    await this.audit.record(ctx, { action: 'batch_run.cancel', resourceType: 'batch_run', resourceId: runId, groupId: scope.id });
    return this.getRun(scope, name, runId);
  }

  runHandler(): JobHandler<typeof BATCH_RUN_KIND> {
    return async (ctx) => {
      const { projectId, version, runId, params } = ctx.job.params;
      const project = await this.store.projectById(projectId);
      if (!project) throw new PermanentJobError('The project was deleted.');
      const profile = (await this.clusters()).find((c) => c.size === project.cluster_size)!;
      const running = (
        await this.jobsOf(
          (await this.store.runJobIds(projectId)).filter((id) => id !== ctx.job.id),
          ['running'],
        )
      ).size;
      if (running >= profile.parallelRuns) {
        ctx.log(`Cluster "${profile.name}" runs ${profile.parallelRuns} of this project at a time; waiting for a slot.`, 'system');
        throw new DeferJob(2000, 'cluster busy');
      }
      const deploy = await this.store.deploy(projectId, version);
      if (!deploy?.env_key) throw new PermanentJobError(`Deploy ${version} is not built.`);
      const workDir = path.join(this.root, projectId, 'runs', runId);
      await mkdir(workDir, { recursive: true });
      await writeFile(path.join(workDir, 'params.json'), JSON.stringify(params, null, 2));
      const group = await this.groups.nameOf(project.group_id);
      const timeoutMs = ctx.job.timeout_ms;
      // A token for this run alone: it expires with the job's time limit and is revoked when the run ends.
      const token = await this.tokens.issueWorkToken(
        project.group_id,
        `job ${ctx.job.id}: batch run ${runId}`,
        'editor',
        timeoutMs + 60_000,
        ctx.job.created_by,
      );
      const relay = await openApiRelay(this.publicUrl());
      ctx.log(`Running ${deploy.script_name} (deploy ${version}) on cluster "${profile.name}" (${profile.memoryMb} MB).`, 'system');
      try {
        const deployDir = this.deployDir(projectId, version);
        await runProcess(ctx, {
          sandbox: this.envs.sandbox,
          memoryMb: profile.memoryMb,
          secrets: [token.secret],
          run: {
            groupId: project.group_id,
            argv: [path.join(this.envs.dirOf(deploy.env_key), 'bin', 'python'), path.join(deployDir, deploy.script_name)],
            cwd: workDir,
            python: path.join(this.envs.dirOf(deploy.env_key), 'bin', 'python'),
            env: {
              FORJA_URL: this.publicUrl(),
              FORJA_TOKEN: token.secret,
              FORJA_GROUP: group ?? '',
              FORJA_RUN_ID: runId,
              FORJA_PROJECT: project.name,
              FORJA_PARAMS: JSON.stringify(params),
              HOME: workDir,
            },
            readOnly: [deployDir],
            writable: [workDir],
            apiSocket: relay.socket,
          },
        });
      } finally {
        await relay.close();
        await this.tokens.revokeWorkToken(token.id);
      }
      return { exitCode: 0 };
    };
  }

  /**
   * The jobs behind these runs, by id; a job that is gone is absent. The one place batch reads
   * the job engine's records.
   */
  /** The jobs of these runs (a project's whole history, in slices that stay under the databases' bound-parameter limits). */
  private async jobsOf(ids: readonly string[], status?: JobRow['status'][]): Promise<Map<string, JobRow>> {
    const found = new Map<string, JobRow>();
    for (let i = 0; i < ids.length; i += 500) {
      for (const j of await this.engine.list({ ids: ids.slice(i, i + 500), status })) found.set(j.id, j);
    }
    return found;
  }

  private deployDir(projectId: string, version: number): string {
    return path.join(this.root, projectId, `v${version}`);
  }

  async requireProject(scope: GroupScope, name: string): Promise<ProjectRow> {
    const row = await this.store.project(scope.id, name);
    if (!row) throw notFound('Batch project', name);
    return row;
  }

  private async present(r: ProjectRow, group: string): Promise<BatchProject> {
    const current = await this.store.currentDeploy(r.id);
    return {
      id: r.id,
      group,
      name: r.name,
      description: r.description,
      clusterSize: r.cluster_size,
      currentVersion: current?.version ?? null,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  /** Runs with their jobs' states, asked of the job engine in one go. */
  private async presentRuns(rows: RunRow[], project: string): Promise<BatchRun[]> {
    const jobs = await this.jobsOf(rows.map((r) => r.job_id));
    return rows.map((r) => this.presentRun(r, project, jobs.get(r.job_id)));
  }

  private presentRun(r: RunRow, project: string, job: JobRow | undefined): BatchRun {
    return {
      id: r.id,
      project,
      version: r.version,
      status: job?.status ?? 'failed',
      params: JSON.parse(r.params) as Record<string, unknown>,
      trigger: r.trigger,
      error: job?.error ?? (job ? null : 'Its job is gone.'),
      jobId: r.job_id,
      createdBy: r.created_by,
      createdAt: r.created_at,
      startedAt: job?.started_at ?? null,
      finishedAt: job?.finished_at ?? null,
    };
  }
}

function toDeploy(d: DeployRow): BatchDeploy {
  return {
    version: d.version,
    status: d.status,
    message: d.message,
    scriptName: d.script_name,
    pythonVersion: d.python_version,
    requirements: d.requirements,
    environment: d.env_key,
    buildJobId: d.build_job_id,
    createdBy: d.created_by,
    createdAt: d.created_at,
  };
}
