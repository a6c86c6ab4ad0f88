import { z } from 'zod';
import { FileSchema, TimestampSchema } from './common.js';
import { InferenceLogSettingsPatchSchema, InferenceLogSettingsSchema } from './inference.js';

/** Neomaril's lifecycle: Uploaded (files in, not built) → Building → Deployed, or Failed; Disabled by choice. */
export const DeploymentStatusSchema = z.enum(['Uploaded', 'Building', 'Deployed', 'Failed', 'Disabled']);
export type DeploymentStatus = z.infer<typeof DeploymentStatusSchema>;
export const ModelKindSchema = z.enum(['script', 'pyfunc', 'pickle']);
export type ModelKind = z.infer<typeof ModelKindSchema>;
export const OperationSchema = z.enum(['sync', 'async']);

export const DeploymentNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-zA-Z0-9][\w.-]*$/, 'must start with a letter or digit and use only letters, digits, "_", "." and "-"');

export const PythonVersionSchema = z
  .string()
  .regex(/^(3(\.\d{1,2}){0,2})?$/, 'must be like 3.11 or 3.11.7 (empty for the server default)')
  .default('');

export const DeploymentSettingsSchema = z
  .object({
    minWorkers: z.number().int().min(0).max(32).default(1),
    maxWorkers: z.number().int().min(1).max(64).default(2),
    /** Per request, waiting included (504 after it). */
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    maxQueue: z.number().int().min(1).max(10_000).default(100),
    maxBatch: z.number().int().min(1).max(1024).default(32),
    memoryMb: z.number().int().min(64).max(65_536).default(2048),
    /** CPU seconds a worker may use in its life before it is stopped and replaced (0: no limit). */
    cpuSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(0),
    /** Files a worker may have open at once. */
    maxFiles: z.number().int().min(32).max(65_536).default(1024),
    /** Outbound network for the model's workers and executions; off by default, only a group admin may turn it on. */
    network: z.boolean().default(false),
    /**
     * /invocations and /predict answer callers without credentials (dashboards built for MLflow's
     * unauthenticated scoring server); off by default, only a group admin may turn it on.
     */
    public: z.boolean().default(false),
    /** Calls a minute each client address may make without credentials when `public` is on. */
    publicRateLimit: z.number().int().min(1).max(100_000).default(60),
    /** What the inference log keeps: a sample of the calls' rows, how long, and async executions' rows. */
    inferenceLog: InferenceLogSettingsSchema.default({ sampleRate: 0, retentionDays: 90, executions: false }),
    /**
     * What an async script's score(data_path, model_path) gets. `folders` (Neomaril's contract, the
     * default): the execution's input folder, holding the uploaded file under its own name, and the
     * folder of the deployment's files. `files`: the input file's path and the model file's path,
     * which deployments made before this setting existed keep (a migration wrote it into them).
     */
    scorerPaths: z.enum(['folders', 'files']).default('folders'),
  })
  .strict();
export type DeploymentSettings = z.infer<typeof DeploymentSettingsSchema>;

export const DeploymentSchema = z.object({
  id: z.string(),
  group: z.string(),
  name: z.string(),
  status: DeploymentStatusSchema,
  /** Why it failed, or what it is doing. */
  message: z.string().nullable(),
  operation: OperationSchema,
  kind: ModelKindSchema,
  /** Where the model came from: `files` or a `models:/…` URI. */
  source: z.string(),
  /** The registered version a `models:/…` source resolved to. */
  modelVersion: z.object({ name: z.string(), version: z.string() }).nullable(),
  entrypoint: z.string().nullable(),
  predictMethod: z.enum(['predict', 'predict_proba']),
  pythonVersion: z.string(),
  files: z.array(z.object({ name: z.string(), role: z.enum(['source', 'model', 'requirements', 'schema', 'extra', 'preprocess']), size: z.number().int() })),
  hasSecrets: z.boolean(),
  schemaSample: z.unknown().nullable(),
  settings: DeploymentSettingsSchema,
  environment: z.string().nullable(),
  buildJobId: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  deployedAt: TimestampSchema.nullable(),
});
export type Deployment = z.infer<typeof DeploymentSchema>;
export const DeploymentListSchema = z.object({ items: z.array(DeploymentSchema) });

