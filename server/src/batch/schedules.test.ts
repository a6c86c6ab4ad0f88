import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../testing/databases.js';
import { http, until } from '../testing/server.js';

const TOKEN = 'schedules-admin-token-0123456789';

/** `count` servers on one database, as a team outgrowing one machine would run them. */
async function startServers(db: TestDatabase, count: number): Promise<RunningServer[]> {
  const servers: RunningServer[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(
      await startServer(
        loadConfig(
          { FORJA_ADMIN_PASSWORD: 'schedules-password', FORJA_ADMIN_TOKEN: TOKEN, FORJA_WORKERS: '2' },
          { host: '127.0.0.1', port: 0, dataDir: db.dir, databaseUrl: db.url },
        ),
        { logger: false },
      ),
    );
  }
  return servers;
}

for (const dialect of DIALECTS) {
  describe(`schedules on ${dialect}`, () => {
    let db: TestDatabase;
    let servers: RunningServer[];
    const call = (method: string, p: string, body?: unknown) => http(servers[0]!.url, method, p, { token: TOKEN, body });

    before(async () => {
      db = await createTestDatabase(dialect);
      // SQLite is one server's database; PostgreSQL takes three at once.
      servers = await startServers(db, dialect === 'postgres' ? 3 : 1);
      await call('POST', '/api/v1/batch/projects', { name: 'ticker' });
      const fd = new FormData();
      fd.append('source', new Blob(['import os\nprint("tick", os.environ["FORJA_RUN_ID"])\n']), 'tick.py');
      const d = (await (
        await fetch(`${servers[0]!.url}/api/v1/batch/projects/ticker/deploys`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: fd })
      ).json()) as { buildJobId: string };
      assert.equal((await call('GET', `/api/v1/jobs/${d.buildJobId}?waitSeconds=60`)).body.status, 'succeeded');
    });
    after(async () => {
      for (const s of servers) await s.close();
      await db.drop();
    });

    test(`each tick fires exactly once${dialect === 'postgres' ? ' with 3 servers on one database' : ''}; next fire times; pause`, async () => {
      const created = await call('POST', '/api/v1/batch/projects/ticker/schedules', {
        cron: '* * * * * *',
        timezone: 'America/Sao_Paulo',
        params: { source: 'cron' },
      });
      assert.equal(created.status, 201, created.text);
      const next: number[] = created.body.nextFireTimes;
      assert.equal(next.length, 5);
      assert.deepEqual(
        next.slice(1).map((t, i) => t - next[i]!),
        [1000, 1000, 1000, 1000],
      );
      const startedAt = Date.now();
      await new Promise((r) => setTimeout(r, 4200));
      await call('PATCH', `/api/v1/schedules/${created.body.id}`, { paused: true });
      const stoppedAt = Date.now();
      const runs = await until('the runs to finish', async () => {
        const items = (await call('GET', '/api/v1/batch/projects/ticker/runs')).body.items as Array<{ status: string; trigger: string; params: unknown }>;
        return items.every((r) => r.status === 'succeeded') ? items : undefined;
      });
      const ticks = await servers[0]!.services.db.kysely.selectFrom('jobs').select('dedupe_key').where('kind', '=', 'batch.run').execute();
      const keys = ticks.map((t) => t.dedupe_key!);
      assert.equal(new Set(keys).size, keys.length, 'no tick made two runs');
      assert.equal(runs.length, keys.length);
      const seconds = keys.map((k) => Number(k.split(':')[2]) / 1000).sort((a, b) => a - b);
      assert.ok(
        seconds.length >= 3 && seconds.length <= Math.ceil((stoppedAt - startedAt) / 1000) + 1,
        `${seconds.length} ticks in ${stoppedAt - startedAt} ms`,
      );
      assert.deepEqual(
        seconds.slice(1).map((s, i) => s - seconds[i]!),
        Array(seconds.length - 1).fill(1),
        'one run for every second, none missing',
      );
      assert.ok(runs.every((r) => r.trigger === 'schedule'));
      assert.deepEqual(runs[0]!.params, { source: 'cron' });
      const paused = (await call('GET', '/api/v1/schedules')).body.items[0];
      assert.equal(paused.paused, true);
      assert.deepEqual(paused.nextFireTimes, []);
      await new Promise((r) => setTimeout(r, 1500));
      // A server that read the schedule just before the pause may still fire a tick that fell due
      // before it (CI's loaded machine showed one); no tick due after the pause was answered fires.
      const later = await servers[0]!.services.db.kysely.selectFrom('jobs').select('dedupe_key').where('kind', '=', 'batch.run').execute();
      const afterPause = later.map((t) => Number(t.dedupe_key!.split(':')[2])).filter((ms) => ms > stoppedAt);
      assert.deepEqual(afterPause, [], 'a paused schedule fires nothing');
    });

    test('a missed tick is skipped or run once, by policy', async () => {
      const k = servers[0]!.services.db.kysely;
      for (const policy of ['skip', 'run_once'] as const) {
        const s = (await call('POST', '/api/v1/batch/projects/ticker/schedules', { cron: '0 3 * * *', missedPolicy: policy })).body;
        const before = (await k.selectFrom('jobs').select('id').where('dedupe_key', 'like', `schedule:${s.id}:%`).execute()).length;
        // As if every server was down for the last three nightly ticks.
        await k
          .updateTable('schedules')
          .set({ next_fire_at: Date.now() - 3 * 86_400_000 })
          .where('id', '=', s.id)
          .execute();
        await until('the schedule to move on', async () => {
          const row = await k.selectFrom('schedules').select('next_fire_at').where('id', '=', s.id).executeTakeFirstOrThrow();
          return row.next_fire_at! > Date.now() ? true : undefined;
        });
        const fired = (await k.selectFrom('jobs').select('id').where('dedupe_key', 'like', `schedule:${s.id}:%`).execute()).length - before;
        assert.equal(fired, policy === 'skip' ? 0 : 1, policy);
        await call('DELETE', `/api/v1/schedules/${s.id}`);
      }
    });

    test('bad input: invalid cron and time zone are 400 with the reason; unknown project 404', async () => {
      const cron = await call('POST', '/api/v1/batch/projects/ticker/schedules', { cron: '61 * * * *' });
      assert.equal(cron.status, 400);
      assert.match(cron.body.error.message, /Invalid cron "61 \* \* \* \*": Invalid value for minute: 61/);
      const tz = await call('POST', '/api/v1/batch/projects/ticker/schedules', { cron: '* * * * *', timezone: 'Mars/Olympus' });
      assert.equal(tz.status, 400);
      assert.match(tz.body.error.message, /Unknown time zone "Mars\/Olympus"/);
      assert.equal((await call('POST', '/api/v1/batch/projects/nope/schedules', { cron: '* * * * *' })).status, 404);
      assert.equal((await call('PATCH', '/api/v1/schedules/nope', { paused: true })).status, 404);
    });
  });
}
