import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { dailyPipeline, PREP_SCRIPT, TRAIN_MODEL_SCRIPT, USE_SCRIPT } from '../testing/pipeline-scripts.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const CODEX = `
group: default
python_version: ""
training:
  training_type: Custom
  experiment_name: codex-flow
  source: train.py
  data: data.csv
  packages: requirements.txt
  train_function: train_model
deploy:
  name: codex-model
  operation: sync
monitoring:
  config: configuration.json
`;

/** MLOps Codex's monitoring configuration; TrainData is filled in with the pipeline's training run, as its run_monitoring does. */
const CODEX_MONITORING = JSON.stringify({ Period: 'Day', TrainData: {}, InputCols: ['x'], OutputCols: ['prediction'] });

type File = { name: string; content: string };

for (const dialect of DIALECTS) {
  describe(`pipelines on ${dialect}`, () => {
    let s: TestServer;
    let dir: string;
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const upload = async (name: string, definition: string, files: File[]) => {
      const fd = new FormData();
      fd.append('definition', new Blob([definition]), 'pipeline.yaml');
      for (const f of files) fd.append('file', new Blob([f.content]), f.name);
      const r = await fetch(`${s.url}/api/v1/pipelines/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };
    const finished = async (runId: string) => {
      for (let i = 0; i < 600; i++) {
        const run = (await call('GET', `/api/v1/pipeline-runs/${runId}`)).body;
        if (run.status !== 'running') return run;
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`pipeline run ${runId} did not finish`);
    };
    const steps = (run: any) => Object.fromEntries(run.steps.map((st: { id: string; status: string }) => [st.id, st.status]));

    before(async () => {
      s = await startTestServer({ dialect });
      dir = await mkdtemp(path.join(tmpdir(), 'forja-pipe-'));
    });
    after(async () => {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('a DAG of scripts: parameters flow between steps; a failure skips what depends on it; retry and run-from-step', async () => {
      const up = await upload('daily', dailyPipeline(), [
        { name: 'prep.py', content: PREP_SCRIPT },
        { name: 'use.py', content: USE_SCRIPT },
      ]);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.deepEqual(up.body.steps, [
        { id: 'prep', action: 'script', needs: [] },
        { id: 'use', action: 'script', needs: ['prep'] },
        { id: 'after', action: 'script', needs: ['use'] },
      ]);
      const started = await call('POST', '/api/v1/pipelines/daily/runs', { params: { day: '2026-12-01' } });
      assert.equal(started.status, 202, started.text);
      const run = await finished(started.body.id);
      assert.equal(run.status, 'succeeded', JSON.stringify(run.steps));
      assert.deepEqual(
        run.steps.map((st: { outputs: unknown }) => st.outputs),
        [{ rows: 3, day: '2026-12-01' }, { total: 6 }, { total: 12 }],
      );
      const useLog = (await call('GET', `/api/v1/jobs/${run.steps[1].jobId}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.ok(useLog.includes('got 3 rows for day 2026-12-01'), useLog.join('\n'));

      // The gate (an experiment) is missing: "use" fails, "after" is skipped, the run fails.
      const gate = `gate-${dialect}`;
      const failing = await finished((await call('POST', '/api/v1/pipelines/daily/runs', { params: { gate } })).body.id);
      assert.equal(failing.status, 'failed');
      assert.deepEqual(steps(failing), { prep: 'succeeded', use: 'failed', after: 'skipped' });
      assert.match(failing.steps[1].error, /the gate is closed/);
      assert.equal((await call('POST', '/api/v1/experiments', { name: gate })).status, 201);
      const retried = await call('POST', `/api/v1/pipeline-runs/${failing.id}/retry`);
      assert.equal(retried.status, 202, retried.text);
      const healed = await finished(failing.id);
      assert.equal(healed.status, 'succeeded');
      assert.equal(healed.steps[0].jobId, failing.steps[0].jobId, 'what succeeded is not run again');
      assert.equal((await call('POST', `/api/v1/pipeline-runs/${failing.id}/retry`)).status, 409);

      const partial = await finished((await call('POST', '/api/v1/pipelines/daily/runs', { fromStep: 'use' })).body.id);
      assert.deepEqual(steps(partial), { prep: 'reused', use: 'succeeded', after: 'succeeded' });
      assert.equal(partial.steps[0].jobId, null);
      assert.equal((await call('POST', '/api/v1/pipelines/daily/runs', { fromStep: 'nope' })).status, 400);
      assert.equal((await call('POST', '/api/v1/pipelines/daily/runs', { params: { unknown: 1 } })).status, 400);
      assert.equal((await call('GET', '/api/v1/pipelines/daily/runs')).body.items.length, 3);
    });

    test('a run whose advance was lost (the server died between a step ending and the next being queued) is repaired without anyone reading it', async () => {
      const done = await finished((await call('POST', '/api/v1/pipelines/daily/runs', {})).body.id);
      assert.equal(done.status, 'succeeded');
      // Rewind to the moment after "use"'s job succeeded but before the run moved on.
      const k = s.server.services.db.kysely;
      await k
        .updateTable('pipeline_steps')
        .set({ status: 'running', outputs: null, finished_at: null })
        .where('run_id', '=', done.id)
        .where('step_id', '=', 'use')
        .execute();
      await k
        .updateTable('pipeline_steps')
        .set({ status: 'pending', job_id: null, outputs: null, started_at: null, finished_at: null })
        .where('run_id', '=', done.id)
        .where('step_id', '=', 'after')
        .execute();
      await k.updateTable('pipeline_runs').set({ status: 'running', finished_at: null }).where('id', '=', done.id).execute();
      assert.equal(await s.server.services.pipelines.reconcile(), 1);
      const stored = async () => (await k.selectFrom('pipeline_runs').select('status').where('id', '=', done.id).executeTakeFirstOrThrow()).status;
      for (let i = 0; i < 300 && (await stored()) === 'running'; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await stored(), 'succeeded');
      const steps = await k
        .selectFrom('pipeline_steps')
        .select(['step_id', 'status', 'job_id', 'outputs'])
        .where('run_id', '=', done.id)
        .orderBy('step_id')
        .execute();
      const after = steps.find((x) => x.step_id === 'after')!;
      assert.deepEqual([after.status, JSON.parse(after.outputs!)], ['succeeded', { total: 12 }]);
      assert.notEqual(after.job_id, done.steps[2].jobId, '"after" ran again as a new job');
      assert.equal(await s.server.services.pipelines.reconcile(), 0, 'nothing left to repair');
    });

    test("MLOps Codex's pipeline YAML: training, then promote and deploy, then a monitor of the deployment", async () => {
      const data = ['x,y', ...Array.from({ length: 60 }, (_, i) => `${i},${i >= 30 ? 1 : 0}`)].join('\n');
      const up = await upload('codex', CODEX, [
        { name: 'train.py', content: TRAIN_MODEL_SCRIPT },
        { name: 'data.csv', content: data },
        { name: 'requirements.txt', content: 'scikit-learn\n' },
        { name: 'configuration.json', content: CODEX_MONITORING },
      ]);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.deepEqual(up.body.steps, [
        { id: 'training', action: 'train', needs: [] },
        { id: 'deploy', action: 'register', needs: ['training'] },
        { id: 'monitoring', action: 'monitor', needs: ['deploy'] },
      ]);
      const run = await finished((await call('POST', '/api/v1/pipelines/codex/runs', {})).body.id);
      assert.equal(run.status, 'succeeded', JSON.stringify(run.steps));
      assert.ok(run.steps[0].outputs.accuracy > 0.9);
      const deployed = run.steps[1].outputs;
      assert.deepEqual([deployed.model, deployed.version], ['codex-model', '1']);
      const predicted = await call('POST', `/api/v1/deployments/${deployed.deploymentId}/predict`, [{ x: 50 }, { x: 2 }]);
      assert.deepEqual(predicted.body, { predictions: [1, 0] });
      const monitor = (await call('GET', `/api/v1/monitors/${run.steps[2].outputs.monitorId}`)).body;
      assert.deepEqual(
        [monitor.name, monitor.deploymentId, monitor.period, monitor.inputColumns, monitor.reference],
        ['codex-model', deployed.deploymentId, 'day', ['x'], { kind: 'training', trainingId: run.steps[0].outputs.trainingId }],
      );
      // Run again from the register step: the training run was promoted once, so the step goes on from that version.
      const again = await finished((await call('POST', '/api/v1/pipelines/codex/runs', { fromStep: 'deploy' })).body.id);
      assert.equal(again.status, 'succeeded', JSON.stringify(again.steps));
      assert.deepEqual(steps(again), { training: 'reused', deploy: 'succeeded', monitoring: 'succeeded' });
      assert.equal(again.steps[2].outputs.monitorId, monitor.id, 'the monitor is made once');
      assert.deepEqual(again.steps[1].outputs, deployed);
      assert.equal((await call('GET', '/api/v1/models/codex-model/versions/2')).status, 404, 'no second version');
    });

    test('drift-check: PSI per column between two lake tables; failOnDrift fails the step', async () => {
      const seed = (name: string, csv: string) =>
        fetch(`${s.url}/api/v1/lake/tables/${name}/rows`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
          body: csv,
        });
      const rows = (shift: number) => ['x,kind', ...Array.from({ length: 1000 }, (_, i) => `${i + shift},${i % 2 ? 'b' : 'a'}`)].join('\n');
      assert.equal((await seed('train_features', rows(0))).status, 201);
      assert.equal((await seed('live_features', rows(500))).status, 201);
      const yaml = [
        'steps:',
        '  - id: watch',
        '    action: drift-check',
        '    with: { reference: train_features, current: live_features, threshold: 0.25 }',
        '  - id: gate',
        '    action: drift-check',
        '    needs: [watch]',
        '    with: { reference: train_features, current: live_features, columns: [x], failOnDrift: true }',
      ].join('\n');
      assert.equal((await upload('drift', yaml, [])).status, 200);
      const run = await finished((await call('POST', '/api/v1/pipelines/drift/runs', {})).body.id);
      assert.deepEqual(steps(run), { watch: 'succeeded', gate: 'failed' });
      const out = run.steps[0].outputs;
      assert.deepEqual(out.drifted, ['x']);
      assert.ok(out.psi.x > 4 && out.psi.kind < 1e-9, JSON.stringify(out.psi));
      assert.deepEqual([out.referenceRows, out.currentRows, out.threshold], [1000, 1000, 0.25]);
      assert.match(run.steps[1].error, /Drift at or above PSI 0.1 in x/);
    });

    test('bad pipeline files: a cycle, an unknown step or action, a missing file, monitoring, bad YAML; another group', async () => {
      const files = [{ name: 'a.py', content: 'print(1)' }];
      const cases: [string, RegExp][] = [
        ['steps:\n  - {id: a, script: a.py, needs: [b]}\n  - {id: b, script: a.py, needs: [a]}\n', /cycle: (a → b → a|b → a → b)/],
        ['steps:\n  - {id: a, script: a.py, needs: [ghost]}\n', /needs "ghost", which is not a step/],
        ['steps:\n  - {id: a, action: explode}\n', /unknown action "explode"/],
        ['steps:\n  - {id: a, script: missing.py}\n', /script "missing.py" is not among the uploaded files/],
        ['steps:\n  - {id: a, script: a.py}\n  - {id: b, script: a.py, params: {x: "${{ steps.a.outputs.y }}"}}\n', /does not need it/],
        ['steps:\n  - {id: a, script: a.py, params: {x: "${{ secrets.k }}"}}\n', /Unknown reference/],
        ['training: {source: a.py, data: a.py, experiment_name: e}\nmonitoring: {config: c.json}\n', /monitors what "deploy" deployed/],
        [
          'training: {source: a.py, data: a.py, experiment_name: e}\ndeploy: {name: m}\nmonitoring: {config: c.json}\n',
          /config "c.json" is not among the uploaded files/,
        ],
        ['steps: [ {id: a\n', /not valid YAML/],
        ['- just a list\n', /must be a YAML mapping/],
        ['steps:\n  - {id: a, script: a.py}\n  - {id: a, script: a.py}\n', /Two steps are named "a"/],
      ];
      for (const [yaml, message] of cases) {
        const r = await upload('bad', yaml, files);
        assert.equal(r.status, 400, yaml);
        assert.match(r.body.error.message, message, yaml);
      }
      assert.equal((await call('GET', '/api/v1/pipelines/bad')).status, 404);
      assert.equal((await upload('Bad Name', 'steps: []', files)).status, 400);
      await call('POST', '/api/v1/groups', { name: `pipes-${dialect}` });
      const other = await http(s.url, 'GET', '/api/v1/pipelines/daily', { token: s.adminToken, headers: { 'x-forja-group': `pipes-${dialect}` } });
      assert.equal(other.status, 404);
    });
  });
}
