import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, until, type TestServer } from '../testing/server.js';

/** Doubles x per row; {"proba": …} rows answer two class probabilities; {"fail": …} raises. */
const SCORER = `
import json

def score(data, base_path):
    d = json.loads(data)
    if isinstance(d, dict) and "fail" in d:
        raise ValueError("asked to fail")
    if isinstance(d, dict) and "dataframe_split" in d:
        s = d["dataframe_split"]
        rows = [dict(zip(s["columns"], r)) for r in s["data"]]
    elif isinstance(d, list):
        rows = d
    else:
        rows = [d]
    if rows and "proba" in rows[0]:
        return [[0.25, 0.75] for r in rows]
    return [r.get("x", 0) * 2 for r in rows]
`;

/** Neomaril's async contract: data_path is the input's folder, and the output file is written there. */
const ASYNC_SCORER = `
import csv, os

def score(data_path, model_path):
    out = os.path.join(data_path, "scored.csv")
    with open(os.path.join(data_path, os.environ["inputFileName"])) as f, open(out, "w", newline="") as g:
        rows = list(csv.DictReader(f))
        w = csv.writer(g)
        w.writerow(["score"])
        for r in rows:
            w.writerow([float(r["x"]) * 3])
    return out
`;

const DAY = 86_400_000;

