import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeBatchPredictionCreateSchema, type Job, type LakeBatchPrediction, type LakeBatchPredictionCreate } from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import type { ArtifactsService } from '../artifacts/service.js';
import { newId } from '../db/ids.js';
import { AppError, invalid, notFound } from '../errors.js';
import type { JobKind, JobPayload } from '../jobs/catalog.js';
import { PermanentJobError, type JobContext, type JobEngine, type JobHandler } from '../jobs/engine.js';
import { ProcessFailed, runProcess } from '../runtime/process.js';
import { toJob, type JobsService } from '../jobs/service.js';
import type { RegistryService } from '../registry/service.js';
import type { Environments } from '../runtime/environments.js';
import { PICKLE_FILE, modelRequirements, safetyScan } from '../runtime/models.js';
import type { LakeService, StagedFile } from './service.js';

export const LAKE_PREDICT_KIND = 'lake.batch_predict' satisfies JobKind;
const SCORER = fileURLToPath(new URL('../../runtime/forja_lake_score.py', import.meta.url));
const PROGRESS = /^FORJA_PROGRESS (\d+) (\d+)$/;
const SYNC_TIMEOUT_MS = 15 * 60_000;

type BatchParams = JobPayload<typeof LAKE_PREDICT_KIND>;
/** A registered model version laid out on this server, ready to load in its environment. */
type StagedModel = BatchParams['staged'];

export interface LakeScoringServiceOptions {
  lake: LakeService;
  registry: RegistryService;
  artifacts: ArtifactsService;
  envs: Environments;
  engine: JobEngine;
  jobs: JobsService;
  audit: AuditLog;
  /** Where model versions are staged for scoring, once per version. */
  modelsDir: string;
}

/**
 * Scoring lake rows with registered models, on the server and in each model's own environment:
 * a frame at a time for the SDK, whole tables as jobs that write a versioned output table.
 */
export class LakeScoringService {
  private readonly lake: LakeService;
  private readonly registry: RegistryService;
  private readonly artifacts: ArtifactsService;
  private readonly envs: Environments;
  private readonly engine: JobEngine;
  private readonly jobs: JobsService;
  private readonly audit: AuditLog;
  private readonly modelsDir: string;

  constructor(options: LakeScoringServiceOptions) {
    this.lake = options.lake;
    this.registry = options.registry;
    this.artifacts = options.artifacts;
    this.envs = options.envs;
    this.engine = options.engine;
    this.jobs = options.jobs;
    this.audit = options.audit;
    this.modelsDir = options.modelsDir;
  }

