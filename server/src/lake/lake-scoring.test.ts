import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { parquetOf, parquetRows } from '../testing/parquet.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const PYTHON = process.env.FORJA_PYTHON ?? 'python3';

/** A scikit-learn model that says whether f1 > f2, trained with feature names, saved with joblib. */
const TRAIN = `
import sys, joblib, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = pd.DataFrame({"f1": rng.uniform(0, 10, 400), "f2": rng.uniform(0, 10, 400)})
model = LogisticRegression(C=100).fit(X, (X.f1 > X.f2).astype(int))
joblib.dump(model, sys.argv[1])
`;

// Points far from the f1 = f2 boundary, so the expected class is certain.
const FEATURES = `SELECT range AS id, CASE WHEN range % 2 = 0 THEN 8.0 ELSE 1.0 END + (range % 7) / 10.0 AS f1, CASE WHEN range % 2 = 0 THEN 1.0 ELSE 8.0 END AS f2 FROM range(400)`;

for (const dialect of DIALECTS) {
  describe(`lake scoring on ${dialect}`, () => {
    let s: TestServer;
    let modelFile: string;
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const settle = async (jobId: string) => {
      for (let i = 0; i < 20; i++) {
        const job = await call('GET', `/api/v1/jobs/${jobId}?waitSeconds=30`);
        if (['succeeded', 'failed', 'cancelled'].includes(job.body.status)) return (await call('GET', `/api/v1/lake/batch-predictions/${jobId}`)).body;
      }
      throw new Error(`job ${jobId} did not finish`);
    };

    before(async () => {
      s = await startTestServer({ dialect });
      const dir = await mkdtemp(path.join(tmpdir(), 'forja-model-'));
      modelFile = path.join(dir, 'model.joblib');
      execFileSync(PYTHON, ['-c', TRAIN, modelFile]);
      const exp = (await call('POST', '/api/v1/experiments', { name: 'lake-scoring' })).body.experimentId;
      const runId = (await call('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
      for (const [name, body] of [
        ['model.joblib', await readFile(modelFile)],
        ['requirements.txt', 'scikit-learn\n'],
      ] as const) {
        const put = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/model/${name}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${s.adminToken}` },
          body,
        });
        assert.equal(put.status, 200);
      }
      await call('POST', '/api/v1/models', { name: 'above' });
      await call('POST', '/api/v1/models/above/versions', { source: `runs:/${runId}/model` });
      assert.equal((await call('POST', '/api/v1/models/above/versions/1/transition', { stage: 'Production' })).status, 200);
      const seeded = await fetch(`${s.url}/api/v1/lake/tables/features/rows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/vnd.apache.parquet' },
        body: await parquetOf(FEATURES),
      });
      assert.equal(seeded.status, 201);
    });
    after(async () => {
      await s.close();
      await rm(path.dirname(modelFile), { recursive: true, force: true });
    });

    test('a frame scored on the server in the model environment', async () => {
      const res = await fetch(`${s.url}/api/v1/lake/predict?model=${encodeURIComponent('models:/above/Production')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/vnd.apache.parquet' },
        body: await parquetOf(`SELECT f1, f2 FROM (${FEATURES}) LIMIT 10`),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const rows = await parquetRows(await res.arrayBuffer());
      assert.deepEqual(
        rows.map((r) => Number(r.PREDICT)),
        [1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
      );
    });

    test('a table scored as a job into a versioned output table, twice', async () => {
      const started = await call('POST', '/api/v1/lake/batch-predictions', {
        sourceTable: 'features',
        filter: 'id < 300',
        model: 'models:/above/Production',
        outputTable: 'scores',
        keepColumns: ['id'],
        chunkRows: 100,
      });
      assert.equal(started.status, 202, started.text);
      const done = await settle(started.body.jobId);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.deepEqual(done.result, { version: 1, rowsWritten: 300, modelName: 'above', modelVersion: '1' });
      assert.deepEqual(done.progress, { done: 300, total: 300 });
      const out = (await call('GET', '/api/v1/lake/tables/scores')).body;
      assert.deepEqual(
        out.columns.map((c: { name: string }) => c.name),
        ['id', 'PREDICT', 'VERSION', 'CREATED_AT', 'MODEL_NAME', 'MODEL_VERSION'],
      );
      const wrong = (await call('POST', '/api/v1/lake/tables/scores/query', { filter: '(id % 2) = 0' })).status;
      assert.equal(wrong, 400);
      const odd = (await call('POST', '/api/v1/lake/tables/scores/query', { filter: 'id IN (1, 3, 5) OR id IN (2, 4)', orderBy: [{ column: 'id' }] })).body
        .rows;
      assert.deepEqual(
        odd.map((r: { id: number; PREDICT: number }) => [r.id, r.PREDICT]),
        [
          [1, 0],
          [2, 1],
          [3, 0],
          [4, 1],
          [5, 0],
        ],
      );
      // A retry of a job whose write already committed (its worker died before settling) finds
      // that write and adds nothing: the handler runs again with the same job id.
      const row = (await s.server.services.engine.get(started.body.jobId))!;
      const replay = await s.server.services.lakeScoring.handler()({
        job: {
          id: row.id,
          kind: row.kind,
          group_id: row.group_id,
          attempt: 2,
          max_attempts: 2,
          created_by: row.created_by,
          timeout_ms: row.timeout_ms,
          params: JSON.parse(row.params),
        },
        signal: new AbortController().signal,
        log: () => undefined,
        progress: () => undefined,
      });
      assert.deepEqual(replay, { version: 1, rowsWritten: 300, modelName: 'above', modelVersion: '1' });
      assert.equal((await call('GET', '/api/v1/lake/tables/scores')).body.rowCount, 300);
      const again = await settle(
        (
          await call('POST', '/api/v1/lake/batch-predictions', {
            sourceTable: 'features',
            model: 'models:/above/1',
            outputTable: 'scores',
            keepColumns: ['id'],
          })
        ).body.jobId,
      );
      assert.deepEqual([again.status, again.result.version, again.result.rowsWritten], ['succeeded', 2, 400]);
      const d = (await call('GET', '/api/v1/lake/tables/scores')).body;
      assert.deepEqual(
        d.versions.map((v: { version: number; rows: number; modelName: string }) => [v.version, v.rows, v.modelName]),
        [
          [2, 400, 'above'],
          [1, 300, 'above'],
        ],
      );
      const listed = (await call('GET', '/api/v1/lake/batch-predictions')).body.items;
      assert.equal(listed.length, 2);
      const log = (await call('GET', `/api/v1/jobs/${started.body.jobId}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.ok(
        log.some((l: string) => /Wrote 300 rows to scores as VERSION 1/.test(l)),
        log.join('\n'),
      );
    });

    test('bad input: unknown model, table or column, a bad filter, an output table of another shape', async () => {
      const base = { sourceTable: 'features', model: 'models:/above/Production', outputTable: 'x' };
      assert.equal((await call('POST', '/api/v1/lake/batch-predictions', { ...base, model: 'models:/nope/Production' })).status, 404);
      assert.equal((await call('POST', '/api/v1/lake/batch-predictions', { ...base, model: 'above' })).status, 400);
      assert.equal((await call('POST', '/api/v1/lake/batch-predictions', { ...base, sourceTable: 'nope' })).status, 404);
      assert.equal((await call('POST', '/api/v1/lake/batch-predictions', { ...base, filter: 'id = 1; DROP TABLE features' })).status, 400);
      assert.equal((await call('POST', '/api/v1/lake/batch-predictions', { ...base, keepColumns: ['nope'] })).status, 400);
      await fetch(`${s.url}/api/v1/lake/tables/clash/rows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
        body: 'something\nelse\n',
      });
      const clash = await settle((await call('POST', '/api/v1/lake/batch-predictions', { ...base, outputTable: 'clash', keepColumns: ['id'] })).body.jobId);
      assert.equal(clash.status, 'failed');
      assert.match(clash.error, /do not match table clash: missing columns "something"/);
      assert.equal((await call('GET', '/api/v1/lake/tables/clash')).body.rowCount, 1);
      const notParquet = await fetch(`${s.url}/api/v1/lake/predict?model=${encodeURIComponent('models:/above/Production')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
        body: 'f1,f2\n1,2\n',
      });
      assert.equal(notParquet.status, 415);
      const missing = await fetch(`${s.url}/api/v1/lake/predict?model=${encodeURIComponent('models:/above/Production')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/vnd.apache.parquet' },
        body: await parquetOf('SELECT 1.0 AS f1'),
      });
      assert.equal(missing.status, 422);
      assert.match(((await missing.json()) as any).error.message, /lack the model's input columns \['f2'\]/);
    });
  });
}
