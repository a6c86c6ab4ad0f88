import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testSandbox } from '../testing/sandbox.js';
import { OverloadedError, WorkerPool, type PoolOptions } from './worker-pool.js';
import { ModelError, WorkerError } from './worker-process.js';

/** The test venv (`npm test` builds it) has pandas and scikit-learn for the frame models. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VENV_PYTHON = process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');

const SCORER = `
import json, os, sys, time, uuid

# Which worker answered: pids are the same in every worker's own PID namespace.
WORKER = uuid.uuid4().hex

def score(data, base_path):
    req = json.loads(data)
    action = req.get("do")
    print("scoring", action)  # a print must land in the log, not in the protocol
    if action == "raise":
        raise ValueError("income must be positive")
    if action == "crash":
        os._exit(9)
    if action == "hang":
        time.sleep(600)
    if action == "oom":
        hog = bytearray(800 * 1024 * 1024)
        return {"len": len(hog)}
    if action == "sleep":
        time.sleep(req["seconds"])
        return {"slept": req["seconds"]}
    if action == "env":
        return {"env": sorted(os.environ), "cwd": os.getcwd(), "base": base_path, "secret": os.environ.get("API_KEY")}
    return {"score": req["x"] * 2, "pid": WORKER}
`;

describe('Python worker pool (real processes)', () => {
  let dir: string;
  const logs: string[] = [];
  const pools: WorkerPool[] = [];
  const pool = async (over: Partial<Omit<PoolOptions, 'spec'>> & { spec?: Partial<PoolOptions['spec']> } = {}) => {
    const p = new WorkerPool({
      minWorkers: 1,
      maxWorkers: 2,
      maxQueue: 50,
      requestTimeoutMs: 5000,
      maxBatch: 32,
      ...over,
      spec: {
        sandbox: testSandbox(),
        groupId: 'g-pool-test',
        readOnly: [dir],
        python: 'python3',
        kind: 'script',
        path: path.join(dir, 'scorer.py'),
        cwd: dir,
        onLog: (l) => logs.push(l),
        ...over.spec,
      },
    });
    pools.push(p);
    await p.start();
    return p;
  };
  const call = async (p: WorkerPool, body: unknown) => JSON.parse((await p.predict(Buffer.from(JSON.stringify(body)))).toString('utf8'));

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forja-pool-'));
    writeFileSync(path.join(dir, 'scorer.py'), SCORER);
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test("answers with the scorer's result; prints go to the log", async () => {
    const p = await pool();
    assert.equal((await call(p, { x: 21 })).score, 42);
    // stderr is another pipe: its line may arrive just after the answer.
    for (let i = 0; i < 50 && !logs.includes('scoring None'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(logs.includes('scoring None'), logs.join('\n'));
  });

  test('a scorer that raises: its exception type and message; the worker keeps serving', async () => {
    const p = await pool();
    const pid = (await call(p, { x: 1 })).pid;
    await assert.rejects(
      call(p, { do: 'raise' }),
      (err: Error) => err instanceof ModelError && err.type === 'ValueError' && err.message === 'income must be positive',
    );
    assert.ok(
      logs.some((l) => l.startsWith('Traceback')),
      'the traceback is in the log',
    );
    assert.equal((await call(p, { x: 1 })).pid, pid);
  });

  test('a worker that crashes, hangs or runs out of memory fails that request clearly and is replaced', async () => {
    const p = await pool({ requestTimeoutMs: 4000, spec: { memoryMb: 400 } });
    const first = (await call(p, { x: 1 })).pid;
    await assert.rejects(
      call(p, { do: 'crash' }),
      (err: Error) => err instanceof WorkerError && err.failure === 'crashed' && /exited with code 9/.test(err.message),
    );
    const second = (await call(p, { x: 1 })).pid;
    assert.notEqual(second, first);
    await assert.rejects(
      call(p, { do: 'hang' }),
      (err: Error) => err instanceof WorkerError && err.failure === 'timeout' && /did not answer within 4 s/.test(err.message),
    );
    const third = (await call(p, { x: 1 })).pid;
    assert.notEqual(third, second);
    await assert.rejects(call(p, { do: 'oom' }), (err: Error) => err instanceof WorkerError && /ran out of memory/.test(err.message));
    assert.equal((await call(p, { x: 2 })).score, 4);
    assert.ok(p.stats().restarts >= 3);
  });

  test('the model sees a cleared environment with its declared secrets, in its own folder', async () => {
    const p = await pool({ spec: { env: { API_KEY: 'secret-value' } } });
    const seen = await call(p, { do: 'env' });
    assert.equal(seen.secret, 'secret-value');
    assert.equal(seen.cwd, dir);
    assert.equal(seen.base, dir);
    // PWD is the sandbox's working directory, set by bubblewrap.
    assert.deepEqual(
      seen.env.filter((k: string) => !['API_KEY', 'HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'LC_CTYPE'].includes(k)),
      [],
    );
  });

  test('a full queue is refused at once (back-pressure), not queued without bound', async () => {
    const p = await pool({ maxWorkers: 1, maxQueue: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => call(p, { do: 'sleep', seconds: 0.3 })));
    const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof OverloadedError);
    assert.ok(refused.length >= 2, JSON.stringify(results.map((r) => r.status)));
    assert.ok(results.some((r) => r.status === 'fulfilled'));
  });

  test('a model that cannot load fails start() with the reason', async () => {
    writeFileSync(path.join(dir, 'broken.py'), 'def score(data, base_path)\n    return 1\n');
    await assert.rejects(pool({ spec: { path: path.join(dir, 'broken.py') } }), /Loading the model failed: SyntaxError/);
    await assert.rejects(pool({ spec: { entrypoint: 'predict_it' } }), /Loading the model failed: AttributeError: scorer\.py has no function predict_it\(\)/);
  });

  test('a pickled estimator: concurrent requests are batched into fewer model calls, with the same answers', async () => {
    assert.ok(existsSync(VENV_PYTHON), `${VENV_PYTHON} is missing: run the tests with \`npm test\`, which builds the Python venv`);
    const modelFile = path.join(dir, 'model.pkl');
    const made = spawnSync(
      VENV_PYTHON,
      [
        '-c',
        `
import joblib, numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
m = LogisticRegression().fit(X, y)
joblib.dump(m, ${JSON.stringify(modelFile)})
print(",".join(str(v) for v in m.predict(np.array([[i / 10, -i / 20, 0.5] for i in range(-20, 20)]))))
`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const expected = made.stdout.trim().split(',').map(Number);
    const p = await pool({ maxWorkers: 1, spec: { python: VENV_PYTHON, kind: 'pickle', path: modelFile } });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, k) => {
        const i = k - 20;
        return call(p, { dataframe_split: { columns: ['a', 'b', 'c'], data: [[i / 10, -i / 20, 0.5]] } });
      }),
    );
    assert.deepEqual(
      answers.map((a) => a.predictions[0]),
      expected,
    );
    const stats = p.stats();
    assert.equal(stats.served, 40);
    assert.ok(stats.calls < 40, `40 requests took ${stats.calls} model calls`);
    const records = await call(p, [
      { a: 1, b: 1, c: 0 },
      { a: -1, b: -1, c: 0 },
    ]);
    assert.deepEqual(records.predictions, [1, 0]);
    await assert.rejects(
      call(p, { dataframe_split: { columns: ['a'], data: [[1]] } }),
      (err: Error) => err instanceof ModelError && /features/.test(err.message),
    );
  });
});
