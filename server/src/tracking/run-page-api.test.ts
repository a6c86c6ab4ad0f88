// What the run page reads beyond the run: each metric's point count (a value or a history), the
// MLflow 3 logged models the run made and their files. MLmodel summarised, registered versions
// linked, another group's run and model 404, bad paths 400.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const MLFLOW = '/api/2.0/mlflow';

// What mlflow 3's sklearn log_model writes, trimmed: signature parts are JSON strings inside the YAML.
const MLMODEL = `artifact_path: mlflow-artifacts:/1/models/m-x/artifacts
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.2
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.2
mlflow_version: 3.1.0
model_size_bytes: 1234
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}, {"type": "string", "name": "city", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-01-02 03:04:05.000000'
`;

for (const dialect of DIALECTS) {
  describe(`the run page's data on ${dialect}`, () => {
    let s: TestServer;
    let outsider: string;
    const call = (method: string, path: string, options: { body?: unknown; rawBody?: Buffer; token?: string } = {}) =>
      http(s.url, method, path, { token: options.token ?? s.adminToken, body: options.body, rawBody: options.rawBody });
    const ok = async (method: string, path: string, options: { body?: unknown; rawBody?: Buffer } = {}) => {
      const r = await call(method, path, options);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };

    before(async () => {
      s = await startTestServer({ dialect });
      await ok('POST', '/api/v1/users', { body: { username: 'outsider', password: 'outsider-password' } });
      await ok('POST', '/api/v1/groups', { body: { name: 'other-team' } });
      await ok('PUT', '/api/v1/groups/other-team/members/outsider', { body: { role: 'editor' } });
      await ok('DELETE', '/api/v1/groups/default/members/outsider');
      outsider = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'outsider', password: 'outsider-password' } })).body.token;
    });
    after(() => s.close());

    test("a run's logged models: MLmodel summarised, files listed and downloaded, registered versions linked", async () => {
      const exp = (await ok('POST', '/api/v1/experiments', { body: { name: 'logged' } })).experimentId;
      const run = (await ok('POST', '/api/v1/runs', { body: { experimentId: exp } })).info.runId;
      const other = (await ok('POST', '/api/v1/runs', { body: { experimentId: exp } })).info.runId;
      assert.deepEqual((await ok('GET', `/api/v1/runs/${run}/logged-models`)).models, []);

      const model = (await ok('POST', `${MLFLOW}/logged-models`, { body: { experiment_id: exp, name: 'clf', source_run_id: run, model_type: 'sklearn' } }))
        .model.info.model_id;
      // A model with no files yet, linked as the other run's output: it belongs to that run only.
      const bare = (await ok('POST', `${MLFLOW}/logged-models`, { body: { experiment_id: exp, name: 'bare' } })).model.info.model_id;
      await ok('POST', `${MLFLOW}/runs/outputs`, { body: { run_id: other, models: [{ model_id: bare, step: 3 }] } });
      const put = (p: string, text: string) =>
        ok('PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/${model}/artifacts/${p}`, { rawBody: Buffer.from(text) });
      await put('MLmodel', MLMODEL);
      await put('input_example.json', '{"columns": ["x", "city"], "data": [[1.5, "Oslo"]]}');
      await put('model.pkl', 'not really a pickle');
      await ok('POST', '/api/v1/models', { body: { name: 'clf-reg' } });
      const version = await ok('POST', '/api/v1/models/clf-reg/versions', { body: { source: `models:/${model}`, runId: run } });

      const got = (await ok('GET', `/api/v1/runs/${run}/logged-models`)).models;
      assert.equal(got.length, 1);
      const m = got[0];
      assert.equal(m.modelId, model);
      assert.equal(m.name, 'clf');
      assert.equal(m.sourceRunId, run);
      assert.equal(m.modelType, 'sklearn');
      assert.deepEqual(m.registeredVersions, [{ name: 'clf-reg', version: String(version.version) }]);
      assert.deepEqual(m.mlmodel.flavors, [
        { name: 'python_function', version: '3.11.2' },
        { name: 'sklearn', version: '1.5.2' },
      ]);
      assert.equal(m.mlmodel.mlflowVersion, '3.1.0');
      assert.equal(m.mlmodel.sizeBytes, 1234);
      assert.deepEqual(m.mlmodel.signature, {
        inputs: [
          { name: 'x', type: 'double', required: true },
          { name: 'city', type: 'string', required: false },
        ],
        outputs: [{ name: null, type: 'float64 (-1)', required: true }],
        params: null,
      });
      assert.deepEqual(m.mlmodel.inputExample, { path: 'input_example.json', type: 'dataframe', format: 'split' });

      const bareOfOther = (await ok('GET', `/api/v1/runs/${other}/logged-models`)).models;
      assert.deepEqual(
        bareOfOther.map((x: { modelId: string; mlmodel: unknown }) => [x.modelId, x.mlmodel]),
        [[bare, null]],
      );

      const files = await ok('GET', `/api/v1/logged-models/${model}/artifacts`);
      assert.deepEqual(files.files.map((f: { path: string }) => f.path).sort(), ['MLmodel', 'input_example.json', 'model.pkl']);
      const example = await call('GET', `/api/v1/logged-models/${model}/artifacts/file?path=input_example.json`);
      assert.equal(example.status, 200);
      assert.deepEqual(example.body, { columns: ['x', 'city'], data: [[1.5, 'Oslo']] });
    });

    test('metric points: how many each metric has and over which steps', async () => {
      const exp = (await ok('POST', '/api/v1/experiments', { body: { name: 'points' } })).experimentId;
      const run = (await ok('POST', '/api/v1/runs', { body: { experimentId: exp } })).info.runId;
      assert.deepEqual((await ok('GET', `/api/v1/runs/${run}/metric-points`)).metrics, []);
      const t = 1_700_000_000_000;
      await ok('POST', `/api/v1/runs/${run}/batch`, {
        body: {
          metrics: [
            ...[0, 1, 2, 5].map((step) => ({ key: 'train_loss', value: 1 / (step + 1), timestamp: t + step, step })),
            { key: 'test_acc', value: 0.9, timestamp: t, step: 7 },
            { key: 'nan_once', value: 'NaN', timestamp: t, step: 0 },
          ],
        },
      });
      assert.deepEqual((await ok('GET', `/api/v1/runs/${run}/metric-points`)).metrics, [
        { key: 'nan_once', points: 1, firstStep: 0, lastStep: 0 },
        { key: 'test_acc', points: 1, firstStep: 7, lastStep: 7 },
        { key: 'train_loss', points: 4, firstStep: 0, lastStep: 5 },
      ]);
      const theirs = await call('GET', `/api/v1/runs/${run}/metric-points`, { token: outsider });
      assert.equal(theirs.status, 404, theirs.text);
    });

    test("bad input is a 400, another group's run or model a 404", async () => {
      const exp = (await ok('POST', '/api/v1/experiments', { body: { name: 'logged-guarded' } })).experimentId;
      const run = (await ok('POST', '/api/v1/runs', { body: { experimentId: exp } })).info.runId;
      const model = (await ok('POST', `${MLFLOW}/logged-models`, { body: { experiment_id: exp, name: 'guarded', source_run_id: run } })).model.info.model_id;
      for (const p of [
        `/api/v1/runs/${run}/logged-models`,
        `/api/v1/logged-models/${model}/artifacts`,
        `/api/v1/logged-models/${model}/artifacts/file?path=MLmodel`,
      ]) {
        const r = await call('GET', p, { token: outsider });
        assert.equal(r.status, 404, `${p}: ${r.text}`);
      }
      for (const p of [
        `/api/v1/logged-models/${model}/artifacts/file`,
        `/api/v1/logged-models/${model}/artifacts/file?path=../../x`,
        `/api/v1/logged-models/${model}/artifacts?path=../..`,
        '/api/v1/logged-models/not-a-model/artifacts',
      ]) {
        const r = await call('GET', p);
        assert.equal(r.status, 400, `${p}: ${r.status} ${r.text}`);
        assert.ok(r.body.error.message, p);
      }
      assert.equal((await call('GET', '/api/v1/runs/0123456789abcdef0123456789abcdef/logged-models')).status, 404);
      assert.equal((await call('GET', `/api/v1/logged-models/${model}/artifacts/file?path=missing.txt`)).status, 404);
    });
  });
}
