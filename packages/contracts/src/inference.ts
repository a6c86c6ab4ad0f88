import { z } from 'zod';
import { TimestampSchema } from './common.js';

/**
 * A deployment's inference log: a sampled copy of what it was asked and what it answered, kept as
 * a lake table of its group so monitors, SQL filters and the SDKs read it like any other table.
 * Part of the deployment's settings (`settings.inferenceLog`).
 */
export const InferenceLogSettingsSchema = z
  .object({
    /** Percent of calls logged (0 = off). Every call is still counted in the usage figures. */
    sampleRate: z.number().min(0).max(100).default(0),
    /** Rows older than this are deleted (0 = keep forever). */
    retentionDays: z.number().int().min(0).max(3650).default(90),
    /** Async executions: log their input and output rows too. */
    executions: z.boolean().default(false),
  })
  .strict();
export type InferenceLogSettings = z.infer<typeof InferenceLogSettingsSchema>;

/** A settings PATCH's `inferenceLog`: only the fields sent change, the others keep their values. */
export const InferenceLogSettingsPatchSchema = z
  .object({
    sampleRate: InferenceLogSettingsSchema.shape.sampleRate.unwrap().optional(),
    retentionDays: InferenceLogSettingsSchema.shape.retentionDays.unwrap().optional(),
    executions: InferenceLogSettingsSchema.shape.executions.unwrap().optional(),
  })
  .strict();

/**
 * The columns every inference log row has, besides one column per input feature (as sent) and the
 * prediction column(s): `prediction` for one output, `prediction_<name>` for named outputs.
 */
export const INFERENCE_LOG_COLUMNS = ['request_id', 'logged_at', 'latency_ms', 'model_version', 'row_index'] as const;

export const InferenceLogInfoSchema = z.object({
  /** The lake table the rows go to (in the deployment's group). */
  table: z.string(),
  settings: InferenceLogSettingsSchema,
  rows: z.number().int(),
  firstAt: TimestampSchema.nullable(),
  lastAt: TimestampSchema.nullable(),
  /**
   * Sampled calls (and executions) this server did not log since it started: its buffer was full
   * (the log keeps up with at most its memory cap of pending calls) or the write to the lake failed.
   */
  dropped: z.number().int(),
  /** Calls sampled and waiting in this server's buffer for the next write (every ~2 s). */
  pending: z.number().int(),
});
export type InferenceLogInfo = z.infer<typeof InferenceLogInfoSchema>;

export const UsageStepSchema = z.enum(['minute', 'hour', 'day']);
export type UsageStep = z.infer<typeof UsageStepSchema>;

export const UsageQuerySchema = z
  .object({
    /** Window start and end (ms); default: the last 24 hours. */
    from: z.coerce.number().int().nonnegative().optional(),
    to: z.coerce.number().int().nonnegative().optional(),
    /** Bucket size; default chosen from the window so at most ~500 points come back. */
    step: UsageStepSchema.optional(),
  })
  .strict();
export type UsageQuery = z.input<typeof UsageQuerySchema>;

/** Calls, errors and latency percentiles of a deployment per bucket, recorded for every call from the first on. */
export const UsageSeriesSchema = z.object({
  step: UsageStepSchema,
  points: z.array(
    z.object({
      t: TimestampSchema,
      calls: z.number().int(),
      errors: z.number().int(),
      p50: z.number().nullable(),
      p95: z.number().nullable(),
      p99: z.number().nullable(),
    }),
  ),
  totals: z.object({ calls: z.number().int(), errors: z.number().int(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }),
  firstCallAt: TimestampSchema.nullable(),
});
export type UsageSeries = z.infer<typeof UsageSeriesSchema>;
