import { ParamValueSchema, RunTagValueSchema, TrackingKeySchema } from '@forja/contracts';
import { z } from 'zod';

/**
 * MLflow request shapes as its client sends them: snake_case, unknown fields ignored, numbers
 * sometimes as strings (query strings), repeated fields as one value or many, run_uuid for run_id.
 */
const str = z.string();
const int = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number),
  ])
  .pipe(z.number().int());
const list = <T extends z.ZodTypeAny>(item: T) => z.union([z.array(item), item.transform((v) => [v])]);
const tags = z.array(z.object({ key: str, value: z.string().default('') })).default([]);
const viewType = z
  .union([z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']), z.number(), z.string()])
  .transform((v) => (v === 2 || v === '2' || v === 'DELETED_ONLY' ? 'DELETED_ONLY' : v === 3 || v === '3' || v === 'ALL' ? 'ALL' : 'ACTIVE_ONLY'))
  .optional();
export const metricValue = z.union([
  z.number(),
  z.enum(['NaN', 'Infinity', '-Infinity']),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/)
    .transform(Number),
]);

/** Accepts run_id or the older run_uuid and names the field MLflow does when both are missing. */
const runRef = z.object({ run_id: str.optional(), run_uuid: str.optional() }).transform((o, ctx) => {
  const id = o.run_id || o.run_uuid;
  if (!id) {
    ctx.addIssue({ code: 'custom', message: "Missing value for required parameter 'run_id'.", path: ['run_id'] });
    return z.NEVER;
  }
  return id;
});
export const withRun = <T extends z.ZodRawShape>(shape: T) =>
  z.object({ run_id: str.optional(), run_uuid: str.optional(), ...shape }).transform((o, ctx) => {
    const runId = runRef.safeParse(o);
    if (!runId.success) {
      ctx.addIssue({ code: 'custom', message: "Missing value for required parameter 'run_id'.", path: ['run_id'] });
      return z.NEVER;
    }
    return { ...o, runId: runId.data };
  });

export const ExperimentCreate = z.object({ name: str, artifact_location: str.optional(), tags });
export const ExperimentIdOnly = z.object({ experiment_id: str });
export const ExperimentByName = z.object({ experiment_name: str });
export const ExperimentSearch = z.object({
  max_results: int.optional(),
  page_token: str.optional(),
  filter: str.optional(),
  order_by: list(str).optional(),
  view_type: viewType,
});
export const ExperimentUpdate = z.object({ experiment_id: str, new_name: str });
export const ExperimentTag = z.object({ experiment_id: str, key: str, value: z.string().default('') });
export const ExperimentTagDelete = z.object({ experiment_id: str, key: str });

export const RunCreate = z.object({ experiment_id: str.optional(), user_id: str.optional(), run_name: str.optional(), start_time: int.optional(), tags });
export const RunUpdate = withRun({
  status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']).optional(),
  end_time: int.optional(),
  run_name: str.optional(),
});
export const RunOnly = withRun({});
export const RunSearch = z.object({
  experiment_ids: list(str).default([]),
  filter: str.optional(),
  run_view_type: viewType,
  max_results: int.optional(),
  order_by: list(str).optional(),
  page_token: str.optional(),
});
/**
 * A key of a single log-metric, log-parameter or set-tag: checked here with the one key rule, so an
 * error names `key` as the caller sent it (the service would name its batch's `metrics[0].key`).
 * Empty is missing, as MLflow's handlers say.
 */
const key = z.string().min(1).pipe(TrackingKeySchema);
const paramValue = z.union([str, z.number()]).transform(String).default('').pipe(ParamValueSchema);
export const LogMetric = withRun({
  key,
  value: metricValue,
  timestamp: int,
  step: int.optional(),
  model_id: str.optional(),
  dataset_name: str.optional(),
  dataset_digest: str.optional(),
});
export const LogParam = withRun({ key, value: paramValue });
export const LogBatch = withRun({
  // Metrics are the bulk of a batch: they pass through untouched and the tracking service's
  // schema checks them once, instead of twice.
  metrics: z.array(z.unknown()).default([]),
  params: z.array(z.object({ key: str, value: z.union([str, z.number()]).transform(String).default('') })).default([]),
  tags: z.array(z.object({ key: str, value: z.string().default('') })).default([]),
});
export const SetTag = withRun({ key, value: z.string().default('').pipe(RunTagValueSchema) });
export const DeleteTag = withRun({ key: str });
export const LogModel = withRun({ model_json: str });
export const LogInputs = withRun({
  datasets: z
    .array(
      z.object({
        tags: tags,
        dataset: z.object({ name: str, digest: str, source_type: str, source: str, schema: str.optional(), profile: str.optional() }),
      }),
    )
    .default([]),
  models: z.array(z.object({ model_id: str })).default([]),
});
export const MetricHistory = withRun({ metric_key: str, max_results: int.optional(), page_token: str.optional() });
export const ArtifactList = withRun({ path: str.optional(), page_token: str.optional() });

const kvList = z.array(z.object({ key: str, value: z.union([str, z.number()]).transform(String).default('') })).default([]);
export const LoggedModelCreate = z.object({
  experiment_id: str,
  name: str.optional(),
  model_type: str.optional(),
  source_run_id: str.optional(),
  params: kvList,
  tags: kvList,
});
const statusNames = ['LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'];
export const LoggedModelFinalize = z.object({
  status: z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? (statusNames[v] ?? String(v)) : v)),
});
export const LoggedModelTags = z.object({ tags: kvList });
export const LoggedModelParams = z.object({ params: kvList });
export const LoggedModelSearch = z.object({
  experiment_ids: list(str).default([]),
  filter: str.optional(),
  max_results: int.optional(),
  page_token: str.optional(),
  order_by: z.array(z.object({ field_name: str, ascending: z.boolean().optional() })).default([]),
  /** Only models with metrics measured on one of these datasets (and metric filters apply to those metrics only). */
  datasets: z
    .array(
      z.object({ dataset_name: str.optional(), dataset_digest: str.optional() }).transform((d, ctx) => {
        if (!d.dataset_name) ctx.addIssue({ code: 'custom', message: '`dataset_name` in the `datasets` clause must be specified.', path: ['dataset_name'] });
        return { dataset_name: d.dataset_name ?? '', dataset_digest: d.dataset_digest };
      }),
    )
    .default([]),
});
export const RunOutputs = withRun({ models: z.array(z.object({ model_id: str, step: int.optional() })).default([]) });

