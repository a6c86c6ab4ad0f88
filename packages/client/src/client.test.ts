import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '@forja/server/testing';
import { ForjaClient } from './client.js';
import { ForjaApiError, ForjaConnectionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from './errors.js';

describe('TypeScript SDK against a live server', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  test('login keeps the session token; whoami, version', async () => {
    const forja = new ForjaClient({ baseUrl: s.url + '/' });
    const session = await forja.login('admin', TEST_ADMIN_PASSWORD);
    assert.equal(session.user.username, 'admin');
    assert.equal(forja.token, session.token);
    assert.equal((await forja.whoami()).user?.isAdmin, true);
    assert.equal((await forja.version()).api, 'v1');
  });

  test('groups, members and tokens round trip; revoked tokens stop working', async () => {
    const forja = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
    const group = await forja.groups.create({ name: 'sdk-team', description: 'from the SDK' });
    assert.equal(group.myRole, 'admin');
    await forja.users.create({ username: 'sdk-user', password: 'sdk-user-password' });
    assert.equal((await forja.groups.setMember('sdk-team', 'sdk-user', 'editor')).role, 'editor');
    assert.deepEqual(
      (await forja.groups.members('sdk-team')).map((m) => m.username),
      ['admin', 'sdk-user'],
    );
    const created = await forja.tokens.create({ name: 'svc', kind: 'service', group: 'sdk-team', role: 'viewer' });
    const svc = new ForjaClient({ baseUrl: s.url, token: created.secret });
    assert.equal((await svc.whoami()).kind, 'service');
    await forja.tokens.revoke(created.token.id);
    await assert.rejects(svc.whoami(), (err: unknown) => err instanceof UnauthenticatedError && err.code === 'UNAUTHENTICATED' && /revoked/.test(err.message));
    const audit = await forja.audit({ group: 'sdk-team' });
    assert.deepEqual(
      audit.items.map((e) => e.action),
      ['token.revoke', 'token.create', 'member.add', 'group.create'],
    );
  });

  test('errors are typed by status and carry the code, message and request id', async () => {
    const forja = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
    await assert.rejects(
      forja.groups.get('no-such-group'),
      (err: unknown) => err instanceof NotFoundError && err.status === 404 && err.code === 'NOT_FOUND' && typeof err.requestId === 'string',
    );
    await assert.rejects(forja.groups.create({ name: 'Bad Name!' }), (err: unknown) => err instanceof InvalidArgumentError && /body\.name/.test(err.message));
    const viewer = new ForjaClient({ baseUrl: s.url });
    await forja.users.create({ username: 'sdk-viewer', password: 'sdk-viewer-password' });
    await viewer.login('sdk-viewer', 'sdk-viewer-password');
    await assert.rejects(viewer.users.list(), (err: unknown) => err instanceof PermissionDeniedError && err instanceof ForjaApiError);
  });

  test('a server that is not there is a ForjaConnectionError after the retries', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const forja = new ForjaClient({ baseUrl: 'http://127.0.0.1:9', retries: 2, fetch: counting });
    await assert.rejects(forja.version(), (err: unknown) => err instanceof ForjaConnectionError && /127\.0\.0\.1:9/.test(err.message));
    assert.equal(calls, 3);
  });

  test('4xx answers are never retried', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const forja = new ForjaClient({ baseUrl: s.url, retries: 3, fetch: counting });
    await assert.rejects(forja.whoami(), UnauthenticatedError);
    assert.equal(calls, 1);
  });
});
