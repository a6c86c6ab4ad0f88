import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../testing/databases.js';
import { parquetOf } from '../../testing/parquet.js';
import { http, startTestServer, writeLakeTable, until, type TestServer } from '../../testing/server.js';

const SCORER = 'def score(data, base_path):\n    return {"proba": 0.5}\n';
const PREPROCESS = 'def parse(input_json, output_json):\n    raise RuntimeError("Forja does not run this")\n';
const CONFIGURATION = { Period: 'Day', TrainData: { TrainDateRef: '2026-12-01' }, InputCols: ['income', 'age'], OutputCols: ['proba'] };

/**
 * A deployment's inference log as the log writes it: 200 rows of November 2026 (before TrainDateRef,
 * the reference) and 50 rows of a minute ago (today's window) whose ages moved up by 30.
 */
const inferenceLog = () =>
  parquetOf(
    `SELECT 'r' || i AS request_id,
            CASE WHEN i < 200 THEN TIMESTAMP '2026-11-01 00:00:00' + to_hours(i) ELSE now()::TIMESTAMP - INTERVAL 1 MINUTE END AS logged_at,
            1.5 AS latency_ms, '1' AS model_version, 0 AS row_index,
            ((i * 37) % 1000) / 10.0 AS income, 20.0 + (i % 60) + CASE WHEN i < 200 THEN 0 ELSE 30 END AS age,
            (i % 10) / 10.0 AS prediction_proba
     FROM range(250) t(i)`,
  );

