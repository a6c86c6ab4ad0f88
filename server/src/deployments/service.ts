import { readFile, rename, rm, mkdir, writeFile, stat, readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  DeploymentFromModelSchema,
  DeploymentSettingsSchema,
  DeploymentUploadFieldsSchema,
  type Deployment,
  type DeploymentFromModel,
  type DeploymentSettings,
  type DeploymentSettingsPatch,
  type InferenceLogInfo,
  type UsageQuery,
  type UsageSeries,
} from '@forja/contracts';
import { performance } from 'node:perf_hooks';
import { requireScopeRole } from '../auth/access.js';
import { AttemptLimiter } from '../auth/rate-limit.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { seal, unseal } from '../auth/secrets.js';
import type { ArtifactsService } from '../artifacts/service.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { AppError, alreadyExists, conflict, forbidden, invalid, notFound, rateLimited } from '../errors.js';
import type { JobKind } from '../jobs/catalog.js';
import { PermanentJobError, type JobEngine, type JobHandler } from '../jobs/engine.js';
import type { RegistryService } from '../registry/service.js';
import type { Environments } from '../runtime/environments.js';
import type { Sandbox } from '../runtime/sandbox.js';
import { PICKLE_FILE, SCAN_ADVISORY, modelRequirements, safetyScan, type Finding } from '../runtime/models.js';
import { ModelError, WorkerError, type InputFormat, type Invocation } from '../runtime/worker-process.js';
import { OverloadedError } from '../runtime/worker-pool.js';
import { readRuntimeLog, type DeploymentRuntime, type RuntimeSpec } from './runtime.js';
import { checkInput, schemaFromSample, type InputSchema } from './schema-check.js';
import { settingsOf, type DeploymentRow, type DeploymentsStore } from './store.js';
import type { StagedUpload } from '../http/multipart.js';
import { unzipExtras } from './zip.js';
import type { InferenceLog, LoggedFormat } from '../monitoring/inference-log.js';
import type { UsageRecorder } from './usage.js';

export const BUILD_KIND = 'deployment.build' satisfies JobKind;

type FileEntry = Deployment['files'][number];

export interface DeploymentsServiceOptions {
  store: DeploymentsStore;
  engine: JobEngine;
  envs: Environments;
  runtime: DeploymentRuntime;
  registry: RegistryService;
  artifacts: ArtifactsService;
  audit: AuditLog;
  /** Seals deployment secrets at rest. */
  secretKey: Buffer;
  /** The folder holding each deployment's files. */
  root: string;
  /** Every sync call is counted here (calls, errors, latency per minute). */
  usage: UsageRecorder;
  /** Sampled calls go here, to the deployment's log table. */
  inferenceLog: InferenceLog;
  clock?: () => number;
}

/** How an upload is taken in: built at once (the default), or only stored, with a note for its first build's log. */
export interface UploadOptions {
  build?: boolean;
  note?: string;
}

type Target = { row: DeploymentRow; schema: InputSchema | undefined; spec: RuntimeSpec | undefined; settings: DeploymentSettings };
/** A deployment's model as files on this server, with what building its environment takes. */
export interface DeployedModel {
  name: string;
  kind: DeploymentRow['kind'];
  /** The deployment's own files (its modules, extras), mounted read-only wherever the model runs. */
  filesDir: string;
  /** The pickle, the pyfunc folder, or a script model's uploaded model file (else its source). */
  modelPath: string;
  predictMethod: DeploymentRow['predict_method'];
  entrypoint: string | null;
  pythonVersion: string;
  requirements: string;
}

/**
 * Deployments of a group: files or a registered model in, a built environment and a pool of
 * Python workers out. Builds are durable jobs; predictions go to this server's worker pools.
 */
export class DeploymentsService {
  /** Deployment rows by id, briefly: the predict path reads no database row per request. */
  /** Calls without credentials to public deployments, per deployment and client address; by limit. */
  private readonly publicLimiters = new Map<number, AttemptLimiter>();
  private readonly cache = new Map<string, Target & { at: number }>();

  private readonly store: DeploymentsStore;
  private readonly engine: JobEngine;
  private readonly envs: Environments;
  private readonly runtime: DeploymentRuntime;
  private readonly registry: RegistryService;
  private readonly artifacts: ArtifactsService;
  private readonly audit: AuditLog;
  private readonly secretKey: Buffer;
  readonly root: string;
  private readonly usageRecorder: UsageRecorder;
  readonly inferenceLog: InferenceLog;
  private readonly clock: () => number;

  constructor(options: DeploymentsServiceOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.envs = options.envs;
    this.runtime = options.runtime;
    this.registry = options.registry;
    this.artifacts = options.artifacts;
    this.audit = options.audit;
    this.secretKey = options.secretKey;
    this.root = options.root;
    this.usageRecorder = options.usage;
    this.inferenceLog = options.inferenceLog;
    this.clock = options.clock ?? Date.now;
  }

