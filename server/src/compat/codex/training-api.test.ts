import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../testing/databases.js';
import { http, startTestServer, type TestServer } from '../../testing/server.js';

const TRAIN = `
import os
from sklearn.linear_model import LogisticRegression

def train_model(df, base_path):
    X, y = df[["f1", "f2"]], df["label"]
    model = LogisticRegression(C=10.0).fit(X, y)
    with open(os.path.join(base_path, "notes.txt"), "w") as f:
        f.write("trained on %d rows" % len(df))
    return {"pipeline": model, "metrics": {"accuracy": float(model.score(X, y))}, "extra": ["notes.txt"], "X_train": X, "y_train": y}
`;
const SLOW = `
import time

def train_model(df, base_path):
    time.sleep(120)
`;
const BROKEN = `
def train_model(df, base_path):
    raise ValueError("the label column is all nulls")
`;
const SCORER = `
import json, os, pickle

def score(data, base_path):
    with open(os.path.join(base_path, "model.pkl"), "rb") as f:
        model = pickle.load(f)
    rows = json.loads(data)
    rows = rows if isinstance(rows, list) else [rows]
    return {"predictions": [int(p) for p in model.predict([[r["f1"], r["f2"]] for r in rows])]}
`;

function csv(rows: number): string {
  const lines = ['f1,f2,label'];
  for (let i = 0; i < rows; i++) {
    const a = (i * 7) % 10;
    const b = (i * 3) % 10;
    lines.push(`${a},${b},${a > b ? 1 : 0}`);
  }
  return lines.join('\n') + '\n';
}

type Part = { field: string; name: string; content: string };

