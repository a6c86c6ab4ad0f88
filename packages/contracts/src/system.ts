import { z } from 'zod';
import { TimestampSchema } from './common.js';

export const HealthSchema = z.object({ status: z.literal('ok') });
export const ReadySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  database: z.object({ dialect: z.enum(['sqlite', 'postgres']), reachable: z.boolean(), migrations: z.string() }),
});
export const VersionSchema = z.object({
  version: z.string(),
  api: z.literal('v1'),
  node: z.string(),
  database: z.enum(['sqlite', 'postgres']),
});
export type Version = z.infer<typeof VersionSchema>;

/** How the server runs user code: `bwrap` sandboxed; `off` unsandboxed by an admin's choice; `unavailable` refused. */
export const SandboxStatusSchema = z.object({
  mode: z.enum(['bwrap', 'off', 'unavailable']),
  reason: z.string().nullable(),
  /** Each group's code runs as a user of its own (a root server). */
  perGroupUsers: z.boolean(),
});
export type SandboxStatus = z.infer<typeof SandboxStatusSchema>;

/** A size measured by walking a directory; the walk stops after a time budget, so a huge tree answers at least a lower bound. */
export const DirectorySizeSchema = z.object({
  bytes: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  /** False when the walk ran out of time: bytes and files are then what it had counted. */
  complete: z.boolean(),
});
export type DirectorySize = z.infer<typeof DirectorySizeSchema>;

/** What a system administrator checks first: the server, its storage, its queue and its workers. */
export const SystemOverviewSchema = z.object({
  version: z.string(),
  node: z.string(),
  /** Seconds since this server process started. */
  uptimeSeconds: z.number().nonnegative(),
  startedAt: TimestampSchema,
  database: z.object({ dialect: z.enum(['sqlite', 'postgres']), sizeBytes: z.number().int().nonnegative() }),
  /** As the lake's engine counts it: the DuckDB file's blocks, or the PostgreSQL lake schema's relations. */
  lake: z.object({ engine: z.enum(['duckdb', 'postgres']), sizeBytes: z.number().int().nonnegative() }),
  artifacts: DirectorySizeSchema,
  jobs: z.object({
    queued: z.number().int().nonnegative(),
    running: z.number().int().nonnegative(),
    /** Jobs that failed in the last 24 hours. */
    failedLastDay: z.number().int().nonnegative(),
  }),
  workers: z.object({
    /** Workers seen in the last 24 hours. */
    seen: z.number().int().nonnegative(),
    alive: z.number().int().nonnegative(),
    /** Jobs the alive workers can run at once. */
    slots: z.number().int().nonnegative(),
    /** Jobs the alive workers are running now. */
    busy: z.number().int().nonnegative(),
  }),
  /** The file system holding the data directory. */
  disk: z.object({ path: z.string(), freeBytes: z.number().int().nonnegative(), totalBytes: z.number().int().nonnegative() }),
  sandbox: SandboxStatusSchema,
  measuredAt: TimestampSchema,
});
export type SystemOverview = z.infer<typeof SystemOverviewSchema>;
