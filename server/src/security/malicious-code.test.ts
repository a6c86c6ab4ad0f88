// Malicious user code against a real server: a scorer, a pipeline step, a batch script, a training
// script (also sent through MLOps Codex's wire layer) and a model the explainer loads each try to reach the server's files, secrets, processes and
// network, and another group's data. Every attempt must fail, as seen from inside the sandbox and from outside it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { ATTACKS, probeSource, reportIn, type Attempt, type Targets } from '../testing/malicious.js';
import { parquetOf } from '../testing/parquet.js';
import { processesWith } from '../testing/processes.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const VICTIM_SECRET = 'victim-deployment-secret-4711';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function form(fields: Record<string, string>, files: { field: string; name: string; content: string }[]): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of files) fd.append(f.field, new Blob([f.content]), f.name);
  return fd;
}

function findFile(dir: string, name: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isFile() && e.name === name) return full;
    if (e.isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** Every attack of the report failed; the message lists the ones that did not. */
function assertContained(report: Record<string, Attempt> | undefined, vehicle: string): void {
  assert.ok(report, `${vehicle}: the probe printed no report`);
  assert.deepEqual(Object.keys(report).sort(), [...ATTACKS].sort(), `${vehicle}: every attack ran`);
  const escaped = Object.entries(report).filter(([, a]) => a.escaped);
  assert.deepEqual(escaped, [], `${vehicle}: attacks that got through`);
}

for (const dialect of DIALECTS) {
  describe(`malicious user code is contained on ${dialect}`, () => {
    let s: TestServer;
    let base: Targets;
    let victimDeployment: string;
    const call = (method: string, p: string, body?: unknown, headers?: Record<string, string>) =>
      http(s.url, method, p, { token: s.adminToken, body, headers });
    const post = (p: string, fd: FormData, group = 'default') =>
      fetch(`${s.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'x-forja-group': group }, body: fd }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
    const job = async (id: string) => {
      for (;;) {
        const j = (await call('GET', `/api/v1/jobs/${id}?waitSeconds=30`)).body;
        if (!['queued', 'running'].includes(j.status)) return j;
      }
    };
    const logOf = async (jobId: string) => (await call('GET', `/api/v1/jobs/${jobId}/logs`)).body.lines.map((l: { line: string }) => l.line) as string[];
    const targets = (survivor: string): Targets => ({ ...base, survivor });

    /** What no attack may leave behind, checked from outside once the code's job or deployment is gone. */
    const assertNothingLeft = async (vehicle: string, survivor: string) => {
      for (let i = 0; i < 20 && processesWith(`sleep ${survivor}`).length; i++) await sleep(100);
      assert.deepEqual(processesWith(`sleep ${survivor}`), [], `${vehicle}: a process outlived its code`);
      assert.deepEqual(
        readdirSync(s.dataDir).filter((f) => f.startsWith('pwned')),
        [],
        `${vehicle}: wrote into the data directory`,
      );
      assert.equal(readFileSync(base.otherGroupArtifact, 'utf8'), "the other group's numbers", `${vehicle}: the other group's artifact is intact`);
    };

    before(async () => {
      s = await startTestServer({ dialect });
      // Another group with an artifact on disk and a deployment whose worker holds a secret.
      assert.equal((await call('POST', '/api/v1/groups', { name: 'victims' })).status, 201);
      const victims = { 'x-forja-group': 'victims' };
      const exp = await call('POST', '/api/v1/experiments', { name: 'secret-work' }, victims);
      assert.equal(exp.status, 201, exp.text);
      const run = await call('POST', '/api/v1/runs', { experimentId: exp.body.experimentId }, victims);
      assert.equal(run.status, 201, run.text);
      const put = await fetch(`${s.url}/api/v1/runs/${run.body.info.runId}/artifacts/file?path=numbers.txt`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}`, 'x-forja-group': 'victims' },
        body: "the other group's numbers",
      });
      assert.ok(put.ok, await put.text());
      const artifact = findFile(path.join(s.dataDir, 'artifacts'), 'numbers.txt');
      assert.ok(artifact, 'the artifact is on disk');
      const dep = await post(
        '/api/v1/deployments',
        form({ name: 'victim-model' }, [
          {
            field: 'source',
            name: 'scorer.py',
            content: 'import os\n\ndef score(data, base_path):\n    return {"ok": bool(os.environ.get("VICTIM_SECRET"))}\n',
          },
          { field: 'env', name: 'secrets.env', content: `VICTIM_SECRET=${VICTIM_SECRET}\n` },
        ]),
        'victims',
      );
      assert.equal(dep.status, 201, JSON.stringify(dep.body));
      assert.equal((await job(dep.body.buildJobId)).status, 'succeeded');
      victimDeployment = dep.body.deployment.id;
      const warm = await http(s.url, 'POST', `/api/v1/deployments/${dep.body.deployment.id}/predict`, { token: s.adminToken, body: {}, headers: victims });
      assert.deepEqual(warm.body, { ok: true }, 'the victim worker runs with its secret');
      base = {
        dataDir: s.dataDir,
        secretKey: path.join(s.dataDir, 'secret.key'),
        database: dialect === 'sqlite' ? path.join(s.dataDir, 'forja.db') : '',
        otherGroupArtifact: artifact,
        otherDeploymentSecret: VICTIM_SECRET,
        adminToken: s.adminToken,
        serverPort: Number(new URL(s.url).port),
        serverPid: process.pid,
        survivor: '',
      };
      assert.ok(existsSync(base.secretKey), 'the secret key the attacks aim at exists');
      if (base.database) assert.ok(existsSync(base.database));
    });
    after(() => s.close());

    test('outbound network for a deployment: only a group admin may allow it, and it is audited', async () => {
      const victims = (token: string) => ({ token, headers: { 'x-forja-group': 'victims' } });
      await call('POST', '/api/v1/users', { username: `eve-${dialect}`, password: 'eve-password-1' });
      await call('PUT', `/api/v1/groups/victims/members/eve-${dialect}`, { role: 'editor' });
      const eve = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: `eve-${dialect}`, password: 'eve-password-1' } })).body.token as string;
      const patch = (token: string, network: boolean) =>
        http(s.url, 'PATCH', `/api/v1/deployments/${victimDeployment}`, { ...victims(token), body: { settings: { network } } });
      const refused = await patch(eve, true);
      assert.equal(refused.status, 403, refused.text);
      assert.match(refused.body.error.message, /Only a group admin may allow outbound network/);
      assert.equal((await patch(eve, false)).status, 200, "other settings stay an editor's to change");
      const allowed = await patch(s.adminToken, true);
      assert.equal(allowed.status, 200, allowed.text);
      assert.equal(allowed.body.settings.network, true);
      const audit = (await call('GET', '/api/v1/audit?group=victims&action=deployment.network.allow')).body.items;
      assert.equal(audit.length, 1, JSON.stringify(audit));
      assert.equal((await patch(s.adminToken, false)).body.settings.network, false);
    });

    test('a scorer (pooled worker): every attack fails; its leftovers die with the deployment', async () => {
      const survivor = `${dialect === 'sqlite' ? 7101 : 7102}.5`;
      const scorer = `${probeSource(targets(survivor))}\n\ndef score(data, base_path):\n    return probe("scorer")\n`;
      const created = await post('/api/v1/deployments', form({ name: 'evil-scorer' }, [{ field: 'source', name: 'scorer.py', content: scorer }]));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await job(created.body.buildJobId)).status, 'succeeded');
      const res = await http(s.url, 'POST', `/api/v1/deployments/${created.body.deployment.id}/predict`, { token: s.adminToken, body: {} });
      assert.equal(res.status, 200, res.text);
      assertContained(res.body, 'scorer');
      // The check below can fail: the left-behind process is there while the deployment lives.
      for (let i = 0; i < 50 && processesWith(`sleep ${survivor}`).length === 0; i++) await sleep(100);
      assert.ok(processesWith(`sleep ${survivor}`).length >= 1, 'the scorer started its survivor');
      assert.equal((await call('DELETE', `/api/v1/deployments/${created.body.deployment.id}`)).status, 200);
      await assertNothingLeft('scorer', survivor);
    });

    test('a pipeline script step: every attack fails; its token reaches only the API and never its log', async () => {
      const survivor = `${dialect === 'sqlite' ? 7201 : 7202}.5`;
      const step = `${probeSource(targets(survivor))}
import urllib.request
print("my token is", os.environ["FORJA_TOKEN"])
req = urllib.request.Request(os.environ["FORJA_URL"] + "/api/v1/whoami", headers={"Authorization": "Bearer " + os.environ["FORJA_TOKEN"]})
me = json.loads(urllib.request.urlopen(req, timeout=10).read())
report = probe("pipeline")
with open(os.environ["FORJA_OUTPUTS"], "w") as f:
    json.dump({"report": json.dumps(report), "whoami": me["tokenName"]}, f)
`;
      const fd = new FormData();
      fd.append('definition', new Blob(['name: evil\nsteps:\n  - id: attack\n    script: attack.py\n']), 'pipeline.yaml');
      fd.append('file', new Blob([step]), 'attack.py');
      const up = await fetch(`${s.url}/api/v1/pipelines/evil`, { method: 'PUT', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      assert.ok(up.ok, await up.text());
      const started = await call('POST', '/api/v1/pipelines/evil/runs', {});
      assert.equal(started.status, 202, started.text);
      let run = started.body;
      for (let i = 0; i < 600 && run.status === 'running'; i++) {
        await sleep(300);
        run = (await call('GET', `/api/v1/pipeline-runs/${run.id}`)).body;
      }
      const attack = run.steps.find((st: { id: string }) => st.id === 'attack');
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.match(attack.outputs.whoami, /^job /, 'the job token works through the relay, and names its job');
      assertContained(JSON.parse(attack.outputs.report), 'pipeline step');
      const log = await logOf(attack.jobId);
      const tokenLine = log.find((l) => l.startsWith('my token is'));
      assert.equal(tokenLine, 'my token is [masked]', 'the token is masked in the job log');
      await assertNothingLeft('pipeline step', survivor);
    });

    test('a batch script: every attack fails; nothing outlives the run', async () => {
      const survivor = `${dialect === 'sqlite' ? 7301 : 7302}.5`;
      assert.equal((await call('POST', '/api/v1/batch/projects', { name: 'evil-batch' })).status, 201);
      const fd = new FormData();
      fd.append('source', new Blob([`${probeSource(targets(survivor))}\nprint_report("batch")\n`]), 'job.py');
      const deployed = await fetch(`${s.url}/api/v1/batch/projects/evil-batch/deploys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: fd,
      });
      const deploy = (await deployed.json()) as any;
      assert.equal(deployed.status, 202, JSON.stringify(deploy));
      assert.equal((await job(deploy.buildJobId)).status, 'succeeded');
      const started = await call('POST', '/api/v1/batch/projects/evil-batch/runs', { params: {} });
      assert.equal(started.status, 202, started.text);
      const done = await job(started.body.jobId);
      assert.equal(done.status, 'succeeded', done.error);
      assertContained(reportIn(await logOf(started.body.jobId)), 'batch script');
      await assertNothingLeft('batch script', survivor);
    });

    test('a training script: every attack fails; nothing outlives the run', async () => {
      const survivor = `${dialect === 'sqlite' ? 7401 : 7402}.5`;
      const train = `${probeSource(targets(survivor))}\n\ndef train_model(df, base_path):\n    print_report("training")\n    raise SystemExit("done probing")\n`;
      const started = await post(
        '/api/v1/training/runs',
        form({ experimentName: 'evil-training' }, [
          { field: 'source', name: 'train.py', content: train },
          { field: 'data', name: 'train.csv', content: 'x,y\n1,0\n2,1\n' },
        ]),
      );
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const jobId = (await call('GET', `/api/v1/training/runs/${started.body.id}`)).body.jobId;
      const done = await job(jobId);
      assert.equal(done.status, 'failed', 'the script ends itself after probing');
      assertContained(reportIn(await logOf(jobId)), 'training script');
      await assertNothingLeft('training script', survivor);
    });

    test("a training script sent through MLOps Codex's wire layer: every attack fails; nothing outlives the run", async () => {
      const survivor = `${dialect === 'sqlite' ? 7411 : 7412}.5`;
      const train = `${probeSource(targets(survivor))}\n\ndef train_model(df, base_path):\n    print_report("codex training")\n    raise SystemExit("done probing")\n`;
      // The client registers with a urlencoded form, then uploads a multipart one.
      const registered = await http(s.url, 'POST', '/codex/api/training/register/default', {
        token: s.adminToken,
        rawBody: new URLSearchParams({ experiment_name: 'evil codex', model_type: 'Classification' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(registered.status, 201, registered.text);
      const uploaded = await post(
        `/codex/api/training/upload/default/${registered.body.TrainingHash}`,
        form({ run_name: 'evil', training_type: 'Custom', training_reference: 'train_model', python_version: 'Python310' }, [
          { field: 'source', name: 'app.py', content: train },
          { field: 'train_data', name: 'train.csv', content: 'x,y\n1,0\n2,1\n' },
        ]),
      );
      assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
      const run = (await call('GET', '/api/v1/training/runs?group=default')).body.items.find((r: { number: number }) => r.number === uploaded.body.ExecutionId);
      const done = await job(run.jobId);
      assert.equal(done.status, 'failed', 'the script ends itself after probing');
      assertContained(reportIn(await logOf(run.jobId)), 'Codex training script');
      await assertNothingLeft('Codex training script', survivor);
    });

    test('a model the explainer loads (SHAP for a monitor): every attack fails; nothing outlives the run', async () => {
      const survivor = `${dialect === 'sqlite' ? 7501 : 7502}.5`;
      // Unpickling builds evil_model.Model from the deployment's own module, whose __setstate__ attacks.
      const module = `${probeSource(targets(survivor))}\n\nclass Model:\n    def __setstate__(self, state):\n        print_report("explainer")\n\n    def predict(self, X):\n        return [0.0] * len(X)\n`;
      // The preprocessing script is there for the build's worker, which puts the files on sys.path only for it.
      const fd = form({ name: 'evil-explained', kind: 'pickle' }, [
        { field: 'extra', name: 'evil_model.py', content: module },
        { field: 'preprocess', name: 'pre.py', content: 'def preprocess(df, base_path):\n    return df\n' },
      ]);
      fd.append('model', new Blob([Buffer.from('\x80\x04\x8c\x0aevil_model\x8c\x05Model\x93)\x81}b.', 'latin1')]), 'model.pkl');
      const created = await post('/api/v1/deployments', fd);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const build = await job(created.body.buildJobId);
      assert.equal(build.status, 'succeeded', build.error);
      const rows = path.join(s.dataDir, 'explain-rows.parquet');
      writeFileSync(rows, await parquetOf('SELECT range / 10.0 AS x FROM range(10)'));
      const lines: string[] = [];
      await s.server.services.explainer.explain(
        {
          deploymentId: created.body.deployment.id,
          groupId: (await s.server.services.authStore.getGroupByName('default'))!.id,
          current: rows,
          reference: null,
          features: ['x'],
          sampleRows: 10,
        },
        { signal: AbortSignal.timeout(600_000), log: (l) => lines.push(l) },
      );
      assertContained(reportIn(lines), 'explainer');
      assert.equal((await call('DELETE', `/api/v1/deployments/${created.body.deployment.id}`)).status, 200);
      await assertNothingLeft('explainer', survivor);
    });
  });
}
