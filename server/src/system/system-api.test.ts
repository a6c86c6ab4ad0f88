import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { SystemOverviewSchema } from '@forja/contracts';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const ARTIFACT_BYTES = 123_457;

for (const dialect of DIALECTS) {
  describe(`the system overview on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, p: string, body?: unknown, token: string | null = s.adminToken) =>
      http(s.url, method, p, { ...(token ? { token } : {}), body });
    const overview = async () => {
      const r = await call('GET', '/api/v1/admin/system');
      assert.equal(r.status, 200, r.text);
      return SystemOverviewSchema.parse(r.body);
    };

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(async () => {
      await s.close();
    });

    test('system administrators only: 401 without a token, 403 for a member', async () => {
      assert.equal((await call('GET', '/api/v1/admin/system', undefined, null)).status, 401);
      await call('POST', '/api/v1/users', { username: 'member', password: 'member-password-1' });
      await call('PUT', '/api/v1/groups/default/members/member', { role: 'admin' });
      const member = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'member', password: 'member-password-1' } })).body.token;
      const refused = await call('GET', '/api/v1/admin/system', undefined, member);
      assert.equal(refused.status, 403, refused.text);
    });

    test('sizes are measured: the database, the lake and the artifact store grow with what is written', async () => {
      const before = await overview();
      assert.equal(before.database.dialect, dialect);
      assert.equal(before.lake.engine, dialect === 'postgres' ? 'postgres' : 'duckdb');
      assert.ok(before.database.sizeBytes > 0 && before.lake.sizeBytes >= 0, JSON.stringify(before));
      assert.equal(before.artifacts.complete, true);

      // An artifact of a known size, a thousand metrics, a lake table of a few thousand rows.
      const exp = await call('POST', '/api/v1/experiments', { name: 'sizes' });
      const run = await call('POST', '/api/v1/runs', { experimentId: exp.body.experimentId });
      assert.equal(run.status, 201, run.text);
      const runId = run.body.info.runId;
      const put = await http(s.url, 'PUT', `/api/v1/runs/${runId}/artifacts/file?path=blob.bin`, {
        token: s.adminToken,
        rawBody: Buffer.alloc(ARTIFACT_BYTES, 7),
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.ok(put.status < 300, put.text);
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: `metric_with_a_long_name_${i}`, value: i, timestamp: Date.now(), step: i }));
      const logged = await call('POST', `/api/v1/runs/${runId}/batch`, { metrics });
      assert.ok(logged.status < 300, logged.text);
      const rows = Array.from({ length: 5000 }, (_, i) => `${i},row number ${i} with some text`).join('\n');
      const lake = await http(s.url, 'POST', '/api/v1/lake/tables/sized/rows', {
        token: s.adminToken,
        rawBody: `id,label\n${rows}\n`,
        headers: { 'content-type': 'text/csv' },
      });
      assert.equal(lake.status, 201, lake.text);

      const after = await overview();
      assert.equal(after.artifacts.bytes - before.artifacts.bytes, ARTIFACT_BYTES);
      assert.equal(after.artifacts.files - before.artifacts.files, 1);
      assert.ok(after.database.sizeBytes > before.database.sizeBytes, `database ${before.database.sizeBytes} → ${after.database.sizeBytes}`);
      assert.ok(after.lake.sizeBytes > before.lake.sizeBytes, `lake ${before.lake.sizeBytes} → ${after.lake.sizeBytes}`);
    });

    test('the disk of the data directory, the queue and the workers, as the server sees them', async () => {
      const failing = await s.server.services.engine.enqueue({ kind: 'test.nobody-runs-this', groupId: null, params: {} });
      const done = await call('GET', `/api/v1/jobs/${failing!.id}?waitSeconds=30`);
      assert.equal(done.body.status, 'failed', done.text);

      const o = await overview();
      const fs = await statfs(s.dataDir);
      assert.equal(o.disk.path, s.dataDir);
      assert.equal(o.disk.totalBytes, fs.blocks * fs.bsize);
      assert.ok(o.disk.freeBytes > 0 && o.disk.freeBytes <= o.disk.totalBytes);
      assert.ok(o.jobs.failedLastDay >= 1, JSON.stringify(o.jobs));
      const workers = (await call('GET', '/api/v1/workers')).body.workers as Array<{ alive: boolean; concurrency: number; running: string[] }>;
      const alive = workers.filter((w) => w.alive);
      assert.ok(alive.length >= 1);
      assert.deepEqual(o.workers, {
        seen: workers.length,
        alive: alive.length,
        slots: alive.reduce((n, w) => n + w.concurrency, 0),
        busy: alive.reduce((n, w) => n + w.running.length, 0),
      });
      assert.ok(o.uptimeSeconds > 0 && o.startedAt <= o.measuredAt);
      assert.equal(o.version, (await call('GET', '/api/v1/version')).body.version);
      assert.deepEqual(o.sandbox, (await call('GET', '/api/v1/system/sandbox')).body);
    });
  });
}
