import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import { CodexMonitorCreateSchema, CodexMonitoringConfigSchema, type Monitor, type MonitorCreate } from '@forja/contracts';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessPolicy } from '../../auth/access.js';
import type { GroupScope } from '../../auth/principal.js';
import { newId } from '../../db/ids.js';
import type { DeploymentsService } from '../../deployments/service.js';
import { AppError, invalid } from '../../errors.js';
import { contextOf } from '../../http/auth-hooks.js';
import { stageUpload } from '../../http/multipart.js';
import type { App } from '../../http/types.js';
import type { LakeService } from '../../lake/service.js';
import { monitorOfCodex } from '../../monitoring/codex-config.js';
import { inferenceTableOf } from '../../monitoring/inference-log.js';
import type { MonitorsService } from '../../monitoring/service.js';
import type { TrainingService } from '../../training/service.js';
import { codexGroupScope } from './group-scope.js';

export interface CodexMonitoringDeps {
  access: AccessPolicy;
  deployments: DeploymentsService;
  monitors: MonitorsService;
  lake: LakeService;
  /** Codex's training execution ids (numbers within the group) → Forja training runs. */
  training: TrainingService;
}

/** The client calls every monitoring route with the user's token: a group token there is a 403. */
const management = { auth: { authenticated: true } } as const;

const PERIODS = ['Day', 'Week', 'Month', 'Year'] as const;
type CodexPeriod = (typeof PERIODS)[number];
const Model = z.object({ g: z.string().min(1).max(100), hash: z.string().min(1).max(40) }).strict();
const ModelPeriod = Model.extend({ period: z.string().min(1).max(20) }).strict();
/** `module:function` among the deployment's files: the one form of shap_reference Forja can call. */
const MODULE_FUNCTION = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$/;
const LOG_TIME_COLUMN = 'logged_at';

/** Codex's period as the client writes it (it title-cases it too): Day, Week, Month or Year, or a 400 naming them. */
function periodOf(value: unknown, field: string): CodexPeriod {
  const titled = typeof value === 'string' ? value.charAt(0).toUpperCase() + value.slice(1).toLowerCase() : value;
  const found = PERIODS.find((p) => p === titled);
  if (!found) throw invalid(`${field} must be Day, Week, Month or Year, not ${JSON.stringify(value)}.`);
  return found;
}

/** One Forja monitor per model and Codex period, as Codex keys host and status by both. */
const monitorName = (deploymentId: string, period: CodexPeriod) => `codex-${deploymentId}-${period.toLowerCase()}`;

