"""MLflow 3's links between runs and logged models, side by side with a real `mlflow server`.

One script (metrics, a 500-step history, a dataset, `mlflow.sklearn.log_model`, a metric logged
with the model and the dataset, a registered version) runs unchanged against a real MLflow server
and against Forja on SQLite and on PostgreSQL; what landed is read back over the wire and compared.
Then what MLflow cannot show: another group's runs, models and folders stay out of reach.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Dict
from unittest import mock

import forja
import httpx
import mlflow
import numpy as np
import pytest
from conftest import ADMIN_TOKEN, RealMlflow, unique
from mlflow.entities import LoggedModelInput, Metric
from sklearn.linear_model import LogisticRegression

T0 = 1_700_000_000_000  # timestamps of the 500-step history, the same on every server
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
API = "/api/2.0/mlflow"


def _get(uri: str, path: str, **params: Any) -> Any:
    r = httpx.get(f"{uri}{API}/{path}", params=params, headers=HEADERS, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _post(uri: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{uri}{API}/{path}", json=body, headers=HEADERS, timeout=30)


def land(uri: str) -> Dict[str, Any]:
    """Runs the MLflow 3 script against `uri`, then reads back what landed, ids made comparable."""
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_TOKEN": ADMIN_TOKEN, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}):
        mlflow.set_tracking_uri(uri)
        client = mlflow.MlflowClient(uri)
        experiment_id = mlflow.set_experiment(unique("links")).experiment_id
        ds = mlflow.data.from_numpy(np.arange(6.0).reshape(3, 2), name="train-ds")
        x, y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]), np.array([0, 1, 1, 0])
        with mlflow.start_run() as run:
            mlflow.log_metric("once", 0.5)
            client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), T0 + s, s) for s in range(500)])
            mlflow.log_input(ds, context="training")
            # pip_requirements: no requirement inference, which is slow and not what is tested here.
            info = mlflow.sklearn.log_model(LogisticRegression().fit(x, y), name="model", pip_requirements=["scikit-learn"])
            mlflow.log_metric("acc", 0.9, model_id=info.model_id, dataset=ds)
            registered = unique("links-model")
            version = mlflow.register_model(f"models:/{info.model_id}", registered)
        with mlflow.start_run() as user:
            client.log_inputs(user.info.run_id, models=[LoggedModelInput(info.model_id)])
        remote = _post(uri, "model-versions/create", {"name": registered, "source": "s3://bucket/models/churn", "run_id": uuid.uuid4().hex})
        mlflow.set_tracking_uri("")

    ids = {info.model_id: "<model>", run.info.run_id: "<run>", user.info.run_id: "<user-run>", registered: "<registered>"}

    def same(value: Any) -> Any:
        """The answer with this server's ids and free timestamps replaced, so servers compare."""
        text = json.dumps(value, sort_keys=True)
        for real, placeholder in ids.items():
            text = text.replace(real, placeholder)
        return json.loads(text)

    def points(key: str) -> list:
        ms = _get(uri, "metrics/get-history", run_id=run.info.run_id, metric_key=key)["metrics"]
        # Timestamps are compared where the script chose them (the history), not where the clock did.
        return [(m["step"], m["value"], m["timestamp"] if key == "loss" else None) for m in ms]

    logged = httpx.get(f"{uri}{API}/logged-models/{info.model_id}", headers=HEADERS).json()["model"]
    got = _get(uri, "runs/get", run_id=run.info.run_id)["run"]
    searched = _post(uri, "runs/search", {"experiment_ids": [experiment_id]}).json()["runs"]

    def found(body: dict) -> int:
        r = _post(uri, "logged-models/search", {"experiment_ids": [experiment_id], **body})
        assert r.status_code == 200, r.text
        return len(r.json().get("models", []))

    mv = remote.json().get("model_version", {})
    return {
        "histories": {k: points(k) for k in ("once", "loss", "acc")},
        "run_inputs": same(got["inputs"]),
        "run_outputs": same(got["outputs"]),
        "user_run_inputs": same(_get(uri, "runs/get", run_id=user.info.run_id)["run"]["inputs"]),
        "searched": same(sorted(({"inputs": r.get("inputs"), "outputs": r.get("outputs")} for r in searched), key=json.dumps)),
        "model_metrics": same([{**m, "timestamp": m["timestamp"] if m["key"] == "loss" else None} for m in logged["data"]["metrics"]]),
        "model_versions_tag": same({t["key"]: t["value"] for t in logged["info"]["tags"]}.get("mlflow.modelVersions")),
        "version": version.version,
        "search_on_dataset": found({"filter": "metrics.acc > 0.5", "datasets": [{"dataset_name": "train-ds"}]}),
        "search_on_digest": found({"filter": "metrics.acc > 0.5", "datasets": [{"dataset_name": "train-ds", "dataset_digest": ds.digest}]}),
        "search_on_other_dataset": found({"filter": "metrics.acc > 0.5", "datasets": [{"dataset_name": "other-ds"}]}),
        "search_on_digest_alone": found({"datasets": [{"dataset_name": "train-ds", "dataset_digest": ds.digest}]}),
        "search_below_threshold": found({"filter": "metrics.acc > 0.95", "datasets": [{"dataset_name": "train-ds", "dataset_digest": ds.digest}]}),
        "remote_version": (remote.status_code, mv.get("source"), len(mv.get("run_id", ""))),
    }


