import type { Experiment, Metric, Run } from '@forja/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError, type z } from 'zod';
import { AppError } from '../errors.js';
import { toMetric } from '../tracking/service.js';

/** MLflow's error codes and statuses (RESOURCE_ALREADY_EXISTS is a 400 there, not a 409). */
const MLFLOW_ERRORS: Record<string, [string, number]> = {
  INVALID_ARGUMENT: ['INVALID_PARAMETER_VALUE', 400],
  MALFORMED_REQUEST: ['INVALID_PARAMETER_VALUE', 400],
  UNAUTHENTICATED: ['UNAUTHENTICATED', 401],
  PERMISSION_DENIED: ['PERMISSION_DENIED', 403],
  NOT_FOUND: ['RESOURCE_DOES_NOT_EXIST', 404],
  ROUTE_NOT_FOUND: ['ENDPOINT_NOT_FOUND', 404],
  METHOD_NOT_ALLOWED: ['ENDPOINT_NOT_FOUND', 404],
  ALREADY_EXISTS: ['RESOURCE_ALREADY_EXISTS', 400],
  CONFLICT: ['RESOURCE_CONFLICT', 409],
  PAYLOAD_TOO_LARGE: ['INVALID_PARAMETER_VALUE', 413],
  UNSUPPORTED_MEDIA_TYPE: ['INVALID_PARAMETER_VALUE', 400],
  RATE_LIMITED: ['REQUEST_LIMIT_EXCEEDED', 429],
  /** Only on /invocations: MLflow's scoring server answers a model's own error with a 400. */
  MODEL_ERROR: ['BAD_REQUEST', 400],
  INTERNAL: ['INTERNAL_ERROR', 500],
  UNAVAILABLE: ['TEMPORARILY_UNAVAILABLE', 503],
  TIMEOUT: ['DEADLINE_EXCEEDED', 504],
};

/**
 * MLflow 3 adds the error_class it derives from the error code, and a sqlstate, to its error bodies
 * (mlflow/error_classification.py); its client keeps both. Codes without a class get neither.
 */
const MLFLOW_CLASSES: Record<string, [errorClass: string, sqlstate: string]> = {
  INVALID_PARAMETER_VALUE: ['INVALID_PARAMETER_VALUE', 'KAM00'],
  RESOURCE_DOES_NOT_EXIST: ['RESOURCE_NOT_FOUND', 'KAM00'],
  ENDPOINT_NOT_FOUND: ['RESOURCE_NOT_FOUND', 'KAM00'],
  RESOURCE_ALREADY_EXISTS: ['RESOURCE_ALREADY_EXISTS', 'KAM00'],
  PERMISSION_DENIED: ['PERMISSION_DENIED', 'KAM00'],
  INTERNAL_ERROR: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
  TEMPORARILY_UNAVAILABLE: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
};

/** An error body as MLflow's server writes it. */
export function mlflowErrorBody(errorCode: string, message: string) {
  const cls = MLFLOW_CLASSES[errorCode];
  return { error_code: errorCode, message, ...(cls ? { sqlstate: cls[1], error_class: cls[0] } : {}) };
}

/** Errors on the MLflow surface look like MLflow's: {"error_code", "message"} with its statuses and words. */
export function mlflowErrorHandler(error: Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let code = 'INTERNAL';
  let message = `Internal error. Report request id ${request.id} to your administrator.`;
  if (error instanceof AppError) {
    code = error.code;
    message = mlflowWords(error, request);
    if (error.headers) reply.headers(error.headers);
  } else if (error instanceof ZodError) {
    // A service checked what the route passed on; its paths are those of the request body.
    code = 'INVALID_ARGUMENT';
    message = describeIssue(error.issues[0], rawInput(request));
  } else if (hasZodFastifySchemaValidationErrors(error)) {
    code = 'INVALID_ARGUMENT';
    const v = error.validation[0];
    message = `Invalid value for parameter '${v?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? ''}' supplied: ${v?.message ?? 'invalid'}`;
  } else {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) code = 'PAYLOAD_TOO_LARGE';
    else if (status && status >= 400 && status < 500) code = 'MALFORMED_REQUEST';
    if (status && status < 500) message = error.message;
    else request.log.error({ err: error, reqId: request.id }, 'unhandled error');
  }
  const [errorCode, status] = MLFLOW_ERRORS[code] ?? ['INTERNAL_ERROR', 500];
  return reply.status(status).type('application/json').send(mlflowErrorBody(errorCode, message));
}

