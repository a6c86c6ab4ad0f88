import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

describe('forja user commands against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  let configFile: string;
  const cli = (args: string[], input?: string) => runCli(args, { env, input });

  before(async () => {
    s = await startTestServer();
    configFile = path.join(tempDir('forja-cli-home-'), 'forja', 'config.json');
    env = { FORJA_CONFIG: configFile, FORJA_URL: s.url };
  });
  after(() => s.close());

  test('login stores the token in a 0600 config file; whoami uses it', async () => {
    const r = await cli(['login', '--username', 'admin', '--password-stdin'], TEST_ADMIN_PASSWORD + '\n');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Logged in to .* as admin/);
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(configFile, 'utf8'));
    assert.match(saved.token, /^fjs_/);
    assert.ok(!r.stdout.includes(saved.token), 'the session token is not printed');
    const me = await cli(['whoami']);
    assert.equal(me.status, 0, me.stderr);
    assert.match(me.stdout, /user\s+admin/);
    assert.match(me.stdout, /default \(admin\)/);
  });

  test('a wrong password fails with the server message and exit code 1', async () => {
    const r = await runCli(['login', '-u', 'admin', '--password-stdin'], {
      env: { FORJA_CONFIG: configFile + '.other', FORJA_URL: s.url },
      input: 'wrong-password\n',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Wrong username or password\. \[UNAUTHENTICATED, HTTP 401/);
  });

  test('groups: create, list as a table and as JSON, add and list members', async () => {
    assert.equal((await cli(['groups', 'create', 'cli-team', '-d', 'made by the CLI'])).status, 0);
    const table = await cli(['groups', 'list']);
    assert.match(table.stdout, /^NAME\s+MY ROLE\s+DESCRIPTION/m);
    assert.match(table.stdout, /cli-team\s+admin\s+made by the CLI/);
    const json = JSON.parse((await cli(['groups', 'list', '--json'])).stdout);
    assert.ok(json.some((g: { name: string }) => g.name === 'cli-team'));
    assert.equal((await cli(['users', 'create', 'cli-user', '--password-stdin'], 'cli-user-password\n')).status, 0);
    const add = await cli(['groups', 'add-member', 'cli-team', 'cli-user', '--role', 'editor']);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /cli-user is editor in cli-team/);
    const members = JSON.parse((await cli(['groups', 'members', 'cli-team', '--json'])).stdout);
    assert.deepEqual(members.map((m: { username: string; role: string }) => `${m.username}:${m.role}`).sort(), ['admin:admin', 'cli-user:editor']);
    const badRole = await cli(['groups', 'add-member', 'cli-team', 'cli-user', '--role', 'owner']);
    assert.notEqual(badRole.status, 0);
    assert.match(badRole.stderr, /role must be viewer, editor or admin/);
  });

  test('tokens: create prints the secret once, list shows the prefix only, revoke makes it unusable', async () => {
    const created = await cli(['tokens', 'create', 'nightly', '--expires-in-days', '7', '--json']);
    assert.equal(created.status, 0, created.stderr);
    const { token, secret } = JSON.parse(created.stdout);
    assert.match(secret, /^fjp_/);
    const list = await cli(['tokens', 'list']);
    assert.match(list.stdout, new RegExp(`${token.id}\\s+nightly\\s+personal\\s+${secret.slice(0, 10)}`));
    assert.ok(!list.stdout.includes(secret));
    const svc = await cli(['tokens', 'create', 'etl', '--kind', 'service', '--for-group', 'cli-team', '--role', 'viewer']);
    assert.equal(svc.status, 0, svc.stderr);
    assert.match(svc.stdout, /Secret \(shown once/);
    assert.match((await cli(['tokens', 'list', '--for-group', 'cli-team'])).stdout, /etl\s+service/);
    assert.equal((await runCli(['whoami'], { env: { ...env, FORJA_TOKEN: secret } })).status, 0);
    assert.match((await cli(['tokens', 'revoke', token.id])).stdout, /Revoked token "nightly"/);
    const after = await runCli(['whoami'], { env: { ...env, FORJA_TOKEN: secret } });
    assert.equal(after.status, 1);
    assert.match(after.stderr, /revoked/);
  });

  test('users list as JSON; disable', async () => {
    const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout);
    assert.deepEqual(users.map((u: { username: string }) => u.username).sort(), ['admin', 'cli-user']);
    assert.match((await cli(['users', 'disable', 'cli-user'])).stdout, /cli-user is disabled/);
  });

  test('an unreachable server is a clear error, not a stack trace', async () => {
    const r = await runCli(['whoami'], { env: { FORJA_CONFIG: configFile, FORJA_URL: 'http://127.0.0.1:9' } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Cannot reach Forja at http:\/\/127\.0\.0\.1:9/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });
});
