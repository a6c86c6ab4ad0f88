import { z } from 'zod';
import { PageQuerySchema, TimestampSchema, pageOf } from './common.js';

export const JobStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatusSchema>;
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** What a job works for, so a list of jobs can link each to its page. */
export const JobOwnerSchema = z.object({
  /**
   * deployment (its builds and executions), project (a batch project's builds and runs),
   * pipeline_run, training_run, monitor_run, lake_table (a batch scoring's output table),
   * webhook (its deliveries).
   */
  type: z.enum(['deployment', 'project', 'pipeline_run', 'training_run', 'monitor_run', 'lake_table', 'webhook']),
  id: z.string(),
  /** The owner's name as its page shows it: the deployment's, the project's, the pipeline's of a run, the monitor's of a run… */
  name: z.string(),
  /** The object the owner belongs to when its page's address needs it: a monitor run's monitor. */
  parentId: z.string().nullable(),
});
export type JobOwner = z.infer<typeof JobOwnerSchema>;

export const JobSchema = z.object({
  id: z.string(),
  group: z.string().nullable(),
  kind: z.string(),
  queue: z.string(),
  status: JobStatusSchema,
  params: z.record(z.string(), z.unknown()),
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  /** The attempt under way or last made; 0 while it has never started. */
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  timeoutMs: z.number().int(),
  priority: z.number().int(),
  runAt: TimestampSchema,
  workerId: z.string().nullable(),
  heartbeatAt: TimestampSchema.nullable(),
  cancelRequested: z.boolean(),
  /** What the job last reported of its progress, e.g. { done: 40, total: 100, message: "…" }. */
  progress: z.unknown().nullable(),
  createdBy: z.string().nullable(),
  createdAt: TimestampSchema,
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
  /** What the job works for; null for kinds that belong to nothing (or whose owner was deleted). */
  owner: JobOwnerSchema.nullable(),
});
export type Job = z.infer<typeof JobSchema>;

export const JobPageSchema = pageOf(JobSchema);

export const JobListQuerySchema = PageQuerySchema.extend({
  status: JobStatusSchema.optional(),
  kind: z.string().max(100).optional(),
}).strict();

export const JobLogLineSchema = z.object({
  seq: z.number().int(),
  attempt: z.number().int(),
  ts: TimestampSchema,
  stream: z.enum(['stdout', 'stderr', 'system']),
  line: z.string(),
});
export type JobLogLine = z.infer<typeof JobLogLineSchema>;

/** Log lines are numbered in a 32-bit column. */
const MAX_LOG_SEQ = 2_147_483_647;

export const JobLogsQuerySchema = z
  .object({
    /** Lines after this sequence number: pass back `next` to tail. */
    after: z.coerce.number().int().min(0).max(MAX_LOG_SEQ, 'no job has that many log lines').default(0),
    limit: z.coerce.number().int().min(1).max(5000).default(1000),
  })
  .strict();

export const JobLogsSchema = z.object({
  lines: z.array(JobLogLineSchema),
  /** The `after` to ask with next time. */
  next: z.number().int(),
  /** True once the job is finished and every line has been read. */
  complete: z.boolean(),
});
export type JobLogs = z.infer<typeof JobLogsSchema>;

export const WorkerSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  mode: z.enum(['embedded', 'standalone']),
  concurrency: z.number().int(),
  version: z.string(),
  running: z.array(z.string()),
  startedAt: TimestampSchema,
  lastSeenAt: TimestampSchema,
  stoppedAt: TimestampSchema.nullable(),
  alive: z.boolean(),
});
export type Worker = z.infer<typeof WorkerSchema>;
export const WorkerListSchema = z.object({ workers: z.array(WorkerSchema) });
