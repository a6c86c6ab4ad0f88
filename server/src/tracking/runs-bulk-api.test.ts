// What a runs table needs beyond one page: the total a search matches, and one call that deletes,
// restores or tags a whole selection.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`run totals and bulk actions on ${dialect}`, () => {
    let s: TestServer;
    let exp: string;
    const runs: string[] = [];
    const call = (method: string, path: string, body?: unknown, token?: string) => http(s.url, method, path, { token: token ?? s.adminToken, body });
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    const search = (body: Record<string, unknown>) => ok('POST', '/api/v1/runs/search', { experimentIds: [exp], ...body });
    const names = async (body: Record<string, unknown>) => (await search({ maxResults: 100, ...body })).runs.map((r: any) => r.info.runName).sort();

    before(async () => {
      s = await startTestServer({ dialect });
      exp = (await ok('POST', '/api/v1/experiments', { name: 'bulk' })).experimentId;
      for (let i = 0; i < 7; i++) {
        const run = (await ok('POST', '/api/v1/runs', { experimentId: exp, runName: `r${i}`, startTime: 1_700_000_000_000 + i })).info.runId;
        runs.push(run);
        await ok('POST', `/api/v1/runs/${run}/batch`, { params: [{ key: 'lr', value: String(i % 2) }] });
      }
    });
    after(() => s.close());

    test('includeTotal counts every match of the filter across pages, only when asked', async () => {
      const first = await search({ maxResults: 3, includeTotal: true });
      assert.equal(first.runs.length, 3);
      assert.equal(first.total, 7);
      assert.ok(first.nextPageToken);
      assert.equal((await search({ maxResults: 3 })).total, undefined);
      const filtered = await search({ maxResults: 2, includeTotal: true, filter: "params.lr = '1'" });
      assert.equal(filtered.total, 3);
      assert.equal((await search({ maxResults: 2, includeTotal: true, filter: "params.lr = 'none'" })).total, 0);
      const bad = await call('POST', '/api/v1/runs/search', { experimentIds: [exp], includeTotal: true, filter: 'metrics.acc >' });
      assert.equal(bad.status, 400, bad.text);
    });

    test('delete, restore and tag many runs in one call; deletes and restores are audited per run', async () => {
      const chosen = runs.slice(0, 3);
      assert.deepEqual(await ok('POST', '/api/v1/runs/bulk', { action: 'delete', runIds: chosen }), { updated: 3 });
      assert.deepEqual(await names({ viewType: 'DELETED_ONLY' }), ['r0', 'r1', 'r2']);
      assert.equal((await search({ includeTotal: true })).total, 4);
      const audit = (await ok('GET', '/api/v1/audit?action=run.delete&limit=100')).items;
      for (const id of chosen)
        assert.ok(
          audit.some((e: any) => e.resourceId === id && e.details?.bulk === true),
          `no audit for ${id}`,
        );

      assert.deepEqual(await ok('POST', '/api/v1/runs/bulk', { action: 'restore', runIds: chosen.slice(0, 2) }), { updated: 2 });
      assert.deepEqual(await names({ viewType: 'DELETED_ONLY' }), ['r2']);
      assert.ok((await ok('GET', '/api/v1/audit?action=run.restore&limit=100')).items.some((e: any) => e.resourceId === chosen[0]));

      // A repeated id counts once.
      const tagged = await ok('POST', '/api/v1/runs/bulk', { action: 'setTag', runIds: [runs[3], runs[4], runs[3]], key: 'review', value: 'keep' });
      assert.deepEqual(tagged, { updated: 2 });
      assert.deepEqual(await names({ filter: "tags.review = 'keep'" }), ['r3', 'r4']);
      await ok('POST', '/api/v1/runs/bulk', { action: 'setTag', runIds: [runs[4]], key: 'review', value: 'drop' });
      assert.deepEqual(await names({ filter: "tags.review = 'keep'" }), ['r3']);
    });

    test('bad input is a 400, unknown runs and runs of a group the caller cannot edit a 404, and nothing changes', async () => {
      const expect = async (body: unknown, status: number, message: RegExp, token?: string) => {
        const r = await call('POST', '/api/v1/runs/bulk', body, token);
        assert.equal(r.status, status, r.text);
        assert.match(r.body.error.message, message);
      };
      await expect({ action: 'delete', runIds: [] }, 400, /at least one run/);
      await expect({ action: 'delete', runIds: Array.from({ length: 1001 }, (_, i) => `r${i}`) }, 400, /at most 1000/);
      await expect({ action: 'explode', runIds: [runs[5]] }, 400, /action/);
      await expect({ action: 'setTag', runIds: [runs[5]] }, 400, /key/);
      await expect({ action: 'delete', runIds: ['bad id!'] }, 400, /run_id/);
      await expect({ action: 'delete', runIds: [runs[5], 'feedfacefeedface'] }, 404, /feedfacefeedface/);
      assert.equal((await names({ viewType: 'DELETED_ONLY' })).includes('r5'), false, 'a failed bulk call changes nothing');
      // Tags go on live runs only, as a single tag does.
      await expect({ action: 'setTag', runIds: [runs[2]!], key: 'k', value: 'v' }, 400, /deleted/);

      await ok('POST', '/api/v1/users', { username: 'bulk-outsider', password: 'outsider-password-1' });
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'bulk-outsider', password: 'outsider-password-1' } })).body.token;
      // A viewer of the group may look but not change: 403, as for one run.
      await expect({ action: 'delete', runIds: [runs[6]] }, 403, /./, token);
      await ok('POST', '/api/v1/groups', { name: 'bulk-elsewhere' });
      const inGroup = { token: s.adminToken, headers: { 'x-forja-group': 'bulk-elsewhere' } };
      const privateExp = (await http(s.url, 'POST', '/api/v1/experiments', { ...inGroup, body: { name: 'private' } })).body.experimentId;
      const privateRun = (await http(s.url, 'POST', '/api/v1/runs', { ...inGroup, body: { experimentId: privateExp } })).body.info.runId;
      await expect({ action: 'delete', runIds: [privateRun] }, 404, new RegExp(privateRun), token);
      assert.equal((await http(s.url, 'POST', '/api/v1/runs/bulk', { body: { action: 'delete', runIds: [runs[6]] } })).status, 401);
      assert.deepEqual(await names({ viewType: 'DELETED_ONLY' }), ['r2']);
    });
  });
}
