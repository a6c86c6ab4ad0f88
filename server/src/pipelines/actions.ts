import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ColumnDrift, PipelineAction } from '@forja/contracts';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import type { TokensService } from '../auth/tokens-service.js';
import { newId } from '../db/ids.js';
import type { DeploymentsService } from '../deployments/service.js';
import type { StagedUpload } from '../http/multipart.js';
import { invalid } from '../errors.js';
import type { JobContext, JobEngine } from '../jobs/engine.js';
import { openApiRelay } from '../runtime/api-relay.js';
import { runProcess } from '../runtime/process.js';
import type { LakeScoringService } from '../lake/scoring.js';
import type { LakeService } from '../lake/service.js';
import type { MonitorsService } from '../monitoring/service.js';
import type { RegistryService } from '../registry/service.js';
import type { Environments } from '../runtime/environments.js';
import type { TrainingService } from '../training/service.js';

export interface ActionDeps {
  engine: JobEngine;
  envs: Environments;
  tokens: TokensService;
  training: TrainingService;
  registry: RegistryService;
  deployments: DeploymentsService;
  lakeScoring: LakeScoringService;
  lake: LakeService;
  monitors: MonitorsService;
  publicUrl: () => string;
}

/** Where a step runs: its group, who started the run, the pipeline version's files and a work folder. */
export interface StepRun {
  ctx: RequestContext;
  scope: GroupScope;
  job: JobContext;
  files: string;
  work: string;
  pythonVersion: string;
  runId: string;
  stepId: string;
  createdBy: string | null;
}

type Inputs = Record<string, unknown>;
type Outputs = Record<string, unknown>;

const str = (inputs: Inputs, key: string, step: string): string => {
  const v = inputs[key];
  if (v === undefined || v === null || v === '') throw invalid(`Step "${step}" needs "${key}".`);
  return String(v);
};
const opt = (inputs: Inputs, key: string): string | undefined => (inputs[key] === undefined || inputs[key] === null ? undefined : String(inputs[key]));

/** Waits for a job this step started; a cancelled step cancels it. */
async function waitForJob(deps: ActionDeps, run: StepRun, jobId: string, what: string): Promise<Record<string, unknown>> {
  run.job.log(`Waiting for ${what} (job ${jobId})…`, 'system');
  let job;
  try {
    job = await deps.engine.waitFor(jobId, { signal: run.job.signal });
  } catch (err) {
    if (!run.job.signal.aborted) throw err;
    await deps.engine.cancel(jobId);
    throw run.job.signal.reason;
  }
  if (!job) throw new Error(`${what}: its job ${jobId} is gone.`);
  if (job.status === 'succeeded') return job.result ? (JSON.parse(job.result) as Record<string, unknown>) : {};
  throw new Error(`${what} ${job.status}: ${job.error ?? 'no message'}`);
}

async function stageFiles(run: StepRun, roles: Record<string, string | undefined>): Promise<{ staged: StagedUpload; dir: string }> {
  const dir = path.join(run.work, `staging-${newId()}`);
  await mkdir(dir, { recursive: true });
  const files: StagedUpload['files'] = [];
  for (const [role, name] of Object.entries(roles)) {
    if (!name) continue;
    const target = path.join(dir, path.basename(name));
    await copyFile(path.join(run.files, name), target);
    files.push({ role: role as StagedUpload['files'][number]['role'], name: path.basename(name), path: target, size: (await stat(target)).size });
  }
  return { staged: { fields: {}, files }, dir };
}

