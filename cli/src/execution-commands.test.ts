import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ForjaClient } from '@forja/client';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

// Neomaril's async contract: score(data_path, model_path) gets the input's folder, writes its output there and returns its path.
const SCORER = `
import os

def score(data_path, model_path):
    text = open(os.path.join(data_path, os.environ["inputFileName"])).read()
    if "boom" in text:
        raise ValueError("the input says boom")
    print("scoring", os.environ["inputFileName"])
    out = os.path.join(data_path, "shouted.txt")
    with open(out, "w") as f:
        f.write(text.upper())
    return out
`;

describe('forja executions against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  let dir: string;
  let depId: string;
  const cli = (args: string[]) => runCli(args, { env });
  const file = (name: string) => path.join(dir, name);
  const auth = () => ({ authorization: `Bearer ${s.adminToken}` });

  before(async () => {
    s = await startTestServer();
    dir = tempDir('forja-exec-cli-');
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(dir, 'c.json') };
    const fd = new FormData();
    fd.append('name', 'shouter');
    fd.append('operation', 'async');
    fd.append('source', new Blob([SCORER]), 'scorer.py');
    const res = await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: auth(), body: fd });
    const created = (await res.json()) as { deployment: { id: string }; buildJobId: string };
    assert.equal(res.status, 201, JSON.stringify(created));
    depId = created.deployment.id;
    const job = (await (await fetch(`${s.url}/api/v1/jobs/${created.buildJobId}?waitSeconds=60`, { headers: auth() })).json()) as {
      status: string;
      error: string;
    };
    assert.equal(job.status, 'succeeded', job.error);
  });
  after(() => s.close());

  test('run a file with --follow: the status changes, then the result downloaded', async () => {
    writeFileSync(file('words.txt'), 'hello\nworld\n');
    const out = file('result.txt');
    const r = await cli(['executions', 'run', depId, file('words.txt'), '--follow', '--out', out]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /^words\.txt: 0\.0 KiB in [\d.]+ s$/m, 'off a terminal the upload bar ends in a summary');
    assert.match(r.stderr, /^Execution (\w+) of deployment \w+ on words\.txt \(12 B\): Requested\.$/m);
    assert.match(r.stderr, /^Execution \w+: Succeeded$/m);
    const id = /^Execution (\w+): Succeeded$/m.exec(r.stderr)![1]!;
    assert.equal(r.stdout, `Execution ${id} succeeded: shouted.txt (12 B) written to ${out}.\n`);
    assert.equal(readFileSync(out, 'utf8'), 'HELLO\nWORLD\n');

    const ls = await cli(['executions', 'ls', depId]);
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /^ID\s+STATUS\s+INPUT\s+OUTPUT\s+CREATED\s+FINISHED\s+BY\s+MESSAGE$/m);
    assert.match(ls.stdout, new RegExp(`^${id}\\s+Succeeded\\s+words\\.txt \\(12 B\\)\\s+shouted\\.txt \\(12 B\\)\\s+\\S+Z\\s+\\S+Z\\s+admin$`, 'm'));
    const json = JSON.parse((await cli(['executions', 'ls', depId, '--json'])).stdout);
    assert.ok(json.some((e: { id: string; status: string }) => e.id === id && e.status === 'Succeeded'));

    const shown = await cli(['executions', 'show', depId, id]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^status\s+Succeeded$/m);
    assert.match(shown.stdout, /^input\s+words\.txt \(12 B\)$/m);
    assert.match(shown.stdout, /^output\s+shouted\.txt \(12 B\)$/m);
    const shownJson = JSON.parse((await cli(['executions', 'show', depId, id, '--json'])).stdout);
    assert.equal(shownJson.outputName, 'shouted.txt');
    assert.equal(shownJson.deploymentId, depId);

    const logs = await cli(['executions', 'logs', depId, id, '--follow']);
    assert.equal(logs.status, 0, logs.stderr);
    assert.match(logs.stdout, /scoring words\.txt/);
    assert.match(logs.stderr, new RegExp(`Execution ${id} Succeeded`));

    const again = await cli(['executions', 'download', depId, id, '--out', out]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /result\.txt exists: pass --force to overwrite it/);
    const forced = await cli(['executions', 'download', depId, id, '--out', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(forced.stdout, `shouted.txt (12 B) written to ${out}.\n`);
    assert.equal(readFileSync(out, 'utf8'), 'HELLO\nWORLD\n');
  });

  test('run without --follow prints the id; --json the execution', async () => {
    writeFileSync(file('small.txt'), 'abc');
    const r = await cli(['executions', 'run', depId, file('small.txt')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\w+\n$/);
    assert.match(r.stderr, /Follow it: forja executions show/);
    const j = await cli(['executions', 'run', depId, file('small.txt'), '--json']);
    assert.equal(j.status, 0, j.stderr);
    const e = JSON.parse(j.stdout);
    assert.equal(e.inputName, 'small.txt');
    assert.equal(e.inputSize, 3);
  });

  test('the client: execute a Blob, read it back, fetch the result', async () => {
    const client = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
    const started = await client.deployments.execute(depId, new Blob(['from a blob']), 'blob.txt');
    assert.equal(started.status, 'Requested');
    assert.equal(started.inputName, 'blob.txt');
    let e = started;
    for (let i = 0; i < 200 && e.status !== 'Succeeded' && e.status !== 'Failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      e = await client.deployments.execution(depId, started.id);
    }
    assert.equal(e.status, 'Succeeded', e.message ?? '');
    assert.ok((await client.deployments.executions(depId)).some((x) => x.id === e.id));
    const res = await client.deployments.executionResult(depId, e.id);
    assert.match(res.headers.get('content-disposition') ?? '', /filename="shouted\.txt"/);
    assert.equal(await res.text(), 'FROM A BLOB');
  });

  test('run on the rows of a lake table, as CSV', async () => {
    const seeded = await fetch(`${s.url}/api/v1/lake/tables/people/rows`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'text/csv' },
      body: 'id,name,age\n1,ann,31\n2,bob,45\n3,cy,22\n',
    });
    assert.equal(seeded.status, 201, await seeded.clone().text());
    const out = file('people-out.csv');
    const r = await cli([
      'executions',
      'run',
      depId,
      '--table',
      'people',
      '--filter',
      'age > 25',
      '--columns',
      'id, name',
      '--format',
      'csv',
      '--follow',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /on input\.csv \(\d+ B\): Requested\./);
    assert.match(r.stderr, /: Succeeded$/m);
    assert.equal(readFileSync(out, 'utf8').replace(/\r/g, ''), 'ID,NAME\n1,ANN\n2,BOB\n');

    const missing = await cli(['executions', 'run', depId, '--table', 'nosuchtable', '--format', 'csv']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nosuchtable.*\[NOT_FOUND, HTTP 404/);
  });

  test('a failing scorer: exit 1 with its message, and no result file', async () => {
    writeFileSync(file('bad.txt'), 'boom\n');
    const out = file('bad-out.txt');
    const r = await cli(['executions', 'run', depId, file('bad.txt'), '--follow', '--out', out]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^Execution \w+: Failed$/m);
    assert.match(r.stderr, /^Execution \w+ failed: .*the input says boom$/m);
    assert.equal(existsSync(out), false);
    const id = /^Execution (\w+): Failed$/m.exec(r.stderr)![1]!;
    const shown = await cli(['executions', 'show', depId, id]);
    assert.match(shown.stdout, /^status\s+Failed$/m);
    assert.match(shown.stdout, /Message:\n[\s\S]*the input says boom/);
    const dl = await cli(['executions', 'download', depId, id]);
    assert.equal(dl.status, 1);
    assert.match(dl.stderr, /Execution \w+ is Failed: .*the input says boom; it has a result once it has succeeded\./);
    const logs = await cli(['executions', 'logs', depId, id, '--follow']);
    assert.equal(logs.status, 1);
    assert.match(logs.stdout + logs.stderr, /the input says boom/);
  });

  test('bad input: an unknown deployment, a missing file, a file and --table together', async () => {
    writeFileSync(file('x.txt'), 'x');
    const unknown = await cli(['executions', 'run', 'nosuchdeployment', file('x.txt'), '--follow']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^forja: .*nosuchdeployment.* \[NOT_FOUND, HTTP 404/m);
    const ls = await cli(['executions', 'ls', 'nosuchdeployment']);
    assert.equal(ls.status, 1);
    assert.match(ls.stderr, /^forja: .*nosuchdeployment.* \[NOT_FOUND, HTTP 404/m);
    const show = await cli(['executions', 'show', depId, 'nosuchexecution']);
    assert.equal(show.status, 1);
    assert.match(show.stderr, /nosuchexecution.*\[NOT_FOUND, HTTP 404/);
    const noFile = await cli(['executions', 'run', depId, file('absent.csv')]);
    assert.equal(noFile.status, 1);
    assert.match(noFile.stderr, /absent\.csv is not a file/);
    const both = await cli(['executions', 'run', depId, file('x.txt'), '--table', 'people']);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /give a file or --table, not both/);
    const none = await cli(['executions', 'run', depId]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /give the input: a file, or --table TABLE/);
    const fmt = await cli(['executions', 'run', depId, '--table', 'people', '--format', 'xlsx']);
    assert.equal(fmt.status, 1);
    assert.match(fmt.stderr, /--format is csv or parquet, not "xlsx"/);
  });

  test('deployments settings: show, change, and the server refusing a bad value', async () => {
    const before = await cli(['deployments', 'settings', depId, '--json']);
    assert.equal(before.status, 0, before.stderr);
    assert.equal(JSON.parse(before.stdout).maxWorkers, 2);
    const changed = await cli(['deployments', 'settings', depId, '--max-workers', '3', '--timeout-ms', '5000', '--memory-mb', '512']);
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stdout, /^maxWorkers\s+3$/m);
    assert.match(changed.stdout, /^timeoutMs\s+5000$/m);
    assert.match(changed.stdout, /^memoryMb\s+512$/m);
    assert.match(changed.stdout, /^minWorkers\s+1$/m, 'the others are kept');
    const after = JSON.parse((await cli(['deployments', 'settings', depId, '--json'])).stdout);
    assert.deepEqual(after, { ...JSON.parse(before.stdout), maxWorkers: 3, timeoutMs: 5000, memoryMb: 512 });

    const bad = await cli(['deployments', 'settings', depId, '--max-workers', '0']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^forja: .*maxWorkers.* \[INVALID_ARGUMENT, HTTP 400/m);
    assert.equal(JSON.parse((await cli(['deployments', 'settings', depId, '--json'])).stdout).maxWorkers, 3, 'unchanged by the refused call');
    const notInt = await cli(['deployments', 'settings', depId, '--max-queue', 'many']);
    assert.equal(notInt.status, 1);
    assert.match(notInt.stderr, /"many" is not a whole number/);

    assert.equal(JSON.parse(before.stdout).scorerPaths, 'folders');
    const files = await cli(['deployments', 'settings', depId, '--scorer-paths', 'files']);
    assert.equal(files.status, 0, files.stderr);
    assert.match(files.stdout, /^scorerPaths\s+files$/m);
    const wrong = await cli(['deployments', 'settings', depId, '--scorer-paths', 'dirs']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /scorerPaths.* \[INVALID_ARGUMENT, HTTP 400/);
    assert.equal((await cli(['deployments', 'settings', depId, '--scorer-paths', 'folders'])).status, 0);
  });
});
