import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

// Neomaril's async contract (scorerPaths "folders", the default): data_path is the input's folder,
// model_path the folder of the deployment's files; the scorer writes its output in data_path.
const ASYNC_SCORER = `
import csv, os

def score(data_path, model_path):
    assert os.path.isdir(data_path) and model_path == os.environ["BASE_PATH"], (data_path, model_path)
    factor = float(open(os.path.join(model_path, os.environ["modelFileName"])).read())
    out = os.path.join(data_path, "scored.csv")
    with open(os.path.join(data_path, os.environ["inputFileName"])) as f, open(out, "w", newline="") as g:
        rows = list(csv.DictReader(f))
        if rows and rows[0].get("x") == "boom":
            raise RuntimeError("column x must be numeric")
        w = csv.writer(g)
        w.writerow(["x", "score"])
        for r in rows:
            w.writerow([r["x"], float(r["x"]) * factor])
    print("scored", len(rows), "rows of", os.environ["inputFileName"], "in", os.environ["EXECUTION_ID"])
    return out
`;

// The same scorer for scorerPaths "files", Forja's first meaning: the input file and the model file.
const FILE_PATHS_SCORER = `
import csv, os

def score(data_path, model_path):
    assert os.path.isfile(data_path) and model_path == os.path.join(os.environ["BASE_PATH"], os.environ["modelFileName"]), (data_path, model_path)
    factor = float(open(model_path).read())
    out = os.path.join(os.path.dirname(data_path), "scored.csv")
    with open(data_path) as f, open(out, "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["x", "score"])
        for r in csv.DictReader(f):
            w.writerow([r["x"], float(r["x"]) * factor])
    return out
`;

const form = (entries: Array<[string, string, string?]>) => {
  const fd = new FormData();
  for (const [field, value, filename] of entries) {
    if (filename) fd.append(field, new Blob([value]), filename);
    else fd.append(field, value);
  }
  return fd;
};

