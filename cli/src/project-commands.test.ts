import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

describe('forja projects and schedules against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  const cli = (args: string[]) => runCli(args, { env });

  before(async () => {
    s = await startTestServer();
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(tempDir('forja-cli-'), 'c.json') };
  });
  after(() => s.close());

  test('create, deploy with the build streamed, run with parameters and follow, history, schedules', async () => {
    const dir = tempDir('forja-project-');
    const script = path.join(dir, 'score.py');
    writeFileSync(
      script,
      'import json, os, sys\np = json.loads(os.environ["FORJA_PARAMS"])\nprint("scoring", p["date"], p["rows"] + 1)\nsys.exit(2 if p.get("fail") else 0)\n',
    );
    assert.match((await cli(['projects', 'create', 'nightly', '--cluster', '2'])).stdout, /Batch project nightly created \(cluster size 2\)/);
    const bad = await cli(['projects', 'create', 'other', '--cluster', '4']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /cluster sizes are 1, 2 or 3/);
    const dep = await cli(['projects', 'deploy', 'nightly', script]);
    assert.equal(dep.status, 0, dep.stderr);
    assert.match(dep.stdout, /nightly version 1 is Ready/);
    assert.match(dep.stderr, /Building nightly version 1…/);
    const run = await cli(['projects', 'run', 'nightly', '-p', 'date=2026-11-23', '-p', 'rows=41', '--follow']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^scoring 2026-11-23 42$/m);
    assert.match(run.stderr, /Run \w+ succeeded/);
    const failing = await cli(['projects', 'run', 'nightly', '-p', 'date=x', '-p', 'rows=0', '-p', 'fail=true', '-f']);
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /failed: The process exited with code 2/);
    const runs = await cli(['projects', 'runs', 'nightly']);
    assert.match(runs.stdout, /^\w+\s+1\s+failed\s+manual/m);
    assert.match(runs.stdout, /^\w+\s+1\s+succeeded\s+manual/m);

    const added = await cli(['schedules', 'add', 'nightly', '0 3 * * *', '--tz', 'America/Sao_Paulo', '-p', 'date=today', '-p', 'rows=1']);
    assert.equal(added.status, 0, added.stderr);
    const id = /Schedule (\w+):/.exec(added.stdout)![1]!;
    assert.match(added.stdout, /Next: \d{4}-\d\d-\d\dT06:00:00Z, /, '03:00 in São Paulo is 06:00 UTC');
    assert.match((await cli(['schedules'])).stdout, new RegExp(`^${id}\\s+nightly\\s+0 3 \\* \\* \\*\\s+America/Sao_Paulo\\s+active`, 'm'));
    assert.match((await cli(['schedules', 'pause', id])).stdout, /paused/);
    const invalid = await cli(['schedules', 'add', 'nightly', '99 * * * *']);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /Invalid cron "99 \* \* \* \*"/);
    assert.match((await cli(['schedules', 'delete', id])).stdout, /deleted/);
  });
});