  folderOf(id: string): string {
    return path.join(this.root, id);
  }

  async list(scope: GroupScope): Promise<Deployment[]> {
    return (await this.store.list(scope.id)).map((r) => this.present(r, scope.name));
  }

  async get(scope: GroupScope, id: string): Promise<Deployment> {
    return this.present(await this.require(scope, id), scope.name);
  }

  createFromUpload(
    ctx: RequestContext,
    scope: GroupScope,
    id: string,
    staged: StagedUpload,
    stagingDir: string,
  ): Promise<{ deployment: Deployment; buildJobId: string }>;
  createFromUpload(
    ctx: RequestContext,
    scope: GroupScope,
    id: string,
    staged: StagedUpload,
    stagingDir: string,
    options: UploadOptions,
  ): Promise<{ deployment: Deployment; buildJobId: string | null }>;
  async createFromUpload(
    ctx: RequestContext,
    scope: GroupScope,
    id: string,
    staged: StagedUpload,
    stagingDir: string,
    options: UploadOptions = {},
  ): Promise<{ deployment: Deployment; buildJobId: string | null }> {
    requireScopeRole(scope, 'editor');
    const parsed = DeploymentUploadFieldsSchema.safeParse(staged.fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw invalid(
        `${issue.path.join('.') || 'fields'}: ${issue.message}`,
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const f = parsed.data;
    const byRole = (role: string) => staged.files.find((x) => x.role === role);
    const source = byRole('source');
    const model = byRole('model');
    if (f.kind === 'script' && !source) throw invalid('A script deployment needs its source file (.py or .ipynb) in the "source" field.');
    if (f.kind === 'script' && !/\.(py|ipynb)$/i.test(source!.name)) throw invalid(`The source file must be .py or .ipynb, not "${source!.name}".`);
    if (f.kind === 'pickle' && !model) throw invalid('A pickle deployment needs the pickled estimator in the "model" field.');
    if (f.kind === 'pyfunc') throw invalid('MLflow pyfunc models deploy from the registry: POST /api/v1/deployments/from-model with a models:/ URI.');
    const preprocess = byRole('preprocess');
    if (preprocess && !/\.py$/i.test(preprocess.name))
      throw invalid(`The preprocessing script must be a .py defining preprocess(data, base_path), not "${preprocess.name}".`);
    const schemaFile = byRole('schema');
    let schemaSample: unknown = null;
    if (schemaFile) {
      try {
        schemaSample = JSON.parse(await readFile(schemaFile.path, 'utf8'));
      } catch (err) {
        throw invalid(`The schema file "${schemaFile.name}" is not valid JSON: ${(err as Error).message}`);
      }
    }
    const requirementsFile = byRole('requirements');
    const requirements = requirementsFile ? await readFile(requirementsFile.path, 'utf8') : '';
    const envFile = byRole('env');
    const secrets = envFile ? parseEnvFile(await readFile(envFile.path, 'utf8')) : undefined;
    if (envFile) await rm(envFile.path, { force: true });

    const folder = this.folderOf(id);
    await mkdir(folder, { recursive: true });
    await rename(stagingDir, path.join(folder, 'files'));
    const files: FileEntry[] = staged.files.filter((x) => x.role !== 'env').map((x) => ({ name: x.name, role: x.role as FileEntry['role'], size: x.size }));
    // An extra .zip unpacks next to the other files (its folders kept); the zip itself is not kept.
    for (const zip of files.filter((x) => x.role === 'extra' && /\.zip$/i.test(x.name))) {
      const taken = new Set(files.map((x) => x.name));
      const unpacked = await unzipExtras(path.join(folder, 'files', zip.name), path.join(folder, 'files'), taken).catch(async (err: unknown) => {
        await rm(folder, { recursive: true, force: true });
        throw err;
      });
      await rm(path.join(folder, 'files', zip.name), { force: true });
      files.splice(files.indexOf(zip), 1, ...unpacked.map((u) => ({ name: u.name, role: 'extra' as const, size: u.size })));
    }
    let modelPath = f.kind === 'script' ? `files/${source!.name}` : `files/${model!.name}`;
    if (f.kind === 'script' && /\.ipynb$/i.test(source!.name)) modelPath = `files/${await notebookToScript(path.join(folder, 'files'), source!.name)}`;
    const row = this.newRow(ctx, scope, id, {
      name: f.name,
      operation: f.operation,
      kind: f.kind,
      source: 'files',
      entrypoint: f.kind === 'script' ? f.entrypoint : null,
      predict_method: f.predictMethod,
      python_version: f.pythonVersion,
      model_path: modelPath,
      files: JSON.stringify(files),
      requirements,
      secrets_sealed: secrets ? seal(this.secretKey, JSON.stringify(secrets)) : null,
      schema_sample: schemaSample === null ? null : JSON.stringify(schemaSample),
      settings: JSON.stringify(adminSettingsAllowedBy(scope, DeploymentSettingsSchema.parse(f.settings))),
    });
    if (options.build === false) row.message = options.note ?? null;
    return this.insertAndBuild(ctx, scope, row, options.build !== false);
  }

  async createFromModel(ctx: RequestContext, scope: GroupScope, input: DeploymentFromModel): Promise<{ deployment: Deployment; buildJobId: string }> {
    requireScopeRole(scope, 'editor');
    const body = DeploymentFromModelSchema.parse(input);
    const version = await this.registry.resolveUri(scope, body.modelUri);
    const id = newId();
    const folder = this.folderOf(id);
    const modelDir = path.join(folder, 'files', 'model');
    await mkdir(path.dirname(modelDir), { recursive: true });
    try {
      await this.artifacts.copyOut(ctx, version.storageLocation, modelDir, scope.id);
      const listing = await readdir(modelDir);
      if (body.kind === 'pyfunc' && !listing.includes('MLmodel'))
        throw invalid(
          `${body.modelUri} (version ${version.version}) has no MLmodel file: deploy it with kind "pickle", or log it with mlflow.<flavor>.log_model.`,
        );
      const pickle = listing.find((n) => PICKLE_FILE.test(n));
      if (body.kind === 'pickle' && !pickle)
        throw invalid(
          `${body.modelUri} (version ${version.version}) has no .pkl, .pickle or .joblib file (it has ${listing.join(', ') || 'no files'}); deploy an MLflow model with kind "pyfunc".`,
        );
      const modelRequirementsText = listing.includes('requirements.txt') ? await readFile(path.join(modelDir, 'requirements.txt'), 'utf8') : '';
      const row = this.newRow(ctx, scope, id, {
        name: body.name,
        operation: body.operation,
        kind: body.kind,
        source: body.modelUri,
        model_name: version.name,
        model_version: version.version,
        entrypoint: null,
        predict_method: body.predictMethod,
        python_version: body.pythonVersion,
        model_path: body.kind === 'pyfunc' ? 'files/model' : `files/model/${pickle}`,
        files: JSON.stringify(await listFiles(modelDir, 'model')),
        requirements: modelRequirements(body.kind, modelRequirementsText, body.requirements ?? ''),
        secrets_sealed: null,
        schema_sample: body.schemaSample === undefined ? null : JSON.stringify(body.schemaSample),
        settings: JSON.stringify(adminSettingsAllowedBy(scope, DeploymentSettingsSchema.parse(body.settings))),
      });
      return await this.insertAndBuild(ctx, scope, row, true);
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    }
  }

  async rebuild(ctx: RequestContext, scope: GroupScope, id: string): Promise<{ deployment: Deployment; buildJobId: string }> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, id);
    if (row.status === 'Building') throw conflict(`Deployment ${row.name} is already building (job ${row.build_job_id}).`);
    const jobId = await this.enqueueBuild(row, ctx);
    await this.audit.record(ctx, { action: 'deployment.rebuild', resourceType: 'deployment', resourceId: id, groupId: scope.id });
    return { deployment: await this.get(scope, id), buildJobId: jobId };
  }

