import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`artifacts on ${dialect}`, () => {
    let s: TestServer;
    let exp: string;
    let runId: string;
    const auth = () => ({ authorization: `Bearer ${s.adminToken}` });
    const call = (method: string, p: string, body?: unknown) => http(s.url, method, p, { token: s.adminToken, body });
    const put = (p: string, body: string | Buffer, headers: Record<string, string> = {}) =>
      fetch(s.url + p, {
        method: 'PUT',
        headers: { ...auth(), ...headers },
        body: (typeof body === 'string' ? body : new Uint8Array(body)) as RequestInit['body'],
      });

    before(async () => {
      s = await startTestServer({ dialect });
      exp = (await call('POST', '/api/v1/experiments', { name: 'arts' })).body.experimentId;
      runId = (await call('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
    });
    after(() => s.close());

    test('MLflow artifact proxy: PUT streams a file in, GET streams it out, list and delete', async () => {
      const base = `/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts`;
      assert.equal((await put(`${base}/config/params.json`, '{"a":1}', { 'content-type': 'application/json' })).status, 200);
      assert.equal((await put(`${base}/model.bin`, Buffer.alloc(3 * 1024 * 1024, 7), { 'content-type': 'application/octet-stream' })).status, 200);
      const got = await fetch(`${s.url}${base}/config/params.json`, { headers: auth() });
      assert.equal(got.status, 200);
      assert.equal(await got.text(), '{"a":1}');
      assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
      const big = await fetch(`${s.url}${base}/model.bin`, { headers: auth() });
      assert.equal((await big.arrayBuffer()).byteLength, 3 * 1024 * 1024);
      const list = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${exp}/${runId}/artifacts`);
      assert.deepEqual(list.body.files, [
        { path: 'config', is_dir: true },
        { path: 'model.bin', is_dir: false, file_size: 3 * 1024 * 1024 },
      ]);
      const runList = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=config`);
      assert.deepEqual(runList.body.files, [{ path: 'config/params.json', is_dir: false, file_size: 7 }]);
      assert.equal((await fetch(`${s.url}${base}/model.bin`, { method: 'DELETE', headers: auth() })).status, 200);
      assert.equal((await fetch(`${s.url}${base}/model.bin`, { headers: auth() })).status, 404);
    });

    test('native run artifacts: upload, list, download', async () => {
      assert.equal((await put(`/api/v1/runs/${runId}/artifacts/file?path=plots/a.txt`, 'hello')).status, 200);
      const list = await call('GET', `/api/v1/runs/${runId}/artifacts?path=plots`);
      assert.deepEqual(list.body.files, [{ path: 'plots/a.txt', isDir: false, size: 5 }]);
      assert.equal(list.body.rootUri, `mlflow-artifacts:/${exp}/${runId}/artifacts`);
      const file = await fetch(`${s.url}/api/v1/runs/${runId}/artifacts/file?path=plots/a.txt`, { headers: auth() });
      assert.equal(await file.text(), 'hello');
    });

    test('a file named outside Latin-1 downloads under its own name, not as a 500', async () => {
      const name = '模型 "v2" 😀.txt';
      const rel = `named/${encodeURIComponent(name)}`;
      assert.equal((await put(`/api/v1/runs/${runId}/artifacts/file?path=${rel}`, 'hello')).status, 200);
      for (const url of [`/api/v1/runs/${runId}/artifacts/file?path=${rel}`, `/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/${rel}`]) {
        const file = await fetch(s.url + url, { headers: auth() });
        assert.equal(file.status, 200, url);
        assert.equal(await file.text(), 'hello');
        const disposition = file.headers.get('content-disposition')!;
        assert.match(disposition, /^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
        assert.equal(decodeURIComponent(disposition.split("UTF-8''")[1]!), name);
      }
    });

    test('paths with .., absolute paths and symlinks that lead outside are 400s', async () => {
      for (const p of [
        `/api/v1/runs/${runId}/artifacts/file?path=../../etc/passwd`,
        `/api/v1/runs/${runId}/artifacts/file?path=/etc/passwd`,
        `/api/v1/runs/${runId}/artifacts?path=a/../../..`,
      ]) {
        const r = await call('GET', p);
        assert.equal(r.status, 400, p);
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      }
      const percent = await put(`/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/odd/a%25b%20c.txt`, 'odd name');
      assert.equal(percent.status, 200, 'a file name with % and a space is stored as named');
      assert.deepEqual(
        (await call('GET', `/api/v1/runs/${runId}/artifacts?path=odd`)).body.files.map((f: { path: string }) => f.path),
        ['odd/a%b c.txt'],
      );
      const encoded = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/..%2F..%2Fsecret.txt`, { method: 'PUT', headers: auth(), body: 'x' });
      assert.equal(encoded.status, 400);
      assert.equal(((await encoded.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
      const runDir = path.join(s.dataDir, 'artifacts', exp, runId, 'artifacts');
      mkdirSync(runDir, { recursive: true });
      const outside = path.join(s.dataDir, 'outside');
      mkdirSync(outside, { recursive: true });
      writeFileSync(path.join(outside, 'secret.txt'), 'secret');
      symlinkSync(outside, path.join(runDir, 'escape'));
      const viaLink = await call('GET', `/api/v1/runs/${runId}/artifacts/file?path=escape/secret.txt`);
      assert.equal(viaLink.status, 400);
      assert.match(viaLink.body.error.message, /outside the artifact store/);
      assert.equal((await put(`/api/v1/runs/${runId}/artifacts/file?path=escape/new.txt`, 'x')).status, 400);
      assert.equal(existsSync(path.join(outside, 'new.txt')), false);
    });

    test('a truncated upload leaves no partial file behind', async () => {
      const { hostname, port } = new URL(s.url);
      const socket = net.connect(Number(port), hostname);
      await once(socket, 'connect');
      socket.write(
        `PUT /api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`,
      );
      socket.write(Buffer.alloc(5000, 1));
      await new Promise((r) => setTimeout(r, 200));
      socket.destroy();
      await new Promise((r) => setTimeout(r, 300));
      const missing = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/cut.bin`, { headers: auth() });
      assert.equal(missing.status, 404);
      const tmp = path.join(s.dataDir, 'artifacts', '.uploads');
      assert.deepEqual(existsSync(tmp) ? readdirSync(tmp).filter((f) => f !== 'chunked') : [], [], 'the temporary file is cleaned up');
    });

    test('resumable chunked upload: wrong offset is a 409 with the current offset, nothing visible until complete, checksum verified', async () => {
      const data = Buffer.alloc(2_500_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
      const sha = createHash('sha256').update(data).digest('hex');
      const start = await call('POST', `/api/v1/runs/${runId}/uploads`, { path: 'big/data.bin', size: data.length });
      assert.equal(start.status, 201);
      const id = start.body.uploadId;
      const chunk = 1_000_000;
      assert.equal((await put(`/api/v1/uploads/${id}?offset=0`, data.subarray(0, chunk))).status, 200);
      const wrong = await put(`/api/v1/uploads/${id}?offset=0`, data.subarray(0, chunk));
      assert.equal(wrong.status, 409);
      assert.equal(((await wrong.json()) as { error: { details: { received: number } } }).error.details.received, chunk);
      assert.equal((await call('GET', `/api/v1/uploads/${id}`)).body.received, chunk);
      const early = await call('POST', `/api/v1/uploads/${id}/complete`, {});
      assert.equal(early.status, 400);
      assert.match(early.body.error.message, /1000000 of 2500000 bytes/);
      assert.equal((await call('GET', `/api/v1/runs/${runId}/artifacts?path=big`)).body.files.length, 0, 'nothing visible before complete');
      for (let off = chunk; off < data.length; off += chunk)
        assert.equal((await put(`/api/v1/uploads/${id}?offset=${off}`, data.subarray(off, off + chunk))).status, 200);
      const badSum = await call('POST', `/api/v1/uploads/${id}/complete`, { sha256: '0'.repeat(64) });
      assert.equal(badSum.status, 400);
      const done = await call('POST', `/api/v1/uploads/${id}/complete`, { sha256: sha });
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.size, data.length);
      const back = Buffer.from(await (await fetch(`${s.url}/api/v1/runs/${runId}/artifacts/file?path=big/data.bin`, { headers: auth() })).arrayBuffer());
      assert.equal(createHash('sha256').update(back).digest('hex'), sha);
      assert.equal((await call('GET', `/api/v1/uploads/${id}`)).status, 404, 'the upload is gone once complete');
      assert.equal((await call('GET', '/api/v1/uploads/..%2F..%2Fetc')).status, 400);
    });

    test('a chunk cut off mid-way is rolled back, so the upload resumes from the last whole chunk', async () => {
      const start = await call('POST', `/api/v1/runs/${runId}/uploads`, { path: 'resume/file.bin', size: 300_000 });
      const id = start.body.uploadId;
      assert.equal((await put(`/api/v1/uploads/${id}?offset=0`, Buffer.alloc(100_000, 1))).status, 200);
      const { hostname, port } = new URL(s.url);
      const socket = net.connect(Number(port), hostname);
      await once(socket, 'connect');
      socket.write(
        `PUT /api/v1/uploads/${id}?offset=100000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`,
      );
      socket.write(Buffer.alloc(40_000, 2));
      await new Promise((r) => setTimeout(r, 200));
      socket.destroy();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await call('GET', `/api/v1/uploads/${id}`)).body.received, 100_000);
      assert.equal((await put(`/api/v1/uploads/${id}?offset=100000`, Buffer.alloc(200_000, 3))).status, 200);
      const done = await call('POST', `/api/v1/uploads/${id}/complete`, {});
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.size, 300_000);
    });

    test('permanent delete removes a deleted run and an experiment with their artifacts; an active one is refused', async () => {
      const e = (await call('POST', '/api/v1/experiments', { name: 'to-purge' })).body.experimentId;
      const r = (await call('POST', '/api/v1/runs', { experimentId: e })).body.info.runId;
      await put(`/api/v1/runs/${r}/artifacts/file?path=x.txt`, 'x');
      const active = await call('DELETE', `/api/v1/runs/${r}?permanent=true`);
      assert.equal(active.status, 409);
      assert.match(active.body.error.message, /delete it first/);
      await call('DELETE', `/api/v1/runs/${r}`);
      assert.equal((await call('DELETE', `/api/v1/runs/${r}?permanent=true`)).status, 200);
      assert.equal((await call('GET', `/api/v1/runs/${r}`)).status, 404);
      assert.equal(existsSync(path.join(s.dataDir, 'artifacts', e, r)), false);
      await call('DELETE', `/api/v1/experiments/${e}`);
      assert.equal((await call('DELETE', `/api/v1/experiments/${e}?permanent=true`)).status, 200);
      assert.equal((await call('GET', `/api/v1/experiments/${e}`)).status, 404);
    });

    test("deleting an experiment or run for good removes only the folder Forja gave it, never another group's", async () => {
      // The victim: an experiment of another group with a file in its folder.
      await call('POST', '/api/v1/groups', { name: 'victims' });
      const victims = (method: string, p: string, body?: unknown) =>
        http(s.url, method, p, { token: s.adminToken, body, headers: { 'x-forja-group': 'victims' } });
      const victimExp = (await victims('POST', '/api/v1/experiments', { name: 'precious' })).body.experimentId;
      const victimRun = (await victims('POST', '/api/v1/runs', { experimentId: victimExp })).body.info.runId;
      assert.equal((await put(`/api/v1/runs/${victimRun}/artifacts/file?path=model.pkl`, 'weights')).status, 200);
      const victimFile = path.join(s.dataDir, 'artifacts', victimExp, victimRun, 'artifacts', 'model.pkl');
      assert.ok(existsSync(victimFile));
      // Rows written before locations were assigned may point at any folder: make one point at the victim's.
      const e = (await call('POST', '/api/v1/experiments', { name: 'pointing-elsewhere' })).body.experimentId;
      const r = (await call('POST', '/api/v1/runs', { experimentId: e })).body.info.runId;
      const db = s.server.services.db.kysely;
      await db
        .updateTable('experiments')
        .set({ artifact_location: `mlflow-artifacts:/${victimExp}` })
        .where('id', '=', e)
        .execute();
      await db
        .updateTable('runs')
        .set({ artifact_uri: `mlflow-artifacts:/${victimExp}/${victimRun}/artifacts` })
        .where('id', '=', r)
        .execute();
      await call('DELETE', `/api/v1/runs/${r}`);
      assert.equal((await call('DELETE', `/api/v1/runs/${r}?permanent=true`)).status, 200);
      await call('DELETE', `/api/v1/experiments/${e}`);
      assert.equal((await call('DELETE', `/api/v1/experiments/${e}?permanent=true`)).status, 200);
      assert.ok(existsSync(victimFile), "the other group's artifacts are still there");
      assert.equal((await victims('GET', `/api/v1/runs/${victimRun}/artifacts`)).body.files.length, 1);
    });

    test('uploads without a body: an empty file, a 409 at the wrong offset, a 400 without a path (never a 500)', async () => {
      const bare = (p: string) => fetch(s.url + p, { method: 'PUT', headers: auth() });
      const noPath = await bare(`/api/v1/runs/${runId}/artifacts/file`);
      assert.equal(noPath.status, 400);
      assert.match(((await noPath.json()) as { error: { message: string } }).error.message, /Name the file to upload with \?path=/);
      const empty = await bare(`/api/v1/runs/${runId}/artifacts/file?path=empty/marker.txt`);
      assert.equal(empty.status, 200, await empty.clone().text());
      assert.deepEqual(await empty.json(), { path: 'empty/marker.txt', size: 0 });
      assert.equal((await bare(`/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/empty/proxy.txt`)).status, 200);
      assert.deepEqual(
        (await call('GET', `/api/v1/runs/${runId}/artifacts?path=empty`)).body.files.map((f: { path: string; size: number }) => [f.path, f.size]),
        [
          ['empty/marker.txt', 0],
          ['empty/proxy.txt', 0],
        ],
      );
      const id = (await call('POST', `/api/v1/runs/${runId}/uploads`, { path: 'chunks/none.bin', size: 10 })).body.uploadId;
      const wrongOffset = await bare(`/api/v1/uploads/${id}?offset=5`);
      assert.equal(wrongOffset.status, 409);
      assert.equal(((await wrongOffset.json()) as { error: { details: { received: number } } }).error.details.received, 0);
      const nothing = await bare(`/api/v1/uploads/${id}?offset=0`);
      assert.equal(nothing.status, 200);
      assert.equal(((await nothing.json()) as { received: number }).received, 0);
    });

    test("another group's artifacts are 404", async () => {
      await call('POST', '/api/v1/users', { username: 'stranger', password: 'stranger-password' });
      await call('DELETE', '/api/v1/groups/default/members/stranger');
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'stranger', password: 'stranger-password' } })).body.token;
      const r = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/config/params.json`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(r.status, 404);
      assert.equal((await http(s.url, 'GET', `/api/v1/runs/${runId}/artifacts`, { token })).status, 404);
    });
  });
}
