// The MLflow UI's routes beyond the tracking basics (bulk histories, dataset summaries, uploads,
// get-artifact, logged-model and model-version artifacts): group isolation and bad input, on both
// databases. Their answers are compared with a real `mlflow server` in
// python/tests/test_mlflow_rest_surface.py.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const AJAX = '/ajax-api/2.0/mlflow';

for (const dialect of DIALECTS) {
  describe(`MLflow UI routes on ${dialect}`, () => {
    let s: TestServer;
    let exp: string;
    let run: string;
    let model: string;
    let outsider: string;
    const as =
      (token: string, headers: Record<string, string> = {}) =>
      (method: string, p: string, options: { body?: unknown; rawBody?: Buffer } = {}) =>
        http(s.url, method, p, { token, headers, ...options });
    let admin: ReturnType<typeof as>;

    // A UI to fall back to, so a wrong 404 handler would show here as the page.
    const webDir = mkdtempSync(path.join(os.tmpdir(), 'forja-web-'));
    writeFileSync(path.join(webDir, 'index.html'), '<html>ui</html>');

    before(async () => {
      s = await startTestServer({ dialect, webDir });
      admin = as(s.adminToken);
      exp = (await admin('POST', `${AJAX}/experiments/create`, { body: { name: 'ui-routes' } })).body.experiment_id;
      run = (await admin('POST', `${AJAX}/runs/create`, { body: { experiment_id: exp, start_time: 1 } })).body.run.info.run_id;
      const metrics = Array.from({ length: 50 }, (_, i) => ({ key: 'loss', value: i === 7 ? 'NaN' : 1 / (i + 1), timestamp: 100 + i, step: i * 2 }));
      assert.equal((await admin('POST', `${AJAX}/runs/log-batch`, { body: { run_id: run, metrics } })).status, 200);
      const ds = { name: 'train', digest: 'abc123', source_type: 'code', source: '{}' };
      await admin('POST', `${AJAX}/runs/log-inputs`, {
        body: { run_id: run, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: ds }] },
      });
      model = (await admin('POST', `${AJAX}/logged-models`, { body: { experiment_id: exp, name: 'm' } })).body.model.info.model_id;
      const up = await admin('PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/${model}/artifacts/MLmodel`, { rawBody: Buffer.from('flavors: {}\n') });
      assert.equal(up.status, 200, up.text);

      await admin('POST', '/api/v1/users', { body: { username: 'outsider', password: 'outsider-password' } });
      await admin('POST', '/api/v1/groups', { body: { name: 'other-team' } });
      await admin('PUT', '/api/v1/groups/other-team/members/outsider', { body: { role: 'editor' } });
      await admin('DELETE', '/api/v1/groups/default/members/outsider');
      outsider = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'outsider', password: 'outsider-password' } })).body.token;
    });
    after(async () => {
      await s.close();
      rmSync(webDir, { recursive: true, force: true });
    });

    test('bulk histories sample each run, keep both ends, and read every prefix', async () => {
      for (const prefix of [AJAX, '/api/2.0/mlflow', '/g/default/ajax-api/2.0/mlflow']) {
        const r = await admin('GET', `${prefix}/metrics/get-history-bulk-interval?run_ids=${run}&run_ids=${run}&metric_key=loss&max_results=5`);
        assert.equal(r.status, 200, r.text);
        const steps = r.body.metrics.map((m: { step: number }) => m.step);
        // 50 points in 5 NTILE buckets of 10: the first of each, the last point replacing the fifth.
        assert.deepEqual(steps, [0, 20, 40, 60, 98, 0, 20, 40, 60, 98]);
        assert.ok(r.body.metrics.every((m: { run_id: string; key: string }) => m.run_id === run && m.key === 'loss'));
      }
      const ranged = await admin('GET', `${AJAX}/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=loss&start_step=10&end_step=16`);
      assert.deepEqual(
        ranged.body.metrics.map((m: { step: number; value: unknown }) => [m.step, m.value]),
        [
          [10, 1 / 6],
          [12, 1 / 7],
          [14, 'NaN'],
          [16, 1 / 9],
        ],
      );
      const bulk = await admin('GET', `${AJAX}/metrics/get-history-bulk?run_id=${run}&metric_key=loss&max_results=3`);
      assert.deepEqual(bulk.body.metrics, [
        { key: 'loss', value: 1, timestamp: 100, step: 0, run_id: run },
        { key: 'loss', value: 0.5, timestamp: 101, step: 2, run_id: run },
        { key: 'loss', value: 1 / 3, timestamp: 102, step: 4, run_id: run },
      ]);
    });

    test("another group's runs and models answer as missing ones", async () => {
      const out = as(outsider, { 'x-forja-group': 'other-team' });
      const interval = await out('GET', `${AJAX}/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=loss`);
      assert.equal(interval.status, 200);
      assert.deepEqual(interval.body, {}, 'a run the caller cannot read contributes nothing, as an unknown one');
      assert.deepEqual((await out('GET', `${AJAX}/metrics/get-history-bulk?run_id=${run}&metric_key=loss`)).body, { metrics: [] });
      assert.deepEqual((await out('POST', `${AJAX}/experiments/search-datasets`, { body: { experiment_ids: [exp] } })).body, {});
      const own = await admin('POST', `${AJAX}/experiments/search-datasets`, { body: { experiment_ids: [exp] } });
      assert.deepEqual(own.body, { dataset_summaries: [{ experiment_id: exp, name: 'train', digest: 'abc123', context: 'training' }] });

      const missingRun = 'f'.repeat(32);
      const missingModel = `m-${'0'.repeat(32)}`;
      const pairs: [string, string, string, Buffer?][] = [
        ['GET', `/get-artifact?run_uuid=${run}&path=x.txt`, `/get-artifact?run_uuid=${missingRun}&path=x.txt`],
        ['POST', `${AJAX}/upload-artifact?run_uuid=${run}&path=x.txt`, `${AJAX}/upload-artifact?run_uuid=${missingRun}&path=x.txt`, Buffer.from('x')],
        ['GET', `${AJAX}/logged-models/${model}/artifacts/directories`, `${AJAX}/logged-models/${missingModel}/artifacts/directories`],
        [
          'GET',
          `${AJAX}/logged-models/${model}/artifacts/files?artifact_file_path=MLmodel`,
          `${AJAX}/logged-models/${missingModel}/artifacts/files?artifact_file_path=MLmodel`,
        ],
      ];
      for (const [method, theirs, missing, rawBody] of pairs) {
        const a = await out(method, theirs, { rawBody });
        const b = await out(method, missing, { rawBody });
        assert.equal(a.status, 404, `${theirs}: ${a.text}`);
        assert.equal(b.status, 404, missing);
        assert.equal(a.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
        assert.equal(a.body.message.replace(run, '<id>').replace(model, '<id>'), b.body.message.replace(missingRun, '<id>').replace(missingModel, '<id>'));
      }
      // The model registry is per group: the outsider's group has no such model.
      await admin('POST', `${AJAX}/registered-models/create`, { body: { name: 'reg' } });
      const v = await admin('POST', `${AJAX}/model-versions/create`, {
        body: { name: 'reg', source: `mlflow-artifacts:/${exp}/models/${model}/artifacts`, model_id: model },
      });
      assert.equal(v.status, 200, v.text);
      const mine = await admin('GET', `/model-versions/get-artifact?name=reg&version=1&path=MLmodel`);
      assert.equal(mine.status, 200, mine.text);
      assert.equal(mine.text, 'flavors: {}\n');
      const theirs = await http(s.url, 'GET', `/g/other-team/model-versions/get-artifact?name=reg&version=1&path=MLmodel`, { token: outsider });
      assert.equal(theirs.status, 404, theirs.text);
    });

    test('uploads land in the run and come back through get-artifact', async () => {
      const body = Buffer.from('hello from the UI\n');
      const up = await admin('POST', `${AJAX}/upload-artifact?run_uuid=${run}&path=notes/hello.txt`, { rawBody: body });
      assert.equal(up.status, 200, up.text);
      assert.equal(up.text, '');
      const list = await admin('GET', `${AJAX}/artifacts/list?run_id=${run}&path=notes`);
      assert.deepEqual(list.body.files, [{ path: 'notes/hello.txt', is_dir: false, file_size: body.length }]);
      for (const p of ['/get-artifact', '/g/default/get-artifact']) {
        const got = await admin('GET', `${p}?run_uuid=${run}&path=notes/hello.txt`);
        assert.equal(got.status, 200, p);
        assert.equal(got.text, body.toString());
        assert.match(got.headers.get('content-disposition') ?? '', /^attachment/);
      }
      const big = await admin('POST', `${AJAX}/upload-artifact?run_uuid=${run}&path=big.bin`, { rawBody: Buffer.alloc(10 * 1024 * 1024 + 1) });
      assert.equal(big.status, 400);
      assert.equal(big.body.message, 'Artifact size is too large. Max size is 10MB.');
    });

    test('bad input is a clear 400', async () => {
      const ids = (n: number, key: string) => Array.from({ length: n }, (_, i) => `${key}=${i.toString(16).padStart(32, 'a')}`).join('&');
      const cases: [string, string, RegExp][] = [
        ['GET', `${AJAX}/metrics/get-history-bulk-interval?${ids(101, 'run_ids')}&metric_key=loss`, /at most 100 run_ids\. Received 101/],
        ['GET', `${AJAX}/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=loss&start_step=1`, /both must be specified/],
        ['GET', `${AJAX}/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=loss&max_results=0`, /between 1 and 2500/],
        ['GET', `${AJAX}/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=loss&max_results=2501`, /between 1 and 2500/],
        ['GET', `${AJAX}/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=loss&max_results=ten`, /'max_results'/],
        ['GET', `${AJAX}/metrics/get-history-bulk?${ids(101, 'run_id')}&metric_key=loss`, /more than 100 run_ids/],
        ['GET', `${AJAX}/metrics/get-history-bulk?run_id=${run}&metric_key=loss&max_results=-1`, /'max_results'/],
        ['POST', `${AJAX}/experiments/search-datasets`, /at least one experiment_id/],
        ['GET', `/get-artifact?run_uuid=${run}&path=../../etc/passwd`, /^Invalid path$/],
        ['GET', `/get-artifact?run_uuid=${run}&path=%252E%252E%252Fx`, /^Invalid path$/],
        ['GET', `/get-artifact?run_uuid=${run}&path=/etc/passwd`, /^Invalid path$/],
        ['GET', `/get-artifact?run_uuid=${run}`, /'path'/],
        ['POST', `${AJAX}/upload-artifact?run_uuid=${run}&path=a\\..\\b`, /^Invalid path$/],
        ['GET', `${AJAX}/logged-models/${model}/artifacts/files?artifact_file_path=../${exp}/x`, /^Invalid path$/],
        ['GET', `${AJAX}/logged-models/${model}/artifacts/directories?artifact_directory_path=..`, /^Invalid path$/],
        ['GET', `/model-versions/get-artifact?name=reg&version=1&path=C:/x`, /^Invalid path$/],
      ];
      for (const [method, p, message] of cases) {
        const r = await admin(
          method,
          p,
          method === 'POST' && p.includes('search-datasets') ? { body: { experiment_ids: [] } } : method === 'POST' ? { rawBody: Buffer.from('x') } : {},
        );
        assert.equal(r.status, 400, `${p}: ${r.text}`);
        assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE', p);
        assert.match(r.body.message, message, p);
      }
    });

    test('unknown paths under API prefixes answer JSON 404s, never a page', async () => {
      for (const p of ['/g/default/api/2.0/mlflow-artifacts/nope', '/g/default/ajax-api/2.0/nope', '/ajax-api/2.0/mlflow/nope', '/api/2.0/nope']) {
        const r = await admin('GET', p);
        assert.equal(r.status, 404, p);
        assert.ok(r.body?.error_code ?? r.body?.error, `${p} answers JSON: ${r.text.slice(0, 100)}`);
      }
    });
  });
}
