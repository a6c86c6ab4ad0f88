import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { http, startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

describe('forja models against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra } });
  const api = (method: string, p: string, body?: unknown, token = s.adminToken) => http(s.url, method, p, { token, body });

  before(async () => {
    s = await startTestServer();
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(tempDir('forja-cli-'), 'c.json') };
    const exp = (await api('POST', '/api/v1/experiments', { name: 'm' })).body.experimentId;
    const run = (await api('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
    for (const [file, body] of [
      ['model/MLmodel', 'flavors: {}\n'],
      ['model/model.pkl', 'pickle-bytes'],
    ]) {
      await fetch(`${s.url}/api/v1/runs/${run}/artifacts/file?path=${file}`, { method: 'PUT', headers: { authorization: `Bearer ${s.adminToken}` }, body });
    }
    await api('POST', '/api/v1/models', { name: 'churn', tags: [{ key: 'team', value: 'growth' }] });
    await api('POST', '/api/v1/models/churn/versions', { source: `runs:/${run}/model` });
    await api('POST', '/api/v1/models/churn/versions', { source: `runs:/${run}/model` });
  });
  after(() => s.close());

  test('list, versions, transition, alias, download by alias', async () => {
    assert.match((await cli(['models', 'transition', 'churn', '2', 'production'])).stdout, /churn version 2 is now in Production/);
    assert.match((await cli(['models', 'alias', 'churn', 'champion', '2'])).stdout, /churn@champion → version 2/);
    const list = await cli(['models']);
    assert.match(list.stdout, /churn\s+v1:None v2:Production\s+champion→v2/);
    const versions = await cli(['models', 'versions', 'churn']);
    assert.match(versions.stdout, /^VERSION\s+STAGE\s+ALIASES/m);
    assert.match(versions.stdout, /^2\s+Production\s+champion/m);
    const out = tempDir('forja-cli-model-');
    const dl = await cli(['models', 'download', 'models:/churn@champion', out]);
    assert.equal(dl.status, 0, dl.stderr);
    assert.match(dl.stdout, /Downloaded churn version 2 \(2 files\)/);
    assert.equal(readFileSync(path.join(out, 'model', 'model.pkl'), 'utf8'), 'pickle-bytes');
    const bad = await cli(['models', 'download', 'models:/churn@nobody', out]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /churn@nobody/);
  });

  test('approvals: a gated transition waits; another admin approves from the CLI', async () => {
    await api('PUT', '/api/v1/registry/settings', { approvalStages: ['Production'] });
    await api('POST', '/api/v1/users', { username: 'rita', password: 'rita-password' });
    await api('PUT', '/api/v1/groups/default/members/rita', { role: 'editor' });
    const rita = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'rita', password: 'rita-password' } })).body.token;
    const asked = await cli(['models', 'transition', 'churn', '1', 'Production', '-m', 'better recall'], { FORJA_TOKEN: rita });
    assert.equal(asked.status, 0, asked.stderr);
    const id = asked.stdout.match(/request (\w+) is waiting/)?.[1];
    assert.ok(id, asked.stdout);
    assert.match((await cli(['models', 'approvals'])).stdout, new RegExp(`${id}\\s+churn v1\\s+Production\\s+pending\\s+rita\\s+better recall`));
    const denied = await cli(['models', 'approve', id!], { FORJA_TOKEN: rita });
    assert.equal(denied.status, 1);
    const ok = await cli(['models', 'approve', id!, '-m', 'fine']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /approved: churn version 1 → Production done/);
  });
});