for (const dialect of DIALECTS) {
  describe(`inference log and usage on ${dialect}`, () => {
    let s: TestServer;
    let id: string;
    let asyncId: string;
    let editor: string;
    const call = (method: string, p: string, body?: unknown, token = s.adminToken) => http(s.url, method, p, { token, body });
    const predict = (body: unknown, headers: Record<string, string> = {}) =>
      http(s.url, 'POST', `/api/v1/deployments/${id}/predict`, { token: s.adminToken, body, headers });
    const settings = (inferenceLog: Record<string, unknown>, token = s.adminToken) =>
      call('PATCH', `/api/v1/deployments/${id}`, { settings: { inferenceLog } }, token);
    const info = async (dep = id) => (await call('GET', `/api/v1/deployments/${dep}/inference-log`)).body;
    const rows = async (filter?: string, dep = id) => {
      const r = await call('POST', `/api/v1/lake/tables/inference__${dep}/query`, { filter, limit: 10_000 });
      assert.equal(r.status, 200, r.text);
      return r.body as { columns: Array<{ name: string; type: string }>; rows: Array<Record<string, unknown>> };
    };
    /** Waits for a request id's rows: the log writes every ~2 s in the background. */
    const logged = (requestId: string, dep = id) =>
      until(`the rows of ${requestId}`, async () => {
        if ((await info(dep)).rows === 0) return undefined;
        const r = await rows(`request_id = '${requestId}'`, dep);
        return r.rows.length ? r : undefined;
      });
    const deploy = async (fields: Record<string, string>, source: string) => {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, v);
      fd.append('source', new Blob([source]), 'scorer.py');
      const created = (await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd }).then(
        (r) => r.json(),
      )) as any;
      let job = await call('GET', `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
      while (!['succeeded', 'failed'].includes(job.body.status)) job = await call('GET', `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
      assert.equal(job.body.status, 'succeeded', JSON.stringify(job.body));
      return created.deployment.id as string;
    };

    before(async () => {
      s = await startTestServer({ dialect });
      id = await deploy({ name: 'logged-model', settings: JSON.stringify({ maxWorkers: 1 }) }, SCORER);
      asyncId = await deploy({ name: 'logged-batch', operation: 'async' }, ASYNC_SCORER);
      await call('POST', '/api/v1/users', { username: 'eddie', password: 'eddie-password-1' });
      await call('PUT', '/api/v1/groups/default/members/eddie', { role: 'editor' });
      editor = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'eddie', password: 'eddie-password-1' } })).body.token;
    });
    after(() => s.close());

    test('settings: off by default, bad rates are a 400 naming the field, an editor may change them, fields merge, and it is audited', async () => {
      const dep = (await call('GET', `/api/v1/deployments/${id}`)).body;
      assert.deepEqual(dep.settings.inferenceLog, { sampleRate: 0, retentionDays: 90, executions: false });
      for (const bad of [101, -1, 'all']) {
        const r = await settings({ sampleRate: bad });
        assert.equal(r.status, 400, r.text);
        assert.match(r.body.error.message, /inferenceLog\.sampleRate/);
      }
      const unknown = await settings({ rate: 5 });
      assert.equal(unknown.status, 400, unknown.text);
      const viewerless = await http(s.url, 'PATCH', `/api/v1/deployments/${id}`, { body: { settings: { inferenceLog: { sampleRate: 5 } } } });
      assert.equal(viewerless.status, 401);

      assert.equal((await settings({ sampleRate: 12.5 }, editor)).status, 200);
      const merged = await settings({ retentionDays: 30 }, editor);
      assert.equal(merged.status, 200, merged.text);
      assert.deepEqual(merged.body.settings.inferenceLog, { sampleRate: 12.5, retentionDays: 30, executions: false });
      const audit = await call('GET', '/api/v1/audit?action=deployment.settings');
      assert.ok(
        audit.body.items.some((e: any) => e.resourceId === id && e.details?.inferenceLog?.retentionDays === 30),
        audit.text,
      );
      const i = await info();
      assert.deepEqual([i.table, i.rows, i.firstAt, i.lastAt, i.dropped], [`inference__${id}`, 0, null, null, 0]);
      assert.equal(i.settings.sampleRate, 12.5);
    });

    test('request ids: a valid X-Request-Id comes back, a bad one is replaced, errors carry one too', async () => {
      await settings({ sampleRate: 0 });
      const given = await predict([{ x: 1 }], { 'x-request-id': 'client-req.42:a' });
      assert.equal(given.status, 200, given.text);
      assert.equal(given.headers.get('x-request-id'), 'client-req.42:a');
      for (const bad of ['has spaces in it', 'x'.repeat(201), 'quote"d']) {
        const r = await predict([{ x: 1 }], { 'x-request-id': bad });
        assert.equal(r.status, 200);
        const made = r.headers.get('x-request-id');
        assert.ok(made && made !== bad && /^[A-Za-z0-9._:-]{1,200}$/.test(made), String(made));
      }
      const long = 'a'.repeat(200);
      assert.equal((await predict([{ x: 1 }], { 'x-request-id': long })).headers.get('x-request-id'), long);
      const generated = await predict([{ x: 1 }]);
      assert.ok(generated.headers.get('x-request-id'));
      const failed = await predict({ fail: 1 }, { 'x-request-id': 'failing-call-1' });
      assert.equal(failed.status, 422, failed.text);
      assert.equal(failed.headers.get('x-request-id'), 'failing-call-1');
      assert.equal(failed.body.error.requestId, 'failing-call-1');
      const invoked = await http(s.url, 'POST', `/api/v1/deployments/${id}/invocations`, {
        token: s.adminToken,
        body: [{ x: 1 }],
        headers: { 'x-request-id': 'mlflow-call-1' },
      });
      assert.equal(invoked.status, 200, invoked.text);
      assert.equal(invoked.headers.get('x-request-id'), 'mlflow-call-1');
    });

    test('0 % logs nothing; 100 % logs every row of records and dataframe_split bodies with the agreed columns', async () => {
      await settings({ sampleRate: 0 });
      for (let i = 0; i < 10; i++) assert.equal((await predict([{ x: i, y: 'a' }], { 'x-request-id': `off-${i}` })).status, 200);
      await settings({ sampleRate: 100 });
      const records = await predict(
        [
          { x: 1, y: 'a' },
          { x: 2, y: 'b' },
          { x: 3, y: 'c' },
        ],
        { 'x-request-id': 'records-1' },
      );
      assert.deepEqual(records.body, [2, 4, 6]);
      const got = await logged('records-1');
      assert.deepEqual(
        got.columns.map((c) => c.name),
        ['request_id', 'logged_at', 'latency_ms', 'model_version', 'row_index', 'x', 'y', 'prediction'],
      );
      assert.deepEqual(Object.fromEntries(got.columns.map((c) => [c.name, c.type])), {
        request_id: 'VARCHAR',
        logged_at: 'TIMESTAMP',
        latency_ms: 'DOUBLE',
        model_version: 'VARCHAR',
        row_index: 'INTEGER',
        x: 'DOUBLE',
        y: 'VARCHAR',
        prediction: 'DOUBLE',
      });
      const sorted = got.rows.sort((a, b) => Number(a.row_index) - Number(b.row_index));
      assert.deepEqual(
        sorted.map((r) => [r.row_index, r.x, r.y, r.prediction]),
        [
          [0, 1, 'a', 2],
          [1, 2, 'b', 4],
          [2, 3, 'c', 6],
        ],
      );
      assert.ok(Number(sorted[0]!.latency_ms) > 0);
      assert.ok(Math.abs(Date.parse(`${String(sorted[0]!.logged_at).replace(' ', 'T')}Z`) - Date.now()) < 60_000, String(sorted[0]!.logged_at));
      assert.equal((await rows("request_id LIKE 'off-%'")).rows.length, 0, 'a call at 0 % was logged');

      const split = await predict({ dataframe_split: { columns: ['x', 'y'], data: [[5, 'e']] } }, { 'x-request-id': 'split-1' });
      assert.deepEqual(split.body, [10]);
      const splitRows = await logged('split-1');
      assert.deepEqual(
        splitRows.rows.map((r) => [r.row_index, r.x, r.y, r.prediction]),
        [[0, 5, 'e', 10]],
      );
      const i = await info();
      assert.ok(i.rows >= 4 && i.firstAt !== null && i.lastAt !== null && i.lastAt >= i.firstAt, JSON.stringify(i));
    });

    test('a class-probability answer and a new feature widen the table; older rows read NULL there', async () => {
      await settings({ sampleRate: 100 });
      const r = await predict([{ x: 1, z: true, proba: 1 }], { 'x-request-id': 'proba-1' });
      assert.deepEqual(r.body, [[0.25, 0.75]]);
      const got = await logged('proba-1');
      const names = got.columns.map((c) => c.name);
      for (const n of ['z', 'proba', 'prediction_0', 'prediction_1']) assert.ok(names.includes(n), names.join(', '));
      assert.deepEqual([got.rows[0]!.z, got.rows[0]!.prediction_0, got.rows[0]!.prediction_1, got.rows[0]!.prediction], [true, 0.25, 0.75, null]);
      assert.equal((await rows("request_id = 'records-1'")).rows[0]!.prediction_0, null);
    });

    test('a middle rate logs about that share of calls', async () => {
      await settings({ sampleRate: 30 });
      const n = 200;
      for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => predict([{ x: i + k }], { 'x-request-id': `mid-${i + k}` })));
      await settings({ sampleRate: 100 });
      await predict([{ x: 0 }], { 'x-request-id': 'mid-barrier' });
      await logged('mid-barrier');
      const got = (await rows("request_id LIKE 'mid-%' AND request_id <> 'mid-barrier'")).rows.length;
      // Binomial(200, 0.3): mean 60, sd 6.5; 30..90 is more than 4.5 sd either side.
      assert.ok(got >= 30 && got <= 90, `logged ${got} of ${n} calls at 30 %`);
    });

    test('usage counts every call, errors included, with percentiles from the histogram', async () => {
      const before = (await call('GET', `/api/v1/deployments/${id}/usage?from=${Date.now() - DAY}`)).body;
      await settings({ sampleRate: 0 });
      for (let i = 0; i < 5; i++) assert.equal((await predict([{ x: i }])).status, 200);
      assert.equal((await predict({ fail: 1 })).status, 422);
      const usage = await call('GET', `/api/v1/deployments/${id}/usage?from=${Date.now() - DAY}`);
      assert.equal(usage.status, 200, usage.text);
      const after = usage.body;
      assert.equal(after.step, 'hour');
      assert.equal(after.totals.calls - before.totals.calls, 6);
      assert.equal(after.totals.errors - before.totals.errors, 1);
      const { p50, p95, p99 } = after.totals;
      assert.ok(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 < 30_000, JSON.stringify(after.totals));
      assert.equal(
        after.points.reduce((a: number, p: any) => a + p.calls, 0),
        after.totals.calls,
      );
      assert.ok(after.firstCallAt !== null && after.firstCallAt <= Date.now());
      const minutes = await call('GET', `/api/v1/deployments/${id}/usage?from=${Date.now() - 3_600_000}&step=minute`);
      assert.equal(minutes.body.points.length, 61);
      assert.equal(minutes.body.totals.calls, after.totals.calls);

      for (const [q, msg] of [
        [`from=${Date.now()}&to=${Date.now() - 1000}`, /must be before/],
        [`from=0&step=minute`, /at most 10000 points/],
        ['step=week', /step/],
        ['from=-5', /from/],
        // A `to` inside the epoch's first day: the default window starts at 0, never before.
        ['to=0', /must be before/],
      ] as const) {
        const r = await call('GET', `/api/v1/deployments/${id}/usage?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.match(r.body.error.message, msg);
      }
      const early = await call('GET', `/api/v1/deployments/${id}/usage?to=572`);
      assert.equal(early.status, 200, early.text);
      assert.equal(early.body.points[0].t, 0);
      assert.equal((await call('GET', '/api/v1/deployments/nosuchdeployment1/usage')).status, 404);
    });

    test('retention deletes rows older than the setting, and 0 keeps them', async () => {
      const { services } = s.server;
      const before = (await info()).rows;
      assert.ok(before > 0);
      await settings({ retentionDays: 0 });
      assert.equal(await services.inferenceLog.sweep(await services.deployments.retentionTargets(), Date.now() + 400 * DAY), 0);
      await settings({ retentionDays: 2 });
      // One day on, nothing is two days old; three days on, every row is.
      assert.equal(await services.inferenceLog.sweep(await services.deployments.retentionTargets(), Date.now() + DAY), 0);
      assert.equal(await services.inferenceLog.sweep(await services.deployments.retentionTargets(), Date.now() + 3 * DAY), before);
      assert.equal((await info()).rows, 0);
    });

    test('async executions: their input and output rows are logged under the execution id when asked', async () => {
      const patch = await call('PATCH', `/api/v1/deployments/${asyncId}`, { settings: { inferenceLog: { executions: true } } });
      assert.equal(patch.status, 200, patch.text);
      const fd = new FormData();
      fd.append('input', new Blob(['x,label\n1,a\n2.5,b\n']), 'data.csv');
      const started = (await fetch(`${s.url}/api/v1/deployments/${asyncId}/executions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: fd,
      }).then((r) => r.json())) as any;
      const got = await logged(started.id, asyncId);
      const sorted = got.rows.sort((a, b) => Number(a.row_index) - Number(b.row_index));
      assert.deepEqual(
        sorted.map((r) => [r.row_index, r.x, r.label, r.prediction]),
        [
          [0, 1, 'a', 3],
          [1, 2.5, 'b', 7.5],
        ],
      );
    });
  });
}
