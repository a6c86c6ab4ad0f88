import { z } from 'zod';
import { FileSchema, TimestampSchema } from './common.js';
import { DeploymentNameSchema, PythonVersionSchema } from './deployments.js';

/** DHuolib's cluster sizes 1/2/3: named resource profiles an administrator can change. */
export const ClusterSizeSchema = z.number().int().min(1, 'cluster sizes are 1, 2 or 3').max(3, 'cluster sizes are 1, 2 or 3');
export const ClusterProfileSchema = z.object({
  size: ClusterSizeSchema,
  name: z.string(),
  cpus: z.number().min(0.1).max(256),
  memoryMb: z.number().int().min(64).max(1_048_576),
  /** Runs of one project at the same time on this profile; more wait their turn. */
  parallelRuns: z.number().int().min(1).max(64),
});
export type ClusterProfile = z.infer<typeof ClusterProfileSchema>;
export const ClusterProfileListSchema = z.object({ items: z.array(ClusterProfileSchema) });
export const ClusterProfileUpdateSchema = ClusterProfileSchema.omit({ size: true }).partial().strict();

export const BatchProjectSchema = z.object({
  id: z.string(),
  group: z.string(),
  name: z.string(),
  description: z.string(),
  clusterSize: ClusterSizeSchema,
  /** The deploy that runs: the newest Ready one. */
  currentVersion: z.number().int().nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type BatchProject = z.infer<typeof BatchProjectSchema>;
export const BatchProjectListSchema = z.object({ items: z.array(BatchProjectSchema) });
export const BatchProjectCreateSchema = z
  .object({ name: DeploymentNameSchema, description: z.string().max(10_000).default(''), clusterSize: ClusterSizeSchema.default(1) })
  .strict();
export const BatchProjectUpdateSchema = z.object({ description: z.string().max(10_000).optional(), clusterSize: ClusterSizeSchema.optional() }).strict();

export const BatchDeploySchema = z.object({
  version: z.number().int(),
  status: z.enum(['Building', 'Ready', 'Failed']),
  message: z.string().nullable(),
  scriptName: z.string(),
  pythonVersion: z.string(),
  requirements: z.string(),
  environment: z.string().nullable(),
  buildJobId: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
});
export type BatchDeploy = z.infer<typeof BatchDeploySchema>;
export const BatchDeployListSchema = z.object({ items: z.array(BatchDeploySchema) });
export const BatchDeployFieldsSchema = z.object({ pythonVersion: PythonVersionSchema }).strict();
/** POST /api/v1/batch/projects/{name}/deploys: the script and its requirements, beside the fields. */
export const BatchDeployFormSchema = BatchDeployFieldsSchema.extend({
  source: FileSchema.describe('The batch script (.py)'),
  requirements: FileSchema.optional().describe('requirements.txt'),
});

export const BatchRunStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export const BatchRunSchema = z.object({
  id: z.string(),
  project: z.string(),
  version: z.number().int(),
  status: BatchRunStatusSchema,
  params: z.record(z.string(), z.unknown()),
  trigger: z.enum(['manual', 'schedule', 'pipeline']),
  error: z.string().nullable(),
  jobId: z.string(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
});
export type BatchRun = z.infer<typeof BatchRunSchema>;
export const BatchRunListSchema = z.object({ items: z.array(BatchRunSchema) });
export const BatchRunCreateSchema = z
  .object({
    params: z.record(z.string(), z.unknown()).default({}),
    /** Seconds; the run's process tree is killed after it. */
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(3600),
  })
  .strict();
export type BatchRunCreate = z.input<typeof BatchRunCreateSchema>;

export const MissedPolicySchema = z.enum(['skip', 'run_once']);
export const ScheduleSchema = z.object({
  id: z.string(),
  project: z.string(),
  /** Cron with 5 fields, or 6 with seconds first. */
  cron: z.string(),
  timezone: z.string(),
  params: z.record(z.string(), z.unknown()),
  /** Ticks missed while no server ran: skip them, or run once for all of them. */
  missedPolicy: MissedPolicySchema,
  paused: z.boolean(),
  nextFireTimes: z.array(TimestampSchema),
  lastFireAt: TimestampSchema.nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
});
export type Schedule = z.infer<typeof ScheduleSchema>;
export const ScheduleListSchema = z.object({ items: z.array(ScheduleSchema) });
export const ScheduleCreateSchema = z
  .object({
    cron: z.string().min(1).max(200),
    timezone: z.string().min(1).max(100).default('UTC'),
    params: z.record(z.string(), z.unknown()).default({}),
    missedPolicy: MissedPolicySchema.default('skip'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(3600),
  })
  .strict();
export type ScheduleCreate = z.input<typeof ScheduleCreateSchema>;
export const ScheduleUpdateSchema = ScheduleCreateSchema.partial().extend({ paused: z.boolean().optional() }).strict();