@pytest.fixture(scope="module")
def anchor(real_mlflow: RealMlflow) -> Dict[str, Any]:
    return land(real_mlflow.url)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def landed(request) -> Dict[str, Any]:
    srv = request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")
    return land(srv.url)


def test_log_model_stores_each_metric_point_once(anchor, landed):
    assert len(anchor["histories"]["loss"]) == 500 and len(anchor["histories"]["once"]) == 1
    assert landed["histories"] == anchor["histories"]


def test_runs_show_their_model_inputs_and_outputs_as_mlflow_does(anchor, landed):
    assert anchor["run_outputs"] == {"model_outputs": [{"model_id": "<model>", "step": 0}]}
    assert anchor["user_run_inputs"] == {"model_inputs": [{"model_id": "<model>"}]}
    for key in ("run_inputs", "run_outputs", "user_run_inputs", "searched"):
        assert landed[key] == anchor[key], key


def test_a_logged_model_has_its_metrics_with_datasets_and_its_versions(anchor, landed):
    keys = {(m["key"], m.get("dataset_name")) for m in anchor["model_metrics"]}
    assert keys == {("once", None), ("loss", None), ("acc", "train-ds")}
    assert sorted(landed["model_metrics"], key=json.dumps) == sorted(anchor["model_metrics"], key=json.dumps)
    # The server writes {"version": 1}; the client then appends its own {"version": "1"}.
    assert anchor["model_versions_tag"] == '[{"name": "<registered>", "version": 1}, {"name": "<registered>", "version": "1"}]'
    assert landed["model_versions_tag"] == anchor["model_versions_tag"]
    assert landed["version"] == anchor["version"] == "1"


def test_logged_model_search_by_dataset(anchor, landed):
    keys = ("search_on_digest", "search_on_other_dataset", "search_on_digest_alone", "search_below_threshold")
    assert [anchor[k] for k in keys] == [1, 0, 1, 0]
    for key in keys:
        assert landed[key] == anchor[key], key
    # A dataset named without its digest means any digest. MLflow 3.17.2's REST handler turns the
    # missing digest into "" and so matches nothing (docs/mlflow.md lists this difference).
    assert landed["search_on_dataset"] == 1


def test_a_remote_source_and_a_run_id_of_no_run_are_stored_as_given(anchor, landed):
    assert anchor["remote_version"] == (200, "s3://bucket/models/churn", 32)
    assert landed["remote_version"] == anchor["remote_version"]


# ---- Forja only: groups. Another group's runs, models and folders are as good as missing. ----


@pytest.fixture(scope="module")
def elsewhere(server) -> Dict[str, str]:
    """A run, an experiment and a logged model in another group, made through /g/<group>."""
    group = unique("links-other")
    with forja.Client(server.url, token=ADMIN_TOKEN) as admin:
        admin.groups.create(group)
    base = f"{server.url}/g/{group}"
    exp = _post(base, "experiments/create", {"name": "theirs"}).json()["experiment_id"]
    run = _post(base, "runs/create", {"experiment_id": exp}).json()["run"]["info"]["run_id"]
    model = _post(base, "logged-models", {"experiment_id": exp, "source_run_id": run}).json()["model"]["info"]["model_id"]
    return {"experiment": exp, "run": run, "model": model}


@pytest.fixture
def mine(server) -> Dict[str, str]:
    exp = _post(server.url, "experiments/create", {"name": unique("links-mine")}).json()["experiment_id"]
    run = _post(server.url, "runs/create", {"experiment_id": exp}).json()["run"]["info"]["run_id"]
    return {"experiment": exp, "run": run}


def _error(r: httpx.Response) -> tuple:
    return r.status_code, r.json().get("error_code")


