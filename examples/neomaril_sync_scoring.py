"""A credit-scoring model deployed the MLOps Codex (Neomaril) way, on Forja.

The model is a scorer script with Neomaril's contract, ``score(data, base_path)``: ``data`` is
the request's JSON as a string, the files sit in ``base_path``, ``modelFileName`` names the
model file, and the ``.env`` secrets arrive as environment variables. It is uploaded with
``forja.ModelClient.create_model`` (Neomaril's ``MLOpsModelClient.create_model`` arguments),
built, called like ``model(data)``, and deleted at the end (set ``EXAMPLE_KEEP=1`` to keep it).

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token>
    python examples/neomaril_sync_scoring.py

Only the standard library runs on the server, so the build takes seconds. The last line
printed is a JSON summary.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import forja

# The scorer, as a Neomaril user would write it: module-level loading, then score().
APP = '''
import json
import math
import os

BASE_PATH = os.environ["BASE_PATH"]
with open(os.path.join(BASE_PATH, os.environ["modelFileName"])) as f:
    SCORECARD = json.load(f)
with open(os.path.join(BASE_PATH, "region_risk.json")) as f:
    REGION_RISK = json.load(f)
# A secret from the .env file: the cut-off is policy, not code.
THRESHOLD = float(os.environ["APPROVAL_THRESHOLD"])


def _probability(row):
    if row["income"] <= 0:
        raise ValueError("income must be positive")
    z = SCORECARD["intercept"]
    z += SCORECARD["coef"]["log_income"] * math.log(row["income"])
    z += SCORECARD["coef"]["debt_ratio"] * row["debt"] / row["income"]
    z += SCORECARD["coef"]["age"] * row["age"]
    z += SCORECARD["coef"]["late_payments"] * row["late_payments"]
    z += REGION_RISK.get(row["region"], REGION_RISK["default"])
    return 1 / (1 + math.exp(-z))


def score(data, base_path):
    request = json.loads(data)
    if isinstance(request, dict) and "Input" in request:
        request = request["Input"]
    rows = request if isinstance(request, list) else [request]
    results = []
    for row in rows:
        p = _probability(row)
        results.append({"probability_default": round(p, 4), "decision": "deny" if p >= THRESHOLD else "approve"})
    return {"results": results, "model_version": SCORECARD["version"]}
'''

SCORECARD = {
    "version": "2024.11",
    "intercept": 2.0,
    "coef": {"log_income": -0.45, "debt_ratio": 2.2, "age": -0.02, "late_payments": 0.6},
}
REGION_RISK = {"north": -0.1, "south": 0.15, "default": 0.0}
SCHEMA = {"income": 5200.0, "debt": 1300.0, "age": 41, "late_payments": 0, "region": "north"}
APPLICANTS = [
    {"income": 8000.0, "debt": 500.0, "age": 45, "late_payments": 0, "region": "north"},
    {"income": 1500.0, "debt": 1400.0, "age": 23, "late_payments": 4, "region": "south"},
    {"income": 4200.0, "debt": 900.0, "age": 37, "late_payments": 1, "region": "west"},
]


def write_bundle(folder: Path) -> None:
    (folder / "app.py").write_text(APP)
    (folder / "scorecard.json").write_text(json.dumps(SCORECARD))
    (folder / "region_risk.json").write_text(json.dumps(REGION_RISK))
    (folder / "requirements.txt").write_text("# the standard library is enough\n")
    (folder / ".env").write_text("APPROVAL_THRESHOLD=0.5\n")


def main() -> int:
    name = os.environ.get("EXAMPLE_MODEL", "credit-scoring")
    folder = Path(tempfile.mkdtemp(prefix="neomaril-sync-"))
    write_bundle(folder)

    with forja.ModelClient() as client:  # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
        model = client.create_model(
            model_name=name,
            model_reference="score",
            source_file=str(folder / "app.py"),
            model_file=str(folder / "scorecard.json"),
            requirements_file=str(folder / "requirements.txt"),
            schema=SCHEMA,
            extra_files=[str(folder / "region_risk.json")],
            env=str(folder / ".env"),
            python_version="",  # the server's Python; "3.11" or Neomaril's "Python311" pick one
            operation="Sync",
            input_type="json",
            wait_for_ready=True,
        )
        status = model.status  # Deployed: a failed build raises forja.DeploymentFailed instead
        print(f"{model}: built", file=sys.stderr)

        one = model.predict(APPLICANTS[0])  # one applicant
        batch = model({"Input": APPLICANTS})  # Neomaril's shorthand and body
        print(json.dumps(one), file=sys.stderr)
        print(model.generate_predict_code("python"), file=sys.stderr)

        try:
            model.predict({**APPLICANTS[0], "income": 0.0})
            model_error = ""
        except forja.ModelError as err:  # the scorer raised: 422 with its exception
            model_error = err.message

        deleted = False
        if os.environ.get("EXAMPLE_KEEP") != "1":
            model.delete()
            deleted = True

    print(
        json.dumps(
            {
                "id": model.id,
                "status": status,
                "first": one["results"][0],
                "decisions": [r["decision"] for r in batch["results"]],
                "model_error": model_error,
                "deleted": deleted,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
