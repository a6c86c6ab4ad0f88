import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import { TrainingModelTypeSchema, type Experiment, type TrainingRun } from '@forja/contracts';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessPolicy } from '../../auth/access.js';
import type { GroupsService } from '../../auth/groups-service.js';
import type { GroupScope, RequestContext } from '../../auth/principal.js';
import { newId } from '../../db/ids.js';
import { AppError, alreadyExists, invalid } from '../../errors.js';
import { contextOf } from '../../http/auth-hooks.js';
import { stageUpload, type FileRole, type StagedFile, type StagedUpload } from '../../http/multipart.js';
import type { App } from '../../http/types.js';
import type { TrackingService } from '../../tracking/service.js';
import type { TrainingService } from '../../training/service.js';
import { codexGroupScope } from './group-scope.js';
import { forjaNameOf } from './model-mapping.js';
import { zipFolder } from './zip.js';

/** The experiment tag that makes a tracking experiment an MLOps Codex training experiment, with its model type. */
export const MODEL_TYPE_TAG = 'forja.training.model_type';
/** The tracking run tag keeping the Python version a Codex upload asked for (runs use the server's interpreter). */
const PYTHON_TAG = 'codex.python_version';

export interface CodexTrainingDeps {
  training: TrainingService;
  tracking: TrackingService;
  groups: GroupsService;
  access: AccessPolicy;
}

/** Every training route is a management call: a user's token, never a group token (403). */
const management = { auth: { authenticated: true } } as const;
const UPLOAD_FILE_LIMIT = 2 * 1024 * 1024 * 1024;
/** Every file field Codex's training upload and promote send. */
const UPLOAD_ROLES = [
  'train_data',
  'source',
  'requirements',
  'env',
  'extra',
  'conf_dict',
  'features',
  'target',
  'output',
  'model',
  'parameters',
  'metrics',
] as const;
const PROMOTE_ROLES = ['source', 'schema', 'requirements', 'env', 'extra'] as const;

/** TrainingHash is "T" and the tracking experiment's id (a bare id is accepted too). */
const TrainingHash = z
  .string()
  .regex(/^T?\d{1,18}$/, 'must be a TrainingHash as training/register returns it, "T" and digits')
  .transform((h) => h.replace(/^T/, ''));
/** A training execution id is the run's number within its group. */
const ExecutionId = z.coerce
  .number()
  .int()
  .min(1, 'must be a positive whole number')
  .max(2 ** 31);
const GroupParam = z.object({ g: z.string() });
const ExperimentParams = GroupParam.extend({ training: TrainingHash }).strict();
const ExecutionParams = GroupParam.extend({ execution: ExecutionId }).strict();
const ExperimentExecutionParams = ExperimentParams.extend({ execution: ExecutionId }).strict();

const hashOf = (experimentId: string) => `T${experimentId}`;

/** Forja job states as Codex's ExecutionState. */
function stateOf(run: TrainingRun): 'Requested' | 'Running' | 'Succeeded' | 'Failed' {
  if (run.status === 'queued') return 'Requested';
  if (run.status === 'running') return 'Running';
  if (run.status === 'succeeded') return 'Succeeded';
  return 'Failed';
}

function messageOf(run: TrainingRun): string {
  if (run.status === 'succeeded') return `runs:/${run.trackingRunId}/model`;
  if (run.status === 'failed' || run.status === 'cancelled') return run.error ?? `Training execution ${run.number} was ${run.status}.`;
  return `Training execution ${run.number} is ${run.status}.`;
}

/**
 * Codex's `PythonXY` names. Training runs use the server's own interpreter (Codex's clients only
 * offer 3.8–3.10, which a server may not have); the request is kept as the run's tag.
 */
function checkPython(value: string | undefined): void {
  if (value !== undefined && !/^Python3\d{1,2}$|^3\.\d{1,2}$/.test(value))
    throw invalid(`python_version "${value.slice(0, 40)}" is not one of Codex's names (Python38, Python39, Python310).`);
}

function field(fields: Record<string, string>, name: string): string | undefined {
  const v = fields[name]?.trim();
  return v ? v : undefined;
}

