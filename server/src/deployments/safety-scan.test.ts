import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { safetyScan } from '../runtime/models.js';

/** The test venv (`npm test` builds it) has scikit-learn, pandas and joblib to make real model pickles. */
const PYTHON = process.env.FORJA_PYTHON ?? 'python3';

/** Real models as people save them, and pickles that would run a command when loaded. */
const MAKE = `
import os, pickle, subprocess, sys
import joblib, numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

out = sys.argv[1]
rng = np.random.default_rng(0)
X = pd.DataFrame({"a": rng.uniform(size=60), "b": rng.uniform(size=60), "c": pd.Categorical(["x", "y", "z"] * 20), "when": pd.date_range("2024-01-01", periods=60, tz="UTC")})
y = (X.a > X.b).astype(int)
pipe = Pipeline([
    ("prep", ColumnTransformer([("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), ["a", "b"]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"])])),
    ("rf", RandomForestClassifier(n_estimators=3, random_state=np.random.RandomState(0))),
]).fit(X, y)
hgb = HistGradientBoostingClassifier(max_iter=3).fit(X[["a", "b"]], y)
for proto in (2, 4, 5):
    with open(os.path.join(out, f"pipeline-p{proto}.pkl"), "wb") as f:
        pickle.dump(pipe, f, protocol=proto)
joblib.dump(pipe, os.path.join(out, "pipeline.joblib"))
joblib.dump(pipe, os.path.join(out, "pipeline-compressed.joblib"), compress=3)
joblib.dump({"model": hgb, "frame": X, "objects": np.array(["a", None, 1], dtype=object)}, os.path.join(out, "bundle.joblib"))

class Evil:
    def __reduce__(self):
        return (subprocess.getoutput, ("id",))

with open(os.path.join(out, "evil-p4.pkl"), "wb") as f:
    pickle.dump(Evil(), f, protocol=4)
# Behind arrays whose bytes joblib writes inside the stream, and compressed.
joblib.dump([np.arange(5000.0), np.array(["a", None], dtype=object), Evil()], os.path.join(out, "evil-after-arrays.joblib"))
joblib.dump([np.arange(5000.0), Evil()], os.path.join(out, "evil-compressed.joblib"), compress=("gzip", 3))
`;

// Hand-written streams: protocol 0, names stored in the memo and fetched back, a name computed while loading.
const HAND: Record<string, Buffer> = {
  'getoutput-p0.pkl': Buffer.from("csubprocess\ngetoutput\n(S'id'\ntR.", 'latin1'),
  'memo.pkl': Buffer.from('\x80\x04\x8c\x0asubprocess\x94\x8c\x05decoy\x94\x8c\x09getoutput\x94h\x00h\x02\x93\x8c\x02id\x85R.', 'latin1'),
  'computed.pkl': Buffer.from('\x80\x04\x8c\x08builtins\x8c\x03str\x93\x8c\x0asubprocess\x85R\x8c\x09getoutput\x93\x8c\x02id\x85R.', 'latin1'),
  'own-class.pkl': Buffer.from('\x80\x04\x8c\x0emytransformers\x8c\x06Scaler\x93)\x81.', 'latin1'),
  'main-class.pkl': Buffer.from('\x80\x04\x8c\x08__main__\x8c\x06Scaler\x93)\x81.', 'latin1'),
  'cloudpickled.pkl': Buffer.from('\x80\x04\x8c\x17cloudpickle.cloudpickle\x8c\x0e_make_function\x93)R.', 'latin1'),
};

describe('the pickle safety scan (an allow-list, advisory)', () => {
  let dir: string;
  const scan = async (...args: string[]) => safetyScan(args.map((a) => (a.includes(':') ? a : `pickle:${path.join(dir, a)}`)));
  const messages = async (...args: string[]) => (await scan(...args)).map((f) => `${f.level}: ${f.message}`);

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forja-scan-'));
    execFileSync(PYTHON, ['-c', MAKE, dir]);
    for (const [name, bytes] of Object.entries(HAND)) writeFileSync(path.join(dir, name), bytes);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('scikit-learn pipelines, pandas frames and NumPy arrays pass, pickled or joblib-dumped (compressed too)', async () => {
    for (const file of ['pipeline-p2.pkl', 'pipeline-p4.pkl', 'pipeline-p5.pkl', 'pipeline.joblib', 'pipeline-compressed.joblib', 'bundle.joblib']) {
      assert.deepEqual(await messages(file), [], file);
    }
  });

  test('subprocess.getoutput, which no deny-list named, is an error however the stream spells or hides it', async () => {
    const refused = /^error: the pickle imports subprocess\.getoutput, which runs commands or code; unpickling would call it$/;
    for (const file of ['getoutput-p0.pkl', 'evil-p4.pkl', 'memo.pkl', 'evil-after-arrays.joblib', 'evil-compressed.joblib']) {
      const found = await messages(file);
      assert.equal(found.length, 1, `${file}: ${found.join('; ')}`);
      assert.match(found[0]!, refused, file);
    }
    assert.deepEqual(await messages('computed.pkl'), [
      'error: the pickle builds the name of what it imports while it loads, so the scan cannot tell what unpickling would run',
    ]);
  });

  test("classes of the deployment's own modules pass when named; a training script's __main__ is explained", async () => {
    assert.match((await messages('own-class.pkl')).join(), /imports mytransformers\.Scaler, which is not on the list/);
    assert.deepEqual(await messages('own-class.pkl', 'allow:mytransformers'), []);
    assert.match(
      (await messages('main-class.pkl')).join(),
      /a class defined in a training script's __main__ cannot be loaded here: put it in a \.py file uploaded with the deployment/,
    );
  });

  test('in a model that is code by design (an MLflow pyfunc), what is not on the list is a warning; what runs commands is still an error', async () => {
    const code = (file: string) => `code-pickle:${path.join(dir, file)}`;
    assert.match((await messages('cloudpickled.pkl')).join(), /^error: the pickle imports cloudpickle\.cloudpickle\._make_function/);
    assert.match((await messages(code('cloudpickled.pkl'))).join(), /^warning: the pickle imports cloudpickle\.cloudpickle\._make_function/);
    assert.match((await messages(code('getoutput-p0.pkl'))).join(), /^error: the pickle imports subprocess\.getoutput, which runs commands or code/);
    assert.match((await messages(code('computed.pkl'))).join(), /^error: the pickle builds the name/);
  });

  test('a file the scan cannot read is an error, not a pass', async () => {
    writeFileSync(path.join(dir, 'broken.pkl'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
    assert.match((await messages('broken.pkl')).join(), /^error: could not be scanned/);
  });
});
