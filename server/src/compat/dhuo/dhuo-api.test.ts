import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DIALECTS } from '../../testing/databases.js';
import { http, startTestServer, until, type TestServer } from '../../testing/server.js';

const MiB = 1024 * 1024;
const API = '/dhuo/api';

for (const dialect of DIALECTS) {
  describe(`DHuolib wire layer on ${dialect}`, () => {
    let s: TestServer;
    let outsider: string;
    /** As dhuolib calls: its token in X-Dhuo-Access-Key, query strings written raw. */
    const dhuo = (method: string, p: string, body?: unknown, token = s.adminToken, prefix = API) =>
      http(s.url, method, `${prefix}/${p}`, { body, headers: { 'x-dhuo-access-key': token } });
    const admin = (method: string, p: string, body?: unknown, headers?: Record<string, string>) =>
      http(s.url, method, p, { token: s.adminToken, body, headers });
    /** One upload_chunk call, shaped as dhuolib's requests call builds it (the file name is the local path). */
    const chunk = async (experiment: string, file: 'requirements_path' | 'modelpkl_path', bytes: Uint8Array, token = s.adminToken) => {
      const fd = new FormData();
      fd.append('experiment_name', experiment);
      fd.append('file_name', file);
      fd.append(file, new Blob([new Uint8Array(bytes)]), `/home/ana/notebooks/${file === 'modelpkl_path' ? 'iris.pkl' : 'requirements.txt'}`);
      const r = await fetch(`${s.url}${API}/runs/upload_chunk`, { method: 'POST', headers: { 'x-dhuo-access-key': token }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };
    /** execute_run_for_experiment: every file in 10 MiB chunks, requirements first, then POST runs. */
    const uploadRun = async (experiment: string, pickle: Uint8Array, requirements: Uint8Array, tags: Record<string, string> = {}) => {
      for (const [file, bytes] of [
        ['requirements_path', requirements],
        ['modelpkl_path', pickle],
      ] as const) {
        for (let at = 0; at < bytes.length; at += 10 * MiB) {
          const r = await chunk(experiment, file, bytes.subarray(at, at + 10 * MiB));
          assert.equal(r.status, 200, JSON.stringify(r.body));
        }
      }
      return dhuo('POST', 'runs', { type_model: 'lightgbm', experiment_name: experiment, tags });
    };
    const download = async (p: string, token = s.adminToken, prefix = API) => {
      const r = await fetch(`${s.url}${prefix}/${p}`, { headers: { 'x-dhuo-access-key': token } });
      return { status: r.status, bytes: new Uint8Array(await r.arrayBuffer()) };
    };

    before(async () => {
      s = await startTestServer({ dialect });
      await admin('POST', '/api/v1/users', { username: 'outsider', password: 'outsider-password' });
      await admin('POST', '/api/v1/groups', { name: 'other-team' });
      await admin('PUT', '/api/v1/groups/other-team/members/outsider', { role: 'editor' });
      await admin('DELETE', '/api/v1/groups/default/members/outsider');
      outsider = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'outsider', password: 'outsider-password' } })).body.token;
    });
    after(() => s.close());

    test('experiments: an existing name returns the existing one; search takes raw MLflow filters and view_type', async () => {
      assert.equal((await http(s.url, 'POST', `${API}/experiment`, { body: { experiment_name: 'lightgbm-iris' } })).status, 401, 'no key');
      const created = await dhuo('POST', 'experiment', { experiment_name: 'lightgbm-iris', experiment_tags: { tag: 'iris', version: 'v1' } });
      assert.equal(created.status, 200, created.text);
      assert.deepEqual(created.body.tags, { tag: 'iris', version: 'v1' });
      const again = await dhuo('POST', 'experiment', { experiment_name: 'lightgbm-iris', experiment_tags: { tag: 'other' } });
      assert.equal(again.body.experiment_id, created.body.experiment_id);
      assert.deepEqual(again.body.tags, { tag: 'iris', version: 'v1' }, 'tags left as they were');
      await dhuo('POST', 'experiment', { experiment_name: 'wine-regression', experiment_tags: { version: 'v2' } });
      assert.equal((await dhuo('POST', 'experiment', { experiment_tags: {} })).status, 400);

      // As dhuolib writes them: spaces, quotes and a lone % unencoded (fetch encodes only the spaces and quotes).
      const like = await dhuo('GET', "experiment/search?filter_string=tags.version LIKE 'v%'&max_results=10&page_token=&view_type=1");
      assert.equal(like.status, 200, like.text);
      assert.deepEqual(like.body.experiments.map((e: { experiment_name: string }) => e.experiment_name).sort(), ['lightgbm-iris', 'wine-regression']);
      const eq = await dhuo('GET', "experiment/search?filter_string=tags.version='v1'&max_results=2&page_token=&view_type=1");
      assert.deepEqual(
        eq.body.experiments.map((e: { experiment_name: string }) => e.experiment_name),
        ['lightgbm-iris'],
      );
      const paged = await dhuo('GET', 'experiment/search?filter_string=&max_results=1&page_token=&view_type=1');
      assert.equal(paged.body.experiments.length, 1);
      assert.ok(paged.body.next_page_token);
      const next = await dhuo('GET', `experiment/search?filter_string=&max_results=1&page_token=${paged.body.next_page_token}&view_type=1`);
      assert.notEqual(next.body.experiments[0].experiment_id, paged.body.experiments[0].experiment_id);
      const bad = await dhuo('GET', 'experiment/search?filter_string=tags.version LIKE&max_results=10&page_token=&view_type=1');
      assert.equal(bad.status, 400, bad.text);
      assert.equal((await dhuo('GET', 'experiment/search?filter_string=&max_results=10&page_token=&view_type=7')).status, 400);
    });

    test('chunked run upload: 10 MiB chunks become the run model; POST runs answers experiment_name, run_id, model_uri', async () => {
      await dhuo('POST', 'experiment', { experiment_name: 'chunks' });
      const pickle = randomBytes(10 * MiB + 1234);
      const requirements = Buffer.from('lightgbm==4.6.0\nscikit-learn\n');
      const run = await uploadRun('chunks', pickle, requirements, { version: 'v2', priority: 'P2' });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.experiment_name, 'chunks');
      assert.equal(run.body.model_uri, `runs:/${run.body.run_id}/model`);
      const stored = await fetch(`${s.url}/api/v1/runs/${run.body.run_id}/artifacts/file?path=model/model.pkl`, {
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      assert.deepEqual(Buffer.from(await stored.arrayBuffer()), pickle);
      const native = (await admin('GET', `/api/v1/runs/${run.body.run_id}`)).body;
      assert.equal(native.info.status, 'FINISHED');
      const tags = Object.fromEntries(native.data.tags.map((t: { key: string; value: string }) => [t.key, t.value]));
      assert.deepEqual([tags.type_model, tags.version, tags.priority, tags['forja.dhuo.upload']], ['lightgbm', 'v2', 'P2', undefined]);

      // Runs: filter_string=* lists them all (DHuolib's guide); an unknown experiment is a 204.
      const all = await dhuo('GET', 'runs/chunks?filter_string=*&max_results=10&page_token=');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(
        all.body.runs.map((r: { run_id: string }) => r.run_id),
        [run.body.run_id],
      );
      const byTag = await dhuo('GET', "runs/chunks?filter_string=tags.type_model='keras'&max_results=2&page_token=");
      assert.deepEqual(byTag.body.runs, []);
      const unknown = await dhuo('GET', "runs/no-such-experiment?filter_string=tags.type_model='keras'&max_results=2&page_token=");
      assert.equal(unknown.status, 204);
      assert.equal(unknown.text, '');
    });

    test('chunks out of order or twice are refused with 400, POST runs then ends the attempt FAILED and the next one starts clean', async () => {
      await dhuo('POST', 'experiment', { experiment_name: 'bad-chunks' });
      // The last (short) requirements chunk sent twice.
      assert.equal((await chunk('bad-chunks', 'requirements_path', Buffer.from('pandas\n'))).status, 200);
      const twice = await chunk('bad-chunks', 'requirements_path', Buffer.from('pandas\n'));
      assert.equal(twice.status, 400);
      assert.match(twice.body.error.message, /requirements_path already ended with a chunk of 7 bytes .* repeated or out of order/);
      // dhuolib ignores the refusal and goes on: every later chunk is refused too, and POST runs says why.
      const later = await chunk('bad-chunks', 'modelpkl_path', Buffer.from('pickle'));
      assert.equal(later.status, 400);
      assert.match(later.body.error.message, /This attempt is spoilt/);
      const refused = await dhuo('POST', 'runs', { type_model: 'lightgbm', experiment_name: 'bad-chunks', tags: {} });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /A chunk of this upload was refused: requirements_path already ended.*marked FAILED/);

      // A short chunk, then a full one: out of order.
      assert.equal((await chunk('bad-chunks', 'modelpkl_path', randomBytes(1000))).status, 200);
      const outOfOrder = await chunk('bad-chunks', 'modelpkl_path', randomBytes(10 * MiB));
      assert.equal(outOfOrder.status, 400);
      assert.match(outOfOrder.body.error.message, /modelpkl_path already ended with a chunk of 1000 bytes/);
      assert.equal((await dhuo('POST', 'runs', { type_model: 'lightgbm', experiment_name: 'bad-chunks' })).status, 400);

      // Requirements after the pickle started: out of order.
      assert.equal((await chunk('bad-chunks', 'modelpkl_path', randomBytes(10 * MiB))).status, 200);
      const reqLate = await chunk('bad-chunks', 'requirements_path', Buffer.from('numpy\n'));
      assert.equal(reqLate.status, 400);
      assert.match(reqLate.body.error.message, /requirements_path chunk arrived after modelpkl_path chunks/);
      assert.equal((await dhuo('POST', 'runs', { type_model: 'lightgbm', experiment_name: 'bad-chunks' })).status, 400);

      // Other bad input: a chunk over 10 MiB, a file_name dhuolib never sends, no chunks at all, an unknown experiment.
      const big = await chunk('bad-chunks', 'modelpkl_path', randomBytes(10 * MiB + 1));
      assert.equal(big.status, 413);
      assert.match(big.body.error.message, /at most 10485760 bytes/);
      const fd = new FormData();
      fd.append('experiment_name', 'bad-chunks');
      fd.append('file_name', 'script_path');
      fd.append('script_path', new Blob(['x']), 'x.py');
      const wrongName = await fetch(`${s.url}${API}/runs/upload_chunk`, { method: 'POST', headers: { 'x-dhuo-access-key': s.adminToken }, body: fd });
      assert.equal(wrongName.status, 400);
      const none = await dhuo('POST', 'runs', { type_model: 'lightgbm', experiment_name: 'bad-chunks' });
      assert.equal(none.status, 400);
      assert.match(none.body.error.message, /No file chunks of yours are waiting/);
      assert.equal((await chunk('never-created', 'modelpkl_path', Buffer.from('x'))).status, 404);

      // The failed attempts are FAILED runs; the next attempt works.
      const ok = await uploadRun('bad-chunks', Buffer.from('a pickle'), Buffer.from('lightgbm\n'));
      assert.equal(ok.status, 200, ok.text);
      const runs = (await dhuo('GET', 'runs/bad-chunks?filter_string=*&max_results=10&page_token=')).body.runs as { status: string }[];
      assert.deepEqual(runs.map((r) => r.status).sort(), ['FAILED', 'FAILED', 'FAILED', 'FINISHED']);
    });

    test('models: create at a stage, GET transitions, search, pickle download by stage or run; another group sees 404', async () => {
      await dhuo('POST', 'experiment', { experiment_name: 'models-exp' });
      const pickle = randomBytes(4096);
      const run = (await uploadRun('models-exp', pickle, Buffer.from(''))).body;
      const created = await dhuo('POST', 'models', {
        modelname: 'iris-classification',
        stage: 'Production',
        run_id: run.run_id,
        model_uri: run.model_uri,
        tags: { type_model: 'lightgbm' },
      });
      assert.equal(created.status, 200, created.text);
      assert.deepEqual(
        [created.body.model_version, created.body.model_version_name, created.body.previous_stage, created.body.current_stage, created.body.status],
        [1, 'iris-classification', 'None', 'Production', 'READY'],
      );
      const mismatched = await dhuo('POST', 'models', { modelname: 'iris-classification', stage: 'Staging', run_id: run.run_id, model_uri: 'runs:/abc/model' });
      assert.equal(mismatched.status, 400);
      assert.equal(
        (await dhuo('POST', 'models', { modelname: 'iris-classification', stage: 'Live', run_id: run.run_id, model_uri: run.model_uri })).status,
        400,
      );

      const moved = await dhuo('GET', 'models/transition-model/iris-classification?version=1&stage=Staging');
      assert.equal(moved.status, 200, moved.text);
      assert.deepEqual([moved.body.previous_stage, moved.body.current_stage], ['Production', 'Staging']);
      await dhuo('GET', 'models/transition-model/iris-classification?version=1&stage=Production');

      const found = await dhuo('GET', "models/search?filter_string=name = 'iris-classification'&max_results=2&page_token=");
      assert.equal(found.status, 200, found.text);
      assert.deepEqual(
        found.body.map((m: { model_name: string; tags: object }) => [m.model_name, m.tags]),
        [['iris-classification', { type_model: 'lightgbm' }]],
      );
      assert.deepEqual((await dhuo('GET', "models/search?filter_string=tags.type_model='keras'&max_results=2&page_token=")).body, []);

      const byStage = await download('experiment/download/batch/models-exp/iris-classification?model_stage=Production&run_id=&type_model=lightgbm');
      assert.equal(byStage.status, 200);
      assert.deepEqual(Buffer.from(byStage.bytes), pickle);
      const byRun = await download(`experiment/download/batch/models-exp/iris-classification?model_stage=&run_id=${run.run_id}&type_model=lightgbm`);
      assert.deepEqual(Buffer.from(byRun.bytes), pickle);
      assert.equal((await download('experiment/download/batch/models-exp/iris-classification?model_stage=Archived&run_id=&type_model=x')).status, 404);
      assert.equal((await download('experiment/download/batch/models-exp/iris-classification?model_stage=&run_id=&type_model=x')).status, 400);

      // Another group: the name, the run and the pickle do not exist there.
      const theirs = (p: string, body?: unknown) => dhuo(body === undefined ? 'GET' : 'POST', p, body, outsider, '/g/other-team/dhuo/api');
      assert.equal((await theirs('models/transition-model/iris-classification?version=1&stage=Archived')).status, 404);
      assert.equal(
        (
          await download(
            'experiment/download/batch/models-exp/iris-classification?model_stage=Production&run_id=&type_model=x',
            outsider,
            '/g/other-team/dhuo/api',
          )
        ).status,
        404,
      );
      const stolen = await theirs('models', { modelname: 'stolen-model', stage: 'Production', run_id: run.run_id, model_uri: run.model_uri });
      assert.equal(stolen.status, 404, stolen.text);
      assert.equal((await dhuo('GET', 'models/search?filter_string=&max_results=10&page_token=', undefined, outsider, '/g/default/dhuo/api')).status, 404);
      assert.deepEqual((await theirs('models/search?filter_string=&max_results=10&page_token=')).body, []);
    });

    test('predict_online: no credentials, so only a public deployment of that version answers; else a 401 saying how to enable it', async () => {
      await dhuo('POST', 'experiment', { experiment_name: 'online' });
      const run = (await uploadRun('online', Buffer.from('not really a pickle'), Buffer.from(''))).body;
      await dhuo('POST', 'models', { modelname: 'online-model', stage: 'Production', run_id: run.run_id, model_uri: run.model_uri });
      const deployed = await admin('POST', '/api/v1/deployments/from-model', {
        name: 'online-model',
        modelUri: 'models:/online-model/Production',
        kind: 'pickle',
      });
      assert.equal(deployed.status, 201, deployed.text);
      const predictOnline = (fields: Record<string, string>, prefix = API) => {
        const fd = new FormData();
        for (const [k, v] of Object.entries(fields)) fd.append(k, v);
        fd.append('data', new Blob(['sepal_length,sepal_width\n5.1,3.5\n']), 'data');
        return fetch(`${s.url}${prefix}/experiment/predict_online`, { method: 'POST', body: fd }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as any,
        }));
      };
      const closed = await predictOnline({ modelname: 'online-model', stage: 'Production', run_id: '' });
      assert.equal(closed.status, 401);
      assert.match(closed.body.error.message, /No public deployment serves model 'online-model' at stage Production.*"public": true/);
      assert.equal((await predictOnline({ modelname: 'no-such-model', stage: 'Production' })).status, 401, 'the same answer: nothing leaks');
      assert.equal((await predictOnline({ modelname: 'online-model' })).status, 400, 'stage is required');

      const on = await admin('PATCH', `/api/v1/deployments/${deployed.body.deployment.id}`, { settings: { public: true } });
      assert.equal(on.status, 200, on.text);
      // Public now: the call reaches the deployment, whose build of a non-pickle failed (a 409 saying so), not a 401.
      await until('the build to end', async () => {
        const d = (await admin('GET', `/api/v1/deployments/${deployed.body.deployment.id}`)).body;
        return ['Failed', 'Deployed'].includes(d.status) ? d : undefined;
      });
      const reached = await predictOnline({ modelname: 'online-model', stage: 'Production', run_id: '' });
      assert.equal(reached.status, 409, JSON.stringify(reached.body));
      assert.match(reached.body.error.message, /online-model failed to build/);
      assert.equal((await predictOnline({ modelname: 'online-model', stage: 'Production', run_id: 'another-run' })).status, 401, 'another run');
      assert.equal((await predictOnline({ modelname: 'online-model', stage: 'Staging' })).status, 401, 'another stage');
      assert.equal((await predictOnline({ modelname: 'online-model', stage: 'Production' }, '/g/other-team/dhuo/api')).status, 401, 'another group');
      assert.equal((await predictOnline({ modelname: 'online-model', stage: 'Production' }, '/g/default/dhuo/api')).status, 409);
    });

    test('batch: project (existing → 400), base64 deploy (not base64 → 400), status report, cluster, run, one schedule per project', async () => {
      const project = await dhuo('POST', 'project', { project_name: 'lightgbm-iris' });
      assert.equal(project.status, 201, project.text);
      assert.ok(project.body.project_id);
      const again = await dhuo('POST', 'project', { project_name: 'lightgbm-iris' });
      assert.equal(again.status, 400);
      assert.match(again.body.error.message, /Project already exists/);

      const b64 = (text: string) => Buffer.from(text).toString('base64');
      const notB64 = await dhuo('POST', 'deploy', { project_name: 'lightgbm-iris', run_script_content: 'print("hi")', requirements_content: '' });
      assert.equal(notB64.status, 400);
      assert.match(notB64.body.error.message, /run_script_content is not base64/);
      const badReq = await dhuo('POST', 'deploy', { project_name: 'lightgbm-iris', run_script_content: b64('print(1)'), requirements_content: 'pandas==2!' });
      assert.match(badReq.body.error.message, /requirements_content is not base64/);
      assert.equal((await dhuo('POST', 'deploy', { project_name: 'nope', run_script_content: b64('print(1)'), requirements_content: '' })).status, 404);
      assert.equal((await dhuo('GET', 'deploy/nope')).status, 404);

      const deployed = await dhuo('POST', 'deploy', {
        project_name: 'lightgbm-iris',
        run_script_content: b64('print("scored", 3, "rows")\n'),
        requirements_content: b64('\n'),
      });
      assert.equal(deployed.status, 201, deployed.text);
      assert.equal(deployed.body.code, 201);
      const report = await until(
        'the deploy to be ready',
        async () => {
          const r = (await dhuo('GET', 'deploy/lightgbm-iris')).body;
          return r.data.some((x: { status: string }) => x.status === 'DEPLOY COMPLETED SUCCESSFULLY') ? r : undefined;
        },
        120_000,
      );
      assert.equal(report.data[0].step, 'DEPLOY v1');
      assert.ok(!Number.isNaN(Date.parse(report.data[0].date_log)));

      assert.equal((await dhuo('POST', 'cluster', { project_name: 'lightgbm-iris', cluster_size: 4 })).status, 400);
      const cluster = await dhuo('POST', 'cluster', { project_name: 'lightgbm-iris', cluster_size: 2 });
      assert.equal(cluster.status, 201, cluster.text);
      assert.equal((await admin('GET', '/api/v1/batch/projects/lightgbm-iris')).body.clusterSize, 2);

      const ran = await dhuo('POST', 'cluster/run', { project_name: 'lightgbm-iris' });
      assert.equal(ran.status, 201, ran.text);
      await until('the run to end', async () => {
        const rows = (await dhuo('GET', 'deploy/lightgbm-iris')).body.data as { step: string; status: string }[];
        return rows.find((r) => r.step.startsWith(`RUN ${ran.body.run_id}`) && r.status === 'RUN SUCCEEDED');
      });

      assert.equal((await dhuo('POST', 'cluster/schedule', { project_name: 'lightgbm-iris', schedule_interval: '1h' })).status, 400);
      assert.equal((await dhuo('POST', 'cluster/schedule', { project_name: 'lightgbm-iris', schedule_interval: '*/5 * * * *' })).status, 201);
      const changed = await dhuo('POST', 'cluster/schedule', { project_name: 'lightgbm-iris', schedule_interval: '0 6 * * *' });
      assert.equal(changed.body.schedule_interval, '0 6 * * *');
      const schedules = (await admin('GET', '/api/v1/batch/projects/lightgbm-iris/schedules')).body.items;
      assert.deepEqual(
        schedules.map((x: { cron: string }) => x.cron),
        ['0 6 * * *'],
      );
      const removed = await dhuo('DELETE', 'cluster/schedule/lightgbm-iris');
      assert.equal(removed.status, 200, removed.text);
      assert.equal((await dhuo('DELETE', 'cluster/schedule/lightgbm-iris')).status, 404);
    });

    test('unknown paths under /dhuo answer as the DHuolib API, not the UI', async () => {
      const r = await dhuo('GET', 'experiment/nothing-here');
      assert.equal(r.status, 404);
      assert.match(r.body.error.message, /on its DHuolib API/);
    });
  });
}
