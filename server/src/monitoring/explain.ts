import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExplanationReportSchema } from '@forja/contracts';
import type { z } from 'zod';
import { newId } from '../db/ids.js';
import type { DeployedModel, DeploymentsService } from '../deployments/service.js';
import { AppError, invalid } from '../errors.js';
import { EnvironmentBuildError, type Environments } from '../runtime/environments.js';
import { ProcessFailed, runProcess } from '../runtime/process.js';

export type ExplanationReport = z.infer<typeof ExplanationReportSchema>;

const EXPLAINER = fileURLToPath(new URL('../../runtime/forja_explain.py', import.meta.url));
const USER_ERROR = /^FORJA_EXPLAIN_ERROR (.*)$/;
/** `module:function`, the module a .py file among the deployment's files (dots for its folders). */
const FUNCTION_REF = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)$/;
const DEFAULT_TIMEOUT_MS = 15 * 60_000;

/**
 * shap pinned per Python, so the explanation environment is the same (and built once) for every
 * deployment with the same requirements: the newest release that supports each Python (0.54 needs
 * 3.12, 0.51 is the last for 3.11, 0.49 for 3.9 and 3.10), each working with the NumPy it resolves.
 * pandas and pyarrow read the Parquet samples.
 */
export const EXPLAIN_REQUIREMENTS = [
  'pandas',
  'pyarrow',
  'shap==0.49.1; python_version < "3.11"',
  'shap==0.51.0; python_version == "3.11"',
  'shap==0.54.1; python_version >= "3.12"',
].join('\n');

export interface ExplainRequest {
  deploymentId: string;
  groupId: string;
  /** Parquet of logged input rows (the monitor's window). */
  current: string;
  /** Parquet of reference rows, or null to explain the window alone. */
  reference: string | null;
  features: string[];
  sampleRows: number;
  /** `module:function(df, model_path) -> DataFrame of SHAP values` from the deployment's files (MLOps Codex's get_shap). */
  fn?: string;
}

export interface ExplainContext {
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface ExplainerOptions {
  deployments: DeploymentsService;
  /** Builds the model's environment plus shap (cached by hash like every environment), in the sandbox it runs in. */
  envs: Environments;
  /** Where each explanation gets a work folder for its two samples and its result, removed afterwards. */
  workDir: string;
  timeoutMs?: number;
}

/** What forja_explain.py writes. */
interface RawExplanation {
  explainer: string;
  rows: number;
  current: Record<string, number>;
  reference: Record<string, number> | null;
}

/**
 * Global SHAP importance of a deployment's model for a sample of its logged rows and of its
 * reference: the model runs in its own environment plus shap, in the sandbox, without network.
 */
export class Explainer {
  private readonly deployments: DeploymentsService;
  private readonly envs: Environments;
  private readonly workDir: string;
  private readonly timeoutMs: number;

