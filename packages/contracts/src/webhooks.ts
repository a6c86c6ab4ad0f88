import { z } from 'zod';
import { TimestampSchema, pageOf, PageQuerySchema } from './common.js';

/** What a webhook can subscribe to. `ping` is sent by the "test" action only. */
export const WEBHOOK_EVENTS = [
  'registered_model.created',
  'model_version.created',
  'model_version.stage_changed',
  'model_version.alias_set',
  'model_version.alias_deleted',
  'approval.requested',
  'approval.decided',
  'monitor.alert.fired',
  'monitor.alert.resolved',
] as const;
export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

const WebhookUrlSchema = z
  .string()
  .max(2000)
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const NameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w .-]+$/, 'may contain letters, digits, spaces, "_", "." and "-"');

export const WebhookSchema = z.object({
  id: z.string(),
  group: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(WebhookEventSchema),
  description: z.string(),
  active: z.boolean(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Webhook = z.infer<typeof WebhookSchema>;
export const WebhookListSchema = z.object({ items: z.array(WebhookSchema) });

/** The signing secret is shown once, when made (or rotated). */
export const WebhookWithSecretSchema = WebhookSchema.extend({ secret: z.string() });

export const WebhookCreateSchema = z
  .object({
    name: NameSchema,
    url: WebhookUrlSchema,
    events: z.array(WebhookEventSchema).min(1, 'subscribe to at least one event').max(WEBHOOK_EVENTS.length),
    description: z.string().max(10_000).default(''),
    active: z.boolean().default(true),
    /** Your own signing secret; one is generated when omitted. */
    secret: z.string().min(16, 'must be at least 16 characters').max(200).optional(),
  })
  .strict();
export type WebhookCreate = z.input<typeof WebhookCreateSchema>;

export const WebhookUpdateSchema = z
  .object({
    name: NameSchema.optional(),
    url: WebhookUrlSchema.optional(),
    events: z.array(WebhookEventSchema).min(1).max(WEBHOOK_EVENTS.length).optional(),
    description: z.string().max(10_000).optional(),
    active: z.boolean().optional(),
    /** Makes a new signing secret and returns it once. */
    rotateSecret: z.boolean().optional(),
  })
  .strict();
export type WebhookUpdate = z.input<typeof WebhookUpdateSchema>;

export const WebhookDeliveryStatusSchema = z.enum(['pending', 'retrying', 'delivered', 'failed']);

export const WebhookDeliverySchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  event: z.string(),
  status: WebhookDeliveryStatusSchema,
  attempts: z.number().int(),
  /** The receiver's HTTP status on the last attempt; null when it could not be reached. */
  responseStatus: z.number().int().nullable(),
  responseBody: z.string().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  jobId: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
  createdAt: TimestampSchema,
  lastAttemptAt: TimestampSchema.nullable(),
  deliveredAt: TimestampSchema.nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;
export const WebhookDeliveryPageSchema = pageOf(WebhookDeliverySchema);
export const WebhookDeliveryQuerySchema = PageQuerySchema;
