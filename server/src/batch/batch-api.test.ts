import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

// A batch script as DHuolib users write them: parameters in, Forja's API reachable with the run's token.
const SCRIPT = `
import json, os, sys, time, urllib.request
params = json.loads(os.environ["FORJA_PARAMS"])
mode = params.get("mode")
if mode == "fail":
    print("loading the table")
    print("KeyError: 'churn'", file=sys.stderr)
    sys.exit(3)
if mode == "forever":
    while True:
        time.sleep(1)
if mode == "sleep":
    time.sleep(params["seconds"])
req = urllib.request.Request(os.environ["FORJA_URL"] + "/api/v1/whoami", headers={"Authorization": "Bearer " + os.environ["FORJA_TOKEN"]})
me = json.load(urllib.request.urlopen(req))
open("token.txt", "w").write(os.environ["FORJA_TOKEN"])
print("run", os.environ["FORJA_RUN_ID"], "of", os.environ["FORJA_PROJECT"], "as", me["tokenName"], "with", json.dumps(params, sort_keys=True))
print("params file:", open("params.json").read().replace("\\n", ""))
`;

for (const dialect of DIALECTS) {
  describe(`batch projects on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, p: string, body?: unknown, token?: string, headers?: Record<string, string>) =>
      http(s.url, method, p, { token: token ?? s.adminToken, body, headers });
    const deploy = async (project: string, script: string, version = '') => {
      const fd = new FormData();
      fd.append('source', new Blob([script]), 'job.py');
      if (version) fd.append('pythonVersion', version);
      const r = await fetch(`${s.url}/api/v1/batch/projects/${project}/deploys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: fd,
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    const finished = async (jobId: string) => {
      for (;;) {
        const j = (await call('GET', `/api/v1/jobs/${jobId}?waitSeconds=30`)).body;
        if (!['queued', 'running'].includes(j.status)) return j;
      }
    };
    const logOf = async (jobId: string) => (await call('GET', `/api/v1/jobs/${jobId}/logs`)).body.lines.map((l: { line: string }) => l.line) as string[];

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.close());

    test('create, deploy (built), run with parameters and a scoped token that is revoked after', async () => {
      assert.equal((await call('POST', '/api/v1/batch/projects', { name: 'churn-scoring', clusterSize: 4 })).status, 400, 'cluster size 4');
      const created = await call('POST', '/api/v1/batch/projects', { name: 'churn-scoring', description: 'nightly' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.clusterSize, 1);
      assert.equal((await call('POST', '/api/v1/batch/projects', { name: 'churn-scoring' })).status, 409);
      const early = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: {} });
      assert.equal(early.status, 409);
      assert.match(early.body.error.message, /no Ready deploy yet/);

      const d = await deploy('churn-scoring', SCRIPT);
      assert.equal(d.status, 202, JSON.stringify(d.body));
      assert.equal(d.body.deploy.version, 1);
      assert.equal((await finished(d.body.buildJobId)).status, 'succeeded');
      const deploys = (await call('GET', '/api/v1/batch/projects/churn-scoring/deploys')).body.items;
      assert.deepEqual(
        deploys.map((x: { version: number; status: string }) => [x.version, x.status]),
        [[1, 'Ready']],
      );
      assert.equal((await call('GET', '/api/v1/batch/projects/churn-scoring')).body.currentVersion, 1);

      const run = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: { date: '2026-11-23', rows: 10 } });
      assert.equal(run.status, 202, run.text);
      const job = await finished(run.body.jobId);
      assert.equal(job.status, 'succeeded', job.error);
      const lines = await logOf(run.body.jobId);
      assert.ok(
        lines.includes(`run ${run.body.id} of churn-scoring as job ${run.body.jobId}: batch run ${run.body.id} with {"date": "2026-11-23", "rows": 10}`),
        lines.join('\n'),
      );
      assert.ok(lines.some((l) => l.startsWith('params file: {  "date": "2026-11-23"')));
      const project = (await call('GET', '/api/v1/batch/projects/churn-scoring')).body;
      const token = readFileSync(path.join(s.dataDir, 'batch', project.id, 'runs', run.body.id, 'token.txt'), 'utf8');
      assert.equal((await call('GET', '/api/v1/whoami', undefined, token)).status, 401, "the run's token died with the run");
      const history = (await call('GET', '/api/v1/batch/projects/churn-scoring/runs')).body.items;
      assert.equal(history[0].status, 'succeeded');
      assert.equal(history[0].version, 1);
    });

    test('a failing script fails with its last lines; one that loops is killed at its timeout', async () => {
      const failed = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: { mode: 'fail' } });
      const f = await finished(failed.body.jobId);
      assert.equal(f.status, 'failed');
      assert.equal(f.error, "The process exited with code 3. Last lines:\nloading the table\nKeyError: 'churn'");
      const forever = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: { mode: 'forever' }, timeoutSeconds: 2 });
      const t = await finished(forever.body.jobId);
      assert.equal(t.status, 'failed');
      assert.match(t.error, /^Timed out after 2 s/);
      assert.equal((await call('GET', `/api/v1/batch/projects/churn-scoring/runs/${forever.body.id}`)).body.status, 'failed');
    });

    test('cluster size 1 runs one at a time; cancel a queued run; a new deploy is what runs next', async () => {
      const a = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: { mode: 'sleep', seconds: 1.5 } });
      const b = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: { mode: 'sleep', seconds: 0.1 } });
      const [ja, jb] = [await finished(a.body.jobId), await finished(b.body.jobId)];
      assert.equal(ja.status, 'succeeded');
      assert.equal(jb.status, 'succeeded');
      assert.ok(jb.startedAt >= ja.finishedAt, 'the second run waited for the first');
      assert.ok((await logOf(b.body.jobId)).some((l) => /runs 1 of this project at a time; waiting for a slot/.test(l)));

      const blocker = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: { mode: 'sleep', seconds: 2 } });
      const queued = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: {} });
      const cancelled = await call('POST', `/api/v1/batch/projects/churn-scoring/runs/${queued.body.id}/cancel`);
      assert.equal(cancelled.status, 200);
      assert.equal((await finished(queued.body.jobId)).status, 'cancelled');
      await finished(blocker.body.jobId);

      const v2 = await deploy('churn-scoring', SCRIPT.replace('print("run"', 'print("v2 run"'));
      await finished(v2.body.buildJobId);
      const next = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', { params: {} });
      await finished(next.body.jobId);
      assert.equal(next.body.version, 2);
      assert.ok((await logOf(next.body.jobId)).some((l) => l.startsWith('v2 run ')));
    });

    test('bad input: another group 404, no script 400, cluster profiles for admins only', async () => {
      await call('POST', '/api/v1/groups', { name: `elsewhere-${dialect}` });
      const other = await call('GET', '/api/v1/batch/projects/churn-scoring', undefined, undefined, { 'x-forja-group': `elsewhere-${dialect}` });
      assert.equal(other.status, 404);
      const foreign = new FormData();
      foreign.append('source', new Blob(['print(1)']), 'job.py');
      const deployElsewhere = await fetch(`${s.url}/api/v1/batch/projects/churn-scoring/deploys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'x-forja-group': `elsewhere-${dialect}` },
        body: foreign,
      });
      assert.equal(deployElsewhere.status, 404, 'deploying to a project of another group');
      const runElsewhere = await call('POST', '/api/v1/batch/projects/churn-scoring/runs', {}, undefined, { 'x-forja-group': `elsewhere-${dialect}` });
      assert.equal(runElsewhere.status, 404);
      const fd = new FormData();
      fd.append('source', new Blob(['x']), 'job.sh');
      const notPy = await fetch(`${s.url}/api/v1/batch/projects/churn-scoring/deploys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: fd,
      });
      assert.equal(notPy.status, 400);
      const clusters = (await call('GET', '/api/v1/clusters')).body.items;
      assert.deepEqual(
        clusters.map((c: { size: number; parallelRuns: number }) => [c.size, c.parallelRuns]),
        [
          [1, 1],
          [2, 2],
          [3, 4],
        ],
      );
      await call('POST', '/api/v1/users', { username: `ed-${dialect}`, password: 'editor-password' });
      const tok = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: `ed-${dialect}`, password: 'editor-password' } })).body.token;
      assert.equal((await call('PATCH', '/api/v1/clusters/2', { parallelRuns: 3 }, tok)).status, 403);
      const changed = await call('PATCH', '/api/v1/clusters/2', { parallelRuns: 3, memoryMb: 3000 });
      assert.deepEqual([changed.body.parallelRuns, changed.body.memoryMb], [3, 3000]);
      // Sizes are 1 to 3: anything else is refused before the database sees it (a size past 32 bits was a 500 on PostgreSQL).
      for (const size of ['4', '0', '9007199254740991', '-9007199254740991']) {
        const r = await call('PATCH', `/api/v1/clusters/${size}`, { parallelRuns: 3 });
        assert.equal(r.status, 400, `${size}: ${r.text}`);
        assert.match(r.body.error.message, /cluster sizes are 1, 2 or 3/);
      }
      const nothing = await call('PATCH', '/api/v1/clusters/2', {});
      assert.equal(nothing.status, 400, nothing.text);
      assert.equal(nothing.body.error.message, 'Nothing to change: send at least one of name, cpus, memoryMb, parallelRuns.');
    });

    test('deploys sent at the same moment get distinct versions, not a 500 from the version key', async () => {
      assert.equal((await call('POST', '/api/v1/batch/projects', { name: 'busy-deploys' })).status, 201);
      const results = await Promise.all(Array.from({ length: 4 }, () => deploy('busy-deploys', 'print("hi")')));
      assert.deepEqual(
        results.map((r) => r.status),
        [202, 202, 202, 202],
        JSON.stringify(results.map((r) => r.body)),
      );
      assert.deepEqual(results.map((r) => r.body.deploy.version).sort(), [1, 2, 3, 4]);
      for (const r of results) await finished(r.body.buildJobId);
    });
  });
}
