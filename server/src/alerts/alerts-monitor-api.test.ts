import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, until, type TestServer } from '../testing/server.js';
import { startReceiver, verify } from '../testing/webhook-receiver.js';

/** Predicts 1 above x = 5, else 0. */
const SCORER = `
import json

def score(data, base_path):
    rows = json.loads(data)
    return [1 if r["x"] > 5 else 0 for r in rows]
`;

/**
 * The whole loop over HTTP: predictions logged, labels posted for their request ids, a monitor run
 * computing performance from them, an alert rule firing on it, and the signed webhook delivery.
 */
for (const dialect of DIALECTS) {
  describe(`alerts from a real monitor run on ${dialect}`, () => {
    let s: TestServer;
    let rx: Awaited<ReturnType<typeof startReceiver>>;
    let id: string;
    let secret: string;
    const call = (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) =>
      http(s.url, method, p, { token: s.adminToken, body, headers });

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_WEBHOOK_RETRY_SECONDS: '0.05' } });
      rx = await startReceiver();
      const fd = new FormData();
      fd.append('name', 'threshold-model');
      fd.append('settings', JSON.stringify({ maxWorkers: 1, inferenceLog: { sampleRate: 100 } }));
      fd.append('source', new Blob([SCORER]), 'scorer.py');
      const created = (await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd }).then(
        (r) => r.json(),
      )) as any;
      id = created.deployment.id;
      let job = await call('GET', `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
      while (!['succeeded', 'failed'].includes(job.body.status)) job = await call('GET', `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
      assert.equal(job.body.status, 'succeeded', JSON.stringify(job.body));
      const hook = await call('POST', '/api/v1/webhooks', { name: 'pager', url: rx.url, events: ['monitor.alert.fired'] });
      secret = hook.body.secret;
      const ref = await http(s.url, 'POST', '/api/v1/lake/tables/threshold_reference/rows', {
        token: s.adminToken,
        rawBody: `x\n${Array.from({ length: 20 }, (_, i) => i).join('\n')}\n`,
        headers: { 'content-type': 'text/csv' },
      });
      assert.equal(ref.status, 201, ref.text);
    });
    after(async () => {
      await rx.close();
      await s.close();
    });

    test('labels that contradict every prediction → the run reports accuracy 0 → the rule fires once and the webhook gets it signed', async () => {
      for (let i = 0; i < 10; i++) {
        const r = await call('POST', `/api/v1/deployments/${id}/predict`, [{ x: i }], { 'x-request-id': `call-${i}` });
        assert.equal(r.status, 200, r.text);
      }
      await until('the 10 logged calls', async () => ((await call('GET', `/api/v1/deployments/${id}/inference-log`)).body.rows >= 10 ? true : undefined));
      const labels = await call('POST', `/api/v1/deployments/${id}/labels`, {
        labels: Array.from({ length: 10 }, (_, i) => ({ requestId: `call-${i}`, label: i > 5 ? 0 : 1 })),
      });
      assert.equal(labels.status, 200, labels.text);
      assert.equal(labels.body.accepted, 10);

      const monitor = await call('POST', '/api/v1/monitors', {
        name: 'threshold-watch',
        target: { deployment: id },
        reference: { kind: 'table', table: 'threshold_reference' },
        inputColumns: ['x'],
        checks: { performance: { task: 'classification', baseline: { accuracy: 0.9 } } },
        scheduled: false,
      });
      assert.equal(monitor.status, 201, monitor.text);
      // The rule names the monitor by name; it is kept under its id.
      const rule = await call('POST', '/api/v1/monitors/threshold-watch/alert-rules', {
        name: 'accuracy fell',
        metric: 'performance.accuracy',
        operator: '<',
        threshold: 0.5,
        severity: 'critical',
      });
      assert.equal(rule.status, 201, rule.text);
      assert.equal(rule.body.monitorId, monitor.body.id);
      assert.equal(
        (await call('POST', '/api/v1/monitors/no-such-monitor/alert-rules', { name: 'x', metric: 'rows', operator: '<', threshold: 1 })).status,
        404,
      );

      const now = Date.now();
      const started = await call('POST', `/api/v1/monitors/${monitor.body.id}/runs`, { from: now - 3_600_000, to: now + 60_000 });
      assert.equal(started.status, 202, started.text);
      const job = await call('GET', `/api/v1/jobs/${started.body.jobId}?waitSeconds=60`);
      assert.equal(job.body.status, 'succeeded', JSON.stringify(job.body));
      const run = (await call('GET', `/api/v1/monitors/${monitor.body.id}/runs/${started.body.id}`)).body;
      assert.equal(run.performance?.labelledRows, 10, JSON.stringify(run));
      assert.equal(run.metrics['performance.accuracy'], 0);
      assert.deepEqual(
        run.performance.degraded.map((d: { metric: string }) => d.metric),
        ['accuracy'],
      );

      const alerts = (await call('GET', '/api/v1/alerts?monitor=threshold-watch')).body.items;
      assert.equal(alerts.length, 1, JSON.stringify(alerts));
      assert.deepEqual([alerts[0].metric, alerts[0].value, alerts[0].runId, alerts[0].status], ['performance.accuracy', 0, run.id, 'open']);
      await until('the alert delivery', async () => (rx.received.length ? true : undefined));
      assert.ok(verify(secret, rx.received[0]!));
      const payload = JSON.parse(rx.received[0]!.body);
      assert.deepEqual([payload.event, payload.data.alert.id, payload.data.alert.monitorName], ['monitor.alert.fired', alerts[0].id, 'threshold-watch']);
    });
  });
}