  async setEnabled(ctx: RequestContext, scope: GroupScope, id: string, enabled: boolean): Promise<Deployment> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, id);
    const now = this.clock();
    if (enabled) {
      if (row.status !== 'Disabled') throw conflict(`Deployment ${row.name} is ${row.status}, not Disabled.`);
      // Only a deployment that was built comes back as Deployed; otherwise it needs a build.
      await this.store.update(id, {
        status: row.env_key && this.envs.isReady(row.env_key) ? 'Deployed' : 'Failed',
        message: row.env_key ? null : 'Never built: rebuild it.',
        updated_at: now,
      });
    } else {
      if (row.status === 'Disabled') throw conflict(`Deployment ${row.name} is already disabled.`);
      await this.store.update(id, { status: 'Disabled', updated_at: now });
      await this.runtime.stop(id);
    }
    this.cache.delete(id);
    await this.audit.record(ctx, {
      action: enabled ? 'deployment.enable' : 'deployment.disable',
      resourceType: 'deployment',
      resourceId: id,
      groupId: scope.id,
    });
    return this.get(scope, id);
  }

  async updateSettings(ctx: RequestContext, scope: GroupScope, id: string, patch: DeploymentSettingsPatch): Promise<Deployment> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, id);
    const before = settingsOf(row);
    const settings = DeploymentSettingsSchema.parse({ ...before, ...patch, inferenceLog: { ...before.inferenceLog, ...patch.inferenceLog } });
    adminSettingsAllowedBy(scope, settings, before);
    if (settings.minWorkers > settings.maxWorkers) throw invalid(`minWorkers (${settings.minWorkers}) cannot be above maxWorkers (${settings.maxWorkers}).`);
    await this.store.update(id, { settings: JSON.stringify(settings), updated_at: this.clock() });
    this.cache.delete(id);
    await this.audit.record(ctx, { action: 'deployment.settings', resourceType: 'deployment', resourceId: id, groupId: scope.id, details: patch });
    if (settings.network !== before.network)
      await this.audit.record(ctx, {
        action: settings.network ? 'deployment.network.allow' : 'deployment.network.deny',
        resourceType: 'deployment',
        resourceId: id,
        groupId: scope.id,
      });
    if (settings.public !== before.public)
      await this.audit.record(ctx, {
        action: settings.public ? 'deployment.public.allow' : 'deployment.public.deny',
        resourceType: 'deployment',
        resourceId: id,
        groupId: scope.id,
      });
    return this.get(scope, id);
  }

  async remove(ctx: RequestContext, scope: GroupScope, id: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const row = await this.require(scope, id);
    if (row.build_job_id) await this.engine.cancel(row.build_job_id).catch(() => undefined);
    await this.runtime.stop(id);
    await this.store.remove(id);
    this.cache.delete(id);
    await this.usageRecorder.remove(id);
    await rm(this.folderOf(id), { recursive: true, force: true });
    await this.audit.record(ctx, { action: 'deployment.delete', resourceType: 'deployment', resourceId: id, groupId: scope.id, details: { name: row.name } });
  }

  /** A deleted deployment's name and when it went, from the group's audit trail (deletion keeps no row). */
  async deleted(scope: GroupScope, id: string): Promise<{ name: string; at: number } | undefined> {
    const trail = await this.audit.trailOf(scope.id, { types: ['deployment'], id, childPrefixes: [] }, 50);
    const entry = trail.find((e) => e.action === 'deployment.delete');
    if (!entry) return undefined;
    const details = entry.details ? (JSON.parse(entry.details) as { name?: string }) : {};
    return { name: details.name ?? id, at: entry.at };
  }

  /** The log of the deployment's latest build job (empty before its first build). */
  async buildLog(scope: GroupScope, id: string): Promise<Array<{ at: number; stream: string; line: string }>> {
    const row = await this.require(scope, id);
    if (!row.build_job_id) return [];
    const lines = await this.engine.logs(row.build_job_id, 0, 10_000);
    return lines.map((l) => ({ at: l.ts, stream: l.stream, line: l.line }));
  }

  async runtimeLog(scope: GroupScope, id: string): Promise<string> {
    await this.require(scope, id);
    return readRuntimeLog(this.folderOf(id));
  }

  async stats(scope: GroupScope, id: string) {
    await this.require(scope, id);
    return (await this.runtime.stats(id)) ?? { workers: 0, busy: 0, queued: 0, served: 0, calls: 0, failed: 0, restarts: 0 };
  }

  /**
   * The hot path: cached row, one pool call, errors mapped to what the caller can act on; counted
   * in the usage figures and, when sampled, copied to the inference log under `requestId`.
   */
  async predict(scope: GroupScope, id: string, body: Buffer, format: InputFormat, requestId: string = newId()): Promise<Buffer> {
    const target = await this.inScope(scope, id);
    const started = performance.now();
    try {
      const out = await this.predictOn(this.ready(target), body, format);
      this.observe(target, requestId, started, body, format, out);
      return out;
    } catch (err) {
      this.observe(target, requestId, started);
      throw err;
    }
  }

  /**
   * Counts a call that reached a deployment (ok when it has an answer), and hands a sampled one's
   * bytes to the inference log: no parsing here, the log does that off the predict path.
   */
  private observe(target: Target, requestId: string, started: number, body?: Buffer, format?: InputFormat, answer?: Buffer): void {
    const latencyMs = performance.now() - started;
    const at = this.clock();
    this.usageRecorder.record(target.row.id, at, latencyMs, answer !== undefined);
    const rate = target.settings.inferenceLog.sampleRate;
    if (answer === undefined || rate <= 0 || (rate < 100 && Math.random() * 100 >= rate)) return;
    this.inferenceLog.capture({
      deploymentId: target.row.id,
      groupId: target.row.group_id,
      requestId,
      at,
      latencyMs,
      modelVersion: target.row.model_version,
      body: body!,
      format: format as LoggedFormat,
      answer,
    });
  }

  /** Calls, errors and latency percentiles of a deployment over a window, from its first call on. */
  async usage(scope: GroupScope, id: string, query: UsageQuery): Promise<UsageSeries> {
    await this.require(scope, id);
    return this.usageRecorder.series(id, query);
  }

  /** Where a deployment's inference log is, what it holds, and what this server dropped. */
  async inferenceLogInfo(scope: GroupScope, id: string): Promise<InferenceLogInfo> {
    const row = await this.require(scope, id);
    const settings = settingsOf(row).inferenceLog;
    return this.inferenceLog.info({ id, groupId: row.group_id, settings });
  }

  /** Every deployment's log retention, for the sweep. */
  async retentionTargets(): Promise<Array<{ id: string; groupId: string; retentionDays: number }>> {
    return (await this.store.listAll()).map((r) => ({
      id: r.id,
      groupId: r.group_id,
      retentionDays: settingsOf(r).inferenceLog.retentionDays,
    }));
  }

  /**
   * MLflow's /invocations: the worker parses the body by MLflow's rules and answers with MLflow's
   * status and body. Forja's own schema check (a schema sample) still runs first, with its clearer
   * message. Neomaril scripts have no MLflow contract: they answer as /predict does.
   */
  async invoke(scope: GroupScope, id: string, body: Buffer, format: InputFormat, mediaType: string, requestId: string = newId()): Promise<Invocation> {
    const target = await this.inScope(scope, id);
    const started = performance.now();
    let out: Invocation;
    try {
      out = await this.invokeOn(this.ready(target), body, format, mediaType);
    } catch (err) {
      this.observe(target, requestId, started);
      throw err;
    }
    // MLflow's errors come back as answers with their status: counted as errors, not logged.
    if (out.status < 400) this.observe(target, requestId, started, body, format, out.body);
    else this.observe(target, requestId, started);
    return out;
  }

  private async invokeOn(target: Target, body: Buffer, format: InputFormat, mediaType: string): Promise<Invocation> {
    if (target.row.kind === 'script') return { status: 200, contentType: 'application/json', body: await this.predictOn(target, body, format) };
    if (format === 'json' && target.schema) checkInput(target.schema, jsonOf(body));
    try {
      return await this.runtime.invoke(target.spec ?? this.runtimeSpec(target.row), body, mediaType);
    } catch (err) {
      throw mapRuntimeError(err, target.row.name);
    }
  }

  /**
   * The group whose public deployment this is, for a caller without credentials; undefined when
   * the deployment is not public (the caller then needs a token). Each client address gets the
   * deployment's `publicRateLimit` calls a minute.
   */
  async publicGroupOf(id: string, clientIp: string): Promise<string | undefined> {
    let target: Target;
    try {
      target = await this.cached(id);
    } catch {
      return undefined; // a missing deployment is as closed as a private one: no existence leak
    }
    const { row, settings } = target;
    if (!settings.public) return undefined;
    const key = `${id}|${clientIp}`;
    const limiter = this.publicLimiter(settings.publicRateLimit);
    const wait = limiter.retryAfter(key);
    if (wait > 0)
      throw rateLimited(
        wait,
        `Deployment ${row.name} takes ${settings.publicRateLimit} calls a minute from each address without a token; retry in ${wait} s, or send a token.`,
      );
    limiter.fail(key);
    return row.group_id;
  }

  /**
   * The public deployments serving a version of this registered model, in one group or in all: for
   * callers without credentials that name a model rather than a deployment (DHuolib's predict_online).
   */
  async publicServing(modelName: string, groupId?: string): Promise<Array<{ id: string; groupId: string; modelVersion: string }>> {
    return (await this.store.listOfModel(modelName, groupId))
      .filter((r) => r.model_version !== null && settingsOf(r).public)
      .map((r) => ({ id: r.id, groupId: r.group_id, modelVersion: r.model_version! }));
  }

  private publicLimiter(perMinute: number): AttemptLimiter {
    let limiter = this.publicLimiters.get(perMinute);
    if (!limiter) this.publicLimiters.set(perMinute, (limiter = new AttemptLimiter(perMinute, 60_000, this.clock)));
    return limiter;
  }

  private async inScope(scope: GroupScope, id: string): Promise<Target> {
    const target = await this.cached(id);
    if (target.row.group_id !== scope.id) throw notFound('Deployment', id);
    return target;
  }

  /** The deployment, if it can answer sync calls now; a 409 saying why not otherwise. */
  private ready(target: Target): Target {
    const { row } = target;
    const id = row.id;
    if (row.operation === 'async') throw conflict(`Deployment ${row.name} is asynchronous: send a file to POST /api/v1/deployments/${id}/executions.`);
    if (row.status !== 'Deployed') {
      if (row.status === 'Disabled') throw conflict(`Deployment ${row.name} is disabled; enable it to predict.`);
      if (row.status === 'Failed') throw conflict(`Deployment ${row.name} failed to build: ${row.message ?? 'see its build log'}.`);
      throw conflict(`Deployment ${row.name} is not ready yet (${row.status}); wait for its build (job ${row.build_job_id}).`);
    }
    return target;
  }

  private async predictOn({ row, schema, spec }: Target, body: Buffer, format: InputFormat): Promise<Buffer> {
    if (format === 'json' && (schema || row.kind === 'script')) {
      const payload = jsonOf(body);
      if (schema) checkInput(schema, payload);
      // Neomaril's wire format: the scorer gets what is inside {"Input": …}.
      if (row.kind === 'script' && isInputEnvelope(payload)) body = Buffer.from(JSON.stringify(payload.Input));
    }
    try {
      return await this.runtime.predict(spec ?? this.runtimeSpec(row), body, format);
    } catch (err) {
      throw mapRuntimeError(err, row.name);
    }
  }

  predictCode(scope: GroupScope, deployment: Deployment, baseUrl: string): { curl: string; python: string; typescript: string } {
    const url = `${baseUrl}/api/v1/deployments/${deployment.id}/predict`;
    const sample = JSON.stringify(deployment.schemaSample ?? { feature: 1 });
    return {
      curl: `curl -X POST '${url}' \\\n  -H "Authorization: Bearer $FORJA_TOKEN" -H 'X-Forja-Group: ${scope.name}' \\\n  -H 'Content-Type: application/json' \\\n  -d '${sample.replace(/'/g, "'\\''")}'`,
      python: `import os, requests\n\nresponse = requests.post(\n    "${url}",\n    headers={"Authorization": f"Bearer {os.environ['FORJA_TOKEN']}", "X-Forja-Group": "${scope.name}"},\n    json=${pythonLiteral(deployment.schemaSample ?? { feature: 1 })},\n    timeout=30,\n)\nresponse.raise_for_status()\nprint(response.json())\n`,
      typescript: `const response = await fetch('${url}', {\n  method: 'POST',\n  headers: { Authorization: \`Bearer \${process.env.FORJA_TOKEN}\`, 'X-Forja-Group': '${scope.name}', 'Content-Type': 'application/json' },\n  body: JSON.stringify(${sample}),\n});\nif (!response.ok) throw new Error(await response.text());\nconsole.log(await response.json());\n`,
    };
  }

  /** The build job: scan, environment, a test call on the schema sample, then Deployed (or Failed with why). */
  buildHandler(): JobHandler<typeof BUILD_KIND> {
    return async (ctx) => {
      const id = ctx.job.params.deploymentId;
      const row = await this.store.get(id);
      if (!row) throw new PermanentJobError(`Deployment ${id} no longer exists.`);
      const fail = async (message: string): Promise<never> => {
        await this.store.update(id, { status: 'Failed', message, updated_at: this.clock() });
        this.cache.delete(id);
        throw new PermanentJobError(message);
      };
      if (ctx.job.params.note) ctx.log(ctx.job.params.note, 'system');
      await this.store.update(id, { status: 'Building', message: 'Checking the files…', updated_at: this.clock() });
      const folder = this.folderOf(id);
      const findings = await scan(row, folder);
      for (const f of findings)
        ctx.log(`scan ${f.level}: ${path.basename(f.file)}${f.line ? `:${f.line}` : ''}: ${f.message}`, f.level === 'error' ? 'stderr' : 'stdout');
      const errors = findings.filter((f) => f.level === 'error');
      ctx.log(`Safety scan: ${errors.length} error(s), ${findings.length - errors.length} warning(s). ${SCAN_ADVISORY}`, 'system');
      if (errors.length) await fail(`The files did not pass the safety scan: ${errors.map((e) => `${path.basename(e.file)}: ${e.message}`).join('; ')}`);
      await this.store.update(id, { message: 'Building the Python environment…' });
      let env;
      try {
        env = await this.envs.ensure(
          { python: row.python_version, requirements: row.requirements },
          { log: (l) => ctx.log(l), signal: ctx.signal, groupId: row.group_id },
        );
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        return await fail((err as Error).message);
      }
      await this.store.update(id, { env_key: env.key, message: 'Loading the model and making a test call…' });
      const spec = this.runtimeSpec({ ...row, env_key: env.key });
      let pool;
      try {
        pool = await this.runtime.startPool(spec, { minWorkers: 1, maxWorkers: 1 });
        // An async scorer takes file paths: loading it (the import and the entrypoint) is the check.
        if (row.schema_sample && row.operation === 'sync') {
          const answer = (await pool.predict(Buffer.from(row.schema_sample))).toString('utf8');
          ctx.log(`Test call on the schema sample answered: ${answer.slice(0, 500)}`);
        } else ctx.log('The model loaded (no schema sample, so no test call).');
      } catch (err) {
        const e = err instanceof ModelError ? `The test call on the schema sample failed: ${err.type}: ${err.message}` : (err as Error).message;
        ctx.log(readRuntimeLog(folder, 4000).trimEnd(), 'stderr');
        // Awaited here: the finally below must not leave this rejection unhandled meanwhile.
        return await fail(e);
      } finally {
        await pool?.stop();
      }
      const now = this.clock();
      await this.store.update(id, { status: 'Deployed', message: null, deployed_at: now, updated_at: now });
      this.cache.delete(id);
      return { environment: env.key, reused: env.reused };
    };
  }

  private newRow(
    ctx: RequestContext,
    scope: GroupScope,
    id: string,
    fields: Omit<
      DeploymentRow,
      | 'id'
      | 'group_id'
      | 'status'
      | 'message'
      | 'env_key'
      | 'build_job_id'
      | 'created_by'
      | 'created_at'
      | 'updated_at'
      | 'deployed_at'
      | 'model_name'
      | 'model_version'
    > &
      Partial<Pick<DeploymentRow, 'model_name' | 'model_version'>>,
  ): DeploymentRow {
    const now = this.clock();
    return {
      model_name: null,
      model_version: null,
      ...fields,
      id,
      group_id: scope.id,
      status: 'Uploaded',
      message: null,
      env_key: null,
      build_job_id: null,
      created_by: ctx.principal.name,
      created_at: now,
      updated_at: now,
      deployed_at: null,
    };
  }

  private async insertAndBuild(
    ctx: RequestContext,
    scope: GroupScope,
    row: DeploymentRow,
    build: true,
  ): Promise<{ deployment: Deployment; buildJobId: string }>;
  private async insertAndBuild(
    ctx: RequestContext,
    scope: GroupScope,
    row: DeploymentRow,
    build: boolean,
  ): Promise<{ deployment: Deployment; buildJobId: string | null }>;
  private async insertAndBuild(
    ctx: RequestContext,
    scope: GroupScope,
    row: DeploymentRow,
    build: boolean,
  ): Promise<{ deployment: Deployment; buildJobId: string | null }> {
    try {
      await this.store.insert(row);
    } catch (err) {
      await rm(this.folderOf(row.id), { recursive: true, force: true });
      if (isUniqueViolation(err)) throw alreadyExists(`A deployment named "${row.name}" already exists in group "${scope.name}".`);
      throw err;
    }
    const jobId = build ? await this.enqueueBuild(row, ctx) : null;
    await this.audit.record(ctx, {
      action: 'deployment.create',
      resourceType: 'deployment',
      resourceId: row.id,
      groupId: scope.id,
      details: { name: row.name, kind: row.kind, source: row.source },
    });
    return { deployment: await this.get(scope, row.id), buildJobId: jobId };
  }

  private async enqueueBuild(row: DeploymentRow, ctx: RequestContext): Promise<string> {
    let jobId = '';
    await this.store.db.transaction(async (trx) => {
      const job = await this.engine.enqueue(
        {
          kind: BUILD_KIND,
          groupId: row.group_id,
          // The note left on a deployment uploaded without a build opens its first build's log.
          params: { deploymentId: row.id, name: row.name, ...(row.status === 'Uploaded' && row.message ? { note: row.message } : {}) },
          createdBy: ctx.principal.name,
        },
        trx,
      );
      jobId = job!.id;
      await this.store.update(row.id, { status: 'Building', message: 'Waiting for a worker…', build_job_id: jobId, updated_at: this.clock() }, trx);
    });
    this.engine.wake();
    this.cache.delete(row.id);
    return jobId;
  }

  get sandbox(): Sandbox {
    return this.envs.sandbox;
  }

  /** What running this deployment's model needs: its interpreter, folder and secrets. */
  runtimeSpec(row: DeploymentRow): RuntimeSpec {
    if (!row.env_key) throw conflict(`Deployment ${row.name} has no environment yet.`);
    return {
      row,
      python: path.join(this.envs.dirOf(row.env_key), 'bin', 'python'),
      folder: this.folderOf(row.id),
      secrets: row.secrets_sealed ? (JSON.parse(unseal(this.secretKey, row.secrets_sealed)) as Record<string, string>) : {},
    };
  }

  private async cached(id: string): Promise<Target> {
    const hit = this.cache.get(id);
    const now = this.clock();
    // Changes made through this server clear the entry at once; other servers' within 2 s.
    if (hit && now - hit.at < 2000) return hit;
    const row = await this.store.get(id);
    if (!row) throw notFound('Deployment', id);
    // Parsed and unsealed once per cache entry, not per request.
    const entry = {
      row,
      at: now,
      schema: row.schema_sample ? schemaFromSample(JSON.parse(row.schema_sample)) : undefined,
      spec: row.env_key ? this.runtimeSpec(row) : undefined,
      settings: settingsOf(row),
    };
    this.cache.set(id, entry);
    return entry;
  }

  /**
   * What re-running a group's deployed model elsewhere needs (the monitor's explanations): its files,
   * kind and environment spec. For server jobs that already hold the group; no row leaves the service.
   */
  async modelOf(groupId: string, id: string): Promise<DeployedModel> {
    const row = await this.store.get(id);
    if (!row || row.group_id !== groupId) throw notFound('Deployment', id);
    const folder = this.folderOf(id);
    const modelFile = (JSON.parse(row.files) as FileEntry[]).find((f) => f.role === 'model')?.name;
    return {
      name: row.name,
      kind: row.kind,
      filesDir: path.join(folder, 'files'),
      modelPath: row.kind === 'script' && modelFile ? path.join(folder, 'files', modelFile) : path.join(folder, row.model_path),
      predictMethod: row.predict_method,
      entrypoint: row.entrypoint,
      pythonVersion: row.python_version,
      requirements: row.requirements,
    };
  }

  async require(scope: GroupScope, id: string): Promise<DeploymentRow> {
    const row = await this.store.get(id);
    if (!row || row.group_id !== scope.id) throw notFound('Deployment', id);
    return row;
  }

  private present(r: DeploymentRow, group: string): Deployment {
    return {
      id: r.id,
      group,
      name: r.name,
      status: r.status,
      message: r.message,
      operation: r.operation,
      kind: r.kind,
      source: r.source,
      modelVersion: r.model_name && r.model_version ? { name: r.model_name, version: r.model_version } : null,
      entrypoint: r.entrypoint,
      predictMethod: r.predict_method,
      pythonVersion: r.python_version,
      files: JSON.parse(r.files) as FileEntry[],
      hasSecrets: r.secrets_sealed !== null,
      schemaSample: r.schema_sample === null ? null : (JSON.parse(r.schema_sample) as unknown),
      settings: settingsOf(r),
      environment: r.env_key,
      buildJobId: r.build_job_id,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      deployedAt: r.deployed_at,
    };
  }
}

