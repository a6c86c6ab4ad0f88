import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`auth and tenancy over HTTP on ${dialect}`, () => {
    let s: TestServer;
    let admin: string;
    const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) => http(s.url, method, path, options);

    async function makeUser(username: string, group?: string, role?: string) {
      const created = await call('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } });
      assert.equal(created.status, 201, created.text);
      if (group) assert.equal((await call('PUT', `/api/v1/groups/${group}/members/${username}`, { token: admin, body: { role } })).status, 200);
      const login = await call('POST', '/api/v1/auth/login', { body: { username, password: `${username}-password` } });
      assert.equal(login.status, 200, login.text);
      return login.body.token as string;
    }

    /** Counts audit rows, to prove a rejected request changed nothing (refusals are recorded as access.denied, which changes nothing). */
    const auditCount = async () =>
      ((await call('GET', '/api/v1/audit?limit=500', { token: admin })).body.items as { action: string }[]).filter((e) => e.action !== 'access.denied').length;

    before(async () => {
      s = await startTestServer({ dialect });
      admin = s.adminToken;
    });
    after(() => s.close());

    test('first start: admin user in a default group, FORJA_ADMIN_TOKEN works, password login works', async () => {
      const me = await call('GET', '/api/v1/whoami', { token: admin });
      assert.equal(me.status, 200);
      assert.equal(me.body.user.username, 'admin');
      assert.equal(me.body.user.isAdmin, true);
      assert.equal(me.body.defaultGroup, 'default');
      assert.deepEqual(me.body.memberships, [{ group: 'default', role: 'admin' }]);
      assert.equal(me.body.actingGroup, 'default');
      const elsewhere = await call('GET', '/api/v1/whoami', { token: admin, headers: { 'x-forja-group': 'no-such-group' } });
      assert.equal(elsewhere.body.actingGroup, null, 'a group the caller cannot use is not acted in');
      const login = await call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: TEST_ADMIN_PASSWORD } });
      assert.equal(login.status, 200);
      assert.match(login.body.token, /^fjs_[A-Za-z0-9]{40}$/);
      assert.ok(login.body.expiresAt > Date.now());
    });

    test('health, ready and version', async () => {
      assert.deepEqual((await call('GET', '/health')).body, { status: 'ok' });
      const ready = await call('GET', '/ready');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.status, 'ready');
      assert.equal(ready.body.database.dialect, dialect);
      const v = await call('GET', '/api/v1/version');
      assert.equal(v.body.api, 'v1');
      assert.equal(v.body.database, dialect);
    });

    test('OpenAPI document and interactive docs are served', async () => {
      const doc = await call('GET', '/api/v1/openapi.json');
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.0.3');
      assert.ok(doc.body.paths['/api/v1/tokens'].post, 'token creation is documented');
      assert.ok(doc.body.paths['/api/v1/groups/{group}/members/{username}'].put);
      const ui = await call('GET', '/docs');
      assert.equal(ui.status, 200);
      assert.match(ui.text, /<html/i);
    });

    test('a request id is echoed, and a valid one given by the client is kept', async () => {
      const r = await call('GET', '/health', { headers: { 'x-request-id': 'trace-abc.123' } });
      assert.equal(r.headers.get('x-request-id'), 'trace-abc.123');
      const bad = await call('GET', '/api/v1/nope', { headers: { 'x-request-id': 'bad id with spaces' } });
      assert.notEqual(bad.headers.get('x-request-id'), 'bad id with spaces');
      assert.equal(bad.body.error.requestId, bad.headers.get('x-request-id'));
    });

    test('login: wrong password is 401 with a plain message, an unknown user looks the same', async () => {
      const wrong = await call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'nope-nope' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'UNAUTHENTICATED');
      assert.equal(wrong.body.error.message, 'Wrong username or password.');
      const ghost = await call('POST', '/api/v1/auth/login', { body: { username: 'ghost', password: 'nope-nope' } });
      assert.equal(ghost.status, 401);
      assert.equal(ghost.body.error.message, wrong.body.error.message);
    });

    test('login brute force is rate limited with Retry-After, per username', async () => {
      await makeUser('target');
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await call('POST', '/api/v1/auth/login', { body: { username: 'target', password: `guess-${i}` } })).status);
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
      assert.deepEqual(statuses.slice(10), [429, 429]);
      const limited = await call('POST', '/api/v1/auth/login', { body: { username: 'target', password: 'target-password' } });
      assert.equal(limited.status, 429, 'even the right password waits out the window');
      assert.equal(limited.body.error.code, 'RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      // Other accounts are not locked by someone guessing at this one.
      assert.equal((await call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: TEST_ADMIN_PASSWORD } })).status, 200);
    });

    test('HTTP Basic with username and password, and with a token as the password', async () => {
      const basic = (u: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
      const ok = await call('GET', '/api/v1/whoami', { headers: basic('admin', TEST_ADMIN_PASSWORD) });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.user.username, 'admin');
      const created = await call('POST', '/api/v1/tokens', { token: admin, body: { name: 'for-basic' } });
      const viaToken = await call('GET', '/api/v1/whoami', { headers: basic('anything', created.body.secret) });
      assert.equal(viaToken.status, 200);
      assert.equal(viaToken.body.tokenName, 'for-basic');
      assert.equal((await call('GET', '/api/v1/whoami', { headers: basic('admin', 'wrong-password') })).status, 401);
      assert.equal((await call('GET', '/api/v1/whoami', { headers: { authorization: 'Basic !!!' } })).status, 401);
      assert.equal((await call('GET', '/api/v1/whoami', { headers: { authorization: 'Digest abc' } })).status, 401);
    });

    test('personal tokens: secret shown once, listed by name and prefix, revocable; revoked and expired tokens get 401', async () => {
      const created = await call('POST', '/api/v1/tokens', { token: admin, body: { name: 'ci', expiresInDays: 30 } });
      assert.equal(created.status, 201);
      const secret: string = created.body.secret;
      assert.match(secret, /^fjp_/);
      assert.equal(created.body.token.prefix, secret.slice(0, 10));
      const list = await call('GET', '/api/v1/tokens', { token: admin });
      const listed = list.body.items.find((t: { id: string }) => t.id === created.body.token.id);
      assert.equal(listed.name, 'ci');
      assert.ok(!JSON.stringify(list.body).includes(secret), 'the secret is never returned again');
      assert.equal((await call('GET', '/api/v1/whoami', { token: secret })).status, 200);

      const revoked = await call('DELETE', `/api/v1/tokens/${created.body.token.id}`, { token: admin });
      assert.equal(revoked.status, 200);
      assert.ok(revoked.body.revokedAt);
      const after = await call('GET', '/api/v1/whoami', { token: secret });
      assert.equal(after.status, 401);
      assert.match(after.body.error.message, /revoked/);

      const expiring = await call('POST', '/api/v1/tokens', { token: admin, body: { name: 'short', expiresInDays: 1 } });
      await s.server.services.db.kysely
        .updateTable('tokens')
        .set({ expires_at: Date.now() - 1000 })
        .where('id', '=', expiring.body.token.id)
        .execute();
      s.server.services.authenticator.invalidate();
      const expired = await call('GET', '/api/v1/whoami', { token: expiring.body.secret });
      assert.equal(expired.status, 401);
      assert.match(expired.body.error.message, /expired/);

      const missing = await call('GET', '/api/v1/whoami', { token: 'fjp_' + 'x'.repeat(40) });
      assert.equal(missing.status, 401);
      assert.equal((await call('GET', '/api/v1/groups')).status, 401, 'no token at all');
    });

    test('logout revokes the session token', async () => {
      const login = await call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: TEST_ADMIN_PASSWORD } });
      const token = login.body.token;
      assert.equal((await call('POST', '/api/v1/auth/logout', { token })).status, 200);
      assert.equal((await call('GET', '/api/v1/whoami', { token })).status, 401);
    });

    test('groups: a user creates one and is its admin; roles decide what members may do', async () => {
      const owner = await makeUser('olga');
      const g = await call('POST', '/api/v1/groups', { token: owner, body: { name: 'fraud-team', description: 'Fraud models' } });
      assert.equal(g.status, 201);
      assert.equal(g.body.myRole, 'admin');
      assert.equal((await call('POST', '/api/v1/groups', { token: owner, body: { name: 'fraud-team' } })).status, 409);

      const viewer = await makeUser('victor');
      assert.equal((await call('PUT', '/api/v1/groups/fraud-team/members/victor', { token: owner, body: { role: 'viewer' } })).status, 200);
      const members = await call('GET', '/api/v1/groups/fraud-team/members', { token: viewer });
      assert.deepEqual(
        members.body.items.map((m: { username: string; role: string }) => [m.username, m.role]),
        [
          ['olga', 'admin'],
          ['victor', 'viewer'],
        ],
      );

      // A viewer cannot change anything, and the attempt changes nothing.
      const before = await auditCount();
      const denied = await call('PATCH', '/api/v1/groups/fraud-team', { token: viewer, body: { description: 'hacked' } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'PERMISSION_DENIED');
      assert.match(denied.body.error.message, /viewer.*needs admin/);
      assert.equal((await call('PUT', '/api/v1/groups/fraud-team/members/victor', { token: viewer, body: { role: 'admin' } })).status, 403);
      assert.equal(
        (await call('POST', '/api/v1/tokens', { token: viewer, body: { name: 'x', kind: 'service', group: 'fraud-team', role: 'editor' } })).status,
        403,
      );
      assert.equal((await call('GET', '/api/v1/groups/fraud-team', { token: viewer })).body.description, 'Fraud models');
      assert.equal(await auditCount(), before);

      // The last admin cannot leave or be demoted.
      const demote = await call('PUT', '/api/v1/groups/fraud-team/members/olga', { token: owner, body: { role: 'editor' } });
      assert.equal(demote.status, 409);
      assert.match(demote.body.error.message, /without an admin/);
      assert.equal((await call('DELETE', '/api/v1/groups/fraud-team/members/olga', { token: owner })).status, 409);
      assert.equal((await call('DELETE', '/api/v1/groups/fraud-team/members/victor', { token: owner })).status, 200);
      assert.equal((await call('GET', '/api/v1/groups/fraud-team', { token: viewer })).status, 404, 'a removed member no longer sees the group');
    });

    test('tenancy: a user of group A cannot see group B, and is told it does not exist', async () => {
      const a = await makeUser('alice');
      const b = await makeUser('bob');
      await call('POST', '/api/v1/groups', { token: a, body: { name: 'group-a' } });
      await call('POST', '/api/v1/groups', { token: b, body: { name: 'group-b' } });
      for (const path of ['/api/v1/groups/group-b', '/api/v1/groups/group-b/members', '/api/v1/tokens?group=group-b', '/api/v1/audit?group=group-b']) {
        const r = await call('GET', path, { token: a });
        assert.equal(r.status, 404, path);
        assert.equal(r.body.error.code, 'NOT_FOUND');
      }
      const listed = await call('GET', '/api/v1/groups', { token: a });
      assert.deepEqual(listed.body.items.map((g: { name: string }) => g.name).sort(), ['default', 'group-a']);
      assert.equal(
        (await call('GET', '/api/v1/audit', { token: a })).body.items.every((e: { group: string }) => e.group === 'group-a'),
        true,
      );
      assert.equal((await call('GET', '/api/v1/groups/group-b', { token: admin })).status, 200, 'a system admin sees every group');
    });

    test('service tokens act in their group with their role; group tokens may only call models', async () => {
      const owner = await makeUser('sam');
      await call('POST', '/api/v1/groups', { token: owner, body: { name: 'svc-group' } });
      const svc = await call('POST', '/api/v1/tokens', { token: owner, body: { name: 'airflow', kind: 'service', group: 'svc-group', role: 'viewer' } });
      assert.equal(svc.status, 201);
      assert.match(svc.body.secret, /^fjv_/);
      assert.equal(svc.body.token.group, 'svc-group');
      const me = await call('GET', '/api/v1/whoami', { token: svc.body.secret });
      assert.equal(me.body.kind, 'service');
      assert.equal(me.body.defaultGroup, 'svc-group');
      assert.equal((await call('GET', '/api/v1/groups/svc-group', { token: svc.body.secret })).status, 200);
      assert.equal((await call('GET', '/api/v1/groups/default', { token: svc.body.secret })).status, 404);
      assert.equal((await call('PATCH', '/api/v1/groups/svc-group', { token: svc.body.secret, body: { description: 'x' } })).status, 403);

      const grp = await call('POST', '/api/v1/tokens', { token: owner, body: { name: 'app', kind: 'group', group: 'svc-group' } });
      assert.equal(grp.status, 201);
      assert.match(grp.body.secret, /^fjg_/);
      const denied = await call('GET', '/api/v1/groups/svc-group/members', { token: grp.body.secret });
      assert.equal(denied.status, 403);
      assert.match(denied.body.error.message, /only call models/);
      assert.equal((await call('POST', '/api/v1/groups', { token: grp.body.secret, body: { name: 'nope-group' } })).status, 403);

      const listed = await call('GET', '/api/v1/tokens?group=svc-group', { token: owner });
      assert.deepEqual(listed.body.items.map((t: { name: string }) => t.name).sort(), ['airflow', 'app']);

      assert.equal(
        (await call('POST', '/api/v1/tokens', { token: owner, body: { name: 'x', kind: 'service', group: 'svc-group' } })).status,
        400,
        'service token without role',
      );
      assert.equal(
        (await call('POST', '/api/v1/tokens', { token: owner, body: { name: 'x', kind: 'group', group: 'svc-group', role: 'admin' } })).status,
        400,
        'group token with a role',
      );
      assert.equal(
        (await call('POST', '/api/v1/tokens', { token: owner, body: { name: 'x', kind: 'personal', group: 'svc-group' } })).status,
        400,
        'personal token with a group',
      );
    });

    test('users: admin-only management; a user may update themself but not promote themself; disabled users are locked out', async () => {
      const u = await makeUser('dora');
      assert.equal((await call('GET', '/api/v1/users', { token: u })).status, 403);
      assert.equal((await call('POST', '/api/v1/users', { token: u, body: { username: 'evil', password: 'password123' } })).status, 403);
      const self = await call('PATCH', '/api/v1/users/dora', { token: u, body: { displayName: 'Dora M.' } });
      assert.equal(self.status, 200);
      assert.equal(self.body.displayName, 'Dora M.');
      assert.equal((await call('PATCH', '/api/v1/users/dora', { token: u, body: { isAdmin: true } })).status, 403);
      assert.equal((await call('PATCH', '/api/v1/users/admin', { token: u, body: { displayName: 'x' } })).status, 403);
      assert.equal((await call('POST', '/api/v1/users', { token: admin, body: { username: 'dora', password: 'password123' } })).status, 409);
      const page = await call('GET', '/api/v1/users?limit=2', { token: admin });
      assert.equal(page.body.items.length, 2);
      assert.ok(page.body.nextPageToken);
      assert.equal((await call('PATCH', '/api/v1/users/dora', { token: admin, body: { disabled: true } })).status, 200);
      assert.equal((await call('GET', '/api/v1/whoami', { token: u })).status, 401);
      const login = await call('POST', '/api/v1/auth/login', { body: { username: 'dora', password: 'dora-password' } });
      assert.equal(login.status, 401);
      assert.match(login.body.error.message, /disabled/);
    });

    test('audit log: who, what, which resource, when and from where; readable by admins only', async () => {
      const r = await call('POST', '/api/v1/groups', { token: admin, body: { name: 'audit-me' } });
      assert.equal(r.status, 201);
      const log = await call('GET', '/api/v1/audit?action=group.create&group=audit-me', { token: admin });
      assert.equal(log.status, 200);
      const entry = log.body.items[0];
      assert.equal(entry.actor, 'admin');
      assert.equal(entry.resourceType, 'group');
      assert.equal(entry.resourceId, 'audit-me');
      assert.equal(entry.group, 'audit-me');
      assert.equal(entry.ip, '127.0.0.1');
      assert.ok(Math.abs(entry.at - Date.now()) < 60_000);
      const plain = await makeUser('pete');
      assert.equal((await call('GET', '/api/v1/audit', { token: plain })).status, 403);
      const failed = await call('GET', '/api/v1/audit?action=auth.login_failed', { token: admin });
      assert.ok(
        failed.body.items.some((e: { resourceId: string; actor: string }) => e.resourceId === 'target' && e.actor === '(anonymous)'),
        'failed logins are audited',
      );
      assert.ok((await call('GET', '/api/v1/audit?action=auth.login_limited', { token: admin })).body.items.length >= 1, 'rate-limited attempts too');
      const logins = await call('GET', '/api/v1/audit?action=auth.login&actor=admin', { token: admin });
      assert.ok(logins.body.items.length >= 1);
      const tokenEntries = await call('GET', '/api/v1/audit?action=token.create', { token: admin });
      assert.ok(!JSON.stringify(tokenEntries.body).match(/fj[pvg]_[A-Za-z0-9]{40}/), 'no secret in the audit log');
    });

    describe('bad input gets a clear 4xx and changes nothing', () => {
      const cases: {
        name: string;
        method: string;
        path: string;
        status: number;
        code: string;
        body?: unknown;
        raw?: string | Buffer;
        headers?: Record<string, string>;
        message?: RegExp;
      }[] = [
        {
          name: 'malformed JSON',
          method: 'POST',
          path: '/api/v1/groups',
          raw: '{"name": "x",',
          headers: { 'content-type': 'application/json' },
          status: 400,
          code: 'MALFORMED_REQUEST',
          message: /JSON/,
        },
        { name: 'wrong type', method: 'POST', path: '/api/v1/groups', body: { name: 42 }, status: 400, code: 'INVALID_ARGUMENT', message: /body\.name/ },
        {
          name: 'unknown field on a strict schema',
          method: 'POST',
          path: '/api/v1/groups',
          body: { name: 'ok-name', owner: 'me' },
          status: 400,
          code: 'INVALID_ARGUMENT',
          message: /owner/,
        },
        {
          name: 'a group name with SQL quotes',
          method: 'POST',
          path: '/api/v1/groups',
          body: { name: "x'; drop table users;--" },
          status: 400,
          code: 'INVALID_ARGUMENT',
          message: /body\.name/,
        },
        { name: 'a path id with ../', method: 'GET', path: '/api/v1/groups/..%2F..%2Fetc', status: 400, code: 'INVALID_ARGUMENT', message: /params\.group/ },
        {
          name: 'a path id with SQL quotes',
          method: 'DELETE',
          path: "/api/v1/tokens/1'%20OR%20'1'='1",
          status: 400,
          code: 'INVALID_ARGUMENT',
          message: /params\.id/,
        },
        {
          name: 'a 10 MB body to a small endpoint',
          method: 'POST',
          path: '/api/v1/groups',
          raw: JSON.stringify({ name: 'big', description: 'x'.repeat(10 * 1024 * 1024) }),
          headers: { 'content-type': 'application/json' },
          status: 413,
          code: 'PAYLOAD_TOO_LARGE',
        },
        {
          name: 'an unsupported content type',
          method: 'POST',
          path: '/api/v1/groups',
          raw: 'name=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          status: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
        },
        { name: 'an unknown route', method: 'GET', path: '/api/v1/does-not-exist', status: 404, code: 'ROUTE_NOT_FOUND' },
        { name: 'an unknown query parameter', method: 'GET', path: '/api/v1/audit?colour=red', status: 400, code: 'INVALID_ARGUMENT', message: /colour/ },
        { name: 'a limit out of range', method: 'GET', path: '/api/v1/audit?limit=100000', status: 400, code: 'INVALID_ARGUMENT', message: /limit/ },
        {
          name: 'a short password',
          method: 'POST',
          path: '/api/v1/users',
          body: { username: 'shorty', password: 'abc' },
          status: 400,
          code: 'INVALID_ARGUMENT',
          message: /password/,
        },
        {
          name: 'an unknown role',
          method: 'PUT',
          path: '/api/v1/groups/default/members/admin',
          body: { role: 'owner' },
          status: 400,
          code: 'INVALID_ARGUMENT',
          message: /role/,
        },
        {
          name: 'an unknown user as member',
          method: 'PUT',
          path: '/api/v1/groups/default/members/nobody',
          body: { role: 'viewer' },
          status: 404,
          code: 'NOT_FOUND',
          message: /nobody/,
        },
        { name: 'revoking an unknown token', method: 'DELETE', path: '/api/v1/tokens/aaaaaaaaaaaaaaaaaaaa', status: 404, code: 'NOT_FOUND' },
      ];
      for (const c of cases) {
        test(c.name, async () => {
          const before = await auditCount();
          const r = await call(c.method, c.path, { token: admin, body: c.body, rawBody: c.raw, headers: c.headers });
          assert.equal(r.status, c.status, r.text.slice(0, 300));
          assert.equal(r.body.error.code, c.code);
          assert.ok(r.body.error.message.length > 10);
          if (c.message) assert.match(r.body.error.message, c.message);
          assert.ok(!/at .*\.(ts|js):\d+/.test(r.text), 'no stack trace leaks');
          assert.equal(await auditCount(), before, 'nothing changed');
        });
      }
    });
  });
}
