import { rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { Deployment, Execution, Role } from '@forja/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessPolicy } from '../../auth/access.js';
import type { GroupsService } from '../../auth/groups-service.js';
import type { GroupScope, RequestContext } from '../../auth/principal.js';
import { newId } from '../../db/ids.js';
import type { ExecutionsService } from '../../deployments/executions.js';
import type { DeploymentsService } from '../../deployments/service.js';
import { AppError, invalid, notFound } from '../../errors.js';
import { contextOf } from '../../http/auth-hooks.js';
import { stageUpload } from '../../http/multipart.js';
import type { App } from '../../http/types.js';
import { codexGroupScope } from './group-scope.js';
import { CODEX_STATE, displayNameOf, executionIdOf, executionNumberOf, forjaNameOf, newCodexExecutionId, requestedPython } from './model-mapping.js';
import { codexErrorBody } from './wire.js';
import { zipFiles } from './zip.js';

export interface CodexModelDeps {
  access: AccessPolicy;
  deployments: DeploymentsService;
  executions: ExecutionsService;
  groups: GroupsService;
}

/**
 * Management calls carry the user's token (a group token there is a 403); the data plane takes the
 * group's token too. The role in `{g}` is checked by codexGroupScope in each handler.
 */
const management = { auth: { authenticated: true } } as const;
const dataPlane = { auth: { authenticated: true, allowGroupToken: true } } as const;
const SYNC_BODY_LIMIT = 50 * 1024 * 1024;
const UPLOAD_FILE_LIMIT = 2 * 1024 * 1024 * 1024;

const Model = z.object({ g: z.string().min(1).max(100), hash: z.string().min(1).max(40) }).strict();
const ModelExecution = Model.extend({ exec: z.string().min(1).max(20) }).strict();
const GroupExecution = z.object({ g: z.string().min(1).max(100), exec: z.string().min(1).max(20) }).strict();

const UploadFields = z.object({
  name: z.string({ error: 'name: give the model a name' }),
  model_reference: z.string().regex(/^[A-Za-z_]\w*$/, 'model_reference must be the name of the scoring function, e.g. score'),
  operation: z.enum(['Sync', 'Async'], { error: 'operation must be Sync or Async' }),
  input_type: z.string().optional(),
  python_version: z.string().optional(),
});
const INPUT_TYPES = { Sync: ['json'], Async: ['json', 'csv', 'parquet'] } as const;

const SearchQuery = z.object({ name: z.string().optional(), state: z.string().optional(), group: z.string().optional() });
const LOG_TYPES = ['Ok', 'Error', 'Debug', 'Warning'] as const;
const LogsQuery = z.object({
  start: z.string().optional(),
  end: z.string().optional(),
  routine: z.enum(['Host', 'Run']).optional(),
  type: z.enum(LOG_TYPES).optional(),
});

/**
 * MLOps Codex's model routes and data plane (`/codex/api/model/…`) on Forja's deployments and
 * async executions: the ModelHash is the deployment id, an ExecutionId the number its execution id
 * spells (model-mapping.ts), Codex's states are Forja's statuses renamed, and a deleted model's
 * "Deleted" comes from the audit trail. Codex models are uploaded without a build (state Ready)
 * until the client hosts them, and their async scorers get folders (`scorerPaths: 'folders'`).
 */
export async function registerCodexModelRoutes(app: App, deps: CodexModelDeps): Promise<void> {
  const d = deps.deployments;
  const x = deps.executions;
  /** The group `{g}` names, with the caller's role there checked. */
  const inGroup = (req: FastifyRequest, needed: Role | 'predict') => codexGroupScope(deps.access, req, (req.params as { g: string }).g, needed);

  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { preservePath: true, limits: { fileSize: UPLOAD_FILE_LIMIT, files: 100, fields: 20, fieldSize: 100_000 } });

    scope.post('/model/upload/:g', { config: management, schema: { hide: true, params: z.object({ g: z.string().min(1).max(100) }) } }, async (req, reply) => {
      const id = newId();
      const staging = path.join(d.root, '.staging', id);
      const scopeOfGroup = await inGroup(req, 'editor');
      try {
        const staged = await stageUpload(req, staging, ['source', 'model', 'requirements', 'schema', 'env', 'extra']);
        const fields = UploadFields.parse(staged.fields);
        const inputType = fields.input_type ?? (fields.operation === 'Sync' ? 'json' : '');
        if (!(INPUT_TYPES[fields.operation] as readonly string[]).includes(inputType))
          throw invalid(`input_type: a ${fields.operation} model takes ${INPUT_TYPES[fields.operation].join(', ')}, not "${inputType}".`);
        for (const role of ['source', 'model', 'requirements'] as const)
          if (!staged.files.some((f) => f.role === role))
            throw invalid(`Send the model's "${role}" file: MLOps Codex uploads need source, model and requirements.`);
        const python = requestedPython(fields.python_version);
        // Forja's schema sample is JSON; an async model's CSV or Parquet sample stays with its files.
        for (const f of staged.files) if (f.role === 'schema' && !/\.json$/i.test(f.name)) f.role = 'extra';
        const name = await freeName(d, scopeOfGroup, fields.name);
        staged.fields = {
          name,
          operation: fields.operation === 'Sync' ? 'sync' : 'async',
          kind: 'script',
          entrypoint: fields.model_reference,
          // Every Codex model builds with this server's Python: the note says so in its build log.
          pythonVersion: '',
          // The seeds' async contract (folders), stated rather than left to the default.
          settings: JSON.stringify({ scorerPaths: 'folders' }),
        };
        const note = `MLOps Codex python_version ${fields.python_version ?? '(none)'} asked for Python ${python}; Forja builds it with this server's Python 3 (the scorer contract is the same).`;
        await d.createFromUpload(contextOf(req), scopeOfGroup, id, staged, staging, { build: false, note });
        return reply.code(201).send({ ModelHash: id, Message: `Model "${fields.name.trim()}" uploaded as deployment ${name}; host it to build.` });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });

    for (const op of ['sync', 'async'] as const)
      scope.get(`/model/${op}/host/:g/:hash`, { config: management, schema: { hide: true, params: Model } }, async (req, reply) => {
        const group = await inGroup(req, 'editor');
        const dep = await d.get(group, req.params.hash);
        if (dep.operation !== op) throw invalid(`Model ${req.params.hash} is ${codexOperation(dep)}: host it at /model/${dep.operation}/host.`);
        // A promoted training run starts building at once and the client hosts it right after: hosting
        // what is building or deployed already is a no-op, not a second build (restart rebuilds).
        if (dep.status === 'Building' || dep.status === 'Deployed')
          return reply.code(202).send({ Message: `Model ${dep.id} is ${CODEX_STATE[dep.status]} already.` });
        const built = await d.rebuild(contextOf(req), group, dep.id);
        return reply.code(202).send({ Message: `Building model ${dep.id} (job ${built.buildJobId}).` });
      });

    scope.get('/model/status/:g/:hash', { config: management, schema: { hide: true, params: Model } }, async (req) => {
      const found = await modelOrTombstone(d, await inGroup(req, 'viewer'), req.params.hash);
      return 'deleted' in found
        ? { Status: 'Deleted', Message: `Deleted on ${new Date(found.deleted.at).toISOString()}.` }
        : { Status: CODEX_STATE[found.dep.status], Message: found.dep.message ?? '' };
    });

    scope.get('/model/describe/:g/:hash', { config: management, schema: { hide: true, params: Model } }, async (req) => {
      const group = await inGroup(req, 'viewer');
      const found = await modelOrTombstone(d, group, req.params.hash);
      if ('deleted' in found)
        return { Description: { ModelHash: req.params.hash, Name: displayNameOf(found.deleted.name), Group: group.name, Status: 'Deleted' } };
      return { Description: describe(found.dep) };
    });

    scope.get('/model/describe/:g/:hash/:exec', { config: management, schema: { hide: true, params: ModelExecution } }, async (req) => {
      const group = await inGroup(req, 'viewer');
      const dep = await d.get(group, req.params.hash);
      const execution = await x.get(group, dep.id, codexExecutionId(req.params.exec));
      const number = executionNumberOf(execution.id)!;
      return {
        Description: {
          ...describe(dep),
          ExecutionId: number,
          RunAt: execution.startedAt === null ? null : new Date(execution.startedAt).toISOString(),
          ExecutionState: execution.status,
          Message: execution.message ?? '',
          InputPayload: { basePath: `${group.name}/${dep.id}/${number}`, defaultEnvVars: { inputFileName: execution.inputName } },
          OutputPayload: { outputPath: `${group.name}/${dep.id}/${number}/output/${number}.zip` },
        },
      };
    });

    scope.get('/model/search', { config: management, schema: { hide: true, querystring: SearchQuery } }, async (req) => {
      const ctx = contextOf(req);
      const like = (value: string, filter: string | undefined) => !filter || value.toLowerCase().includes(filter.toLowerCase());
      const results = [];
      for (const group of await scopesOf(deps.groups, ctx)) {
        if (!like(group.name, req.query.group)) continue;
        for (const dep of await d.list(group)) {
          const row = describe(dep);
          if (like(row.Name, req.query.name) && like(row.Status, req.query.state))
            results.push({ ...row, Schema: dep.schemaSample === null ? null : JSON.stringify(dep.schemaSample) });
        }
      }
      return { Count: results.length, Results: results };
    });

    const logs = async (group: GroupScope, hash: string, query: z.infer<typeof LogsQuery>) => {
      const { from, to } = window(query.start, query.end);
      const out: Array<{ Hash: string; RegisteredAt: string; OutputType: string; OutputData: string; Routine: string }> = [];
      if (query.routine !== 'Run')
        for (const l of await d.buildLog(group, hash))
          out.push({
            Hash: hash,
            RegisteredAt: new Date(l.at).toISOString(),
            OutputType: l.stream === 'stderr' ? 'Error' : 'Ok',
            OutputData: l.line,
            Routine: 'Host',
          });
      if (query.routine !== 'Host') {
        // The workers' log has no timestamps: its lines are dated now.
        const now = new Date().toISOString();
        for (const line of (await d.runtimeLog(group, hash)).split('\n').filter(Boolean))
          out.push({ Hash: hash, RegisteredAt: now, OutputType: /error|traceback|exception/i.test(line) ? 'Error' : 'Ok', OutputData: line, Routine: 'Run' });
      }
      return { Results: out.filter((l) => (!query.type || l.OutputType === query.type) && l.RegisteredAt >= from && l.RegisteredAt < to) };
    };
    scope.get('/model/logs/:g/:hash', { config: management, schema: { hide: true, params: Model, querystring: LogsQuery } }, async (req) =>
      logs(await inGroup(req, 'viewer'), req.params.hash, req.query),
    );
    // The client's MLOpsModelClient.get_logs still calls the path without the group: the model's own group answers.
    scope.get(
      '/model/logs/:hash',
      { config: management, schema: { hide: true, params: z.object({ hash: z.string().min(1).max(40) }), querystring: LogsQuery } },
      async (req) => {
        const ctx = contextOf(req);
        for (const group of await scopesOf(deps.groups, ctx)) {
          const dep = await d.get(group, req.params.hash).catch(() => undefined);
          if (dep) return logs(group, dep.id, req.query);
        }
        throw notFound('Model', req.params.hash);
      },
    );

    scope.get('/model/restart/:g/:hash', { config: management, schema: { hide: true, params: Model } }, async (req) => {
      const built = await d.rebuild(contextOf(req), await inGroup(req, 'editor'), req.params.hash);
      return { Message: `Restarting model ${req.params.hash} (job ${built.buildJobId}).` };
    });
    scope.post('/model/disable/:g/:hash', { config: management, schema: { hide: true, params: Model } }, async (req) => {
      await d.setEnabled(contextOf(req), await inGroup(req, 'editor'), req.params.hash, false);
      return { Message: `Model ${req.params.hash} disabled.` };
    });
    scope.delete('/model/delete/:g/:hash', { config: management, schema: { hide: true, params: Model } }, async (req) => {
      await d.remove(contextOf(req), await inGroup(req, 'editor'), req.params.hash);
      return { Message: `Model ${req.params.hash} deleted.` };
    });

    scope.get('/model/sync/health/:g/:hash', { config: dataPlane, schema: { hide: true, params: Model } }, async (req) => {
      const dep = await d.get(await inGroup(req, 'predict'), req.params.hash);
      return { Message: dep.status === 'Deployed' ? 'OK' : `Model is ${CODEX_STATE[dep.status]}${dep.message ? `: ${dep.message}` : ''}` };
    });

    scope.post('/model/async/run/:g/:hash', { config: dataPlane, schema: { hide: true, params: Model } }, async (req, reply) => {
      const group = await inGroup(req, 'predict');
      const { id, number } = newCodexExecutionId();
      const staging = path.join(d.root, '.staging', id);
      try {
        const staged = await stageUpload(req, staging, ['input']);
        if (staged.fields.dataset_hash !== undefined && !staged.files.length)
          throw invalid('dataset_hash: Forja keeps no MLOps Codex datasets; send the file itself in the "input" field.');
        await x.create(contextOf(req), group, req.params.hash, id, staged, staging);
        return reply.code(202).send({ ExecutionId: number, Message: `Execution ${number} started. Use the id to check its status.` });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });

    scope.get('/model/async/status/:g/:exec', { config: dataPlane, schema: { hide: true, params: GroupExecution } }, async (req) => {
      const execution = await x.inGroup(await inGroup(req, 'predict'), codexExecutionId(req.params.exec));
      return { ExecutionId: executionNumberOf(execution.id), Status: execution.status, Message: execution.message ?? '' };
    });

    scope.get('/model/async/result/:g/:exec', { config: dataPlane, schema: { hide: true, params: GroupExecution } }, async (req, reply) => {
      const group = await inGroup(req, 'predict');
      const execution = await x.inGroup(group, codexExecutionId(req.params.exec));
      if (execution.status !== 'Succeeded') return notReady(reply, req.params.exec, execution);
      const result = await x.result(group, execution.deploymentId, execution.id);
      const zip = await zipFiles([{ name: result.name, path: result.file }]);
      return reply.header('content-type', 'application/zip').header('content-disposition', `attachment; filename="${req.params.exec}.zip"`).send(zip);
    });
  });

  // The client posts sync inputs as a JSON string with no Content-Type: every body is taken as bytes here.
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SYNC_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.post('/model/sync/run/:g/:hash', { config: dataPlane, bodyLimit: SYNC_BODY_LIMIT, schema: { hide: true, params: Model } }, async (req, reply) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        throw invalid('The body must be JSON: {"Input": {…}}.');
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || !('Input' in payload))
        throw invalid('The body must be {"Input": {…}}: the scorer gets what "Input" holds.');
      const extra = Object.keys(payload).filter((k) => k !== 'Input');
      if (extra.length) throw invalid(`Forja runs no MLOps Codex preprocessing scripts: send only "Input" (got ${extra.map((k) => `"${k}"`).join(', ')} too).`);
      const out = await d.predict(await inGroup(req, 'predict'), req.params.hash, Buffer.from(JSON.stringify(payload)), 'json', req.id);
      return reply.header('content-type', 'application/json; charset=utf-8').send(out);
    });
  });
}

