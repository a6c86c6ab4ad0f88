"""The real `mlflow` client, unchanged, against a live Forja: MLFLOW_TRACKING_URI is all it gets."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import ADMIN_PASSWORD, ADMIN_TOKEN, REPO, unique  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


@pytest.fixture
def tracking(server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", ADMIN_TOKEN)
    # Errors must come back at once, not after the client's minutes of retries.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(server.url)
    yield mlflow.MlflowClient(server.url)
    while mlflow.active_run():
        mlflow.end_run()


def test_nested_runs_params_metrics_tags_and_artifacts(tracking, tmp_path):
    mlflow.set_experiment(unique("compat-basic"))
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": 2, "gamma": "x"})
        for step in range(5):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "weird": float("nan"), "huge": float("inf")})
        mlflow.set_tags({"team": "growth", "stage": "dev"})
        mlflow.log_dict({"layers": [64, 32]}, "config/model.json")
        mlflow.log_text("hello forja", "notes/readme.txt")
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [2, 1, 3])
        mlflow.log_figure(fig, "plots/curve.png")
        local = tmp_path / "data.csv"
        local.write_text("x,y\n1,2\n")
        mlflow.log_artifact(str(local), artifact_path="data")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 1.0)

    run = tracking.get_run(parent.info.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "parent"
    assert run.data.params == {"alpha": "0.5", "beta": "2", "gamma": "x"}
    assert run.data.metrics["loss"] == pytest.approx(0.2)
    assert math.isnan(run.data.metrics["weird"])
    assert run.data.metrics["huge"] == pytest.approx(1.7976931348623157e308)
    assert run.data.tags["team"] == "growth"
    assert tracking.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id

    history = tracking.get_metric_history(parent.info.run_id, "loss")
    assert [(m.step, round(m.value, 4)) for m in history] == [(0, 1.0), (1, 0.5), (2, 0.3333), (3, 0.25), (4, 0.2)]

    top = {f.path: f.is_dir for f in tracking.list_artifacts(parent.info.run_id)}
    assert top == {"config": True, "data": True, "notes": True, "plots": True}
    assert [f.path for f in tracking.list_artifacts(parent.info.run_id, "plots")] == ["plots/curve.png"]
    assert mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/config/model.json") == {"layers": [64, 32]}
    assert mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/notes/readme.txt") == "hello forja"
    downloaded = Path(mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="data", dst_path=str(tmp_path / "dl")))
    assert (downloaded / "data.csv").read_text() == "x,y\n1,2\n"
    png = Path(mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="plots/curve.png", dst_path=str(tmp_path / "png")))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sklearn_log_model_and_pyfunc_load_predict_the_same(tracking):
    mlflow.set_experiment(unique("compat-model"))
    X, y = load_iris(return_X_y=True, as_frame=True)
    X = X.astype("float64")
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(clf, name="model", signature=infer_signature(X, clf.predict(X)), input_example=X.head(3))
    assert info.model_uri.startswith("models:/m-")
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert (by_run.predict(X) == clf.predict(X)).all()
    by_id = mlflow.pyfunc.load_model(info.model_uri)
    assert (by_id.predict(X.head(10)) == clf.predict(X.head(10))).all()
    assert by_id.metadata.get_input_schema().input_names() == list(X.columns)
    logged = tracking.get_logged_model(info.model_id)
    assert logged.status.to_proto() == 2  # LOGGED_MODEL_READY
    assert logged.source_run_id == run.info.run_id


def test_search_runs_to_pandas_with_filter_and_order(tracking):
    name = unique("compat-search")
    mlflow.set_experiment(name)
    for i in range(6):
        with mlflow.start_run(run_name=f"r{i}"):
            mlflow.log_param("model", "rf" if i % 2 else "xgb")
            mlflow.log_metric("acc", i / 10)
    df = mlflow.search_runs(experiment_names=[name], filter_string="metrics.acc > 0.15 and params.model = 'rf'", order_by=["metrics.acc DESC"])
    assert isinstance(df, pd.DataFrame)
    assert df["tags.mlflow.runName"].tolist() == ["r5", "r3"]
    assert df["metrics.acc"].tolist() == [0.5, 0.3]
    runs = tracking.search_runs([mlflow.get_experiment_by_name(name).experiment_id], max_results=4, order_by=["metrics.acc ASC"])
    assert [r.info.run_name for r in runs] == ["r0", "r1", "r2", "r3"]
    assert runs.token
    rest = tracking.search_runs([mlflow.get_experiment_by_name(name).experiment_id], max_results=4, order_by=["metrics.acc ASC"], page_token=runs.token)
    assert [r.info.run_name for r in rest] == ["r4", "r5"]
    with pytest.raises(MlflowException) as bad:
        mlflow.search_runs(experiment_names=[name], filter_string="metrics.acc >> 1")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "position" in str(bad.value)


def test_log_input_of_a_pandas_dataset(tracking):
    name = unique("compat-dataset")
    mlflow.set_experiment(name)
    df = pd.DataFrame({"x": np.arange(10), "y": np.arange(10) * 2})
    with mlflow.start_run() as run:
        mlflow.log_input(mlflow.data.from_pandas(df, name="training-set", targets="y"), context="training")
    inputs = tracking.get_run(run.info.run_id).inputs.dataset_inputs
    assert inputs[0].dataset.name == "training-set"
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training"}
    found = mlflow.search_runs(experiment_names=[name], filter_string="dataset.name = 'training-set' and dataset.context = 'training'")
    assert found["run_id"].tolist() == [run.info.run_id]


def test_delete_restore_and_mlflow_error_codes(tracking):
    name = unique("compat-errors")
    exp_id = tracking.create_experiment(name)
    with pytest.raises(RestException) as dup:
        tracking.create_experiment(name)
    assert dup.value.error_code == "RESOURCE_ALREADY_EXISTS"
    run = tracking.create_run(exp_id)
    tracking.log_param(run.info.run_id, "p", "1")
    with pytest.raises(MlflowException) as changed:
        tracking.log_param(run.info.run_id, "p", "2")
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    tracking.delete_run(run.info.run_id)
    assert tracking.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException) as deleted:
        tracking.log_metric(run.info.run_id, "m", 1.0)
    assert deleted.value.error_code == "INVALID_PARAMETER_VALUE"
    tracking.restore_run(run.info.run_id)
    tracking.log_metric(run.info.run_id, "m", 1.0)
    tracking.delete_experiment(exp_id)
    assert tracking.get_experiment(exp_id).lifecycle_stage == "deleted"
    tracking.restore_experiment(exp_id)
    assert tracking.get_experiment(exp_id).lifecycle_stage == "active"
    with pytest.raises(MlflowException) as missing:
        tracking.get_run("0" * 32)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_basic_auth_with_username_and_password(server, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    client = mlflow.MlflowClient(server.url)
    exp_id = client.create_experiment(unique("compat-basic-auth"))
    assert client.get_experiment(exp_id).experiment_id == exp_id
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-password")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(MlflowException) as denied:
        mlflow.MlflowClient(server.url).get_experiment(exp_id)
    assert "UNAUTHENTICATED" in str(denied.value) or "401" in str(denied.value)


def test_kedro_style_example_runs_end_to_end(server, tracking):
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url, "MLFLOW_TRACKING_TOKEN": ADMIN_TOKEN, "EXAMPLE_EXPERIMENT": unique("kobe")}
    done = subprocess.run([sys.executable, str(REPO / "examples" / "kedro_style_pipeline.py")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["best"] in {"logistic_regression", "decision_tree"}
    client = tracking
    training = client.get_run(summary["training_run"])
    assert training.data.tags["best_model"] == summary["best"]
    assert "best_log_loss" in training.data.metrics
    children = client.search_runs([training.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{training.info.run_id}'")
    assert sorted(r.info.run_name for r in children) == ["decision_tree", "logistic_regression"]


def test_a_tracking_uri_with_g_group_logs_into_that_group(server, tracking, monkeypatch):
    import forja

    group = unique("mlgrp")
    with forja.Client(server.url, token=ADMIN_TOKEN) as admin:
        admin.groups.create(group)
    uri = f"{server.url}/g/{group}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    exp_id = mlflow.create_experiment("same-name-elsewhere")
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_text("in my group", "where.txt")
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/where.txt") == "in my group"
    with forja.Client(server.url, token=ADMIN_TOKEN, group=group) as client:
        exp = client.request("GET", f"/api/v1/experiments/{exp_id}")
    assert exp["group"] == group
    # The same name is free in the default group: names are unique per group.
    mlflow.set_tracking_uri(server.url)
    assert mlflow.create_experiment("same-name-elsewhere") != exp_id


def test_registry_flow_with_the_mlflow_client(tracking):
    mlflow.set_experiment(unique("compat-registry"))
    name = unique("iris")
    X, y = load_iris(return_X_y=True, as_frame=True)
    X = X.astype("float64")
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(clf, name="model", input_example=X.head(2), registered_model_name=name)
    v2 = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert v2.version == "2"
    tracking.transition_model_version_stage(name, "1", "Production")
    tracking.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert tracking.get_model_version(name, "1").current_stage == "Archived"
    tracking.set_registered_model_alias(name, "champion", "2")
    assert tracking.get_model_version_by_alias(name, "champion").version == "2"
    assert [m.name for m in tracking.search_registered_models(filter_string=f"name = '{name}'")] == [name]
    assert sorted(v.version for v in tracking.search_model_versions(f"name = '{name}'")) == ["1", "2"]
    assert [v.version for v in tracking.get_latest_versions(name, stages=["Production"])] == ["2"]
    for uri in (f"models:/{name}@champion", f"models:/{name}/1", f"models:/{name}/Production"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert (loaded.predict(X) == clf.predict(X)).all(), uri
    tracking.set_model_version_tag(name, "2", "validated", "yes")
    assert tracking.get_model_version(name, "2").tags == {"validated": "yes"}
    tracking.delete_registered_model_alias(name, "champion")
    with pytest.raises(MlflowException) as gone:
        tracking.get_model_version_by_alias(name, "champion")
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(RestException) as dup:
        tracking.create_registered_model(name)
    assert dup.value.error_code == "RESOURCE_ALREADY_EXISTS"
