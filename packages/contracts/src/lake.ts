import { z } from 'zod';
import { TimestampSchema } from './common.js';

/**
 * A lake table's name: a plain identifier, so it can never be read as SQL. Names are unique per
 * group regardless of case (IRIS_OUTPUT and iris_output are the same table).
 */
export const LakeTableNameSchema = z
  .string()
  .min(1, 'a table needs a name')
  .max(63, 'table names have at most 63 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'table names are letters, digits and underscores, starting with a letter or underscore (no quotes, spaces or dots)');

/** The columns a versioned write adds (DHuolib's names). */
export const LAKE_VERSION_COLUMN = 'VERSION';
export const LAKE_CREATED_AT_COLUMN = 'CREATED_AT';
export const LAKE_MODEL_NAME_COLUMN = 'MODEL_NAME';
export const LAKE_MODEL_VERSION_COLUMN = 'MODEL_VERSION';

export const LakeColumnSchema = z.object({
  name: z.string(),
  /** The engine-neutral type: BIGINT, INTEGER, DOUBLE, REAL, BOOLEAN, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ, … */
  type: z.string(),
});
export type LakeColumn = z.infer<typeof LakeColumnSchema>;

export const LakeVersionSchema = z.object({
  version: z.number().int(),
  rows: z.number().int(),
  createdAt: TimestampSchema.nullable(),
  modelName: z.string().nullable(),
  modelVersion: z.string().nullable(),
});
export type LakeVersion = z.infer<typeof LakeVersionSchema>;

export const LakeTableSummarySchema = z.object({
  name: z.string(),
  group: z.string(),
  rowCount: z.number().int(),
  columnCount: z.number().int(),
  /** The newest VERSION written, when the table is versioned. */
  latestVersion: z.number().int().nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type LakeTableSummary = z.infer<typeof LakeTableSummarySchema>;
export const LakeTableListSchema = z.object({ items: z.array(LakeTableSummarySchema) });

export const LakeTableSchema = LakeTableSummarySchema.extend({
  engine: z.enum(['duckdb', 'postgres']),
  columns: z.array(LakeColumnSchema),
  /** Bytes the table takes in the engine (an estimate on DuckDB). */
  sizeBytes: z.number().int(),
  /** Newest first, at most 100. */
  versions: z.array(LakeVersionSchema),
});
export type LakeTable = z.infer<typeof LakeTableSchema>;

export const LakeWriteModeSchema = z.enum(['fail', 'append', 'replace']);
export type LakeWriteMode = z.infer<typeof LakeWriteModeSchema>;

const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1')
  .default(false);

/** Query string of a write; the body is the rows (Parquet or CSV). */
export const LakeWriteQuerySchema = z
  .object({
    /** fail: the table must not exist; append: add rows (the table is made if missing); replace: delete the rows, keep the schema. */
    mode: LakeWriteModeSchema.default('fail'),
    /** replace deletes every row: it must be asked for in so many words (DHuolib's force_replace_delete_itens_in_table). */
    confirmReplace: flag,
    /** Add VERSION (the table's newest + 1, assigned atomically) and CREATED_AT (server time, UTC). */
    versioned: flag,
    modelName: z.string().min(1).max(256).optional(),
    modelVersion: z.string().min(1).max(64).optional(),
  })
  .strict();
export type LakeWriteQuery = z.input<typeof LakeWriteQuerySchema>;

export const LakeWriteResultSchema = z.object({
  table: z.string(),
  created: z.boolean(),
  rowsWritten: z.number().int(),
  /** The VERSION the rows got (versioned writes), else null. */
  version: z.number().int().nullable(),
});
export type LakeWriteResult = z.infer<typeof LakeWriteResultSchema>;

export const LakeRenameSchema = z.object({ name: LakeTableNameSchema }).strict();

export const LakeReadFormatSchema = z.enum(['json', 'parquet', 'csv']);

/**
 * A read. The filter is a small grammar, parsed and bound, never pasted into SQL:
 *   comparisons (= != <> < <= > >=), AND, OR, NOT, parentheses, IN (…), IS [NOT] NULL, [NOT] LIKE,
 *   BETWEEN … AND …; strings in single quotes ('' escapes one); columns bare or in "double quotes".
 *   Example: species IN ('setosa', 'virginica') AND "sepal length (cm)" >= 5.1 AND note IS NOT NULL
 */
export const LakeQuerySchema = z
  .object({
    columns: z.array(z.string().min(1).max(255)).max(1000).optional(),
    filter: z.string().max(20_000).optional(),
    orderBy: z
      .array(z.object({ column: z.string().min(1).max(255), desc: z.boolean().default(false) }).strict())
      .max(1, 'order by one column (keyset paging adds the row order after it)')
      .optional(),
    /** Rows per page; JSON pages hold at most 10,000, file formats are unlimited when no limit is given. */
    limit: z.number().int().min(1).max(100_000_000).optional(),
    pageToken: z.string().max(2000).optional(),
    /** A VERSION to read, or "latest"; all versions when missing. */
    version: z.union([z.number().int().min(0), z.literal('latest')]).optional(),
    format: LakeReadFormatSchema.default('json'),
  })
  .strict();
export type LakeQuery = z.input<typeof LakeQuerySchema>;

export const LakeRowsSchema = z.object({
  columns: z.array(LakeColumnSchema),
  /** Values as JSON: integers beyond 2^53 as strings; dates and timestamps as the engine prints them, UTC ('2026-11-23 14:30:00.123'). */
  rows: z.array(z.record(z.string(), z.unknown())),
  nextPageToken: z.string().nullable(),
});
export type LakeRows = z.infer<typeof LakeRowsSchema>;

/** Which registered model scores: models:/name/Stage, models:/name@alias or models:/name/3. */
export const LakeModelRefSchema = z
  .string()
  .min(1)
  .max(600)
  .regex(/^models:\//, 'a model is models:/name/Stage, models:/name@alias or models:/name/<version>');

export const LakeBatchPredictionCreateSchema = z
  .object({
    sourceTable: LakeTableNameSchema,
    filter: z.string().max(20_000).optional(),
    model: LakeModelRefSchema,
    outputTable: LakeTableNameSchema,
    /** The column the predictions go to. */
    predictionColumn: z.string().min(1).max(63).default('PREDICT'),
    /** Source columns copied to the output next to the prediction (default: all). */
    keepColumns: z.array(z.string().min(1).max(255)).max(1000).optional(),
    /** Rows scored at a time: memory follows this, not the table's size. */
    chunkRows: z.number().int().min(100).max(1_000_000).default(50_000),
  })
  .strict();
export type LakeBatchPredictionCreate = z.input<typeof LakeBatchPredictionCreateSchema>;

export const LakeBatchPredictionSchema = z.object({
  jobId: z.string(),
  status: z.string(),
  sourceTable: z.string(),
  outputTable: z.string(),
  model: z.string(),
  /** Rows scored so far and in all. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  /** When it succeeded: the output VERSION, the rows written and the model version used. */
  result: z.object({ version: z.number().int(), rowsWritten: z.number().int(), modelName: z.string(), modelVersion: z.string() }).nullable(),
  error: z.string().nullable(),
  createdAt: TimestampSchema,
});
export type LakeBatchPrediction = z.infer<typeof LakeBatchPredictionSchema>;
export const LakeBatchPredictionListSchema = z.object({ items: z.array(LakeBatchPredictionSchema) });