/** The uploaded configuration.json, read and checked: a 400 naming what is missing or wrong. */
async function configurationOf(file: { name: string; path: string } | undefined) {
  if (!file) throw invalid('Send configuration.json as the "configuration" file field.');
  const text = await readFile(file.path, 'utf8');
  if (text.trim() === '')
    throw invalid(
      'configuration.json is empty. mlops_codex uploads an empty file when register_monitoring gets configuration_file as a dict: pass the path of the JSON file instead.',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalid(`configuration.json is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('configuration.json must be a JSON object with Period, TrainData, InputCols and OutputCols.');
  const raw = parsed as Record<string, unknown>;
  const missing = ['Period', 'TrainData', 'InputCols', 'OutputCols'].filter((k) => raw[k] === undefined);
  if (missing.length) throw invalid(`configuration.json lacks ${missing.join(', ')} (Codex reads PascalCase keys: Period, TrainData, InputCols, OutputCols).`);
  const train = raw.TrainData as Record<string, unknown> | undefined;
  // The client's pipeline writes the training execution as a number.
  const execution = typeof train?.MLOpsTrainingExecution === 'number' ? String(train.MLOpsTrainingExecution) : train?.MLOpsTrainingExecution;
  const checked = CodexMonitoringConfigSchema.safeParse({
    ...raw,
    Period: periodOf(raw.Period, 'configuration.json Period'),
    TrainData: typeof train === 'object' && train !== null ? { ...train, MLOpsTrainingExecution: execution } : train,
  });
  if (!checked.success) throw invalid(`configuration.json: ${checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}.`);
  return checked.data;
}

/**
 * MLOps Codex's monitoring of hosted models (`/codex/api/monitoring/…`) on Forja's monitors: the
 * configuration.json of `register_monitoring` becomes a monitor of the deployment (`{hash}`), one per
 * Codex period; hosting it schedules it and runs its first look at once, and Codex's status is that
 * look's outcome: Unvalidated (registered, not hosted), Validating (running), Validated (it compared
 * the log with the reference) or Invalidated (it failed, the message says why).
 */
export async function registerCodexMonitoringRoutes(app: App, deps: CodexMonitoringDeps): Promise<void> {
  const { deployments, monitors, lake } = deps;
  const inGroup = (req: FastifyRequest, needed: 'viewer' | 'editor') => codexGroupScope(deps.access, req, (req.params as { g: string }).g, needed);

  /** The monitor of `{hash}` for `{period}`, or a 404 saying to register it. */
  const registered = async (group: GroupScope, hash: string, period: string): Promise<Monitor> => {
    const dep = await deployments.get(group, hash);
    const p = periodOf(period, 'The period');
    try {
      return await monitors.get(group, monitorName(dep.id, p));
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND')
        throw new AppError(
          'NOT_FOUND',
          `Model ${dep.id} has no monitoring for period ${p}: register it first (POST monitoring/register/${group.name}/${dep.id}).`,
        );
      throw err;
    }
  };

  /** The inference log's columns, or undefined while the deployment has logged nothing. */
  const logColumns = async (group: GroupScope, deploymentId: string): Promise<string[] | undefined> => {
    try {
      return (await lake.describe({ ...group, role: 'viewer' }, inferenceTableOf({ id: deploymentId }))).columns.map((c) => c.name);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  };

  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { preservePath: true, limits: { fileSize: 10 * 1024 * 1024, files: 3, fields: 10, fieldSize: 10_000 } });

    scope.post('/monitoring/register/:g/:hash', { config: management, schema: { hide: true, params: Model } }, async (req, reply) => {
      const group = await inGroup(req, 'editor');
      const dep = await deployments.get(group, req.params.hash);
      const dir = path.join(lake.tempDir, `codex-monitoring-${newId()}`);
      try {
        const staged = await stageUpload(req, dir, ['configuration', 'source', 'requirements']);
        const config = await configurationOf(staged.files.find((f) => f.role === 'configuration'));
        const source = staged.files.find((f) => f.role === 'source');
        if (source && !/\.(py|ipynb)$/i.test(source.name)) throw invalid(`The preprocess script ${source.name} must be a .py file or an .ipynb notebook.`);
        const shap = staged.fields.shap_reference?.trim() ?? '';
        const columns = await logColumns(group, dep.id);
        const period = config.Period as CodexPeriod;
        const ctx = contextOf(req);
        const train = config.TrainData;
        // Codex names the training run by its execution id, a number within the group (training-routes.ts).
        if (train.MLOpsTrainingExecution && /^\d+$/.test(train.MLOpsTrainingExecution))
          train.MLOpsTrainingExecution = (await deps.training.getByNumber(ctx, group, Number(train.MLOpsTrainingExecution))).id;
        // No training run: the requests the model answered before TrainDateRef are what "normal" is.
        const byDate = !train.MLOpsTrainingExecution;
        if (byDate && !train.TrainDateRef)
          throw invalid(
            "configuration.json TrainData needs MLOpsTrainingExecution (a Forja training run) or TrainDateRef (YYYY-MM-DD): Forja compares with the training run's data, or with the requests the model answered before TrainDateRef.",
          );
        if (byDate && !columns)
          throw invalid(
            `Model ${dep.id} has answered no requests yet, so there is nothing before TrainDateRef ${train.TrainDateRef} to compare with: score some data first, or name the training run (TrainData.MLOpsTrainingExecution).`,
          );
        const create: MonitorCreate = monitorOfCodex(
          CodexMonitorCreateSchema.parse({
            name: monitorName(dep.id, period),
            description: `MLOps Codex monitoring of ${dep.name} (Period ${period}).`,
            deployment: dep.id,
            configuration: {
              ...config,
              TrainData: byDate ? { TrainDateCol: train.TrainDateCol ?? LOG_TIME_COLUMN, TrainDateRef: train.TrainDateRef } : train,
              OutputCols: logOutputColumns(config.OutputCols, columns),
            },
            ...(byDate ? { reference: { kind: 'table' as const, table: inferenceTableOf(dep) } } : {}),
            checks: { drift: {}, ...(MODULE_FUNCTION.test(shap) ? { explanations: { function: shap } } : {}) },
            // Scheduled when hosted: Unvalidated until then.
            scheduled: false,
          }),
          false,
        );
        const existing = await monitors.get(group, create.name).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
          throw err;
        });
        // Registering again replaces the configuration and keeps the monitor's earlier runs.
        if (existing) {
          const { reference, inputColumns, outputColumns, checks, period: p, description } = create;
          await monitors.update(ctx, group, existing.id, { reference, inputColumns, outputColumns, checks, period: p, description, scheduled: false });
        } else await monitors.create(ctx, group, create);
        const notes = [
          `Monitoring registered as Forja monitor ${create.name}; host it for period ${period} to validate and start it.`,
          `Forja reads the inputs and outputs from the model's inference log, so the preprocess function${staged.fields.preprocess_reference ? ` "${staged.fields.preprocess_reference}"` : ''} is not run.`,
          MODULE_FUNCTION.test(shap)
            ? `SHAP values come from ${shap} among the model's files.`
            : `No SHAP values: shap_reference${shap ? ` "${shap}"` : ''} is not module:function among the model's files (upload the module with the model's extra files and name it as module:function).`,
        ];
        return reply.code(201).send({ ModelHash: dep.id, Message: notes.join(' ') });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  app.get('/monitoring/host/:g/:hash/:period', { config: management, schema: { hide: true, params: ModelPeriod } }, async (req) => {
    const group = await inGroup(req, 'editor');
    const monitor = await registered(group, req.params.hash, req.params.period);
    const ctx = contextOf(req);
    if (!monitor.scheduled) await monitors.update(ctx, group, monitor.id, { scheduled: true });
    const run = await monitors.startRun(ctx, group, monitor.id, { now: true });
    return { Message: `Monitoring of model ${monitor.deploymentId} hosted: it runs every ${monitor.period}; its first look (run ${run.id}) validates it.` };
  });

  app.get('/monitoring/status/:g/:hash/:period', { config: management, schema: { hide: true, params: ModelPeriod } }, async (req) => {
    const group = await inGroup(req, 'viewer');
    const monitor = await registered(group, req.params.hash, req.params.period);
    const last = monitor.lastRun;
    if (!monitor.scheduled) return { Status: 'Unvalidated', Message: 'Registered, not hosted: host it to validate and start it.' };
    if (!last) return { Status: 'Validating', Message: 'Hosted; its first look is not queued yet.' };
    if (last.status === 'queued' || last.status === 'running') return { Status: 'Validating', Message: `Run ${last.id} is ${last.status}.` };
    const run = await monitors.run(group, monitor.id, last.id);
    if (run.status === 'failed') return { Status: 'Invalidated', Message: run.error ?? 'The monitoring run failed.' };
    const problems = run.problems.map((p) => `${p.part}: ${p.message}`);
    return {
      Status: 'Validated',
      Message: `Run ${run.id} compared ${run.currentRows ?? 0} logged rows with ${run.referenceRows ?? 0} reference rows${problems.length ? `; ${problems.join('; ')}` : ''}.`,
    };
  });
}

/**
 * Codex's OutputCols as the inference log names them: a scorer's `{"proba": …}` is logged as
 * `prediction_proba`, a single unnamed output as `prediction`. Unknown names stay as they are (the
 * monitor then refuses them, naming the log's columns); with no log yet nothing can be checked.
 */
function logOutputColumns(outputs: string[], columns: string[] | undefined): string[] {
  if (!columns) return outputs;
  const has = new Set(columns);
  return outputs.map((c) => {
    if (has.has(`prediction_${c}`)) return `prediction_${c}`;
    if (has.has(c)) return c;
    return outputs.length === 1 && has.has('prediction') ? 'prediction' : c;
  });
}
