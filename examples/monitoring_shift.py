"""Monitoring, the whole loop: a model served traffic that has moved away from its training data.

A classifier is trained on half of scikit-learn's breast cancer data (shipped with scikit-learn,
no download) and deployed with its inference log at 100 %. The other half is sent to it as
traffic after two of its six features were shifted on purpose: ``mean_radius`` scaled by 1.25 and
``mean_texture`` moved up by one standard deviation, the kind of change a new scanner or a
recalibrated lab brings. A monitor compares the logged traffic with the training data:

1. its first run flags the two shifted features and none of the four stable ones;
2. the true diagnoses are then posted as labels (joined to the log by the ``case_id`` each row
   carried), and the second run measures the accuracy drop against the cross-validated baseline;
3. an alert rule on ``performance.accuracy`` fires.

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token>
    python examples/monitoring_shift.py

Needs scikit-learn, pandas and pyarrow on this machine; the deployed scorer uses only the standard
library (the model travels as its coefficients), so the build takes seconds. The last line printed
is a JSON summary; everything made is deleted at the end unless ``EXAMPLE_KEEP=1``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import forja
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "mean_compactness", "mean_symmetry", "worst_concave_points"]
SHIFTED = ["mean_radius", "mean_texture"]
SEED = 0
BATCH = 50  # rows per call, as a client scoring a queue would send them

# The scorer: standardise, then the logistic model's decision, from the exported coefficients.
APP = '''
import json
import os

with open(os.path.join(os.environ["BASE_PATH"], os.environ["modelFileName"])) as f:
    MODEL = json.load(f)


def _predict(row):
    z = MODEL["intercept"]
    for name, mean, scale, coef in zip(MODEL["features"], MODEL["mean"], MODEL["scale"], MODEL["coef"]):
        z += coef * (row[name] - mean) / scale
    return 1 if z > 0 else 0


def score(data, base_path):
    rows = json.loads(data)
    rows = rows if isinstance(rows, list) else [rows]
    return {"predictions": [_predict(row) for row in rows]}
'''


def load_data() -> "tuple[pd.DataFrame, pd.Series]":
    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=lambda c: c.replace(" ", "_"))[FEATURES]
    return frame, data.target


def shift(frame: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The traffic's change: a rescaled radius and a texture reading one reference std higher."""
    moved = frame.copy()
    moved["mean_radius"] = moved["mean_radius"] * 1.25
    moved["mean_texture"] = moved["mean_texture"] + reference["mean_texture"].std()
    return moved


def export(model, folder: Path) -> None:
    scaler, logistic = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    weights = {
        "features": FEATURES,
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": logistic.coef_[0].tolist(),
        "intercept": float(logistic.intercept_[0]),
    }
    (folder / "app.py").write_text(APP)
    (folder / "model.json").write_text(json.dumps(weights))


def wait_for_log(model: forja.ForjaModel, rows: int, timeout: float = 120) -> None:
    """The log is written off the predict path, in batches: wait until every call's rows are in."""
    deadline = time.monotonic() + timeout
    while (logged := model.inference_log()["rows"]) < rows:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the inference log has {logged} of {rows} rows after {timeout:g}s")
        time.sleep(0.5)


def main() -> int:
    suffix = os.environ.get("EXAMPLE_SUFFIX", uuid.uuid4().hex[:8])
    X, y = load_data()
    X_train, X_live, y_train, y_live = train_test_split(X, y, test_size=0.5, random_state=SEED, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    baseline = float(cross_val_score(model, X_train, y_train, cv=5, scoring="accuracy").mean())
    model.fit(X_train, y_train)

    traffic = shift(X_live, X_train).reset_index(drop=True)
    traffic.insert(0, "case_id", [f"case-{i}" for i in range(len(traffic))])
    truth = y_live.reset_index(drop=True)

    folder = Path(tempfile.mkdtemp(prefix="monitoring-shift-"))
    export(model, folder)
    keep = os.environ.get("EXAMPLE_KEEP") == "1"

    with forja.Client() as client:  # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
        models, monitoring = forja.ModelClient(client), forja.MonitoringClient(client)
        deployed = models.create_model(
            model_name=f"cancer-{suffix}",
            model_reference="score",
            source_file=folder / "app.py",
            model_file=folder / "model.json",
            requirements_file=None,
            schema=[traffic.iloc[0].to_dict()],
            settings={"inferenceLog": {"sampleRate": 100}},
        )
        print(f"{deployed}: built", file=sys.stderr)
        monitor = None
        try:
            started = int(time.time() * 1000) - 1000
            for at in range(0, len(traffic), BATCH):
                deployed.predict(traffic.iloc[at : at + BATCH].to_dict(orient="records"))
            wait_for_log(deployed, len(traffic))

            monitor = monitoring.register_monitor(
                f"cancer-watch-{suffix}",
                deployment=deployed,
                reference=X_train,  # the training data, uploaded as the reference
                period="day",
                checks={"performance": {"task": "classification", "positiveLabel": 1, "baseline": {"accuracy": baseline}}},
                input_columns=FEATURES,
                scheduled=False,
            )
            rule = monitor.add_alert_rule("accuracy fell", "performance.accuracy", "<", baseline - 0.1, severity="critical")

            first = monitor.run(start=started, end=int(time.time() * 1000) + 1000)
            report = first.drift_report()
            print(report[["column", "method", "statistic", "p_value", "drifted"]].to_string(index=False), file=sys.stderr)

            labels = [{"key": case, "label": int(label)} for case, label in zip(traffic["case_id"], truth)]
            posted = deployed.post_labels(labels, key="case_id")
            second = monitor.run(start=started, end=int(time.time() * 1000) + 1000)
            performance = second.performance or {}
            print(f"accuracy: baseline {baseline:.3f}, live {performance['metrics']['accuracy']:.3f}", file=sys.stderr)
            fired = [a for a in monitor.alerts() if a["ruleId"] == rule["id"]]  # rules are evaluated as the run ends
            print(monitoring.results(monitor, metrics=["drift.share", "performance.accuracy"]).to_string(index=False), file=sys.stderr)
        finally:
            if not keep:
                if monitor is not None:
                    monitor.delete()
                deployed.delete()

    print(
        json.dumps(
            {
                "drifted": sorted(report.loc[report.drifted, "column"].tolist()),
                "stable": sorted(report.loc[~report.drifted, "column"].tolist()),
                "shifted": sorted(SHIFTED),
                "labels": posted["accepted"],
                "baseline_accuracy": baseline,
                "live_accuracy": performance.get("metrics", {}).get("accuracy"),
                "degraded": [d["metric"] for d in performance.get("degraded", [])],
                "alerts": [{"metric": a["metric"], "value": a["value"], "status": a["status"]} for a in fired],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
