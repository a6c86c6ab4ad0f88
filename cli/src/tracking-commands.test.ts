import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { http, startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

describe('forja experiments, runs and artifacts against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  let exp: string;
  const runIds: string[] = [];
  const cli = (args: string[]) => runCli(args, { env });

  before(async () => {
    s = await startTestServer();
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(tempDir('forja-cli-'), 'c.json') };
    exp = (await http(s.url, 'POST', '/api/v1/experiments', { token: s.adminToken, body: { name: 'cli-exp' } })).body.experimentId;
    for (const [i, model] of ['rf', 'xgb', 'rf'].entries()) {
      const id = (await http(s.url, 'POST', '/api/v1/runs', { token: s.adminToken, body: { experimentId: exp, runName: `run-${i}` } })).body.info.runId;
      runIds.push(id);
      await http(s.url, 'POST', `/api/v1/runs/${id}/batch`, {
        token: s.adminToken,
        body: { params: [{ key: 'model', value: model }], metrics: [{ key: 'acc', value: 0.5 + i / 10 }] },
      });
    }
  });
  after(() => s.close());

  test('experiments list and create', async () => {
    const created = await cli(['experiments', 'create', 'from-cli', '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).name, 'from-cli');
    const list = await cli(['experiments', 'list']);
    assert.match(list.stdout, /cli-exp/);
    assert.match(list.stdout, /from-cli/);
  });

  test('runs list with a filter, order and columns; get; compare marks differing params', async () => {
    const list = await cli([
      'runs',
      'list',
      exp,
      '--filter',
      "params.model = 'rf'",
      '--order-by',
      'metrics.acc DESC',
      '--columns',
      'metrics.acc',
      'params.model',
    ]);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0]!, /RUN ID\s+NAME\s+STATUS\s+STARTED\s+METRICS\.ACC\s+PARAMS\.MODEL/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/)[1]),
      ['run-2', 'run-0'],
    );
    const bad = await cli(['runs', 'list', exp, '--filter', 'metrics.acc >']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /Invalid filter at position 13/);
    const get = await cli(['runs', 'get', runIds[1]!]);
    assert.match(get.stdout, /name\s+run-1/);
    assert.match(get.stdout, /model\s+xgb/);
    const compare = await cli(['runs', 'compare', runIds[0]!, runIds[1]!]);
    assert.match(compare.stdout, /\* params\.model\s+rf\s+xgb/);
    assert.match(compare.stdout, /metrics\.acc\s+0\.5\s+0\.6/);
  });

  test('artifacts: upload a directory and a large file in chunks, list, download back byte for byte', async () => {
    const dir = tempDir('forja-cli-art-');
    mkdirSync(path.join(dir, 'model', 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'model', 'MLmodel'), 'flavors: {}\n');
    writeFileSync(path.join(dir, 'model', 'sub', 'weights.txt'), '1 2 3\n');
    const big = Buffer.alloc(23 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    writeFileSync(path.join(dir, 'big.bin'), big);
    const up = await cli(['artifacts', 'upload', runIds[0]!, path.join(dir, 'model'), 'model']);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, /Uploaded 2 files/);
    const upBig = await cli(['artifacts', 'upload', runIds[0]!, path.join(dir, 'big.bin'), 'data']);
    assert.equal(upBig.status, 0, upBig.stderr);
    assert.match(upBig.stderr, /data\/big\.bin: 23\.0 MiB/);
    const list = JSON.parse((await cli(['artifacts', 'list', runIds[0]!, 'model', '--json'])).stdout);
    assert.deepEqual(
      list.map((f: { path: string }) => f.path),
      ['model/MLmodel', 'model/sub'],
    );
    const out = tempDir('forja-cli-dl-');
    const down = await cli(['artifacts', 'download', runIds[0]!, 'model', out]);
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /Downloaded 2 files/);
    assert.equal(readFileSync(path.join(out, 'model', 'sub', 'weights.txt'), 'utf8'), '1 2 3\n');
    const bigDown = await cli(['artifacts', 'download', runIds[0]!, 'data/big.bin', out]);
    assert.equal(bigDown.status, 0, bigDown.stderr);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(readFileSync(path.join(out, 'big.bin'))), sha(big));
  });
});
