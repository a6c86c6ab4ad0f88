import { z } from 'zod';
import { FileSchema } from './common.js';
import { LakeTableNameSchema } from './lake.js';

/**
 * Drift statistics (one module on the server, used by monitors, the pipeline drift-check action
 * and POST /api/v1/drift). Defaults follow Evidently's DataDriftPreset, so a team moving from it
 * reads the same numbers; every result says which method, binning and thresholds made it.
 */
export const DRIFT_METHODS = ['psi', 'ks', 'chisquare', 'jensenshannon', 'wasserstein', 'z'] as const;
export const DriftMethodSchema = z.enum(DRIFT_METHODS);
export type DriftMethod = z.infer<typeof DriftMethodSchema>;

/** How a column is read: numbers get numerical tests, anything else categorical ones. */
export const ColumnKindSchema = z.enum(['numerical', 'categorical']);
export type ColumnKind = z.infer<typeof ColumnKindSchema>;

export const PsiOptionsSchema = z
  .object({
    /**
     * `evidently` (default): Sturges equal-width bins over both samples' range for numbers with more
     * than 20 distinct reference values, else one bin per value; empty bins 1e-4 (or the smallest
     * share ÷ 10⁶). `quantile`: the reference's quantiles, outer edges open (the credit-risk
     * convention). `equal-width`: `bins` equal bins over the reference's range, outer edges open.
     */
    binning: z.enum(['evidently', 'quantile', 'equal-width']).default('evidently'),
    /** Bins for `quantile` and `equal-width` (10 = deciles). */
    bins: z.number().int().min(2).max(1000).default(10),
    /** The share an empty bin gets; `evidently` uses Evidently's rule. */
    epsilon: z.union([z.literal('evidently'), z.number().positive().max(0.1)]).default('evidently'),
  })
  .strict();
export type PsiOptions = z.input<typeof PsiOptionsSchema>;

export const ColumnDriftOptionsSchema = z
  .object({
    kind: ColumnKindSchema.optional(),
    method: DriftMethodSchema.optional(),
    threshold: z.number().min(0).optional(),
  })
  .strict();

export const DriftOptionsSchema = z
  .object({
    /** Columns to compare (default: every column both sides share, without the lake's own). */
    columns: z.array(z.string().min(1).max(255)).min(1).max(2000).optional(),
    /** One method for every column of a kind; absent: Evidently's automatic choice. */
    numericalMethod: DriftMethodSchema.optional(),
    categoricalMethod: DriftMethodSchema.optional(),
    numericalThreshold: z.number().min(0).optional(),
    categoricalThreshold: z.number().min(0).optional(),
    /** Per-column overrides: kind, method, threshold. */
    perColumn: z.record(z.string(), ColumnDriftOptionsSchema).optional(),
    psi: PsiOptionsSchema.optional(),
    /** The dataset drifts when this share of columns drift (Evidently: 0.5). */
    driftShare: z.number().min(0).max(1).default(0.5),
    /** Also compute these methods on every column, beside the one that decides (e.g. PSI everywhere). */
    alsoCompute: z.array(DriftMethodSchema).max(DRIFT_METHODS.length).default([]),
  })
  .strict();
export type DriftOptions = z.input<typeof DriftOptionsSchema>;

/** Reference and current shares of a column, for side-by-side charts: bin edges for numbers, values for categories. */
export const DistributionSchema = z.object({
  /** Numerical: k+1 edges; categorical: absent. */
  edges: z.array(z.number()).optional(),
  /** Categorical: the values (most frequent first, the tail folded into "(other)"); numerical: absent. */
  categories: z.array(z.string()).optional(),
  reference: z.array(z.number()),
  current: z.array(z.number()),
});

export const MethodResultSchema = z.object({
  method: DriftMethodSchema,
  /** The distance, or the test statistic for p-value tests. */
  statistic: z.number().nullable(),
  /** p-value tests only. */
  pValue: z.number().nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
  /** PSI and Jensen–Shannon: how it was binned (`evidently-sturges`, `evidently-values`, `quantile`, `equal-width`, `values`) and into how many bins. */
  binning: z.string().optional(),
  bins: z.number().int().optional(),
  /** PSI: the share an empty reference bin got (Evidently's rule can give each side its own ε; `epsilonCurrent` is the current side's). */
  epsilon: z.number().optional(),
  epsilonCurrent: z.number().optional(),
  /** KS: `exact` (samples up to 10,000) or `asymp`, as scipy's ks_2samp(method='auto') picks. */
  pValueMethod: z.enum(['exact', 'asymp']).optional(),
});

export const ColumnDriftSchema = z.object({
  column: z.string(),
  kind: ColumnKindSchema,
  /** The method that decides `drifted` (chosen or automatic), then any `alsoCompute` ones. */
  result: MethodResultSchema,
  others: z.array(MethodResultSchema),
  drifted: z.boolean(),
  referenceRows: z.number().int(),
  currentRows: z.number().int(),
  /** Missing (NULL, NaN) and infinite values (counts), left out of the tests as Evidently does. */
  missing: z.object({ reference: z.number().int(), current: z.number().int() }),
  /** The same missing counts as shares of each side's rows (0 when a side has no rows). */
  missingShare: z.object({ reference: z.number(), current: z.number() }),
  infinite: z.object({ reference: z.number().int(), current: z.number().int() }),
  /** Numerical: the reference's range and the share of current values outside it. */
  range: z.object({ min: z.number(), max: z.number(), outsideShare: z.number() }).nullable(),
  /** Categorical: the share of current values never seen in the reference, and a few of them. */
  unseen: z.object({ share: z.number(), examples: z.array(z.string()) }).nullable(),
  /** Why no test ran (e.g. "all values are missing in the reference"). */
  note: z.string().nullable(),
  distribution: DistributionSchema.nullable(),
});
export type ColumnDrift = z.infer<typeof ColumnDriftSchema>;

export const DriftReportSchema = z.object({
  columns: z.array(ColumnDriftSchema),
  driftedColumns: z.number().int(),
  driftShare: z.number(),
  datasetDrift: z.boolean(),
  referenceRows: z.number().int(),
  currentRows: z.number().int(),
  /** Milliseconds the statistics took. */
  tookMs: z.number(),
});
export type DriftReport = z.infer<typeof DriftReportSchema>;

const TableSideSchema = z
  .object({
    table: LakeTableNameSchema,
    filter: z.string().max(20_000).optional(),
    version: z.union([z.number().int().min(0), z.literal('latest')]).optional(),
  })
  .strict();

/** POST /api/v1/drift as multipart/form-data: the two files (Parquet, or CSV with a header) and the options as a JSON text field. */
export const DriftUploadFormSchema = z.object({
  reference: FileSchema.describe('The reference file (Parquet, or CSV named *.csv)'),
  current: FileSchema.describe('The current file (Parquet, or CSV named *.csv)'),
  options: z.string().optional().describe('DriftOptions as JSON'),
});

/** POST /api/v1/drift with JSON: two lake tables of the caller's group. Multipart: `reference` and `current` files (Parquet or CSV) and `options` (JSON). */
export const DriftTablesRequestSchema = z
  .object({ reference: TableSideSchema, current: TableSideSchema, options: DriftOptionsSchema.default({ driftShare: 0.5, alsoCompute: [] }) })
  .strict();
export type DriftTablesRequest = z.input<typeof DriftTablesRequestSchema>;
