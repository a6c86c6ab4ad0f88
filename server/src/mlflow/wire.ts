import type { Experiment, Metric, Run } from '@forja/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError, type z } from 'zod';
import { AppError } from '../errors.js';

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
  INTERNAL: ['INTERNAL_ERROR', 500],
  UNAVAILABLE: ['TEMPORARILY_UNAVAILABLE', 503],
  TIMEOUT: ['DEADLINE_EXCEEDED', 504],
};

/** Errors on the MLflow surface look like MLflow's: {"error_code", "message"} with its statuses. */
export function mlflowErrorHandler(error: Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let code = 'INTERNAL';
  let message = `Internal error. Report request id ${request.id} to your administrator.`;
  if (error instanceof AppError) {
    code = error.code;
    message = error.message;
    if (error.headers) reply.headers(error.headers);
  } else if (hasZodFastifySchemaValidationErrors(error) || error instanceof ZodError) {
    code = 'INVALID_ARGUMENT';
    message = describeZod(error);
  } else {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) code = 'PAYLOAD_TOO_LARGE';
    else if (status && status >= 400 && status < 500) code = 'MALFORMED_REQUEST';
    if (status && status < 500) message = error.message;
    else request.log.error({ err: error, reqId: request.id }, 'unhandled error');
  }
  const [errorCode, status] = MLFLOW_ERRORS[code] ?? ['INTERNAL_ERROR', 500];
  return reply.status(status).type('application/json').send({ error_code: errorCode, message });
}

function describeZod(error: unknown): string {
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    // The services check MLflow's input with the native schemas: name fields as MLflow spells them.
    const field = issue?.path.map((p) => String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join('.') || 'request';
    if (issue?.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return `Missing value for required parameter '${field}'.`;
    return `Invalid value for parameter '${field}' supplied: ${issue?.message ?? 'invalid'}`;
  }
  const v = (error as { validation: { instancePath: string; message?: string }[] }).validation[0];
  return `Invalid value for parameter '${v?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? ''}' supplied: ${v?.message ?? 'invalid'}`;
}

/** GET reads the query string, everything else the JSON body, as MLflow's handlers do. */
export function input<S extends z.ZodTypeAny>(request: FastifyRequest, schema: S): z.infer<S> {
  const raw = request.method === 'GET' ? (hasKeys(request.query) ? request.query : (request.body ?? {})) : (request.body ?? {});
  const data = typeof raw === 'string' ? safeParse(raw) : raw;
  return schema.parse(data);
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

export function wireRun(r: Run) {
  return {
    info: wireRunInfo(r.info),
    data: { metrics: r.data.metrics.map(wireMetric), params: kv(r.data.params), tags: kv(r.data.tags) },
    inputs: {
      dataset_inputs: r.inputs.datasetInputs.map((d) => ({
        tags: kv(d.tags),
        dataset: {
          name: d.dataset.name,
          digest: d.dataset.digest,
          source_type: d.dataset.sourceType,
          source: d.dataset.source,
          ...(d.dataset.schema !== null ? { schema: d.dataset.schema } : {}),
          ...(d.dataset.profile !== null ? { profile: d.dataset.profile } : {}),
        },
      })),
    },
  };
}

export function wireLoggedModel(m: { row: import('../tracking/logged-models.js').LoggedModelRow; tags: { key: string; value: string }[]; params: { key: string; value: string }[] }) {
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
    data: { params: kv(m.params), metrics: [] },
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
