// The explainer against a real server: pickles deployed from files as users do, an environment of
// their requirements plus shap built for real, and forja_explain.py run in the sandbox.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppError } from '../errors.js';
import { http, startTestServer, until, type TestServer } from '../testing/server.js';
import { Environments } from '../runtime/environments.js';
import { testUvCache } from '../testing/sandbox.js';
import { Explainer, type ExplainRequest, type ExplanationReport } from './explain.js';

const PYTHON = process.env.FORJA_PYTHON ?? 'python3';

/**
 * x1 drives the target, x2 a little, x3 not at all. The window is shifted. For the linear model the
 * known answer: LinearExplainer's SHAP value is coef * (x - mean of the background), the background
 * being the reference (every row of it, as sampleRows exceeds the rows).
 */
const MAKE = `
import json, sys, joblib, numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Ridge
out = sys.argv[1]
rng = np.random.default_rng(7)
def frame(n, shift):
    return pd.DataFrame({"x1": rng.normal(shift, 1, n), "x2": rng.normal(0, 1, n), "x3": rng.normal(0, 1, n)})
train = frame(600, 0.0)
y = 3 * train.x1 + 0.5 * train.x2 + rng.normal(0, 0.1, 600)
joblib.dump(RandomForestClassifier(n_estimators=30, max_depth=5, random_state=0).fit(train, (y > 0).astype(int)), f"{out}/forest.joblib")
ridge = Ridge(alpha=1.0).fit(train, y)
joblib.dump(ridge, f"{out}/ridge.joblib")
reference, current = frame(120, 0.0), frame(150, 1.0)
# Logged rows carry the log's own columns too: the explainer picks the features out.
current.assign(request_id=[f"r{i}" for i in range(150)], prediction=ridge.predict(current)).to_parquet(f"{out}/current.parquet")
reference.to_parquet(f"{out}/reference.parquet")
def mean_abs(values):
    return {c: float(v) for c, v in zip(train.columns, np.abs(values).mean(axis=0))}
background = reference.to_numpy().mean(axis=0)
json.dump({
    "linear": {"current": mean_abs(ridge.coef_ * (current[train.columns].to_numpy() - background)),
               "reference": mean_abs(ridge.coef_ * (reference.to_numpy() - background))},
    # What shap_fns.get_shap returns: coef * (x - the mean of its own rows).
    "function": {"current": mean_abs(ridge.coef_ * (current[train.columns].to_numpy() - current[train.columns].to_numpy().mean(axis=0)))},
}, open(f"{out}/expected.json", "w"))
`;

const SHAP_FNS = `
import joblib, pandas as pd

def get_shap(df, model_path):
    model = joblib.load(model_path)
    return pd.DataFrame(model.coef_ * (df - df.mean()).to_numpy(), columns=df.columns)

def not_a_frame(df, model_path):
    return [1, 2, 3]
`;

