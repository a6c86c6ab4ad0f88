import { parse as parseYaml } from 'yaml';
import { PipelineActionSchema, type PipelineAction } from '@forja/contracts';
import { invalid } from '../errors.js';

export interface StepDef {
  id: string;
  action: PipelineAction;
  needs: string[];
  /** The step's inputs, templates unresolved. */
  with: Record<string, unknown>;
}

export interface PipelineDef {
  name: string | undefined;
  pythonVersion: string;
  params: Record<string, unknown>;
  steps: StepDef[];
}

const STEP_ID = /^[A-Za-z_][\w-]{0,62}$/;
const TEMPLATE = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const REFERENCE = /^(steps\.([A-Za-z_][\w-]*)\.outputs\.([\w.-]+)|params\.([\w.-]+))$/;
/** The files a step's inputs name, by action: they must be among the uploaded files. */
const FILE_INPUTS: Partial<Record<PipelineAction, string[]>> = {
  script: ['script', 'requirements'],
  train: ['source', 'data', 'requirements'],
  monitor: ['config'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a pipeline file: the general DAG (`steps:` with `needs` and `with`) or MLOps Codex's
 * sections (`training:`, `deploy:`), turned into the same steps. Every mistake is a 400 naming it.
 */
export function parseDefinition(text: string, files: string[]): PipelineDef {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw invalid(`The pipeline file is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObject(doc)) throw invalid('The pipeline file must be a YAML mapping with "steps:" (or MLOps Codex\'s "training:" and "deploy:" sections).');
  const pythonVersion = String(doc.python_version ?? doc.pythonVersion ?? '');
  if (pythonVersion && !/^3(\.\d{1,2}){0,2}$/.test(pythonVersion)) throw invalid(`python_version "${pythonVersion}" must look like 3.11.`);
  const params = doc.params === undefined ? {} : doc.params;
  if (!isObject(params)) throw invalid('"params" must be a mapping of names to default values.');
  const steps = doc.steps !== undefined ? generalSteps(doc.steps) : codexSteps(doc);
  validate(steps, files, params);
  return { name: typeof doc.name === 'string' ? doc.name : undefined, pythonVersion, params, steps };
}

function generalSteps(raw: unknown): StepDef[] {
  if (!Array.isArray(raw) || raw.length === 0) throw invalid('"steps" must be a non-empty list.');
  return raw.map((s, i) => {
    if (!isObject(s)) throw invalid(`Step ${i + 1} must be a mapping with an "id".`);
    const id = String(s.id ?? '');
    if (!STEP_ID.test(id)) throw invalid(`Step ${i + 1}: id ${JSON.stringify(s.id ?? null)} must be a name (letters, digits, _ and -).`);
    const actionRaw = s.action ?? (s.script !== undefined ? 'script' : undefined);
    const action = PipelineActionSchema.safeParse(actionRaw);
    if (!action.success)
      throw invalid(
        `Step "${id}": unknown action ${JSON.stringify(actionRaw ?? null)}; use ${PipelineActionSchema.options.join(', ')} (or "script: file.py").`,
      );
    const needs = s.needs === undefined ? [] : Array.isArray(s.needs) ? s.needs.map(String) : [String(s.needs)];
    const inputs = s.with === undefined ? {} : s.with;
    if (!isObject(inputs)) throw invalid(`Step "${id}": "with" must be a mapping.`);
    const extra =
      action.data === 'script'
        ? {
            script: s.script,
            ...(s.requirements !== undefined ? { requirements: s.requirements } : {}),
            ...(s.params !== undefined ? { params: s.params } : {}),
          }
        : {};
    return { id, action: action.data, needs, with: { ...extra, ...inputs } };
  });
}

/** MLOps Codex's pipeline YAML: training → deploy → monitoring. */
function codexSteps(doc: Record<string, unknown>): StepDef[] {
  if (doc.training === undefined && doc.deploy === undefined) throw invalid('The pipeline file has no "steps:" and no "training:"/"deploy:" sections.');
  const steps: StepDef[] = [];
  if (doc.training !== undefined) {
    const t = doc.training;
    if (!isObject(t)) throw invalid('"training" must be a mapping.');
    const type = String(t.training_type ?? 'Custom');
    if (type !== 'Custom') throw invalid(`training_type "${type}" is not supported: Forja runs Custom training (a train_model(df, base_path) script).`);
    steps.push({
      id: 'training',
      action: 'train',
      needs: [],
      with: {
        source: t.source,
        data: t.data,
        requirements: t.packages,
        experiment: t.experiment_name,
        runName: t.run_name,
        modelType: t.model_type,
        trainFunction: t.train_function,
      },
    });
  }
  if (doc.deploy !== undefined) {
    const d = doc.deploy;
    if (!isObject(d)) throw invalid('"deploy" must be a mapping.');
    if (doc.training === undefined) throw invalid('A "deploy" section deploys what "training" trained: add the training section.');
    steps.push({
      id: 'deploy',
      action: 'register',
      needs: ['training'],
      with: { training: '${{ steps.training.outputs.trainingId }}', model: d.name, deploy: { name: d.name, operation: d.operation ?? 'sync' } },
    });
  }
  if (doc.monitoring !== undefined) steps.push(codexMonitoringStep(doc));
  return steps;
}

/**
 * The `monitoring:` section: after the deploy step, a monitor of the deployed model from the
 * section's `config` (configuration.json). Its TrainData defaults to the pipeline's training run;
 * `shap_function` becomes the monitor's explanation function. `preprocess` is not needed: the
 * inference log already holds the parsed inputs and outputs.
 */
function codexMonitoringStep(doc: Record<string, unknown>): StepDef {
  const m = doc.monitoring;
  if (!isObject(m)) throw invalid('"monitoring" must be a mapping with "config" (the configuration.json file).');
  if (!isObject(doc.deploy)) throw invalid('A "monitoring" section monitors what "deploy" deployed: add the deploy section.');
  if (typeof m.config !== 'string' || !m.config)
    throw invalid('"monitoring" needs "config": the name of the configuration.json file among the uploaded files.');
  const name = m.name ?? doc.deploy.name;
  if (typeof name !== 'string' || !name) throw invalid('"monitoring" needs a "name" (or a deploy section with one).');
  return {
    id: 'monitoring',
    action: 'monitor',
    needs: ['deploy'],
    with: {
      config: m.config,
      name,
      deployment: '${{ steps.deploy.outputs.deploymentId }}',
      training: '${{ steps.training.outputs.trainingId }}',
      ...(typeof m.shap_function === 'string' ? { shapFunction: m.shap_function } : {}),
    },
  };
}

/** Template references in a value: [step or undefined, key]. */
export function references(value: unknown): { step?: string; param?: string }[] {
  const out: { step?: string; param?: string }[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(TEMPLATE)) {
        const ref = REFERENCE.exec(m[1]!);
        if (!ref) throw invalid(`Unknown reference "\${{ ${m[1]} }}": use \${{ steps.<id>.outputs.<key> }} or \${{ params.<key> }}.`);
        out.push(ref[2] ? { step: ref[2] } : { param: ref[4]! });
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

function validate(steps: StepDef[], files: string[], params: Record<string, unknown>): void {
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) throw invalid(`Two steps are named "${s.id}".`);
    ids.add(s.id);
  }
  for (const s of steps) {
    for (const n of s.needs) if (!ids.has(n)) throw invalid(`Step "${s.id}" needs "${n}", which is not a step of this pipeline.`);
    for (const input of FILE_INPUTS[s.action] ?? []) {
      const name = s.with[input];
      if (name === undefined || name === null || (typeof name === 'string' && name.includes('${{'))) continue;
      if (typeof name !== 'string' || !files.includes(name))
        throw invalid(`Step "${s.id}": ${input} "${String(name)}" is not among the uploaded files (${files.join(', ') || 'none'}).`);
    }
    if (s.action === 'script' && typeof s.with.script !== 'string') throw invalid(`Step "${s.id}" runs a script: name it with "script: file.py".`);
  }
  topologicalOrder(steps);
  for (const s of steps) {
    for (const ref of references(s.with)) {
      if (ref.param !== undefined && !(ref.param in params)) throw invalid(`Step "${s.id}" uses params.${ref.param}, which "params:" does not declare.`);
      if (ref.step === undefined) continue;
      if (!ids.has(ref.step)) throw invalid(`Step "${s.id}" uses the outputs of "${ref.step}", which is not a step of this pipeline.`);
      if (!upstreamOf(steps, s.id).has(ref.step)) throw invalid(`Step "${s.id}" uses the outputs of "${ref.step}" but does not need it (add it to "needs").`);
    }
  }
}

/** Steps in an order where every step comes after what it needs; a cycle is a 400 naming it. */
export function topologicalOrder(steps: StepDef[]): string[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw invalid(`The steps form a cycle: ${[...path.slice(path.indexOf(id)), id].join(' → ')}.`);
    state.set(id, 'visiting');
    for (const n of byId.get(id)!.needs) visit(n, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const s of steps) visit(s.id, []);
  return order;
}

export function upstreamOf(steps: StepDef[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const walk = (x: string) => {
    for (const n of byId.get(x)?.needs ?? [])
      if (!seen.has(n)) {
        seen.add(n);
        walk(n);
      }
  };
  walk(id);
  return seen;
}

export function downstreamOf(steps: StepDef[], id: string): Set<string> {
  const seen = new Set<string>([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of steps)
      if (!seen.has(s.id) && s.needs.some((n) => seen.has(n))) {
        seen.add(s.id);
        grew = true;
      }
  }
  return seen;
}

/** Replaces templates with values; a string that is one template keeps the value's own type. */
export function resolve(value: unknown, outputs: Record<string, Record<string, unknown>>, params: Record<string, unknown>): unknown {
  const lookup = (expr: string): unknown => {
    const ref = REFERENCE.exec(expr.trim())!;
    if (ref[2]) {
      const out = outputs[ref[2]] ?? {};
      if (!(ref[3]! in out)) throw invalid(`Step "${ref[2]}" has no output "${ref[3]}" (it has ${Object.keys(out).join(', ') || 'none'}).`);
      return out[ref[3]!];
    }
    return params[ref[4]!];
  };
  if (typeof value === 'string') {
    const whole = /^\$\{\{\s*([^}]*?)\s*\}\}$/.exec(value);
    if (whole) return lookup(whole[1]!);
    return value.replace(TEMPLATE, (_m, expr: string) => String(lookup(expr)));
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, outputs, params));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, outputs, params)]));
  return value;
}
