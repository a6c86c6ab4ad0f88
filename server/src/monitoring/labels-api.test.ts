import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';
import { performanceOf } from './performance.js';

const SCORER = `
def score(data, base_path):
    return {"ok": True}
`;

/**
 * The rows an inference log holds (the columns the issue 17 plan fixes), written here through the
 * lake API: the logging itself is another part of the issue.
 */
const LOG = [
  'request_id,logged_at,latency_ms,model_version,row_index,customer,x,prediction,score',
  'req-1,2026-12-01 10:00:00,3.5,1,0,c1,0.1,1,0.9',
  'req-1,2026-12-01 10:00:00,3.5,1,1,c2,0.4,0,0.2',
  'req-2,2026-12-01 10:01:00,2.0,1,0,c3,0.7,1,0.7',
  'req-3,2026-12-01 10:02:00,2.2,1,0,c3,0.9,1,0.6',
  'req-4,2026-12-01 10:03:00,2.1,1,0,c4,0.3,0,0.4',
].join('\n');

for (const dialect of DIALECTS) {
  describe(`labels on ${dialect}`, () => {
    let s: TestServer;
    let id: string;
    let viewer: string;
    let logTable: string;
    const call = (method: string, p: string, body?: unknown, token = s.adminToken) => http(s.url, method, p, { token, body });
    const post = (body: unknown, token?: string) => call('POST', `/api/v1/deployments/${id}/labels`, body, token);
    const writeTable = (name: string, csv: string) =>
      http(s.url, 'POST', `/api/v1/lake/tables/${name}/rows?mode=append`, { token: s.adminToken, rawBody: csv, headers: { 'content-type': 'text/csv' } });
    /** The log's labelled rows as the monitor job reads them: latest label per row. */
    const labelled = async (columns: string[]) => {
      const groupId = (await s.server.services.db.kysely.selectFrom('groups').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id;
      const file = path.join(s.dataDir, `labelled-${Math.random().toString(36).slice(2)}.parquet`);
      const rows = await s.server.services.labels.labelled(groupId, logTable, { columns }, file);
      return { rows, file };
    };

    before(async () => {
      s = await startTestServer({ dialect });
      const fd = new FormData();
      fd.append('name', 'churn-model');
      fd.append('source', new Blob([SCORER]), 'scorer.py');
      const created = await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd }).then(
        (r) => r.json() as Promise<any>,
      );
      id = created.deployment.id;
      logTable = `inference__${id}`;
      await call('POST', '/api/v1/users', { username: 'vera', password: 'vera-password-1' });
      await call('PUT', '/api/v1/groups/default/members/vera', { role: 'viewer' });
      viewer = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password: 'vera-password-1' } })).body.token;
    });
    after(() => s.close());

    test('before anything was logged: a 400 saying how to turn the log on; an unknown deployment is a 404', async () => {
      const r = await post({ labels: [{ requestId: 'req-1', label: 1 }] });
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.error.message, /has no inference log yet .*settings\.inferenceLog\.sampleRate/);
      assert.equal((await call('POST', '/api/v1/deployments/ghost/labels', { labels: [{ requestId: 'a', label: 1 }] })).status, 404);
      const w = await writeTable(logTable, LOG);
      assert.equal(w.status, 201, w.text);
    });

    test('by request id and row: written next to the log; unknown ids and rows are a 400 naming them (the first few and a count)', async () => {
      const ok = await post({
        labels: [
          { requestId: 'req-1', row: 0, label: 1 },
          { requestId: 'req-1', row: 1, label: 1 },
          { requestId: 'req-2', label: 1 },
        ],
      });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body, { accepted: 3, table: `${logTable}__labels` });

      const unknown = await post({
        labels: [
          { requestId: 'req-1', row: 7, label: 0 },
          ...['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'].map((requestId) => ({ requestId, label: 0 })),
          { requestId: 'req-4', label: 0 },
        ],
      });
      assert.equal(unknown.status, 400, unknown.text);
      assert.match(unknown.body.error.message, /7 request ids are not in the inference log: "n1", "n2", "n3", "n4", "n5" and 2 more/);
      assert.match(unknown.body.error.message, /1 row was not logged: "req-1 row 7"/);
      // Nothing of a refused post is written.
      assert.equal((await labelled(['prediction'])).rows, 3);
      assert.equal((await post({ labels: [{ requestId: 'req-4', label: 0 }] }, viewer)).status, 403);
    });

    test('by a key column of the logged inputs, and from a lake table: every logged row with the key gets the label; unknown keys and columns are 400s', async () => {
      const byKey = await post({ key: 'customer', labels: [{ key: 'c3', label: 0 }] });
      assert.equal(byKey.status, 200, byKey.text);
      assert.equal(byKey.body.accepted, 2, 'c3 was logged in two requests');
      const unknownKey = await post({
        key: 'customer',
        labels: [
          { key: 'c9', label: 0 },
          { key: 'c1', label: 1 },
        ],
      });
      assert.equal(unknownKey.status, 400);
      assert.match(unknownKey.body.error.message, /1 customer value is not in the inference log: "c9"/);
      const noColumn = await post({ key: 'account', labels: [{ key: 'c1', label: 0 }] });
      assert.equal(noColumn.status, 400);
      assert.match(noColumn.body.error.message, /has no column "account"/);

      assert.equal((await writeTable('outcomes', 'customer,churned\nc4,1\nc1,0\n')).status, 201);
      const fromTable = await post({ table: 'outcomes', key: 'customer', labelColumn: 'churned', filter: "customer = 'c4'" });
      assert.equal(fromTable.status, 200, fromTable.text);
      assert.equal(fromTable.body.accepted, 1);
      const badColumn = await post({ table: 'outcomes', key: 'customer', labelColumn: 'outcome' });
      assert.equal(badColumn.status, 400);
      assert.match(badColumn.body.error.message, /outcome/);
    });

    test('a body of the wrong shape is a 400 naming the field and the shapes accepted', async () => {
      const nested = await post({ labels: [{ requestId: 'req-1', label: { yes: 1 } }] });
      assert.equal(nested.status, 400);
      assert.match(nested.body.error.message, /labels\.0\.label: .*send \{labels: \[\{requestId, row, label\}\]\}/);
      const half = await post({ table: 'outcomes', key: 'customer' });
      assert.equal(half.status, 400);
      assert.match(half.body.error.message, /labelColumn/);
      const text = await post({ labels: [{ requestId: 'req-1', label: 'yes' }] });
      assert.equal(text.status, 400, 'text labels after number labels do not fit the labels table');
      assert.match(text.body.error.message, /label/);
    });

    test('a row labelled again: the latest label wins when the monitor reads them, and performance is computed from it', async () => {
      assert.equal((await post({ labels: [{ requestId: 'req-1', row: 0, label: 0 }] })).status, 200);
      const { rows, file } = await labelled(['prediction', 'score']);
      // req-1/0 (relabelled 0), req-1/1 (1), req-2 (0 by key c3), req-3 (0 by key c3), req-4 (1 from the table).
      assert.equal(rows, 5);
      const direct = await performanceOf(file, { task: 'classification', scoreColumn: 'score' });
      assert.equal(direct.labelledRows, 5);
      // What a monitor run asks for its window: the rows logged in [start, end) with their latest labels.
      const groupId = (await s.server.services.db.kysely.selectFrom('groups').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id;
      const window = { start: Date.parse('2026-12-01T10:00:30Z'), end: Date.parse('2026-12-01T11:00:00Z') };
      const check = { task: 'classification' as const, scoreColumn: 'score', baseline: { accuracy: 0.9, log_loss: 5 } };
      const report = await s.server.services.performance.ofWindow({ groupId, logTable, window, check });
      // req-2, req-3 (label 0 by key c3, predicted 1) and req-4 (label 1 from the table, predicted 0): all wrong.
      assert.equal(report.labelledRows, 3);
      assert.equal(report.metrics.accuracy, 0);
      assert.equal(report.metrics.f1, 0);
      assert.deepEqual(
        report.degraded.map((d) => d.metric),
        ['accuracy'],
        'log-loss is lower (better) than its baseline: not a degradation',
      );
      const before = await s.server.services.performance.ofWindow({ groupId, logTable, window: { start: 0, end: Date.parse('2026-12-01T00:00:00Z') }, check });
      assert.deepEqual([before.labelledRows, before.metrics], [0, {}]);
    });
  });
}
