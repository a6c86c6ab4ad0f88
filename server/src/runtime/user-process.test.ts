// One-shot runs and pooled workers start through one spawn path: the same code, given the same
// run, sees the same environment and the same limits either way.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testSandbox } from '../testing/sandbox.js';
import { runProcess } from './process.js';
import { WorkerPool } from './worker-pool.js';

const PROBE = `
import json, os, resource

def seen():
    limit = lambda r: list(resource.getrlimit(r))
    return {"env": sorted(os.environ), "limits": {"as": limit(resource.RLIMIT_AS), "cpu": limit(resource.RLIMIT_CPU), "files": limit(resource.RLIMIT_NOFILE)}}

def score(data, base_path):
    return seen()

if __name__ == "__main__":
    print("SEEN " + json.dumps(seen()))
`;

describe('one spawn path for user code (real processes)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forja-user-process-'));
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'probe.py'), PROBE);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a pooled worker and a one-shot run see the same environment variables and the same limits', async () => {
    const sandbox = testSandbox();
    const limits = { memoryMb: 512, cpuSeconds: 30, maxFiles: 256 };
    const common = { groupId: 'g-user-process-test', python: 'python3', cwd: dir, readOnly: [dir], env: { API_KEY: 'secret-value' } };
    const pool = new WorkerPool({
      minWorkers: 1,
      maxWorkers: 1,
      maxQueue: 1,
      requestTimeoutMs: 20_000,
      maxBatch: 1,
      spec: { ...common, ...limits, sandbox, kind: 'script', path: path.join(dir, 'probe.py'), onLog: () => undefined },
    });
    let pooled: { env: string[]; limits: Record<string, number[]> };
    try {
      await pool.start();
      pooled = JSON.parse((await pool.predict(Buffer.from('{}'))).toString('utf8'));
    } finally {
      await pool.stop();
    }
    const lines: string[] = [];
    await runProcess(
      { signal: new AbortController().signal, log: (l) => lines.push(l) },
      { sandbox, ...limits, run: { ...common, argv: ['python3', path.join(dir, 'probe.py')] } },
    );
    const line = lines.find((l) => l.startsWith('SEEN '));
    assert.ok(line, lines.join('\n'));
    const oneShot = JSON.parse(line.slice('SEEN '.length));
    assert.deepEqual(oneShot.env, pooled.env);
    assert.ok(pooled.env.includes('API_KEY') && !pooled.env.some((k) => k.startsWith('FORJA_JOB')), pooled.env.join(' '));
    assert.deepEqual(oneShot.limits, pooled.limits);
    // Address space in bytes; CPU: SIGXCPU at the limit, SIGKILL five seconds later; files: both.
    assert.deepEqual(pooled.limits, { as: [512 * 1024 * 1024, 512 * 1024 * 1024], cpu: [30, 35], files: [256, 256] });
  });
});