/**
 * MLOps Codex's training v1 routes (datarisk-mlops-codex 3.x and 4.x): experiments are tracking
 * experiments tagged with their model type, executions are Forja training runs numbered within
 * their group, and promote deploys the caller's scorer with the trained model.
 */
export function registerCodexTrainingRoutes(app: App, deps: CodexTrainingDeps): void {
  const { training, tracking } = deps;

  /** The group's training experiment behind a TrainingHash; another group's or a plain experiment is not found. */
  const experimentOf = async (ctx: RequestContext, scope: GroupScope, id: string): Promise<Experiment & { modelType: string }> => {
    const missing = () => new AppError('NOT_FOUND', `Training experiment ${hashOf(id)} not found in group "${scope.name}".`);
    const exp = await tracking.getExperiment(ctx, id).catch((err: unknown) => {
      throw err instanceof AppError && err.status === 404 ? missing() : err;
    });
    const modelType = exp.tags.find((t) => t.key === MODEL_TYPE_TAG)?.value;
    if (exp.group !== scope.name || !modelType || exp.lifecycleStage !== 'active') throw missing();
    return { ...exp, modelType };
  };

  /** An execution of the group, checked to belong to the experiment when one is named. */
  const executionOf = async (ctx: RequestContext, scope: GroupScope, number: number, experimentId?: string): Promise<TrainingRun> => {
    const run = await training.getByNumber(ctx, scope, number).catch((err: unknown) => {
      throw err instanceof AppError && err.status === 404 ? new AppError('NOT_FOUND', `Training execution ${number} not found in group "${scope.name}".`) : err;
    });
    if (experimentId !== undefined && run.experimentId !== experimentId)
      throw new AppError('NOT_FOUND', `Training execution ${number} is not an execution of experiment ${hashOf(experimentId)}.`);
    return run;
  };

  const scopeOf = (req: FastifyRequest, needed: 'viewer' | 'editor') => codexGroupScope(deps.access, req, (req.params as { g: string }).g, needed);

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    if (!scope.hasContentTypeParser('multipart/form-data'))
      await scope.register(multipart, { limits: { fileSize: UPLOAD_FILE_LIMIT, files: 50, fields: 30, fieldSize: 100_000 } });

    scope.post(
      '/training/register/:g',
      {
        config: management,
        schema: { hide: true, params: GroupParam.strict(), body: z.object({ experiment_name: z.string(), model_type: z.string() }).loose() },
      },
      async (req, reply) => {
        const ctx = contextOf(req);
        const group = await scopeOf(req, 'editor');
        const name = req.body.experiment_name.trim();
        const type = TrainingModelTypeSchema.safeParse(req.body.model_type);
        if (!type.success) throw invalid(`model_type "${req.body.model_type.slice(0, 40)}" must be Classification, Regression or Unsupervised.`);
        const existing = await tracking.getExperimentByName(ctx, group, name).catch((err: unknown) => {
          if (err instanceof AppError && err.status === 404) return undefined;
          throw err;
        });
        if (!existing) {
          const created = await tracking.createExperiment(ctx, group, { name, tags: [{ key: MODEL_TYPE_TAG, value: type.data }] });
          return reply
            .code(201)
            .send({ TrainingHash: hashOf(created.experimentId), Message: `Training experiment "${name}" created in group "${group.name}".` });
        }
        const had = existing.tags.find((t) => t.key === MODEL_TYPE_TAG)?.value;
        if (had && had !== type.data)
          throw alreadyExists(
            `Group "${group.name}" already has the ${had} experiment "${name}" (${hashOf(existing.experimentId)}); Forja keeps one experiment per name in a group: choose another name.`,
          );
        // An experiment of that name made through Forja or MLflow becomes the training experiment.
        if (!had) await tracking.setExperimentTag(ctx, existing.experimentId, MODEL_TYPE_TAG, type.data);
        return reply.code(201).send({
          TrainingHash: hashOf(existing.experimentId),
          Message: `Training experiment "${name}" already exists in group "${group.name}": reusing it (Forja keeps one experiment per name).`,
        });
      },
    );

    scope.get(
      '/training/search',
      {
        config: { auth: { authenticated: true } },
        schema: { hide: true, querystring: z.object({ name: z.string().optional(), group: z.string().optional(), model_type: z.string().optional() }).loose() },
      },
      async (req) => {
        const ctx = contextOf(req);
        const q = req.query;
        const Results: { TrainingHash: string; ExperimentName: string; GroupName: string; ModelType: string; CreatedAt: string }[] = [];
        for (const g of await deps.groups.list(ctx)) {
          if (q.group && g.name !== q.group) continue;
          const scope = await deps.access.requireGroup(ctx.principal, g.name, 'viewer');
          const { experiments } = await tracking.searchExperiments(ctx, scope, { filter: `tags.\`${MODEL_TYPE_TAG}\` IS NOT NULL` });
          for (const e of experiments) {
            const modelType = e.tags.find((t) => t.key === MODEL_TYPE_TAG)!.value;
            if (q.name && !e.name.toLowerCase().includes(q.name.toLowerCase())) continue;
            if (q.model_type && modelType !== q.model_type) continue;
            Results.push({
              TrainingHash: hashOf(e.experimentId),
              ExperimentName: e.name,
              GroupName: g.name,
              ModelType: modelType,
              CreatedAt: new Date(e.creationTime).toISOString(),
            });
          }
        }
        return { Count: Results.length, Results };
      },
    );

    scope.get('/training/describe/:g/:training', { config: management, schema: { hide: true, params: ExperimentParams } }, async (req) => {
      const ctx = contextOf(req);
      const group = await scopeOf(req, 'viewer');
      const exp = await experimentOf(ctx, group, req.params.training);
      const runs = await training.listOfExperiment(ctx, group, exp.experimentId);
      return {
        Description: {
          TrainingHash: hashOf(exp.experimentId),
          ExperimentName: exp.name,
          GroupName: group.name,
          ModelType: exp.modelType,
          CreatedAt: new Date(exp.creationTime).toISOString(),
          Executions: runs.map((r) => ({ Id: r.number, ExecutionState: stateOf(r), TrainingType: trainingTypeOf(r) })),
        },
      };
    });

    scope.post('/training/upload/:g/:training', { config: management, schema: { hide: true, params: ExperimentParams } }, async (req, reply) => {
      const ctx = contextOf(req);
      const group = await scopeOf(req, 'editor');
      const exp = await experimentOf(ctx, group, req.params.training);
      const id = newId();
      const staging = path.join(training.root, '.staging', id);
      try {
        const staged = await stageUpload(req, staging, UPLOAD_ROLES);
        const run = await training.create(ctx, group, id, await codexUpload(staged, exp, staging), staging, [
          { key: PYTHON_TAG, value: field(staged.fields, 'python_version') ?? 'Python310' },
        ]);
        return reply
          .code(201)
          .send({ ExecutionId: run.number, Message: `Training execution ${run.number} of ${hashOf(exp.experimentId)} uploaded and queued.` });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });

    scope.get('/training/execute/:g/:training/:execution', { config: management, schema: { hide: true, params: ExperimentExecutionParams } }, async (req) => {
      const ctx = contextOf(req);
      const group = await scopeOf(req, 'editor');
      await experimentOf(ctx, group, req.params.training);
      const run = await executionOf(ctx, group, req.params.execution, req.params.training);
      // Forja queues a training run when it is uploaded, so there is nothing left to start here.
      return { ExecutionId: run.number, Status: stateOf(run), Message: `Training execution ${run.number} was queued at upload; it is ${run.status}.` };
    });

    scope.get('/training/status/:g/:execution', { config: management, schema: { hide: true, params: ExecutionParams } }, async (req) => {
      const run = await executionOf(contextOf(req), await scopeOf(req, 'viewer'), req.params.execution);
      return { ExecutionId: run.number, Status: stateOf(run), Message: messageOf(run) };
    });

    scope.get('/training/describe/:g/:training/:execution', { config: management, schema: { hide: true, params: ExperimentExecutionParams } }, async (req) => {
      const ctx = contextOf(req);
      const group = await scopeOf(req, 'viewer');
      const exp = await experimentOf(ctx, group, req.params.training);
      const run = await executionOf(ctx, group, req.params.execution, exp.experimentId);
      const tracked = await tracking.getRun(ctx, run.trackingRunId);
      const note = tracked.data.tags.find((t) => t.key === 'mlflow.note.content')?.value ?? '';
      const end = tracked.info.endTime ?? null;
      return {
        Description: {
          TrainingHash: hashOf(exp.experimentId),
          ExperimentName: exp.name,
          GroupName: group.name,
          ModelType: exp.modelType,
          TrainingType: trainingTypeOf(run),
          ExecutionId: run.number,
          RunName: tracked.info.runName,
          ExecutionState: stateOf(run),
          Message: messageOf(run),
          TimeElapsed: end === null ? null : Math.max(0, end - tracked.info.startTime) / 1000,
          Description: note,
          Deployable: run.status === 'succeeded' && run.promoted === null,
          RunData: {
            metrics: tracked.data.metrics,
            params: tracked.data.params,
            tags: tracked.data.tags,
          },
        },
      };
    });

    scope.get('/training/result/:g/:execution', { config: management, schema: { hide: true, params: ExecutionParams } }, async (req, reply) => {
      const ctx = contextOf(req);
      const group = await scopeOf(req, 'viewer');
      const run = await executionOf(ctx, group, req.params.execution);
      const dir = await mkdtemp(path.join(tmpdir(), 'forja-codex-result-'));
      try {
        await training.copyResult(ctx, group, run.id, dir);
        const zip = await zipFolder(dir);
        return reply.type('application/zip').header('content-disposition', `attachment; filename="training-${run.number}.zip"`).send(zip);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    scope.post(
      '/training/promote/:g/:training/:execution',
      { config: management, schema: { hide: true, params: ExperimentExecutionParams } },
      async (req, reply) => {
        const ctx = contextOf(req);
        const group = await scopeOf(req, 'editor');
        const exp = await experimentOf(ctx, group, req.params.training);
        const run = await executionOf(ctx, group, req.params.execution, exp.experimentId);
        const staging = path.join(training.root, '.staging', newId());
        try {
          const staged = await stageUpload(req, staging, PROMOTE_ROLES);
          const display = field(staged.fields, 'name');
          if (!display) throw invalid('Send the model\'s "name".');
          const entrypoint = field(staged.fields, 'model_reference');
          if (!entrypoint) throw invalid('Send "model_reference", the scoring function of the source file.');
          if (!staged.files.some((f) => f.role === 'source')) throw invalid('Send the scoring script as the "source" file.');
          const operation = (field(staged.fields, 'operation') ?? 'Sync').toLowerCase();
          if (operation !== 'sync' && operation !== 'async') throw invalid(`operation must be Sync or Async, not "${operation.slice(0, 20)}".`);
          const name = forjaNameOf(display);
          const promoted = await training.promote(
            ctx,
            group,
            run.id,
            { modelName: name, deploy: { name, operation } },
            { staged: { fields: {}, files: staged.files }, staging, entrypoint },
          );
          return reply.code(201).send({
            ModelHash: promoted.deploymentId,
            Message: `Training execution ${run.number} promoted to models:/${name}/${promoted.modelVersion.version}, deployment "${name}" is building.`,
          });
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
  });
}

/** The train_model that stands for an External run (a model trained elsewhere): see the script. */
const EXTERNAL_SCRIPT = 'forja_codex_external.py';
const EXTERNAL_SCRIPT_PATH = fileURLToPath(new URL(`../../../runtime/${EXTERNAL_SCRIPT}`, import.meta.url));
/** External's files, under the names the script reads. */
const EXTERNAL_FILES: Partial<Record<FileRole, string>> = {
  features: 'features.parquet',
  target: 'target.parquet',
  output: 'predictions.parquet',
  model: 'model.pkl',
  parameters: 'parameters.json',
  metrics: 'metrics.json',
};

const trainingTypeOf = (run: TrainingRun) => (run.sourceName === EXTERNAL_SCRIPT ? 'External' : 'Custom');

/**
 * A Codex upload as Forja's training upload. Custom runs the caller's train_model; External (a
 * model trained elsewhere) runs a train_model of Forja's that loads the uploaded model, so it is
 * checked and logged like any run; AutoML has no trainer on Forja.
 */
async function codexUpload(staged: StagedUpload, exp: Experiment & { modelType: string }, staging: string): Promise<StagedUpload> {
  const f = staged.fields;
  const type = field(f, 'training_type') ?? 'External';
  if (type === 'AutoML')
    throw invalid(
      'AutoML training is not supported on Forja: it has no AutoML trainer. Train with training_type="Custom" and your own train_model(df, base_path).',
    );
  if (type !== 'Custom' && type !== 'External') throw invalid(`training_type "${type.slice(0, 20)}" must be Custom or External.`);
  if (staged.files.some((x) => x.role === 'env'))
    throw invalid('Forja does not take a .env file for training runs: put the settings the script needs in an extra file, or in the script.');
  checkPython(field(f, 'python_version'));
  const fields: Record<string, string> = { experimentName: exp.name, modelType: exp.modelType, pythonVersion: '' };
  const runName = field(f, 'run_name');
  if (runName) fields.runName = runName;
  const description = field(f, 'description');
  if (description) fields.description = description;
  const allowed = type === 'Custom' ? ['train_data', 'source', 'requirements', 'extra'] : [...Object.keys(EXTERNAL_FILES), 'requirements', 'extra'];
  const stray = staged.files.find((x) => !allowed.includes(x.role));
  if (stray) throw invalid(`The file field "${stray.role}" does not belong to ${type} training.`);

  if (type === 'External') {
    for (const needed of ['features', 'target', 'model'] as const)
      if (!staged.files.some((x) => x.role === needed))
        throw invalid(`External training needs the "${needed}" file (X_train, y_train and model_file in run_training).`);
    const files: StagedFile[] = [];
    for (const x of staged.files) {
      const name = EXTERNAL_FILES[x.role];
      if (!name) {
        if (Object.values(EXTERNAL_FILES).includes(x.name) || x.name === EXTERNAL_SCRIPT)
          throw invalid(`Rename the extra file "${x.name}": Forja uses that name for External's own files.`);
        files.push(x);
        continue;
      }
      await rename(x.path, path.join(staging, `.${name}`));
      files.push({ ...x, name, path: path.join(staging, `.${name}`) });
    }
    // Two steps, so a file already named like another's fixed name is never overwritten.
    for (const x of files.filter((y) => EXTERNAL_FILES[y.role])) {
      await rename(x.path, path.join(staging, x.name));
      x.path = path.join(staging, x.name);
    }
    await copyFile(EXTERNAL_SCRIPT_PATH, path.join(staging, EXTERNAL_SCRIPT));
    const script = { role: 'source' as const, name: EXTERNAL_SCRIPT, path: path.join(staging, EXTERNAL_SCRIPT), size: 0 };
    return {
      fields,
      files: [
        script,
        ...files.map((x) => (x.role === 'features' ? { ...x, role: 'data' as const } : EXTERNAL_FILES[x.role] ? { ...x, role: 'extra' as const } : x)),
      ],
    };
  }

  const dataset = field(f, 'dataset_hash');
  const hasData = staged.files.some((x) => x.role === 'train_data');
  if (!hasData && !dataset)
    throw invalid('Send the training data: a "train_data" file (.csv or .parquet), or "dataset_hash" naming a lake table of the group.');
  if (hasData && dataset) throw invalid('Send either a "train_data" file or a "dataset_hash", not both.');
  const reference = field(f, 'training_reference');
  if (reference) fields.trainFunction = reference;
  if (dataset) fields.table = dataset;
  return { fields, files: staged.files.map((x) => (x.role === 'train_data' ? { ...x, role: 'data' as const } : x)) };
}
