import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

/** A scorer that answers what it was sent: enough to see an anonymous call reach the model. */
const SCORER = `
import json

def score(data, base_path):
    return {"got": json.loads(data)}
`;

for (const dialect of DIALECTS) {
  describe(`public deployments on ${dialect}`, () => {
    let s: TestServer;
    let id: string;
    let editor: string;
    const call = (method: string, p: string, body?: unknown, token = s.adminToken) => http(s.url, method, p, { token, body });
    const anonymous = (route: 'predict' | 'invocations', body: unknown = { x: 21 }) => http(s.url, 'POST', `/api/v1/deployments/${id}/${route}`, { body });

    before(async () => {
      s = await startTestServer({ dialect });
      const fd = new FormData();
      fd.append('name', 'dashboard-model');
      fd.append('settings', JSON.stringify({ maxWorkers: 1 }));
      fd.append('source', new Blob([SCORER]), 'scorer.py');
      const created = await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd }).then(
        (r) => r.json() as Promise<any>,
      );
      id = created.deployment.id;
      let job = await call('GET', `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
      while (!['succeeded', 'failed'].includes(job.body.status)) job = await call('GET', `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
      assert.equal(job.body.status, 'succeeded', JSON.stringify(job.body));
      await call('POST', '/api/v1/users', { username: 'eddie', password: 'eddie-password-1' });
      await call('PUT', '/api/v1/groups/default/members/eddie', { role: 'editor' });
      editor = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'eddie', password: 'eddie-password-1' } })).body.token;
    });
    after(() => s.close());

    test('off by default: no token is a 401; only a group admin may turn it on (403 for an editor), and it is audited', async () => {
      const dep = (await call('GET', `/api/v1/deployments/${id}`)).body;
      assert.equal(dep.settings.public, false);
      assert.equal((await anonymous('predict')).status, 401);
      assert.equal((await anonymous('invocations')).status, 401);

      const refused = await call('PATCH', `/api/v1/deployments/${id}`, { settings: { public: true } }, editor);
      assert.equal(refused.status, 403, refused.text);
      assert.match(refused.body.error.message, /Only a group admin may make a deployment public/);
      // An editor may still change other settings of it.
      assert.equal((await call('PATCH', `/api/v1/deployments/${id}`, { settings: { timeoutMs: 20_000 } }, editor)).status, 200);

      const on = await call('PATCH', `/api/v1/deployments/${id}`, { settings: { public: true, publicRateLimit: 1000 } });
      assert.equal(on.status, 200, on.text);
      assert.equal(on.body.settings.public, true);
      // Once an admin made it public, an editor's other changes keep it so; turning it off is anyone's.
      // (A PATCH changes only what it sends: the settings not sent keep their values, not their defaults.)
      const kept = await call('PATCH', `/api/v1/deployments/${id}`, { settings: { timeoutMs: 25_000 } }, editor);
      assert.equal(kept.status, 200, kept.text);
      assert.deepEqual(
        [kept.body.settings.public, kept.body.settings.publicRateLimit, kept.body.settings.maxWorkers, kept.body.settings.timeoutMs],
        [true, 1000, 1, 25_000],
      );
      const audit = await call('GET', '/api/v1/audit?action=deployment.public.allow');
      assert.equal(audit.body.items.length, 1, audit.text);
      assert.equal(audit.body.items[0].resourceId, id);
    });

    test('public: predict and invocations answer without a token; every other route of it still needs one', async () => {
      const predicted = await anonymous('predict', [{ x: 1 }, { x: 2 }]);
      assert.equal(predicted.status, 200, predicted.text);
      assert.deepEqual(predicted.body, { got: [{ x: 1 }, { x: 2 }] });
      const invoked = await anonymous('invocations');
      assert.equal(invoked.status, 200, invoked.text);
      assert.deepEqual(invoked.body, { got: { x: 21 } });

      const others: Array<[string, string]> = [
        ['GET', ''],
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/rebuild'],
        ['POST', '/disable'],
        ['POST', '/enable'],
        ['GET', '/logs'],
        ['GET', '/stats'],
        ['GET', '/openapi.json'],
        ['GET', '/code'],
        ['GET', '/executions'],
        ['POST', '/executions/from-table'],
        ['GET', '/executions/nope'],
      ];
      for (const [method, suffix] of others) {
        const res = await http(s.url, method, `/api/v1/deployments/${id}${suffix}`, { body: method === 'GET' ? undefined : {} });
        assert.equal(res.status, 401, `${method} ${suffix}: ${res.text}`);
      }
      assert.equal((await http(s.url, 'GET', '/api/v1/deployments')).status, 401);
      // A bad token is refused, not taken for no token.
      const forged = await http(s.url, 'POST', `/api/v1/deployments/${id}/predict`, { token: 'not-a-real-token', body: { x: 1 } });
      assert.equal(forged.status, 401);
      // The deployment is still there and private routes still work with a token.
      assert.equal((await call('GET', `/api/v1/deployments/${id}`)).status, 200);
    });

    test('bad input: a 10 MB body is a 413 (sent whole or in chunks), past the rate limit a 429 with Retry-After', async () => {
      const big = JSON.stringify({ x: 1, pad: 'a'.repeat(10 * 1024 * 1024) });
      const whole = await http(s.url, 'POST', `/api/v1/deployments/${id}/predict`, { rawBody: big, headers: { 'content-type': 'application/json' } });
      assert.equal(whole.status, 413, whole.text.slice(0, 300));
      const chunks = new ReadableStream({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(big.slice((i * big.length) / 10, ((i + 1) * big.length) / 10)));
          c.close();
        },
      });
      const chunked = await fetch(`${s.url}/api/v1/deployments/${id}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunks,
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413, await chunked.text());

      assert.equal((await call('PATCH', `/api/v1/deployments/${id}`, { settings: { publicRateLimit: 5 } })).status, 200);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 50; i++) {
        const res = await anonymous(i % 2 ? 'predict' : 'invocations');
        statuses.push(res.status);
        if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
      }
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
      assert.ok(
        statuses.slice(5).every((st) => st === 429),
        statuses.join(','),
      );
      assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 60, String(retryAfter));
      // A caller with a token is not limited by it.
      const withToken = await http(s.url, 'POST', `/api/v1/deployments/${id}/predict`, { token: s.adminToken, body: { x: 3 } });
      assert.equal(withToken.status, 200, withToken.text);

      // Turned off (an editor may), no token is a 401 again.
      assert.equal((await call('PATCH', `/api/v1/deployments/${id}`, { settings: { public: false } }, editor)).status, 200);
      assert.equal((await anonymous('predict')).status, 401);
    });
  });
}
