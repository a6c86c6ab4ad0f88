import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Execution } from '@forja/contracts';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { JobKind } from '../jobs/catalog.js';
import { PermanentJobError, type JobEngine, type JobHandler } from '../jobs/engine.js';
import { ProcessFailed, runProcess } from '../runtime/process.js';
import { preprocessFileOf } from './runtime.js';
import type { DeploymentsService } from './service.js';
import type { StagedUpload } from '../http/multipart.js';
import { settingsOf, type DeploymentRow, type DeploymentsStore, type ExecutionRow } from './store.js';

export const EXECUTE_KIND = 'deployment.execute' satisfies JobKind;
const RUNNER = fileURLToPath(new URL('../../runtime/forja_execute.py', import.meta.url));

export interface ExecutionsServiceOptions {
  store: DeploymentsStore;
  deployments: DeploymentsService;
  engine: JobEngine;
  clock?: () => number;
}

/**
 * Async executions (Neomaril's file in, file out): each is a durable job that runs the model in a
 * fresh process on the uploaded file. The runner marks completion atomically, so a retry after a
 * crash adopts a finished result instead of producing it twice.
 */
export class ExecutionsService {
  private readonly store: DeploymentsStore;
  private readonly deployments: DeploymentsService;
  private readonly engine: JobEngine;
  private readonly clock: () => number;

  constructor(options: ExecutionsServiceOptions) {
    this.store = options.store;
    this.deployments = options.deployments;
    this.engine = options.engine;
    this.clock = options.clock ?? Date.now;
  }

  folderOf(deploymentId: string, id: string): string {
    return path.join(this.deployments.folderOf(deploymentId), 'executions', id);
  }

  /** Anyone who may predict may run executions: members and the group's tokens. */
  async create(ctx: RequestContext, scope: GroupScope, deploymentId: string, id: string, staged: StagedUpload, stagingDir: string): Promise<Execution> {
    const dep = await this.deployments.require(scope, deploymentId);
    if (dep.operation !== 'async') throw conflict(`Deployment ${dep.name} is synchronous: call POST /api/v1/deployments/${deploymentId}/predict.`);
    if (dep.status !== 'Deployed') throw conflict(`Deployment ${dep.name} is ${dep.status}; executions need it Deployed.`);
    const input = staged.files.find((f) => f.role === 'input');
    if (!input || staged.files.length !== 1) throw invalid('Send exactly one file, in the "input" field.');
    const folder = this.folderOf(deploymentId, id);
    await mkdir(folder, { recursive: true });
    await rename(stagingDir, path.join(folder, 'input'));
    const now = this.clock();
    const row: ExecutionRow = {
      id,
      deployment_id: deploymentId,
      group_id: scope.id,
      status: 'Requested',
      message: null,
      input_name: input.name,
      input_size: input.size,
      output_name: null,
      output_size: null,
      job_id: null,
      created_by: ctx.principal.name,
      created_at: now,
      started_at: null,
      finished_at: null,
    };
    await this.store.transaction(async (trx) => {
      await this.store.insertExecution(row, trx);
      const job = await this.engine.enqueue(
        { kind: EXECUTE_KIND, groupId: scope.id, params: { executionId: id, deploymentId }, createdBy: ctx.principal.name },
        trx,
      );
      row.job_id = job!.id;
      await this.store.updateExecution(id, { job_id: row.job_id }, trx);
    });
    this.engine.wake();
    return this.present(row);
  }

  async list(scope: GroupScope, deploymentId: string): Promise<Execution[]> {
    await this.deployments.require(scope, deploymentId);
    const rows = await this.store.listExecutions(deploymentId);
    return Promise.all(rows.map((r) => this.present(r)));
  }

  async get(scope: GroupScope, deploymentId: string, id: string): Promise<Execution> {
    return this.present(await this.require(scope, deploymentId, id));
  }

  /** An execution named by its id alone, within the group (Codex's status and result URLs carry no deployment). */
  async inGroup(scope: GroupScope, id: string): Promise<Execution> {
    const row = await this.store.getExecution(id);
    if (!row || row.group_id !== scope.id) throw notFound('Execution', id);
    return this.present(row);
  }

  /** The output file, once the execution succeeded. */
  async result(scope: GroupScope, deploymentId: string, id: string): Promise<{ file: string; name: string; size: number }> {
    const row = await this.require(scope, deploymentId, id);
    if (row.status !== 'Succeeded' || !row.output_name) throw conflict(`Execution ${id} is ${row.status}; its result exists once it has succeeded.`);
    const file = path.join(this.folderOf(deploymentId, id), 'input', row.output_name);
    return { file, name: row.output_name, size: (await stat(file)).size };
  }

