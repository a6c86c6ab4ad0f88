import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

const SCORER = `
import json, os

def score(data, base_path):
    rows = json.loads(data)
    rows = rows if isinstance(rows, list) else [rows]
    print("scoring", len(rows))
    return {"doubled": [r["x"] * 2 for r in rows], "secret": os.environ.get("TOKEN")}
`;

describe('forja deploy and predict against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  const cli = (args: string[]) => runCli(args, { env });

  before(async () => {
    s = await startTestServer();
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(tempDir('forja-cli-'), 'c.json') };
  });
  after(() => s.close());

  test('deploy a folder with the build streamed, then predict, list, disable', async () => {
    const dir = path.join(tempDir('forja-deploy-'), 'doubler');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'scorer.py'), SCORER);
    writeFileSync(path.join(dir, 'schema.json'), JSON.stringify({ x: 1 }));
    writeFileSync(path.join(dir, '.env'), 'TOKEN=abc\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'extra file\n');
    const r = await cli(['deploy', dir, '--max-workers', '1']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /^Building doubler \(\w+\), job \w+…$/m);
    assert.match(r.stderr, /Test call on the schema sample answered: \{"doubled": \[2\], "secret": "abc"\}/);
    const id = /Deployment doubler \((\w+)\) is Deployed\./.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    const p = await cli(['predict', id, '--data', '[{"x": 4}, {"x": 5}]']);
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(JSON.parse(p.stdout), { doubled: [8, 10], secret: 'abc' });
    const list = await cli(['deployments']);
    assert.match(list.stdout, new RegExp(`^${id}\\s+doubler\\s+Deployed\\s+script\\s+files`, 'm'));
    const shown = await cli(['deployments', 'show', id]);
    assert.match(shown.stdout, /^files\s+notes\.txt schema\.json scorer\.py$/m);
    assert.match((await cli(['deployments', 'logs', id])).stdout, /scoring 2/);
    assert.equal((await cli(['deployments', 'disable', id])).status, 0);
    const refused = await cli(['predict', id, '--data', '{"x": 1}']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /disabled; enable it to predict.*\[CONFLICT, HTTP 409/);
  });

  test('bad input: no such folder, a folder without a scorer, a failing build, bad --data', async () => {
    const missing = await cli(['deploy', '/no/such/folder']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /is not a folder or a models:\/ URI/);
    const empty = tempDir('forja-empty-');
    writeFileSync(path.join(empty, 'model.json'), '{}');
    const noScorer = await cli(['deploy', empty, '--name', 'empty']);
    assert.equal(noScorer.status, 1);
    assert.match(noScorer.stderr, /has no \.py or \.ipynb scorer/);
    const broken = path.join(tempDir('forja-broken-'), 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'scorer.py'), 'def score(data, base_path)\n    return 1\n');
    const failed = await cli(['deploy', broken]);
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /Deployment broken \(\w+\) is Failed: .*SyntaxError/);
    const bad = await cli(['predict', 'whatever', '--data', 'not json']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--data is not valid JSON/);
  });
});