/** MLflow's own words for what its client and users grep for; other messages stay Forja's. */
function mlflowWords(error: AppError, request: FastifyRequest): string {
  const d = error.details as { resource?: string; id?: string; issues?: { path: string; message: string }[] } | undefined;
  const issue = d?.issues?.[0];
  if (error.code === 'INVALID_ARGUMENT' && issue?.path) {
    // A service's check of one field (parseField): its dotted path becomes MLflow's `tags[1].key`;
    // its names are already the caller's (`tags.mlflow.runName` names a tag, not a field).
    const path = issue.path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    return describeIssue({ code: 'custom', path, message: issue.message }, rawInput(request), false);
  }
  if (error.code === 'NOT_FOUND' && d?.resource === 'Run') return `Run with id=${d.id} not found`;
  if (error.code === 'NOT_FOUND' && d?.resource === 'Experiment') return `No Experiment with id=${d.id} exists`;
  return error.message;
}

/** A request field as MLflow names it: snake_case, list items as [i] (`metrics[0].timestamp`). */
function fieldName(path: readonly PropertyKey[], snake: boolean): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += `${out ? '.' : ''}${snake ? String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : String(p)}`;
  }
  return out || 'request';
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/**
 * One zod issue in MLflow's words. "Missing value" only when the field is absent (or empty, which
 * MLflow's handlers treat alike); a value of the wrong type or form is "Invalid value <it> …".
 */
type Issue = { code: string; path: readonly PropertyKey[]; message: string; origin?: string; maximum?: unknown };
export function describeIssue(issue: Issue | undefined, data: unknown, snake = true): string {
  if (!issue) return 'Invalid request.';
  const field = fieldName(issue.path, snake);
  const value = valueAt(data, issue.path);
  if (issue.message.startsWith('Missing value for required parameter')) return issue.message;
  const absent = value === undefined || value === null || (value === '' && issue.code === 'too_small');
  if (absent && ['invalid_type', 'invalid_union', 'too_small'].includes(issue.code)) return `Missing value for required parameter '${field}'.`;
  if (issue.code === 'too_big' && issue.origin === 'string' && Number(issue.maximum) > 0)
    return `'${field}' exceeds the maximum length of ${String(issue.maximum)} characters`;
  const shown = value === undefined ? '' : ` ${JSON.stringify(value)}`;
  return `Invalid value${shown} for parameter '${field}' supplied: ${issue.message}`;
}

/** What the request carried, as MLflow's handlers read it: GET the query string, else the JSON body. */
function rawInput(request: FastifyRequest): unknown {
  const raw = request.method === 'GET' ? (hasKeys(request.query) ? request.query : (request.body ?? {})) : (request.body ?? {});
  return typeof raw === 'string' ? safeParse(raw) : raw;
}

/** GET reads the query string, everything else the JSON body, as MLflow's handlers do. */
export function input<S extends z.ZodTypeAny>(request: FastifyRequest, schema: S): z.infer<S> {
  const data = rawInput(request);
  const r = schema.safeParse(data);
  if (!r.success) throw new AppError('INVALID_ARGUMENT', describeIssue(r.error.issues[0], data));
  return r.data;
}

const hasKeys = (o: unknown) => typeof o === 'object' && o !== null && Object.keys(o).length > 0;
function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('MALFORMED_REQUEST', 'The body is not valid JSON.');
  }
}

const kv = (items: { key: string; value: string }[]) => items.map((i) => ({ key: i.key, value: i.value }));

export const wireMetric = (m: Metric) => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step });

