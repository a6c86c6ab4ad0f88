import { z } from 'zod';
import { TimestampSchema } from './common.js';
import { describeCharacter, nameProblem, safeName, safeValue, uniqueKeys } from './text.js';

/** MLflow's limits, kept so the real client and Forja agree on what is too big. */
export const TRACKING_LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  runTagValueLength: 8000,
  experimentTagValueLength: 5000,
  experimentNameLength: 500,
  runNameLength: 250,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  searchRunsMax: 50_000,
  searchExperimentsMax: 50_000,
} as const;

export const RunStatusSchema = z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);
export type RunStatus = z.infer<typeof RunStatusSchema>;
export const LifecycleStageSchema = z.enum(['active', 'deleted']);
export const ViewTypeSchema = z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']);
export type ViewType = z.infer<typeof ViewTypeSchema>;

/**
 * Metric keys, param keys and tag keys, as MLflow accepts them (mlflow/utils/validation.py): the
 * letters and digits of any script, as Python's \w matches them ("Regressão", "精度"; combining
 * marks are not letters there, so a decomposed "ã" is refused), and "_", "-", ".", " ", "/", ":".
 * MLflow may store a key as a file path, so a key must be a normalized relative path: no leading
 * "/", no empty, "." or ".." segment, and (as MLflow) no leading "..".
 */
const KEY_CHARACTER = /[\p{L}\p{N}_\-. /:]/u;
export const KEY_CHARACTERS_RULE = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)';

/** Why `key` is not a normalized relative path, in MLflow's words, or undefined when it is. */
function keyPathProblem(key: string): string | undefined {
  const segments = key.split('/');
  const normal = key !== '' && !key.startsWith('/') && !key.startsWith('..') && segments.every((s) => s !== '' && s !== '.' && s !== '..');
  if (normal) return undefined;
  return `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normalizePath(key)}'`;
}

/** POSIX normpath of a relative or absolute path, to show what a key would resolve to. */
function normalizePath(p: string): string {
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (s !== '..' || !p.startsWith('/')) out.push(s);
  }
  const joined = out.join('/');
  return p.startsWith('/') ? `/${joined}` : joined || '.';
}