function isInputEnvelope(payload: unknown): payload is { Input: unknown } {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && Object.keys(payload).length === 1 && 'Input' in payload;
}

/** JSON as a Python literal (True, False, None), for the generated calling code. */
function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
      .join(', ')}}`;
  return JSON.stringify(value);
}

function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError('MALFORMED_REQUEST', 'The body is not valid JSON.');
  }
}

function mapRuntimeError(err: unknown, name: string): Error {
  if (err instanceof ModelError) return new AppError('MODEL_ERROR', `The model raised ${err.type}: ${err.message}`, { type: err.type });
  if (err instanceof OverloadedError) return new AppError('UNAVAILABLE', err.message, undefined, { 'retry-after': '1' });
  if (err instanceof WorkerError) {
    if (err.failure === 'timeout') return new AppError('TIMEOUT', `${name}: ${err.message}`);
    return new AppError('UNAVAILABLE', `${name}: ${err.message} A new worker is starting; retry.`, undefined, { 'retry-after': '1' });
  }
  return err as Error;
}

/** KEY=VALUE lines (comments, blank lines, `export` and quotes allowed), as a .env file. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw invalid(`The env file's line ${i + 1} is not KEY=VALUE.`);
    out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  });
  return out;
}

/** A notebook's code cells as a script next to it; returns the script's name. */
async function notebookToScript(dir: string, name: string): Promise<string> {
  let nb: { cells?: Array<{ cell_type?: string; source?: string | string[] }> };
  try {
    nb = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as typeof nb;
  } catch {
    throw invalid(`"${name}" is not a valid notebook (JSON).`);
  }
  const code = (nb.cells ?? [])
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : (c.source ?? '')))
    // Shell and magic lines only make sense inside Jupyter.
    .map((src) =>
      src
        .split('\n')
        .filter((l) => !/^\s*[!%]/.test(l))
        .join('\n'),
    )
    .join('\n\n');
  const script = name.replace(/\.ipynb$/i, '.py');
  await writeFile(path.join(dir, script), code + '\n');
  return script;
}

