import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, until, type TestServer } from '../testing/server.js';
import { startReceiver, verify } from '../testing/webhook-receiver.js';

for (const dialect of DIALECTS) {
  describe(`registry webhooks on ${dialect}`, () => {
    let s: TestServer;
    let rx: Awaited<ReturnType<typeof startReceiver>>;
    let runId: string;
    const call = (method: string, p: string, body?: unknown, token?: string) => http(s.url, method, p, { token: token ?? s.adminToken, body });

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_WEBHOOK_RETRY_SECONDS: '0.05' } });
      rx = await startReceiver();
      const exp = (await call('POST', '/api/v1/experiments', { name: 'hooks' })).body.experimentId;
      runId = (await call('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
    });
    after(async () => {
      await rx.close();
      await s.close();
    });

    test('registry events reach the URL signed with HMAC-SHA256; the secret is shown once and stored encrypted', async () => {
      const created = await call('POST', '/api/v1/webhooks', {
        name: 'ci',
        url: rx.url,
        events: ['registered_model.created', 'model_version.created', 'model_version.stage_changed', 'model_version.alias_set'],
      });
      assert.equal(created.status, 201, created.text);
      const secret: string = created.body.secret;
      assert.match(secret, /^whsec_[A-Za-z0-9]{32}$/);
      const shown = await call('GET', `/api/v1/webhooks/${created.body.id}`);
      assert.equal(shown.body.secret, undefined);
      assert.ok(!shown.text.includes(secret));
      const stored = await s.server.services.db.kysely
        .selectFrom('webhooks')
        .select('secret_sealed')
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.ok(!stored.secret_sealed.includes(secret) && stored.secret_sealed.startsWith('v1:'));

      await call('POST', '/api/v1/models', { name: 'scorer' });
      await call('POST', '/api/v1/models/scorer/versions', { source: `runs:/${runId}/model` });
      await call('POST', '/api/v1/models/scorer/versions/1/transition', { stage: 'Staging' });
      await call('PUT', '/api/v1/models/scorer/aliases/champion', { version: '1' });
      await call('PUT', '/api/v1/models/scorer/tags/team', { value: 'risk' });
      await until('four deliveries', async () => (rx.received.length >= 4 ? true : undefined));
      const events = rx.received.map((r) => r.headers['x-forja-event']);
      assert.deepEqual(events.sort(), ['model_version.alias_set', 'model_version.created', 'model_version.stage_changed', 'registered_model.created']);
      assert.ok(
        rx.received.every((r) => verify(secret, r)),
        'every delivery carries a valid signature',
      );
      assert.ok(!rx.received.some((r) => verify('whsec_wrong', r)));
      const staged = JSON.parse(rx.received.find((r) => r.headers['x-forja-event'] === 'model_version.stage_changed')!.body);
      assert.equal(staged.event, 'model_version.stage_changed');
      assert.equal(staged.group, 'default');
      assert.equal(staged.actor, 'admin');
      assert.deepEqual(staged.data, { name: 'scorer', version: '1', from: 'None', to: 'Staging', archivedVersions: [], approval: null });
      assert.equal(staged.id, rx.received.find((r) => r.headers['x-forja-event'] === 'model_version.stage_changed')!.headers['x-forja-delivery']);

      const log = await call('GET', `/api/v1/webhooks/${created.body.id}/deliveries`);
      assert.equal(log.body.items.length, 4);
      assert.ok(
        log.body.items.every(
          (d: { status: string; responseStatus: number; attempts: number }) => d.status === 'delivered' && d.responseStatus === 200 && d.attempts === 1,
        ),
      );
      await call('DELETE', `/api/v1/webhooks/${created.body.id}`);
    });

    test('a failing receiver is retried with backoff; the delivery log keeps each status code; it gives up after 6 attempts', async () => {
      rx.received.length = 0;
      const hook = (await call('POST', '/api/v1/webhooks', { name: 'flaky', url: rx.url, events: ['model_version.alias_set'] })).body;
      rx.statuses.push(500, 503);
      await call('PUT', '/api/v1/models/scorer/aliases/candidate', { version: '1' });
      const delivered = await until('the retried delivery', async () => {
        const d = (await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items[0];
        return d?.status === 'delivered' ? d : undefined;
      });
      assert.equal(delivered.attempts, 3);
      assert.equal(delivered.responseStatus, 200);
      assert.equal(rx.received.length, 3);
      assert.equal(new Set(rx.received.map((r) => r.headers['x-forja-delivery'])).size, 1, 'retries carry the same delivery id');
      const jobLog = (await call('GET', `/api/v1/jobs/${delivered.jobId}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.deepEqual(
        jobLog.filter((l: string) => l.startsWith('POST')).map((l: string) => l.replace(/ in \d+ ms$/, '')),
        [`POST ${rx.url} → 500`, `POST ${rx.url} → 503`, `POST ${rx.url} → 200`],
      );

      rx.received.length = 0;
      rx.statuses.push(500, 500, 500, 500, 500, 500);
      await call('PUT', '/api/v1/models/scorer/aliases/candidate', { version: '1' });
      const failed = await until('the failed delivery', async () => {
        const d = (await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items[0];
        return d?.status === 'failed' ? d : undefined;
      });
      assert.equal(failed.attempts, 6);
      assert.equal(failed.responseStatus, 500);
      assert.equal(failed.error, 'The receiver answered HTTP 500.');
      assert.equal(rx.received.length, 6);
      // The delivery row is written just before its job settles.
      const job = (await call('GET', `/api/v1/jobs/${failed.jobId}?waitSeconds=10`)).body;
      assert.equal(job.status, 'failed');

      const again = await call('POST', `/api/v1/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`);
      assert.equal(again.status, 202);
      await until('the redelivery', async () =>
        (await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items[0]?.status === 'delivered' ? true : undefined,
      );
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      const unreachable = await call('PATCH', `/api/v1/webhooks/${hook.id}`, { url: `http://127.0.0.1:${closedPort}/nothing-listens` });
      assert.equal(unreachable.status, 200);
      const ping = await call('POST', `/api/v1/webhooks/${hook.id}/ping`);
      assert.equal(ping.status, 202);
      const pinged = await until('the ping to fail once', async () => {
        const d = (await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).body.items.find((x: { id: string }) => x.id === ping.body.id);
        return d?.attempts >= 1 ? d : undefined;
      });
      assert.equal(pinged.responseStatus, null);
      assert.equal(pinged.error, `Could not reach 127.0.0.1:${closedPort}: ECONNREFUSED`);
      await call('DELETE', `/api/v1/webhooks/${hook.id}`);
    });

    test('approval events, and rotating the secret', async () => {
      rx.received.length = 0;
      const hook = (
        await call('POST', '/api/v1/webhooks', {
          name: 'governance',
          url: rx.url,
          events: ['approval.requested', 'approval.decided'],
          secret: 'my-own-secret-of-20-chars',
        })
      ).body;
      assert.equal(hook.secret, 'my-own-secret-of-20-chars');
      await call('PUT', '/api/v1/registry/settings', { approvalStages: ['Production'] });
      await call('POST', '/api/v1/users', { username: `req-${dialect}`, password: 'requester-password' });
      await call('PUT', `/api/v1/groups/default/members/req-${dialect}`, { role: 'editor' });
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: `req-${dialect}`, password: 'requester-password' } })).body.token;
      const asked = await call('POST', '/api/v1/models/scorer/versions/1/transition', { stage: 'Production' }, token);
      const requestId = asked.body.approvalRequest.id;
      await call('POST', `/api/v1/approvals/${requestId}/decision`, { decision: 'approve', comment: 'ok' });
      await until('two approval deliveries', async () => (rx.received.length >= 2 ? true : undefined));
      const bodies = rx.received.map((r) => JSON.parse(r.body));
      assert.deepEqual(bodies.map((b) => b.event).sort(), ['approval.decided', 'approval.requested']);
      assert.equal(bodies.find((b) => b.event === 'approval.decided').data.decision, 'approved');
      assert.ok(rx.received.every((r) => verify('my-own-secret-of-20-chars', r)));
      const rotated = await call('PATCH', `/api/v1/webhooks/${hook.id}`, { rotateSecret: true });
      assert.match(rotated.body.secret, /^whsec_/);
      rx.received.length = 0;
      await call('POST', `/api/v1/webhooks/${hook.id}/ping`);
      await until('the ping', async () => (rx.received.length >= 1 ? true : undefined));
      assert.ok(verify(rotated.body.secret, rx.received[0]!));
      await call('PUT', '/api/v1/registry/settings', { approvalStages: [] });
    });

    test('bad input: non-http(s) URLs, no or unknown events, duplicates, non-admins, other groups', async () => {
      for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'not a url', 'file:///etc/passwd', 'http://']) {
        const res = await call('POST', '/api/v1/webhooks', { name: 'bad', url, events: ['model_version.created'] });
        assert.equal(res.status, 400, `${url}: ${res.text}`);
        assert.match(res.text, /http:\/\/ or https:\/\/ URL/);
      }
      assert.equal((await call('POST', '/api/v1/webhooks', { name: 'bad', url: rx.url, events: [] })).status, 400);
      const unknown = await call('POST', '/api/v1/webhooks', { name: 'bad', url: rx.url, events: ['model.exploded'] });
      assert.equal(unknown.status, 400);
      assert.match(unknown.text, /model_version\.created/, 'the error lists the valid events');
      await call('POST', '/api/v1/webhooks', { name: 'twice', url: rx.url, events: ['model_version.created'] });
      assert.equal((await call('POST', '/api/v1/webhooks', { name: 'twice', url: rx.url, events: ['model_version.created'] })).status, 409);
      await call('POST', '/api/v1/users', { username: `ed-${dialect}`, password: 'editor-password' });
      await call('PUT', `/api/v1/groups/default/members/ed-${dialect}`, { role: 'editor' });
      const editor = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: `ed-${dialect}`, password: 'editor-password' } })).body.token;
      assert.equal((await call('GET', '/api/v1/webhooks', undefined, editor)).status, 403);
      assert.equal((await call('POST', '/api/v1/webhooks', { name: 'sneaky', url: rx.url, events: ['model_version.created'] }, editor)).status, 403);
      const hooks = (await call('GET', '/api/v1/webhooks')).body.items;
      assert.ok(hooks.every((h: Record<string, unknown>) => !('secret' in h)));
      await call('POST', '/api/v1/groups', { name: `elsewhere-${dialect}` });
      const other = await http(s.url, 'GET', `/api/v1/webhooks/${hooks[0].id}`, { token: s.adminToken, headers: { 'x-forja-group': `elsewhere-${dialect}` } });
      assert.equal(other.status, 404);
      assert.equal((await call('GET', '/api/v1/webhooks/nope/deliveries')).status, 404);
    });
  });
}