export function wireExperiment(e: Experiment) {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    creation_time: e.creationTime,
    last_update_time: e.lastUpdateTime,
    tags: kv(e.tags),
  };
}

export function wireRunInfo(i: Run['info']) {
  return {
    run_id: i.runId,
    run_uuid: i.runId,
    run_name: i.runName,
    experiment_id: i.experimentId,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    ...(i.endTime !== null ? { end_time: i.endTime } : {}),
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
  };
}

/** A run as MLflow answers it; empty lists are left out, as protobuf JSON does. */
export function wireRun(r: Run, opts: { modelInputs: boolean }) {
  const modelInputs = opts.modelInputs ? r.inputs.modelInputs.map((m) => ({ model_id: m.modelId })) : [];
  const modelOutputs = r.outputs.modelOutputs.map((m) => ({ model_id: m.modelId, step: m.step }));
  const datasetInputs = wireDatasetInputs(r);
  return {
    info: wireRunInfo(r.info),
    data: { metrics: r.data.metrics.map(wireMetric), params: kv(r.data.params), tags: kv(r.data.tags) },
    inputs: {
      ...(datasetInputs.length ? { dataset_inputs: datasetInputs } : {}),
      ...(modelInputs.length ? { model_inputs: modelInputs } : {}),
    },
    outputs: modelOutputs.length ? { model_outputs: modelOutputs } : {},
  };
}

function wireDatasetInputs(r: Run) {
  return r.inputs.datasetInputs.map((d) => ({
    tags: kv(d.tags),
    dataset: {
      name: d.dataset.name,
      digest: d.dataset.digest,
      source_type: d.dataset.sourceType,
      source: d.dataset.source,
      ...(d.dataset.schema !== null ? { schema: d.dataset.schema } : {}),
      ...(d.dataset.profile !== null ? { profile: d.dataset.profile } : {}),
    },
  }));
}

export function wireLoggedModel(m: import('../tracking/logged-models.js').LoggedModel) {
  const r = m.row;
  return {
    info: {
      model_id: r.id,
      experiment_id: r.experiment_id,
      name: r.name,
      creation_timestamp_ms: r.creation_time,
      last_updated_timestamp_ms: r.last_updated_time,
      artifact_uri: r.artifact_uri,
      status: r.status,
      // MLflow answers an unset model type as "", not by leaving the field out.
      model_type: r.model_type ?? '',
      ...(r.source_run_id ? { source_run_id: r.source_run_id } : {}),
      ...(r.status_message ? { status_message: r.status_message } : {}),
      tags: kv(m.tags),
    },
    data: {
      params: kv(m.params),
      metrics: m.metrics.map((x) => ({
        ...wireMetric(toMetric(x)),
        ...(x.dataset_name ? { dataset_name: x.dataset_name } : {}),
        ...(x.dataset_digest ? { dataset_digest: x.dataset_digest } : {}),
        model_id: x.model_id,
        run_id: x.run_id,
      })),
    },
  };
}

export function wireModelVersion(v: import('@forja/contracts').ModelVersion) {
  return {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdatedTime,
    ...(v.userId ? { user_id: v.userId } : {}),
    current_stage: v.currentStage,
    description: v.description,
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    run_link: v.runLink ?? '', // MLflow answers "" when there is none
    ...(v.modelId ? { model_id: v.modelId } : {}),
    status: v.status,
    tags: kv(v.tags),
    aliases: v.aliases,
  };
}

export function wireRegisteredModel(m: import('@forja/contracts').RegisteredModel) {
  return {
    name: m.name,
    creation_timestamp: m.creationTime,
    last_updated_timestamp: m.lastUpdatedTime,
    ...(m.userId ? { user_id: m.userId } : {}),
    // MLflow leaves out a registered model's description until one is set (a version's is always there).
    ...(m.description ? { description: m.description } : {}),
    latest_versions: m.latestVersions.map(wireModelVersion),
    tags: kv(m.tags),
    aliases: m.aliases,
  };
}