describe('explanations (SHAP) of deployed models', () => {
  let s: TestServer;
  let dir: string;
  let expected: { linear: { current: Record<string, number>; reference: Record<string, number> }; function: { current: Record<string, number> } };
  const deployed: Record<string, string> = {};
  let groupId = '';
  const lines: string[] = [];
  const explain = (req: Partial<ExplainRequest> & { deploymentId: string }, explainer = s.server.services.explainer): Promise<ExplanationReport> =>
    explainer.explain(
      {
        groupId,
        current: path.join(dir, 'current.parquet'),
        reference: path.join(dir, 'reference.parquet'),
        features: ['x1', 'x2', 'x3'],
        sampleRows: 1000,
        ...req,
      },
      { signal: AbortSignal.timeout(15 * 60_000), log: (l) => lines.push(l) },
    );
  const rejects = async (req: Partial<ExplainRequest> & { deploymentId: string }, status: number, message: RegExp) =>
    assert.rejects(explain(req), (err: unknown) => {
      assert.ok(err instanceof AppError, String(err));
      assert.equal(err.status, status, err.message);
      assert.match(err.message, message);
      return true;
    });

  before(async () => {
    s = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'forja-explain-'));
    execFileSync(PYTHON, ['-c', MAKE, dir]);
    expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8'));
    for (const [name, model] of [
      ['forest', 'forest.joblib'],
      ['ridge', 'ridge.joblib'],
    ] as const) {
      const fd = new FormData();
      fd.append('name', name);
      fd.append('kind', 'pickle');
      fd.append('model', new Blob([await readFile(path.join(dir, model))]), model);
      fd.append('requirements', new Blob(['scikit-learn\npandas\n']), 'requirements.txt');
      fd.append('extra', new Blob([SHAP_FNS]), 'shap_fns.py');
      const res = await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: fd });
      const body = (await res.json()) as any;
      assert.equal(res.status, 201, JSON.stringify(body));
      const job = await until(
        'the build',
        async () => {
          const j = await http(s.url, 'GET', `/api/v1/jobs/${body.buildJobId}?waitSeconds=30`, { token: s.adminToken });
          return ['queued', 'running'].includes(j.body.status) ? undefined : j.body;
        },
        600_000,
      );
      assert.equal(job.status, 'succeeded', JSON.stringify(job));
      deployed[name] = body.deployment.id;
    }
    // A script model: refused before anything is built, so its own build is not waited for.
    const script = new FormData();
    script.append('name', 'script');
    script.append('source', new Blob(['def score(data, base_path):\n    return 0\n']), 'scorer.py');
    const res = await fetch(`${s.url}/api/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: script });
    deployed.script = ((await res.json()) as any).deployment.id;
    groupId = (await s.server.services.authStore.getGroupByName('default'))!.id;
  });
  after(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a random forest: TreeExplainer, and the feature that drives the target ranks first in both samples', async () => {
    const started = Date.now();
    const report = await explain({ deploymentId: deployed.forest! });
    const first = Date.now() - started;
    assert.equal(report.explainer, 'TreeExplainer');
    assert.equal(report.rows, 150);
    assert.deepEqual(
      report.importance.map((i) => i.feature),
      ['x1', 'x2', 'x3'],
    );
    const [x1, , x3] = report.importance;
    assert.ok(x1!.current > 5 * x3!.current, JSON.stringify(report));
    assert.ok(x1!.reference! > 5 * x3!.reference!, JSON.stringify(report));
    // The environment is built once: the second explanation reuses it.
    lines.length = 0;
    const again = Date.now();
    assert.deepEqual(await explain({ deploymentId: deployed.forest!, sampleRows: 40 }).then((r) => r.rows), 40);
    assert.ok(
      lines.some((l) => l.startsWith('Reusing environment')),
      lines.join('\n'),
    );
    console.log(`explanation with the environment built: ${first} ms; reused: ${Date.now() - again} ms`);
  });

  test('a ridge regression: LinearExplainer, mean |SHAP| = mean |coef·(x − mean of the reference)| to 1e-6', async () => {
    const report = await explain({ deploymentId: deployed.ridge! });
    assert.equal(report.explainer, 'LinearExplainer');
    assert.equal(report.importance[0]!.feature, 'x1');
    for (const { feature, current, reference } of report.importance) {
      assert.ok(Math.abs(current - expected.linear.current[feature]!) < 1e-6, `${feature} current ${current} vs ${expected.linear.current[feature]}`);
      assert.ok(
        Math.abs(reference! - expected.linear.reference[feature]!) < 1e-6,
        `${feature} reference ${reference} vs ${expected.linear.reference[feature]}`,
      );
    }
    const alone = await explain({ deploymentId: deployed.ridge!, reference: null });
    assert.ok(alone.importance.every((i) => i.reference === null));
  });

  test("the user's function module:function(df, model_path) from the deployment's files", async () => {
    const report = await explain({ deploymentId: deployed.ridge!, fn: 'shap_fns:get_shap', reference: null });
    assert.equal(report.explainer, 'function shap_fns:get_shap');
    for (const { feature, current } of report.importance)
      assert.ok(Math.abs(current - expected.function.current[feature]!) < 1e-9, `${feature}: ${current} vs ${expected.function.current[feature]}`);
  });

  test('what a user can fix is a 400 naming it', async () => {
    const ridge = { deploymentId: deployed.ridge! };
    await rejects({ ...ridge, fn: 'shap_fns.get_shap' }, 400, /"shap_fns\.get_shap" is not module:function/);
    await rejects({ ...ridge, fn: 'nowhere:get_shap' }, 400, /needs nowhere\.py among deployment ridge's files/);
    await rejects({ ...ridge, fn: 'shap_fns:missing' }, 400, /shap_fns\.py has no function missing\(\)/);
    await rejects({ ...ridge, fn: 'shap_fns:not_a_frame' }, 400, /returned list, not a pandas DataFrame/);
    await rejects({ ...ridge, features: ['x1', 'x2', 'x3', 'income'] }, 400, /the current rows lack the features \['income'\]/);
    await rejects({ ...ridge, features: ['x1', 'x2'] }, 400, /the model was trained on \['x3'\], which are not among the features/);
    await rejects({ ...ridge, groupId: 'another-group' }, 404, /Deployment .* does not exist/);
    await rejects({ deploymentId: deployed.script! }, 400, /script is a script model, which shap cannot explain by itself: set the explanations' function/);
  });

  test('a run longer than the timeout stops with a 504', async () => {
    const services = s.server.services;
    // The server's own environments (same folder and cache): the one built above is reused.
    const envs = new Environments(path.join(s.dataDir, 'runtime'), { sandbox: services.sandbox, sharedCacheDir: testUvCache() });
    const hasty = new Explainer({ deployments: services.deployments, envs, workDir: dir, timeoutMs: 1 });
    await assert.rejects(
      explain({ deploymentId: deployed.forest! }, hasty),
      (err: unknown) => err instanceof AppError && err.status === 504 && /took longer than/.test(err.message),
    );
  });
});
