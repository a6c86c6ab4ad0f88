import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const SCORER = `
import json, os

with open(os.path.join(os.environ["BASE_PATH"], os.environ["modelFileName"])) as f:
    WEIGHTS = json.load(f)

def score(data, base_path):
    # Neomaril's contract: the server unwraps {"Input": …}, the scorer sees rows or one row.
    req = json.loads(data)
    rows = req if isinstance(req, list) else [req]
    out = []
    for r in rows:
        if r["income"] < 0:
            raise ValueError("income must be positive")
        if r["income"] == 666:
            os._exit(3)
        out.append(WEIGHTS["a"] * r["income"] + WEIGHTS["b"] * r["age"])
    print("scored", len(out), "rows")
    return {"scores": out, "has_secret": os.environ.get("API_TOKEN") == "s3cret"}
`;

type Part = { field: string; name: string; content: string | Uint8Array };

/** A valid zip of one deflated file whose headers then claim another uncompressed size. */
function lyingZip(declaredSize: number): Buffer {
  const zip = execFileSync('python3', [
    '-c',
    'import io, sys, zipfile\nb = io.BytesIO()\nwith zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:\n    z.writestr("data/lookup.json", "{\\"k\\": " + "1" * 500 + "}")\nsys.stdout.buffer.write(b.getvalue())\n',
  ]);
  // The uncompressed size sits 22 bytes into the local header (PK\x03\x04) and 24 into the central one (PK\x01\x02).
  zip.writeUInt32LE(declaredSize, zip.indexOf('PK\x03\x04', 0, 'latin1') + 22);
  zip.writeUInt32LE(declaredSize, zip.indexOf('PK\x01\x02', 0, 'latin1') + 24);
  return zip;
}

function form(fields: Record<string, string>, files: Part[]): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of files) fd.append(f.field, new Blob([typeof f.content === 'string' ? f.content : new Uint8Array(f.content)]), f.name);
  return fd;
}

const scriptFiles = (extra: Part[] = []): Part[] => [
  { field: 'source', name: 'scorer.py', content: SCORER },
  { field: 'model', name: 'model.json', content: JSON.stringify({ a: 0.001, b: 0.5 }) },
  { field: 'schema', name: 'schema.json', content: JSON.stringify({ income: 5000, age: 40 }) },
  { field: 'env', name: 'secrets.env', content: '# for the scorer\nAPI_TOKEN="s3cret"\n' },
  ...extra,
];

