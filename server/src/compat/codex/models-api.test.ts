import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import yauzl from 'yauzl';
import { DIALECTS } from '../../testing/databases.js';
import { http, startTestServer, type TestServer } from '../../testing/server.js';

// The seeds' sync contract: score(data, base_path) gets the JSON string and the model files' folder.
const SYNC_SCORER = `
import json, os

def score(data, base_path):
    factor = float(open(base_path + "/factor.txt").read())
    row = json.loads(data)
    return {"pred": row["x"] * factor}
`;
// The seeds' async contract: folders; the output is written in data_path and returned.
const ASYNC_SCORER = `
import csv, os, time

def score(data_path, model_path):
    time.sleep(1)
    factor = float(open(model_path + "/factor.txt").read())
    with open(data_path + "/" + os.environ["inputFileName"]) as f:
        rows = list(csv.DictReader(f))
    output = data_path + "/output.csv"
    with open(output, "w") as g:
        g.write("x,pred\\n")
        for r in rows:
            g.write(f"{r['x']},{float(r['x']) * factor}\\n")
    return output
`;

type Part = [field: string, value: string, filename?: string];
const form = (parts: Part[]) => {
  const fd = new FormData();
  for (const [field, value, filename] of parts) {
    if (filename) fd.append(field, new Blob([value]), filename);
    else fd.append(field, value);
  }
  return fd;
};
const modelParts = (name: string, operation: 'Sync' | 'Async', extra: Part[] = []): Part[] => [
  ['name', name],
  ['model_reference', 'score'],
  ['operation', operation],
  ['input_type', operation === 'Sync' ? 'json' : 'csv'],
  ['python_version', 'Python310'],
  ['source', operation === 'Sync' ? SYNC_SCORER : ASYNC_SCORER, 'app.py'],
  ['model', '3', 'factor.txt'],
  ['requirements', '# nothing beyond the standard library\n', 'requirements.txt'],
  ...extra,
];

