import { z } from 'zod';

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
