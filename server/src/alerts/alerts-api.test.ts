import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, until, type TestServer } from '../testing/server.js';
import { startReceiver, verify } from '../testing/webhook-receiver.js';

/**
 * Alert rules against monitor runs. Until the monitors domain is merged, runs are published as
 * `monitor.run.completed` events on the server's own event bus — the same call the monitor job makes.
 */
for (const dialect of DIALECTS) {
  describe(`alerts on ${dialect}`, () => {
    let s: TestServer;
    let rx: Awaited<ReturnType<typeof startReceiver>>;
    let editor: string;
    let viewer: string;
    let secret: string;
    const groups: Record<string, string> = {};
    const call = (method: string, p: string, body?: unknown, token?: string, group = 'default') =>
      http(s.url, method, p, { token: token ?? s.adminToken, body, headers: { 'x-forja-group': group } });
    /** A finished run of a monitor, as its job announces it. */
    /** Monitor ids by name: rules are kept under the id, paths may use the name. */
    const ids: Record<string, string> = {};
    const run = (runId: string, metrics: Record<string, number>, monitor = 'mon-churn', group = 'default') =>
      s.server.services.events.publish({
        type: 'monitor.run.completed',
        groupId: groups[group]!,
        groupName: group,
        actor: 'system',
        at: Date.now(),
        data: { monitorId: ids[monitor], monitorName: monitor, runId, metrics, windowEnd: Date.now() },
      });
    const alerts = async (query = '') => (await call('GET', `/api/v1/alerts${query}`)).body.items as any[];
    const payloads = () => rx.received.map((r) => JSON.parse(r.body));

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_WEBHOOK_RETRY_SECONDS: '0.05' } });
      rx = await startReceiver();
      await call('POST', '/api/v1/groups', { name: 'other-team' });
      for (const g of await s.server.services.db.kysely.selectFrom('groups').select(['id', 'name']).execute()) groups[g.name] = g.id;
      for (const [user, role] of [
        ['eddie', 'editor'],
        ['vera', 'viewer'],
      ] as const) {
        await call('POST', '/api/v1/users', { username: user, password: `${user}-password-1` });
        await call('PUT', `/api/v1/groups/default/members/${user}`, { role });
      }
      editor = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'eddie', password: 'eddie-password-1' } })).body.token;
      viewer = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password: 'vera-password-1' } })).body.token;
      // A monitor in each group, over a lake table of its own (its runs are published below by hand).
      for (const [group, name] of [
        ['default', 'mon-churn'],
        ['other-team', 'mon-fraud'],
      ] as const) {
        const table = await http(s.url, 'POST', '/api/v1/lake/tables/events/rows', {
          token: s.adminToken,
          rawBody: 'ts,v\n2026-12-01 10:00:00,1\n',
          headers: { 'content-type': 'text/csv', 'x-forja-group': group },
        });
        assert.equal(table.status, 201, table.text);
        const m = await call('POST', '/api/v1/monitors', { name, target: { table: 'events', timeColumn: 'ts' }, scheduled: false }, undefined, group);
        assert.equal(m.status, 201, m.text);
        ids[name] = m.body.id;
      }
      const hook = await call('POST', '/api/v1/webhooks', { name: 'pager', url: rx.url, events: ['monitor.alert.fired', 'monitor.alert.resolved'] });
      assert.equal(hook.status, 201, hook.text);
      secret = hook.body.secret;
    });
    after(async () => {
      await rx.close();
      await s.close();
    });

    test('rules: editors create, change and delete them; bad operators, patterns and duplicates are 4xx naming the problem', async () => {
      const created = await call(
        'POST',
        '/api/v1/monitors/mon-churn/alert-rules',
        { name: 'psi', metric: 'drift.*.psi', operator: '>', threshold: 0.2, consecutive: 2 },
        editor,
      );
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(
        { ...created.body, id: undefined, createdAt: undefined, updatedAt: undefined },
        {
          id: undefined,
          monitorId: ids['mon-churn'],
          name: 'psi',
          metric: 'drift.*.psi',
          operator: '>',
          threshold: 0.2,
          consecutive: 2,
          severity: 'warning',
          enabled: true,
          createdAt: undefined,
          updatedAt: undefined,
        },
      );
      const f1 = await call(
        'POST',
        '/api/v1/monitors/mon-churn/alert-rules',
        { name: 'f1', metric: 'performance.f1', operator: '<', threshold: 0.5, severity: 'critical' },
        editor,
      );
      assert.equal(f1.status, 201, f1.text);

      const op = await call('POST', '/api/v1/monitors/mon-churn/alert-rules', { name: 'x', metric: 'rows', operator: '=>', threshold: 1 }, editor);
      assert.equal(op.status, 400);
      assert.match(op.body.error.message, /operator/);
      const pattern = await call('POST', '/api/v1/monitors/mon-churn/alert-rules', { name: 'x', metric: 'drift.a*.psi', operator: '>', threshold: 1 }, editor);
      assert.equal(pattern.status, 400);
      assert.match(pattern.body.error.message, /metric.*lone "\*"/);
      const twice = await call('POST', '/api/v1/monitors/mon-churn/alert-rules', { name: 'psi', metric: 'rows', operator: '<', threshold: 10 }, editor);
      assert.equal(twice.status, 409, twice.text);
      assert.match(twice.body.error.message, /already has an alert rule named "psi"/);
      assert.equal(
        (await call('POST', '/api/v1/monitors/mon-churn/alert-rules', { name: 'v', metric: 'rows', operator: '<', threshold: 1 }, viewer)).status,
        403,
      );

      const rows = await call(
        'POST',
        '/api/v1/monitors/mon-churn/alert-rules',
        { name: 'few rows', metric: 'rows', operator: '<', threshold: 10, enabled: false },
        editor,
      );
      const patched = await call('PATCH', `/api/v1/monitors/mon-churn/alert-rules/${rows.body.id}`, { threshold: 5 }, editor);
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.threshold, 5);
      assert.equal(patched.body.enabled, false);
      const listed = await call('GET', '/api/v1/monitors/mon-churn/alert-rules', undefined, viewer);
      assert.deepEqual(
        listed.body.items.map((r: any) => r.name),
        ['f1', 'few rows', 'psi'],
      );
      assert.equal((await call('DELETE', `/api/v1/monitors/mon-churn/alert-rules/${rows.body.id}`, undefined, editor)).status, 200);
      assert.equal((await call('GET', `/api/v1/monitors/mon-churn/alert-rules/${rows.body.id}`)).status, 404);
      // Another group does not see them.
      assert.equal((await call('GET', `/api/v1/monitors/mon-churn/alert-rules/${f1.body.id}`, undefined, undefined, 'other-team')).status, 404);
    });

    test('runs: an alert fires once per breach episode after N breaching runs, resolves itself when back within the rule, and reaches the webhook signed', async () => {
      await run('r1', { 'drift.age.psi': 0.3, 'drift.income.psi': 0.05, 'performance.f1': 0.8, 'drift.share': 0.5 });
      assert.deepEqual(await alerts(), [], 'one breaching run of a 2-run rule fires nothing');
      await run('r2', { 'drift.age.psi': 0.35, 'drift.income.psi': 0.05, 'performance.f1': 0 });
      // The same run announced twice counts once.
      await run('r2', { 'drift.age.psi': 0.35, 'drift.income.psi': 0.05, 'performance.f1': 0 });
      let open = await alerts('?status=open');
      assert.deepEqual(open.map((a) => [a.metric, a.value, a.runId, a.ruleName, a.severity, a.monitorName]).sort(), [
        ['drift.age.psi', 0.35, 'r2', 'psi', 'warning', 'mon-churn'],
        ['performance.f1', 0, 'r2', 'f1', 'critical', 'mon-churn'],
      ]);
      await run('r3', { 'drift.age.psi': 0.4, 'drift.income.psi': 0.05, 'performance.f1': 0.9 });
      open = await alerts('?status=open');
      assert.deepEqual(
        open.map((a) => a.metric),
        ['drift.age.psi'],
        'still breaching: no second alert; f1 back within the rule: resolved',
      );
      const [f1] = await alerts('?status=resolved');
      assert.equal(f1.metric, 'performance.f1');
      assert.equal(f1.resolvedBy, 'system');
      assert.match(f1.resolution, /back within the rule: performance\.f1 = 0\.9 at run r3/);
      await run('r4', { 'drift.age.psi': 0.1 });
      assert.deepEqual(await alerts('?status=open'), []);

      await until('4 deliveries', async () => (rx.received.length >= 4 ? true : undefined));
      assert.ok(
        rx.received.every((r) => verify(secret, r)),
        'every delivery is signed with the webhook secret',
      );
      const got = payloads().map((p) => [p.event, p.data.alert.metric, p.data.alert.status, p.group]);
      assert.deepEqual(got.sort(), [
        ['monitor.alert.fired', 'drift.age.psi', 'open', 'default'],
        ['monitor.alert.fired', 'performance.f1', 'open', 'default'],
        ['monitor.alert.resolved', 'drift.age.psi', 'resolved', 'default'],
        ['monitor.alert.resolved', 'performance.f1', 'resolved', 'default'],
      ]);
    });

    test('people acknowledge and resolve (editors, audited); a resolved alert is a 409 naming who resolved it; the episode does not fire again until it ends', async () => {
      await run('r5', { 'drift.age.psi': 0.5 });
      await run('r6', { 'drift.age.psi': 0.5 });
      const [fired] = await alerts('?status=open');
      assert.ok(fired, 'fired after two breaching runs');
      assert.equal((await call('POST', `/api/v1/alerts/${fired.id}/acknowledge`, {}, viewer)).status, 403);
      const ack = await call('POST', `/api/v1/alerts/${fired.id}/acknowledge`, { note: 'looking at the age feed' }, editor);
      assert.equal(ack.status, 200, ack.text);
      assert.equal(ack.body.status, 'acknowledged');
      assert.equal(ack.body.acknowledgedBy, 'eddie');
      assert.equal(ack.body.note, 'looking at the age feed');
      const again = await call('POST', `/api/v1/alerts/${fired.id}/acknowledge`, undefined, editor);
      assert.equal(again.status, 409, again.text);
      assert.match(again.body.error.message, /is acknowledged by eddie/);
      const resolved = await call('POST', `/api/v1/alerts/${fired.id}/resolve`, { note: 'upstream fixed' }, editor);
      assert.equal(resolved.status, 200, resolved.text);
      assert.deepEqual([resolved.body.status, resolved.body.resolvedBy, resolved.body.resolution], ['resolved', 'eddie', 'resolved by eddie']);
      const twice = await call('POST', `/api/v1/alerts/${fired.id}/resolve`, {}, editor);
      assert.equal(twice.status, 409);
      assert.match(twice.body.error.message, /is resolved by eddie \(resolved by eddie\)/);

      const audit = await call('GET', '/api/v1/audit?group=default&actor=eddie');
      const actions = audit.body.items.map((e: any) => e.action);
      assert.ok(actions.includes('alert.acknowledge') && actions.includes('alert.resolve'), JSON.stringify(actions));

      // Still breaching after a person resolved it: the same episode, no new alert; a fresh episode fires again.
      await run('r7', { 'drift.age.psi': 0.6 });
      assert.deepEqual(await alerts('?status=open'), []);
      await run('r8', { 'drift.age.psi': 0.1 });
      await run('r9', { 'drift.age.psi': 0.3 });
      await run('r10', { 'drift.age.psi': 0.3 });
      const refired = await alerts('?status=open');
      assert.deepEqual(
        refired.map((a) => a.runId),
        ['r10'],
      );
      await until('the manual resolve delivery', async () =>
        payloads().some((p) => p.event === 'monitor.alert.resolved' && p.data.alert.id === fired.id) ? true : undefined,
      );
      const resolvedEvents = payloads().filter((p) => p.event === 'monitor.alert.resolved' && p.data.alert.id === fired.id);
      assert.deepEqual(
        resolvedEvents.map((p) => p.actor),
        ['eddie'],
        'resolved once, by eddie; the run that ended the episode later sends nothing',
      );
    });

    test("history pages by status and monitor; another group's alert is a 404", async () => {
      const page = await call('GET', `/api/v1/alerts?limit=2&monitor=${ids['mon-churn']}`, undefined, viewer);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.items.length, 2);
      assert.ok(page.body.nextPageToken);
      const rest = await call('GET', `/api/v1/alerts?limit=2&monitor=mon-churn&pageToken=${page.body.nextPageToken}`, undefined, viewer);
      const all = [...page.body.items, ...rest.body.items];
      assert.equal(all.length, 4);
      assert.equal(new Set(all.map((a: any) => a.id)).size, 4);
      assert.deepEqual(await alerts('?monitor=someone-else'), []);
      assert.equal((await call('GET', '/api/v1/alerts?status=closed')).status, 400);

      await call('POST', '/api/v1/monitors/mon-fraud/alert-rules', { name: 'rows', metric: 'rows', operator: '<', threshold: 100 }, undefined, 'other-team');
      await run('f1', { rows: 3 }, 'mon-fraud', 'other-team');
      assert.equal(
        (await call('POST', '/api/v1/monitors/no-such-monitor/alert-rules', { name: 'x', metric: 'rows', operator: '<', threshold: 1 }, editor)).status,
        404,
      );
      const [theirs] = (await call('GET', '/api/v1/alerts', undefined, undefined, 'other-team')).body.items;
      assert.equal(theirs.group, 'other-team');
      for (const action of ['acknowledge', 'resolve']) {
        const r = await call('POST', `/api/v1/alerts/${theirs.id}/${action}`, {}, editor);
        assert.equal(r.status, 404, r.text);
        assert.match(r.body.error.message, /Alert '.*' does not exist/);
      }
      assert.equal((await call('GET', `/api/v1/alerts/${theirs.id}`, undefined, editor)).status, 404);
    });
  });
}
