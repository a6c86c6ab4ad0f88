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
