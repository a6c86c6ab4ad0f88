import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServerProcess, tempDir } from './testing.js';

const TOKEN = 'execution-restart-admin-token';

test('kill -9 of the server mid-execution, then a restart: the execution completes once', { timeout: 180_000 }, async () => {
  const dataDir = tempDir('forja-exec-restart-');
  // Marks each start and each completion in the execution's own folder (the only place the sandboxed
  // scorer may write), which outlives the server, to count how often the scorer really ran.
  const scorer = `
import os, time
def score(data_path, model_path):
    marks = os.path.join(data_path, "marks.txt")
    with open(marks, "a") as f: f.write("start\\n")
    time.sleep(3)
    out = os.path.join(data_path, "out.txt")
    with open(out, "w") as f: f.write(open(os.path.join(data_path, os.environ["inputFileName"])).read().upper())
    with open(marks, "a") as f: f.write("done\\n")
    return out
`;
  const findMarks = () => {
    const found = (readdirSync(dataDir, { recursive: true }) as string[]).find((f) => path.basename(f) === 'marks.txt');
    return found ? path.join(dataDir, found) : undefined;
  };
  const env = { FORJA_DATA_DIR: dataDir, FORJA_ADMIN_PASSWORD: 'restart-password', FORJA_ADMIN_TOKEN: TOKEN };
  let server = await startServerProcess(env);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const post = async (url: string, p: string, fd: FormData) => (await fetch(`${url}${p}`, { method: 'POST', headers: auth, body: fd })).json() as Promise<any>;
  const get = async (url: string, p: string) => (await fetch(`${url}${p}`, { headers: auth })).json() as Promise<any>;
  try {
    const fd = new FormData();
    fd.append('name', 'slow');
    fd.append('operation', 'async');
    fd.append('source', new Blob([scorer]), 'scorer.py');
    const created = await post(server.url, '/api/v1/deployments', fd);
    const build = await get(server.url, `/api/v1/jobs/${created.buildJobId}?waitSeconds=60`);
    assert.equal(build.status, 'succeeded', build.error);
    const input = new FormData();
    input.append('input', new Blob(['hello']), 'in.txt');
    const exec = await post(server.url, `/api/v1/deployments/${created.deployment.id}/executions`, input);
    for (let i = 0; i < 100 && !findMarks(); i++) await new Promise((r) => setTimeout(r, 100));
    const marks = findMarks();
    assert.ok(marks, 'the scorer started');
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    // The scorer's watchdog notices its worker is gone and stops it within a second.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(readFileSync(marks, 'utf8'), 'start\n', 'the killed attempt never completed');

    server = await startServerProcess(env);
    let e: any;
    for (let i = 0; i < 150; i++) {
      e = await get(server.url, `/api/v1/deployments/${created.deployment.id}/executions/${exec.id}`);
      if (e.status === 'Succeeded' || e.status === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(e.status, 'Succeeded', JSON.stringify(e));
    assert.equal(readFileSync(marks, 'utf8'), 'start\nstart\ndone\n', 'run again once, completed once');
    const out = await fetch(`${server.url}/api/v1/deployments/${created.deployment.id}/executions/${exec.id}/result`, { headers: auth });
    assert.equal(await out.text(), 'HELLO');
    const job = await get(server.url, `/api/v1/jobs/${e.jobId}`);
    assert.equal(job.attempt, 2);
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit').catch(() => undefined);
  }
});