/** A deployment of a registered model: no code, the model's own requirements. */
export const DeploymentFromModelSchema = z
  .object({
    name: DeploymentNameSchema,
    modelUri: z.string().regex(/^models:\//, 'must be a models:/ URI, e.g. models:/churn@champion'),
    /** async: files in, files out (scored in chunks) instead of a REST endpoint. */
    operation: OperationSchema.default('sync'),
    kind: z.enum(['pyfunc', 'pickle']).default('pyfunc'),
    predictMethod: z.enum(['predict', 'predict_proba']).default('predict'),
    pythonVersion: PythonVersionSchema,
    /** Extra requirements on top of the model's own requirements.txt. */
    requirements: z.string().max(100_000).optional(),
    schemaSample: z.unknown().optional(),
    settings: DeploymentSettingsSchema.partial().default({}),
  })
  .strict();
export type DeploymentFromModel = z.input<typeof DeploymentFromModelSchema>;

/** The text fields of a file upload (multipart/form-data, beside the files). */
export const DeploymentUploadFieldsSchema = z
  .object({
    name: DeploymentNameSchema,
    operation: OperationSchema.default('sync'),
    kind: ModelKindSchema.default('script'),
    entrypoint: z
      .string()
      .regex(/^[A-Za-z_]\w*$/, 'must be a Python function name')
      .default('score'),
    predictMethod: z.enum(['predict', 'predict_proba']).default('predict'),
    pythonVersion: PythonVersionSchema,
    settings: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return {};
        try {
          return DeploymentSettingsSchema.partial().parse(JSON.parse(s));
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            message: `settings must be a JSON object of ${Object.keys(DeploymentSettingsSchema.shape).join(', ')}: ${(err as Error).message.slice(0, 300)}`,
          });
          return z.NEVER;
        }
      }),
  })
  .strict();

/** POST /api/v1/deployments: the fields above and the files, one part per file. */
export const DeploymentUploadFormSchema = DeploymentUploadFieldsSchema.extend({
  source: FileSchema.optional().describe('The scoring script (.py) or notebook (.ipynb)'),
  model: FileSchema.optional().describe('The model file the script loads (pickle, joblib, …)'),
  requirements: FileSchema.optional().describe('requirements.txt'),
  schema: FileSchema.optional().describe('A sample input (JSON) that fixes the row schema'),
  env: FileSchema.optional().describe('Secrets as KEY=value lines; stored encrypted, never as a file'),
  preprocess: FileSchema.optional().describe('A script (.py) defining preprocess(data, base_path), run before the model'),
  extra: z.array(FileSchema).optional().describe('Any other files the script reads (a .zip is unpacked)'),
});

/** POST /api/v1/deployments/{id}/executions: the input file of an async execution. */
export const ExecutionUploadFormSchema = z.object({ input: FileSchema.describe('.csv, .parquet, .json or whatever the scorer reads') }).strict();

export const DeploymentCreatedSchema = z.object({ deployment: DeploymentSchema, buildJobId: z.string() });

const settingsShape = DeploymentSettingsSchema.shape;
type SettingsPatchShape = { [K in keyof typeof settingsShape]: z.ZodOptional<ReturnType<(typeof settingsShape)[K]['unwrap']>> };
/**
 * The settings a PATCH changes, without their defaults: `.partial()` would keep them, and every
 * setting not sent would go back to its default (an editor's new timeout would turn `public` off).
 */
export const DeploymentSettingsPatchSchema = z
  .object(Object.fromEntries(Object.entries(settingsShape).map(([key, field]) => [key, field.unwrap().optional()])) as SettingsPatchShape)
  // The inference log's own fields merge too: sending its retention keeps its sample rate.
  .extend({ inferenceLog: InferenceLogSettingsPatchSchema.optional() })
  .strict();
export type DeploymentSettingsPatch = z.infer<typeof DeploymentSettingsPatchSchema>;
export const DeploymentUpdateSchema = z.object({ settings: DeploymentSettingsPatchSchema }).strict();

export const DeploymentStatsSchema = z.object({
  workers: z.number().int(),
  busy: z.number().int(),
  queued: z.number().int(),
  served: z.number().int(),
  calls: z.number().int(),
  failed: z.number().int(),
  restarts: z.number().int(),
});

export const PredictCodeSchema = z.object({ curl: z.string(), python: z.string(), typescript: z.string() });

/** Neomaril's execution states for async runs. */
export const ExecutionStatusSchema = z.enum(['Requested', 'Running', 'Succeeded', 'Failed']);
export const ExecutionSchema = z.object({
  id: z.string(),
  deploymentId: z.string(),
  status: ExecutionStatusSchema,
  message: z.string().nullable(),
  inputName: z.string(),
  inputSize: z.number().int(),
  outputName: z.string().nullable(),
  outputSize: z.number().int().nullable(),
  jobId: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
});
export type Execution = z.infer<typeof ExecutionSchema>;
export const ExecutionListSchema = z.object({ items: z.array(ExecutionSchema) });

/** An async execution on lake rows instead of an uploaded file. */
export const ExecutionFromTableSchema = z
  .object({
    table: z.string().min(1).max(63),
    filter: z.string().max(20_000).optional(),
    columns: z.array(z.string().min(1).max(255)).max(1000).optional(),
    /** The file the scorer gets: input.parquet or input.csv. */
    format: z.enum(['parquet', 'csv']).default('parquet'),
  })
  .strict();
