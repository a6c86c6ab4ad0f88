import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

// Neomaril's async contract: score(data_path, model_path) writes its output next to the input.
const ASYNC_SCORER = `
import csv, os

def score(data_path, model_path):
    factor = float(open(os.path.join(os.environ["BASE_PATH"], os.environ["modelFileName"])).read())
    out = os.path.join(os.path.dirname(data_path), "scored.csv")
    with open(data_path) as f, open(out, "w", newline="") as g:
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
    const settle = async (id: string) => {
      for (let i = 0; i < 200; i++) {
        const e = (await call('GET', `/api/v1/deployments/${depId}/executions/${id}`)).body;
        if (e.status === 'Succeeded' || e.status === 'Failed') return e;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the execution did not finish');
    };

    before(async () => {
      s = await startTestServer({ dialect });
      const created = await post(
        '/api/v1/deployments',
        form([
          ['name', 'batch-scorer'],
          ['operation', 'async'],
          ['source', ASYNC_SCORER, 'scorer.py'],
          ['model', '3', 'factor.txt'],
        ]),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      depId = created.body.deployment.id;
      const job = (await call('GET', `/api/v1/jobs/${created.body.buildJobId}?waitSeconds=60`)).body;
      assert.equal(job.status, 'succeeded', job.error);
    });
    after(() => s.close());

    test('a file in, Requested → Running → Succeeded, the output file out, the run in the log', async () => {
      const started = await post(`/api/v1/deployments/${depId}/executions`, form([['input', 'x\n1\n2.5\n', 'data.csv']]));
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.equal(started.body.status, 'Requested');
      assert.equal(started.body.inputName, 'data.csv');
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

    test('a preprocessing script runs on the input file before the scorer', async () => {
      const pre =
        'import os\n\ndef preprocess(data_path, base_path):\n    out = os.path.join(os.path.dirname(data_path), "clean.csv")\n    lines = [l for l in open(data_path) if l.strip() != "skip"]\n    open(out, "w").write("".join(lines))\n    return out\n';
      const created = await post(
        '/api/v1/deployments',
        form([
          ['name', 'batch-pre'],
          ['operation', 'async'],
          ['source', ASYNC_SCORER, 'scorer.py'],
          ['model', '2', 'factor.txt'],
          ['preprocess', pre, 'clean.py'],
        ]),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const job = (await call('GET', `/api/v1/jobs/${created.body.buildJobId}?waitSeconds=60`)).body;
      assert.equal(job.status, 'succeeded', job.error);
      const id = created.body.deployment.id;
      const started = await fetch(`${s.url}/api/v1/deployments/${id}/executions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: form([['input', 'x\n1\nskip\n3\n', 'in.csv']]),
      });
      const exec = (await started.json()) as any;
      let done: any;
      for (let i = 0; i < 200 && !['Succeeded', 'Failed'].includes(done?.status); i++) {
        done = (await call('GET', `/api/v1/deployments/${id}/executions/${exec.id}`)).body;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(done.status, 'Succeeded', done.message);
      const result = await fetch(`${s.url}/api/v1/deployments/${id}/executions/${exec.id}/result`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal((await result.text()).replace(/\r/g, ''), 'x,score\n1,2.0\n3,6.0\n');
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
