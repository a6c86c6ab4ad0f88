import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { dailyPipeline, PREP_SCRIPT, USE_SCRIPT } from '../testing/pipeline-scripts.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const SCORER = 'def score(data, base_path):\n    return {"ok": True}\n';

/**
 * Every job says what it works for. The server runs no worker (FORJA_WORKERS=0), so the jobs the
 * API queues stay queued and nothing needs a Python environment.
 */
for (const dialect of DIALECTS) {
  describe(`job owners on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const send = async (method: string, p: string, fd: FormData) => {
      const r = await fetch(`${s.url}${p}`, { method, headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };
    const csv = async (table: string, body: string) => {
      const r = await http(s.url, 'POST', `/api/v1/lake/tables/${table}/rows`, { token: s.adminToken, rawBody: body, headers: { 'content-type': 'text/csv' } });
      assert.equal(r.status, 201, r.text);
    };

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_WORKERS: '0' } });
    });
    after(async () => {
      await s.close();
    });

    test('the list and a job name the deployment, pipeline run, monitor run, project, training run and lake table they belong to', async () => {
      const dep = new FormData();
      dep.append('name', 'credit-scorer');
      dep.append('source', new Blob([SCORER]), 'scorer.py');
      dep.append('model', new Blob(['{}']), 'model.json');
      const deployment = await send('POST', '/api/v1/deployments', dep);
      assert.equal(deployment.status, 201, JSON.stringify(deployment.body));

      const pipe = new FormData();
      pipe.append('definition', new Blob([dailyPipeline()]), 'pipeline.yaml');
      pipe.append('file', new Blob([PREP_SCRIPT]), 'prep.py');
      pipe.append('file', new Blob([USE_SCRIPT]), 'use.py');
      assert.equal((await send('PUT', '/api/v1/pipelines/daily', pipe)).status, 200);
      const pipelineRun = await call('POST', '/api/v1/pipelines/daily/runs', {});
      assert.equal(pipelineRun.status, 202, pipelineRun.text);

      await csv('traffic', 'ts,v\n2026-12-01 10:00:00,1\n2026-12-01 11:00:00,2\n');
      await csv('reference_rows', 'ts,v\n2026-11-01 10:00:00,1\n');
      const monitor = await call('POST', '/api/v1/monitors', {
        name: 'traffic-watch',
        target: { table: 'traffic', timeColumn: 'ts' },
        reference: { kind: 'table', table: 'reference_rows' },
        period: 'day',
        scheduled: false,
      });
      assert.equal(monitor.status, 201, monitor.text);
      const monitorRun = await call('POST', `/api/v1/monitors/${monitor.body.id}/runs`, {});
      assert.ok(monitorRun.status < 300, monitorRun.text);

      // Kinds whose API needs a built environment first: queued as their services queue them, naming real objects where they exist.
      const project = await call('POST', '/api/v1/batch/projects', { name: 'nightly-report' });
      assert.equal(project.status, 201, project.text);
      const defaultGroup = (await s.server.services.db.kysely.selectFrom('groups').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id;
      const queue = async (kind: string, params: Record<string, unknown>) =>
        (await s.server.services.engine.enqueue({ kind, groupId: defaultGroup, params }))!.id;
      const batchRun = await queue('batch.run', { runId: 'r-1', projectId: project.body.id, project: 'nightly-report', version: 1 });
      const goneTraining = await queue('training.run', { trainingId: 'no-such-training', group: 'default' });
      const delivery = await queue('webhook.deliver', { deliveryId: 'd-1', webhook: 'to-slack' });
      const scoring = await queue('lake.batch_predict', {
        sourceTable: 'traffic',
        model: 'models:/m/1',
        outputTable: 'traffic_scored',
        staged: { name: 'm', version: '1', kind: 'pickle', path: '/nowhere', requirements: '' },
      });
      const ownerless = await queue('test.ownerless', {});

      const listed = await call('GET', '/api/v1/jobs?limit=100');
      assert.equal(listed.status, 200, listed.text);
      const owners = new Map((listed.body.items as any[]).map((j) => [j.id, { kind: j.kind, owner: j.owner }]));
      const ofKind = (kind: string) => [...owners.values()].filter((j) => j.kind === kind).map((j) => j.owner);
      assert.deepEqual(ofKind('deployment.build'), [{ type: 'deployment', id: deployment.body.deployment.id, name: 'credit-scorer', parentId: null }]);
      assert.deepEqual(ofKind('pipeline.step'), [{ type: 'pipeline_run', id: pipelineRun.body.id, name: 'daily', parentId: null }]);
      assert.equal(ofKind('monitor.run').length, 1);
      assert.deepEqual(ofKind('monitor.run')[0], { type: 'monitor_run', id: ofKind('monitor.run')[0].id, name: 'traffic-watch', parentId: monitor.body.id });
      assert.deepEqual(owners.get(batchRun)?.owner, { type: 'project', id: project.body.id, name: 'nightly-report', parentId: null });
      assert.deepEqual(owners.get(delivery)?.owner, { type: 'webhook', id: 'to-slack', name: 'to-slack', parentId: null });
      assert.deepEqual(owners.get(scoring)?.owner, { type: 'lake_table', id: 'traffic_scored', name: 'traffic_scored', parentId: null });
      // A training run that does not exist, and a kind that belongs to nothing: no owner, not an error.
      assert.equal(owners.get(goneTraining)?.owner, null);
      assert.equal(owners.get(ownerless)?.owner, null);

      // One job read alone names its owner the same way.
      const one = await call('GET', `/api/v1/jobs/${batchRun}`);
      assert.deepEqual(one.body.owner, owners.get(batchRun)?.owner);
      // The monitor run's id is the one the monitor lists.
      const runs = await call('GET', `/api/v1/monitors/${monitor.body.id}/runs`);
      assert.equal(runs.status, 200, runs.text);
      assert.ok(
        (runs.body.items as any[]).some((r) => r.id === ofKind('monitor.run')[0].id),
        runs.text,
      );

      // A deleted deployment leaves its jobs without an owner.
      assert.equal((await call('DELETE', `/api/v1/deployments/${deployment.body.deployment.id}`)).status < 300, true);
      const after = await call('GET', `/api/v1/jobs/${deployment.body.buildJobId}`);
      assert.equal(after.status, 200, after.text);
      assert.equal(after.body.owner, null);
    });
  });
}
