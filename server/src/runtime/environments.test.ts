import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testSandbox, testUvCache } from '../testing/sandbox.js';
import { EnvironmentBuildError, Environments } from './environments.js';

describe('Python environments (real uv, real PyPI)', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'forja-envs-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('builds once per (python, requirements); comments and blank lines do not make a new one', async () => {
    const envs = new Environments(root, { sandbox: testSandbox(), sharedCacheDir: testUvCache() });
    const lines: string[] = [];
    const first = await envs.ensure({ python: '', requirements: 'six==1.16.0\n' }, { log: (l) => lines.push(l), groupId: 'g-envs' });
    assert.equal(first.reused, false);
    assert.ok(lines.includes('Environment ready.'), lines.join('\n'));
    const run = spawnSync(first.python, ['-c', 'import six, sys; print(six.__version__, sys.prefix)'], { encoding: 'utf8' });
    assert.equal(run.stdout.trim(), `1.16.0 ${first.dir}`);
    const again = await envs.ensure(
      { python: '', requirements: '# pinned for the scorer\n\nsix==1.16.0   # utils\n' },
      { log: () => undefined, groupId: 'g-envs' },
    );
    assert.deepEqual(again, { ...first, reused: true });
    const other = Environments.keyOf({ python: '3.11', requirements: 'six==1.16.0' });
    assert.notEqual(other, first.key, 'the Python version is part of the identity');
    assert.equal(readFileSync(path.join(first.dir, 'requirements.txt'), 'utf8'), 'six==1.16.0\n');
  });

  test('two builders of the same new environment (as two processes would be) build it once', async () => {
    const a = new Environments(root, { sandbox: testSandbox(), sharedCacheDir: testUvCache() });
    const b = new Environments(root, { sandbox: testSandbox(), sharedCacheDir: testUvCache() });
    const spec = { python: '3.11', requirements: 'six==1.15.0' };
    const logs: string[][] = [[], []];
    const [ea, eb] = await Promise.all([
      a.ensure(spec, { log: (l) => logs[0]!.push(l), groupId: 'g-envs' }),
      b.ensure(spec, { log: (l) => logs[1]!.push(l), groupId: 'g-envs' }),
    ]);
    assert.equal(ea.python, eb.python);
    assert.deepEqual([ea.reused, eb.reused].sort(), [false, true]);
    const builds = logs.flat().filter((l) => l.startsWith('Creating environment'));
    assert.equal(builds.length, 1);
    assert.ok(logs.flat().some((l) => /Another process is building environment/.test(l)));
    assert.ok(!existsSync(`${ea.dir}.lock`), 'the lock is gone');
  });

  test("a requirement that cannot install fails with the installer's reason and leaves nothing behind", async () => {
    const envs = new Environments(root, { sandbox: testSandbox(), sharedCacheDir: testUvCache() });
    const spec = { python: '', requirements: 'this-package-does-not-exist-forja==1.0' };
    await assert.rejects(envs.ensure(spec, { log: () => undefined, groupId: 'g-envs' }), (err: Error) => {
      assert.ok(err instanceof EnvironmentBuildError);
      assert.match(err.message, /^The requirements could not be installed:\n/);
      assert.match(err.message, /this-package-does-not-exist-forja was not found in the package registry/);
      return true;
    });
    const key = Environments.keyOf(spec);
    assert.equal(envs.isReady(key), false);
    assert.equal(existsSync(envs.dirOf(key)), false);
    assert.ok(readFileSync(path.join(root, 'envs', `${key}.build.log`), 'utf8').includes('not found in the package registry'), 'the build log is kept');
  });

  test('a Python that is not installed, or a version that is not one, is refused with the reason', async () => {
    const envs = new Environments(root, { sandbox: testSandbox(), sharedCacheDir: testUvCache() });
    await assert.rejects(
      envs.ensure({ python: '3.4', requirements: '' }, { log: () => undefined, groupId: 'g-envs' }),
      /^EnvironmentBuildError: Python 3\.4 is not available on this server \(available: [\d., ]+\)/,
    );
    await assert.rejects(
      envs.ensure({ python: '3.11; rm -rf /', requirements: '' }, { log: () => undefined, groupId: 'g-envs' }),
      /Invalid Python version "3\.11; rm -rf \/"/,
    );
  });
});
