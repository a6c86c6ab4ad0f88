// The scripts and pipeline file the pipeline tests of the API and of the CLI both run.

/** A first step: writes outputs the next step reads through templates. */
export const PREP_SCRIPT = `
import json, os
params = json.loads(os.environ["FORJA_PARAMS"])
print("preparing", params)
with open(os.environ["FORJA_OUTPUTS"], "w") as f:
    json.dump({"rows": 3, "day": params.get("day")}, f)
`;

/**
 * A step that fails while no experiment is named by its `gate` parameter (to test retry). It asks the
 * API through the job's FORJA_URL and FORJA_TOKEN: a step sees nothing of the server's disk.
 */
export const USE_SCRIPT = `
import json, os, urllib.error, urllib.parse, urllib.request
params = json.loads(os.environ["FORJA_PARAMS"])
print("got", params["rows"], "rows for", params["day"])
if params.get("gate"):
    url = os.environ["FORJA_URL"] + "/api/v1/experiments/by-name/" + urllib.parse.quote(params["gate"])
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + os.environ["FORJA_TOKEN"]}), timeout=10)
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
        raise SystemExit("the gate is closed")
with open(os.environ["FORJA_OUTPUTS"], "w") as f:
    json.dump({"total": params["rows"] * 2}, f)
`;

/** prep → use → after, as prep.py and use.py; `requirements` gives the first step a requirements file. */
export function dailyPipeline(options: { requirements?: string } = {}): string {
  return `
name: daily
params:
  day: "2026-11-23"
  gate: ""
steps:
  - id: prep
    script: prep.py${options.requirements ? `\n    requirements: ${options.requirements}` : ''}
    params: { day: "\${{ params.day }}" }
  - id: use
    script: use.py
    needs: [prep]
    params: { rows: "\${{ steps.prep.outputs.rows }}", day: "day \${{ steps.prep.outputs.day }}", gate: "\${{ params.gate }}" }
  - id: after
    script: use.py
    needs: [use]
    params: { rows: "\${{ steps.use.outputs.total }}", day: "later" }
`;
}

/** A training script in MLOps Codex's shape: train_model(df, base_path) returns the model and metrics. */
export const TRAIN_MODEL_SCRIPT = `
from sklearn.linear_model import LogisticRegression

def train_model(df, base_path):
    print("fitting on", len(df), "rows")
    model = LogisticRegression().fit(df[["x"]], df["y"])
    return {"pipeline": model, "metrics": {"accuracy": float(model.score(df[["x"]], df["y"]))}}
`;
