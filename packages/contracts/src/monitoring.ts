import { z } from 'zod';
import { FileSchema, IdSchema, TimestampSchema, pageOf } from './common.js';
import { DriftOptionsSchema, DriftReportSchema } from './drift.js';
import { LakeTableNameSchema } from './lake.js';

/** How often a monitor looks, and the window each look covers (MLOps Codex's `Period`, plus hours). */
export const MonitorPeriodSchema = z.enum(['hour', 'day', 'week', 'month']);
export type MonitorPeriod = z.infer<typeof MonitorPeriodSchema>;

const ColumnNameSchema = z.string().min(1).max(255);

/** What is watched: a deployment's inference log, or any lake table with a time column. */
export const MonitorTargetSchema = z.union([
  z.object({ deployment: z.string().min(1).max(200) }).strict(),
  z.object({ table: LakeTableNameSchema, timeColumn: ColumnNameSchema }).strict(),
]);

/** What "normal" is: the data the model learned from. */
export const MonitorReferenceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('table'),
      table: LakeTableNameSchema,
      filter: z.string().max(20_000).optional(),
      version: z.union([z.number().int().min(0), z.literal('latest')]).optional(),
    })
    .strict(),
  /** A tracking run's logged dataset (mlflow.log_input): the dataset whose source is a lake table or a run artifact. */
  z.object({ kind: z.literal('run'), runId: z.string().min(1).max(64), dataset: z.string().max(500).optional() }).strict(),
  /** A training run's data (MLOps Codex's `TrainData.MLOpsTrainingExecution`). */
  z.object({ kind: z.literal('training'), trainingId: z.string().min(1).max(64) }).strict(),
  /** A file uploaded to POST /api/v1/monitors/{id}/reference (Parquet or CSV); set by that call, not by hand. */
  z.object({ kind: z.literal('file'), name: z.string(), rows: z.number().int() }).strict(),
]);
export type MonitorReference = z.infer<typeof MonitorReferenceSchema>;

export const PerformanceTaskSchema = z.enum(['classification', 'regression']);

export const PerformanceCheckSchema = z
  .object({
    task: PerformanceTaskSchema,
    /** The prediction column of the log (default `prediction`). */
    predictionColumn: ColumnNameSchema.default('prediction'),
    /** For ROC AUC and log-loss: the column with the positive class's probability, when the model logs one. */
    scoreColumn: ColumnNameSchema.optional(),
    /** The class counted as positive for precision, recall and F1 (default: the larger label, e.g. 1 or "yes"). */
    positiveLabel: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** The baseline (training/test values); absent: the registered model version's metrics of the same names. */
    baseline: z.record(z.string(), z.number()).optional(),
    /** Flag a metric that falls this share below its baseline (error metrics: rises above). */
    tolerance: z.number().min(0).max(1).default(0.1),
  })
  .strict();

export const ExplanationCheckSchema = z
  .object({
    /** Logged rows explained per window. */
    sampleRows: z.number().int().min(10).max(10_000).default(200),
    /** A function in the deployment's files `module:function(df, model_path) -> DataFrame` (MLOps Codex's `shap_function`); absent: the shap package's tree or linear explainer. */
    function: z.string().max(300).optional(),
  })
  .strict();

export const MonitorChecksSchema = z
  .object({
    drift: DriftOptionsSchema.optional(),
    performance: PerformanceCheckSchema.optional(),
    explanations: ExplanationCheckSchema.optional(),
  })
  .strict();

export const MonitorCreateSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\w.-]+$/, 'may contain letters, digits, "_", "." and "-"'),
    description: z.string().max(10_000).default(''),
    target: MonitorTargetSchema,
    /** Absent: set later by uploading a file. */
    reference: MonitorReferenceSchema.optional(),
    /** The model's input features (MLOps Codex's InputCols); default: the reference's columns the target also has. */
    inputColumns: z.array(ColumnNameSchema).max(2000).optional(),
    /** The model's outputs (OutputCols); default: the log's prediction columns. */
    outputColumns: z.array(ColumnNameSchema).max(100).optional(),
    checks: MonitorChecksSchema.default({}),
    period: MonitorPeriodSchema.default('day'),
    /** Runs by itself once a period (at the window's end); off: only on demand. */
    scheduled: z.boolean().default(true),
  })
  .strict();
