import { z } from 'zod';
import { TimestampSchema, pageOf, PageQuerySchema } from './common.js';

/**
 * Labels that arrive after the predictions (ground truth), joined to a deployment's inference log
 * by the request id it answered with (X-Request-Id) and row, or by a key column the rows carry.
 */
export const LabelValueSchema = z.union([z.string().max(1000), z.number(), z.boolean()]);
export const LabelsPostSchema = z.union([
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
]);
export type LabelsPost = z.input<typeof LabelsPostSchema>;
export const LabelsResultSchema = z.object({ accepted: z.number().int(), table: z.string() });

export const AlertOperatorSchema = z.enum(['>', '>=', '<', '<=']);
export const AlertSeveritySchema = z.enum(['info', 'warning', 'critical']);

export const AlertRuleCreateSchema = z
  .object({
    name: z.string().min(1).max(100),
    /** A flat metric name of a monitor run (`drift.share`, `performance.roc_auc`, `drift.age.psi`); `*` matches one name part (`drift.*.psi`). */
    metric: z.string().min(1).max(300),
    operator: AlertOperatorSchema,
    threshold: z.number(),
    /** Fire after this many runs in a row breach it. */
    consecutive: z.number().int().min(1).max(100).default(1),
    severity: AlertSeveritySchema.default('warning'),
    enabled: z.boolean().default(true),
  })
  .strict();
export type AlertRuleCreate = z.input<typeof AlertRuleCreateSchema>;
export const AlertRuleUpdateSchema = AlertRuleCreateSchema.partial().strict();

export const AlertRuleSchema = AlertRuleCreateSchema.extend({
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
});
export type Alert = z.infer<typeof AlertSchema>;
export const AlertPageSchema = pageOf(AlertSchema);
export const AlertQuerySchema = PageQuerySchema.extend({ status: AlertStatusSchema.optional(), monitor: z.string().max(100).optional() }).strict();
export const AlertActionSchema = z.object({ note: z.string().max(2000).optional() }).strict();