function unzip(buffer: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) =>
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks).toString('utf8');
            zip.readEntry();
          });
        }),
      );
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`MLOps Codex models and their data plane on ${dialect}`, () => {
    let s: TestServer;
    let groupToken: string;
    let syncHash: string;
    let asyncHash: string;
    let otherHash: string;
    const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) =>
      http(s.url, method, `/codex/api${path}`, { token: s.adminToken, ...options });
    const upload = async (group: string, parts: Part[], token = s.adminToken) => {
      const r = await fetch(`${s.url}/codex/api/model/upload/${group}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form(parts) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const settle = async (group: string, hash: string) => {
      for (let i = 0; i < 600; i++) {
        const st = (await call('GET', `/model/status/${group}/${hash}`)).body;
        if (st.Status !== 'Building' && st.Status !== 'Ready') return st;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the model did not finish building');
    };
    const hosted = async (group: string, parts: Part[], op: 'sync' | 'async') => {
      const up = await upload(group, parts);
      assert.equal(up.status, 201, JSON.stringify(up.body));
      const host = await call('GET', `/model/${op}/host/${group}/${up.body.ModelHash}`);
      assert.equal(host.status, 202, host.text);
      const st = await settle(group, up.body.ModelHash);
      assert.equal(st.Status, 'Deployed', st.Message);
      return up.body.ModelHash as string;
    };

    before(async () => {
      s = await startTestServer({ dialect });
      const tok = await http(s.url, 'POST', '/api/v1/tokens', { token: s.adminToken, body: { name: 'codex-scoring', kind: 'group', group: 'default' } });
      assert.equal(tok.status, 201, tok.text);
      groupToken = tok.body.secret;
      assert.equal((await http(s.url, 'POST', '/api/v1/groups', { token: s.adminToken, body: { name: 'other' } })).status, 201);
    });
    after(() => s.close());

    test('upload is 201 {ModelHash, Message} in state Ready (not built); the display name comes back as given', async () => {
      const up = await upload('default', modelParts('Teste notebook Sync', 'Sync', [['schema', '{"x": 2}', 'schema.json']]));
      assert.equal(up.status, 201, JSON.stringify(up.body));
      assert.deepEqual(Object.keys(up.body).sort(), ['Message', 'ModelHash']);
      syncHash = up.body.ModelHash;
      const st = await call('GET', `/model/status/default/${syncHash}`);
      assert.deepEqual(st.body.Status, 'Ready');
      const described = (await call('GET', `/model/describe/default/${syncHash}`)).body.Description;
      assert.equal(described.Name, 'Teste notebook Sync');
      assert.equal(described.Operation, 'Sync');
      assert.equal(described.Status, 'Ready');
      assert.equal(described.ModelReference, 'score');
      // The Forja deployment has a valid name standing for the display name.
      const dep = (await http(s.url, 'GET', `/api/v1/deployments/${syncHash}`, { token: s.adminToken })).body;
      assert.equal(dep.name, 'Teste_notebook_Sync');
      assert.equal(dep.status, 'Uploaded');
    });

    test('host builds it (202), the build log records the Python mapping, and the group token scores with no Content-Type', async () => {
      assert.equal((await call('GET', `/model/async/host/default/${syncHash}`)).status, 400, 'a Sync model is not hosted as Async');
      assert.equal((await call('GET', `/model/sync/host/default/${syncHash}`)).status, 202);
      const st = await settle('default', syncHash);
      assert.equal(st.Status, 'Deployed', st.Message);
      // The client hosts a promoted training run that is building or built already: no second build.
      const built = (await http(s.url, 'GET', `/api/v1/deployments/${syncHash}?group=default`, { token: s.adminToken })).body.buildJobId;
      const again = await call('GET', `/model/sync/host/default/${syncHash}`);
      assert.equal(again.status, 202, again.text);
      assert.match(again.body.Message, /is Deployed already/);
      assert.equal((await http(s.url, 'GET', `/api/v1/deployments/${syncHash}?group=default`, { token: s.adminToken })).body.buildJobId, built);
      const logs = await call('GET', `/model/logs/default/${syncHash}?routine=Host`);
      assert.equal(logs.status, 200, logs.text);
      assert.ok(
        logs.body.Results.some((l: any) => /Python310 asked for Python 3\.10; Forja builds it with this server's Python/.test(l.OutputData)),
        JSON.stringify(logs.body.Results.slice(0, 3)),
      );
      assert.ok(logs.body.Results.every((l: any) => l.Routine === 'Host' && l.Hash === syncHash));
      const health = await call('GET', `/model/sync/health/default/${syncHash}`, { token: groupToken });
      assert.deepEqual(health.body, { Message: 'OK' });
      // requests' data=json.dumps(...) sends no Content-Type at all.
      const res = await fetch(`${s.url}/codex/api/model/sync/run/default/${syncHash}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${groupToken}` },
        body: new TextEncoder().encode(JSON.stringify({ Input: { x: 2 } })),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('content-type')?.split(';')[0], 'application/json');
      assert.deepEqual(await res.json(), { pred: 6 });
      const preprocessed = await call('POST', `/model/sync/run/default/${syncHash}`, { token: groupToken, body: { Input: { x: 1 }, ScriptHash: 'S1' } });
      assert.equal(preprocessed.status, 400);
      assert.match(preprocessed.body.Error.Message, /ScriptHash/);
      const bare = await call('POST', `/model/sync/run/default/${syncHash}`, { token: groupToken, body: { x: 1 } });
      assert.equal(bare.status, 400);
      assert.match(bare.body.Error.Message, /"Input"/);
    });

    test('search filters by name, state and group (LIKE); logs take dd-mm-yyyy windows, also on the path without the group', async () => {
      const found = await call('GET', '/model/search?name=notebook&state=deploy&group=def');
      assert.equal(found.status, 200, found.text);
      assert.equal(found.body.Count, 1);
      assert.equal(found.body.Results[0].ModelHash, syncHash);
      assert.equal(found.body.Results[0].Schema, '{"x":2}');
      assert.equal((await call('GET', '/model/search?name=nothing-like-this')).body.Count, 0);
      const today = new Date();
      const dd = (d: Date) => `${String(d.getUTCDate()).padStart(2, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${d.getUTCFullYear()}`;
      const legacy = await call('GET', `/model/logs/${syncHash}?start=${dd(today)}&end=${dd(today)}&routine=Host&type=Ok`);
      assert.equal(legacy.status, 200, legacy.text);
      assert.ok(legacy.body.Results.length > 0);
      const past = await call('GET', `/model/logs/default/${syncHash}?start=01-01-2001&end=07-01-2001`);
      assert.deepEqual(past.body.Results, []);
      const bad = await call('GET', `/model/logs/default/${syncHash}?start=2001-01-01`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.Error.Message, /dd-mm-yyyy/);
    });

    test('an Async model: run a file (202 {ExecutionId: int}), status, result before finished is "not ready", then the zip', async () => {
      asyncHash = await hosted('default', modelParts('Teste notebook Async', 'Async'), 'async');
      const res = await fetch(`${s.url}/codex/api/model/async/run/default/${asyncHash}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${groupToken}` },
        body: form([['input', 'x\n1\n2\n', 'dados.csv']]),
      });
      const started = (await res.json()) as any;
      assert.equal(res.status, 202, JSON.stringify(started));
      assert.ok(Number.isSafeInteger(started.ExecutionId), `ExecutionId ${started.ExecutionId} is an integer`);
      const e = started.ExecutionId as number;
      const early = await call('GET', `/model/async/result/default/${e}`, { token: groupToken });
      assert.equal(early.status, 409, early.text);
      assert.match(early.body.Error.Message, /not ready\. Status is (Requested|Running)/);
      let status: any;
      for (let i = 0; i < 300; i++) {
        status = (await call('GET', `/model/async/status/default/${e}`, { token: groupToken })).body;
        if (status.Status === 'Succeeded' || status.Status === 'Failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status.Status, 'Succeeded', status.Message);
      assert.equal(status.ExecutionId, e);
      const zip = await fetch(`${s.url}/codex/api/model/async/result/default/${e}`, { headers: { authorization: `Bearer ${groupToken}` } });
      assert.equal(zip.status, 200);
      assert.equal(zip.headers.get('content-type'), 'application/zip');
      const files = await unzip(Buffer.from(await zip.arrayBuffer()));
      assert.deepEqual(files, { 'output.csv': 'x,pred\n1,3.0\n2,6.0\n' });
      const described = (await call('GET', `/model/describe/default/${asyncHash}/${e}`)).body.Description;
      assert.equal(described.ExecutionId, e);
      assert.equal(described.ExecutionState, 'Succeeded');
      assert.equal(described.InputPayload.defaultEnvVars.inputFileName, 'dados.csv');
      const dataset = await fetch(`${s.url}/codex/api/model/async/run/default/${asyncHash}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${groupToken}` },
        body: form([['dataset_hash', 'D123']]),
      });
      assert.equal(dataset.status, 400);
      assert.match(((await dataset.json()) as any).Error.Message, /dataset_hash/);
    });

    test("bad inputs: a group token on management routes is a 403, another group's model hash a 404, a bad upload a 400 naming the field", async () => {
      for (const [method, path] of [
        ['GET', `/model/describe/default/${syncHash}`],
        ['GET', `/model/status/default/${syncHash}`],
        ['GET', '/model/search'],
        ['POST', `/model/disable/default/${syncHash}`],
      ] as const) {
        const r = await call(method, path, { token: groupToken });
        assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.Error.Type, 'Forbidden');
      }
      const up = await upload('default', modelParts('Teste notebook Sync', 'Sync'), groupToken);
      assert.equal(up.status, 403);
      // A model of group "other" is not found under "default", by the user or the group token.
      const other = await upload('other', modelParts('Other model', 'Sync'));
      assert.equal(other.status, 201);
      otherHash = other.body.ModelHash;
      for (const [path, token] of [
        [`/model/describe/default/${otherHash}`, s.adminToken],
        [`/model/status/default/${otherHash}`, s.adminToken],
        [`/model/sync/host/default/${otherHash}`, s.adminToken],
        [`/model/sync/health/default/${otherHash}`, groupToken],
      ] as const) {
        const r = await call('GET', path, { token });
        assert.equal(r.status, 404, `${path}: ${r.text}`);
        assert.equal(r.body.Error.Type, 'NotFound');
      }
      const run = await call('POST', `/model/sync/run/default/${otherHash}`, { token: groupToken, body: { Input: { x: 1 } } });
      assert.equal(run.status, 404);
      const alien = await call('GET', `/model/async/status/default/123`, { token: groupToken });
      assert.equal(alien.status, 404);
      // Two models may share a display name (Codex gives a re-upload a new hash).
      const again = await upload('default', modelParts('Teste notebook Sync', 'Sync'));
      assert.equal(again.status, 201);
      assert.equal((await call('GET', `/model/describe/default/${again.body.ModelHash}`)).body.Description.Name, 'Teste notebook Sync');
      const cases: Array<[Part[], RegExp]> = [
        [modelParts('m', 'Sync').filter(([f]) => f !== 'model'), /"model" file/],
        [modelParts('m', 'Sync').map((p) => (p[0] === 'python_version' ? ['python_version', 'Python27'] : p)), /python_version: "Python27"/],
        [modelParts('m', 'Sync').map((p) => (p[0] === 'operation' ? ['operation', 'Batch'] : p)), /operation must be Sync or Async/],
        [modelParts('m', 'Sync').map((p) => (p[0] === 'input_type' ? ['input_type', 'csv'] : p)), /input_type: a Sync model takes json/],
        [modelParts('x'.repeat(40), 'Sync'), /under 32/],
        [modelParts('m', 'Sync').map((p) => (p[0] === 'source' ? ['source', 'x', 'app.txt'] : p)), /\.py or \.ipynb/],
      ];
      for (const [parts, message] of cases) {
        const r = await upload('default', parts);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(r.body.Error.Message, message);
      }
    });

    test("a Codex login's token is the user JWT: a viewer reads models, uploading needs an editor (403)", async () => {
      assert.equal((await http(s.url, 'POST', '/api/v1/users', { token: s.adminToken, body: { username: 'ana', password: 'ana-password' } })).status, 201);
      const member = await http(s.url, 'PUT', '/api/v1/groups/default/members/ana', { token: s.adminToken, body: { role: 'viewer' } });
      assert.ok(member.status < 300, member.text);
      const login = await http(s.url, 'POST', '/codex/api/login', {
        rawBody: new URLSearchParams({ user: 'ana', password: 'ana-password', tenant: 'forja' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(login.status, 200, login.text);
      const jwt = login.body.Token as string;
      const described = await call('GET', `/model/describe/default/${asyncHash}`, { token: jwt });
      assert.equal(described.status, 200, described.text);
      assert.equal(described.body.Description.Name, 'Teste notebook Async');
      assert.equal((await call('GET', '/model/search?group=default', { token: jwt })).body.Count > 0, true);
      const up = await upload('default', modelParts('Viewer model', 'Sync'), jwt);
      assert.equal(up.status, 403);
      assert.match(up.body.Error.Message, /viewer/);
      assert.equal((await call('GET', '/model/search?group=other', { token: jwt })).body.Count, 0, 'a group she is not in shows nothing');
    });

    test('restart rebuilds, disable makes it Disabled, delete leaves a describable Deleted model', async () => {
      assert.equal((await call('GET', `/model/restart/default/${syncHash}`)).status, 200);
      assert.equal((await settle('default', syncHash)).Status, 'Deployed');
      assert.equal((await call('POST', `/model/disable/default/${syncHash}`)).status, 200);
      assert.equal((await call('GET', `/model/status/default/${syncHash}`)).body.Status, 'Disabled');
      const disabledHealth = await call('GET', `/model/sync/health/default/${syncHash}`, { token: groupToken });
      assert.match(disabledHealth.body.Message, /Disabled/);
      const deleted = await call('DELETE', `/model/delete/default/${syncHash}`);
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal((await call('GET', `/model/status/default/${syncHash}`)).body.Status, 'Deleted');
      const described = await call('GET', `/model/describe/default/${syncHash}`);
      assert.equal(described.status, 200);
      assert.equal(described.body.Description.Status, 'Deleted');
      assert.equal(described.body.Description.Name, 'Teste notebook Sync');
      assert.equal((await call('GET', `/model/sync/health/default/${syncHash}`, { token: groupToken })).status, 404);
      assert.equal((await call('DELETE', `/model/delete/default/${syncHash}`)).status, 404);
    });
  });
}
