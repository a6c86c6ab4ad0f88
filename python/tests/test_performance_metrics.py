"""Known answers: the server's performance metrics (POST /api/v1/performance, the computation a
monitor runs on labelled inference rows) match scikit-learn's on the same fixtures to 1e-6, and a
collapse like the seed project's (ROC AUC .59 → .54, F1 → 0) is flagged against its baseline."""

from __future__ import annotations

import forja
import numpy as np
import pytest
from conftest import ADMIN_TOKEN
from sklearn import metrics as skm

TOL = 1e-6


@pytest.fixture(scope="module")
def client(server):
    with forja.Client(server.url, token=ADMIN_TOKEN) as c:
        yield c


def perf(client: forja.Client, **body) -> dict:
    return client.request("POST", "/api/v1/performance", json=body)


def close(got: dict, want: dict) -> None:
    for name, value in want.items():
        assert got[name] == pytest.approx(value, abs=TOL), f"{name}: server {got[name]} vs scikit-learn {value}"


def test_binary_classifier_matches_sklearn_with_tied_scores_and_clipped_probabilities(client):
    rng = np.random.default_rng(17)
    y = rng.integers(0, 2, 3000)
    # Scores rounded to two decimals: many ties, which roc_auc_score counts half; exact 0s and 1s test the clip.
    score = np.clip(np.round(0.35 * y + rng.normal(0.35, 0.25, y.size), 2), 0, 1)
    pred = (score >= 0.5).astype(int)
    report = perf(client, task="classification", prediction=pred.tolist(), label=y.tolist(), score=score.tolist())
    assert report["labelledRows"] == y.size
    assert (score == 0).any() and (score == 1).any() and np.unique(score).size < 150
    close(
        report["metrics"],
        {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred),
            "recall": skm.recall_score(y, pred),
            "f1": skm.f1_score(y, pred),
            "roc_auc": skm.roc_auc_score(y, score),
            "log_loss": skm.log_loss(y, score),
        },
    )


def test_text_labels_with_a_named_positive_class(client):
    rng = np.random.default_rng(3)
    y = rng.choice(["no", "yes"], 500, p=[0.7, 0.3])
    pred = np.where(rng.random(500) < 0.8, y, np.where(y == "yes", "no", "yes"))
    report = perf(client, task="classification", prediction=pred.tolist(), label=y.tolist(), positiveLabel="no")
    close(
        report["metrics"],
        {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, pos_label="no"),
            "recall": skm.recall_score(y, pred, pos_label="no"),
            "f1": skm.f1_score(y, pred, pos_label="no"),
        },
    )
    assert report["metrics"]["roc_auc"] is None and report["metrics"]["log_loss"] is None


def test_multiclass_macro_averages_match_sklearn_including_a_class_never_predicted(client):
    rng = np.random.default_rng(5)
    y = rng.choice(["cat", "dog", "emu", "fox"], 1200)
    pred = np.where((rng.random(1200) < 0.6) & (y != "fox"), y, rng.choice(["cat", "dog", "emu"], 1200))
    assert "fox" not in set(pred)
    report = perf(client, task="classification", prediction=pred.tolist(), label=y.tolist())
    close(
        report["metrics"],
        {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, average="macro", zero_division=0),
            "recall": skm.recall_score(y, pred, average="macro", zero_division=0),
            "f1": skm.f1_score(y, pred, average="macro", zero_division=0),
        },
    )


def test_regressor_matches_sklearn(client):
    rng = np.random.default_rng(11)
    y = rng.normal(50, 12, 4000)
    pred = y + rng.normal(2, 5, y.size)
    report = perf(client, task="regression", prediction=pred.tolist(), label=y.tolist())
    close(
        report["metrics"],
        {
            "mae": skm.mean_absolute_error(y, pred),
            "rmse": np.sqrt(skm.mean_squared_error(y, pred)),
            "r2": skm.r2_score(y, pred),
        },
    )


def test_the_seed_projects_collapse_is_flagged_against_its_baseline(client):
    rng = np.random.default_rng(2024)
    y = rng.integers(0, 2, 5000)
    # A model that no longer separates the classes: scores barely depend on the label, every prediction negative.
    score = np.clip(rng.normal(0.3 + 0.03 * y, 0.3), 0, 1)
    pred = np.zeros(y.size, dtype=int)
    baseline = {"roc_auc": 0.59, "f1": 0.41, "accuracy": 0.57}
    report = perf(client, task="classification", prediction=pred.tolist(), label=y.tolist(), score=score.tolist(), baseline=baseline, tolerance=0.05)
    m = report["metrics"]
    assert m["f1"] == 0 and m["recall"] == 0
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=TOL)
    assert 0.52 < m["roc_auc"] < 0.56, m["roc_auc"]
    flagged = {d["metric"]: d for d in report["degraded"]}
    assert {"f1", "roc_auc"} <= set(flagged), report["degraded"]
    assert flagged["roc_auc"]["baseline"] == 0.59 and flagged["f1"]["current"] == 0
    # The default tolerance (10 % of the baseline) lets the AUC's drop of 0.05 pass and still flags F1.
    default = perf(client, task="classification", prediction=pred.tolist(), label=y.tolist(), score=score.tolist(), baseline=baseline)
    assert "f1" in {d["metric"] for d in default["degraded"]} and "roc_auc" not in {d["metric"] for d in default["degraded"]}


def test_bad_input_is_a_400_naming_the_problem(client):
    with pytest.raises(forja.ApiError) as e:
        perf(client, task="classification", prediction=[1, 0], label=[1, 0, 1])
    assert e.value.status == 400 and "2 prediction, 3 label" in str(e.value)
    with pytest.raises(forja.ApiError) as e:
        perf(client, task="regression", prediction=["a", "b"], label=[1, 2])
    assert e.value.status == 400 and "need numbers" in str(e.value)
    with pytest.raises(forja.ApiError) as e:
        perf(client, task="classification", label=[1])
    assert e.value.status == 400 and "prediction" in str(e.value)
