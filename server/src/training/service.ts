import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrainingFieldsSchema, TrainingPromoteSchema, type Job, type TrainingPromote, type TrainingRun } from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import { systemContext, type GroupScope, type RequestContext } from '../auth/principal.js';
import type { ArtifactsService } from '../artifacts/service.js';
import type { z } from 'zod';
import { experimentLocation, runArtifactUri } from '../artifacts/uris.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { conflict, invalid, notFound, type AppError } from '../errors.js';
import type { JobKind } from '../jobs/catalog.js';
import type { JobEngine, JobHandler } from '../jobs/engine.js';
import { PermanentJobError } from '../jobs/engine.js';
import { ProcessFailed, runProcess } from '../runtime/process.js';
import { toJob } from '../jobs/service.js';
import type { DeploymentsService } from '../deployments/service.js';
import type { StagedUpload } from '../http/multipart.js';
import type { LakeService } from '../lake/service.js';
import type { RegistryService } from '../registry/service.js';
import type { Environments } from '../runtime/environments.js';
import type { TrackingService } from '../tracking/service.js';
import { trainingRunName, type TrainingRunRow as Row, type TrainingStore } from './store.js';

export const TRAINING_KIND = 'training.run' satisfies JobKind;
const RUNNER = fileURLToPath(new URL('../../runtime/forja_train.py', import.meta.url));

/** What the runner needs besides the model's own packages. */
const RUNNER_REQUIREMENTS = 'pandas\npyarrow';

/** The `promoted` column while a promotion is under way (JSON of a finished one otherwise). */
const PROMOTING = 'promoting';

type TrainingFieldsParsed = z.output<typeof TrainingFieldsSchema>;
type TrainingPromoteParsed = z.output<typeof TrainingPromoteSchema>;
/** The runner saves the trained pipeline under this name in the run's model folder. */
const PICKLE_NAME = 'model.pkl';

/** A scorer to deploy the promoted model with (MLOps Codex's promote): its files staged by the route, and its function. */
export interface ScorerUpload {
  staged: StagedUpload;
  staging: string;
  entrypoint: string;
}

/** Two runs created at once in a group may take the same number: the loser tries again with the next. */
async function retryOnUniqueViolation(insert: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await insert();
    } catch (err) {
      if (!isUniqueViolation(err) || attempt === 5) throw err;
    }
  }
}

function alreadyPromoted(id: string, promoted: string | null): string {
  if (!promoted || promoted === PROMOTING) return `Training run ${id} is being promoted right now; its model version will show on the run in a moment.`;
  const done = JSON.parse(promoted) as { model: string; version: string };
  return `Training run ${id} was already promoted to models:/${done.model}/${done.version}. Deploy that version (POST /api/v1/deployments/from-model), or register the run again through the registry if you want another version.`;
}

export interface TrainingServiceOptions {
  store: TrainingStore;
  engine: JobEngine;
  envs: Environments;
  tracking: TrackingService;
  artifacts: ArtifactsService;
  registry: RegistryService;
  deployments: DeploymentsService;
  lake: LakeService;
  audit: AuditLog;
  /** $DATA/training: each run's files under <id>. */
  root: string;
  clock?: () => number;
}

/**
 * MLOps Codex's custom training: a script's train_model(df, base_path) runs as a job in its own
 * environment, on an uploaded file or a lake table, and everything it returns lands in a tracking
 * run; a succeeded run is promoted to a registered model version (and a deployment) in one call.
 */
export class TrainingService {
  private readonly store: TrainingStore;
  private readonly engine: JobEngine;
  private readonly envs: Environments;
  private readonly tracking: TrackingService;
  private readonly artifacts: ArtifactsService;
  private readonly registry: RegistryService;
  private readonly deployments: DeploymentsService;
  private readonly lake: LakeService;
  private readonly audit: AuditLog;
  readonly root: string;
  private readonly clock: () => number;

  constructor(options: TrainingServiceOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.envs = options.envs;
    this.tracking = options.tracking;
    this.artifacts = options.artifacts;
    this.registry = options.registry;
    this.deployments = options.deployments;
    this.lake = options.lake;
    this.audit = options.audit;
    this.root = options.root;
    this.clock = options.clock ?? Date.now;
  }

  private filesOf(id: string): string {
    return path.join(this.root, id, 'files');
  }

