import { z } from 'zod';
import { FileSchema, TimestampSchema } from './common.js';
import { DeploymentNameSchema, PythonVersionSchema } from './deployments.js';
import { JobStatusSchema } from './jobs.js';
import { LakeTableNameSchema } from './lake.js';

/** MLOps Codex's model types. */
export const TrainingModelTypeSchema = z.enum(['Classification', 'Regression', 'Unsupervised']);

/** The text fields of a training upload (multipart: source, data, requirements, extra files). */
export const TrainingFieldsSchema = z
  .object({
    experimentName: z.string().min(1).max(256),
    runName: z.string().max(256).optional(),
    /** Kept as the tracking run's note (mlflow.note.content). */
    description: z.string().max(5000).optional(),
    modelType: TrainingModelTypeSchema.default('Classification'),
    /** The function the script defines: train_model(df, base_path) → dict. */
    trainFunction: z
      .string()
      .regex(/^[A-Za-z_]\w*$/, 'must be a Python function name')
      .default('train_model'),
    pythonVersion: PythonVersionSchema,
    /** Train on a lake table instead of an uploaded file. */
    table: LakeTableNameSchema.optional(),
    filter: z.string().max(20_000).optional(),
    timeoutSeconds: z.coerce
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(6 * 3600),
  })
  .strict();
export type TrainingFields = z.input<typeof TrainingFieldsSchema>;
/** POST /api/v1/training/runs: the fields above and the files; the data is a "data" file or the field "table". */
export const TrainingUploadFormSchema = TrainingFieldsSchema.extend({
  source: FileSchema.describe('The training script (.py) defining train_model(df, base_path)'),
  data: FileSchema.optional().describe('The training data (.csv or .parquet), unless "table" names a lake table'),
  requirements: FileSchema.optional().describe('requirements.txt'),
  extra: z.array(FileSchema).optional().describe('Any other files the script reads'),
});

export const TrainingRunSchema = z.object({
  id: z.string(),
  /** 1, 2, 3, … within the group, in creation order (MLOps Codex's execution id). */
  number: z.number().int(),
  group: z.string(),
  experimentId: z.string(),
  experimentName: z.string(),
  /** The tracking run that holds the params, metrics and the model artifact. */
  trackingRunId: z.string(),
  jobId: z.string(),
  status: JobStatusSchema,
  modelType: TrainingModelTypeSchema,
  sourceName: z.string(),
  trainFunction: z.string(),
  data: z.object({ file: z.string().nullable(), table: z.string().nullable(), filter: z.string().nullable() }),
  pythonVersion: z.string(),
  metrics: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  promoted: z.object({ model: z.string(), version: z.string(), deploymentId: z.string().nullable() }).nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
});
export type TrainingRun = z.infer<typeof TrainingRunSchema>;
export const TrainingRunListSchema = z.object({ items: z.array(TrainingRunSchema) });

/** Promote a succeeded training run: a registered model version, and a deployment when asked. */
export const TrainingPromoteSchema = z
  .object({
    modelName: z.string().min(1).max(256),
    /** Also deploy the new version (a pickle deployment of the trained pipeline). */
    deploy: z
      .object({ name: DeploymentNameSchema, operation: z.enum(['sync', 'async']).default('sync'), schemaSample: z.unknown().optional() })
      .strict()
      .optional(),
  })
  .strict();
export type TrainingPromote = z.input<typeof TrainingPromoteSchema>;
export const TrainingPromotedSchema = z.object({
  run: TrainingRunSchema,
  modelVersion: z.object({ name: z.string(), version: z.string() }),
  deploymentId: z.string().nullable(),
  buildJobId: z.string().nullable(),
});
export type TrainingPromoted = z.infer<typeof TrainingPromotedSchema>;
