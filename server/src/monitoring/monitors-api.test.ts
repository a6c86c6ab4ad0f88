import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { parquetOf } from '../testing/parquet.js';
import { http, startTestServer, writeLakeTable, until, type TestServer } from '../testing/server.js';
import type { DomainEvent } from '../events.js';
import { ReferenceResolver } from './reference.js';
import { MonitorsService } from './service.js';
import { MonitorsStore } from './store.js';

const DAY = Date.UTC(2026, 11, 1);
const HOUR = 3_600_000;

/**
 * Rows where income and city have the same distribution on every side (each value of
 * (i·37 mod 1000) appears twice in 2000 rows) and age is moved up by `ageShift`; all stamped
 * within 2026-12-01 (UTC).
 */
const rows = (ageShift: number) =>
  parquetOf(
    `SELECT TIMESTAMP '2026-12-01 00:00:00' + to_hours(i % 24) AS ts, ((i * 37) % 1000) / 10.0 AS income, ((i * 53) % 600) / 10.0 + 20 + ${ageShift} AS age,
            ['north', 'south', 'east'][i % 3 + 1] AS city FROM range(2000) t(i)`,
  );

const CSV_REFERENCE = [
  'income,age,city',
  ...Array.from({ length: 300 }, (_, i) => `${(i * 37) % 100},${20 + (i % 60)},${['north', 'south', 'east'][i % 3]}`),
].join('\n');

const SCORER = 'def score(data, base_path):\n    return {"ok": True}\n';