for (const dialect of DIALECTS) {
  describe(`MLOps Codex training v1 on ${dialect}`, () => {
    let s: TestServer;
    const api = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const codex = (method: string, p: string, token = s.adminToken) => http(s.url, method, `/codex/api${p}`, { token });
    /** As the client sends it: requests' `data=` (urlencoded) without files, multipart with them. */
    const send = async (p: string, fields: Record<string, string>, files?: Part[], token = s.adminToken) => {
      let body: FormData | URLSearchParams;
      if (files) {
        const fd = new FormData();
        for (const [k, v] of Object.entries(fields)) fd.append(k, v);
        for (const f of files) fd.append(f.field, new Blob([f.content]), f.name);
        body = fd;
      } else body = new URLSearchParams(fields);
      const r = await fetch(`${s.url}/codex/api${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
      const text = await r.text();
      return { status: r.status, text, body: JSON.parse(text) };
    };
    const custom = (extra: Record<string, string> = {}) => ({
      run_name: 'first',
      training_type: 'Custom',
      training_reference: 'train_model',
      python_version: 'Python310',
      ...extra,
    });
    const files = (script: string, data = true): Part[] => [
      ...(data ? [{ field: 'train_data', name: 'train.csv', content: csv(200) }] : []),
      { field: 'source', name: 'app.py', content: script },
      { field: 'requirements', name: 'requirements.txt', content: 'scikit-learn\n' },
    ];
    const settled = async (group: string, exec: number) => {
      for (let i = 0; i < 300; i++) {
        const st = await codex('GET', `/training/status/${group}/${exec}`);
        assert.equal(st.status, 200, st.text);
        if (['Succeeded', 'Failed'].includes(st.body.Status)) return st.body;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`execution ${exec} did not finish`);
    };

    before(async () => {
      s = await startTestServer({ dialect });
      assert.equal((await api('POST', '/api/v1/groups', { name: 'risk' })).status, 201);
      assert.equal((await api('POST', '/api/v1/groups', { name: 'other' })).status, 201);
    });
    after(() => s.close());

    test('register reuses an experiment of the same name and type, refuses another type; search and describe list it', async () => {
      const made = await send('/training/register/risk', { experiment_name: 'Churn model', model_type: 'Classification' });
      assert.equal(made.status, 201, made.text);
      assert.match(made.body.TrainingHash, /^T\d+$/);
      const again = await send('/training/register/risk', { experiment_name: 'Churn model', model_type: 'Classification' });
      assert.equal(again.status, 201);
      assert.equal(again.body.TrainingHash, made.body.TrainingHash);
      const clash = await send('/training/register/risk', { experiment_name: 'Churn model', model_type: 'Regression' });
      assert.equal(clash.status, 409);
      assert.match(clash.body.Error.Message, /already has the Classification experiment "Churn model"/);
      const magic = await send('/training/register/risk', { experiment_name: 'x', model_type: 'Magic' });
      assert.equal(magic.status, 400);
      assert.match(magic.body.Error.Message, /model_type "Magic" must be Classification, Regression or Unsupervised/);
      assert.equal((await send('/training/register/nowhere', { experiment_name: 'x', model_type: 'Regression' })).status, 404);

      const elsewhere = await send('/training/register/other', { experiment_name: 'Churn model', model_type: 'Regression' });
      assert.equal(elsewhere.status, 201);
      const found = await codex('GET', '/training/search');
      assert.equal(found.status, 200);
      const mine = found.body.Results.filter((r: { ExperimentName: string }) => r.ExperimentName === 'Churn model');
      assert.deepEqual(mine.map((r: Record<string, string>) => [r.TrainingHash, r.GroupName, r.ModelType]).sort(), [
        [made.body.TrainingHash, 'risk', 'Classification'],
        [elsewhere.body.TrainingHash, 'other', 'Regression'],
      ]);

      const described = await codex('GET', `/training/describe/risk/${made.body.TrainingHash}`);
      assert.equal(described.status, 200, described.text);
      assert.deepEqual(described.body.Description.Executions, []);
      assert.equal(described.body.Description.ModelType, 'Classification');
      assert.equal(described.body.Description.ExperimentName, 'Churn model');
      assert.equal((await codex('GET', '/training/describe/risk/T99999')).status, 404);
      const crossGroup = await codex('GET', `/training/describe/risk/${elsewhere.body.TrainingHash}`);
      assert.equal(crossGroup.status, 404);
      assert.match(crossGroup.body.Error.Message, /not found in group "risk"/);
      assert.equal((await codex('GET', '/training/describe/risk/Mabc')).status, 400);

      const groupToken = await api('POST', '/api/v1/tokens', { name: 'app', kind: 'group', group: 'risk' });
      assert.equal(groupToken.status, 201);
      assert.equal((await codex('GET', `/training/describe/risk/${made.body.TrainingHash}`, groupToken.body.secret)).status, 403);
      assert.equal((await codex('GET', '/training/search', groupToken.body.secret)).status, 403);
    });

    test('a custom run: upload, execute, status, describe with RunData, result zip, promote to a deployment that predicts', async () => {
      const T = (await send('/training/register/risk', { experiment_name: 'Fraud', model_type: 'Classification' })).body.TrainingHash;
      const up = await send(`/training/upload/risk/${T}`, custom({ description: 'baseline' }), files(TRAIN));
      assert.equal(up.status, 201, up.text);
      // The client takes the first number in the raw answer as the execution id.
      assert.match(up.text, /^\{"ExecutionId":\d+,/);
      const exec: number = up.body.ExecutionId;
      assert.ok(Number.isInteger(exec) && exec >= 1);
      const started = await codex('GET', `/training/execute/risk/${T}/${exec}`);
      assert.equal(started.status, 200, started.text);
      assert.equal((await codex('GET', `/training/execute/risk/${T}/${exec + 1000}`)).status, 404);

      const listed = (await codex('GET', `/training/describe/risk/${T}`)).body.Description.Executions;
      assert.deepEqual(
        listed.map((e: { Id: number }) => e.Id),
        [exec],
      );
      const done = await settled('risk', exec);
      assert.equal(done.Status, 'Succeeded', done.Message);
      assert.equal(done.ExecutionId, exec);

      const info = await codex('GET', `/training/describe/risk/${T}/${exec}`);
      assert.equal(info.status, 200, info.text);
      const d = info.body.Description;
      assert.equal(d.ExecutionState, 'Succeeded');
      assert.equal(d.RunName, 'first');
      assert.equal(d.Description, 'baseline');
      assert.equal(d.TrainingType, 'Custom');
      assert.equal(d.Deployable, true);
      const accuracy = d.RunData.metrics.find((m: { key: string }) => m.key === 'accuracy');
      assert.ok(accuracy.value > 0.9, JSON.stringify(d.RunData.metrics));
      assert.ok(d.RunData.params.some((p: { key: string; value: string }) => p.key === 'hyperparam_C' && p.value === '10.0'));
      assert.ok(d.RunData.tags.some((t: { key: string; value: string }) => t.key === 'codex.python_version' && t.value === 'Python310'));

      const zip = await fetch(`${s.url}/codex/api/training/result/risk/${exec}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal(zip.status, 200);
      assert.equal(zip.headers.get('content-type'), 'application/zip');
      const bytes = Buffer.from(await zip.arrayBuffer());
      assert.equal(bytes.readUInt32LE(0), 0x04034b50, 'a zip');
      const names = zipNames(bytes);
      assert.deepEqual(names.sort(), ['extras/notes.txt', 'model/model.pkl', 'model/requirements.txt']);

      // Another group's execution numbers are its own.
      assert.equal((await codex('GET', `/training/status/other/${exec}`)).status, 404);
      assert.equal((await codex('GET', `/training/describe/other/${T}/${exec}`)).status, 404);

      const promote = (token = s.adminToken) =>
        send(
          `/training/promote/risk/${T}/${exec}`,
          { name: 'Fraud promoted', operation: 'Sync', model_reference: 'score', input_type: 'json' },
          [
            { field: 'source', name: 'app.py', content: SCORER },
            { field: 'schema', name: 'schema.json', content: '{"f1": 9, "f2": 1}' },
          ],
          token,
        );
      const promoted = await promote();
      assert.equal(promoted.status, 201, promoted.text);
      const hash = promoted.body.ModelHash;
      const dep = (await api('GET', `/api/v1/deployments/${hash}?group=risk`)).body;
      assert.equal(dep.name, 'Fraud_promoted');
      assert.equal(dep.kind, 'script');
      assert.deepEqual(dep.files.map((f: { name: string; role: string }) => `${f.role}:${f.name}`).sort(), [
        'model:model.pkl',
        'requirements:requirements.txt',
        'schema:schema.json',
        'source:app.py',
      ]);
      let build = { status: 'queued', error: null };
      for (let i = 0; i < 5 && !['succeeded', 'failed'].includes(build.status); i++)
        build = (await api('GET', `/api/v1/jobs/${dep.buildJobId}?waitSeconds=60`)).body;
      assert.equal(build.status, 'succeeded', JSON.stringify(build));
      const predicted = await api('POST', `/api/v1/deployments/${hash}/predict?group=risk`, [
        { f1: 9, f2: 1 },
        { f1: 0, f2: 8 },
      ]);
      assert.equal(predicted.status, 200, predicted.text);
      assert.deepEqual(predicted.body, { predictions: [1, 0] });
      // Codex's monitoring names the training run by this same execution number (monitoring-routes.ts).
      const configuration = { Period: 'Day', TrainData: { MLOpsTrainingExecution: exec }, InputCols: ['f1', 'f2'], OutputCols: ['prediction'] };
      const monitored = await send(`/monitoring/register/risk/${hash}`, { preprocess_reference: 'parse', shap_reference: 'get_shap' }, [
        { field: 'configuration', name: 'configuration.json', content: JSON.stringify(configuration) },
      ]);
      assert.equal(monitored.status, 201, monitored.text);
      const monitor = (await api('GET', `/api/v1/monitors/codex-${hash}-day?group=risk`)).body;
      assert.equal(monitor.reference.kind, 'training', JSON.stringify(monitor.reference));
      assert.equal(
        monitor.reference.trainingId,
        (await api('GET', `/api/v1/training/runs?group=risk`)).body.items.find((r: { number: number }) => r.number === exec).id,
      );
      const twice = await promote();
      assert.equal(twice.status, 409);
      assert.match(twice.body.Error.Message, /already promoted/);
      assert.equal((await codex('GET', `/training/describe/risk/${T}/${exec}`)).body.Description.Deployable, false);
    });

    test('bad uploads, a failed run, a result before the run finished, a promote of a run that did not succeed', async () => {
      const T = (await send('/training/register/risk', { experiment_name: 'Bad inputs', model_type: 'Regression' })).body.TrainingHash;
      const noData = await send(`/training/upload/risk/${T}`, custom(), files(TRAIN, false));
      assert.equal(noData.status, 400);
      assert.match(noData.body.Error.Message, /Send the training data: a "train_data" file/);
      const automl = await send(`/training/upload/risk/${T}`, { ...custom(), training_type: 'AutoML' }, [
        { field: 'train_data', name: 'train.csv', content: csv(5) },
      ]);
      assert.equal(automl.status, 400);
      assert.match(automl.body.Error.Message, /AutoML training is not supported on Forja/);
      const externalWithoutModel = await send(`/training/upload/risk/${T}`, { run_name: 'ext', training_type: 'External', python_version: 'Python310' }, [
        { field: 'features', name: 'features.parquet', content: 'x' },
        { field: 'target', name: 'target.parquet', content: 'y' },
      ]);
      assert.equal(externalWithoutModel.status, 400);
      assert.match(externalWithoutModel.body.Error.Message, /External training needs the "model" file/);
      const mixed = await send(`/training/upload/risk/${T}`, custom(), [...files(TRAIN), { field: 'features', name: 'features.parquet', content: 'x' }]);
      assert.equal(mixed.status, 400);
      assert.match(mixed.body.Error.Message, /"features" does not belong to Custom training/);
      const withEnv = await send(`/training/upload/risk/${T}`, custom(), [...files(TRAIN), { field: 'env', name: '.env', content: 'A=1\n' }]);
      assert.equal(withEnv.status, 400);
      assert.match(withEnv.body.Error.Message, /\.env/);
      const badPython = await send(`/training/upload/risk/${T}`, custom({ python_version: 'Python2' }), files(TRAIN));
      assert.equal(badPython.status, 400);
      const noTable = await send(`/training/upload/risk/${T}`, custom({ dataset_hash: 'no_such_table' }), files(TRAIN, false));
      assert.equal(noTable.status, 404);
      assert.equal((await send('/training/upload/risk/T99999', custom(), files(TRAIN))).status, 404);

      const slow = await send(`/training/upload/risk/${T}`, custom(), files(SLOW));
      assert.equal(slow.status, 201, slow.text);
      const early = await codex('GET', `/training/result/risk/${slow.body.ExecutionId}`);
      assert.equal(early.status, 409);
      assert.match(early.body.Error.Message, /is (queued|running): its result is ready once it has succeeded/);
      const notYet = await send(`/training/promote/risk/${T}/${slow.body.ExecutionId}`, { name: 'too soon', operation: 'Sync', model_reference: 'score' }, [
        { field: 'source', name: 'app.py', content: SCORER },
      ]);
      assert.equal(notYet.status, 409);
      assert.match(notYet.body.Error.Message, /only a succeeded run can be promoted/);
      const run = (await api('GET', '/api/v1/training/runs?group=risk')).body.items.find((r: { number: number }) => r.number === slow.body.ExecutionId);
      assert.equal((await api('POST', `/api/v1/training/runs/${run.id}/cancel?group=risk`)).status, 200);

      const broken = await send(`/training/upload/risk/${T}`, custom(), files(BROKEN));
      assert.equal(broken.status, 201);
      const failed = await settled('risk', broken.body.ExecutionId);
      assert.equal(failed.Status, 'Failed');
      assert.match(failed.Message, /ValueError: the label column is all nulls/);
      assert.equal((await codex('GET', `/training/result/risk/${broken.body.ExecutionId}`)).status, 409);
      const missingName = await send(`/training/promote/risk/${T}/${broken.body.ExecutionId}`, { operation: 'Sync', model_reference: 'score' }, [
        { field: 'source', name: 'app.py', content: SCORER },
      ]);
      assert.equal(missingName.status, 400);
      assert.equal((await codex('GET', '/training/status/risk/0')).status, 400);
      assert.equal((await codex('GET', '/training/status/risk/424242')).status, 404);
    });
  });
}

/** The file names in a zip's central directory. */
function zipNames(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    names.push(zip.subarray(at + 46, at + 46 + len).toString('utf8'));
    at += 46 + len + extra;
  }
  return names;
}
