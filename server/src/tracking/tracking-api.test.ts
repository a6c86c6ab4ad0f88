import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`tracking over the native API on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, path: string, body?: unknown, token?: string) => http(s.url, method, path, { token: token ?? s.adminToken, body });

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.close());

    async function newRun(experimentId: string, runName?: string) {
      const r = await call('POST', '/api/v1/runs', { experimentId, runName });
      assert.equal(r.status, 201, r.text);
      return r.body.info.runId as string;
    }

    test('the Default experiment 0 exists; experiments are created, named uniquely per group, tagged, renamed, deleted and restored', async () => {
      const zero = await call('GET', '/api/v1/experiments/0');
      assert.equal(zero.status, 200);
      assert.equal(zero.body.name, 'Default');
      const created = await call('POST', '/api/v1/experiments', { name: 'churn', tags: [{ key: 'team', value: 'growth' }] });
      assert.equal(created.status, 201);
      const id = created.body.experimentId;
      assert.match(id, /^[1-9]\d*$/);
      assert.equal(created.body.artifactLocation, `mlflow-artifacts:/${id}`);
      const dup = await call('POST', '/api/v1/experiments', { name: 'churn' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'ALREADY_EXISTS');
      assert.equal((await call('GET', '/api/v1/experiments/by-name/churn')).body.experimentId, id);
      assert.equal((await call('PUT', `/api/v1/experiments/${id}/tags/owner`, { value: 'ana' })).status, 200);
      assert.equal((await call('PATCH', `/api/v1/experiments/${id}`, { name: 'churn-v2' })).body.name, 'churn-v2');
      const got = await call('GET', `/api/v1/experiments/${id}`);
      assert.deepEqual(got.body.tags, [
        { key: 'owner', value: 'ana' },
        { key: 'team', value: 'growth' },
      ]);
      const runId = await newRun(id);
      assert.equal((await call('DELETE', `/api/v1/experiments/${id}`)).status, 200);
      assert.equal((await call('GET', `/api/v1/runs/${runId}`)).body.info.lifecycleStage, 'deleted', 'deleting an experiment deletes its runs');
      const cannot = await call('POST', '/api/v1/runs', { experimentId: id });
      assert.equal(cannot.status, 400);
      assert.match(cannot.body.error.message, /must be in the 'active' state/);
      assert.equal((await call('POST', `/api/v1/experiments/${id}/restore`)).status, 200);
      assert.equal((await call('GET', `/api/v1/runs/${runId}`)).body.info.lifecycleStage, 'active');
    });

    test('runs: name and tags, batches of metrics/params/tags, the latest metric by step, NaN and infinities', async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'batching' })).body.experimentId;
      const runId = await newRun(exp, 'first-try');
      const batch = await call('POST', `/api/v1/runs/${runId}/batch`, {
        params: [
          { key: 'lr', value: '0.01' },
          { key: 'model', value: 'rf' },
        ],
        tags: [
          { key: 'team', value: 'a' },
          { key: 'team', value: 'b' },
        ],
        metrics: [
          { key: 'loss', value: 0.9, timestamp: 1000, step: 0 },
          { key: 'loss', value: 0.5, timestamp: 900, step: 2 },
          { key: 'loss', value: 0.7, timestamp: 1100, step: 1 },
          { key: 'weird', value: 'NaN', timestamp: 1, step: 0 },
          { key: 'big', value: 'Infinity', timestamp: 1, step: 0 },
        ],
      });
      assert.equal(batch.status, 200, batch.text);
      const run = (await call('GET', `/api/v1/runs/${runId}`)).body;
      assert.equal(run.info.runName, 'first-try');
      assert.equal(run.info.status, 'RUNNING');
      const metrics = Object.fromEntries(run.data.metrics.map((m: { key: string; value: unknown; step: number }) => [m.key, [m.value, m.step]]));
      assert.deepEqual(metrics, { big: [1.7976931348623157e308, 0], loss: [0.5, 2], weird: ['NaN', 0] });
      assert.deepEqual(run.data.params, [
        { key: 'lr', value: '0.01' },
        { key: 'model', value: 'rf' },
      ]);
      assert.deepEqual(
        run.data.tags.find((t: { key: string }) => t.key === 'team'),
        { key: 'team', value: 'b' },
        'the last tag value wins',
      );
      const history = await call('GET', `/api/v1/runs/${runId}/metrics/loss/history`);
      assert.deepEqual(
        history.body.metrics.map((m: { step: number; value: number }) => [m.step, m.value]),
        [
          [0, 0.9],
          [1, 0.7],
          [2, 0.5],
        ],
      );
      const paged = await call('GET', `/api/v1/runs/${runId}/metrics/loss/history?maxResults=2`);
      assert.equal(paged.body.metrics.length, 2);
      const rest = await call('GET', `/api/v1/runs/${runId}/metrics/loss/history?maxResults=2&pageToken=${paged.body.nextPageToken}`);
      assert.deepEqual(
        rest.body.metrics.map((m: { step: number }) => m.step),
        [2],
      );
      assert.equal(rest.body.nextPageToken, undefined);

      const finished = await call('PATCH', `/api/v1/runs/${runId}`, { status: 'FINISHED', endTime: 5000 });
      assert.equal(finished.body.status, 'FINISHED');
      assert.equal(
        (await call('POST', `/api/v1/runs/${runId}/batch`, { metrics: [{ key: 'late', value: 1 }] })).status,
        200,
        'a finished run still accepts logging',
      );
    });

    test('params are immutable: the same value again is fine, a new value is a 400 and the batch changes nothing', async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'immutable' })).body.experimentId;
      const runId = await newRun(exp);
      await call('POST', `/api/v1/runs/${runId}/batch`, { params: [{ key: 'alpha', value: '1' }] });
      assert.equal((await call('POST', `/api/v1/runs/${runId}/batch`, { params: [{ key: 'alpha', value: '1' }] })).status, 200);
      const changed = await call('POST', `/api/v1/runs/${runId}/batch`, {
        params: [
          { key: 'alpha', value: '2' },
          { key: 'beta', value: 'x' },
        ],
        metrics: [{ key: 'm', value: 1 }],
      });
      assert.equal(changed.status, 400);
      assert.match(changed.body.error.message, /Changing param values is not allowed\. Param with key='alpha' was already logged with value='1'/);
      const run = (await call('GET', `/api/v1/runs/${runId}`)).body;
      assert.deepEqual(run.data.params, [{ key: 'alpha', value: '1' }]);
      assert.deepEqual(run.data.metrics, [], 'all-or-nothing');
      const dupInBatch = await call('POST', `/api/v1/runs/${runId}/batch`, {
        params: [
          { key: 'g', value: '1' },
          { key: 'g', value: '2' },
        ],
      });
      assert.equal(dupInBatch.status, 400);
    });

    test('writes to a deleted run are rejected; oversize batches and bad keys are 400s', async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'limits' })).body.experimentId;
      const runId = await newRun(exp);
      const big = await call('POST', `/api/v1/runs/${runId}/batch`, { metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, step: i })) });
      assert.equal(big.status, 400);
      assert.match(big.body.error.message, /at most 1000 metrics/);
      const tooMany = await call('POST', `/api/v1/runs/${runId}/batch`, { params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })) });
      assert.equal(tooMany.status, 400);
      const longParam = await call('POST', `/api/v1/runs/${runId}/batch`, { params: [{ key: 'p', value: 'x'.repeat(6001) }] });
      assert.equal(longParam.status, 400);
      assert.match(longParam.body.error.message, /6000/);
      assert.equal((await call('POST', `/api/v1/runs/${runId}/batch`, { params: [{ key: 'p', value: 'x'.repeat(6000) }] })).status, 200);
      const badKey = await call('POST', `/api/v1/runs/${runId}/batch`, { metrics: [{ key: '../etc/passwd', value: 1 }] });
      assert.equal(badKey.status, 400);
      await call('DELETE', `/api/v1/runs/${runId}`);
      const deleted = await call('POST', `/api/v1/runs/${runId}/batch`, { metrics: [{ key: 'm', value: 1 }] });
      assert.equal(deleted.status, 400);
      assert.match(deleted.body.error.message, /must be in the 'active' state\. Current state is deleted/);
      assert.equal((await call('GET', '/api/v1/runs/ffffffffffffffffffffffffffffffff')).status, 404);
      assert.equal((await call('GET', "/api/v1/runs/x'or'1'='1")).status, 400);
      assert.equal((await call('GET', '/api/v1/experiments/99999')).status, 404);
      assert.equal((await call('GET', '/api/v1/experiments/1%3B%20drop')).status, 400);
    });

    test('search: MLflow filters plus OR, parentheses, IS NULL and a projection; ordering and paging', async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'search' })).body.experimentId;
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const id = await newRun(exp, `run-${i}`);
        ids.push(id);
        const params = [
          { key: 'model', value: i % 2 ? 'rf' : 'xgb' },
          { key: 'depth', value: String(i) },
        ];
        const tags = i < 3 ? [{ key: 'stage', value: i === 0 ? 'Prod' : 'dev' }] : [];
        await call('POST', `/api/v1/runs/${id}/batch`, {
          params,
          tags,
          metrics: [
            { key: 'acc', value: i / 10 },
            { key: 'f1', value: 1 - i / 10 },
          ],
        });
      }
      const search = async (filter: string, extra: Record<string, unknown> = {}) => {
        const r = await call('POST', '/api/v1/runs/search', { experimentIds: [exp], filter, ...extra });
        assert.equal(r.status, 200, r.text);
        return r.body;
      };
      const names = (body: { runs: { info: { runName: string } }[] }) => body.runs.map((r) => r.info.runName);
      assert.deepEqual(names(await search("metrics.acc > 0.25 and params.model = 'rf'", { orderBy: ['metrics.acc DESC'] })), ['run-5', 'run-3']);
      assert.deepEqual(names(await search("metrics.acc < 0.15 OR (params.model = 'rf' AND metrics.f1 >= 0.85)", { orderBy: ['params.depth'] })), [
        'run-0',
        'run-1',
      ]);
      assert.deepEqual(names(await search('tags.stage IS NULL', { orderBy: ['attributes.run_name'] })), ['run-3', 'run-4', 'run-5']);
      assert.deepEqual(names(await search("tags.stage LIKE 'p%'")), [], 'LIKE is case-sensitive');
      assert.deepEqual(names(await search("tags.stage ILIKE 'p%'")), ['run-0']);
      assert.deepEqual(names(await search(`attributes.run_id IN ('${ids[1]}', '${ids[2]}')`, { orderBy: ['run_name ASC'] })), ['run-1', 'run-2']);
      assert.deepEqual(names(await search("NOT params.model = 'rf'", { orderBy: ['metrics.acc'] })), ['run-0', 'run-2', 'run-4']);
      assert.deepEqual(
        names(await search("metrics.`acc` != 0.1 and `Run Name` LIKE 'run-%' and status = 'RUNNING'", { orderBy: ['metrics.acc'], maxResults: 2 })),
        ['run-0', 'run-2'],
      );

      const projected = await search("params.model = 'rf'", { columns: ['metrics.acc', 'params.model'] });
      for (const run of projected.runs) {
        assert.deepEqual(
          run.data.metrics.map((m: { key: string }) => m.key),
          ['acc'],
        );
        assert.deepEqual(
          run.data.params.map((p: { key: string }) => p.key),
          ['model'],
        );
        assert.deepEqual(run.data.tags, []);
      }

      const pages: string[] = [];
      let token: string | undefined;
      do {
        const page = await search('', { maxResults: 4, orderBy: ['metrics.acc DESC'], ...(token ? { pageToken: token } : {}) });
        pages.push(...names(page));
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(pages, ['run-5', 'run-4', 'run-3', 'run-2', 'run-1', 'run-0']);
    });

    test('bad filters are 400s naming the position and token; injection-shaped input goes nowhere', async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'bad-filters' })).body.experimentId;
      await newRun(exp);
      const cases: [string, RegExp][] = [
        ["params.model = 'rf' AND", /position 23 near '<end>'/],
        ["params.model = 'x'; DROP TABLE runs; --", /position 18 near ';'/],
        ["metrics.acc > 'high'", /compare it with a number/],
        ['params.model > 3', /quote the value|strings/],
        ["colour = 'red'", /unknown run attribute 'colour'/],
        ["foo.bar = 'x'", /unknown entity 'foo'/],
        ["params.model = 'x' OR 1=1", /position 22/],
      ];
      for (const [filter, message] of cases) {
        const r = await call('POST', '/api/v1/runs/search', { experimentIds: [exp], filter });
        assert.equal(r.status, 400, `${filter}: ${r.text}`);
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
        assert.match(r.body.error.message, message, filter);
      }
      const quoted = await call('POST', '/api/v1/runs/search', { experimentIds: [exp], filter: "tags.x = '1'' OR ''1''=''1'" });
      assert.equal(quoted.status, 200);
      assert.deepEqual(quoted.body.runs, [], 'a quote inside a string is data, not SQL');
      assert.equal((await call('POST', '/api/v1/runs/search', { experimentIds: [exp], orderBy: ['metrics.acc sideways'] })).status, 400);
      assert.equal((await call('POST', '/api/v1/runs/search', { experimentIds: [exp], pageToken: 'garbage' })).status, 400);
      const expSearch = await call('POST', '/api/v1/experiments/search', { filter: "name LIKE 'bad-%' OR tags.team IS NOT NULL" });
      assert.equal(expSearch.status, 200);
      assert.ok(expSearch.body.experiments.some((e: { name: string }) => e.name === 'bad-filters'));
    });

    test("another group's experiments and runs are invisible: 404, not 403", async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'secret' })).body.experimentId;
      const runId = await newRun(exp);
      await call('POST', '/api/v1/users', { username: 'outsider', password: 'outsider-password' });
      await call('POST', '/api/v1/groups', { name: 'other-team' });
      await call('PUT', '/api/v1/groups/other-team/members/outsider', { role: 'editor' });
      await call('DELETE', '/api/v1/groups/default/members/outsider');
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'outsider', password: 'outsider-password' } })).body.token;
      const asOutsider = (method: string, path: string, body?: unknown) =>
        http(s.url, method, path, { token, body, headers: { 'x-forja-group': 'other-team' } });
      for (const [method, path, body] of [
        ['GET', `/api/v1/runs/${runId}`],
        ['POST', `/api/v1/runs/${runId}/batch`, { metrics: [{ key: 'x', value: 1 }] }],
        ['GET', `/api/v1/experiments/${exp}`],
        ['POST', '/api/v1/runs', { experimentId: exp }],
      ] as [string, string, unknown][]) {
        const r = await asOutsider(method, path, body);
        assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
      }
      const searched = await asOutsider('POST', '/api/v1/runs/search', { experimentIds: [exp] });
      assert.deepEqual(searched.body.runs, []);
      const own = await asOutsider('GET', '/api/v1/experiments/0');
      assert.equal(own.status, 200);
      assert.equal(own.body.group, 'other-team', "experiment 0 is the caller's group's Default");
      assert.notEqual(own.body.experimentId, '0');
    });

    test('a viewer can read but not log', async () => {
      const exp = (await call('POST', '/api/v1/experiments', { name: 'read-only' })).body.experimentId;
      const runId = await newRun(exp);
      await call('POST', '/api/v1/users', { username: 'reader', password: 'reader-password' });
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'reader', password: 'reader-password' } })).body.token;
      assert.equal((await call('GET', `/api/v1/runs/${runId}`, undefined, token)).status, 200);
      const denied = await call('POST', `/api/v1/runs/${runId}/batch`, { metrics: [{ key: 'x', value: 1 }] }, token);
      assert.equal(denied.status, 403);
      assert.equal((await call('POST', '/api/v1/experiments', { name: 'nope' }, token)).status, 403);
    });
  });
}