const ACTIONS: Record<PipelineAction, (deps: ActionDeps, run: StepRun, inputs: Inputs) => Promise<Outputs>> = {
  async script(deps, run, inputs) {
    const script = str(inputs, 'script', run.stepId);
    const requirements = inputs.requirements ? await readFile(path.join(run.files, String(inputs.requirements)), 'utf8') : '';
    const env = await deps.envs.ensure(
      { python: run.pythonVersion, requirements },
      { log: (l) => run.job.log(l), signal: run.job.signal, groupId: run.scope.id },
    );
    const outputsFile = path.join(run.work, 'outputs.json');
    // A token for this step alone: it expires with the job's time limit and is revoked when the step ends.
    const token = await deps.tokens.issueWorkToken(
      run.scope.id,
      `job ${run.job.job.id}: pipeline run ${run.runId} step ${run.stepId}`,
      'editor',
      run.job.job.timeout_ms + 60_000,
      run.createdBy,
    );
    const relay = await openApiRelay(deps.publicUrl());
    try {
      await runProcess(run.job, {
        sandbox: deps.envs.sandbox,
        secrets: [token.secret],
        run: {
          groupId: run.scope.id,
          argv: [env.python, path.join(run.files, script)],
          cwd: run.work,
          python: env.python,
          env: {
            HOME: run.work,
            FORJA_URL: deps.publicUrl(),
            FORJA_TOKEN: token.secret,
            FORJA_GROUP: run.scope.name,
            FORJA_PARAMS: JSON.stringify(inputs.params ?? {}),
            FORJA_OUTPUTS: outputsFile,
            FORJA_PIPELINE_RUN: run.runId,
            FORJA_STEP: run.stepId,
            FORJA_FILES: run.files,
          },
          readOnly: [run.files],
          writable: [run.work],
          apiSocket: relay.socket,
        },
      });
    } finally {
      await relay.close();
      await deps.tokens.revokeWorkToken(token.id);
    }
    // A script hands values to later steps by writing a JSON object to $FORJA_OUTPUTS.
    const written = await readFile(outputsFile, 'utf8').catch(() => undefined);
    if (written === undefined) return {};
    const parsed = JSON.parse(written) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('$FORJA_OUTPUTS must hold a JSON object.');
    return parsed as Outputs;
  },

  async train(deps, run, inputs) {
    const table = opt(inputs, 'table');
    const { staged, dir } = await stageFiles(run, {
      source: str(inputs, 'source', run.stepId),
      data: table ? undefined : str(inputs, 'data', run.stepId),
      requirements: opt(inputs, 'requirements'),
    });
    staged.fields = Object.fromEntries(
      Object.entries({
        experimentName: str(inputs, 'experiment', run.stepId),
        runName: opt(inputs, 'runName'),
        modelType: opt(inputs, 'modelType'),
        trainFunction: opt(inputs, 'trainFunction'),
        pythonVersion: run.pythonVersion,
        table,
        filter: opt(inputs, 'filter'),
      }).filter((e): e is [string, string] => e[1] !== undefined),
    );
    try {
      const started = await deps.training.create(run.ctx, run.scope, newId(), staged, dir);
      run.job.log(`Training run ${started.id} (tracking run ${started.trackingRunId}).`, 'system');
      const result = await waitForJob(deps, run, started.jobId, 'the training run');
      return { trainingId: started.id, trackingRunId: started.trackingRunId, ...((result.metrics as Outputs | undefined) ?? {}) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },

  async register(deps, run, inputs) {
    const deploy = inputs.deploy as { name?: string; operation?: 'sync' | 'async' } | undefined;
    const trainingId = str(inputs, 'training', run.stepId);
    const modelName = str(inputs, 'model', run.stepId);
    // A retried step (the job retried, or the run retried from here) finds its own promotion and
    // goes on from it: a training run is promoted once.
    const earlier = (await deps.training.get(run.ctx, run.scope, trainingId)).promoted;
    if (earlier && earlier.model === modelName) {
      run.job.log(`Training run ${trainingId} was already promoted to models:/${earlier.model}/${earlier.version}; using that version.`, 'system');
      const buildJobId = earlier.deploymentId ? (await deps.deployments.get(run.scope, earlier.deploymentId)).buildJobId : null;
      if (buildJobId) await waitForJob(deps, run, buildJobId, `the build of deployment ${earlier.deploymentId}`);
      return { model: earlier.model, version: earlier.version, deploymentId: earlier.deploymentId };
    }
    const promoted = await deps.training.promote(run.ctx, run.scope, trainingId, {
      modelName,
      ...(deploy?.name ? { deploy: { name: deploy.name, operation: deploy.operation ?? 'sync' } } : {}),
    });
    if (promoted.buildJobId) await waitForJob(deps, run, promoted.buildJobId, `the build of deployment ${deploy!.name}`);
    return { model: promoted.modelVersion.name, version: promoted.modelVersion.version, deploymentId: promoted.deploymentId };
  },

  async transition(deps, run, inputs) {
    const model = str(inputs, 'model', run.stepId);
    const version = str(inputs, 'version', run.stepId);
    const stage = str(inputs, 'stage', run.stepId);
    const out = await deps.registry.transition(run.ctx, run.scope, model, version, stage, inputs.archiveExisting !== false, `pipeline run ${run.runId}`);
    if (out.approvalRequest)
      throw new Error(
        `Moving ${model} version ${version} to ${stage} needs an approval (request ${out.approvalRequest.id}); approve it, then re-run this step.`,
      );
    return { model, version, stage };
  },

  async deploy(deps, run, inputs) {
    const created = await deps.deployments.createFromModel(run.ctx, run.scope, {
      name: str(inputs, 'name', run.stepId),
      modelUri: str(inputs, 'model', run.stepId),
      kind: (opt(inputs, 'kind') as 'pyfunc' | 'pickle' | undefined) ?? 'pyfunc',
      operation: (opt(inputs, 'operation') as 'sync' | 'async' | undefined) ?? 'sync',
      pythonVersion: run.pythonVersion,
      ...(inputs.schemaSample !== undefined ? { schemaSample: inputs.schemaSample } : {}),
    });
    await waitForJob(deps, run, created.buildJobId, `the build of deployment ${created.deployment.name}`);
    return { deploymentId: created.deployment.id, name: created.deployment.name };
  },

  async 'batch-predict'(deps, run, inputs) {
    const started = await deps.lakeScoring.start(run.ctx, run.scope, {
      sourceTable: str(inputs, 'source', run.stepId),
      filter: opt(inputs, 'filter'),
      model: str(inputs, 'model', run.stepId),
      outputTable: str(inputs, 'output', run.stepId),
      ...(inputs.keepColumns ? { keepColumns: inputs.keepColumns as string[] } : {}),
    });
    const result = await waitForJob(deps, run, started.jobId, `the batch prediction into ${started.outputTable}`);
    return { ...result, jobId: started.jobId };
  },

  async 'drift-check'(deps, run, inputs) {
    const threshold = inputs.threshold === undefined ? 0.1 : Number(inputs.threshold);
    if (!Number.isFinite(threshold) || threshold <= 0)
      throw invalid(`Step "${run.stepId}": threshold must be a positive number (PSI 0.1 is "investigate", 0.25 "act").`);
    // PSI over the reference's deciles with ε 1e-4 unless the step asks for another binning (binning, bins, epsilon).
    const psiOptions = {
      binning: (opt(inputs, 'binning') ?? 'quantile') as 'quantile' | 'evidently' | 'equal-width',
      bins: inputs.bins === undefined ? 10 : Number(inputs.bins),
      epsilon: inputs.epsilon === 'evidently' ? ('evidently' as const) : inputs.epsilon === undefined ? 1e-4 : Number(inputs.epsilon),
    };
    const report = await deps.lake.drift(
      run.scope.id,
      { table: str(inputs, 'reference', run.stepId), filter: opt(inputs, 'referenceFilter') },
      { table: str(inputs, 'current', run.stepId), filter: opt(inputs, 'currentFilter') },
      {
        ...(Array.isArray(inputs.columns) ? { columns: inputs.columns.map(String) } : {}),
        numericalMethod: 'psi',
        categoricalMethod: 'psi',
        numericalThreshold: threshold,
        categoricalThreshold: threshold,
        psi: psiOptions,
      },
    );
    const value = (c: ColumnDrift) => c.result.statistic ?? 0;
    const psi = Object.fromEntries(report.columns.map((c) => [c.column, Number(value(c).toFixed(6))]));
    const drifted = report.columns.filter((c) => c.drifted).map((c) => c.column);
    for (const c of report.columns)
      run.job.log(
        `${c.column}: PSI ${value(c).toFixed(4)} over ${c.result.bins} ${c.result.binning === 'quantile' ? 'reference-quantile bins' : c.kind === 'categorical' ? 'categories' : `${c.result.binning} bins`}${c.drifted ? '  ← drifted' : ''}${c.note ? ` (${c.note})` : ''}`,
      );
    if (drifted.length && inputs.failOnDrift === true)
      throw new Error(`Drift at or above PSI ${threshold} in ${drifted.join(', ')} (${drifted.map((d) => psi[d]).join(', ')}).`);
    return {
      psi,
      drifted,
      maxPsi: Math.max(...report.columns.map(value)),
      threshold,
      referenceRows: report.referenceRows,
      currentRows: report.currentRows,
      epsilon: psiOptions.epsilon,
    };
  },
  monitor: (deps, run, inputs) => monitorAction(deps, run, inputs),
};

/** A monitor of the deployed model from MLOps Codex's configuration.json (the pipeline YAML's `monitoring:` section). */
async function monitorAction(deps: ActionDeps, run: StepRun, inputs: Inputs): Promise<Outputs> {
  const configFile = str(inputs, 'config', run.stepId);
  let configuration: Record<string, unknown>;
  try {
    configuration = JSON.parse(await readFile(path.join(run.files, configFile), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw invalid(`Step "${run.stepId}": ${configFile} is not JSON (${(err as Error).message}).`);
  }
  // As MLOps Codex's run_monitoring does: the pipeline's own training run is the reference unless the file names one.
  const training = opt(inputs, 'training');
  const trainData = (configuration.TrainData ?? {}) as Record<string, unknown>;
  if (training && !trainData.MLOpsTrainingExecution && !trainData.TrainDateCol)
    configuration = { ...configuration, TrainData: { ...trainData, MLOpsTrainingExecution: training } };
  const name = str(inputs, 'name', run.stepId);
  const existing = await deps.monitors.get(run.scope, name).catch(() => undefined);
  // A retried step finds the monitor it made.
  if (existing) {
    run.job.log(`Monitor ${name} exists already (${existing.id}).`, 'system');
    return { monitorId: existing.id, name };
  }
  const shap = opt(inputs, 'shapFunction');
  const monitor = await deps.monitors.createFromCodex(run.ctx, run.scope, {
    name,
    deployment: str(inputs, 'deployment', run.stepId),
    configuration: configuration as never,
    ...(shap ? { checks: { explanations: { function: shap } } } : {}),
  });
  run.job.log(`Monitor ${monitor.name} (${monitor.id}) watches deployment ${monitor.deploymentId} every ${monitor.period}.`, 'system');
  return { monitorId: monitor.id, name: monitor.name };
}

export async function runAction(deps: ActionDeps, run: StepRun, action: PipelineAction, inputs: Inputs): Promise<Outputs> {
  await mkdir(run.work, { recursive: true });
  await writeFile(path.join(run.work, 'inputs.json'), JSON.stringify(inputs, null, 2));
  return ACTIONS[action](deps, run, inputs);
}