for (const dialect of DIALECTS) {
  describe(`monitors on ${dialect}`, () => {
    let s: TestServer;
    let viewer: string;
    let deploymentId: string;
    let buildJobId: string;
    const call = (method: string, p: string, body?: unknown, token?: string) => http(s.url, method, p, { token: token ?? s.adminToken, body });
    const writeTable = (name: string, bytes: Uint8Array) => writeLakeTable(s, name, bytes);
    const postForm = async (p: string, fd: FormData) => {
      const r = await fetch(`${s.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };
    const settled = async (jobId: string) => {
      const job = await call('GET', `/api/v1/jobs/${jobId}?waitSeconds=60`);
      assert.ok(['succeeded', 'failed'].includes(job.body.status), JSON.stringify(job.body));
      return job.body;
    };
    const tableMonitor = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      target: { table: 'traffic', timeColumn: 'ts' },
      reference: { kind: 'table', table: 'reference_rows' },
      period: 'day',
      scheduled: false,
      ...extra,
    });

    before(async () => {
      s = await startTestServer({ dialect });
      await writeTable('reference_rows', await rows(0));
      await writeTable('traffic', await rows(30));
      await call('POST', '/api/v1/users', { username: `watcher-${dialect}`, password: 'watcher-password' });
      await call('PUT', `/api/v1/groups/default/members/watcher-${dialect}`, { role: 'viewer' });
      viewer = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: `watcher-${dialect}`, password: 'watcher-password' } })).body.token;
      // A deployment to monitor (its build is not needed: a monitor reads its log, not the model).
      const fd = new FormData();
      fd.append('name', 'credit');
      fd.append('source', new Blob([SCORER]), 'scorer.py');
      fd.append('model', new Blob(['{}']), 'model.json');
      const dep = await postForm('/api/v1/deployments', fd);
      assert.equal(dep.status, 201, JSON.stringify(dep.body));
      deploymentId = dep.body.deployment.id;
      buildJobId = dep.body.buildJobId;
      // Its inference log, laid out as the inference log writes it.
      await writeTable(
        `inference__${deploymentId}`,
        await parquetOf(
          `SELECT 'r' || i AS request_id, TIMESTAMP '2026-12-01 00:00:00' + to_minutes(i) AS logged_at, 1.5 AS latency_ms, '1' AS model_version, 0 AS row_index,
                  ((i * 37) % 1000) / 10.0 AS income, 20.0 + (i % 60) AS age, ['north', 'south', 'east'][i % 3 + 1] AS city, (i % 2)::DOUBLE AS prediction FROM range(100) t(i)`,
        ),
      );
    });
    after(async () => {
      // The deployment's build is not needed, but it writes into the data folder: let it end first.
      await settled(buildJobId);
      await s.close();
    });

    test('CRUD: editors write, viewers read, every change audited; names are unique in a group', async () => {
      const created = await call('POST', '/api/v1/monitors', tableMonitor('traffic-watch', { description: 'watch the traffic' }));
      assert.equal(created.status, 201, created.text);
      const m = created.body;
      assert.deepEqual([m.name, m.period, m.scheduled, m.nextRunAt, m.deploymentId, m.lastRun], ['traffic-watch', 'day', false, null, null, null]);
      assert.deepEqual(m.reference, { kind: 'table', table: 'reference_rows' });
      assert.equal((await call('GET', `/api/v1/monitors/${m.id}`)).body.name, 'traffic-watch');
      assert.equal((await call('GET', '/api/v1/monitors/traffic-watch', undefined, viewer)).body.id, m.id, 'viewers read, by name too');
      assert.ok((await call('GET', '/api/v1/monitors', undefined, viewer)).body.items.some((x: { id: string }) => x.id === m.id));
      assert.equal((await call('POST', '/api/v1/monitors', tableMonitor('by-viewer'), viewer)).status, 403);
      assert.equal((await call('PATCH', `/api/v1/monitors/${m.id}`, { description: 'no' }, viewer)).status, 403);
      assert.equal((await call('POST', `/api/v1/monitors/${m.id}/runs`, {}, viewer)).status, 403);
      assert.equal((await call('DELETE', `/api/v1/monitors/${m.id}`, undefined, viewer)).status, 403);
      assert.equal((await call('POST', '/api/v1/monitors', tableMonitor('traffic-watch'))).status, 409);

      const patched = await call('PATCH', `/api/v1/monitors/${m.id}`, { description: 'changed', period: 'hour', scheduled: true });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual([patched.body.description, patched.body.period, patched.body.scheduled], ['changed', 'hour', true]);
      assert.equal(patched.body.nextRunAt % HOUR, 0, 'the next run is at an hour boundary');
      assert.ok(patched.body.nextRunAt > Date.now());

      await call('POST', '/api/v1/groups', { name: `elsewhere-${dialect}` });
      const foreign = await http(s.url, 'GET', `/api/v1/monitors/${m.id}`, { token: s.adminToken, headers: { 'x-forja-group': `elsewhere-${dialect}` } });
      assert.equal(foreign.status, 404, 'another group does not see it');

      assert.equal((await call('DELETE', `/api/v1/monitors/${m.id}`)).status, 200);
      assert.equal((await call('GET', `/api/v1/monitors/${m.id}`)).status, 404);
      const actions = (await call('GET', '/api/v1/audit?limit=200')).body.items
        .filter((a: { resourceId: string }) => a.resourceId === m.id)
        .map((a: { action: string }) => a.action);
      assert.deepEqual(actions.sort(), ['monitor.create', 'monitor.delete', 'monitor.update']);
    });

    test('bad input: unknown columns, a reference without rows, an unknown deployment or table, a bad period or time column', async () => {
      const bad = async (body: unknown, status: number, message: RegExp) => {
        const r = await call('POST', '/api/v1/monitors', body);
        assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.text}`);
        assert.match(r.body.error.message, message);
      };
      await bad(tableMonitor('bad-cols', { inputColumns: ['income', 'salary', 'tenure'] }), 400, /Columns not in the reference .*"salary", "tenure"/);
      await bad(tableMonitor('bad-out', { outputColumns: ['score'] }), 400, /Columns not in table traffic: "score"/);
      await bad(tableMonitor('empty-ref', { reference: { kind: 'table', table: 'reference_rows', filter: 'income < 0' } }), 400, /has no rows/);
      await bad(tableMonitor('no-ref-table', { reference: { kind: 'table', table: 'nowhere' } }), 404, /nowhere/);
      await bad({ ...tableMonitor('ghost'), target: { deployment: 'ghost-model' } }, 400, /No deployment "ghost-model"/);
      await bad({ ...tableMonitor('no-table'), target: { table: 'nothing_here', timeColumn: 'ts' } }, 400, /No lake table "nothing_here"/);
      await bad({ ...tableMonitor('bad-time'), target: { table: 'traffic', timeColumn: 'income' } }, 400, /timeColumn "income" of traffic is DOUBLE/);
      await bad({ ...tableMonitor('no-time'), target: { table: 'traffic', timeColumn: 'when' } }, 400, /no column "when"/);
      const period = await call('POST', '/api/v1/monitors', tableMonitor('bad-period', { period: 'fortnight' }));
      assert.equal(period.status, 400);
      assert.match(period.text, /period/);
      await bad(tableMonitor('Bad Name'), 400, /name/);
      assert.equal((await call('GET', '/api/v1/monitors?deployment=ghost-model')).status, 400);
    });

    test('an uploaded reference file: kept in the lake, refused without rows, run against the window', async () => {
      const created = await call('POST', '/api/v1/monitors', { name: 'from-file', target: { table: 'traffic', timeColumn: 'ts' }, scheduled: false });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id;
      assert.equal(created.body.reference, null);
      const noRef = await call('POST', `/api/v1/monitors/${id}/runs`, {});
      assert.equal(noRef.status, 400);
      assert.match(noRef.body.error.message, /has no reference yet/);

      const upload = (name: string, content: string | Uint8Array) => {
        const fd = new FormData();
        fd.append('data', new Blob([typeof content === 'string' ? content : new Uint8Array(content)]), name);
        return postForm(`/api/v1/monitors/${id}/reference`, fd);
      };
      const empty = await upload('empty.csv', 'income,age,city\n');
      assert.equal(empty.status, 400, JSON.stringify(empty.body));
      assert.match(empty.body.error.message, /has no rows/);
      assert.equal((await upload('notes.txt', 'hello')).status, 400);
      const up = await upload('reference.csv', CSV_REFERENCE);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.deepEqual(up.body.reference, { kind: 'file', name: 'reference.csv', rows: 300 });
      const table = await call('GET', `/api/v1/lake/tables/monitor_ref_${id}`);
      assert.equal(table.body.rowCount, 300, 'kept as a lake table of the group');
      const parquet = await upload('reference.parquet', await rows(0));
      assert.deepEqual(parquet.body.reference, { kind: 'file', name: 'reference.parquet', rows: 2000 });

      const run = await call('POST', `/api/v1/monitors/${id}/runs`, { from: DAY, to: DAY + 24 * HOUR });
      assert.equal(run.status, 202, run.text);
      assert.equal((await settled(run.body.jobId)).status, 'succeeded');
      const done = (await call('GET', `/api/v1/monitors/${id}/runs/${run.body.id}`)).body;
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.deepEqual(
        done.drift.columns.filter((c: { drifted: boolean }) => c.drifted).map((c: { column: string }) => c.column),
        ['age'],
      );
      assert.equal((await call('DELETE', `/api/v1/monitors/${id}`)).status, 200);
      assert.equal((await call('GET', `/api/v1/lake/tables/monitor_ref_${id}`)).status, 404, 'the uploaded reference goes with its monitor');
    });

    test('on demand against a lake table: the shifted column drifts, the others do not; runs, one run, metric series, the event', async () => {
      const events: DomainEvent[] = [];
      s.server.services.events.subscribe(async (e) => {
        if (e.type === 'monitor.run.completed') events.push(e);
      });
      const m = (
        await call('POST', '/api/v1/monitors', tableMonitor('shifted', { checks: { drift: { alsoCompute: ['psi'] }, performance: { task: 'regression' } } }))
      ).body;
      const started = await call('POST', `/api/v1/monitors/${m.id}/runs`, { from: DAY, to: DAY + 24 * HOUR });
      assert.equal(started.status, 202, started.text);
      assert.deepEqual([started.body.status, started.body.trigger, started.body.windowStart], ['queued', 'manual', DAY]);
      const job = await settled(started.body.jobId);
      assert.equal(job.status, 'succeeded', job.error);
      const run = (await call('GET', `/api/v1/monitors/${m.id}/runs/${started.body.id}`)).body;
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.deepEqual([run.currentRows, run.referenceRows], [2000, 2000]);
      const byColumn = Object.fromEntries(run.drift.columns.map((c: { column: string; drifted: boolean }) => [c.column, c.drifted]));
      assert.deepEqual(byColumn, { income: false, age: true, city: false });
      assert.ok(run.metrics['drift.age.psi'] > 1, JSON.stringify(run.metrics));
      assert.ok(run.metrics['drift.income.psi'] < 0.01, JSON.stringify(run.metrics));
      assert.equal(run.metrics.rows, 2000);
      assert.equal(run.metrics['drift.columns_drifted'], 1);
      // The performance part fails soft: recorded, the run stands.
      assert.deepEqual(
        run.problems.map((p: { part: string }) => p.part),
        ['performance'],
      );
      const logs = (await call('GET', `/api/v1/jobs/${job.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.ok(logs.includes('Comparing 3 columns: income, age, city.'), logs.join('\n'));
      assert.ok(
        logs.some((l: string) => /Read 2000 reference rows and 2000 rows of the window/.test(l)),
        logs.join('\n'),
      );

      // A second look (the last full day: no rows) uses the cached reference and records that the window was empty.
      const empty = await call('POST', `/api/v1/monitors/${m.id}/runs`, {});
      const emptyJob = await settled(empty.body.jobId);
      const emptyRun = (await call('GET', `/api/v1/monitors/${m.id}/runs/${empty.body.id}`)).body;
      assert.equal(emptyRun.currentRows, 0);
      assert.match(emptyRun.problems[0].message, /no rows/);
      const emptyLogs = (await call('GET', `/api/v1/jobs/${emptyJob.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.ok(emptyLogs.includes('Reference: cached export (2000 rows).'), emptyLogs.join('\n'));

      const page = await call('GET', `/api/v1/monitors/${m.id}/runs?limit=1`);
      assert.equal(page.body.items.length, 1);
      assert.equal(page.body.items[0].id, empty.body.id, 'newest first');
      assert.equal(page.body.items[0].drift, undefined, 'pages carry no reports');
      const next = await call('GET', `/api/v1/monitors/${m.id}/runs?limit=1&pageToken=${page.body.nextPageToken}`);
      assert.deepEqual(
        next.body.items.map((r: { id: string }) => r.id),
        [started.body.id],
      );
      const series = (await call('GET', `/api/v1/monitors/${m.id}/metrics?names=drift.age.psi,rows,drift.city.*`)).body.metrics;
      assert.deepEqual(
        series['drift.age.psi'].map((p: { t: number; runId: string }) => [p.t, p.runId]),
        [[DAY + 24 * HOUR, started.body.id]],
      );
      assert.deepEqual(
        series.rows.map((p: { value: number }) => p.value),
        [2000, 0],
      );
      assert.ok(series['drift.city.psi'].length === 1);
      assert.equal((await call('GET', `/api/v1/monitors/${m.id}`)).body.lastRun.id, empty.body.id);

      const event = await until('the run event', async () => events.find((e) => e.data.runId === started.body.id));
      assert.deepEqual([event.data.monitorId, event.data.monitorName, event.data.windowEnd], [m.id, 'shifted', DAY + 24 * HOUR]);
      assert.equal((event.data.metrics as Record<string, number>)['drift.age.psi'], run.metrics['drift.age.psi']);

      const badWindow = await call('POST', `/api/v1/monitors/${m.id}/runs`, { from: DAY, to: DAY });
      assert.equal(badWindow.status, 400);
      assert.match(badWindow.body.error.message, /must be before/);
    });

    test('scheduled: every process ticks, one run per due window', async () => {
      const m = (await call('POST', '/api/v1/monitors', tableMonitor('hourly', { period: 'hour', scheduled: true }))).body;
      assert.equal(m.nextRunAt % HOUR, 0);
      const services = s.server.services;
      // Three more schedulers on the same database, as three more servers would be.
      const others = [1, 2, 3].map(
        () =>
          new MonitorsService({
            store: new MonitorsStore(services.db),
            engine: services.engine,
            lake: services.lake,
            deployments: services.deployments,
            groups: services.groups,
            audit: services.audit,
            events: services.events,
            references: new ReferenceResolver({
              lake: services.lake,
              tracking: services.tracking,
              artifacts: services.artifacts,
              training: services.training,
              tempDir: services.lake.tempDir,
            }),
            cacheDir: `${s.dataDir}/monitors-other`,
            log: { warn: () => undefined, error: () => undefined },
          }),
      );
      const due = m.nextRunAt + 1000;
      const fired = await Promise.all([services.monitors.tick(due), ...others.map((o) => o.tick(due))]);
      assert.equal(
        fired.reduce((a, b) => a + b, 0),
        1,
        `fired ${JSON.stringify(fired)}`,
      );
      assert.equal(
        (await Promise.all(others.map((o) => o.tick(due)))).reduce((a, b) => a + b, 0),
        0,
        'a window fires once',
      );
      const runs = (await call('GET', `/api/v1/monitors/${m.id}/runs`)).body.items;
      assert.equal(runs.length, 1);
      assert.deepEqual([runs[0].trigger, runs[0].windowStart, runs[0].windowEnd], ['schedule', m.nextRunAt - HOUR, m.nextRunAt]);
      assert.equal((await call('GET', `/api/v1/monitors/${m.id}`)).body.nextRunAt, m.nextRunAt + HOUR);
      // Two windows behind: caught up one by one.
      assert.equal(await others[0]!.tick(m.nextRunAt + 2 * HOUR + 1), 2);
      assert.equal((await call('GET', `/api/v1/monitors/${m.id}/runs`)).body.items.length, 3);
      await settled(runs[0].jobId);
    });

    test("MLOps Codex's configuration.json: a monitor of a deployment; columns it lacks are named; labels bring performance", async () => {
      const configuration = {
        Period: 'Week',
        TrainData: { TrainDateCol: 'ts', TrainDateRef: '2026-12-01 12:00:00' },
        InputCols: ['income', 'age'],
        OutputCols: ['prediction'],
      };
      const created = await call('POST', '/api/v1/monitors/codex', {
        name: 'codex-json',
        deployment: 'credit',
        configuration,
        reference: { kind: 'table', table: 'reference_rows' },
      });
      assert.equal(created.status, 201, created.text);
      const m = created.body;
      assert.deepEqual([m.deploymentId, m.period, m.inputColumns, m.outputColumns], [deploymentId, 'week', ['income', 'age'], ['prediction']]);
      assert.deepEqual(m.reference, { kind: 'table', table: 'reference_rows', filter: `"ts" < '2026-12-01 12:00:00'` });
      assert.equal(new Date(m.nextRunAt).getUTCDay(), 1, 'weeks start on Monday');
      assert.equal((await call('GET', `/api/v1/monitors?deployment=credit`)).body.items.length, 1);

      const year = await call('POST', '/api/v1/monitors/codex', {
        name: 'codex-year',
        deployment: deploymentId,
        configuration: { ...configuration, Period: 'Year' },
        reference: { kind: 'table', table: 'reference_rows' },
      });
      assert.equal(year.body.period, 'month', 'Year runs month by month');

      const bad = async (body: Record<string, unknown>, message: RegExp) => {
        const r = await call('POST', '/api/v1/monitors/codex', {
          name: 'codex-bad',
          deployment: 'credit',
          reference: { kind: 'table', table: 'reference_rows' },
          ...body,
        });
        assert.equal(r.status, 400, r.text);
        assert.match(r.body.error.message, message);
      };
      await bad({ configuration: { ...configuration, InputCols: ['income', 'salary'] } }, /Columns not in the reference .*"salary"/);
      await bad({ configuration: { ...configuration, OutputCols: ['score'] } }, /Columns not in the deployment's inference log: "score"/);
      await bad({ configuration: { ...configuration, Period: 'Hourly' } }, /Period/);
      await bad({ deployment: 'nope', configuration }, /No deployment "nope"/);
      await bad({ configuration: { ...configuration, TrainData: {} } }, /TrainData needs/);
      const noRef = await call('POST', '/api/v1/monitors/codex', {
        name: 'codex-noref',
        deployment: 'credit',
        configuration: { ...configuration, TrainData: { TrainDateRef: '2026-01-01' } },
      });
      assert.equal(noRef.status, 400);
      assert.match(noRef.body.error.message, /names no MLOpsTrainingExecution/);

      // As MLOps Codex's register_monitoring sends it: the file, and the training data beside it.
      const fd = new FormData();
      fd.append('name', 'codex-form');
      fd.append('deployment', 'credit');
      fd.append(
        'configuration',
        new Blob([JSON.stringify({ Period: 'Day', TrainData: { TrainDateRef: '2026-01-01' }, InputCols: ['income', 'city'], OutputCols: ['prediction'] })]),
        'configuration.json',
      );
      fd.append('data', new Blob([CSV_REFERENCE]), 'train.csv');
      const form = await postForm('/api/v1/monitors/codex', fd);
      assert.equal(form.status, 201, JSON.stringify(form.body));
      assert.deepEqual([form.body.period, form.body.reference], ['day', { kind: 'file', name: 'train.csv', rows: 300 }]);
      const badForm = new FormData();
      badForm.append('name', 'codex-form-bad');
      badForm.append('deployment', 'credit');
      badForm.append(
        'configuration',
        new Blob([JSON.stringify({ Period: 'Day', TrainData: { TrainDateRef: '2026-01-01' }, InputCols: ['tenure'], OutputCols: ['prediction'] })]),
        'configuration.json',
      );
      badForm.append('data', new Blob([CSV_REFERENCE]), 'train.csv');
      const refused = await postForm('/api/v1/monitors/codex', badForm);
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /"tenure"/);
      assert.equal((await call('GET', '/api/v1/monitors/codex-form-bad')).status, 404, 'a refused form leaves no monitor');

      // The log is the current side: one run over the day it covers.
      const run = await call('POST', `/api/v1/monitors/${m.id}/runs`, { from: DAY, to: DAY + 24 * HOUR });
      assert.equal((await settled(run.body.jobId)).status, 'succeeded');
      const done = (await call('GET', `/api/v1/monitors/${m.id}/runs/${run.body.id}`)).body;
      assert.equal(done.currentRows, 100);
      assert.deepEqual(
        done.drift.columns.map((c: { column: string }) => c.column),
        ['income', 'age'],
        'the reference has no prediction column: only the inputs are compared',
      );

      // Labels come back for the logged requests (80 of 100 right): the next run reports performance.
      const labels = Array.from({ length: 100 }, (_, i) => ({ requestId: `r${i}`, label: i < 80 ? i % 2 : 1 - (i % 2) }));
      const posted = await call('POST', `/api/v1/deployments/${deploymentId}/labels`, { labels });
      assert.equal(posted.status, 200, posted.text);
      assert.equal((await call('PATCH', `/api/v1/monitors/${m.id}`, { checks: { performance: { task: 'classification' } } })).status, 200);
      const scored = await call('POST', `/api/v1/monitors/${m.id}/runs`, { from: DAY, to: DAY + 24 * HOUR });
      assert.equal((await settled(scored.body.jobId)).status, 'succeeded');
      const withLabels = (await call('GET', `/api/v1/monitors/${m.id}/runs/${scored.body.id}`)).body;
      assert.deepEqual(withLabels.problems, []);
      assert.equal(withLabels.performance.labelledRows, 100);
      assert.equal(withLabels.metrics['performance.accuracy'], 0.8);
    });
  });
}