for (const dialect of DIALECTS) {
  describe(`async executions on ${dialect}`, () => {
    let s: TestServer;
    let depId: string;
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const post = async (p: string, fd: FormData) => {
      const r = await fetch(`${s.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };
    const settle = async (id: string, deployment = depId) => {
      for (let i = 0; i < 200; i++) {
        const e = (await call('GET', `/api/v1/deployments/${deployment}/executions/${id}`)).body;
        if (e.status === 'Succeeded' || e.status === 'Failed') return e;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the execution did not finish');
    };

    /** An async script deployment, built. */
    const deploy = async (name: string, files: Array<[string, string, string]>, settings?: object) => {
      const fields: Array<[string, string, string?]> = [
        ['name', name],
        ['operation', 'async'],
      ];
      if (settings) fields.push(['settings', JSON.stringify(settings)]);
      const created = await post('/api/v1/deployments', form([...fields, ...files]));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const job = (await call('GET', `/api/v1/jobs/${created.body.buildJobId}?waitSeconds=60`)).body;
      assert.equal(job.status, 'succeeded', job.error);
      return created.body.deployment.id as string;
    };

    before(async () => {
      s = await startTestServer({ dialect });
      depId = await deploy('batch-scorer', [
        ['source', ASYNC_SCORER, 'scorer.py'],
        ['model', '3', 'factor.txt'],
      ]);
    });
    after(() => s.close());

    test('a file in, Requested → Running → Succeeded, the output file out, the run in the log', async () => {
      const started = await post(`/api/v1/deployments/${depId}/executions`, form([['input', 'x\n1\n2.5\n', 'data.csv']]));
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.equal(started.body.status, 'Requested');
      assert.equal(started.body.inputName, 'data.csv', 'the input keeps its own name in the folder the scorer gets');
      assert.equal((await call('GET', `/api/v1/deployments/${depId}`)).body.settings.scorerPaths, 'folders', 'the default for new deployments');
      const done = await settle(started.body.id);
      assert.equal(done.status, 'Succeeded', done.message);
      assert.equal(done.outputName, 'scored.csv');
      const result = await fetch(`${s.url}/api/v1/deployments/${depId}/executions/${done.id}/result`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal(result.status, 200);
      assert.equal((await result.text()).replace(/\r/g, ''), 'x,score\n1,3.0\n2.5,7.5\n');
      const log = (await call('GET', `/api/v1/jobs/${done.jobId}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.deepEqual(log, [`scored 2 rows of data.csv in ${done.id}`]);
      const listed = (await call('GET', `/api/v1/deployments/${depId}/executions`)).body.items;
      assert.equal(listed[0].id, done.id);
    });

    test('the rows of a lake table as the input; group tokens cannot read the lake', async () => {
      const seeded = await fetch(`${s.url}/api/v1/lake/tables/exec_rows/rows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
        body: 'x,y\n1,a\n2.5,b\n7,c\n',
      });
      assert.equal(seeded.status, 201);
      const started = await call('POST', `/api/v1/deployments/${depId}/executions/from-table`, {
        table: 'exec_rows',
        filter: 'x < 5',
        columns: ['x'],
        format: 'csv',
      });
      assert.equal(started.status, 202, started.text);
      assert.equal(started.body.inputName, 'input.csv');
      const done = await settle(started.body.id);
      assert.equal(done.status, 'Succeeded', done.message);
      const result = await fetch(`${s.url}/api/v1/deployments/${depId}/executions/${done.id}/result`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal((await result.text()).trim().split('\n').length, 3, 'a header and the two rows the filter kept');
      assert.equal((await call('POST', `/api/v1/deployments/${depId}/executions/from-table`, { table: 'nope' })).status, 404);
      assert.equal(
        (await call('POST', `/api/v1/deployments/${depId}/executions/from-table`, { table: 'exec_rows', filter: 'x = 1; DROP TABLE t' })).status,
        400,
      );
      const tok = await call('POST', '/api/v1/tokens', { name: `lake-exec-${dialect}`, kind: 'group', group: 'default' });
      const denied = await http(s.url, 'POST', `/api/v1/deployments/${depId}/executions/from-table`, { token: tok.body.secret, body: { table: 'exec_rows' } });
      assert.equal(denied.status, 403);
    });

    test('with folders, a preprocessed file written beside the input is what the scorer finds under inputFileName', async () => {
      // The preprocess contract is the same for both settings: the input file's path in, the path of the file it wrote out.
      const pre = [
        'import os',
        '',
        'def preprocess(data_path, base_path):',
        '    folder = "/tmp" if "elsewhere" in data_path else os.path.dirname(data_path)',
        '    out = os.path.join(folder, "clean.csv")',
        '    lines = [l for l in open(data_path) if l.strip() != "skip"]',
        '    open(out, "w").write("".join(lines))',
        '    return out',
        '',
      ].join('\n');
      const id = await deploy('batch-pre', [
        ['source', ASYNC_SCORER, 'scorer.py'],
        ['model', '2', 'factor.txt'],
        ['preprocess', pre, 'clean.py'],
      ]);
      const run = async (name: string) => {
        const started = await post(`/api/v1/deployments/${id}/executions`, form([['input', 'x\n1\nskip\n3\n', name]]));
        assert.equal(started.status, 202, JSON.stringify(started.body));
        return settle(started.body.id, id);
      };
      const done = await run('in.csv');
      assert.equal(done.status, 'Succeeded', done.message);
      assert.equal(done.outputName, 'scored.csv');
      const result = await fetch(`${s.url}/api/v1/deployments/${id}/executions/${done.id}/result`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal((await result.text()).replace(/\r/g, ''), 'x,score\n1,2.0\n3,6.0\n');
      const log = (await call('GET', `/api/v1/jobs/${done.jobId}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.deepEqual(log, [`scored 2 rows of clean.csv in ${done.id}`]);

      const outside = await run('elsewhere.csv');
      assert.equal(outside.status, 'Failed');
      assert.match(
        outside.message,
        /preprocess\(\) returned '\/tmp\/clean\.csv': with scorerPaths 'folders' it must write its file in the folder of the input/,
      );
    });

    test('scorerPaths "files" keeps the old meaning: the input file and the model file', async () => {
      const id = await deploy(
        'batch-files',
        [
          ['source', FILE_PATHS_SCORER, 'scorer.py'],
          ['model', '4', 'factor.txt'],
        ],
        { scorerPaths: 'files' },
      );
      assert.equal((await call('GET', `/api/v1/deployments/${id}`)).body.settings.scorerPaths, 'files');
      const started = await post(`/api/v1/deployments/${id}/executions`, form([['input', 'x\n1\n2\n', 'data.csv']]));
      const done = await settle(started.body.id, id);
      assert.equal(done.status, 'Succeeded', done.message);
      const result = await fetch(`${s.url}/api/v1/deployments/${id}/executions/${done.id}/result`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal((await result.text()).replace(/\r/g, ''), 'x,score\n1,4.0\n2,8.0\n');

      // The same scorer under folders gets a folder where it expects a file, and says so.
      assert.equal((await call('PATCH', `/api/v1/deployments/${id}`, { settings: { scorerPaths: 'folders' } })).status, 200);
      const again = await post(`/api/v1/deployments/${id}/executions`, form([['input', 'x\n1\n', 'data.csv']]));
      const failed = await settle(again.body.id, id);
      assert.equal(failed.status, 'Failed');
      assert.match(failed.message, /AssertionError/);
    });

    test('a scorer that raises: Failed with its exception; bad requests refused', async () => {
      const started = await post(`/api/v1/deployments/${depId}/executions`, form([['input', 'x\nboom\n', 'bad.csv']]));
      const failed = await settle(started.body.id);
      assert.equal(failed.status, 'Failed');
      assert.match(failed.message, /RuntimeError: column x must be numeric/);
      assert.ok(!failed.message.includes(s.dataDir), 'no server paths in the message');
      assert.equal((await call('GET', `/api/v1/jobs/${failed.jobId}`)).body.attempt, 1, "the scorer's own error is not retried");
      const early = await call('GET', `/api/v1/deployments/${depId}/executions/${failed.id}/result`);
      assert.equal(early.status, 409);

      const tok = await call('POST', '/api/v1/tokens', { name: `batch-client-${dialect}`, kind: 'group', group: 'default' });
      const viaGroupToken = await fetch(`${s.url}/api/v1/deployments/${depId}/executions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok.body.secret}` },
        body: form([['input', 'x\n4\n', 'g.csv']]),
      });
      assert.equal(viaGroupToken.status, 202, 'a group token runs executions as it calls predict');
      assert.equal((await settle(((await viaGroupToken.json()) as { id: string }).id)).status, 'Succeeded');

      const none = await post(`/api/v1/deployments/${depId}/executions`, form([['note', 'no file']]));
      assert.equal(none.status, 400);
      const wrongField = await post(`/api/v1/deployments/${depId}/executions`, form([['model', 'x', 'x.csv']]));
      assert.equal(wrongField.status, 400);
      assert.match(wrongField.body.error.message, /Unknown file field "model": use input/);
      // The input keeps the name it was sent with, so it must be a plain file name.
      for (const unsafe of ['../x.csv', '.hidden.csv']) {
        const refused = await post(`/api/v1/deployments/${depId}/executions`, form([['input', 'x\n1\n', unsafe]]));
        assert.equal(refused.status, 400, unsafe);
        assert.match(refused.body.error.message, /send a plain file name/);
      }
      const two = await post(
        `/api/v1/deployments/${depId}/executions`,
        form([
          ['input', 'x\n1\n', 'a.csv'],
          ['input', 'x\n1\n', 'b.csv'],
        ]),
      );
      assert.equal(two.status, 400);
      const sync = await call('POST', `/api/v1/deployments/${depId}/predict`, { x: 1 });
      assert.equal(sync.status, 409);
      assert.match(sync.body.error.message, /asynchronous: send a file/);
      assert.equal((await call('GET', `/api/v1/deployments/${depId}/executions/nope`)).status, 404);
    });
  });
}
