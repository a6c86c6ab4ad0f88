import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer, type HttpResult } from '../testing/server.js';

/** Characters no name may hold, with what the error calls them. */
const BAD_NAME_CHARS: [string, RegExp][] = [
  ['\u0000', /NUL character \(U\+0000\)/],
  ['\u0007', /control character \(U\+0007\)/],
  ['\u007f', /control character \(U\+007F\)/],
  ['\ud800', /lone UTF-16 surrogate \(U\+D800\)/],
  ['\u202e', /bidirectional control character \(U\+202E\)/],
  ['\u2066', /bidirectional control character \(U\+2066\)/],
];

for (const dialect of DIALECTS) {
  describe(`one rule for names, keys and values on both APIs, on ${dialect}`, () => {
    let s: TestServer;
    let exp: string;
    let run: string;
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const ml = (method: string, p: string, body?: unknown) => call(method, `/api/2.0/mlflow/${p}`, body);
    /** A native 400 whose message names the field and says what is wrong. */
    const nativeRefused = (r: HttpResult, field: string, why: RegExp) => {
      assert.equal(r.status, 400, r.text.slice(0, 500));
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      assert.ok(r.body.error.message.includes(field), `${r.body.error.message} names ${field}`);
      assert.match(r.body.error.message, why);
    };
    /** The same on the MLflow API: its error code, and the field as MLflow spells it. */
    const mlflowRefused = (r: HttpResult, field: string, why: RegExp) => {
      assert.equal(r.status, 400, r.text.slice(0, 500));
      assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.ok(r.body.message.includes(`'${field}`), `${r.body.message} names ${field}`);
      assert.match(r.body.message, why);
    };

    before(async () => {
      s = await startTestServer({ dialect });
      exp = (await call('POST', '/api/v1/experiments', { name: 'rules' })).body.experimentId;
      run = (await call('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
      assert.equal((await call('POST', '/api/v1/models', { name: 'rules-model' })).status, 201);
    });
    after(() => s.close());

    test('a run name is at most 250 characters on both APIs (MLflow took 100,000)', async () => {
      mlflowRefused(await ml('POST', 'runs/create', { experiment_id: exp, run_name: 'x'.repeat(100_000) }), 'run_name', /at most 250 characters/);
      nativeRefused(await call('POST', '/api/v1/runs', { experimentId: exp, runName: 'x'.repeat(251) }), 'runName', /at most 250 characters/);
      mlflowRefused(await ml('POST', 'runs/update', { run_id: run, run_name: 'x'.repeat(251) }), 'run_name', /at most 250 characters/);
      // The tag mlflow.runName is the run's name too.
      mlflowRefused(
        await ml('POST', 'runs/set-tag', { run_id: run, key: 'mlflow.runName', value: 'x'.repeat(251) }),
        'tags.mlflow.runName',
        /at most 250 characters/,
      );
      mlflowRefused(
        await ml('POST', 'runs/create', { experiment_id: exp, tags: [{ key: 'mlflow.runName', value: 'x'.repeat(251) }] }),
        'tags.mlflow.runName',
        /at most 250/,
      );
      const ok = await ml('POST', 'runs/create', { experiment_id: exp, run_name: 'x'.repeat(250) });
      assert.equal(ok.status, 200, ok.text.slice(0, 500));
      assert.equal(ok.body.run.info.run_name.length, 250);
    });

    test('control characters, NUL, lone surrogates and bidi overrides are refused in every name, naming the field', async () => {
      for (const [ch, why] of BAD_NAME_CHARS) {
        const name = `bad${ch}name`;
        nativeRefused(await call('POST', '/api/v1/experiments', { name }), 'name', why);
        mlflowRefused(await ml('POST', 'experiments/create', { name }), 'name', why);
        nativeRefused(await call('PATCH', `/api/v1/experiments/${exp}`, { name }), 'name', why);
        mlflowRefused(await ml('POST', 'experiments/update', { experiment_id: exp, new_name: name }), 'new_name', why);
        nativeRefused(await call('POST', '/api/v1/runs', { experimentId: exp, runName: name }), 'runName', why);
        mlflowRefused(await ml('POST', 'runs/create', { experiment_id: exp, run_name: name }), 'run_name', why);
        mlflowRefused(await ml('POST', 'runs/update', { run_id: run, run_name: name }), 'run_name', why);
        nativeRefused(await call('PATCH', `/api/v1/runs/${run}`, { runName: name }), 'runName', why);
        nativeRefused(await call('POST', '/api/v1/models', { name }), 'name', why);
        mlflowRefused(await ml('POST', 'registered-models/create', { name }), 'name', why);
        mlflowRefused(await ml('POST', 'registered-models/rename', { name: 'rules-model', new_name: name }), 'new_name', why);
        mlflowRefused(await ml('POST', 'logged-models', { experiment_id: exp, name }), 'name', why);
      }
      // Keys keep MLflow's alphabet, which has no room for any of them either.
      mlflowRefused(
        await ml('POST', 'runs/log-metric', { run_id: run, key: 'acc\u202e', value: 1, timestamp: 1 }),
        'key',
        /may only contain alphanumerics.*character 4 is a bidirectional control character \(U\+202E\)/,
      );
      nativeRefused(
        await call('POST', `/api/v1/runs/${run}/batch`, { params: [{ key: 'a\u0000b', value: '1' }] }),
        'params.0.key',
        /may only contain alphanumerics.*character 2 is a NUL character \(U\+0000\)/,
      );
      mlflowRefused(
        await ml('POST', 'registered-models/set-tag', { name: 'rules-model', key: 'k\u2066', value: 'v' }),
        'key',
        /may only contain alphanumerics/,
      );
      assert.equal((await ml('GET', `runs/get?run_id=${run}`)).body.run.info.run_name.includes('bad'), false, 'nothing was renamed');
    });

    test('letters of any script are fine in names and keys, as MLflow allows them', async () => {
      const created = await ml('POST', 'experiments/create', { name: 'Regressão 精度 تجربة' });
      assert.equal(created.status, 200, created.text);
      const r = await call('POST', '/api/v1/runs', { experimentId: created.body.experiment_id, runName: 'ensaio-ü-精度' });
      assert.equal(r.status, 201, r.text);
      const id = r.body.info.runId;
      const batch = await ml('POST', 'runs/log-batch', {
        run_id: id,
        metrics: [{ key: 'Regressão', value: 0.5, timestamp: 1 }],
        params: [{ key: '精度', value: 'alto' }],
        tags: [{ key: 'ação/versão', value: 'v1' }],
      });
      assert.equal(batch.status, 200, batch.text);
      const data = (await call('GET', `/api/v1/runs/${id}`)).body.data;
      assert.deepEqual(
        data.metrics.map((m: { key: string }) => m.key),
        ['Regressão'],
      );
      assert.deepEqual(data.params, [{ key: '精度', value: 'alto' }]);
      assert.ok(data.tags.some((t: { key: string }) => t.key === 'ação/versão'));
      assert.equal((await call('POST', '/api/v1/models', { name: 'modelo-ação' })).status, 201);
    });

    test('values may hold newlines and tabs but not NUL, which PostgreSQL cannot store', async () => {
      const multi = await call('POST', `/api/v1/runs/${run}/batch`, {
        params: [{ key: 'sql', value: 'SELECT 1\n\tFROM t' }],
        tags: [{ key: 'note', value: 'line 1\nline 2' }],
      });
      assert.equal(multi.status, 200, multi.text);
      assert.ok((await call('GET', `/api/v1/runs/${run}`)).body.data.params.some((p: { value: string }) => p.value === 'SELECT 1\n\tFROM t'));
      const nul = /NUL character \(U\+0000\) at position 2, which cannot be stored/;
      nativeRefused(await call('POST', `/api/v1/runs/${run}/batch`, { params: [{ key: 'p', value: 'a\u0000b' }] }), 'params.0.value', nul);
      mlflowRefused(await ml('POST', 'runs/log-parameter', { run_id: run, key: 'p', value: 'a\u0000b' }), 'value', nul);
      mlflowRefused(await ml('POST', 'runs/set-tag', { run_id: run, key: 't', value: 'a\u0000b' }), 'value', nul);
      mlflowRefused(await ml('POST', 'runs/create', { experiment_id: exp, tags: [{ key: 't', value: 'a\u0000b' }] }), 'tags[0].value', nul);
      nativeRefused(await call('PUT', `/api/v1/experiments/${exp}/tags/t`, { value: 'a\u0000b' }), 'value', nul);
      mlflowRefused(await ml('POST', 'experiments/set-experiment-tag', { experiment_id: exp, key: 't', value: 'a\u0000b' }), 'value', nul);
      mlflowRefused(await ml('POST', 'registered-models/set-tag', { name: 'rules-model', key: 't', value: 'a\u0000b' }), 'value', nul);
      mlflowRefused(await ml('PATCH', 'registered-models/update', { name: 'rules-model', description: 'a\u0000b' }), 'description', nul);
      mlflowRefused(
        await ml('POST', 'runs/log-inputs', {
          run_id: run,
          datasets: [{ tags: [], dataset: { name: 'a\u0000b', digest: 'd', source_type: 'local', source: 's' } }],
        }),
        'datasets[0].dataset.name',
        nul,
      );
      const after = (await call('GET', `/api/v1/runs/${run}`)).body.data;
      assert.ok(!JSON.stringify(after).includes('\\u0000'), 'nothing with NUL was stored');
    });

    test('a repeated tag key when creating something is a 400 naming the key, not a 500 from the database', async () => {
      const twice = [
        { key: 'team', value: 'a' },
        { key: 'team', value: 'b' },
      ];
      const duplicate = /the tag key 'team' appears more than once/;
      nativeRefused(await call('POST', '/api/v1/runs', { experimentId: exp, tags: twice }), 'tags.1.key', duplicate);
      mlflowRefused(await ml('POST', 'runs/create', { experiment_id: exp, tags: twice }), 'tags[1].key', duplicate);
      nativeRefused(await call('POST', '/api/v1/experiments', { name: 'dup-tags', tags: twice }), 'tags.1.key', duplicate);
      mlflowRefused(await ml('POST', 'experiments/create', { name: 'dup-tags', tags: twice }), 'tags[1].key', duplicate);
      nativeRefused(await call('POST', '/api/v1/models', { name: 'dup-tags', tags: twice }), 'tags.1.key', duplicate);
      mlflowRefused(await ml('POST', 'registered-models/create', { name: 'dup-tags', tags: twice }), 'tags[1].key', duplicate);
      nativeRefused(await call('POST', '/api/v1/models/rules-model/versions', { source: `runs:/${run}/model`, tags: twice }), 'tags.1.key', duplicate);
      mlflowRefused(await ml('POST', 'logged-models', { experiment_id: exp, tags: twice }), 'tags[1].key', duplicate);
      assert.equal((await ml('GET', 'experiments/get-by-name?experiment_name=dup-tags')).status, 404, 'nothing was created');
      // A run name given as the tag only, with an empty value, gets a generated name and one mlflow.runName tag.
      const unnamed = await ml('POST', 'runs/create', { experiment_id: exp, tags: [{ key: 'mlflow.runName', value: '' }] });
      assert.equal(unnamed.status, 200, unnamed.text);
      assert.equal(unnamed.body.run.data.tags.filter((t: { key: string }) => t.key === 'mlflow.runName').length, 1);
      // log-batch keeps MLflow's rule: the last value of a repeated tag wins.
      assert.equal((await ml('POST', 'runs/log-batch', { run_id: run, tags: twice })).status, 200);
    });

    test('Forja assigns artifact locations: another one is refused on both APIs, an empty one is the default', async () => {
      const foreign = `mlflow-artifacts:/${exp}`;
      nativeRefused(
        await call('POST', '/api/v1/experiments', { name: 'thief', artifactLocation: foreign }),
        'artifactLocation',
        /Forja gives each experiment its own artifact location/,
      );
      mlflowRefused(
        await ml('POST', 'experiments/create', { name: 'thief', artifact_location: foreign }),
        'artifact_location',
        /Forja gives each experiment its own artifact location/,
      );
      mlflowRefused(await ml('POST', 'experiments/create', { name: 'thief', artifact_location: '/etc' }), 'artifact_location', /leave this field out/);
      const empty = await ml('POST', 'experiments/create', { name: 'plain', artifact_location: '' });
      assert.equal(empty.status, 200, empty.text);
      const id = empty.body.experiment_id;
      assert.equal((await ml('GET', `experiments/get?experiment_id=${id}`)).body.experiment.artifact_location, `mlflow-artifacts:/${id}`);
    });

    test('a search filter nested past 100 levels is a 400, on runs, experiments and models (it overflowed the stack)', async () => {
      const nested = (depth: number, clause: string) => `${'('.repeat(depth)}${clause}${')'.repeat(depth)}`;
      const nots = (depth: number, clause: string) => `${'NOT '.repeat(depth)}${clause}`;
      const tooDeep = /nests deeper than 100 parentheses/;
      // As deep as a 10,000-character filter goes.
      for (const [shape, depth] of [
        [nested, 4990],
        [nots, 2400],
      ] as const) {
        const native = await call('POST', '/api/v1/runs/search', { experimentIds: [exp], filter: shape(depth, 'metrics.acc > 0') });
        assert.equal(native.status, 400, native.text);
        assert.match(native.body.error.message, tooDeep);
        for (const r of [
          await ml('POST', 'runs/search', { experiment_ids: [exp], filter: shape(depth, 'metrics.acc > 0') }),
          await ml('POST', 'experiments/search', { max_results: 10, filter: shape(depth, "name = 'x'") }),
          // A GET: deep enough, yet short enough for a URL.
          await ml('GET', `registered-models/search?filter=${encodeURIComponent(shape(150, "name = 'x'"))}`),
        ]) {
          assert.equal(r.status, 400, r.text.slice(0, 500));
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
          assert.match(r.body.message, tooDeep);
        }
        const fine = await call('POST', '/api/v1/runs/search', { experimentIds: [exp], filter: shape(100, 'metrics.acc > 0') });
        assert.equal(fine.status, 200, fine.text);
      }
    });
  });
}