for (const dialect of DIALECTS) {
  describe(`MLOps Codex monitoring of hosted models on ${dialect}`, () => {
    let s: TestServer;
    let user: string;
    let groupToken: string;
    let credit: string;
    let scorecard: string;
    const builds: string[] = [];
    const call = (method: string, p: string, body?: unknown, token?: string) => http(s.url, method, p, { token: token ?? s.adminToken, body });
    const codex = (method: string, p: string, token = user) => http(s.url, method, `/codex/api${p}`, { token });
    const postForm = async (p: string, fd: FormData, token = user) => {
      const r = await fetch(`${s.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: fd });
      return { status: r.status, body: (await r.json()) as any };
    };
    /** The form register_monitoring sends: the configuration file, the preprocess script and requirements, the two references. */
    const registration = (configuration: string | object, extra: (fd: FormData) => void = () => undefined) => {
      const fd = new FormData();
      fd.append('preprocess_reference', 'parse');
      fd.append('shap_reference', 'get_shap');
      fd.append('configuration', new Blob([typeof configuration === 'string' ? configuration : JSON.stringify(configuration)]), 'configuration.json');
      fd.append('source', new Blob([PREPROCESS]), 'preprocess.py');
      fd.append('requirements', new Blob(['pandas\n']), 'requirements.txt');
      extra(fd);
      return fd;
    };
    const register = (hash: string, configuration: string | object, extra?: (fd: FormData) => void, token?: string, group = 'default') =>
      postForm(`/codex/api/monitoring/register/${group}/${hash}`, registration(configuration, extra), token);
    const writeTable = (name: string, bytes: Uint8Array) => writeLakeTable(s, name, bytes);
    /** A deployment made through Forja's own API, with an inference log (its build is not needed: a monitor reads the log). */
    const deployment = async (name: string) => {
      const fd = new FormData();
      fd.append('name', name);
      fd.append('source', new Blob([SCORER]), 'scorer.py');
      fd.append('model', new Blob(['{}']), 'model.json');
      const dep = await postForm('/api/v1/deployments', fd, s.adminToken);
      assert.equal(dep.status, 201, JSON.stringify(dep.body));
      builds.push(dep.body.buildJobId);
      await writeTable(`inference__${dep.body.deployment.id}`, await inferenceLog());
      return dep.body.deployment.id as string;
    };
    const settledStatus = (hash: string, period: string) =>
      until(
        `monitoring status of ${hash}`,
        async () => {
          const r = await codex('GET', `/monitoring/status/default/${hash}/${period}`);
          assert.equal(r.status, 200, r.text);
          return r.body.Status === 'Validating' ? undefined : r.body;
        },
        60_000,
      );

    before(async () => {
      s = await startTestServer({ dialect });
      assert.equal((await call('POST', '/api/v1/users', { username: 'ana', password: 'ana-password' })).status, 201);
      assert.equal((await call('PUT', '/api/v1/groups/default/members/ana', { role: 'editor' })).status, 200);
      const login = await http(s.url, 'POST', '/codex/api/login', {
        rawBody: new URLSearchParams({ user: 'ana', password: 'ana-password', tenant: 'forja' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(login.status, 200, login.text);
      user = login.body.Token;
      const group = await http(s.url, 'POST', '/codex/api/groups', {
        token: s.adminToken,
        rawBody: new URLSearchParams({ name: 'riskteam', description: 'a group with a token' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(group.status, 201, group.text);
      groupToken = group.body.Token;
      credit = await deployment('credit');
      scorecard = await deployment('scorecard');
    });
    after(async () => {
      for (const id of builds) await call('GET', `/api/v1/jobs/${id}?waitSeconds=60`);
      await s.close();
    });

    test('register → 201 {ModelHash, Message} and a Forja monitor (Unvalidated); host runs its first look → Validated with drift of inputs and outputs', async () => {
      const r = await register(credit, CONFIGURATION);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.ModelHash, credit);
      assert.match(r.body.Message, /preprocess function "parse" is not run/);
      assert.match(r.body.Message, /No SHAP values: shap_reference "get_shap"/);

      const monitor = (await call('GET', `/api/v1/monitors/codex-${credit}-day`)).body;
      assert.deepEqual(
        [monitor.deploymentId, monitor.period, monitor.scheduled, monitor.inputColumns, monitor.outputColumns],
        [credit, 'day', false, ['income', 'age'], ['prediction_proba']],
        'OutputCols are the log columns the scorer\'s {"proba": …} becomes',
      );
      assert.deepEqual(monitor.reference, { kind: 'table', table: `inference__${credit}`, filter: `"logged_at" < '2026-12-01'` });
      assert.equal((await codex('GET', `/monitoring/status/default/${credit}/Day`)).body.Status, 'Unvalidated');

      const host = await codex('GET', `/monitoring/host/default/${credit}/Day`);
      assert.equal(host.status, 200, host.text);
      const status = await settledStatus(credit, 'Day');
      assert.equal(status.Status, 'Validated', status.Message);
      assert.match(status.Message, /compared 50 logged rows with 200 reference rows/);

      const hosted = (await call('GET', `/api/v1/monitors/codex-${credit}-day`)).body;
      assert.equal(hosted.scheduled, true, 'hosting schedules it');
      const run = (await call('GET', `/api/v1/monitors/${hosted.id}/runs/${hosted.lastRun.id}`)).body;
      assert.deepEqual(
        run.drift.columns.map((c: { column: string }) => c.column),
        ['income', 'age', 'prediction_proba'],
      );
      assert.equal(run.drift.columns.find((c: { column: string }) => c.column === 'age').drifted, true, 'ages moved up by 30');
    });

    test('registering again replaces the configuration (Unvalidated until hosted) and keeps the runs; a module:function shap_reference is used', async () => {
      const before = (await call('GET', `/api/v1/monitors/codex-${credit}-day`)).body;
      const r = await postForm(
        `/codex/api/monitoring/register/default/${credit}`,
        (() => {
          const fd = registration({ ...CONFIGURATION, Period: 'day', InputCols: ['income'] });
          fd.set('shap_reference', 'shap_fn:get_shap');
          return fd;
        })(),
      );
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.match(r.body.Message, /SHAP values come from shap_fn:get_shap/);
      const after = (await call('GET', `/api/v1/monitors/codex-${credit}-day`)).body;
      assert.equal(after.id, before.id);
      assert.deepEqual([after.inputColumns, after.scheduled, after.checks.explanations?.function], [['income'], false, 'shap_fn:get_shap']);
      assert.equal((await call('GET', `/api/v1/monitors/${after.id}/runs`)).body.items.length, 1, 'the earlier run is kept');
      assert.equal((await codex('GET', `/monitoring/status/default/${credit}/day`)).body.Status, 'Unvalidated');
    });

    test('a look that fails is Invalidated with its reason', async () => {
      assert.equal((await register(scorecard, { ...CONFIGURATION, Period: 'Week' })).status, 201);
      // The reference was the log's rows before TrainDateRef: dropping the log leaves nothing to compare.
      assert.equal((await call('DELETE', `/api/v1/lake/tables/inference__${scorecard}`)).status, 200);
      assert.equal((await codex('GET', `/monitoring/host/default/${scorecard}/Week`)).status, 200);
      const status = await settledStatus(scorecard, 'Week');
      assert.equal(status.Status, 'Invalidated');
      assert.match(status.Message, new RegExp(`inference__${scorecard}`));
      // And with no log at all, registering by date is refused up front.
      const none = await register(scorecard, CONFIGURATION);
      assert.equal(none.status, 400);
      assert.match(none.body.Error.Message, /has answered no requests yet/);
    });

    test('bad inputs: a 400 naming the field; unknown or foreign models 404; a group token 403', async () => {
      const bad = async (configuration: string | object, message: RegExp, extra?: (fd: FormData) => void) => {
        const r = await register(credit, configuration, extra);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.Error.Type, 'BadInput');
        assert.match(r.body.Error.Message, message);
      };
      await bad('{"Period": "Day",', /configuration.json is not JSON/);
      await bad('', /configuration.json is empty.*pass the path/);
      const { InputCols: _i, ...noInputs } = CONFIGURATION;
      await bad(noInputs, /lacks InputCols/);
      const { Period: _p, ...noPeriod } = CONFIGURATION;
      await bad(noPeriod, /lacks Period/);
      await bad({ ...CONFIGURATION, Period: 'Hourly' }, /Period must be Day, Week, Month or Year/);
      await bad({ ...CONFIGURATION, InputCols: [] }, /InputCols/);
      await bad({ ...CONFIGURATION, TrainData: {} }, /TrainData/);
      await bad({ ...CONFIGURATION, InputCols: ['income', 'salary'] }, /"salary"/);
      await bad({ ...CONFIGURATION, OutputCols: ['score'] }, /Columns not in the deployment's inference log: "score"/);
      await bad(CONFIGURATION, /must be a .py file or an .ipynb notebook/, (fd) => {
        fd.delete('source');
        fd.append('source', new Blob(['x']), 'preprocess.txt');
      });
      const training = await register(credit, { ...CONFIGURATION, TrainData: { MLOpsTrainingExecution: 12 } });
      assert.equal(training.status, 404, "the training execution (a number, as the client's pipeline writes it) is looked up");
      assert.match(training.body.Error.Message, /Training run '#12'/);
      const noFile = new FormData();
      noFile.append('shap_reference', 'get_shap');
      const missing = await postForm(`/codex/api/monitoring/register/default/${credit}`, noFile);
      assert.equal(missing.status, 400);
      assert.match(missing.body.Error.Message, /"configuration" file field/);

      const unregistered = await codex('GET', `/monitoring/status/default/${credit}/Month`);
      assert.equal(unregistered.status, 404);
      assert.match(unregistered.body.Error.Message, /no monitoring for period Month: register it first/);
      assert.equal((await codex('GET', `/monitoring/host/default/${credit}/Hour`)).status, 400);
      assert.equal((await register('nosuchmodel', CONFIGURATION)).status, 404);

      const foreign = await register(credit, CONFIGURATION, undefined, s.adminToken, 'riskteam');
      assert.equal(foreign.status, 404, 'a model of another group is not found there');
      assert.equal((await codex('GET', `/monitoring/status/riskteam/${credit}/Day`, s.adminToken)).status, 404);
      for (const [method, p] of [
        ['GET', `/monitoring/status/riskteam/${credit}/Day`],
        ['GET', `/monitoring/host/riskteam/${credit}/Day`],
      ] as const) {
        const r = await codex(method, p, groupToken);
        assert.equal(r.status, 403, `${p}: ${r.text}`);
      }
      assert.equal((await register(credit, CONFIGURATION, undefined, groupToken, 'riskteam')).status, 403, 'a group token cannot register');

      assert.equal((await call('POST', '/api/v1/users', { username: 'vera', password: 'vera-password' })).status, 201);
      assert.equal((await call('PUT', '/api/v1/groups/default/members/vera', { role: 'viewer' })).status, 200);
      const vera = (await call('POST', '/api/v1/auth/login', { username: 'vera', password: 'vera-password' })).body.token;
      assert.equal((await codex('GET', `/monitoring/status/default/${credit}/Day`, vera)).status, 200, 'viewers read the status');
      assert.equal((await register(credit, CONFIGURATION, undefined, vera)).status, 403, 'registering needs an editor');
      assert.equal((await codex('GET', `/monitoring/host/default/${credit}/Day`, vera)).status, 403, 'hosting needs an editor');
    });
  });
}
