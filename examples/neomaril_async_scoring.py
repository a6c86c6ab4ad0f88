"""A batch credit-scoring model deployed the MLOps Codex (Neomaril) async way, on Forja.

An async model takes a file and gives back a file. Its scorer follows Neomaril's async contract,
``score(data_path, model_path)``: ``data_path`` is the folder holding the uploaded file under its
own name (``inputFileName``), ``model_path`` the folder of the model file and extras; it writes
its output **in data_path** and returns that path. It is
uploaded with ``forja.ModelClient.create_model(..., operation="Async")``; ``model.predict(path)``
uploads a CSV and returns a ``forja.ForjaExecution``, which waits (``wait_ready``) and downloads
its output (``download_result``). The model is deleted at the end (``EXAMPLE_KEEP=1`` keeps it).

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token>
    python examples/neomaril_async_scoring.py

Only the standard library runs on the server, so the build takes seconds. The last line
printed is a JSON summary.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import forja

# The scorer, as a Neomaril user would write it for an async model: no pandas needed.
APP = '''
import csv
import json
import math
import os


def _probability(card, row):
    income = float(row["income"])
    if income <= 0:
        raise ValueError(f"applicant {row['applicant_id']}: income must be positive")
    z = card["intercept"]
    z += card["coef"]["log_income"] * math.log(income)
    z += card["coef"]["debt_ratio"] * float(row["debt"]) / income
    z += card["coef"]["age"] * int(row["age"])
    z += card["coef"]["late_payments"] * int(row["late_payments"])
    return 1 / (1 + math.exp(-z))


def score(data_path, model_path):
    with open(os.path.join(model_path, "scorecard.json")) as f:
        card = json.load(f)
    # The output goes in data_path, beside the input: Forja hands back the file whose path is returned.
    output = os.path.join(data_path, "scores.csv")
    rows = 0
    with open(os.path.join(data_path, os.environ["inputFileName"]), newline="") as src, open(output, "w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["applicant_id", "probability_default", "decision"])
        for row in csv.DictReader(src):
            p = _probability(card, row)
            writer.writerow([row["applicant_id"], f"{p:.6f}", "deny" if p >= card["threshold"] else "approve"])
            rows += 1
    print(f"scored {rows} applicants of {os.environ['inputFileName']} (execution {os.environ['EXECUTION_ID']})")
    return output
'''

SCORECARD = {
    "version": "2024.11",
    "threshold": 0.5,
    "intercept": 2.0,
    "coef": {"log_income": -0.45, "debt_ratio": 2.2, "age": -0.02, "late_payments": 0.6},
}
FIELDS = ["applicant_id", "income", "debt", "age", "late_payments"]


def generate_applicants(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for i in range(count):
            income = round(rng.uniform(800, 12000), 2)
            writer.writerow([f"A{i:05d}", income, round(income * rng.uniform(0, 1.2), 2), rng.randint(18, 75), rng.choice([0, 0, 0, 1, 2, 5])])


def expected_scores(applicants: Path) -> list:
    """The same scorer run here, to check what the server sent back."""
    scorer: dict = {}
    exec(compile(APP, "app.py", "exec"), scorer)
    with applicants.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        p = scorer["_probability"](SCORECARD, row)
        out.append([row["applicant_id"], f"{p:.6f}", "deny" if p >= SCORECARD["threshold"] else "approve"])
    return out


def main() -> int:
    name = os.environ.get("EXAMPLE_MODEL", "credit-batch")
    count = int(os.environ.get("EXAMPLE_ROWS", "5000"))
    folder = Path(tempfile.mkdtemp(prefix="neomaril-async-"))
    (folder / "app.py").write_text(APP)
    (folder / "scorecard.json").write_text(json.dumps(SCORECARD))
    applicants = folder / "applicants.csv"
    generate_applicants(applicants, count)

    with forja.ModelClient() as client:  # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
        model = client.create_model(
            model_name=name,
            model_reference="score",
            source_file=str(folder / "app.py"),
            model_file=str(folder / "scorecard.json"),
            requirements_file=None,  # the standard library is enough
            python_version="",  # the server's Python; "3.11" or Neomaril's "Python311" pick one
            operation="Async",
            input_type="csv",
            wait_for_ready=True,
        )
        status = model.status  # Deployed: a failed build raises forja.DeploymentFailed instead
        print(f"{model}: built", file=sys.stderr)

        execution = model.predict(str(applicants))  # uploads the file; returns at once
        print(f"{execution}: started", file=sys.stderr)
        execution.wait_ready(timeout=600)  # long-polls its job; ExecutionFailed says why it failed
        result = execution.download_result(folder)  # into a folder, under its own name (scores.csv)
        print(f"{execution}: {result}", file=sys.stderr)
        log = execution.get_logs()

        with open(result, newline="") as f:
            got = list(csv.reader(f))
        matches = got[0] == ["applicant_id", "probability_default", "decision"] and got[1:] == expected_scores(applicants)

        # A file the scorer refuses: the execution fails with the end of its traceback.
        broken = folder / "broken.csv"
        broken.write_text("applicant_id,income,debt,age,late_payments\nB1,0,100,30,0\n")
        try:
            model.execute(str(broken), wait_complete=True)
            failure = ""
        except forja.ExecutionFailed as err:
            failure = err.message.strip().splitlines()[-1]

        executions = [e.status for e in model.executions()]  # newest first
        deleted = False
        if os.environ.get("EXAMPLE_KEEP") != "1":
            model.delete()
            deleted = True

    decisions = [row[2] for row in got[1:]]
    print(
        json.dumps(
            {
                "id": model.id,
                "status": status,
                "execution": execution.id,
                "execution_status": execution.status,
                "output": Path(result).name,
                "rows": len(got) - 1,
                "matches": matches,
                "denied": decisions.count("deny"),
                "log": log,
                "failure": failure,
                "executions": executions,
                "deleted": deleted,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
