"""/invocations parity: the same MLflow model served by `mlflow models serve` and by Forja answers
the same bodies alike — the status, the JSON of a good answer, the error_code of a bad one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Iterator, List, Tuple

import cloudpickle
import forja
import httpx
import mlflow
import pytest
import sklearn
from conftest import ADMIN_TOKEN, unique
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from test_deployments import HEADERS, wait_for_job

# (what it checks, content type, body) — JSON bodies as text, so a broken one can be sent too.
Body = Tuple[str, str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_models(url: str) -> Tuple[str, str, object]:
    """An iris classifier logged twice to Forja: with a signature (from its input example) and without."""
    mlflow.set_tracking_uri(url)
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN
    try:
        mlflow.set_experiment(unique("parity"))
        X, y = load_iris(return_X_y=True, as_frame=True)
        X = X.astype("float64")
        X.columns = ["sl", "sw", "pl", "pw"]
        with_sig, no_sig = unique("parity-sig"), unique("parity-nosig")
        # Requirements given, so MLflow does not spend minutes inferring them in a subprocess.
        logged = dict(
            serialization_format="cloudpickle",
            pip_requirements=[f"mlflow=={mlflow.__version__}", f"scikit-learn=={sklearn.__version__}", f"cloudpickle=={cloudpickle.__version__}"],
        )
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                LogisticRegression(max_iter=500).fit(X, y), name="model", input_example=X.head(2), registered_model_name=with_sig, **logged
            )
            mlflow.sklearn.log_model(LogisticRegression(max_iter=500).fit(X.to_numpy(), y), name="plain", registered_model_name=no_sig, **logged)
        return with_sig, no_sig, X
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]


class Served:
    """One registered model, served both ways."""

    def __init__(self, mlflow_url: str, forja_url: str, deployment_id: str) -> None:
        self.mlflow_url = mlflow_url
        self.forja_url = forja_url
        self.deployment_id = deployment_id

    def mlflow_answer(self, content_type: str, body: str) -> httpx.Response:
        return httpx.post(f"{self.mlflow_url}/invocations", headers={"Content-Type": content_type}, content=body.encode(), timeout=60)

    def both(self, content_type: str, body: str) -> Tuple[httpx.Response, httpx.Response]:
        headers = {"Content-Type": content_type}
        theirs = httpx.post(f"{self.mlflow_url}/invocations", headers=headers, content=body.encode(), timeout=60)
        ours = httpx.post(self.forja_url, headers={**HEADERS, **headers}, content=body.encode(), timeout=60)
        return theirs, ours


def _serve(server_url: str, name: str, tmp: str) -> Iterator[Served]:
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN
    try:
        local = mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=os.path.join(tmp, name))
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]
    port = _free_port()
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", local, "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        # It runs `uvicorn` by name: the test venv's, as an activated venv would.
        env={**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    try:
        created = httpx.post(
            f"{server_url}/api/v1/deployments/from-model",
            headers=HEADERS,
            json={"name": name, "modelUri": f"models:/{name}/1", "kind": "pyfunc", "settings": {"maxWorkers": 1}},
            timeout=60,
        )
        assert created.status_code == 201, created.text
        job = wait_for_job(server_url, created.json()["buildJobId"])
        assert job["status"] == "succeeded", (job.get("error"), httpx.get(f"{server_url}/api/v1/jobs/{job['id']}/logs", headers=HEADERS).text[-4000:])
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, open(log.name).read()[-3000:]
            time.sleep(0.5)
        deployment_id = created.json()["deployment"]["id"]
        yield Served(f"http://127.0.0.1:{port}", f"{server_url}/api/v1/deployments/{deployment_id}/invocations", deployment_id)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def models(server, tmp_path_factory) -> Tuple[str, str, object]:
    return _log_models(server.url)


@pytest.fixture(scope="module")
def signed(server, models, tmp_path_factory) -> Iterator[Served]:
    yield from _serve(server.url, models[0], str(tmp_path_factory.mktemp("signed")))


@pytest.fixture(scope="module")
def unsigned(server, models, tmp_path_factory) -> Iterator[Served]:
    yield from _serve(server.url, models[1], str(tmp_path_factory.mktemp("unsigned")))


def signed_bodies(X) -> List[Body]:
    rows = X.iloc[[0, 60, 120]]
    split = rows.to_dict(orient="split")
    records = rows.to_dict(orient="records")
    columns = rows.to_dict(orient="list")
    j = "application/json"
    return [
        ("dataframe_split", j, json.dumps({"dataframe_split": {"columns": split["columns"], "data": split["data"]}})),
        ("dataframe_split with an index", j, json.dumps({"dataframe_split": split})),
        ("dataframe_records", j, json.dumps({"dataframe_records": records})),
        ("instances as rows", j, json.dumps({"instances": records})),
        ("inputs as rows", j, json.dumps({"inputs": records})),
        ("inputs as columns", j, json.dumps({"inputs": columns})),
        ("params beside the data", j, json.dumps({"dataframe_records": records, "params": {"unused": 1}})),
        ("CSV", "text/csv", rows.to_csv(index=False)),
        ("CSV, charset utf-8", "text/csv; charset=utf-8", rows.to_csv(index=False)),
        ("JSON, charset utf-8", "application/json; charset=UTF-8", json.dumps({"dataframe_records": records})),
        ("bad: a column missing", j, json.dumps({"dataframe_records": [{k: v for k, v in r.items() if k != "pw"} for r in records]})),
        ("bad: a string where a double goes", j, json.dumps({"dataframe_records": [{**records[0], "sl": "wide"}]})),
        ("bad: two format keys", j, json.dumps({"dataframe_records": records, "instances": records})),
        ("bad: no format key", j, json.dumps({"rows": records})),
        ("bad: a bare list", j, json.dumps(records)),
        ("bad: not JSON", j, '{"dataframe_records": ['),
        ("bad: CSV that is not a frame of the schema", "text/csv", "sl,sw\nx,y\n"),
        ("bad: text/plain", "text/plain", "1,2,3,4"),
        ("bad: a latin-1 charset", "application/json; charset=latin-1", json.dumps({"dataframe_records": records})),
        ("bad: an unknown content-type parameter", "application/json; format=pandas-split", json.dumps({"dataframe_records": records})),
    ]


def unsigned_bodies(X) -> List[Body]:
    values = X.iloc[[0, 60, 120]].to_numpy().tolist()
    j = "application/json"
    return [
        ("a tensor: inputs as a list of lists", j, json.dumps({"inputs": values})),
        ("a tensor: instances as a list of lists", j, json.dumps({"instances": values})),
        ("dataframe_split without column names", j, json.dumps({"dataframe_split": {"data": values}})),
        ("CSV", "text/csv", "a,b,c,d\n" + "\n".join(",".join(map(str, v)) for v in values)),
        ("bad: a row of the wrong width", j, json.dumps({"inputs": [values[0][:3]]})),
        ("bad: strings", j, json.dumps({"inputs": [["a", "b", "c", "d"]]})),
    ]


def _compare(served: Served, bodies: List[Body]) -> None:
    mismatches = []
    for what, content_type, body in bodies:
        theirs, ours = served.both(content_type, body)
        if theirs.status_code != ours.status_code:
            mismatches.append(f"{what}: status {theirs.status_code} (mlflow) vs {ours.status_code} (forja): {theirs.text[:300]} | {ours.text[:300]}")
        elif theirs.status_code == 200:
            if theirs.json() != ours.json():
                mismatches.append(f"{what}: {theirs.text[:300]} vs {ours.text[:300]}")
        elif theirs.headers["content-type"].startswith("application/json"):
            if theirs.json().get("error_code") != ours.json().get("error_code"):
                mismatches.append(f"{what}: error_code {theirs.json().get('error_code')} vs {ours.text[:300]}")
        if what.startswith("bad:") and theirs.status_code == 200:
            mismatches.append(f"{what}: a bad body that mlflow accepted — the case tests nothing")
        if not what.startswith("bad:") and theirs.status_code != 200:
            mismatches.append(f"{what}: a good body that mlflow refused: {theirs.text[:300]}")
    assert not mismatches, "\n".join(mismatches)


def test_invocations_answer_as_mlflow_models_serve_does_for_a_model_with_a_signature(signed, models):
    bodies = signed_bodies(models[2])
    assert len(bodies) >= 12
    _compare(signed, bodies)


def test_a_model_without_a_signature_takes_a_list_of_lists_as_mlflow_does(unsigned, models):
    _compare(unsigned, unsigned_bodies(models[2]))


def test_the_python_sdk_sends_mlflow_bodies_and_gets_mlflow_answers(server, signed, unsigned, models):
    X = models[2]
    rows = X.iloc[[0, 60, 120]]
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        model = client.get_model(signed.deployment_id)
        assert model.invocations_url == signed.forja_url
        expected = signed.mlflow_answer("application/json", json.dumps({"dataframe_split": rows.to_dict(orient="split")})).json()
        assert model.invoke(rows) == expected
        assert model.invoke(rows, format="dataframe_records") == expected
        assert model.invoke(rows.to_dict(orient="records"), format="dataframe_split") == expected
        assert model.invoke(rows, format="inputs") == expected
        assert model.invoke(rows.to_dict(orient="list"), format="inputs") == expected
        assert model.invoke(rows, format="instances") == expected
        assert model.invoke(rows, format="csv") == expected
        assert model.invoke(rows, params={"unused": 1}) == expected
        with pytest.raises(forja.InvalidArgument) as refused:
            model.invoke(rows.drop(columns=["pw"]))
        theirs = signed.mlflow_answer("application/json", json.dumps({"dataframe_split": rows.drop(columns=["pw"]).to_dict(orient="split")})).json()
        assert refused.value.code == theirs["error_code"]
        with pytest.raises(ValueError):
            model.invoke(rows, format="split")

        tensor = client.get_model(unsigned.deployment_id)
        values = rows.to_numpy()
        assert tensor.invoke(values, format="inputs") == unsigned.mlflow_answer("application/json", json.dumps({"inputs": values.tolist()})).json()
