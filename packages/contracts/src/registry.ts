import { z } from 'zod';
import { TimestampSchema } from './common.js';
import { safeName, safeValue, uniqueKeys } from './text.js';
import { KeyValueSchema, TrackingKeySchema } from './tracking.js';

export const StageSchema = z.enum(['None', 'Staging', 'Production', 'Archived']);
export type Stage = z.infer<typeof StageSchema>;
export const ModelVersionStatusSchema = z.enum(['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY']);

/** Registered model names appear in `models:/<name>/<version>` and `models:/<name>@<alias>` URIs. */
export const ModelNameSchema = safeName(
  z
    .string()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .regex(/^[^/@:\\\s][^/@\\]*$/u, 'may not contain "/", "@" or "\\", nor start with ":" or a space'),
);

/** Aliases such as champion; "latest" and v<N> are taken by the URI syntax. */
export const AliasSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w-]+$/, 'may contain only letters, digits, "_" and "-"')
  .refine((a) => a.toLowerCase() !== 'latest' && !/^v\d+$/i.test(a), 'is reserved ("latest" and v<number> name versions)');

export const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  creationTime: TimestampSchema,
  lastUpdatedTime: TimestampSchema,
  userId: z.string().nullable(),
  currentStage: StageSchema,
  description: z.string(),
  source: z.string(),
  /** Where the files are: source resolved (a run's or logged model's artifact location). */
  storageLocation: z.string(),
  runId: z.string().nullable(),
  runLink: z.string().nullable(),
  modelId: z.string().nullable(),
  status: ModelVersionStatusSchema,
  tags: z.array(KeyValueSchema),
  aliases: z.array(z.string()),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export const RegisteredModelSchema = z.object({
  name: z.string(),
  group: z.string(),
  description: z.string(),
  creationTime: TimestampSchema,
  lastUpdatedTime: TimestampSchema,
  userId: z.string().nullable(),
  tags: z.array(KeyValueSchema),
  aliases: z.array(z.object({ alias: z.string(), version: z.string() })),
  /** The newest version in each stage. */
  latestVersions: z.array(ModelVersionSchema),
});
export type RegisteredModel = z.infer<typeof RegisteredModelSchema>;

/** Registry tags: MLflow's key alphabet, values up to 100,000 characters (its registry limit). */
export const RegistryTagKeySchema = TrackingKeySchema;
export const RegistryTagValueSchema = safeValue(z.string().max(100_000, 'a tag value is at most 100000 characters'));
export const DescriptionSchema = safeValue(z.string().max(100_000, 'a description is at most 100000 characters'));
const Tags = z
  .array(z.object({ key: RegistryTagKeySchema, value: RegistryTagValueSchema }).strict())
  .max(100)
  .superRefine(uniqueKeys('tag key'))
  .default([]);

export const RegisteredModelCreateSchema = z.object({ name: ModelNameSchema, description: DescriptionSchema.default(''), tags: Tags }).strict();
export type RegisteredModelCreate = z.input<typeof RegisteredModelCreateSchema>;
export const RegisteredModelUpdateSchema = z.object({ newName: ModelNameSchema.optional(), description: DescriptionSchema.optional() }).strict();

export const ModelVersionCreateSchema = z
  .object({
    /** runs:/<run_id>/<path>, models:/m-<id>, or an mlflow-artifacts:/ URI. */
    source: z.string().min(1).max(2000),
    runId: z.string().max(256).optional(),
    runLink: z.string().max(2000).optional(),
    modelId: z.string().max(64).optional(),
    description: DescriptionSchema.default(''),
    tags: Tags,
  })
  .strict();
export type ModelVersionCreate = z.input<typeof ModelVersionCreateSchema>;

export const TransitionSchema = z.object({ stage: StageSchema, archiveExistingVersions: z.boolean().default(false) }).strict();
export const AliasSetSchema = z.object({ version: z.string().regex(/^[1-9]\d{0,9}$/, 'must be a version number') }).strict();

export const ModelSearchSchema = z
  .object({
    filter: z.string().max(10_000).optional(),
    orderBy: z.array(z.string().max(500)).max(10).default([]),
    maxResults: z.number().int().min(1).max(1000).default(100),
    pageToken: z.string().max(500).optional(),
  })
  .strict();
export type ModelSearch = z.input<typeof ModelSearchSchema>;
export const RegisteredModelPageSchema = z.object({ registeredModels: z.array(RegisteredModelSchema), nextPageToken: z.string().optional() });
export const ModelVersionPageSchema = z.object({ modelVersions: z.array(ModelVersionSchema), nextPageToken: z.string().optional() });

export const ApprovalStatusSchema = z.enum(['pending', 'approved', 'rejected', 'cancelled']);
export const ApprovalRequestSchema = z.object({
  id: z.string(),
  group: z.string(),
  model: z.string(),
  version: z.string(),
  fromStage: z.string(),
  toStage: StageSchema,
  archiveExistingVersions: z.boolean(),
  status: ApprovalStatusSchema,
  requestedBy: z.string(),
  requestedAt: TimestampSchema,
  comment: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: TimestampSchema.nullable(),
  decisionComment: z.string().nullable(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;
export const ApprovalListSchema = z.object({ items: z.array(ApprovalRequestSchema) });
export const ApprovalDecisionSchema = z.object({ decision: z.enum(['approve', 'reject']), comment: z.string().max(5000).optional() }).strict();

/** What a transition did: moved the version, or (when the stage needs approval) opened a request. */
export const TransitionResultSchema = z.object({ modelVersion: ModelVersionSchema, approvalRequest: ApprovalRequestSchema.nullable() });

export const RegistrySettingsSchema = z.object({
  /** Transitions into these stages need another member's approval. */
  approvalStages: z.array(z.enum(['Staging', 'Production'])).max(2),
  /** Usernames who may approve; empty means the group's admins. Nobody approves their own request. */
  approvers: z.array(z.string().min(1).max(100)).max(100),
});
export type RegistrySettings = z.infer<typeof RegistrySettingsSchema>;
export const RegistrySettingsUpdateSchema = RegistrySettingsSchema.extend({ approvers: RegistrySettingsSchema.shape.approvers.default([]) }).strict();
export type RegistrySettingsUpdate = z.input<typeof RegistrySettingsUpdateSchema>;

export const TimelineEntrySchema = z.object({
  at: TimestampSchema,
  actor: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export const TimelineSchema = z.object({ items: z.array(TimelineEntrySchema) });
