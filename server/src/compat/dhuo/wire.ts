import type { Experiment, ModelVersion, RegisteredModel, Run } from '@forja/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { invalid } from '../../errors.js';

/** DHuolib's bodies, checked with its field names so a 400 names what the notebook sent. */
export function bodyOf<S extends z.ZodTypeAny>(req: FastifyRequest, schema: S): z.output<S> {
  if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body))
    throw invalid('Send a JSON object (Content-Type: application/json), as dhuolib does.');
  const r = schema.safeParse(req.body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.join('.') || 'body';
  throw invalid(`Invalid value for '${where}': ${issue.message}.`, [{ path: where, message: issue.message }]);
}

export const required = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} must not be empty`);
/** DHuolib's tags: a flat dict whose values may be numbers or booleans; Forja stores them as text. */
export const TagsDict = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .nullish()
  .transform((t) => Object.entries(t ?? {}).map(([key, value]) => ({ key, value: String(value) })));

const dict = (pairs: { key: string; value: string }[]) => Object.fromEntries(pairs.map((p) => [p.key, p.value]));

/** MLflow's ViewType numbers, which DHuolib sends as view_type (1 by default). */
export function viewTypeOf(value: string | undefined): 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' {
  const v = (value ?? '').trim().toUpperCase();
  if (v === '' || v === '1' || v === 'ACTIVE_ONLY') return 'ACTIVE_ONLY';
  if (v === '2' || v === 'DELETED_ONLY') return 'DELETED_ONLY';
  if (v === '3' || v === 'ALL') return 'ALL';
  throw invalid(`Invalid value '${value!.slice(0, 40)}' for parameter 'view_type': use 1 (active), 2 (deleted) or 3 (all).`);
}

export const wireExperiment = (e: Experiment) => ({
  experiment_id: e.experimentId,
  experiment_name: e.name,
  artifact_location: e.artifactLocation,
  lifecycle_stage: e.lifecycleStage,
  creation_time: e.creationTime,
  last_update_time: e.lastUpdateTime,
  tags: dict(e.tags),
});

export const wireRun = (r: Run) => ({
  run_id: r.info.runId,
  run_name: r.info.runName,
  experiment_id: r.info.experimentId,
  status: r.info.status,
  start_time: r.info.startTime,
  end_time: r.info.endTime,
  artifact_uri: r.info.artifactUri,
  lifecycle_stage: r.info.lifecycleStage,
  metrics: Object.fromEntries(r.data.metrics.map((m) => [m.key, m.value])),
  params: dict(r.data.params),
  tags: dict(r.data.tags),
});

/** create_model's and transition_model's answer; approval_request when the group makes that stage wait for one. */
export const wireModelVersion = (v: ModelVersion, previousStage: string, approvalRequest?: string) => ({
  model_version: Number(v.version),
  model_version_name: v.name,
  run_id: v.runId,
  previous_stage: previousStage,
  current_stage: v.currentStage,
  last_updated_timestamp: v.lastUpdatedTime,
  status: v.status,
  ...(approvalRequest ? { approval_request: approvalRequest } : {}),
});

export const wireModel = (m: RegisteredModel) => ({
  model_id: m.name,
  model_name: m.name,
  creation_time: m.creationTime,
  last_update_time: m.lastUpdatedTime,
  description: m.description,
  tags: dict(m.tags),
  latest_versions: Object.fromEntries(m.latestVersions.map((v) => [v.currentStage, Number(v.version)])),
});
