// The sandbox on its own: the malicious probe run as a one-shot job, by a root server (each group its
// own user) and by an unprivileged one (user namespaces), must get nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTACKS, type Attempt, type Targets } from '../testing/malicious.js';
import { processesWith } from '../testing/processes.js';
import { runProbe } from '../testing/sandbox-probe.js';
import { runProcess } from './process.js';
import { Sandbox, SandboxUnavailable } from './sandbox.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PYTHON = '/usr/bin/python3';
const UNPRIVILEGED_USER = 'forja-sandbox-test';
const isRoot = process.getuid?.() === 0;

function assertContained(report: Record<string, Attempt> | undefined, who: string): void {
  assert.ok(report, `${who}: no report`);
  assert.deepEqual(Object.keys(report).sort(), [...ATTACKS].sort());
  assert.deepEqual(
    Object.entries(report).filter(([, a]) => a.escaped),
    [],
    `${who}: attacks that got through`,
  );
}

describe('the sandbox, one-shot', () => {
  let dir: string;
  let targets: Targets;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forja-sandbox-'));
    chmodSync(dir, 0o755);
    const data = path.join(dir, 'data');
    mkdirSync(path.join(data, 'artifacts', 'other-group'), { recursive: true });
    writeFileSync(path.join(data, 'secret.key'), 'k'.repeat(32));
    writeFileSync(path.join(data, 'forja.db'), 'SQLite format 3');
    writeFileSync(path.join(data, 'artifacts', 'other-group', 'numbers.txt'), "the other group's numbers");
    targets = {
      dataDir: data,
      secretKey: path.join(data, 'secret.key'),
      database: path.join(data, 'forja.db'),
      otherGroupArtifact: path.join(data, 'artifacts', 'other-group', 'numbers.txt'),
      otherDeploymentSecret: 'not-in-any-environment-here',
      adminToken: 'FORJA_ADMIN_TOKEN-like-secret',
      serverPort: 1,
      serverPid: process.pid,
      survivor: '',
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("as this server's user: every attack fails; two groups run as two users when root; nothing outlives the job", async () => {
    const uids: Record<string, number> = { alpha: 960_001, beta: 960_002 };
    const sandbox = Sandbox.detect('auto', { uidOf: async (g) => uids[g]! }, 960_000);
    assert.equal(sandbox.status.mode, 'bwrap', sandbox.status.reason);
    assert.equal(sandbox.status.perGroupUsers, isRoot);
    const seen: number[] = [];
    for (const [i, group] of ['alpha', 'beta'].entries()) {
      const survivor = `${7501 + i}.5`;
      const result = await runProbe(sandbox, PYTHON, { ...targets, survivor }, group, path.join(dir, 'data', `work-${group}`));
      assertContained(result.report, group);
      seen.push(result.uid);
      for (let n = 0; n < 20 && processesWith(`sleep ${survivor}`).length; n++) await sleep(100);
      assert.deepEqual(processesWith(`sleep ${survivor}`), [], `${group}: a process outlived the job`);
    }
    assert.deepEqual(seen, isRoot ? [960_001, 960_002] : [process.getuid!(), process.getuid!()]);
  });

  test('as an unprivileged user (user namespaces): every attack fails', { skip: !isRoot && 'covered by the test above when not root' }, async () => {
    if (spawnSync('id', [UNPRIVILEGED_USER]).status !== 0) {
      const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', UNPRIVILEGED_USER], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
    }
    const uid = Number(spawnSync('id', ['-u', UNPRIVILEGED_USER], { encoding: 'utf8' }).stdout.trim());
    const work = path.join(dir, 'unprivileged-work');
    mkdirSync(work);
    chownSync(work, uid, uid);
    const survivor = '7510.5';
    const child = spawnSync(
      'setpriv',
      [
        '--reuid',
        UNPRIVILEGED_USER,
        '--regid',
        UNPRIVILEGED_USER,
        '--init-groups',
        '--',
        process.execPath,
        '--conditions=source',
        '--import',
        'tsx',
        path.join(ROOT, 'server/src/testing/sandbox-probe-main.ts'),
        JSON.stringify({ ...targets, survivor }),
        work,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/tmp', LANG: 'C.UTF-8' }, timeout: 120_000 },
    );
    assert.equal(child.status, 0, child.stdout + child.stderr);
    const out = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { report: Record<string, Attempt>; uid: number; status: { perGroupUsers: boolean } };
    assert.equal(out.status.perGroupUsers, false, 'not root: user namespaces, no per-group users');
    assert.equal(out.uid, uid, 'the code runs as the unprivileged server user');
    assertContained(out.report, 'unprivileged');
    assert.deepEqual(processesWith(`sleep ${survivor}`), []);
  });

  test("shared read-only mounts (the installer, the wheelhouse) are readable but stay their owner's; the run's own folders become its group's", async () => {
    const sandbox = Sandbox.detect('auto', { uidOf: async () => 960_004 }, 960_000);
    const shared = path.join(dir, 'shared-tools');
    const own = path.join(dir, 'own-work');
    mkdirSync(shared);
    mkdirSync(own);
    writeFileSync(path.join(shared, 'tool.txt'), 'a tool');
    const lines: string[] = [];
    const run = {
      groupId: 'gamma',
      argv: [PYTHON, '-c', `print(open(${JSON.stringify(path.join(shared, 'tool.txt'))}).read())`],
      cwd: own,
      env: {},
      writable: [own],
      shared: [shared],
    };
    await runProcess({ signal: new AbortController().signal, log: (l) => lines.push(l) }, { sandbox, run });
    assert.deepEqual(lines, ['a tool']);
    assert.equal(statSync(shared).uid, process.getuid!(), 'a shared mount is never given away');
    assert.equal(statSync(path.join(shared, 'tool.txt')).uid, process.getuid!());
    assert.equal(statSync(own).uid, isRoot ? 960_004 : process.getuid!());
  });

  test('without bubblewrap, user code is refused with the reason and the way out; FORJA_SANDBOX=off runs it, as the server', async () => {
    const users = { uidOf: async () => 960_003 };
    const missing = Sandbox.detect('auto', users, 960_000, ['/nonexistent/bwrap']);
    assert.deepEqual(missing.status, { mode: 'unavailable', reason: 'bubblewrap (bwrap) is not installed', perGroupUsers: false });
    const run = { groupId: 'alpha', argv: [PYTHON, '-c', 'import os; print(os.getuid())'], cwd: dir, env: {} };
    const ctx = { signal: new AbortController().signal, log: () => undefined };
    await assert.rejects(runProcess(ctx, { sandbox: missing, run }), (err: Error) => {
      assert.ok(err instanceof SandboxUnavailable);
      assert.equal(
        err.message,
        'User code cannot run on this server: bubblewrap (bwrap) is not installed. Install bubblewrap (apt-get install bubblewrap) and restart, or set FORJA_SANDBOX=off to run user code unsandboxed (only on a server no other team uses).',
      );
      return true;
    });
    const off = Sandbox.detect('off', users, 960_000);
    assert.equal(off.status.mode, 'off');
    const lines: string[] = [];
    await runProcess({ ...ctx, log: (l) => lines.push(l) }, { sandbox: off, run });
    assert.deepEqual(lines, [String(process.getuid!())], "unsandboxed code runs as the server's own user");
  });
});