  constructor(options: ExplainerOptions) {
    this.deployments = options.deployments;
    this.envs = options.envs;
    this.workDir = options.workDir;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async explain(req: ExplainRequest, ctx: ExplainContext): Promise<ExplanationReport> {
    if (req.features.length === 0) throw invalid('Explanations need at least one feature.');
    if (!Number.isInteger(req.sampleRows) || req.sampleRows < 1) throw invalid(`sampleRows must be a positive whole number, not ${req.sampleRows}.`);
    const model = await this.deployments.modelOf(req.groupId, req.deploymentId);
    if (req.fn) checkFunction(req.fn, model);
    else if (model.kind === 'script')
      throw invalid(
        `Deployment ${model.name} is a script model, which shap cannot explain by itself: set the explanations' function to module:function(df, model_path) from its files.`,
      );
    const env = await this.environment(model, req.groupId, ctx);
    const work = path.join(this.workDir, `explain-${newId()}`);
    await mkdir(work, { recursive: true });
    try {
      // The samples are copied in: the sandbox sees only this folder and the model's files.
      await copyFile(req.current, path.join(work, 'current.parquet'));
      if (req.reference) await copyFile(req.reference, path.join(work, 'reference.parquet'));
      const raw = await this.run(model, env, work, req, ctx);
      return reportOf(raw);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async environment(model: DeployedModel, groupId: string, ctx: ExplainContext): Promise<string> {
    const requirements = `${model.requirements.trim()}\n${EXPLAIN_REQUIREMENTS}`;
    try {
      const env = await this.envs.ensure({ python: model.pythonVersion, requirements }, { log: ctx.log, signal: ctx.signal, groupId });
      return env.python;
    } catch (err) {
      if (err instanceof EnvironmentBuildError)
        throw invalid(
          `The explanation environment (deployment ${model.name}'s requirements plus shap) could not be built; make its requirements compatible with shap (${EXPLAIN_REQUIREMENTS.split('\n').slice(2).join(', ')}): ${err.message}`,
        );
      throw err;
    }
  }

  private async run(model: DeployedModel, python: string, work: string, req: ExplainRequest, ctx: ExplainContext): Promise<RawExplanation> {
    const output = path.join(work, 'explanation.json');
    const args = [
      '--kind',
      model.kind,
      '--model',
      model.modelPath,
      '--files',
      model.filesDir,
      '--method',
      model.predictMethod,
      '--current',
      path.join(work, 'current.parquet'),
      ...(req.reference ? ['--reference', path.join(work, 'reference.parquet')] : []),
      '--features',
      JSON.stringify(req.features),
      '--rows',
      String(req.sampleRows),
      ...(req.fn ? ['--function', req.fn] : []),
      '--output',
      output,
    ];
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    try {
      await runProcess(
        { signal, log: (line) => ctx.log(line) },
        {
          sandbox: this.envs.sandbox,
          run: {
            groupId: req.groupId,
            argv: [python, EXPLAINER, ...args],
            cwd: work,
            python,
            // numba (shap's compiler) caches beside its sources unless told otherwise: the work folder is the one writable place.
            env: { HOME: work, NUMBA_CACHE_DIR: path.join(work, '.numba'), MPLCONFIGDIR: path.join(work, '.mpl') },
            readOnly: [model.filesDir],
            writable: [work],
          },
        },
      );
    } catch (err) {
      if (timeout.aborted && !ctx.signal.aborted)
        throw new AppError('TIMEOUT', `Explaining ${model.name} took longer than ${Math.round(this.timeoutMs / 1000)} s: explain fewer rows (sampleRows).`);
      if (err instanceof ProcessFailed) {
        const own = err.lastLines.map((l) => USER_ERROR.exec(l)?.[1]).find(Boolean);
        if (own) throw invalid(`Explaining deployment ${model.name}: ${own}.`);
        const lines = err.lastLines.map((l) => l.split(model.filesDir + path.sep).join('')).slice(-5);
        throw new AppError('MODEL_ERROR', `Explaining deployment ${model.name} failed: ${lines.join(' | ') || err.message}`);
      }
      throw err;
    }
    return JSON.parse(await readFile(output, 'utf8')) as RawExplanation;
  }
}

/** A function reference names a module among the deployment's files, or it is a 400 naming what is wrong. */
function checkFunction(fn: string, model: DeployedModel): void {
  const m = FUNCTION_REF.exec(fn);
  if (!m) throw invalid(`The explanations' function "${fn}" is not module:function (for example shap_fn:get_shap, from shap_fn.py in the deployment's files).`);
  const file = `${m[1]!.split('.').join('/')}.py`;
  if (!existsSync(path.join(model.filesDir, file)))
    throw invalid(`The explanations' function "${fn}" needs ${file} among deployment ${model.name}'s files, which has no such file.`);
}

/** Importance sorted by the window's mean |SHAP|, largest first. */
function reportOf(raw: RawExplanation): ExplanationReport {
  const importance = Object.entries(raw.current)
    .map(([feature, current]) => ({ feature, current, reference: raw.reference ? (raw.reference[feature] ?? null) : null }))
    .sort((a, b) => b.current - a.current || a.feature.localeCompare(b.feature));
  return { rows: raw.rows, explainer: raw.explainer, importance };
}
