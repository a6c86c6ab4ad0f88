import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`metric histories of many runs on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, path: string, body?: unknown, token?: string) => http(s.url, method, path, { token: token ?? s.adminToken, body });
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    let exp: string;
    const runs: string[] = [];

    before(async () => {
      s = await startTestServer({ dialect });
      exp = (await ok('POST', '/api/v1/experiments', { name: 'histories' })).experimentId;
      for (let i = 0; i < 3; i++) {
        const run = (await ok('POST', '/api/v1/runs', { experimentId: exp })).info.runId;
        runs.push(run);
        // Run i logs 10 × (i + 1) steps of loss; the last run logs no loss at all.
        const steps = i === 2 ? 0 : 10 * (i + 1);
        await ok('POST', `/api/v1/runs/${run}/batch`, {
          metrics: [
            ...Array.from({ length: steps }, (_, step) => ({ key: 'loss', value: i + 1 / (step + 1), timestamp: 1000 + step, step })),
            { key: 'acc', value: 0.5, timestamp: 1000, step: 0 },
          ],
        });
      }
    });
    after(() => s.close());

    test('each run in the order asked, sampled to maxResults points with its last point kept; runs without the key are left out', async () => {
      const got = await ok('POST', '/api/v1/runs/metric-histories', { runIds: [runs[1], runs[2], runs[0], runs[1]], key: 'loss', maxResults: 5 });
      assert.deepEqual(
        got.histories.map((h: any) => h.runId),
        [runs[1], runs[0]],
      );
      const [second, first] = got.histories;
      assert.equal(second.metrics.length, 5);
      assert.deepEqual(
        first.metrics.map((m: any) => m.step),
        [0, 2, 4, 6, 9],
      );
      assert.equal(second.metrics.at(-1).step, 19);
      assert.equal(second.metrics.at(-1).value, 1 + 1 / 20);
      assert.equal(first.metrics[0].key, 'loss');

      const whole = await ok('POST', '/api/v1/runs/metric-histories', { runIds: [runs[0]], key: 'loss' });
      assert.equal(whole.histories[0].metrics.length, 10);
    });

    test('bad input is a 400 that says what to change; runs of groups the caller cannot read give nothing', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ runIds: [], key: 'loss' }, /at least one run/],
        [{ runIds: Array.from({ length: 101 }, (_, i) => `r${i}`), key: 'loss' }, /at most 100 runs/],
        [{ runIds: [runs[0]], key: 'loss', maxResults: 0 }, /maxResults/],
        [{ runIds: [runs[0]], key: 'loss', maxResults: 2501 }, /maxResults/],
        [{ runIds: [runs[0]] }, /key/],
      ];
      for (const [body, message] of cases) {
        const r = await call('POST', '/api/v1/runs/metric-histories', body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.match(JSON.stringify(r.body.error), message);
      }
      assert.deepEqual(await ok('POST', '/api/v1/runs/metric-histories', { runIds: ['no-such-run'], key: 'loss' }), { histories: [] });

      // A run in a group the outsider is no member of.
      await ok('POST', '/api/v1/groups', { name: 'elsewhere' });
      const inGroup = { token: s.adminToken, headers: { 'x-forja-group': 'elsewhere' } };
      const privateExp = (await http(s.url, 'POST', '/api/v1/experiments', { ...inGroup, body: { name: 'private-histories' } })).body.experimentId;
      const privateRun = (await http(s.url, 'POST', '/api/v1/runs', { ...inGroup, body: { experimentId: privateExp } })).body.info.runId;
      await ok('POST', `/api/v1/runs/${privateRun}/batch`, { metrics: [{ key: 'loss', value: 1, timestamp: 1000, step: 0 }] });
      assert.equal((await ok('POST', '/api/v1/runs/metric-histories', { runIds: [privateRun], key: 'loss' })).histories.length, 1);
      await ok('POST', '/api/v1/users', { username: 'outsider', password: 'outsider-password-1' });
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'outsider', password: 'outsider-password-1' } })).body.token;
      const other = await call('POST', '/api/v1/runs/metric-histories', { runIds: [privateRun], key: 'loss' }, token);
      assert.equal(other.status, 200, other.text);
      assert.deepEqual(other.body, { histories: [] });
    });
  });
}
