import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { runCli, startServerProcess, tempDir } from './testing.js';

const tmp = () => tempDir('forja-cli-');

test('invalid configuration stops start-up with exit code 2 and names the variable', async () => {
  const r = await runCli(['server'], { env: { FORJA_DATA_DIR: tmp(), FORJA_PORT: 'abc' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /invalid configuration: FORJA_PORT: "abc" is not valid/);
  const db = await runCli(['server'], { env: { FORJA_DATA_DIR: tmp(), FORJA_DATABASE_URL: 'oracle://x' } });
  assert.equal(db.status, 2);
  assert.match(db.stderr, /FORJA_DATABASE_URL/);
});

test('first start prints the URL and a generated admin password once; a restart does not', async () => {
  const dataDir = tmp();
  const first = await startServerProcess({ FORJA_DATA_DIR: dataDir });
  const password = first.output().match(/password: (\S+)/)?.[1];
  assert.ok(password, first.output());
  const login = await fetch(`${first.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  assert.equal(login.status, 200);
  first.child.kill('SIGINT');
  const [code] = await once(first.child, 'exit');
  assert.equal(code, 0, 'Ctrl-C stops cleanly');

  const second = await startServerProcess({ FORJA_DATA_DIR: dataDir });
  assert.doesNotMatch(second.output(), /password: /);
  assert.match(second.output(), /Log in with your Forja user/);
  second.child.kill('SIGTERM');
  await once(second.child, 'exit');
});

test('graceful shutdown: a request in flight when SIGTERM arrives still gets its answer', async () => {
  const srv = await startServerProcess({ FORJA_DATA_DIR: tmp(), FORJA_ADMIN_PASSWORD: 'graceful-password' });
  const { hostname, port } = new URL(srv.url);
  // Send the headers and half the body, so the request is surely in flight when the signal lands.
  const body = JSON.stringify({ username: 'admin', password: 'graceful-password' });
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  let response = '';
  socket.on('data', (d) => (response += d));
  socket.write(
    `POST /api/v1/auth/login HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(body.slice(0, 10));
  await new Promise((r) => setTimeout(r, 200));
  srv.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const late = await fetch(`${srv.url}/health`).then(
    (r) => r.status,
    () => 'refused',
  );
  assert.ok(late === 503 || late === 'refused', `a new request during shutdown is turned away (got ${late})`);
  socket.write(body.slice(10));
  await once(socket, 'end');
  assert.match(response, /^HTTP\/1\.1 200 /);
  assert.match(response, /"token":"fjs_/);
  const [code] = await once(srv.child, 'exit');
  assert.equal(code, 0);
  assert.match(srv.output(), /finishing requests in flight/);
});

test('`forja worker` explains that workers need PostgreSQL', async () => {
  const r = await runCli(['worker'], { env: {} });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /FORJA_DATABASE_URL=postgres/);
});

test('--help works on every command', async () => {
  for (const args of [
    ['--help'],
    ['server', '--help'],
    ['tokens', '--help'],
    ['tokens', 'create', '--help'],
    ['groups', 'add-member', '--help'],
    ['users', '--help'],
    ['login', '--help'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: forja/);
  }
});
