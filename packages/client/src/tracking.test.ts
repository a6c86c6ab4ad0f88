import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { ForjaClient } from './client.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from './errors.js';

describe('TypeScript SDK: tracking and artifacts against a live server', () => {
  let s: TestServer;
  let forja: ForjaClient;
  before(async () => {
    s = await startTestServer();
    forja = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
  });
  after(() => s.close());

  test('experiments: create, get by id and name, search, rename, tags, delete and restore', async () => {
    const exp = await forja.experiments.create({ name: 'sdk-churn', tags: [{ key: 'team', value: 'growth' }] });
    assert.match(exp.experimentId, /^\d+$/);
    assert.equal(exp.lifecycleStage, 'active');
    assert.deepEqual(exp.tags, [{ key: 'team', value: 'growth' }]);
    assert.equal((await forja.experiments.get(exp.experimentId)).name, 'sdk-churn');
    assert.equal((await forja.experiments.getByName('sdk-churn')).experimentId, exp.experimentId);
    await assert.rejects(forja.experiments.create({ name: 'sdk-churn' }), ConflictError);

    await forja.experiments.create({ name: 'sdk-other' });
    const found = await forja.experiments.search({ filter: "name LIKE 'sdk-%'", orderBy: ['name ASC'] });
    assert.deepEqual(
      found.experiments.map((e) => e.name),
      ['sdk-churn', 'sdk-other'],
    );
    const paged = await forja.experiments.search({ filter: "name LIKE 'sdk-%'", orderBy: ['name ASC'], maxResults: 1 });
    assert.equal(paged.experiments.length, 1);
    const next = await forja.experiments.search({ filter: "name LIKE 'sdk-%'", orderBy: ['name ASC'], maxResults: 1, pageToken: paged.nextPageToken });
    assert.deepEqual(
      next.experiments.map((e) => e.name),
      ['sdk-other'],
    );
    assert.equal(next.nextPageToken, undefined);

    assert.equal((await forja.experiments.rename(exp.experimentId, 'sdk-churn-v2')).name, 'sdk-churn-v2');
    await forja.experiments.setTag(exp.experimentId, 'owner', 'ana');
    await forja.experiments.deleteTag(exp.experimentId, 'team');
    assert.deepEqual((await forja.experiments.get(exp.experimentId)).tags, [{ key: 'owner', value: 'ana' }]);

    await forja.experiments.delete(exp.experimentId);
    const deleted = await forja.experiments.search({ viewType: 'DELETED_ONLY' });
    assert.deepEqual(
      deleted.experiments.map((e) => e.experimentId),
      [exp.experimentId],
    );
    await forja.experiments.restore(exp.experimentId);
    assert.equal((await forja.experiments.get(exp.experimentId)).lifecycleStage, 'active');
    await assert.rejects(forja.experiments.get('999999'), NotFoundError);
  });

  test('runs: create, log a batch, search with filter, order and projection, update, history, delete and restore', async () => {
    const exp = await forja.experiments.create({ name: 'sdk-runs' });
    const ids: string[] = [];
    for (const [i, lr] of ['0.1', '0.01', '0.001'].entries()) {
      const run = await forja.runs.create({ experimentId: exp.experimentId, runName: `run-${i}`, tags: [{ key: 'team', value: 'a' }] });
      ids.push(run.info.runId);
      await forja.runs.logBatch(run.info.runId, {
        params: [{ key: 'lr', value: lr }],
        metrics: [
          { key: 'acc', value: 0.5 + i / 10, timestamp: 1000, step: 0 },
          { key: 'acc', value: 0.6 + i / 10, timestamp: 2000, step: 1 },
          { key: 'val/loss', value: 'NaN', timestamp: 1000, step: 0 },
        ],
      });
    }
    const run = await forja.runs.get(ids[0]!);
    assert.equal(run.info.runName, 'run-0');
    assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);
    assert.deepEqual(
      run.data.metrics.map((m) => [m.key, m.value, m.step]),
      [
        ['acc', 0.6, 1],
        ['val/loss', 'NaN', 0],
      ],
    );

    const best = await forja.runs.search({
      experimentIds: [exp.experimentId],
      filter: 'metrics.acc > 0.65',
      orderBy: ['metrics.acc DESC'],
      columns: ['metrics.acc', 'params.lr'],
    });
    assert.deepEqual(
      best.runs.map((r) => r.info.runName),
      ['run-2', 'run-1'],
    );
    assert.deepEqual(
      best.runs[0]!.data.metrics.map((m) => m.key),
      ['acc'],
      'the projection drops the other metrics',
    );
    assert.deepEqual(best.runs[0]!.data.tags, [], 'and every tag');

    const page = await forja.runs.search({ experimentIds: [exp.experimentId], maxResults: 2, orderBy: ['attributes.run_name ASC'] });
    assert.equal(page.runs.length, 2);
    const rest = await forja.runs.search({
      experimentIds: [exp.experimentId],
      maxResults: 2,
      orderBy: ['attributes.run_name ASC'],
      pageToken: page.nextPageToken,
    });
    assert.deepEqual(
      rest.runs.map((r) => r.info.runName),
      ['run-2'],
    );

    await assert.rejects(
      forja.runs.search({ experimentIds: [exp.experimentId], filter: 'metrics.acc >> 1' }),
      (err: unknown) => err instanceof InvalidArgumentError && /position/.test(err.message),
    );

    const finished = await forja.runs.update(ids[0]!, { status: 'FINISHED', endTime: Date.now(), runName: 'renamed' });
    assert.equal(finished.status, 'FINISHED');
    assert.equal(finished.runName, 'renamed');

    const history = await forja.runs.metricHistory(ids[1]!, 'acc');
    assert.deepEqual(
      history.metrics.map((m) => [m.step, m.value]),
      [
        [0, 0.6],
        [1, 0.7],
      ],
    );
    const first = await forja.runs.metricHistory(ids[1]!, 'acc', { maxResults: 1 });
    assert.equal(first.metrics.length, 1);
    assert.deepEqual(
      (await forja.runs.metricHistory(ids[1]!, 'acc', { maxResults: 1, pageToken: first.nextPageToken })).metrics.map((m) => m.step),
      [1],
    );
    assert.deepEqual(
      (await forja.runs.metricHistory(ids[1]!, 'val/loss')).metrics.map((m) => m.value),
      ['NaN'],
      'keys with a slash are escaped in the path',
    );

    await forja.runs.deleteTag(ids[0]!, 'team');
    assert.equal(
      (await forja.runs.get(ids[0]!)).data.tags.find((t) => t.key === 'team'),
      undefined,
    );
    await forja.runs.delete(ids[2]!);
    assert.equal((await forja.runs.search({ experimentIds: [exp.experimentId] })).runs.length, 2);
    await forja.runs.restore(ids[2]!);
    assert.equal((await forja.runs.get(ids[2]!)).info.lifecycleStage, 'active');
  });

  test('artifacts: upload, list by directory, download by URL and as a response', async () => {
    const exp = await forja.experiments.create({ name: 'sdk-artifacts' });
    const { info } = await forja.runs.create({ experimentId: exp.experimentId });
    assert.deepEqual(await forja.runs.uploadArtifact(info.runId, 'eval/metrics.json', '{"acc":0.9}'), { path: 'eval/metrics.json', size: 11 });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await forja.runs.uploadArtifact(info.runId, 'eval/plot.png', new Blob([png]));

    const root = await forja.runs.listArtifacts(info.runId);
    assert.equal(root.rootUri, info.artifactUri);
    assert.deepEqual(root.files, [{ path: 'eval', isDir: true, size: null }]);
    const dir = await forja.runs.listArtifacts(info.runId, 'eval');
    assert.deepEqual(
      dir.files.map((f) => [f.path, f.size]),
      [
        ['eval/metrics.json', 11],
        ['eval/plot.png', 8],
      ],
    );

    const json = await forja.runs.downloadArtifact(info.runId, 'eval/metrics.json');
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.deepEqual(await json.json(), { acc: 0.9 });
    const image = await forja.runs.downloadArtifact(info.runId, 'eval/plot.png');
    assert.deepEqual(new Uint8Array(await image.arrayBuffer()), png);

    const url = forja.runs.artifactUrl(info.runId, 'eval/metrics.json');
    assert.equal(url, `${s.url}/api/v1/runs/${info.runId}/artifacts/file?path=eval%2Fmetrics.json`);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${s.adminToken}` } })).status, 200);
    await assert.rejects(forja.runs.downloadArtifact(info.runId, 'eval/missing.txt'), NotFoundError);
  });

  test('resumable uploads: start, append chunks, resume from the status, complete; abort', async () => {
    const exp = await forja.experiments.create({ name: 'sdk-uploads' });
    const { info } = await forja.runs.create({ experimentId: exp.experimentId });
    const started = await forja.uploads.start(info.runId, 'data/big.csv', 8);
    assert.equal(started.received, 0);
    await forja.uploads.append(started.uploadId, 0, 'a,b\n');
    assert.equal((await forja.uploads.status(started.uploadId)).received, 4);
    await forja.uploads.append(started.uploadId, 4, '1,2\n');
    assert.equal((await forja.uploads.complete(started.uploadId)).size, 8);
    assert.equal(await (await forja.runs.downloadArtifact(info.runId, 'data/big.csv')).text(), 'a,b\n1,2\n');

    const abandoned = await forja.uploads.start(info.runId, 'data/other.csv');
    assert.deepEqual(await forja.uploads.abort(abandoned.uploadId), { ok: true });
    await assert.rejects(forja.uploads.status(abandoned.uploadId), NotFoundError);
  });
});