// Model registry
export const ModelCreate = z.object({ name: str, tags: kvList, description: z.string().optional() });
export const ModelName = z.object({ name: str });
export const ModelRename = z.object({ name: str, new_name: str });
export const ModelUpdate = z.object({ name: str, description: z.string().default('') });
export const ModelTag = z.object({ name: str, key: str, value: z.string().default('') });
export const ModelTagDelete = z.object({ name: str, key: str });
export const ModelSearchQ = z.object({ filter: str.optional(), max_results: int.optional(), order_by: list(str).optional(), page_token: str.optional() });
export const LatestVersions = z.object({ name: str, stages: list(str).default([]) });
export const AliasSet = z.object({ name: str, alias: str, version: z.union([str, z.number()]).transform(String) });
export const AliasRef = z.object({ name: str, alias: str });
export const VersionCreate = z.object({
  name: str,
  source: str,
  run_id: str.optional(),
  run_link: str.optional(),
  model_id: str.optional(),
  description: z.string().optional(),
  tags: kvList,
});
export const VersionRef = z.object({ name: str, version: z.union([str, z.number()]).transform(String) });
export const VersionUpdate = VersionRef.extend({ description: z.string().default('') });
export const VersionTransition = VersionRef.extend({
  stage: str,
  archive_existing_versions: z
    .union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])])
    .transform((v) => v === true || v === 'true' || v === 'True')
    .default(false),
});
export const VersionTag = VersionRef.extend({ key: str, value: z.string().default('') });
export const VersionTagDelete = VersionRef.extend({ key: str });
