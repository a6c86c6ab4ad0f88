import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`an experiment's columns on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, path: string, body?: unknown, token?: string) => http(s.url, method, path, { token: token ?? s.adminToken, body });
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.close());

    test('every key of the active runs, newest first, with how many runs have it and how many values; deleted runs do not count', async () => {
      const exp = (await ok('POST', '/api/v1/experiments', { name: 'columns' })).experimentId;
      const t0 = 1_700_000_000_000;
      const runs: string[] = [];
      for (let i = 0; i < 4; i++) {
        const run = (await ok('POST', '/api/v1/runs', { experimentId: exp, startTime: t0 + i * 1000, tags: [{ key: 'team', value: 'a' }] })).info.runId;
        runs.push(run);
        await ok('POST', `/api/v1/runs/${run}/batch`, {
          params: [
            { key: 'lr', value: String(0.1 * (i + 1)) },
            { key: 'optimizer', value: 'adam' },
          ],
          metrics: [
            { key: 'acc', value: i / 10, timestamp: t0 + i * 1000, step: 0 },
            // Logged later than acc by every run: the newest key comes first.
            ...(i % 2 === 0 ? [{ key: 'loss', value: 1, timestamp: t0 + 10_000 + i, step: 0 }] : []),
          ],
        });
      }
      const got = await ok('GET', `/api/v1/experiments/${exp}/columns`);
      assert.equal(got.runs, 4);
      assert.equal(got.truncated, false);
      assert.deepEqual(got.metrics, [
        { key: 'loss', runs: 2, distinct: 1, lastLogged: t0 + 10_002 },
        { key: 'acc', runs: 4, distinct: 4, lastLogged: t0 + 3000 },
      ]);
      assert.deepEqual(
        got.params.map((p: any) => [p.key, p.runs, p.distinct, p.lastLogged]),
        [
          ['lr', 4, 4, t0 + 3000],
          ['optimizer', 4, 1, t0 + 3000],
        ],
      );
      const team = got.tags.find((t: any) => t.key === 'team');
      assert.deepEqual(team, { key: 'team', runs: 4, distinct: 1, lastLogged: t0 + 3000 });

      await ok('DELETE', `/api/v1/runs/${runs[3]}`);
      const after = await ok('GET', `/api/v1/experiments/${exp}/columns`);
      assert.equal(after.runs, 3);
      assert.deepEqual(
        after.metrics.find((m: any) => m.key === 'acc'),
        { key: 'acc', runs: 3, distinct: 3, lastLogged: t0 + 2000 },
      );

      const empty = (await ok('POST', '/api/v1/experiments', { name: 'columns-empty' })).experimentId;
      assert.deepEqual(await ok('GET', `/api/v1/experiments/${empty}/columns`), { runs: 0, metrics: [], params: [], tags: [], truncated: false });
    });

    test('bad ids are a 400, unknown ones and other groups a 404', async () => {
      const bad = await call('GET', '/api/v1/experiments/not-a-number/columns');
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.body.error.message, /whole numbers/);
      assert.equal((await call('GET', '/api/v1/experiments/987654/columns')).status, 404);
      await ok('POST', '/api/v1/users', { username: 'outsider', password: 'outsider-password-1' });
      await ok('POST', '/api/v1/groups', { name: 'elsewhere' });
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'outsider', password: 'outsider-password-1' } })).body.token;
      const created = await http(s.url, 'POST', '/api/v1/experiments', {
        token: s.adminToken,
        body: { name: 'private-columns' },
        headers: { 'x-forja-group': 'elsewhere' },
      });
      assert.equal(created.status, 201, created.text);
      const exp = created.body.experimentId;
      assert.equal((await call('GET', `/api/v1/experiments/${exp}/columns`, undefined, token)).status, 404);
      assert.equal((await http(s.url, 'GET', `/api/v1/experiments/${exp}/columns`)).status, 401);
    });
  });
}
