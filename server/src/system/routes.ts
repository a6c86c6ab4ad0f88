import { HealthSchema, ReadySchema, SandboxStatusSchema, SystemOverviewSchema, VersionSchema } from '@forja/contracts';
import { appliedMigration, latestMigration } from '../db/migrate.js';
import type { App } from '../http/types.js';
import type { Db } from '../db/database.js';
import type { Sandbox } from '../runtime/sandbox.js';
import type { SystemOverviewService } from './overview.js';

export function registerSystemRoutes(app: App, services: { db: Db; sandbox: Sandbox; overview: SystemOverviewService }, version: string): void {
  const pub = { auth: { public: true } } as const;

  app.get('/health', { config: pub, schema: { tags: ['system'], summary: 'Liveness: the process answers', response: { 200: HealthSchema } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/ready',
    {
      config: pub,
      schema: { tags: ['system'], summary: 'Readiness: database reachable and migrations applied', response: { 200: ReadySchema, 503: ReadySchema } },
    },
    async (_request, reply) => {
      const reachable = await services.db.ping();
      const applied = reachable ? await appliedMigration(services.db).catch(() => null) : null;
      const ready = reachable && applied === latestMigration;
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        database: { dialect: services.db.dialect, reachable, migrations: applied ?? 'none' },
      });
    },
  );

  app.get('/api/v1/version', { config: pub, schema: { tags: ['system'], summary: 'Server version', response: { 200: VersionSchema } } }, async () => ({
    version,
    api: 'v1' as const,
    node: process.version,
    database: services.db.dialect,
  }));

  app.get(
    '/api/v1/system/sandbox',
    {
      config: { auth: { admin: true } },
      schema: { tags: ['system'], summary: 'How this server runs user code (system administrators)', response: { 200: SandboxStatusSchema } },
    },
    async () => ({ ...services.sandbox.status, reason: services.sandbox.status.reason ?? null }),
  );

  app.get(
    '/api/v1/admin/system',
    {
      config: { auth: { admin: true } },
      schema: {
        tags: ['system'],
        summary: 'Version, storage sizes, job queue, workers, disk and sandbox of this server (system administrators)',
        response: { 200: SystemOverviewSchema },
      },
    },
    () => services.overview.read(),
  );
}