function codexOperation(dep: Deployment): 'Sync' | 'Async' {
  return dep.operation === 'sync' ? 'Sync' : 'Async';
}

/** What Codex's describe shows of a model. */
function describe(dep: Deployment) {
  return {
    ModelHash: dep.id,
    Name: displayNameOf(dep.name),
    Group: dep.group,
    Operation: codexOperation(dep),
    Status: CODEX_STATE[dep.status],
    Message: dep.message ?? '',
    PythonVersion: dep.pythonVersion ? `Python${dep.pythonVersion.replace('.', '')}` : 'Python3',
    ModelReference: dep.entrypoint,
    ModelCreatorUserId: dep.createdBy,
    UploadedAt: new Date(dep.createdAt).toISOString(),
    Input: dep.schemaSample,
    Origin: 'Model',
    TrainingHash: null,
    TrainingExecution: null,
    RunName: null,
    ExperimentName: null,
  };
}

/** The model, or what the audit trail says of it once deleted (the client describes a model right after deleting it). */
async function modelOrTombstone(
  d: DeploymentsService,
  group: GroupScope,
  hash: string,
): Promise<{ dep: Deployment } | { deleted: { name: string; at: number } }> {
  try {
    return { dep: await d.get(group, hash) };
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
    const deleted = await d.deleted(group, hash);
    if (!deleted) throw err;
    return { deleted };
  }
}