async function listFiles(dir: string, prefix: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    out.push({ name: path.join(prefix, path.relative(dir, full)), role: 'model', size: (await stat(full)).size });
  }
  return out;
}

/** The static scan of a deployment's sources and pickles. */
function scan(row: DeploymentRow, folder: string): Promise<Finding[]> {
  const files = JSON.parse(row.files) as FileEntry[];
  const args: string[] = [];
  for (const f of files) {
    const full = path.join(folder, 'files', f.name);
    // A pickle may use classes of the deployment's own modules: the worker can import them, and they are scanned as sources.
    if (/\.py$/i.test(f.name)) args.push(`source:${full}`, `allow:${f.name.replace(/\.py$/i, '').replace(/\//g, '.')}`);
    if (row.kind === 'script' && f.role === 'source' && /\.ipynb$/i.test(f.name)) args.push(`source:${path.join(folder, row.model_path)}`);
    // A pickled estimator must be plain data; pickles inside a pyfunc or script model carry code by design.
    if (PICKLE_FILE.test(f.name)) args.push(`${row.kind === 'pickle' ? 'pickle' : 'code-pickle'}:${full}`);
  }
  return safetyScan(args);
}

/**
 * Outbound network lets a model send what it sees anywhere, and a public deployment answers anyone:
 * turning either on is a group admin's decision, not an editor's (turning them off is anyone's).
 */
function adminSettingsAllowedBy(scope: GroupScope, settings: DeploymentSettings, before?: DeploymentSettings): DeploymentSettings {
  if (scope.role === 'admin') return settings;
  if (settings.network && !before?.network) throw forbidden('Only a group admin may allow outbound network for a deployment (settings.network).');
  if (settings.public && !before?.public)
    throw forbidden('Only a group admin may make a deployment public (settings.public): it would answer callers without a token.');
  return settings;
}