def test_a_model_id_of_another_group_is_a_404_like_a_missing_one(server, elsewhere, mine):
    missing = f"m-{uuid.uuid4().hex}"
    own = _post(server.url, "logged-models", {"experiment_id": mine["experiment"]}).json()["model"]["info"]["model_id"]
    for model_id in (elsewhere["model"], missing):
        # Each call also names a model of the run's own group first: the bad id still stores nothing.
        good_point = {"key": "acc", "value": 1, "timestamp": 1, "step": 0, "model_id": own}
        calls = {
            "runs/log-metric": {"run_id": mine["run"], "key": "acc", "value": 1, "timestamp": 1, "model_id": model_id},
            "runs/log-batch": {"run_id": mine["run"], "metrics": [good_point, {**good_point, "timestamp": 2, "model_id": model_id}]},
            "runs/outputs": {"run_id": mine["run"], "models": [{"model_id": own, "step": 0}, {"model_id": model_id, "step": 0}]},
            "runs/log-inputs": {"run_id": mine["run"], "models": [{"model_id": own}, {"model_id": model_id}]},
        }
        for path, body in calls.items():
            r = _post(server.url, path, body)
            assert _error(r) == (404, "RESOURCE_DOES_NOT_EXIST"), (path, r.text)
            assert model_id in r.json()["message"]
    # Nothing was half-written: no metric point, no link.
    assert _get(server.url, "metrics/get-history", run_id=mine["run"], metric_key="acc") == {"metrics": []}
    got = _get(server.url, "runs/get", run_id=mine["run"])["run"]
    assert (got["inputs"], got["outputs"]) == ({}, {})
    assert httpx.get(f"{server.url}{API}/logged-models/{own}", headers=HEADERS).json()["model"]["data"]["metrics"] == []


def test_a_malformed_model_id_on_a_metric_names_the_field(server, mine):
    r = _post(server.url, "runs/log-metric", {"run_id": mine["run"], "key": "acc", "value": 1, "timestamp": 1, "model_id": "not-a-model"})
    assert _error(r) == (400, "INVALID_PARAMETER_VALUE")
    assert "model_id" in r.json()["message"]


def test_model_versions_from_another_groups_things_look_like_missing_ones(server, elsewhere):
    name = unique("links-mv")
    assert _post(server.url, "registered-models/create", {"name": name}).status_code == 200
    absent_run = uuid.uuid4().hex

    def create(body: dict) -> httpx.Response:
        return _post(server.url, "model-versions/create", {"name": name, **body})

    def shape(r: httpx.Response, source: str) -> str:
        """Status and stored source or error message, with the source itself left out."""
        body = r.json()
        return f"{r.status_code} {body.get('model_version', {}).get('source', body.get('message'))}".replace(source, "<source>")

    # A run_id of another group's run is stored as given, exactly like one that names no run.
    theirs = create({"source": "s3://bucket/m", "run_id": elsewhere["run"]})
    nobody = create({"source": "s3://bucket/m", "run_id": absent_run})
    assert theirs.status_code == nobody.status_code == 200
    assert theirs.json()["model_version"]["run_id"] == elsewhere["run"]

    # runs:/ of their run: kept as given; the download URI is not their run's folder.
    via_run = create({"source": f"runs:/{elsewhere['run']}/model", "run_id": elsewhere["run"]})
    via_nobody = create({"source": f"runs:/{absent_run}/model", "run_id": absent_run})
    assert shape(via_run, f"runs:/{elsewhere['run']}/model") == shape(via_nobody, f"runs:/{absent_run}/model") == "200 <source>"
    download = _get(server.url, "model-versions/get-download-uri", name=name, version=via_run.json()["model_version"]["version"])
    assert download == {"artifact_uri": f"runs:/{elsewhere['run']}/model"}

    # Their folder or logged model: the same refusal as for one that does not exist.
    theirs_folder = f"mlflow-artifacts:/{elsewhere['experiment']}/{elsewhere['run']}/artifacts/model"
    no_such_folder = f"mlflow-artifacts:/99999999/{elsewhere['run']}/artifacts/model"
    assert shape(create({"source": theirs_folder}), theirs_folder) == shape(create({"source": no_such_folder}), no_such_folder)
    assert create({"source": theirs_folder}).status_code == 400
    absent_model = f"m-{uuid.uuid4().hex}"
    model = create({"source": f"models:/{elsewhere['model']}", "model_id": elsewhere["model"]})
    no_model = create({"source": f"models:/{absent_model}", "model_id": absent_model})
    assert shape(model, f"models:/{elsewhere['model']}") == shape(no_model, f"models:/{absent_model}")
    assert model.status_code == 400

    # Deploying the runs:/ version never copies their run's files: Forja only downloads what it holds.
    with forja.Client(server.url, token=ADMIN_TOKEN) as admin:
        with pytest.raises(forja.ApiError) as err:
            admin.request(
                "POST",
                "/api/v1/deployments/from-model",
                json={"name": unique("links-dep"), "modelUri": f"models:/{name}/{via_run.json()['model_version']['version']}"},
            )
    assert err.value.status == 400
    assert "not stored on this server" in str(err.value)