/** The Forja name for a display name: the first of "name", "name..2", … not taken in the group. */
async function freeName(d: DeploymentsService, group: GroupScope, display: string): Promise<string> {
  const taken = new Set((await d.list(group)).map((dep) => dep.name));
  for (let copy = 1; ; copy++) {
    const name = forjaNameOf(display, copy);
    if (!taken.has(name)) return name;
  }
}

function codexExecutionId(exec: string): string {
  const id = executionIdOf(exec);
  if (!id) throw notFound('Execution', exec);
  return id;
}

/** The caller's groups as scopes (a system admin acts as admin in every group). */
async function scopesOf(groups: GroupsService, ctx: RequestContext): Promise<GroupScope[]> {
  return (await groups.list(ctx)).map((g) => ({ id: g.id, name: g.name, role: g.myRole ?? (ctx.principal.isAdmin ? 'admin' : null) }));
}

/**
 * A result asked for before the execution succeeded: a 409 whose message says the state, as the
 * client's own "Execution not ready. Status is …" does (it checks the status before downloading).
 */
function notReady(reply: FastifyReply, exec: string, execution: Execution): FastifyReply {
  const message =
    execution.status === 'Failed'
      ? `Execution ${exec} failed, so it has no result: ${execution.message ?? 'see the model logs'}.`
      : `Execution ${exec} not ready. Status is ${execution.status}; download its result once it has Succeeded.`;
  return reply
    .code(409)
    .type('application/json')
    .send({ ...codexErrorBody(409, message), Status: execution.status });
}

/** Codex's log window: dd-mm-yyyy days, the end day included, a week ending today by default. */
function window(start: string | undefined, end: string | undefined): { from: string; to: string } {
  const day = (value: string, field: string) => {
    const m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(value);
    const at = m ? Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1])) : Number.NaN;
    if (!m || Number.isNaN(at) || new Date(at).getUTCDate() !== Number(m[1])) throw invalid(`${field}: "${value}" is not a dd-mm-yyyy date.`);
    return at;
  };
  const DAY = 86_400_000;
  const today = Math.floor(Date.now() / DAY) * DAY;
  const to = (end ? day(end, 'end') : start ? day(start, 'start') + 6 * DAY : today) + DAY;
  const from = start ? day(start, 'start') : to - 7 * DAY;
  if (from >= to) throw invalid('start must not be after end.');
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}
