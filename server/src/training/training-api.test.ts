import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const TRAIN = `
import os
from sklearn.linear_model import LogisticRegression

def train_model(df, base_path):
    X, y = df[["f1", "f2"]], df["label"]
    model = LogisticRegression(C=10.0).fit(X, y)
    with open(os.path.join(base_path, "notes.txt"), "w") as f:
        f.write("trained on %d rows" % len(df))
    return {
        "pipeline": model,
        "metrics": {"accuracy": float(model.score(X, y)), "rows": len(df)},
        "extra": ["notes.txt"],
        "X_train": X,
        "y_train": y,
        "model_output": model.predict(X),
    }
`;
const BROKEN = `
def train_model(df, base_path):
    raise ValueError("the label column is all nulls")
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

function form(fields: Record<string, string>, files: { field: string; name: string; content: string }[]): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of files) fd.append(f.field, new Blob([f.content]), f.name);
  return fd;
}

for (const dialect of DIALECTS) {
  describe(`training runs on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const start = (fields: Record<string, string>, files: { field: string; name: string; content: string }[]) =>
      fetch(`${s.url}/api/v1/training/runs`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: form(fields, files) }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as any }),
      );
    const settle = async (id: string) => {
      const run = (await call('GET', `/api/v1/training/runs/${id}`)).body;
      for (let i = 0; i < 20; i++) {
        const job = (await call('GET', `/api/v1/jobs/${run.jobId}?waitSeconds=30`)).body;
        if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return (await call('GET', `/api/v1/training/runs/${id}`)).body;
      }
      throw new Error(`training run ${id} did not finish`);
    };

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.close());

    test('train_model on an uploaded CSV: metrics, params and the model land in a tracking run; promote registers and deploys it', async () => {
      const started = await start({ experimentName: 'churn', runName: 'first', modelType: 'Classification' }, [
        { field: 'source', name: 'train.py', content: TRAIN },
        { field: 'data', name: 'train.csv', content: csv(200) },
        { field: 'requirements', name: 'requirements.txt', content: 'scikit-learn\n' },
      ]);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const done = await settle(started.body.id);
      assert.equal(done.status, 'succeeded', done.error);
      assert.ok(done.metrics.accuracy > 0.9, JSON.stringify(done.metrics));
      assert.equal(done.metrics.rows, 200);
      const run = (await call('GET', `/api/v1/runs/${done.trackingRunId}`)).body;
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(run.info.runName, 'first');
      const params = Object.fromEntries(run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
      assert.equal(params.rows, '200');
      assert.equal(params.hyperparam_C, '10.0');
      assert.equal(params.model_class, 'LogisticRegression');
      assert.match(params.target_proportion, /"0": 0\.\d+/);
      const files = async (p: string) =>
        (await call('GET', `/api/v1/runs/${done.trackingRunId}/artifacts?path=${p}`)).body.files.map((f: { path: string }) => f.path).sort();
      assert.deepEqual(await files(''), ['extras', 'model', 'model_output.parquet']);
      assert.deepEqual(await files('model'), ['model/model.pkl', 'model/requirements.txt']);
      assert.deepEqual(await files('extras'), ['extras/notes.txt']);

      // A double click: two promotions at once make one version and one deployment.
      const promote = () =>
        call('POST', `/api/v1/training/runs/${done.id}/promote`, { modelName: 'churn', deploy: { name: 'churn-api', schemaSample: { f1: 9, f2: 1 } } });
      const both = await Promise.all([promote(), promote()]);
      assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], both.map((r) => r.text).join('\n'));
      const promoted = both.find((r) => r.status === 200)!;
      const again = await promote();
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /already promoted to models:\/churn\/1\. Deploy that version/);
      assert.equal((await call('GET', '/api/v1/models/churn/versions/2')).status, 404, 'no second version was made');
      assert.deepEqual(promoted.body.modelVersion, { name: 'churn', version: '1' });
      assert.deepEqual(promoted.body.run.promoted, { model: 'churn', version: '1', deploymentId: promoted.body.deploymentId });
      const build = (await call('GET', `/api/v1/jobs/${promoted.body.buildJobId}?waitSeconds=60`)).body;
      assert.equal(build.status, 'succeeded', build.error);
      const predicted = await call('POST', `/api/v1/deployments/${promoted.body.deploymentId}/predict`, [
        { f1: 9, f2: 1 },
        { f1: 0, f2: 8 },
      ]);
      assert.equal(predicted.status, 200, predicted.text);
      assert.deepEqual(predicted.body, { predictions: [1, 0] });
    });

    test('a lake table as the data; a failing script; bad uploads', async () => {
      const seeded = await fetch(`${s.url}/api/v1/lake/tables/training_rows/rows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
        body: csv(120),
      });
      assert.equal(seeded.status, 201);
      const fromTable = await start({ experimentName: 'churn', table: 'training_rows', filter: 'f1 >= 0' }, [
        { field: 'source', name: 'train.py', content: TRAIN },
        { field: 'requirements', name: 'requirements.txt', content: 'scikit-learn\n' },
      ]);
      assert.equal(fromTable.status, 202, JSON.stringify(fromTable.body));
      const ok = await settle(fromTable.body.id);
      assert.equal(ok.status, 'succeeded', ok.error);
      assert.equal(ok.metrics.rows, 120);
      assert.deepEqual(ok.data, { file: null, table: 'training_rows', filter: 'f1 >= 0' });

      const broken = await start({ experimentName: 'churn' }, [
        { field: 'source', name: 'train.py', content: BROKEN },
        { field: 'data', name: 'train.csv', content: csv(10) },
      ]);
      const failed = await settle(broken.body.id);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error, /ValueError: the label column is all nulls/);
      assert.equal((await call('GET', `/api/v1/runs/${failed.trackingRunId}`)).body.info.status, 'FAILED');
      assert.equal((await call('POST', `/api/v1/training/runs/${failed.id}/promote`, { modelName: 'x' })).status, 409);

      const src = { field: 'source', name: 'train.py', content: TRAIN };
      const data = { field: 'data', name: 'train.csv', content: csv(5) };
      assert.equal((await start({ experimentName: 'e' }, [data])).status, 400);
      assert.equal((await start({ experimentName: 'e' }, [src])).status, 400);
      assert.equal((await start({ experimentName: 'e', table: 'training_rows' }, [src, data])).status, 400);
      assert.equal((await start({ experimentName: 'e', table: 'nope' }, [src])).status, 404);
      assert.equal((await start({ experimentName: 'e' }, [src, { field: 'data', name: 'train.xlsx', content: 'x' }])).status, 400);
      assert.equal((await start({ experimentName: 'e', trainFunction: 'not a name' }, [src, data])).status, 400);
      assert.equal((await start({ experimentName: 'e', modelType: 'Magic' }, [src, data])).status, 400);
      assert.equal((await call('GET', '/api/v1/training/runs/nope')).status, 404);
      const listed = (await call('GET', '/api/v1/training/runs')).body.items;
      assert.equal(listed.length, 3);
    });
  });
}
