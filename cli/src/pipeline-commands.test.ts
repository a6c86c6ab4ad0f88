import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { dailyPipeline, PREP_SCRIPT, startTestServer, TRAIN_MODEL_SCRIPT, USE_SCRIPT, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

/** The run id a `pipelines run`/`retry` printed. */
const runIdOf = (text: string) => {
  const id = /^Run (\w+) of /m.exec(text)?.[1];
  assert.ok(id, text);
  return id;
};

describe('forja pipelines and training against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  let dir: string;
  const cli = (args: string[]) => runCli(args, { env });

  before(async () => {
    s = await startTestServer();
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(tempDir('forja-cli-'), 'c.json') };
    dir = tempDir('forja-pipeline-');
    writeFileSync(path.join(dir, 'prep.py'), PREP_SCRIPT);
    writeFileSync(path.join(dir, 'use.py'), USE_SCRIPT);
    writeFileSync(path.join(dir, 'requirements.txt'), '');
    writeFileSync(path.join(dir, 'daily.yaml'), dailyPipeline({ requirements: 'requirements.txt' }));
  });
  after(() => s.close());

  test('push, then run --follow: a line per step change with its outputs, exit 0', async () => {
    const pushed = await cli(['pipelines', 'push', path.join(dir, 'daily.yaml')]);
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.equal(pushed.stdout, 'Pipeline daily version 1: 3 steps (prep, use, after); files: prep.py, requirements.txt, use.py.\n');
    const r = await cli(['pipelines', 'run', path.join(dir, 'daily.yaml'), '--follow', '--param', 'day=2026-12-01']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /^Pushed daily version 2 \(3 files\)\.$/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d {2}prep {3}running$/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d {2}prep {3}succeeded \([\d.]+s\) {2}\{"rows":3,"day":"2026-12-01"\}$/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d {2}use {4}succeeded \([\d.]+s\) {2}\{"total":6\}$/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d {2}after {2}succeeded \([\d.]+s\) {2}\{"total":12\}$/m);
    assert.match(r.stderr, /^Run \w+ of daily succeeded in [\d.]+ s\.$/m);
    const list = await cli(['pipelines', 'ls']);
    assert.match(list.stdout, /^daily\s+2\s+prep use after\s+3\s/m);
  });

  test('a failing step: exit 1, its error printed, its dependent skipped; retry after the fix; --from reuses outputs', async () => {
    const gate = `gate-${Date.now()}`;
    const r = await cli(['pipelines', 'run', 'daily', '--follow', '--logs', '-p', `gate=${gate}`]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[use\] got 3 rows for day 2026-11-23$/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d {2}use {4}failed \([\d.]+s\) {2}the gate is closed$/m);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d {2}after {2}skipped {2}A step it needs did not succeed\.$/m);
    assert.match(r.stderr, /^Run \w+ of daily failed in [\d.]+ s\.$/m);
    assert.match(r.stderr, /^ {2}use failed: The process exited with code 1\. Last lines:\n(?: {6}.*\n)* {6}the gate is closed\n/m);
    assert.match(r.stderr, /^ {2}after skipped: A step it needs did not succeed\.$/m);
    const runId = runIdOf(r.stderr);

    const shown = await cli(['pipelines', 'show', runId]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^status\s+failed$/m);
    assert.match(shown.stdout, /^STEP\s+ACTION\s+NEEDS\s+STATUS\s+DURATION\s+JOB\s+OUTPUTS \/ ERROR$/m);
    assert.match(shown.stdout, /^prep\s+script\s+-\s+succeeded\s+[\d.]+s\s+\w+\s+\{"rows":3,"day":"2026-11-23"\}$/m);
    assert.match(shown.stdout, /^use\s+script\s+prep\s+failed\s+[\d.]+s\s+\w+\s+the gate is closed$/m);
    assert.match(shown.stdout, /^after\s+script\s+use\s+skipped\s+-\s+-\s+A step it needs did not succeed\.$/m);
    const json = JSON.parse((await cli(['pipelines', 'show', runId, '--json'])).stdout);
    assert.deepEqual(
      json.steps.map((x: { id: string; status: string }) => `${x.id}:${x.status}`),
      ['prep:succeeded', 'use:failed', 'after:skipped'],
    );

    const opened = await fetch(`${s.url}/api/v1/experiments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: gate }),
    });
    assert.equal(opened.status, 201, await opened.text());
    const retried = await cli(['pipelines', 'retry', runId, '--follow']);
    assert.equal(retried.status, 0, retried.stdout + retried.stderr);
    assert.match(retried.stderr, new RegExp(`^Run ${runId} of daily version 2 retried\\.$`, 'm'));
    assert.match(retried.stdout, /^\d\d:\d\d:\d\d {2}use {4}succeeded \([\d.]+s\) {2}\{"total":6\}$/m);
    assert.match(retried.stdout, /^\d\d:\d\d:\d\d {2}after {2}succeeded \([\d.]+s\) {2}\{"total":12\}$/m);
    const again = await cli(['pipelines', 'retry', runId]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /succeeded: start a new run instead\. \[CONFLICT, HTTP 409/);

    const from = await cli(['pipelines', 'run', 'daily', '--from', 'use', '--follow', '--json']);
    assert.equal(from.status, 0, from.stdout + from.stderr);
    assert.match(from.stderr, /^\d\d:\d\d:\d\d {2}prep {3}reused {2}\{"rows":3,"day":"2026-11-23"\}$/m);
    const ended = JSON.parse(from.stdout);
    assert.equal(ended.status, 'succeeded');
    assert.equal(ended.fromStep, 'use');
    assert.deepEqual(
      ended.steps.map((x: { id: string; status: string }) => `${x.id}:${x.status}`),
      ['prep:reused', 'use:succeeded', 'after:succeeded'],
    );
    const runs = await cli(['pipelines', 'runs', 'daily']);
    assert.match(runs.stdout, /^\w+\s+2\s+succeeded\s+3\/3 ok\s+use\s/m);
    assert.match(runs.stdout, new RegExp(`^${runId}\\s+2\\s+succeeded\\s+3/3 ok\\s+-\\s`, 'm'));
  });

  test('cancel a running run: --follow exits 1 and names the cancelled steps', async () => {
    const slow = path.join(dir, 'slow.yaml');
    writeFileSync(path.join(dir, 'nap.py'), 'import time\nprint("napping", flush=True)\ntime.sleep(60)\n');
    writeFileSync(slow, 'name: slow\nsteps:\n  - id: nap\n    script: nap.py\n  - id: wake\n    script: nap.py\n    needs: [nap]\n');
    const started = await cli(['pipelines', 'run', slow]);
    assert.equal(started.status, 0, started.stderr);
    const runId = runIdOf(started.stdout);
    const following = cli(['pipelines', 'run', 'slow', '--follow']); // a second run, cancelled below
    const cancelled = await cli(['pipelines', 'cancel', runId]);
    assert.equal(cancelled.status, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`^Run ${runId} of slow cancelled`));
    let other: { id: string; steps: { status: string }[] } | undefined;
    for (let i = 0; i < 60 && !(other && other.steps[0]!.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(`${s.url}/api/v1/pipelines/slow/runs`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      other = ((await res.json()) as { items: NonNullable<typeof other>[] }).items.find((x) => x.id !== runId);
    }
    assert.ok(other, 'the followed run started');
    assert.equal((await cli(['pipelines', 'cancel', other.id])).status, 0);
    const f = await following;
    assert.equal(f.status, 1, f.stdout + f.stderr);
    assert.match(f.stdout, /^\d\d:\d\d:\d\d {2}wake {2}cancelled$/m);
    assert.match(f.stderr, /^Run \w+ of slow cancelled/m);
    assert.match(f.stderr, /^ {2}wake cancelled$/m);
    const twice = await cli(['pipelines', 'cancel', runId]);
    assert.equal(twice.status, 1);
    assert.match(twice.stderr, /already been cancelled/);
  });

  test("bad pipelines: the server's message for a cycle, bad YAML and unknown params; missing files caught before upload", async () => {
    const cycle = path.join(dir, 'cycle.yaml');
    writeFileSync(cycle, 'steps:\n  - id: a\n    script: prep.py\n    needs: [b]\n  - id: b\n    script: prep.py\n    needs: [a]\n');
    const c = await cli(['pipelines', 'run', cycle, '--follow']);
    assert.equal(c.status, 1);
    assert.match(c.stderr, /^forja: The steps form a cycle: a → b → a\. \[INVALID_ARGUMENT, HTTP 400/m);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'steps: [\n');
    const b = await cli(['pipelines', 'push', bad]);
    assert.equal(b.status, 1);
    assert.match(b.stderr, /^forja: The pipeline file is not valid YAML: /m);
    const missing = path.join(dir, 'missing.yaml');
    writeFileSync(missing, 'steps:\n  - id: a\n    script: nowhere.py\n');
    const m = await cli(['pipelines', 'push', missing]);
    assert.equal(m.status, 1);
    assert.equal(m.stderr, `forja: step "a": script names "nowhere.py", which is not a file in ${dir}\n`);
    const nested = path.join(dir, 'nested.yaml');
    writeFileSync(nested, 'steps:\n  - id: a\n    script: sub/x.py\n');
    assert.match((await cli(['pipelines', 'push', nested])).stderr, /the server takes plain file names/);
    const unknownParam = await cli(['pipelines', 'run', 'daily', '-p', 'nope=1']);
    assert.equal(unknownParam.status, 1);
    assert.match(unknownParam.stderr, /Unknown params nope: the pipeline declares day, gate\./);
    const unknownStep = await cli(['pipelines', 'run', 'daily', '--from', 'nope']);
    assert.match(unknownStep.stderr, /No step "nope" in pipeline daily \(it has prep, use, after\)\./);
    const noSuch = await cli(['pipelines', 'runs', 'nosuch']);
    assert.equal(noSuch.status, 1);
    assert.match(noSuch.stderr, /NOT_FOUND, HTTP 404/);
  });

  test('training: bad input is refused with the reason; a real run with --follow, then promote', async () => {
    const t = tempDir('forja-train-');
    const train = path.join(t, 'train.py');
    const data = path.join(t, 'data.csv');
    writeFileSync(train, TRAIN_MODEL_SCRIPT);
    writeFileSync(data, 'x,y\n0,0\n1,0\n2,0\n3,1\n4,1\n5,1\n');
    writeFileSync(path.join(t, 'requirements.txt'), 'scikit-learn\n');
    writeFileSync(path.join(t, 'data.txt'), 'x\n');
    const start = (args: string[]) => cli(['training', 'start', '--experiment', 'cli-train', '--source', train, ...args]);
    assert.match((await start([])).stderr, /give the training data: --data FILE \(\.csv or \.parquet\) or --table TABLE/);
    assert.match((await start(['--data', data, '--table', 't'])).stderr, /not both/);
    assert.match((await start(['--data', path.join(t, 'none.csv')])).stderr, /--data .*none\.csv is not a file/);
    assert.match(
      (await start(['--data', path.join(t, 'data.txt')])).stderr,
      /The data file "data\.txt" must be \.csv or \.parquet\. \[INVALID_ARGUMENT, HTTP 400/,
    );
    assert.match((await start(['--data', data, '--model-type', 'Foo'])).stderr, /modelType: Invalid option/);
    assert.match((await cli(['training', 'start', '--source', train, '--data', data])).stderr, /required option '--experiment <name>' not specified/);

    const r = await start(['--data', data, '--requirements', path.join(t, 'requirements.txt'), '--follow']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^fitting on 6 rows$/m);
    const id = /^Training run (\w+) started in experiment cli-train/m.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.match(r.stderr, new RegExp(`^Training run ${id} succeeded: accuracy=1\\.$`, 'm'));
    const shown = await cli(['training', 'show', id]);
    assert.match(shown.stdout, /^status\s+succeeded$/m);
    assert.match(shown.stdout, /^data\s+data\.csv$/m);
    const promoted = await cli(['training', 'promote', id, '--model', 'cli-clf']);
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.equal(promoted.stdout, 'Registered cli-clf version 1 (models:/cli-clf/1).\n');
    const list = await cli(['training']);
    assert.match(list.stdout, new RegExp(`^${id}\\s+cli-train\\s+succeeded\\s+train\\.py\\s+data\\.csv\\s+accuracy=1\\s+cli-clf v1\\s`, 'm'));
  });
});