export type MonitorCreate = z.input<typeof MonitorCreateSchema>;

export const MonitorUpdateSchema = MonitorCreateSchema.omit({ name: true, target: true }).partial().strict();
export type MonitorUpdate = z.input<typeof MonitorUpdateSchema>;

/**
 * MLOps Codex's configuration.json, as its `register_monitoring` sends it (PascalCase is what
 * Codex reads): turned into a monitor of the deployment.
 */
export const CodexMonitoringConfigSchema = z
  .object({
    Period: z.enum(['Day', 'Week', 'Month', 'Year']),
    TrainData: z
      .object({ MLOpsTrainingExecution: z.string().optional(), TrainDateCol: z.string().optional(), TrainDateRef: z.string().optional() })
      .refine((t) => Object.values(t).some((v) => v !== undefined), 'TrainData needs MLOpsTrainingExecution, TrainDateCol or TrainDateRef'),
    InputCols: z.array(ColumnNameSchema).min(1),
    OutputCols: z.array(ColumnNameSchema).min(1),
  })
  .passthrough();

/**
 * POST /api/v1/monitors/codex (JSON; or multipart with the `configuration` file, an optional
 * `reference` data file and these as text fields): a monitor of a deployment from MLOps Codex's
 * configuration.json. Period Day/Week/Month map to day/week/month windows; Year maps to month
 * windows (a yearly look is too late to act on; a year is twelve monthly runs in the charts).
 * TrainData.MLOpsTrainingExecution names a Forja training run, whose data is the reference; with
 * TrainDateCol and TrainDateRef, the reference rows are those dated before TrainDateRef.
 */
export const CodexMonitorCreateSchema = z
  .object({
    name: MonitorCreateSchema.shape.name,
    description: z.string().max(10_000).default(''),
    /** The deployment's name or id. */
    deployment: z.string().min(1).max(200),
    configuration: CodexMonitoringConfigSchema,
    /** Where the training data is when TrainData names no training run (or a file uploaded with the form). */
    reference: MonitorReferenceSchema.optional(),
    checks: MonitorChecksSchema.default({}),
    scheduled: z.boolean().default(true),
  })
  .strict();
export type CodexMonitorCreate = z.input<typeof CodexMonitorCreateSchema>;

/** POST /api/v1/monitors/codex as multipart: the configuration.json file, an optional reference data file, and text fields. */
export const CodexMonitorFormSchema = z.object({
  configuration: FileSchema.describe("MLOps Codex's configuration.json (Period, TrainData, InputCols, OutputCols)"),
  data: FileSchema.optional().describe('The training data (Parquet or CSV) when TrainData names no training run'),
  name: z.string().describe("The monitor's name"),
  deployment: z.string().describe("The deployment's name or id"),
  description: z.string().optional(),
  scheduled: z.enum(['true', 'false']).optional(),
  checks: z.string().optional().describe('JSON: the checks (drift, performance, explanations)'),
  reference: z.string().optional().describe('JSON: a reference instead of the file'),
});

/** POST /api/v1/monitors/{id}/reference: the reference rows as a file (Parquet or CSV). */
export const MonitorReferenceFormSchema = z.object({ data: FileSchema.describe('The reference rows: .parquet or .csv') });