export const TrackingKeySchema = z
  .string()
  .max(TRACKING_LIMITS.keyLength, `must be at most ${TRACKING_LIMITS.keyLength} characters`)
  .superRefine((key, ctx) => {
    const at = [...key].findIndex((ch) => !KEY_CHARACTER.test(ch));
    if (at >= 0) {
      const ch = [...key][at]!;
      const shown = nameProblem(ch) ? describeCharacter(ch) : `'${ch}' (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
      ctx.addIssue({ code: 'custom', message: `${KEY_CHARACTERS_RULE}; character ${at + 1} is ${shown}` });
      return;
    }
    const problem = keyPathProblem(key);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const KeyValueSchema = z.object({ key: z.string(), value: z.string() });
export type KeyValue = z.infer<typeof KeyValueSchema>;

/** NaN travels as the string "NaN" (JSON has no NaN); infinities are clamped to ±1.7976931348623157e308 as MLflow does. */
export const MetricValueSchema = z.union([z.number(), z.literal('NaN'), z.literal('Infinity'), z.literal('-Infinity')]);
export type MetricValue = z.infer<typeof MetricValueSchema>;

export const MetricSchema = z.object({ key: z.string(), value: MetricValueSchema, timestamp: z.number().int(), step: z.number().int() });
export type Metric = z.infer<typeof MetricSchema>;

export const ExperimentSchema = z.object({
  experimentId: z.string(),
  name: z.string(),
  group: z.string(),
  artifactLocation: z.string(),
  lifecycleStage: LifecycleStageSchema,
  creationTime: TimestampSchema,
  lastUpdateTime: TimestampSchema,
  tags: z.array(KeyValueSchema),
});
export type Experiment = z.infer<typeof ExperimentSchema>;

export const RunInfoSchema = z.object({
  runId: z.string(),
  runName: z.string(),
  experimentId: z.string(),
  userId: z.string(),
  status: RunStatusSchema,
  startTime: TimestampSchema,
  endTime: TimestampSchema.nullable(),
  artifactUri: z.string(),
  lifecycleStage: LifecycleStageSchema,
});
export type RunInfo = z.infer<typeof RunInfoSchema>;

export const DatasetSchema = z.object({
  name: z.string(),
  digest: z.string(),
  sourceType: z.string(),
  source: z.string(),
  schema: z.string().nullable(),
  profile: z.string().nullable(),
});
export type Dataset = z.infer<typeof DatasetSchema>;
export const DatasetInputSchema = z.object({ tags: z.array(KeyValueSchema), dataset: DatasetSchema });
export type DatasetInput = z.infer<typeof DatasetInputSchema>;

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: z.object({ metrics: z.array(MetricSchema), params: z.array(KeyValueSchema), tags: z.array(KeyValueSchema) }),
  /** modelInputs: logged models the run used (MLflow 3 runs/log-inputs `models`). */
  inputs: z.object({ datasetInputs: z.array(DatasetInputSchema), modelInputs: z.array(z.object({ modelId: z.string() })) }),
  /** modelOutputs: logged models the run produced, at the step they were logged (runs/outputs). */
  outputs: z.object({ modelOutputs: z.array(z.object({ modelId: z.string(), step: z.number().int() })) }),
});
export type Run = z.infer<typeof RunSchema>;

// Requests of the native API; the MLflow API checks what it receives with the same schemas.
export const ExperimentNameSchema = safeName(
  z.string().trim().min(1, 'must not be empty').max(TRACKING_LIMITS.experimentNameLength, `must be at most ${TRACKING_LIMITS.experimentNameLength} characters`),
);
export const RunNameSchema = safeName(z.string().max(TRACKING_LIMITS.runNameLength, `must be at most ${TRACKING_LIMITS.runNameLength} characters`));
const tagValue = (max: number) => safeValue(z.string().max(max, `a tag value is at most ${max} characters`));
export const RunTagValueSchema = tagValue(TRACKING_LIMITS.runTagValueLength);
export const ParamValueSchema = safeValue(
  z.string().max(TRACKING_LIMITS.paramValueLength, `a param value is at most ${TRACKING_LIMITS.paramValueLength} characters`),
);
export const TagInputSchema = z.object({ key: TrackingKeySchema, value: RunTagValueSchema }).strict();
export const ParamInputSchema = z.object({ key: TrackingKeySchema, value: ParamValueSchema }).strict();
/** Logged models (MLflow 3) are named like runs. */
export const LoggedModelNameSchema = RunNameSchema;
/** Tags given when something is created: each key once (a repeat would break the key's uniqueness). */
export const tagsInput = (maxValue: number) =>
  z
    .array(z.object({ key: TrackingKeySchema, value: tagValue(maxValue) }).strict())
    .max(TRACKING_LIMITS.batchTags, `at most ${TRACKING_LIMITS.batchTags} tags`)
    .superRefine(uniqueKeys('tag key'));
export const ExperimentTagValueSchema = tagValue(TRACKING_LIMITS.experimentTagValueLength);

export const ExperimentCreateSchema = z
  .object({
    name: ExperimentNameSchema,
    /**
     * Forja assigns every experiment its own folder (mlflow-artifacts:/<id>); another location is
     * refused, since deleting the experiment deletes its folder. Empty means "assign one".
     */
    artifactLocation: z
      .string()
      .max(0, 'Forja gives each experiment its own artifact location (mlflow-artifacts:/<experiment id>); leave this field out or empty')
      .optional(),
    tags: tagsInput(TRACKING_LIMITS.experimentTagValueLength).default([]),
  })
  .strict();
export type ExperimentCreate = z.input<typeof ExperimentCreateSchema>;

export const ExperimentUpdateSchema = z.object({ name: ExperimentNameSchema }).strict();

export const ExperimentSearchSchema = z
  .object({
    filter: z.string().max(10_000).optional(),
    orderBy: z.array(z.string().max(500)).max(10).default([]),
    viewType: ViewTypeSchema.default('ACTIVE_ONLY'),
    maxResults: z.number().int().min(1).max(TRACKING_LIMITS.searchExperimentsMax).default(1000),
    pageToken: z.string().max(500).optional(),
  })
  .strict();
export type ExperimentSearch = z.input<typeof ExperimentSearchSchema>;
export const ExperimentPageSchema = z.object({ experiments: z.array(ExperimentSchema), nextPageToken: z.string().optional() });

export const RunCreateSchema = z
  .object({
    experimentId: z.string().min(1).max(64),
    runName: RunNameSchema.optional(),
    startTime: z.number().int().nonnegative().optional(),
    tags: tagsInput(TRACKING_LIMITS.runTagValueLength).default([]),
  })
  .strict();
export type RunCreate = z.input<typeof RunCreateSchema>;

export const RunUpdateSchema = z
  .object({ status: RunStatusSchema.optional(), endTime: z.number().int().nonnegative().optional(), runName: RunNameSchema.optional() })
  .strict();

/** A logged model's id, as MLflow 3 makes it. */
export const LoggedModelIdSchema = z.string().regex(/^m-[0-9a-f]{32}$/, 'must be a logged model id (m-<32 hex digits>)');

/**
 * One metric point. With `modelId` (MLflow 3) the point is also linked to that logged model of the
 * run's group, measured on the dataset named by `datasetName`/`datasetDigest`.
 */
export const MetricInputSchema = z
  .object({
    key: TrackingKeySchema,
    value: MetricValueSchema,
    timestamp: z.number().int().optional(),
    step: z.number().int().default(0),
    modelId: LoggedModelIdSchema.optional(),
    datasetName: z.string().max(500).optional(),
    datasetDigest: z.string().max(36).optional(),
  })
  .strict();

export const LogBatchSchema = z
  .object({
    metrics: z.array(MetricInputSchema).max(TRACKING_LIMITS.batchMetrics, `at most ${TRACKING_LIMITS.batchMetrics} metrics per batch`).default([]),
    params: z.array(ParamInputSchema).max(TRACKING_LIMITS.batchParams, `at most ${TRACKING_LIMITS.batchParams} params per batch`).default([]),
    tags: z.array(TagInputSchema).max(TRACKING_LIMITS.batchTags, `at most ${TRACKING_LIMITS.batchTags} tags per batch`).default([]),
  })
  .strict();
export type LogBatch = z.input<typeof LogBatchSchema>;

export const RunSearchSchema = z
  .object({
    experimentIds: z.array(z.string().max(64)).min(1, 'name at least one experiment').max(1000),
    filter: z.string().max(10_000).optional(),
    orderBy: z.array(z.string().max(500)).max(10).default([]),
    viewType: ViewTypeSchema.default('ACTIVE_ONLY'),
    maxResults: z.number().int().min(1).max(TRACKING_LIMITS.searchRunsMax).default(1000),
    pageToken: z.string().max(500).optional(),
    /** Return only these columns, e.g. ["metrics.acc", "params.lr", "tags.team"]; "metrics.*" keeps every metric. */
    columns: z.array(z.string().max(300)).max(1000).optional(),
    /** Also count every run that matches the filter (one more query, so only when asked). */
    includeTotal: z.boolean().optional(),
  })
  .strict();
export type RunSearch = z.input<typeof RunSearchSchema>;
export const RunPageSchema = z.object({
  runs: z.array(RunSchema),
  nextPageToken: z.string().optional(),
  /** Runs matching the search across all pages; present when `includeTotal` was asked for. */
  total: z.number().int().optional(),
});
export type RunPage = z.infer<typeof RunPageSchema>;

export const RUN_BULK_MAX = 1000;
const BulkRunIdsSchema = z.array(z.string().max(256)).min(1, 'name at least one run').max(RUN_BULK_MAX, `at most ${RUN_BULK_MAX} runs at once`);
/** One action on many runs at once: what a runs table does to its selection. */
export const RunBulkSchema = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['delete', 'restore']), runIds: BulkRunIdsSchema }).strict(),
  z
    .object({
      action: z.literal('setTag'),
      runIds: BulkRunIdsSchema,
      key: TrackingKeySchema,
      value: RunTagValueSchema,
    })
    .strict(),
]);
export type RunBulk = z.input<typeof RunBulkSchema>;
export const RunBulkResultSchema = z.object({ updated: z.number().int() });

/** One metric, param or tag key across an experiment's active runs: how common, how varied, how recent. */
export const ColumnSummarySchema = z.object({
  key: z.string(),
  /** Active runs that have this key. */
  runs: z.number().int(),
  /** Distinct values among them; 1 means the key does not vary. */
  distinct: z.number().int(),
  /** Newest time it was logged (metrics: the point's timestamp; params and tags: the newest run start), ms. */
  lastLogged: z.number().nullable(),
});
export type ColumnSummary = z.infer<typeof ColumnSummarySchema>;
/**
 * The keys an experiment's active runs use, newest first: what a runs table offers as columns and
 * picks its defaults from. At most `EXPERIMENT_COLUMNS_MAX` keys of each kind (`truncated` says so).
 */
export const ExperimentColumnsSchema = z.object({
  runs: z.number().int(),
  metrics: z.array(ColumnSummarySchema),
  params: z.array(ColumnSummarySchema),
  tags: z.array(ColumnSummarySchema),
  truncated: z.boolean(),
});
export type ExperimentColumns = z.infer<typeof ExperimentColumnsSchema>;
export const EXPERIMENT_COLUMNS_MAX = 2000;

export const MetricHistorySchema = z.object({ metrics: z.array(MetricSchema), nextPageToken: z.string().optional() });

/** Per metric of a run: its number of points and step range (the run page shows one point as a value, more as a chart). */
export const RunMetricPointsSchema = z.object({
  metrics: z.array(z.object({ key: z.string(), points: z.number().int(), firstStep: z.number().int(), lastStep: z.number().int() })),
});
export type RunMetricPoints = z.infer<typeof RunMetricPointsSchema>;
/** Runs and points per run one metric-histories request may ask for (MLflow's limits for its bulk-interval read). */
export const METRIC_HISTORIES_LIMITS = { runs: 100, points: 2500 } as const;
/** One metric's history in many runs at once, each sampled down to `maxResults` points: what a chart overlaying runs reads. */
export const MetricHistoriesSearchSchema = z
  .object({
    runIds: z
      .array(z.string().max(256))
      .min(1, 'name at least one run')
      .max(METRIC_HISTORIES_LIMITS.runs, `at most ${METRIC_HISTORIES_LIMITS.runs} runs at once`),
    key: z.string().min(1).max(TRACKING_LIMITS.keyLength),
    maxResults: z.number().int().min(1).max(METRIC_HISTORIES_LIMITS.points).default(METRIC_HISTORIES_LIMITS.points),
  })
  .strict();
export type MetricHistoriesSearch = z.input<typeof MetricHistoriesSearchSchema>;
/** In the order asked, one entry per readable run that has the metric; runs the caller cannot read are left out, as unknown ones. */
export const MetricHistoriesSchema = z.object({ histories: z.array(z.object({ runId: z.string(), metrics: z.array(MetricSchema) })) });
export type MetricHistories = z.infer<typeof MetricHistoriesSchema>;

/** A directory listing of a run's artifacts; paths are relative to the run's artifact root. */
export const ArtifactListSchema = z.object({
  rootUri: z.string(),
  files: z.array(z.object({ path: z.string(), isDir: z.boolean(), size: z.number().nullable() })),
});
export type ArtifactList = z.infer<typeof ArtifactListSchema>;
export type ArtifactFile = ArtifactList['files'][number];
export const ArtifactUploadedSchema = z.object({ path: z.string(), size: z.number() });

/** A resumable chunked upload: how much of it has arrived. */
export const UploadStateSchema = z.object({ uploadId: z.string(), runId: z.string(), path: z.string(), received: z.number(), size: z.number().nullable() });
export const UploadCompletedSchema = z.object({ path: z.string(), size: z.number(), sha256: z.string() });

/**
 * One column (or tensor) of an MLflow model signature, made readable: `type` is MLflow's type name
 * ("double", "string"…), or for a tensor its dtype and shape ("float64 (-1, 4)").
 */
export const SignatureFieldSchema = z.object({ name: z.string().nullable(), type: z.string(), required: z.boolean() });
export type SignatureField = z.infer<typeof SignatureFieldSchema>;

/** What a logged model's MLmodel file says about it; fields MLflow did not write are null. */
export const MlmodelSummarySchema = z.object({
  /** The flavors it can be loaded as, e.g. ["python_function", "sklearn"]. */
  flavors: z.array(z.object({ name: z.string(), version: z.string().nullable() })),
  mlflowVersion: z.string().nullable(),
  createdAt: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  signature: z
    .object({
      inputs: z.array(SignatureFieldSchema).nullable(),
      outputs: z.array(SignatureFieldSchema).nullable(),
      params: z.array(SignatureFieldSchema.extend({ default: z.string().nullable() })).nullable(),
    })
    .nullable(),
  /** The saved input example: its file under the model's artifacts and how it is laid out (pandas "split", "records"…). */
  inputExample: z.object({ path: z.string(), type: z.string().nullable(), format: z.string().nullable() }).nullable(),
});
export type MlmodelSummary = z.infer<typeof MlmodelSummarySchema>;

/** An MLflow 3 logged model (what mlflow.<flavor>.log_model creates), as the UI shows it. */
export const LoggedModelSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  experimentId: z.string(),
  sourceRunId: z.string().nullable(),
  modelType: z.string().nullable(),
  status: z.string(),
  artifactUri: z.string(),
  creatorId: z.string().nullable(),
  creationTime: TimestampSchema,
  lastUpdatedTime: TimestampSchema,
  tags: z.array(KeyValueSchema),
  params: z.array(KeyValueSchema),
  /** The registered model versions made from it (MLflow's mlflow.modelVersions tag). */
  registeredVersions: z.array(z.object({ name: z.string(), version: z.string() })),
  /** Null when the model has no MLmodel file (yet, or its upload failed). */
  mlmodel: MlmodelSummarySchema.nullable(),
});
export type LoggedModel = z.infer<typeof LoggedModelSchema>;
export const LoggedModelListSchema = z.object({ models: z.array(LoggedModelSchema) });
