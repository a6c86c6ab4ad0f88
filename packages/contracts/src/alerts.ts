import { z } from 'zod';
import { TimestampSchema, pageOf, PageQuerySchema } from './common.js';
import { LakeTableNameSchema } from './lake.js';
import { PerformanceCheckSchema } from './monitoring.js';

/**
 * Labels that arrive after the predictions (ground truth), joined to a deployment's inference log
 * by the request id it answered with (X-Request-Id) and row, or by a key column the rows carry.
 */
/**
 * A union's error that names the problem: the first issue of the shape the body came closest to
 * (fewest issues), and the shapes accepted — instead of zod's bare "Invalid input".
 */
function closestShape(shapes: string) {
  return (issue: { errors?: { path: PropertyKey[]; message: string }[][] }) => {
    const best = [...(issue.errors ?? [])].filter((b) => b.length).sort((a, b) => a.length - b.length)[0]?.[0];
    const where = best ? `${best.path.map(String).join('.') || 'the body'}: ${best.message}; ` : '';
    return `${where}send ${shapes}`;
  };
}

export const LabelValueSchema = z.union([z.string().max(1000), z.number(), z.boolean()]);
export const LabelsPostSchema = z.union(
  [
    z
      .object({
        labels: z
          .array(z.object({ requestId: z.string().min(1).max(200), row: z.number().int().min(0).default(0), label: LabelValueSchema }).strict())
          .min(1)
          .max(100_000),
      })
      .strict(),
    z
      .object({
        /** A column of the logged inputs that identifies a row (e.g. a customer id). */
        key: z.string().min(1).max(255),
        labels: z
          .array(z.object({ key: z.union([z.string().max(1000), z.number()]), label: LabelValueSchema }).strict())
          .min(1)
          .max(100_000),
      })
      .strict(),
    z
      .object({
        /** Labels in a lake table of the group: its key column matches the log's column of the same name. */
        table: z.string().min(1).max(63),
        filter: z.string().max(20_000).optional(),
        key: z.string().min(1).max(255),
        labelColumn: z.string().min(1).max(255),
      })
      .strict(),
  ],
  { error: closestShape('{labels: [{requestId, row, label}]}, {key, labels: [{key, label}]} or {table, key, labelColumn, filter?}') },
);
export type LabelsPost = z.input<typeof LabelsPostSchema>;
export const LabelsResultSchema = z.object({
  /** Label rows written (a key label counts once per logged row it matches). */
  accepted: z.number().int(),
  /** The lake table holding the labels: `<inference log table>__labels`. */
  table: z.string(),
});
export type LabelsResult = z.infer<typeof LabelsResultSchema>;

/**
 * Performance computed on demand (`POST /api/v1/performance`): the check's settings with the
 * predictions and labels inline (scikit-learn's y_pred, y_true and, for ROC AUC and log-loss, the
 * positive class's probability), or read from a lake table of the group.
 */
export const PerformanceRequestSchema = z.union(
  [
    PerformanceCheckSchema.omit({ predictionColumn: true, scoreColumn: true })
      .extend({
        prediction: z.array(LabelValueSchema.nullable()).min(1).max(1_000_000),
        label: z.array(LabelValueSchema.nullable()).min(1).max(1_000_000),
        score: z.array(z.number().nullable()).max(1_000_000).optional(),
      })
      .strict(),
    PerformanceCheckSchema.extend({
      table: LakeTableNameSchema,
      filter: z.string().max(20_000).optional(),
      labelColumn: z.string().min(1).max(255).default('label'),
    }).strict(),
  ],
  { error: closestShape('{task, prediction: [...], label: [...], score?: [...]} or {task, table, filter?, predictionColumn?, labelColumn?, scoreColumn?}') },
);
export type PerformanceRequest = z.input<typeof PerformanceRequestSchema>;

export const AlertOperatorSchema = z.enum(['>', '>=', '<', '<=']);
export const AlertSeveritySchema = z.enum(['info', 'warning', 'critical']);

const alertRuleFields = {
  name: z.string().min(1).max(100),
  /** A flat metric name of a monitor run (`drift.share`, `performance.roc_auc`, `drift.age.psi`); `*` matches one name part (`drift.*.psi`). */
  metric: z
    .string()
    .min(1)
    .max(300)
    .refine((m) => m.split('.').every((part) => part === '*' || (part !== '' && !part.includes('*'))), {
      message: 'dotted name parts, each a name or a lone "*" (e.g. drift.*.psi)',
    }),
  operator: AlertOperatorSchema,
  threshold: z.number(),
  /** Fire after this many runs in a row breach it. */
  consecutive: z.number().int().min(1).max(100),
  severity: AlertSeveritySchema,
  enabled: z.boolean(),
};

export const AlertRuleCreateSchema = z
  .object({
    ...alertRuleFields,
    consecutive: alertRuleFields.consecutive.default(1),
    severity: alertRuleFields.severity.default('warning'),
    enabled: alertRuleFields.enabled.default(true),
  })
  .strict();
export type AlertRuleCreate = z.input<typeof AlertRuleCreateSchema>;
/** Only what is sent changes (no defaults here: an absent field keeps its value). */
export const AlertRuleUpdateSchema = z.object(alertRuleFields).partial().strict();
export type AlertRuleUpdate = z.input<typeof AlertRuleUpdateSchema>;

export const AlertRuleSchema = z.object(alertRuleFields).extend({
  id: z.string(),
  monitorId: z.string(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;
export const AlertRuleListSchema = z.object({ items: z.array(AlertRuleSchema) });

export const AlertStatusSchema = z.enum(['open', 'acknowledged', 'resolved']);

export const AlertSchema = z.object({
  id: z.string(),
  group: z.string(),
  monitorId: z.string(),
  monitorName: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  severity: AlertSeveritySchema,
  /** The metric that breached (a pattern rule names the concrete one), its value and the rule. */
  metric: z.string(),
  value: z.number(),
  operator: AlertOperatorSchema,
  threshold: z.number(),
  runId: z.string(),
  status: AlertStatusSchema,
  firedAt: TimestampSchema,
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: TimestampSchema.nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: TimestampSchema.nullable(),
  /** Why it was resolved: by a person, or "metric back within the rule" by a later run. */
  resolution: z.string().nullable(),
  /** The note left by the last person who acknowledged or resolved it. */
  note: z.string().nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;
export const AlertPageSchema = pageOf(AlertSchema);
export const AlertQuerySchema = PageQuerySchema.extend({ status: AlertStatusSchema.optional(), monitor: z.string().max(100).optional() }).strict();
export const AlertActionSchema = z.object({ note: z.string().max(2000).optional() }).strict();
