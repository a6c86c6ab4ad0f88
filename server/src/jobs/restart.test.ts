import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import type { Services } from '../services.js';
import { createTestDatabase, DIALECTS } from '../testing/databases.js';

const JOBS = 1000;

for (const dialect of DIALECTS) {
  describe(`job engine restarts on ${dialect}`, () => {
    test(`a server stopped with ${JOBS} jobs queued and some running: after the restart none is lost and none completes twice`, {
      timeout: 120_000,
    }, async () => {
      const db = await createTestDatabase(dialect);
      const completions = new Map<string, number>();
      // A job's effect is committed only when it was not interrupted, as a real job's final write would be.
      const register = (services: Services) =>
        services.engine.register('test.work', async (ctx) => {
          await new Promise((r) => setTimeout(r, 2));
          if (ctx.signal.aborted) throw ctx.signal.reason;
          completions.set(ctx.job.id, (completions.get(ctx.job.id) ?? 0) + 1);
        });
      const start = (workers: number) =>
        startServer(
          loadConfig(
            { FORJA_ADMIN_PASSWORD: 'restart-password', FORJA_WORKERS: String(workers) },
            { host: '127.0.0.1', port: 0, dataDir: db.dir, databaseUrl: db.url },
          ),
          { logger: false, beforeStart: register },
        );
      let server: RunningServer | undefined;
      try {
        server = await start(0);
        const groupId = (await server.services.authStore.getGroupByName('default'))!.id;
        const ids: string[] = [];
        for (let i = 0; i < JOBS; i++) ids.push((await server.services.engine.enqueue({ groupId, kind: 'test.work', params: { i } }))!.id);
        await server.close();

        // Start working, then stop part-way through with jobs in flight.
        server = await start(4);
        while (completions.size < JOBS / 5) await new Promise((r) => setTimeout(r, 5));
        await server.close();
        const before = completions.size;
        assert.ok(before < JOBS, 'the first run was interrupted before it finished');

        server = await start(4);
        const k = server.services.db.kysely;
        const count = async (status: 'succeeded' | 'failed') =>
          Number(
            (
              await k
                .selectFrom('jobs')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .where('status', '=', status)
                .executeTakeFirstOrThrow()
            ).n,
          );
        const deadline = Date.now() + 90_000;
        while ((await count('succeeded')) < JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal(await count('succeeded'), JOBS);
        assert.equal(await count('failed'), 0);
        assert.deepEqual([...completions.keys()].sort(), [...ids].sort(), 'every queued job ran');
        assert.deepEqual(
          [...completions.values()].filter((n) => n !== 1),
          [],
          'no job completed twice',
        );
      } finally {
        await server?.close();
        await db.drop();
      }
    });
  });
}
