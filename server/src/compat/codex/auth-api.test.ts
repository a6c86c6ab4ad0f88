import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../testing/databases.js';
import { http, startTestServer, type TestServer } from '../../testing/server.js';
import { VERSION } from '../../version.js';

const TENANT = 'acme-bank';

for (const dialect of DIALECTS) {
  describe(`MLOps Codex health, login, groups and group tokens on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) => http(s.url, method, path, options);
    /** The client sends forms, as requests' `data=` does. */
    const form = (method: string, path: string, fields: Record<string, string>, token?: string) =>
      call(method, path, { token, rawBody: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const login = (user: string, password: string, tenant = TENANT) => form('POST', '/codex/api/login', { user, password, tenant });

    async function makeUser(username: string) {
      const created = await call('POST', '/api/v1/users', { token: s.adminToken, body: { username, password: `${username}-password` } });
      assert.equal(created.status, 201, created.text);
    }
    const audit = async (query: string) => (await call('GET', `/api/v1/audit?limit=500&${query}`, { token: s.adminToken })).body.items as any[];

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_CODEX_TENANT: TENANT } });
      await makeUser('ana');
    });
    after(() => s.close());

    test('health answers without credentials with the server version', async () => {
      const res = await call('GET', '/codex/api/health');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { Version: VERSION });
    });

    test('login with user, password and tenant returns a token that works on Forja and Codex routes', async () => {
      const res = await login('ana', 'ana-password');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body), ['Token']);
      const me = await call('GET', '/api/v1/whoami', { token: res.body.Token });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.user.username, 'ana');
      assert.equal((await call('GET', '/codex/api/groups', { token: res.body.Token })).status, 200);
    });

    test('a wrong password is a 401 in Codex shape, a wrong tenant a 401 naming FORJA_CODEX_TENANT, a missing field a 400', async () => {
      const wrong = await login('ana', 'not-her-password');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.Error.Type, 'Unauthorized');
      assert.match(wrong.body.Error.Message, /Wrong username or password/);
      const tenant = await login('ana', 'ana-password', 'datarisk');
      assert.equal(tenant.status, 401);
      assert.match(tenant.body.Error.Message, /"datarisk"/);
      assert.match(tenant.body.Error.Message, /FORJA_CODEX_TENANT=datarisk/);
      assert.match(tenant.body.Error.Message, new RegExp(`"${TENANT}"`));
      for (const missing of ['user', 'password', 'tenant']) {
        const fields: Record<string, string> = { user: 'ana', password: 'ana-password', tenant: TENANT };
        delete fields[missing];
        const res = await form('POST', '/codex/api/login', fields);
        assert.equal(res.status, 400, `${missing}: ${res.text}`);
        assert.equal(res.body.Error.Type, 'BadInput');
        assert.match(res.body.Error.Message, new RegExp(`${missing} is required`));
      }
      const empty = await form('POST', '/codex/api/login', { user: '', password: 'x', tenant: TENANT });
      assert.equal(empty.status, 400);
      assert.match(empty.body.Error.Message, /user is required/);
    });

    test('50 logins of one user share one session and one audit entry; each answer is a new secret that works; ending the session ends them all', async () => {
      await makeUser('bea');
      const before = (await audit('action=auth.login&actor=bea')).length;
      const secrets: string[] = [];
      for (let i = 0; i < 50; i++) {
        const res = await login('bea', 'bea-password');
        assert.equal(res.status, 200, res.text);
        secrets.push(res.body.Token);
      }
      assert.equal(new Set(secrets).size, 50, 'no secret is returned twice');
      const logins = await audit('action=auth.login&actor=bea');
      assert.equal(logins.length - before, 1, 'one audit entry for the 50 logins');
      const sessionId = logins[0].actorTokenId;
      assert.ok(sessionId);
      // The session is listed with the user's tokens (the only session kind that is), once.
      const mine = await call('GET', '/api/v1/tokens', { token: secrets[0] });
      assert.equal(mine.status, 200, mine.text);
      assert.deepEqual(
        mine.body.items.map((t: any) => [t.id, t.kind, t.name]),
        [[sessionId, 'session', 'MLOps Codex session']],
      );
      assert.ok(mine.body.items[0].expiresAt > Date.now());
      for (const secret of [secrets[0], secrets[24], secrets[49]]) {
        const me = await call('GET', '/api/v1/whoami', { token: secret });
        assert.equal(me.status, 200, me.text);
        assert.equal(me.body.tokenId, sessionId, 'every secret acts as the one session');
      }
      // A derived secret with one character changed is refused: it is checked, not just parsed.
      const last = secrets[49]!;
      const forged = last.slice(0, -1) + (last.endsWith('0') ? '1' : '0');
      assert.equal((await call('GET', '/api/v1/whoami', { token: forged })).status, 401);
      const other = await call('POST', '/api/v1/auth/login', { body: { username: 'bea', password: 'bea-password' } });
      assert.equal(other.status, 200, 'an ordinary login still opens a session of its own');
      // Logout with any of the secrets ends the session: all 50 stop working; the ordinary session stays.
      assert.equal((await call('POST', '/api/v1/auth/logout', { token: secrets[7] })).status, 200);
      for (const secret of [secrets[0], secrets[7], secrets[49]]) {
        const res = await call('GET', '/codex/api/groups', { token: secret });
        assert.equal(res.status, 401);
        assert.match(res.body.Error.Message, /revoked/);
      }
      assert.equal((await call('GET', '/api/v1/whoami', { token: other.body.token })).status, 200);
      // The next login opens a new session (and says so in the audit log).
      const again = await login('bea', 'bea-password');
      assert.equal(again.status, 200);
      assert.equal((await audit('action=auth.login&actor=bea')).length - before, 3);
    });

    test('the tokens API ends a Codex session: its owner or a system admin, nobody else', async () => {
      await makeUser('cai');
      await makeUser('dan');
      const first = (await login('cai', 'cai-password')).body.Token;
      const second = (await login('cai', 'cai-password')).body.Token;
      const session = (await call('GET', '/api/v1/tokens', { token: first })).body.items[0];
      const dan = (await login('dan', 'dan-password')).body.Token;
      const refused = await call('DELETE', `/api/v1/tokens/${session.id}`, { token: dan });
      assert.equal(refused.status, 404, "another user's session does not exist for them");
      assert.equal((await call('GET', '/api/v1/whoami', { token: second })).status, 200);
      const revoked = await call('DELETE', `/api/v1/tokens/${session.id}`, { token: first });
      assert.equal(revoked.status, 200, revoked.text);
      assert.ok(revoked.body.revokedAt);
      assert.equal((await call('GET', '/api/v1/whoami', { token: first })).status, 401);
      assert.equal((await call('GET', '/api/v1/whoami', { token: second })).status, 401);
      // An admin can end anyone's.
      const danSession = (await call('GET', '/api/v1/tokens', { token: dan })).body.items[0];
      assert.equal((await call('DELETE', `/api/v1/tokens/${danSession.id}`, { token: s.adminToken })).status, 200);
      assert.equal((await call('GET', '/api/v1/whoami', { token: dan })).status, 401);
    });

    test('a password change ends the Codex session too', async () => {
      await makeUser('eva');
      const token = (await login('eva', 'eva-password')).body.Token;
      const changed = await call('PATCH', '/api/v1/users/eva', { token: s.adminToken, body: { password: 'eva-new-password' } });
      assert.equal(changed.status, 200, changed.text);
      assert.equal((await call('GET', '/api/v1/whoami', { token })).status, 401);
      assert.equal((await login('eva', 'eva-password')).status, 401);
      assert.equal((await login('eva', 'eva-new-password')).status, 200);
    });

    test('groups: list in PascalCase, create with a form (201 and a group token), 409 when it exists, refused names', async () => {
      const ana = (await login('ana', 'ana-password')).body.Token;
      const listed = await call('GET', '/codex/api/groups', { token: ana });
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(
        listed.body.Results.map((g: any) => [g.Name, g.Role]),
        [['default', 'viewer']],
      );
      assert.match(listed.body.Results[0].CreatedAt, /^\d{4}-\d\d-\d\dT/);

      const created = await form('POST', '/codex/api/groups', { name: 'Fraud-Team', description: 'Fraud models' }, ana);
      assert.equal(created.status, 201, created.text);
      assert.match(created.body.Token, /^fjg_/);
      const who = await call('GET', '/api/v1/whoami', { token: created.body.Token });
      assert.equal(who.body.kind, 'group', 'the answer is a group token of the new group');
      assert.equal(who.body.tokenName, 'MLOps Codex group token');
      const after = (await call('GET', '/codex/api/groups', { token: ana })).body.Results;
      assert.deepEqual(
        after.map((g: any) => [g.Name, g.Description, g.Role]),
        [
          ['default', 'Everyone starts here.', 'viewer'],
          ['fraud-team', 'Fraud models', 'admin'],
        ],
      );
      assert.deepEqual((await audit('actor=ana')).map((e) => e.action).slice(0, 2), ['token.create', 'group.create']);

      const again = await form('POST', '/codex/api/groups', { name: 'FRAUD-TEAM', description: 'again' }, ana);
      assert.equal(again.status, 409);
      assert.equal(again.body.Error.Type, 'AlreadyExists');
      assert.match(again.body.Error.Message, /fraud-team/);

      const spaced = await form('POST', '/codex/api/groups', { name: 'Time de Fraude', description: '' }, ana);
      assert.equal(spaced.status, 400);
      assert.match(spaced.body.Error.Message, /"Time de Fraude" cannot be a Forja group/);
      const unnamed = await form('POST', '/codex/api/groups', { description: 'no name' }, ana);
      assert.equal(unnamed.status, 400);
      assert.match(unnamed.body.Error.Message, /name is required/);
      const noDescription = await form('POST', '/codex/api/groups', { name: 'risk' }, ana);
      assert.equal(noDescription.status, 201, 'the description may be left out');
    });

    test('management routes take any user credential and refuse a group token with a 403; none at all is a 401', async () => {
      const ana = (await login('ana', 'ana-password')).body.Token;
      const groupToken = (await form('POST', '/codex/api/groups', { name: 'scoring', description: '' }, ana)).body.Token;
      const personal = await call('POST', '/api/v1/tokens', { token: ana, body: { name: 'notebook' } });
      const service = await call('POST', '/api/v1/tokens', { token: ana, body: { name: 'ci', kind: 'service', group: 'scoring', role: 'editor' } });
      assert.equal(service.status, 201, service.text);
      for (const [what, token] of [
        ['a personal token', personal.body.secret],
        ['a service token', service.body.secret],
        ['FORJA_ADMIN_TOKEN', s.adminToken],
      ] as const) {
        const res = await call('GET', '/codex/api/groups', { token });
        assert.equal(res.status, 200, `${what}: ${res.text}`);
      }
      assert.deepEqual(
        (await call('GET', '/codex/api/groups', { token: service.body.secret })).body.Results.map((g: any) => g.Name),
        ['scoring'],
        'a service token sees its own group',
      );
      const refusals = [
        await call('GET', '/codex/api/groups', { token: groupToken }),
        await form('POST', '/codex/api/groups', { name: 'sneaky', description: '' }, groupToken),
        await call('GET', '/codex/api/groups/refresh/scoring', { token: groupToken }),
      ];
      for (const res of refusals) {
        assert.equal(res.status, 403, res.text);
        assert.equal(res.body.Error.Type, 'Forbidden');
        assert.match(res.body.Error.Message, /group token/);
      }
      const anonymous = await call('GET', '/codex/api/groups');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.Error.Type, 'Unauthorized');
    });

    test('refresh: a new token each time (201); force=true revokes the earlier Codex group tokens, force=false keeps them', async () => {
      const ana = (await login('ana', 'ana-password')).body.Token;
      const first = (await form('POST', '/codex/api/groups', { name: 'pricing', description: '' }, ana)).body.Token;
      const native = await call('POST', '/api/v1/tokens', { token: ana, body: { name: 'dashboard', kind: 'group', group: 'pricing' } });
      const kept = await call('GET', '/codex/api/groups/refresh/Pricing?force=false', { token: ana });
      assert.equal(kept.status, 201, kept.text);
      assert.notEqual(kept.body.Token, first, 'a secret is never shown twice: refresh makes a new one');
      const plain = await call('GET', '/codex/api/groups/refresh/pricing', { token: ana });
      assert.equal(plain.status, 201);
      const whoami = (token: string) => call('GET', '/api/v1/whoami', { token }).then((r) => r.status);
      assert.deepEqual(await Promise.all([first, kept.body.Token, plain.body.Token].map(whoami)), [200, 200, 200]);
      const forced = await call('GET', '/codex/api/groups/refresh/pricing?force=true', { token: ana });
      assert.equal(forced.status, 201);
      assert.deepEqual(
        await Promise.all([first, kept.body.Token, plain.body.Token, forced.body.Token, native.body.secret].map(whoami)),
        [401, 401, 401, 200, 200],
        "force revokes the group's earlier Codex tokens, not the ones made with Forja's API",
      );
      const revokes = await audit('actor=ana&action=token.revoke');
      assert.ok(revokes.length >= 3);
    });

    test('refresh refuses: an unknown group (404), a group the caller is not in (404), a viewer (403), a bad force (400)', async () => {
      const ana = (await login('ana', 'ana-password')).body.Token;
      await makeUser('fil');
      const fil = (await login('fil', 'fil-password')).body.Token;
      await form('POST', '/codex/api/groups', { name: 'fil-only', description: '' }, fil);
      const unknown = await call('GET', '/codex/api/groups/refresh/no-such-group', { token: ana });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.Error.Type, 'NotFound');
      assert.match(unknown.body.Error.Message, /no-such-group/);
      const hidden = await call('GET', '/codex/api/groups/refresh/fil-only', { token: ana });
      assert.equal(hidden.status, 404, "another team's group does not exist for them");
      const viewer = await call('GET', '/codex/api/groups/refresh/default', { token: ana });
      assert.equal(viewer.status, 403);
      assert.match(viewer.body.Error.Message, /viewer in group "default"; this needs admin/);
      const badForce = await call('GET', '/codex/api/groups/refresh/fil-only?force=yes', { token: fil });
      assert.equal(badForce.status, 400);
      assert.match(badForce.body.Error.Message, /force must be true or false/);
      const badName = await call('GET', '/codex/api/groups/refresh/Caf%C3%A9', { token: fil });
      assert.equal(badName.status, 400);
      assert.match(badName.body.Error.Message, /"Café" cannot be a Forja group/);
    });

    test("failed Codex logins count toward Forja's login limit", async () => {
      await makeUser('guessed');
      for (let i = 0; i < 10; i++) assert.equal((await login('guessed', `guess-${i}`)).status, 401);
      const locked = await login('guessed', 'guessed-password');
      assert.equal(locked.status, 429, 'even the right password waits once the user is locked');
      assert.match(locked.body.Error.Message, /Too many failed logins/);
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
    });
  });
}