  /** A training upload: the files are staged in `staging` (moved here), the fields checked first; `tags` go on its tracking run. */
  async create(
    ctx: RequestContext,
    scope: GroupScope,
    id: string,
    staged: StagedUpload,
    staging: string,
    tags: { key: string; value: string }[] = [],
  ): Promise<TrainingRun> {
    requireScopeRole(scope, 'editor');
    const parsed = TrainingFieldsSchema.safeParse(staged.fields);
    if (!parsed.success) throw invalid(`Bad training fields: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'fields'}: ${i.message}`).join('; ')}`);
    const f = parsed.data;
    const source = staged.files.find((x) => x.role === 'source');
    if (!source || !/\.py$/i.test(source.name)) throw invalid('Send the training script as the "source" file (a .py defining train_model(df, base_path)).');
    const data = staged.files.find((x) => x.role === 'data');
    if (data && f.table) throw invalid('Send either a "data" file or a lake "table", not both.');
    if (!data && !f.table) throw invalid('Send the training data: a "data" file (.csv or .parquet) or the name of a lake "table".');
    if (data && !/\.(csv|parquet)$/i.test(data.name)) throw invalid(`The data file "${data.name}" must be .csv or .parquet.`);
    if (f.table) await this.lake.checkFilter(scope.id, f.table, f.filter);
    const reqFile = staged.files.find((x) => x.role === 'requirements');
    const requirements = reqFile ? await readFile(reqFile.path, 'utf8') : '';

    const experiment = await this.tracking.getExperimentByName(ctx, scope, f.experimentName).catch(async (err: unknown) => {
      if ((err as AppError).status !== 404) throw err;
      return this.tracking.createExperiment(ctx, scope, { name: f.experimentName });
    });
    const run = await this.tracking.createRun(ctx, scope, {
      experimentId: experiment.experimentId,
      runName: f.runName,
      tags: [
        { key: 'forja.training.id', value: id },
        { key: 'mlflow.source.name', value: source.name },
        { key: 'forja.model_type', value: f.modelType },
        ...(f.description ? [{ key: 'mlflow.note.content', value: f.description }] : []),
        ...tags,
      ],
    });
    await this.tracking.updateRun(ctx, run.info.runId, { status: 'SCHEDULED' });
    const folder = this.filesOf(id);
    await mkdir(path.dirname(folder), { recursive: true });
    await rename(staging, folder);
    try {
      await retryOnUniqueViolation(() =>
        this.insertAndEnqueue(
          ctx,
          scope,
          id,
          f,
          { experimentId: experiment.experimentId, runId: run.info.runId },
          {
            source: source.name,
            data: data?.name ?? null,
            requirements,
          },
        ),
      );
    } catch (err) {
      await rm(path.join(this.root, id), { recursive: true, force: true });
      throw err;
    }
    this.engine.wake();
    await this.audit.record(ctx, {
      action: 'training.start',
      resourceType: 'training_run',
      resourceId: id,
      groupId: scope.id,
      details: { experiment: f.experimentName },
    });
    return this.get(ctx, scope, id);
  }

  /** The run's row, numbered next in its group, committed with the job that runs it. */
  private insertAndEnqueue(
    ctx: RequestContext,
    scope: GroupScope,
    id: string,
    f: TrainingFieldsParsed,
    tracked: { experimentId: string; runId: string },
    files: { source: string; data: string | null; requirements: string },
  ): Promise<void> {
    return this.store.transaction(async (trx) => {
      const job = await this.engine.enqueue(
        {
          kind: TRAINING_KIND,
          groupId: scope.id,
          params: { trainingId: id, group: scope.name },
          timeoutMs: f.timeoutSeconds * 1000,
          createdBy: ctx.principal.name,
        },
        trx,
      );
      await this.store.insert(
        {
          id,
          group_id: scope.id,
          number: await this.store.nextNumber(scope.id, trx),
          experiment_id: tracked.experimentId,
          tracking_run_id: tracked.runId,
          job_id: job!.id,
          model_type: f.modelType,
          source_name: files.source,
          train_function: f.trainFunction,
          data_file: files.data,
          data_table: f.table ?? null,
          data_filter: f.filter ?? null,
          python_version: f.pythonVersion,
          requirements: files.requirements,
          promoted: null,
          created_by: ctx.principal.name,
          created_at: this.clock(),
        },
        trx,
      );
    });
  }

  async list(ctx: RequestContext, scope: GroupScope): Promise<TrainingRun[]> {
    requireScopeRole(scope, 'viewer');
    const rows = await this.store.list(scope.id);
    return Promise.all(rows.map((r) => this.present(ctx, scope, r)));
  }

  async get(ctx: RequestContext, scope: GroupScope, id: string): Promise<TrainingRun> {
    requireScopeRole(scope, 'viewer');
    return this.present(ctx, scope, await this.require(scope, id));
  }

  /** A run by its number in the group (MLOps Codex's execution id). */
  async getByNumber(ctx: RequestContext, scope: GroupScope, number: number): Promise<TrainingRun> {
    requireScopeRole(scope, 'viewer');
    const row = await this.store.getByNumber(scope.id, number);
    if (!row) throw notFound('Training run', `#${number}`);
    return this.present(ctx, scope, row);
  }

  /** The runs of one tracking experiment of the group, oldest first. */
  async listOfExperiment(ctx: RequestContext, scope: GroupScope, experimentId: string): Promise<TrainingRun[]> {
    requireScopeRole(scope, 'viewer');
    const rows = await this.store.listOfExperiment(scope.id, experimentId);
    return Promise.all(rows.map((r) => this.present(ctx, scope, r)));
  }

  /** Copies what a succeeded run produced (model/, extras/, model_output.parquet) into `dest`. */
  async copyResult(ctx: RequestContext, scope: GroupScope, id: string, dest: string): Promise<void> {
    requireScopeRole(scope, 'viewer');
    const row = await this.require(scope, id);
    const job = await this.jobOf(row, scope.name);
    if (job.status !== 'succeeded') throw conflict(`Training run #${row.number} is ${job.status}: its result is ready once it has succeeded.`);
    await this.artifacts.copyOut(ctx, runArtifactUri(experimentLocation(row.experiment_id), row.tracking_run_id), dest, scope.id);
  }

  /** Where a training run's data is (a lake table and filter, or its uploaded file), for monitors' references. */
  async dataOf(scope: GroupScope, id: string): Promise<{ table: string; filter?: string } | { file: string }> {
    requireScopeRole(scope, 'viewer');
    const row = await this.require(scope, id);
    if (row.data_table) return { table: row.data_table, ...(row.data_filter ? { filter: row.data_filter } : {}) };
    return { file: path.join(this.filesOf(row.id), row.data_file!) };
  }

  private async require(scope: GroupScope, id: string): Promise<Row> {
    const row = await this.store.getInGroup(scope.id, id);
    if (!row) throw notFound('Training run', id);
    return row;
  }

  private async jobOf(row: Row, group: string): Promise<Job> {
    const job = await this.engine.get(row.job_id);
    if (!job) throw new Error(`training run ${row.id} has no job ${row.job_id}`);
    return toJob(job, group, { type: 'training_run', id: row.id, name: trainingRunName(row.number), parentId: null });
  }

  private async present(ctx: RequestContext, scope: GroupScope, r: Row): Promise<TrainingRun> {
    const job = await this.jobOf(r, scope.name);
    const run = await this.tracking.getRun(ctx, r.tracking_run_id).catch(() => undefined);
    return {
      id: r.id,
      number: r.number,
      group: scope.name,
      experimentId: r.experiment_id,
      experimentName: run ? ((await this.tracking.getExperiment(ctx, r.experiment_id).catch(() => undefined))?.name ?? '') : '',
      trackingRunId: r.tracking_run_id,
      jobId: r.job_id,
      status: job.status,
      modelType: r.model_type as TrainingRun['modelType'],
      sourceName: r.source_name,
      trainFunction: r.train_function,
      data: { file: r.data_file, table: r.data_table, filter: r.data_filter },
      pythonVersion: r.python_version,
      metrics: Object.fromEntries((run?.data.metrics ?? []).filter((m) => typeof m.value === 'number').map((m) => [m.key, m.value as number])),
      error: job.error,
      promoted: r.promoted && r.promoted !== PROMOTING ? (JSON.parse(r.promoted) as TrainingRun['promoted']) : null,
      createdBy: r.created_by,
      createdAt: r.created_at,
    };
  }

  async cancel(ctx: RequestContext, scope: GroupScope, id: string): Promise<TrainingRun> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, id);
    const job = await this.jobOf(row, scope.name);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) throw conflict(`Training run ${id} has already ${job.status}.`);
    await this.engine.cancel(row.job_id);
    await this.audit.record(ctx, { action: 'training.cancel', resourceType: 'training_run', resourceId: id, groupId: scope.id });
    return this.get(ctx, scope, id);
  }

  /** A succeeded run becomes a registered model version (the model is made if missing), and a deployment if asked. */
  async promote(ctx: RequestContext, scope: GroupScope, id: string, input: TrainingPromote, scorer?: ScorerUpload) {
    requireScopeRole(scope, 'editor');
    const body = TrainingPromoteSchema.parse(input);
    const row = await this.require(scope, id);
    const job = await this.jobOf(row, scope.name);
    if (job.status !== 'succeeded') throw conflict(`Training run ${id} is ${job.status}: only a succeeded run can be promoted.`);
    // Claimed first, so a double click or two callers at once make one model version, not two.
    if (!(await this.store.movePromoted(id, null, PROMOTING))) throw conflict(alreadyPromoted(id, (await this.require(scope, id)).promoted));
    try {
      return await this.promoteClaimed(ctx, scope, row, body, scorer);
    } catch (err) {
      await this.store.movePromoted(id, PROMOTING, null);
      throw err;
    }
  }

  /**
   * A script deployment of the trained model: the caller's scorer files (staged) plus the run's
   * model.pkl, and the run's requirements unless the upload brings its own (MLOps Codex's promote).
   */
  private async deployScorer(ctx: RequestContext, scope: GroupScope, row: Row, deploy: NonNullable<TrainingPromoteParsed['deploy']>, scorer: ScorerUpload) {
    const trained = path.join(scorer.staging, '.trained');
    await this.artifacts.copyOut(ctx, `${runArtifactUri(experimentLocation(row.experiment_id), row.tracking_run_id)}/model`, trained, scope.id);
    const files = [...scorer.staged.files];
    const taken = (name: string) => files.some((f) => f.name === name);
    for (const [role, name] of [
      ['model', PICKLE_NAME],
      ['requirements', 'requirements.txt'],
    ] as const) {
      if (files.some((f) => f.role === role)) continue;
      if (taken(name)) throw invalid(`An uploaded file is named "${name}", which is the trained model's file; rename it.`);
      await rename(path.join(trained, name), path.join(scorer.staging, name));
      files.push({ role, name, path: path.join(scorer.staging, name), size: (await stat(path.join(scorer.staging, name))).size });
    }
    await rm(trained, { recursive: true, force: true });
    const fields = { name: deploy.name, operation: deploy.operation, kind: 'script', entrypoint: scorer.entrypoint, pythonVersion: row.python_version };
    return this.deployments.createFromUpload(ctx, scope, newId(), { fields, files }, scorer.staging);
  }

  private async promoteClaimed(ctx: RequestContext, scope: GroupScope, row: Row, body: TrainingPromoteParsed, scorer?: ScorerUpload) {
    const id = row.id;
    await this.registry.getModel(scope, body.modelName).catch(async (err: unknown) => {
      if ((err as AppError).status !== 404) throw err;
      await this.registry.createModel(ctx, scope, { name: body.modelName, description: `Trained by training run ${id}.` });
    });
    const version = await this.registry.createVersion(ctx, scope, body.modelName, {
      source: `runs:/${row.tracking_run_id}/model`,
      runId: row.tracking_run_id,
      description: `Training run ${id}`,
    });
    let deploymentId: string | null = null;
    let buildJobId: string | null = null;
    if (body.deploy) {
      const created = scorer
        ? await this.deployScorer(ctx, scope, row, body.deploy, scorer)
        : await this.deployments.createFromModel(ctx, scope, {
            name: body.deploy.name,
            modelUri: `models:/${body.modelName}/${version.version}`,
            kind: 'pickle',
            operation: body.deploy.operation,
            pythonVersion: row.python_version,
            schemaSample: body.deploy.schemaSample,
          });
      deploymentId = created.deployment.id;
      buildJobId = created.buildJobId;
    }
    await this.store.setPromoted(id, JSON.stringify({ model: body.modelName, version: String(version.version), deploymentId }));
    await this.audit.record(ctx, {
      action: 'training.promote',
      resourceType: 'training_run',
      resourceId: id,
      groupId: scope.id,
      details: { model: body.modelName, version: version.version, deploymentId },
    });
    return { run: await this.get(ctx, scope, id), modelVersion: { name: body.modelName, version: String(version.version) }, deploymentId, buildJobId };
  }

  handler(): JobHandler<typeof TRAINING_KIND> {
    return async (ctx) => {
      const row = await this.store.get(ctx.job.params.trainingId);
      if (!row) throw new PermanentJobError('The training run no longer exists.');
      const as = systemContext;
      const runId = row.tracking_run_id;
      await this.tracking.updateRun(as, runId, { status: 'RUNNING' });
      const work = path.join(this.root, row.id, 'work');
      const out = path.join(this.root, row.id, 'out');
      await rm(out, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      try {
        const files = this.filesOf(row.id);
        const data = row.data_table ? path.join(work, 'data.parquet') : path.join(files, row.data_file!);
        if (row.data_table) {
          ctx.log(`Reading lake table ${row.data_table}${row.data_filter ? ` where ${row.data_filter}` : ''}…`, 'system');
          const rows = await this.lake.exportForJob(row.group_id, row.data_table, { filter: row.data_filter ?? undefined }, data);
          ctx.log(`${rows} rows.`, 'system');
          await this.tracking.logBatch(as, runId, { params: [{ key: 'data_table', value: row.data_table }] });
        }
        // The environment's requirements travel with the model: a deployment of it loads the pickle with the same packages.
        const requirements = [row.requirements.trim(), RUNNER_REQUIREMENTS].filter(Boolean).join('\n');
        const requirementsFile = path.join(work, 'requirements.txt');
        await writeFile(requirementsFile, requirements + '\n');
        const env = await this.envs.ensure({ python: row.python_version, requirements }, { log: (l) => ctx.log(l), signal: ctx.signal, groupId: row.group_id });
        await mkdir(out, { recursive: true });
        await runProcess(ctx, {
          sandbox: this.envs.sandbox,
          run: {
            groupId: row.group_id,
            argv: [
              env.python,
              RUNNER,
              '--source',
              path.join(files, row.source_name),
              '--function',
              row.train_function,
              '--data',
              data,
              '--requirements',
              requirementsFile,
              '--out',
              out,
            ],
            cwd: work,
            python: env.python,
            env: { HOME: work, MLFLOW_RUN_ID: runId },
            // MLOps Codex's contract: the script may write extras into base_path (its files folder).
            writable: [files, work, out],
          },
        });
        const result = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as {
          metrics: Record<string, number>;
          params: Record<string, string>;
          extras: string[];
        };
        const now = this.clock();
        await this.tracking.logBatch(as, runId, {
          metrics: Object.entries(result.metrics).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
          params: Object.entries(result.params).map(([key, value]) => ({ key, value })),
        });
        const experimentDir = `${row.experiment_id}/${runId}/artifacts`;
        const uploaded = await this.uploadTree(out, experimentDir, ['result.json']);
        ctx.log(
          `Logged ${Object.keys(result.metrics).length} metrics, ${Object.keys(result.params).length} params and ${uploaded} artifacts to run ${runId}.`,
          'system',
        );
        await this.tracking.updateRun(as, runId, { status: 'FINISHED', endTime: this.clock() });
        return { trackingRunId: runId, metrics: result.metrics };
      } catch (err) {
        await this.tracking.updateRun(as, runId, { status: ctx.signal.aborted ? 'KILLED' : 'FAILED', endTime: this.clock() }).catch(() => undefined);
        // The script's own failure is final: running it again gives the same answer.
        if (err instanceof ProcessFailed) throw new PermanentJobError(err.message);
        throw err;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    };
  }

  /** Streams every file under dir into the run's artifacts, keeping the folders. */
  private async uploadTree(dir: string, artifactRoot: string, skip: string[]): Promise<number> {
    let n = 0;
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      const rel = path.relative(dir, full).split(path.sep).join('/');
      if (skip.includes(rel)) continue;
      await this.artifacts.write(systemContext, `${artifactRoot}/${rel}`, createReadStream(full));
      n++;
    }
    return n;
  }
}