for (const dialect of DIALECTS) {
  describe(`deployments on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, p: string, body?: unknown, token?: string) => http(s.url, method, p, { token: token ?? s.adminToken, body });
    const upload = (fields: Record<string, string>, files: Part[]) =>
      fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: form(fields, files) }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as any }),
      );
    const predict = (id: string, body: unknown, token = s.adminToken) => http(s.url, 'POST', `/api/v1/deployments/${id}/predict`, { token, body });
    const built = async (jobId: string) => {
      const job = await call('GET', `/api/v1/jobs/${jobId}?waitSeconds=60`);
      assert.ok(['succeeded', 'failed'].includes(job.body.status), JSON.stringify(job.body));
      return job.body;
    };

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.close());

    test('a script model: uploaded, built, called with a user or group token; secrets stay secret', async () => {
      const created = await upload({ name: 'credit', settings: JSON.stringify({ maxWorkers: 1 }) }, scriptFiles());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const dep = created.body.deployment;
      assert.equal(dep.status, 'Building');
      assert.equal(dep.hasSecrets, true);
      const job = await built(created.body.buildJobId);
      assert.equal(job.status, 'succeeded', job.error);
      const logs = (await call('GET', `/api/v1/jobs/${job.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.ok(
        logs.some((l: string) => l.startsWith('Test call on the schema sample answered: {"scores": [25.0]')),
        logs.join('\n'),
      );
      const shown = await call('GET', `/api/v1/deployments/${dep.id}`);
      assert.equal(shown.body.status, 'Deployed');
      assert.ok(!shown.text.includes('s3cret'));

      const res = await predict(dep.id, {
        Input: [
          { income: 1000, age: 30 },
          { income: 2000, age: 50 },
        ],
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { scores: [16, 27], has_secret: true });
      assert.deepEqual((await predict(dep.id, { income: 1000, age: 30 })).body.scores, [16]);

      const tok = await call('POST', '/api/v1/tokens', { name: `scoring-${dialect}`, kind: 'group', group: 'default' });
      assert.equal((await predict(dep.id, { income: 1000, age: 30 }, tok.body.secret)).status, 200);
      await call('POST', '/api/v1/groups', { name: `others-${dialect}` });
      const foreign = await call('POST', '/api/v1/tokens', { name: 'foreign', kind: 'group', group: `others-${dialect}` });
      const denied = await predict(dep.id, { income: 1000, age: 30 }, foreign.body.secret);
      assert.equal(denied.status, 404, 'a group token of another group does not see the deployment');

      const code = await call('GET', `/api/v1/deployments/${dep.id}/code`);
      assert.match(code.body.curl, new RegExp(`/api/v1/deployments/${dep.id}/predict`));
      assert.match(code.body.python, /"income": 5000/);
      const doc = (await call('GET', `/api/v1/deployments/${dep.id}/openapi.json`)).body;
      assert.equal(doc.openapi, '3.0.3');
      assert.deepEqual(doc.components.schemas.Row.required, ['income', 'age']);
      assert.equal(doc.components.schemas.Row.properties.income.type, 'number');
      const op = doc.paths[`/api/v1/deployments/${dep.id}/predict`].post;
      assert.deepEqual(op.requestBody.content['application/json'].example, { income: 5000, age: 40 });
      assert.ok(op.responses['422'] && op.responses['503']);
    });

    test('a preprocessing script chained before the scorer', async () => {
      const pre =
        'import json\n\ndef preprocess(data, base_path):\n    rows = json.loads(data)\n    rows = rows if isinstance(rows, list) else [rows]\n    return [{"income": r["income_k"] * 1000, "age": r["age"]} for r in rows]\n';
      const files = scriptFiles().filter((f) => f.field !== 'schema');
      const bad = await upload({ name: 'credit-pre-bad' }, [...files, { field: 'preprocess', name: 'pre.txt', content: pre }]);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /preprocess\(data, base_path\)/);
      const created = await upload({ name: 'credit-pre' }, [
        ...files,
        { field: 'preprocess', name: 'pre.py', content: pre },
        { field: 'schema', name: 'schema.json', content: JSON.stringify({ income_k: 5, age: 40 }) },
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await built(created.body.buildJobId)).status, 'succeeded');
      const res = await predict(created.body.deployment.id, { income_k: 1, age: 30 });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.scores, [16]);
      assert.ok(created.body.deployment.files.some((f: { role: string; name: string }) => f.role === 'preprocess' && f.name === 'pre.py'));
    });

    test('extra files in a zip unpack with their folders; a zip with a path outside its folder is refused', async () => {
      const zips = execFileSync('python3', [
        '-c',
        'import base64, io, sys, zipfile\nfor names in (["data/lookup.json"], ["ok.txt", "../evil.py"], ["/etc/passwd"]):\n    b = io.BytesIO()\n    with zipfile.ZipFile(b, "w") as z:\n        [z.writestr(n, "{}") for n in names]\n    print(base64.b64encode(b.getvalue()).decode())\n',
      ])
        .toString()
        .trim()
        .split('\n')
        .map((line) => Buffer.from(line, 'base64'));
      const withZip = (name: string, zip: Buffer) => upload({ name }, [...scriptFiles(), { field: 'extra', name: 'bundle.zip', content: new Uint8Array(zip) }]);
      const good = await withZip('credit-zip', zips[0]!);
      assert.equal(good.status, 201, JSON.stringify(good.body));
      assert.ok(good.body.deployment.files.some((f: { name: string; role: string }) => f.name === 'data/lookup.json' && f.role === 'extra'));
      assert.ok(!good.body.deployment.files.some((f: { name: string }) => f.name === 'bundle.zip'));
      assert.equal((await built(good.body.buildJobId)).status, 'succeeded');
      for (const [i, zip] of [zips[1]!, zips[2]!].entries()) {
        const bad = await withZip(`credit-zip-bad-${i}`, zip);
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        assert.match(bad.body.error.message, /a path outside its folder/);
      }
      // A zip whose entry declares a size other than what it unpacks to (patched in its headers) is damaged: a 400, not a 500.
      for (const [i, declared] of [4, 100_000].entries()) {
        const lying = lyingZip(declared);
        const bad = await withZip(`credit-zip-lying-${i}`, lying);
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        assert.match(bad.body.error.message, /"bundle\.zip" is damaged: its entry "data\/lookup\.json" cannot be unpacked/);
      }
      assert.equal((await call('GET', '/api/v1/deployments')).body.items.filter((d: { name: string }) => d.name.startsWith('credit-zip-lying')).length, 0);
      assert.equal((await call('DELETE', `/api/v1/deployments/${good.body.deployment.id}`)).status, 200);
    });

    test("limits: a worker past its CPU time is replaced (503, then the next call works); too many open files is the model's error; a notebook source", async () => {
      const limits = [
        'import json, os',
        '',
        'def score(data, base_path):',
        '    req = json.loads(data)',
        '    if req.get("burn"):',
        '        while True:',
        '            pass',
        '    if req.get("files"):',
        '        held = [open(os.devnull) for _ in range(200)]',
        '        return {"opened": len(held)}',
        '    return {"ok": True}',
      ].join('\n');
      const created = await upload({ name: 'limits', settings: JSON.stringify({ cpuSeconds: 2, maxFiles: 64, maxWorkers: 1, timeoutMs: 20_000 }) }, [
        { field: 'source', name: 'limits.py', content: limits },
        { field: 'schema', name: 'schema.json', content: JSON.stringify({ burn: false }) },
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await built(created.body.buildJobId)).status, 'succeeded');
      const id = created.body.deployment.id;
      assert.deepEqual(created.body.deployment.settings.cpuSeconds, 2);
      const burnt = await predict(id, { burn: true });
      assert.equal(burnt.status, 503, burnt.text);
      assert.match(burnt.body.error.message, /killed/);
      assert.deepEqual((await predict(id, { burn: false })).body, { ok: true });
      const files = await predict(id, { burn: false, files: true });
      assert.equal(files.status, 422, files.text);
      assert.match(files.body.error.message, /OSError: \[Errno 24\] Too many open files/);

      // A notebook's code cells become the scorer (shell and magic lines dropped).
      const nb = {
        cells: [
          { cell_type: 'markdown', source: ['# credit'] },
          { cell_type: 'code', source: ['!pip install nothing\n', 'def score(data, base_path):\n', '    return {"echo": data}\n'] },
        ],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5,
      };
      const fromNotebook = await upload({ name: 'notebook' }, [
        { field: 'source', name: 'scorer.ipynb', content: JSON.stringify(nb) },
        { field: 'schema', name: 'schema.json', content: '{"a": 1}' },
      ]);
      assert.equal(fromNotebook.status, 201, JSON.stringify(fromNotebook.body));
      assert.equal((await built(fromNotebook.body.buildJobId)).status, 'succeeded');
      assert.deepEqual((await predict(fromNotebook.body.deployment.id, { a: 2 })).body, { echo: '{"a":2}' });
    });

    test('bad calls: schema violations 400, a raising scorer 422 with its exception, a crash 503 then recovery, disabled 409', async () => {
      const dep = (await call('GET', '/api/v1/deployments')).body.items.find((d: { name: string }) => d.name === 'credit');
      const missing = await predict(dep.id, { income: 1000 });
      assert.equal(missing.status, 400);
      assert.match(missing.body.error.message, /Row 0: field "age" is missing/);
      const wrongType = await predict(dep.id, [{ income: 'lots', age: 3 }]);
      assert.equal(wrongType.status, 400);
      assert.match(wrongType.body.error.message, /field "income" should be a number, not a string/);
      const malformed = await http(s.url, 'POST', `/api/v1/deployments/${dep.id}/predict`, {
        token: s.adminToken,
        rawBody: '{"income":',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(malformed.status, 400);

      const raised = await predict(dep.id, { income: -5, age: 30 });
      assert.equal(raised.status, 422);
      assert.equal(raised.body.error.code, 'MODEL_ERROR');
      assert.equal(raised.body.error.message, 'The model raised ValueError: income must be positive');
      assert.ok(!raised.text.includes('Traceback'), 'the traceback stays in the deployment log');

      const crashed = await predict(dep.id, { income: 666, age: 30 });
      assert.equal(crashed.status, 503);
      assert.match(crashed.body.error.message, /worker exited with code 3/);
      assert.equal(crashed.headers.get('retry-after'), '1');
      assert.equal((await predict(dep.id, { income: 1000, age: 30 })).status, 200, 'a new worker answers the next call');

      const log = (await call('GET', `/api/v1/deployments/${dep.id}/logs`)).body.runtime;
      assert.match(log, /scored 1 rows/);
      assert.match(log, /Traceback[\s\S]*ValueError: income must be positive/);

      assert.equal((await call('POST', `/api/v1/deployments/${dep.id}/disable`)).body.status, 'Disabled');
      const disabled = await predict(dep.id, { income: 1000, age: 30 });
      assert.equal(disabled.status, 409);
      assert.match(disabled.body.error.message, /disabled/);
      assert.equal((await call('POST', `/api/v1/deployments/${dep.id}/enable`)).body.status, 'Deployed');
      assert.equal((await predict(dep.id, { income: 1000, age: 30 })).status, 200);
      const csv = await http(s.url, 'POST', `/api/v1/deployments/${dep.id}/predict`, {
        token: s.adminToken,
        rawBody: 'a,b\n1,2\n',
        headers: { 'content-type': 'text/xml' },
      });
      assert.equal(csv.status, 415);
      const huge = await http(s.url, 'POST', `/api/v1/deployments/${dep.id}/predict`, {
        token: s.adminToken,
        rawBody: Buffer.alloc(51 * 1024 * 1024, 32),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(huge.status, 413);
    });

    test('builds that must fail: requirements that cannot install, a malicious pickle', async () => {
      const badReq = await upload(
        { name: 'bad-reqs' },
        scriptFiles([{ field: 'requirements', name: 'requirements.txt', content: 'this-package-does-not-exist-forja==1.0\n' }]),
      );
      assert.equal(badReq.status, 201, JSON.stringify(badReq.body));
      const job = await built(badReq.body.buildJobId);
      assert.equal(job.status, 'failed');
      const dep = (await call('GET', `/api/v1/deployments/${badReq.body.deployment.id}`)).body;
      assert.equal(dep.status, 'Failed');
      assert.match(dep.message, /The requirements could not be installed:[\s\S]*this-package-does-not-exist-forja was not found in the package registry/);
      const notReady = await predict(dep.id, { income: 1, age: 2 });
      assert.equal(notReady.status, 409);
      assert.match(notReady.body.error.message, /failed to build/);

      // The schema sample makes the scorer raise: Failed with the reason, and the server keeps going.
      const raising = await upload({ name: 'raises-on-sample' }, [
        { field: 'source', name: 'scorer.py', content: 'def score(data, base_path):\n    raise ValueError("no")\n' },
        { field: 'schema', name: 'schema.json', content: '{"x": 1}' },
      ]);
      assert.equal((await built(raising.body.buildJobId)).status, 'failed');
      const raisingDep = (await call('GET', `/api/v1/deployments/${raising.body.deployment.id}`)).body;
      assert.equal(raisingDep.message, 'The test call on the schema sample failed: ValueError: no');
      assert.equal((await call('GET', '/api/v1/version')).status, 200);

      // A pickle whose unpickling would run os.system (protocol 0, written by hand).
      const evil = Buffer.from("cposix\nsystem\n(S'echo pwned'\ntR.", 'latin1');
      const mal = await upload({ name: 'evil', kind: 'pickle' }, [{ field: 'model', name: 'model.pkl', content: evil }]);
      assert.equal(mal.status, 201);
      assert.equal((await built(mal.body.buildJobId)).status, 'failed');
      const evilDep = (await call('GET', `/api/v1/deployments/${mal.body.deployment.id}`)).body;
      assert.match(evilDep.message, /did not pass the safety scan: model\.pkl: the pickle imports posix\.system/);
      // subprocess.getoutput was never on a deny-list; the allow-list refuses it like anything else it does not name.
      const getoutput = Buffer.from("csubprocess\ngetoutput\n(S'id'\ntR.", 'latin1');
      const sneaky = await upload({ name: 'evil-getoutput', kind: 'pickle' }, [{ field: 'model', name: 'model.pkl', content: getoutput }]);
      const sneakyJob = await built(sneaky.body.buildJobId);
      assert.equal(sneakyJob.status, 'failed');
      const sneakyDep = (await call('GET', `/api/v1/deployments/${sneaky.body.deployment.id}`)).body;
      assert.match(sneakyDep.message, /model\.pkl: the pickle imports subprocess\.getoutput, which runs commands or code/);
      const log = (await call('GET', `/api/v1/jobs/${sneakyJob.id}/logs`)).body.lines.map((l: { line: string }) => l.line);
      assert.ok(
        log.some((l: string) => /^Safety scan: 1 error\(s\), 0 warning\(s\)\. The safety scan is advisory/.test(l)),
        log.join('\n'),
      );
      assert.equal((await call('DELETE', `/api/v1/deployments/${sneaky.body.deployment.id}`)).status, 200);
    });

    test('bad uploads are refused with the reason, and nothing is left behind', async () => {
      const traversal = await upload({ name: 'sneaky' }, scriptFiles([{ field: 'extra', name: '../../etc/passwd', content: 'x' }]));
      assert.equal(traversal.status, 400);
      assert.match(traversal.body.error.message, /Invalid file name/);
      const hidden = await upload({ name: 'sneaky' }, scriptFiles([{ field: 'extra', name: '.bashrc', content: 'x' }]));
      assert.equal(hidden.status, 400);
      const noSource = await upload({ name: 'nosource' }, [{ field: 'model', name: 'model.json', content: '{}' }]);
      assert.equal(noSource.status, 400);
      assert.match(noSource.body.error.message, /needs its source file/);
      const unknownField = await upload({ name: 'x' }, [{ field: 'weights', name: 'w.bin', content: 'x' }]);
      assert.equal(unknownField.status, 400);
      assert.match(unknownField.body.error.message, /Unknown file field "weights"/);
      const badName = await upload({ name: '../x' }, scriptFiles());
      assert.equal(badName.status, 400);
      const badSettings = await upload({ name: 'x', settings: '{"maxWorkers": 0}' }, scriptFiles());
      assert.equal(badSettings.status, 400);
      const dup = await upload({ name: 'credit' }, scriptFiles());
      assert.equal(dup.status, 409);
      const json = await call('POST', '/api/v1/deployments', { name: 'x' });
      assert.equal(json.status, 415);
      assert.equal((await call('GET', '/api/v1/deployments/nope')).status, 404);
      const names = (await call('GET', '/api/v1/deployments')).body.items.map((d: { name: string }) => d.name).sort();
      assert.deepEqual(names, ['bad-reqs', 'credit', 'credit-pre', 'evil', 'limits', 'notebook', 'raises-on-sample']);
    });

    test('a broken form is a 400 that says so, never a 500 or a request left hanging', { timeout: 30_000 }, async () => {
      const post = (contentType: string, body: string) =>
        http(s.url, 'POST', '/api/v1/deployments', { token: s.adminToken, rawBody: body, headers: { 'content-type': contentType } });
      const noBoundary = await post('multipart/form-data', 'x');
      assert.equal(noBoundary.status, 400, noBoundary.text);
      assert.equal(noBoundary.body.error.code, 'MALFORMED_REQUEST');
      assert.match(noBoundary.body.error.message, /boundary/);
      const head = (name: string) =>
        `--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\ncut\r\n--XX\r\nContent-Disposition: form-data; name="source"; filename="${name}"\r\n\r\n`;
      // Small: the parser is done before the handler reads the file; large: it gives up while the file is being written.
      for (const [name, content] of [
        ['small.py', 'print(1)'],
        ['large.py', 'x'.repeat(4_000_000)],
      ] as const) {
        const cut = await post('multipart/form-data; boundary=XX', head(name) + content);
        assert.equal(cut.status, 400, `${name}: ${cut.text}`);
        assert.equal(cut.body.error.code, 'MALFORMED_REQUEST');
      }
      assert.ok(!(await call('GET', '/api/v1/deployments')).body.items.some((d: { name: string }) => d.name === 'cut'));
    });
  });
}
