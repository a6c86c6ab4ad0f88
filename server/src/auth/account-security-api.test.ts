import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../testing/server.js';

interface Entry {
  actor: string | null;
  actorTokenId: string | null;
  actorTokenName: string | null;
  action: string;
  resourceId: string | null;
  group: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

for (const dialect of DIALECTS) {
  describe(`accounts, tokens and audit on ${dialect}`, () => {
    // 127.0.0.1 plays the reverse proxy, so each test can speak for client addresses of its own.
    let s: TestServer;
    const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) => http(s.url, method, path, options);
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const login = (username: string, password: string, headers?: Record<string, string>) =>
      call('POST', '/api/v1/auth/login', { body: { username, password }, headers });
    const audit = async (query: string, server = s): Promise<Entry[]> => {
      const r = await http(server.url, 'GET', `/api/v1/audit?limit=500&${query}`, { token: server.adminToken });
      assert.equal(r.status, 200, r.text);
      return r.body.items;
    };

    async function makeUser(username: string): Promise<string> {
      const created = await call('POST', '/api/v1/users', { token: s.adminToken, body: { username, password: `${username}-password` } });
      assert.equal(created.status, 201, created.text);
      const session = await login(username, `${username}-password`);
      assert.equal(session.status, 200, session.text);
      return session.body.token;
    }

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_TRUSTED_PROXIES: '127.0.0.1' } });
    });
    after(() => s.close());

    test('audit entries name the token used: a user made with the admin token stands apart from one made in a session', async () => {
      const adminTokenId = (await call('GET', '/api/v1/tokens', { token: s.adminToken })).body.items.find(
        (t: { name: string }) => t.name === 'FORJA_ADMIN_TOKEN',
      ).id;
      assert.equal((await call('POST', '/api/v1/users', { token: s.adminToken, body: { username: 'via-token', password: 'password-123' } })).status, 201);
      const session = await login('admin', TEST_ADMIN_PASSWORD);
      assert.equal(
        (await call('POST', '/api/v1/users', { token: session.body.token, body: { username: 'via-session', password: 'password-123' } })).status,
        201,
      );
      assert.equal(
        (
          await call('POST', '/api/v1/users', {
            headers: { authorization: basic('admin', TEST_ADMIN_PASSWORD) },
            body: { username: 'via-basic', password: 'password-123' },
          })
        ).status,
        201,
      );

      const created = await audit('action=user.create');
      const by = (name: string) => created.find((e) => e.resourceId === name)!;
      assert.deepEqual([by('via-token').actorTokenId, by('via-token').actorTokenName], [adminTokenId, 'FORJA_ADMIN_TOKEN']);
      assert.equal(by('via-session').actorTokenName, 'session');
      assert.deepEqual([by('via-basic').actorTokenId, by('via-basic').actorTokenName], [null, null], 'a password over HTTP Basic is no token');
      const sessionId = by('via-session').actorTokenId;
      assert.ok(sessionId && sessionId !== adminTokenId);
      // The login entry carries the session it opened, so the session's actions lead back to the login.
      const loginEntry = (await audit('action=auth.login&actor=admin')).find((e) => e.actorTokenId === sessionId);
      assert.equal(loginEntry?.actorTokenName, 'session');
      const ofToken = await audit(`token=${adminTokenId}`);
      assert.ok(ofToken.length >= 1);
      assert.ok(ofToken.every((e) => e.actorTokenId === adminTokenId));
      assert.ok(ofToken.some((e) => e.resourceId === 'via-token'));
      assert.ok(!ofToken.some((e) => e.resourceId === 'via-session'));
    });

    test('a password change ends the other sessions, keeps the one that made it and the personal tokens; an admin change ends all', async () => {
      const kept = await makeUser('pat');
      const other = (await login('pat', 'pat-password')).body.token;
      const personal = (await call('POST', '/api/v1/tokens', { token: kept, body: { name: 'pat-ci' } })).body.secret;
      const changed = await call('PATCH', '/api/v1/users/pat', { token: kept, body: { password: 'pat-new-password' } });
      assert.equal(changed.status, 200, changed.text);
      const otherNow = await call('GET', '/api/v1/whoami', { token: other });
      assert.equal(otherNow.status, 401);
      assert.match(otherNow.body.error.message, /revoked/);
      assert.equal((await call('GET', '/api/v1/whoami', { token: kept })).status, 200, 'the session that changed it stays');
      assert.equal((await call('GET', '/api/v1/whoami', { token: personal })).status, 200, 'personal tokens stay');
      assert.equal((await login('pat', 'pat-password')).status, 401);
      const fresh = (await login('pat', 'pat-new-password')).body.token;

      assert.equal((await call('PATCH', '/api/v1/users/pat', { token: s.adminToken, body: { password: 'pat-third-password' } })).status, 200);
      for (const token of [kept, fresh]) assert.equal((await call('GET', '/api/v1/whoami', { token })).status, 401);
      assert.equal((await call('GET', '/api/v1/whoami', { token: personal })).status, 200);
      const updates = (await audit('action=user.update')).filter((e) => e.resourceId === 'pat');
      assert.deepEqual(
        updates.map((e) => e.details?.sessionsRevoked),
        [2, 1],
      );
    });

    test('HTTP Basic failures and lockouts are audited like login failures, a lockout once a minute', async () => {
      await makeUser('basil');
      const headers = (password: string) => ({ authorization: basic('basil', password), ...from('192.0.2.10') });
      const statuses: number[] = [];
      for (let i = 0; i < 13; i++) statuses.push((await call('GET', '/api/v1/whoami', { headers: headers(`guess-${i}`) })).status);
      assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429, 429]);
      const failed = (await audit('action=auth.login_failed')).filter((e) => e.resourceId === 'basil');
      assert.equal(failed.length, 10);
      assert.ok(failed.every((e) => e.details?.via === 'basic' && e.ip === '192.0.2.10' && e.actor === '(anonymous)'));
      const limited = (await audit('action=auth.login_limited')).filter((e) => e.resourceId === 'basil');
      assert.equal(limited.length, 1, 'three refusals, one entry');
      assert.deepEqual(limited[0]!.details, { via: 'basic', locked: 'user' });
    });

    test('failures for one user do not lock another behind the same address; a user is locked from every address; a success resets', async () => {
      await makeUser('ulla');
      await makeUser('vera');
      await makeUser('walt');
      for (let i = 0; i < 10; i++) assert.equal((await login('ulla', `guess-${i}`, from('198.51.100.1'))).status, 401);
      assert.equal((await login('ulla', 'ulla-password', from('198.51.100.1'))).status, 429);
      const elsewhere = await login('ulla', 'ulla-password', from('198.51.100.99'));
      assert.equal(elsewhere.status, 429, 'guesses at one account count together, wherever they come from');
      assert.ok(Number(elsewhere.headers.get('retry-after')) <= 60, 'a locked account waits a minute, not the whole window');
      assert.equal((await login('vera', 'vera-password', from('198.51.100.1'))).status, 200, 'the address itself is not locked');

      for (let i = 0; i < 9; i++) assert.equal((await login('walt', `guess-${i}`, from('198.51.100.2'))).status, 401);
      assert.equal((await login('walt', 'walt-password', from('198.51.100.2'))).status, 200);
      for (let i = 0; i < 9; i++) assert.equal((await login('walt', `again-${i}`, from('198.51.100.2'))).status, 401, 'the success started the count afresh');
      assert.equal((await login('walt', 'walt-password', from('198.51.100.2'))).status, 200);
    });

    test('X-Forwarded-For from a trusted proxy is the address: 50 failures lock it, not the others, and the audit log names it', async () => {
      for (let i = 0; i < 50; i++) assert.equal((await login(`nobody-${i}`, 'wrong-password', from('203.0.113.7'))).status, 401);
      const locked = await login('admin', TEST_ADMIN_PASSWORD, from('203.0.113.7'));
      assert.equal(locked.status, 429);
      assert.equal((await login('admin', TEST_ADMIN_PASSWORD, from('203.0.113.8'))).status, 200);
      assert.equal((await login('admin', TEST_ADMIN_PASSWORD)).status, 200, 'the proxy itself is not locked');
      const limited = (await audit('action=auth.login_limited')).filter((e) => e.ip === '203.0.113.7');
      assert.deepEqual(
        limited.map((e) => [e.resourceId, e.details?.locked]),
        [['admin', 'address']],
      );
    });

    test('X-Forwarded-For from a peer that is not a trusted proxy is ignored, for the limit and the audit log', async () => {
      const direct = await startTestServer({ dialect, env: { FORJA_TRUSTED_PROXIES: '10.9.9.9' } });
      try {
        const attempt = (i: number) =>
          http(direct.url, 'POST', '/api/v1/auth/login', { body: { username: `nobody-${i}`, password: 'wrong-password' }, headers: from(`203.0.113.${i}`) });
        for (let i = 0; i < 50; i++) assert.equal((await attempt(i)).status, 401);
        assert.equal((await attempt(50)).status, 429, 'a new X-Forwarded-For does not buy new guesses');
        const failed = await audit('action=auth.login_failed', direct);
        assert.equal(failed.length, 50);
        assert.ok(failed.every((e) => e.ip === '127.0.0.1'));
      } finally {
        await direct.close();
      }
    });

    test('refused cross-group calls are audited as access.denied, once per caller and route a minute; plain 404s are not', async () => {
      const owner = await makeUser('olive');
      const eve = await makeUser('eve');
      const vic = await makeUser('vic');
      const tim = await makeUser('tim');
      assert.equal((await call('POST', '/api/v1/groups', { token: owner, body: { name: 'vault' } })).status, 201);
      assert.equal((await call('PUT', '/api/v1/groups/vault/members/vic', { token: owner, body: { role: 'viewer' } })).status, 200);
      const experiment = await call('POST', '/api/v1/experiments', { token: owner, body: { name: 'secret-exp' }, headers: { 'x-forja-group': 'vault' } });
      assert.equal(experiment.status, 201, experiment.text);

      for (let i = 0; i < 3; i++) assert.equal((await call('GET', '/api/v1/groups/vault', { token: eve })).status, 404);
      assert.equal((await call('GET', '/api/v1/groups/vault/members', { token: eve })).status, 404);
      const byId = await call('PATCH', `/api/v1/experiments/${experiment.body.experimentId}`, { token: eve, body: { name: 'mine' } });
      assert.equal(byId.status, 404, byId.text);
      assert.equal((await call('PATCH', '/api/v1/groups/vault', { token: vic, body: { description: 'x' } })).status, 403);
      // Things that do not exist are not refusals.
      assert.equal((await call('GET', '/api/v1/groups/no-such-group', { token: tim })).status, 404);
      assert.equal((await call('PATCH', '/api/v1/experiments/999999999', { token: tim, body: { name: 'x' } })).status, 404);

      const denied = await audit('action=access.denied');
      const of = (actor: string) => denied.filter((e) => e.actor === actor);
      assert.deepEqual(
        of('eve')
          .map((e) => [e.resourceId, e.group, e.details?.status])
          .sort(),
        [
          ['GET /api/v1/groups/:group', 'vault', 404],
          ['GET /api/v1/groups/:group/members', 'vault', 404],
          ['PATCH /api/v1/experiments/:experimentId', 'vault', 404],
        ],
      );
      assert.ok(of('eve').every((e) => e.actorTokenName === 'session' && e.ip === '127.0.0.1'));
      assert.deepEqual(
        of('vic').map((e) => [e.resourceId, e.details?.status]),
        [['PATCH /api/v1/groups/:group', 403]],
      );
      assert.match(String(of('vic')[0]!.details?.reason), /viewer.*needs admin/);
      assert.deepEqual(of('tim'), []);
      // The group's admin sees who knocked.
      const ownView = await call('GET', '/api/v1/audit?group=vault&action=access.denied', { token: owner });
      assert.deepEqual(ownView.body.items.map((e: Entry) => e.actor).sort(), ['eve', 'eve', 'eve', 'vic']);
    });
  });
}