export const MonitorSchema = z.object({
  id: z.string(),
  group: z.string(),
  name: z.string(),
  description: z.string(),
  target: MonitorTargetSchema,
  /** The deployment's id when the target is a deployment. */
  deploymentId: z.string().nullable(),
  reference: MonitorReferenceSchema.nullable(),
  inputColumns: z.array(z.string()).nullable(),
  outputColumns: z.array(z.string()).nullable(),
  checks: MonitorChecksSchema,
  period: MonitorPeriodSchema,
  scheduled: z.boolean(),
  nextRunAt: TimestampSchema.nullable(),
  lastRun: z.object({ id: z.string(), status: z.string(), windowEnd: TimestampSchema, datasetDrift: z.boolean().nullable() }).nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Monitor = z.infer<typeof MonitorSchema>;
export const MonitorListSchema = z.object({ items: z.array(MonitorSchema) });

export const PerformanceReportSchema = z.object({
  task: PerformanceTaskSchema,
  /** Logged rows that have a label in the window. */
  labelledRows: z.number().int(),
  /** classification: accuracy, precision, recall, f1, roc_auc, log_loss; regression: mae, rmse, r2 (those computable). */
  metrics: z.record(z.string(), z.number().nullable()),
  baseline: z.record(z.string(), z.number()).nullable(),
  /** Metrics worse than baseline by more than the tolerance. */
  degraded: z.array(z.object({ metric: z.string(), baseline: z.number(), current: z.number() })),
});
export type PerformanceReport = z.infer<typeof PerformanceReportSchema>;

export const ExplanationReportSchema = z.object({
  rows: z.number().int(),
  explainer: z.string(),
  /** Mean |SHAP| per feature in the window, and on the reference (MLOps Codex's SHAP average). */
  importance: z.array(z.object({ feature: z.string(), current: z.number(), reference: z.number().nullable() })),
});

export const MonitorRunStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed']);

export const MonitorRunSchema = z.object({
  id: z.string(),
  monitorId: z.string(),
  status: MonitorRunStatusSchema,
  jobId: z.string().nullable(),
  /** `schedule` or `manual`. */
  trigger: z.enum(['schedule', 'manual']),
  windowStart: TimestampSchema,
  windowEnd: TimestampSchema,
  currentRows: z.number().int().nullable(),
  drift: DriftReportSchema.nullable(),
  performance: PerformanceReportSchema.nullable(),
  explanations: ExplanationReportSchema.nullable(),
  /**
   * Every number of the run under one flat name, what alert rules and charts read:
   * `drift.share`, `drift.<column>.<method>`, `missing.<column>`, `performance.<metric>`, `shap.<feature>`, `rows`.
   */
  metrics: z.record(z.string(), z.number()),
  /** Reference rows compared (null before the run read them). */
  referenceRows: z.number().int().nullable(),
  /** Parts of the run that failed without failing the run (a performance check without labels, an explainer error). */
  problems: z.array(z.object({ part: z.enum(['drift', 'performance', 'explanations']), message: z.string() })),
  error: z.string().nullable(),
  createdAt: TimestampSchema,
  finishedAt: TimestampSchema.nullable(),
});
export type MonitorRun = z.infer<typeof MonitorRunSchema>;
export const MonitorRunPageSchema = pageOf(MonitorRunSchema.omit({ drift: true, performance: true, explanations: true }));

export const MonitorRunRequestSchema = z
  .object({
    /** The window to look at (default: the last full period). */
    from: TimestampSchema.optional(),
    to: TimestampSchema.optional(),
    /** The current period so far (from its start to now) instead of the last full one. */
    now: z.boolean().default(false),
  })
  .strict();
export type MonitorRunRequest = z.input<typeof MonitorRunRequestSchema>;

export const MonitorRunListQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(500).default(50), pageToken: z.string().max(200).optional() })
  .strict();

export const MonitorMetricsQuerySchema = z
  .object({
    /** Comma-separated metric names; `*` ends a prefix (`drift.*`). Absent: every metric. */
    names: z.string().max(5000).optional(),
    from: z.coerce.number().int().optional(),
    to: z.coerce.number().int().optional(),
  })
  .strict();

/** A metric's values over a monitor's runs (for charts). */
export const MonitorMetricSeriesSchema = z.object({
  metrics: z.record(z.string(), z.array(z.object({ t: TimestampSchema, value: z.number(), runId: z.string() }))),
});

export const MonitorIdSchema = IdSchema;