  /** Copies the model's files here once per version (and scans pickles) so every run loads them locally. */
  private async stageModel(ctx: RequestContext, scope: GroupScope, uri: string): Promise<StagedModel> {
    const version = await this.registry.resolveUri(scope, uri);
    const tag = createHash('sha256').update(`${version.storageLocation}`).digest('hex').slice(0, 12);
    const dir = path.join(this.modelsDir, `${version.name.replace(/[^\w.-]/g, '_')}-v${version.version}-${tag}`);
    const marker = path.join(dir, '.forja-model.json');
    if (existsSync(marker)) return JSON.parse(await readFile(marker, 'utf8')) as StagedModel;
    const tmp = `${dir}.tmp-${newId()}`;
    try {
      await mkdir(tmp, { recursive: true });
      await this.artifacts.copyOut(ctx, version.storageLocation, tmp, scope.id);
      const listing = await readdir(tmp);
      const pickle = listing.find((n) => PICKLE_FILE.test(n));
      const kind = listing.includes('MLmodel') ? 'pyfunc' : pickle ? 'pickle' : undefined;
      if (!kind)
        throw invalid(
          `${uri} (version ${version.version}) is neither an MLflow model (no MLmodel file) nor a .pkl/.joblib file; it has ${listing.join(', ') || 'no files'}.`,
        );
      if (kind === 'pickle') {
        const findings = (await safetyScan([`pickle:${path.join(tmp, pickle!)}`])).filter((f) => f.level === 'error');
        if (findings.length)
          throw invalid(
            `${uri} (version ${version.version}) did not pass the safety scan: ${findings.map((f) => `${path.basename(f.file)}: ${f.message}`).join('; ')}`,
          );
      }
      const own = listing.includes('requirements.txt') ? await readFile(path.join(tmp, 'requirements.txt'), 'utf8') : '';
      const staged: StagedModel = {
        name: version.name,
        version: String(version.version),
        kind,
        path: kind === 'pyfunc' ? dir : path.join(dir, pickle!),
        // The scorer reads and writes Parquet: a pickle's environment needs pandas and pyarrow (pyfunc's mlflow brings them).
        requirements: modelRequirements(kind, own, kind === 'pickle' ? 'pandas\npyarrow\njoblib' : ''),
      };
      await writeFile(path.join(tmp, '.forja-model.json'), JSON.stringify(staged));
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        // Another request staged the same version first: theirs is as good as ours.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
      return JSON.parse(await readFile(marker, 'utf8')) as StagedModel;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  private async score(
    run: Pick<JobContext, 'signal' | 'log' | 'progress'>,
    groupId: string,
    model: StagedModel,
    input: string,
    output: string,
    options: { column: string; chunkRows: number; keep?: string[] },
  ): Promise<number> {
    const env = await this.envs.ensure({ python: '', requirements: model.requirements }, { log: (l) => run.log(l), signal: run.signal, groupId });
    let rows = 0;
    const log = (line: string, stream?: Parameters<JobContext['log']>[1]) => {
      const m = PROGRESS.exec(line);
      if (!m) return run.log(line, stream);
      rows = Number(m[1]);
      run.progress({ done: rows, total: Number(m[2]) });
    };
    const args = [
      '--kind',
      model.kind,
      '--model',
      model.path,
      '--input',
      input,
      '--output',
      output,
      '--column',
      options.column,
      '--chunk',
      String(options.chunkRows),
    ];
    if (options.keep) args.push('--keep', JSON.stringify(options.keep));
    try {
      const modelDir = model.kind === 'pyfunc' ? model.path : path.dirname(model.path);
      const work = path.dirname(input);
      await runProcess(
        { signal: run.signal, log },
        {
          sandbox: this.envs.sandbox,
          run: { groupId, argv: [env.python, SCORER, ...args], cwd: work, python: env.python, env: {}, readOnly: [modelDir], writable: [work] },
        },
      );
    } catch (err) {
      if (err instanceof ProcessFailed)
        throw new AppError('MODEL_ERROR', `Scoring with ${model.name} version ${model.version} failed: ${err.lastLines.slice(-5).join(' | ') || err.message}`);
      throw err;
    }
    return rows;
  }

  /** Scores one uploaded frame and answers with its predictions (the SDK's prediction_batch_with_dataframe). */
  async predictFile(ctx: RequestContext, scope: GroupScope, uri: string, upload: StagedFile): Promise<{ file: string; rows: number }> {
    requireScopeRole(scope, 'viewer');
    if (upload.format !== 'parquet') throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the rows to score as Parquet (application/vnd.apache.parquet).');
    const model = await this.stageModel(ctx, scope, uri);
    const work = path.join(this.lake.tempDir, `predict-${newId()}`);
    await mkdir(work, { recursive: true });
    const input = path.join(work, 'input.parquet');
    await rename(upload.file, input);
    const output = path.join(this.lake.tempDir, `${newId()}.parquet`);
    const lines: string[] = [];
    const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS);
    try {
      // The scorer writes only inside its own folder; the result moves out once the sandbox is gone.
      const scored = path.join(work, 'output.parquet');
      const rows = await this.score(
        { signal, log: (l) => void (lines.length < 200 && lines.push(l)), progress: () => undefined },
        scope.id,
        model,
        input,
        scored,
        { column: 'PREDICT', chunkRows: 50_000, keep: [] },
      );
      await rename(scored, output);
      return { file: output, rows };
    } catch (err) {
      await rm(output, { force: true });
      if (signal.aborted)
        throw new AppError('TIMEOUT', `Scoring took longer than ${SYNC_TIMEOUT_MS / 60_000} minutes: score big tables with a batch prediction job.`);
      throw err;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async start(ctx: RequestContext, scope: GroupScope, input: LakeBatchPredictionCreate): Promise<LakeBatchPrediction> {
    requireScopeRole(scope, 'editor');
    const body = LakeBatchPredictionCreateSchema.parse(input);
    // Everything a user can get wrong is checked now, not minutes later in the job.
    await this.lake.checkFilter(scope.id, body.sourceTable, body.filter, body.keepColumns);
    const staged = await this.stageModel(ctx, scope, body.model);
    const params: BatchParams = { ...body, staged };
    const job = await this.engine.enqueue({ kind: LAKE_PREDICT_KIND, groupId: scope.id, params, createdBy: ctx.principal.name });
    this.engine.wake();
    await this.audit.record(ctx, {
      action: 'lake.batch_prediction.start',
      resourceType: 'job',
      resourceId: job!.id,
      groupId: scope.id,
      details: { source: body.sourceTable, output: body.outputTable, model: body.model },
    });
    return this.get(scope, job!.id);
  }

  async list(scope: GroupScope): Promise<LakeBatchPrediction[]> {
    requireScopeRole(scope, 'viewer');
    const page = await this.jobs.list(scope, { kind: LAKE_PREDICT_KIND, limit: 100 });
    return page.items.map(toBatchPrediction);
  }

  async get(scope: GroupScope, jobId: string): Promise<LakeBatchPrediction> {
    requireScopeRole(scope, 'viewer');
    return toBatchPrediction(await this.job(scope, jobId));
  }

  async cancel(ctx: RequestContext, scope: GroupScope, jobId: string): Promise<LakeBatchPrediction> {
    requireScopeRole(scope, 'editor');
    await this.job(scope, jobId);
    return toBatchPrediction(await this.jobs.cancel(ctx, jobId));
  }

  private async job(scope: GroupScope, jobId: string): Promise<Job> {
    const row = await this.engine.get(jobId);
    if (!row || row.kind !== LAKE_PREDICT_KIND || row.group_id !== scope.id) throw notFound('Batch prediction', jobId);
    // A batch prediction is shown as itself: the job's owner (its output table) is in its own fields.
    return toJob(row, scope.name, null);
  }

  /** Runs only where the lake opens (the catalog's `lake` capability). */
  handler(): JobHandler<typeof LAKE_PREDICT_KIND> {
    return async (ctx) => {
      const p = ctx.job.params;
      const groupId = ctx.job.group_id!;
      const key = `job:${ctx.job.id}`;
      const prior = await this.lake.priorWrite(key);
      if (prior) {
        ctx.log(`An earlier attempt already wrote ${prior.rowsWritten} rows to ${prior.table} as VERSION ${prior.version}; nothing to do.`, 'system');
        return { version: prior.version, rowsWritten: prior.rowsWritten, modelName: p.staged.name, modelVersion: p.staged.version };
      }
      const work = path.join(this.lake.tempDir, `job-${ctx.job.id}`);
      await mkdir(work, { recursive: true });
      try {
        const input = path.join(work, 'input.parquet');
        ctx.log(`Reading ${p.sourceTable}${p.filter ? ` where ${p.filter}` : ''}…`);
        const total = await this.lake.exportForJob(groupId, p.sourceTable, { filter: p.filter }, input);
        ctx.progress({ done: 0, total });
        ctx.log(`${total} rows to score with ${p.staged.name} version ${p.staged.version}, ${p.chunkRows} at a time.`);
        const output = path.join(work, 'output.parquet');
        await this.score(ctx, groupId, p.staged, input, output, { column: p.predictionColumn, chunkRows: p.chunkRows, keep: p.keepColumns });
        const written = await this.lake.writeRows(
          { groupId, createdBy: ctx.job.created_by, idempotencyKey: key },
          p.outputTable,
          { file: output, format: 'parquet' },
          { mode: 'append', versioned: true, modelName: p.staged.name, modelVersion: p.staged.version },
        );
        ctx.log(`Wrote ${written.rowsWritten} rows to ${written.table} as VERSION ${written.version}.`);
        return { version: written.version, rowsWritten: written.rowsWritten, modelName: p.staged.name, modelVersion: p.staged.version };
      } catch (err) {
        // Bad rows, a schema that does not match the output table or the model's own error: retrying cannot help.
        if (err instanceof AppError && err.status < 500) throw new PermanentJobError(err.message);
        throw err;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    };
  }
}

function toBatchPrediction(job: Job): LakeBatchPrediction {
  const p = job.params as Partial<BatchParams>;
  const progress = job.progress as { done?: number; total?: number } | null;
  const result = job.result as LakeBatchPrediction['result'];
  return {
    jobId: job.id,
    status: job.status,
    sourceTable: String(p.sourceTable ?? ''),
    outputTable: String(p.outputTable ?? ''),
    model: String(p.model ?? ''),
    progress: progress && typeof progress.done === 'number' && typeof progress.total === 'number' ? { done: progress.done, total: progress.total } : null,
    result: job.status === 'succeeded' && result ? result : null,
    error: job.error,
    createdAt: job.createdAt,
  };
}