  handler(): JobHandler<typeof EXECUTE_KIND> {
    return async (ctx) => {
      const id = ctx.job.params.executionId;
      const row = await this.store.getExecution(id);
      if (!row) throw new PermanentJobError(`Execution ${id} no longer exists.`);
      const dep = await this.store.get(row.deployment_id);
      if (!dep) throw new PermanentJobError('Its deployment was deleted.');
      const folder = this.folderOf(dep.id, id);
      const work = path.join(folder, 'input');
      const done = path.join(folder, 'done.json');
      const finish = async (status: 'Succeeded' | 'Failed', set: Partial<ExecutionRow>) => {
        await this.store.updateExecution(id, { status, finished_at: this.clock(), ...set });
      };
      if (existsSync(done)) {
        ctx.log('A previous attempt finished this execution before its worker stopped; keeping its result.', 'system');
      } else {
        await this.store.updateExecution(id, { status: 'Running', started_at: this.clock() });
        const spec = this.deployments.runtimeSpec(dep);
        const files = JSON.parse(dep.files) as Array<{ name: string; role: string }>;
        const modelFile = files.find((f) => f.role === 'model')?.name;
        const base = path.join(spec.folder, 'files');
        const preprocess = preprocessFileOf(dep);
        try {
          const settings = settingsOf(dep);
          await runProcess(ctx, {
            sandbox: this.deployments.sandbox,
            secrets: Object.values(spec.secrets),
            run: {
              groupId: dep.group_id,
              argv: [
                spec.python,
                RUNNER,
                '--kind',
                dep.kind,
                '--path',
                path.join(spec.folder, dep.model_path),
                '--entrypoint',
                dep.entrypoint ?? 'score',
                '--method',
                dep.predict_method,
                '--input',
                path.join(work, row.input_name),
                '--model-path',
                modelFile ? path.join(base, modelFile) : base,
                '--done',
                done,
                '--base-path',
                base,
                // Which paths score(data_path, model_path) gets: the folders, or (older deployments) the files.
                '--scorer-paths',
                settings.scorerPaths,
                ...(preprocess ? ['--preprocess', path.join(base, preprocess)] : []),
              ],
              cwd: work,
              python: spec.python,
              env: {
                ...spec.secrets,
                BASE_PATH: base,
                inputFileName: row.input_name,
                EXECUTION_ID: id,
                ...(modelFile ? { modelFileName: modelFile } : {}),
                HOME: work,
              },
              readOnly: [base],
              // The execution's folder: its input (and the result written beside it) and the runner's done.json.
              writable: [folder],
              network: settings.network,
            },
          });
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          // The scorer's own failure is final: only a lost worker earns the retry.
          const message = (err as Error).message
            .split(spec.folder + path.sep)
            .join('')
            .slice(0, 4000);
          await finish('Failed', { message });
          throw err instanceof ProcessFailed ? new PermanentJobError(message) : err;
        }
      }
      const output = (JSON.parse(await readFile(done, 'utf8')) as { output: string }).output;
      if (path.dirname(output) !== work) {
        await finish('Failed', { message: `The scorer wrote its output outside the execution's folder (${output}).` });
        throw new PermanentJobError('output outside the execution folder');
      }
      const size = (await stat(output)).size;
      await finish('Succeeded', { output_name: path.basename(output), output_size: size, message: null });
      this.logRows(dep, id, path.join(work, row.input_name), output);
      return { output: path.basename(output), size };
    };
  }

  /** With `settings.inferenceLog.executions`, the input and output files' rows go to the inference log (read in the background). */
  private logRows(dep: DeploymentRow, id: string, input: string, output: string): void {
    if (!settingsOf(dep).inferenceLog.executions) return;
    const at = this.clock();
    void this.store.getExecution(id).then((row) =>
      this.deployments.inferenceLog.captureExecution({
        deploymentId: dep.id,
        groupId: dep.group_id,
        executionId: id,
        at,
        latencyMs: row?.started_at ? at - row.started_at : 0,
        modelVersion: dep.model_version,
        input,
        output,
      }),
    );
  }

  async removeFolder(deploymentId: string, id: string): Promise<void> {
    await rm(this.folderOf(deploymentId, id), { recursive: true, force: true });
  }

  private async require(scope: GroupScope, deploymentId: string, id: string): Promise<ExecutionRow> {
    await this.deployments.require(scope, deploymentId);
    const row = await this.store.getExecutionOf(deploymentId, id);
    if (!row) throw notFound('Execution', id);
    return row;
  }

  /** An execution whose job ended without it saying so (its worker lost for good) reads as Failed. */
  private async present(r: ExecutionRow): Promise<Execution> {
    let { status, message } = r;
    if ((status === 'Requested' || status === 'Running') && r.job_id) {
      const job = await this.engine.get(r.job_id);
      if (job && (job.status === 'failed' || job.status === 'cancelled')) {
        status = 'Failed';
        message = job.error ?? `The execution's job was ${job.status}.`;
      }
    }
    return {
      id: r.id,
      deploymentId: r.deployment_id,
      status,
      message,
      inputName: r.input_name,
      inputSize: r.input_size,
      outputName: r.output_name,
      outputSize: r.output_size,
      jobId: r.job_id,
      createdBy: r.created_by,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    };
  }
}
