import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

// The scorers of seeds 002 and 003 (MLOps Codex's deploy guides) as they are written, shared with
// the Python SDK's test, and the scikit-learn model they load (trained by train_model.py).
const SEEDS = fileURLToPath(new URL('../../../python/tests/seed_scorers/', import.meta.url));
const PYTHON = process.env.FORJA_PYTHON ?? 'python3';

// Rows far from the f1 = f2 boundary, so the class the model gives is certain.
const INPUT = 'f1,f2\n9,1\n1,8\n7.5,2\n';
const CLASSES = [1, 0, 1];

/** The output of the seeds' async scorer: the input's columns, then proba and pred. */
function checkScored(csv: string) {
  const [header, ...rows] = csv.replace(/\r/g, '').trim().split('\n');
  assert.equal(header, 'f1,f2,proba,pred');
  assert.deepEqual(
    rows.map((r) => Number(r.split(',')[3])),
    CLASSES,
  );
  for (const [i, r] of rows.entries()) {
    const proba = Number(r.split(',')[2]);
    assert.ok(CLASSES[i] ? proba > 0.9 : proba < 0.1, `row ${i}: proba ${proba}`);
  }
}

for (const dialect of DIALECTS) {
  describe(`the seeds' scorers, as written, on ${dialect}`, () => {
    let s: TestServer;
    let modelDir: string;
    let editor: string;
    const call = (method: string, p: string, body?: unknown, token = s.adminToken) => http(s.url, method, p, { token, body });
    const post = async (p: string, fd: FormData) => {
      const r = await fetch(`${s.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };

    /** Uploads a seed's scorer with model.pkl and the pinned requirements, as the guides deploy it, and builds it. */
    const deploy = async (name: string, operation: 'sync' | 'async', scorer: string, extra: { settings?: string; schema?: unknown } = {}) => {
      const fd = new FormData();
      fd.append('name', name);
      fd.append('operation', operation);
      fd.append('entrypoint', 'score');
      if (extra.settings) fd.append('settings', extra.settings);
      fd.append('source', new Blob([await readFile(path.join(SEEDS, `${scorer}.py`))]), `${scorer}.py`);
      fd.append('model', new Blob([await readFile(path.join(modelDir, 'model.pkl'))]), 'model.pkl');
      fd.append('requirements', new Blob([await readFile(path.join(modelDir, 'requirements.txt'))]), 'requirements.txt');
      if (extra.schema) fd.append('schema', new Blob([JSON.stringify(extra.schema)]), 'schema.json');
      const created = await post('/api/v1/deployments', fd);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      let job = await call('GET', `/api/v1/jobs/${created.body.buildJobId}?waitSeconds=60`);
      while (!['succeeded', 'failed'].includes(job.body.status)) job = await call('GET', `/api/v1/jobs/${created.body.buildJobId}?waitSeconds=60`);
      assert.equal(job.body.status, 'succeeded', job.body.error);
      return created.body.deployment.id as string;
    };

    /** Uploads `name` as an execution's input and waits for the end. */
    const execute = async (id: string, name: string) => {
      const fd = new FormData();
      fd.append('input', new Blob([INPUT]), name);
      const started = await post(`/api/v1/deployments/${id}/executions`, fd);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.equal(started.body.inputName, name, 'the input keeps the name it was uploaded with');
      for (let i = 0; i < 600; i++) {
        const e = (await call('GET', `/api/v1/deployments/${id}/executions/${started.body.id}`)).body;
        if (e.status === 'Succeeded' || e.status === 'Failed') return e;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the execution did not finish');
    };
    const result = async (id: string, exec: string) =>
      (await fetch(`${s.url}/api/v1/deployments/${id}/executions/${exec}/result`, { headers: { authorization: `Bearer ${s.adminToken}` } })).text();

    before(async () => {
      s = await startTestServer({ dialect });
      modelDir = await mkdtemp(path.join(tmpdir(), 'forja-seed-model-'));
      execFileSync(PYTHON, [path.join(SEEDS, 'train_model.py'), modelDir]);
      await call('POST', '/api/v1/users', { username: 'eddie', password: 'eddie-password-1' });
      await call('PUT', '/api/v1/groups/default/members/eddie', { role: 'editor' });
      editor = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'eddie', password: 'eddie-password-1' } })).body.token;
    });
    after(async () => {
      await s.close();
      await rm(modelDir, { recursive: true, force: true });
    });

    test('seed 002 async: model_path+"/model.pkl", data_path+"/input.csv", the output data_path+"/output.csv"', async () => {
      const id = await deploy('seed-002-async', 'async', 'seed_002_async');
      assert.equal((await call('GET', `/api/v1/deployments/${id}`)).body.settings.scorerPaths, 'folders', 'the default for a new deployment');
      const done = await execute(id, 'input.csv');
      assert.equal(done.status, 'Succeeded', done.message);
      assert.equal(done.outputName, 'output.csv');
      checkScored(await result(id, done.id));
    });

    test('seed 003 async: data_path+"/dados.csv"; an input under another name is not found, and the message says which', async () => {
      const id = await deploy('seed-003-async', 'async', 'seed_003_async');
      const done = await execute(id, 'dados.csv');
      assert.equal(done.status, 'Succeeded', done.message);
      assert.equal(done.outputName, 'output.csv');
      checkScored(await result(id, done.id));

      const misnamed = await execute(id, 'input.csv');
      assert.equal(misnamed.status, 'Failed');
      assert.match(misnamed.message, /FileNotFoundError: .*input\/dados\.csv/);
    });

    test('seeds 002 and 003 sync: score(data, base_path) gets the folder of the files, base_path+"/model.pkl"', async () => {
      for (const seed of ['002', '003']) {
        const id = await deploy(`seed-${seed}-sync`, 'sync', `seed_${seed}_sync`, { schema: { f1: 9, f2: 1 } });
        const one = await call('POST', `/api/v1/deployments/${id}/predict`, { Input: { f1: 9, f2: 1 } });
        assert.equal(one.status, 200, one.text);
        assert.equal(one.body.pred, 1);
        assert.ok(one.body.proba > 0.9, one.text);
        const zero = await call('POST', `/api/v1/deployments/${id}/predict`, { Input: { f1: 1, f2: 8 } });
        assert.equal(zero.status, 200, zero.text);
        assert.equal(zero.body.pred, 0);
        assert.ok(zero.body.proba < 0.1, zero.text);
      }
    });

    test('scorerPaths: set on create, shown in GET, changed by an editor (audited), bad values named', async () => {
      const id = await deploy('seed-002-files', 'async', 'seed_002_async', { settings: JSON.stringify({ scorerPaths: 'files' }) });
      assert.equal((await call('GET', `/api/v1/deployments/${id}`)).body.settings.scorerPaths, 'files');
      // The old meaning: model_path is the model file, so the seed's model_path+"/model.pkl" is not a file.
      const old = await execute(id, 'input.csv');
      assert.equal(old.status, 'Failed');
      assert.match(old.message, /NotADirectoryError: .*model\.pkl\/model\.pkl/);

      const changed = await call('PATCH', `/api/v1/deployments/${id}`, { settings: { scorerPaths: 'folders' } }, editor);
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.body.settings.scorerPaths, 'folders');
      const audit = (await call('GET', '/api/v1/audit?action=deployment.settings')).body.items.filter((e: { resourceId: string }) => e.resourceId === id);
      assert.deepEqual(
        audit.map((e: { actor: string; details: unknown }) => [e.actor, e.details]),
        [['eddie', { scorerPaths: 'folders' }]],
      );
      const now = await execute(id, 'input.csv');
      assert.equal(now.status, 'Succeeded', now.message);
      checkScored(await result(id, now.id));

      const bad = await call('PATCH', `/api/v1/deployments/${id}`, { settings: { scorerPaths: 'dirs' } });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /scorerPaths/);
      const fd = new FormData();
      fd.append('name', 'bad-paths');
      fd.append('operation', 'async');
      fd.append('settings', JSON.stringify({ scorerPaths: 'file' }));
      fd.append('source', new Blob(['def score(data_path, model_path):\n    return data_path\n']), 'scorer.py');
      const refused = await post('/api/v1/deployments', fd);
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /scorerPaths/);
    });
  });
}
