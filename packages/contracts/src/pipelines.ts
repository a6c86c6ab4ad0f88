import { z } from 'zod';
import { FileSchema, TimestampSchema } from './common.js';

/**
 * What a step does: run a script, or one of the platform's own actions. Parameters between steps
 * travel as templates in `with`: ${{ steps.<id>.outputs.<key> }} and ${{ params.<key> }}.
 */
export const PipelineActionSchema = z.enum(['script', 'train', 'register', 'transition', 'deploy', 'batch-predict', 'drift-check', 'monitor']);
export type PipelineAction = z.infer<typeof PipelineActionSchema>;

export const PipelineStepStatusSchema = z.enum(['pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'reused']);
export const PipelineRunStatusSchema = z.enum(['running', 'succeeded', 'failed', 'cancelled']);

export const PipelineStepDefSchema = z.object({ id: z.string(), action: PipelineActionSchema, needs: z.array(z.string()) });

export const PipelineSchema = z.object({
  id: z.string(),
  group: z.string(),
  name: z.string(),
  /** Each upload of the definition is a new version; runs keep the version they started with. */
  version: z.number().int(),
  steps: z.array(PipelineStepDefSchema),
  definition: z.string(),
  files: z.array(z.string()),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Pipeline = z.infer<typeof PipelineSchema>;
export const PipelineListSchema = z.object({ items: z.array(PipelineSchema) });

export const PipelineRunStepSchema = PipelineStepDefSchema.extend({
  status: PipelineStepStatusSchema,
  jobId: z.string().nullable(),
  outputs: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
});
export type PipelineRunStep = z.infer<typeof PipelineRunStepSchema>;

export const PipelineRunSchema = z.object({
  id: z.string(),
  pipeline: z.string(),
  pipelineVersion: z.number().int(),
  status: PipelineRunStatusSchema,
  params: z.record(z.string(), z.unknown()),
  fromStep: z.string().nullable(),
  steps: z.array(PipelineRunStepSchema),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  finishedAt: TimestampSchema.nullable(),
});
export type PipelineRun = z.infer<typeof PipelineRunSchema>;
export const PipelineRunListSchema = z.object({ items: z.array(PipelineRunSchema) });

export const PipelineRunCreateSchema = z
  .object({
    params: z.record(z.string(), z.unknown()).default({}),
    /** Run this step and what depends on it; the others' outputs come from the pipeline's last succeeded run. */
    fromStep: z.string().min(1).max(100).optional(),
  })
  .strict();
export type PipelineRunCreate = z.input<typeof PipelineRunCreateSchema>;

/** PUT /api/v1/pipelines/{name}: the definition and every file its steps name. */
export const PipelineUploadFormSchema = z
  .object({
    definition: FileSchema.describe('The pipeline definition (YAML)'),
    file: z.array(FileSchema).optional().describe('Each script or data file the definition names, one part each'),
  })
  .strict();
