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
