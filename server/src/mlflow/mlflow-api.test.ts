import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`MLflow wire format on ${dialect}`, () => {
    let s: TestServer;
    let exp: string;
    let run: string;
    const ml = (method: string, p: string, body?: unknown, headers?: Record<string, string>) =>
      http(s.url, method, `/api/2.0/mlflow/${p}`, { token: s.adminToken, body, headers });

    before(async () => {
      s = await startTestServer({ dialect });
      exp = (await ml('POST', 'experiments/create', { name: 'wire', tags: [{ key: 'a', value: 'b' }], unknown_field: 1 })).body.experiment_id;
      run = (await ml('POST', 'runs/create', { experiment_id: exp, start_time: 1000, tags: [{ key: 'mlflow.user', value: 'ana' }] })).body.run.info.run_id;
    });
    after(() => s.close());

    test('GET reads the query string (repeated keys, run_uuid), others the JSON body; unknown fields are ignored', async () => {
      const got = await ml('GET', `runs/get?run_uuid=${run}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.run.info.run_uuid, run);
      assert.equal(got.body.run.info.start_time, 1000);
      assert.equal(got.body.run.info.end_time, undefined, 'unset fields are omitted');
      const search = await ml('GET', `experiments/search?max_results=10&view_type=ALL`);
      assert.ok(search.body.experiments.some((e: { name: string }) => e.name === 'wire'));
      const batch = await ml('POST', 'runs/log-batch', {
        run_uuid: run,
        // Without a model_id the dataset fields mean nothing, as in MLflow; run_id inside a metric is ignored.
        metrics: [
          { key: 'acc', value: 0.5, timestamp: 5, step: 2, run_id: run, dataset_name: 'd', dataset_digest: 'x' },
          { key: 'weird', value: 'NaN', timestamp: 5 },
        ],
        params: [{ key: 'n', value: 3 }],
        tags: [{ key: 't', value: 'v' }],
        extra: true,
      });
      assert.equal(batch.status, 200, batch.text);
      assert.deepEqual(batch.body, {});
      const back = (await ml('GET', `runs/get?run_id=${run}`)).body.run.data;
      assert.deepEqual(back.metrics.find((m: { key: string }) => m.key === 'weird').value, 'NaN');
      assert.deepEqual(back.params, [{ key: 'n', value: '3' }]);
      const hist = await ml('GET', `metrics/get-history?run_id=${run}&metric_key=acc`);
      assert.deepEqual(hist.body.metrics, [{ key: 'acc', value: 0.5, timestamp: 5, step: 2 }]);
    });

    test("errors use MLflow's codes and statuses", async () => {
      const cases: [string, string, unknown, number, string, RegExp?][] = [
        ['POST', 'experiments/create', { name: 'wire' }, 400, 'RESOURCE_ALREADY_EXISTS'],
        ['GET', 'experiments/get?experiment_id=999999', undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
        ['POST', 'runs/log-batch', { metrics: [] }, 400, 'INVALID_PARAMETER_VALUE', /Missing value for required parameter 'run_id'/],
        [
          'POST',
          'runs/log-batch',
          { run_id: run, metrics: [{ key: 'a', value: 'high', timestamp: 1 }] },
          400,
          'INVALID_PARAMETER_VALUE',
          /^Invalid value "high" for parameter 'metrics\[0\]\.value' supplied/,
        ],
        [
          'POST',
          'runs/log-batch',
          { run_id: run, metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1 })) },
          400,
          'INVALID_PARAMETER_VALUE',
          /1000/,
        ],
        ['POST', 'runs/log-parameter', { run_id: run, key: 'n', value: '4' }, 400, 'INVALID_PARAMETER_VALUE', /Changing param values is not allowed/],
        ['POST', 'runs/search', { experiment_ids: [exp], filter: 'metrics.acc >' }, 400, 'INVALID_PARAMETER_VALUE', /position 13/],
        ['POST', 'runs/search', { experiment_ids: [exp], max_results: 50001 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['GET', 'experiments/search', undefined, 400, 'INVALID_PARAMETER_VALUE', /max_results/],
        ['GET', 'runs/get?run_id=ffffffffffffffffffffffffffffffff', undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
        ['POST', 'no/such/endpoint', {}, 404, 'ENDPOINT_NOT_FOUND'],
      ];
      for (const [method, p, body, status, code, message] of cases) {
        const r = await ml(method, p, body);
        assert.equal(r.status, status, `${p}: ${r.text}`);
        assert.equal(r.body.error_code, code, p);
        if (message) assert.match(r.body.message, message, p);
      }
      const noAuth = await http(s.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0');
      assert.equal(noAuth.status, 401);
      assert.equal(noAuth.body.error_code, 'UNAUTHENTICATED');
    });

    test('the same routes answer under /ajax-api/2.0, /api/3.0 and /g/<group>/', async () => {
      for (const prefix of ['/ajax-api/2.0/mlflow', '/api/3.0/mlflow', '/g/default/api/2.0/mlflow']) {
        const r = await http(s.url, 'GET', `${prefix}/runs/get?run_id=${run}`, { token: s.adminToken });
        assert.equal(r.status, 200, prefix);
      }
      const wrongGroup = await http(s.url, 'GET', '/g/nope/api/2.0/mlflow/experiments/get?experiment_id=0', { token: s.adminToken });
      assert.equal(wrongGroup.status, 404);
      assert.equal(wrongGroup.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
    });
  });
}
