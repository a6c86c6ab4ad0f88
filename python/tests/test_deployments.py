"""A registered MLflow model deployed with no code, then called over HTTP like a client would."""

from __future__ import annotations

import os
import time

import httpx
import mlflow
import numpy as np
from conftest import ADMIN_TOKEN, unique
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def wait_for_job(base: str, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(f"{base}/api/v1/jobs/{job_id}", params={"waitSeconds": 30}, headers=HEADERS, timeout=60).json()
        if job["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job


def test_a_registered_sklearn_model_deploys_with_no_code_and_predicts_like_in_process(server, tmp_path):
    mlflow.set_tracking_uri(server.url)
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN
    try:
        mlflow.set_experiment(unique("deploy"))
        name = unique("iris-deploy")
        X, y = load_iris(return_X_y=True, as_frame=True)
        X = X.astype("float64")
        clf = LogisticRegression(max_iter=500).fit(X, y)
        with mlflow.start_run():
            mlflow.sklearn.log_model(clf, name="model", input_example=X.head(2), registered_model_name=name)
        mlflow.MlflowClient().set_registered_model_alias(name, "champion", "1")
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]

    sample = X.head(1).to_dict(orient="records")
    created = httpx.post(
        f"{server.url}/api/v1/deployments/from-model",
        headers=HEADERS,
        json={"name": name, "modelUri": f"models:/{name}@champion", "kind": "pyfunc", "schemaSample": sample, "settings": {"maxWorkers": 1}},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    deployment = created.json()["deployment"]
    assert deployment["modelVersion"] == {"name": name, "version": "1"}
    job = wait_for_job(server.url, created.json()["buildJobId"])
    assert job["status"] == "succeeded", job

    rows = X.iloc[:20]
    body = {"dataframe_split": rows.to_dict(orient="split")}
    answer = httpx.post(f"{server.url}/api/v1/deployments/{deployment['id']}/invocations", headers=HEADERS, json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == clf.predict(rows).tolist()
    records = httpx.post(f"{server.url}/api/v1/deployments/{deployment['id']}/predict", headers=HEADERS, json=rows.to_dict(orient="records"), timeout=60)
    assert records.json()["predictions"] == clf.predict(rows).tolist()
    csv = httpx.post(
        f"{server.url}/api/v1/deployments/{deployment['id']}/predict",
        headers={**HEADERS, "Content-Type": "text/csv"},
        content=rows.to_csv(index=False).encode(),
        timeout=60,
    )
    assert csv.json()["predictions"] == clf.predict(rows).tolist()

    # DHuolib's way: a pickle and its requirements logged as run artifacts, registered, asked for probabilities.
    import joblib
    import sklearn

    pkl_dir = tmp_path / "pkl"
    pkl_dir.mkdir()
    joblib.dump(clf, pkl_dir / "model.pkl")
    (pkl_dir / "requirements.txt").write_text(f"scikit-learn=={sklearn.__version__}\njoblib\npandas\n")
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN
    try:
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(pkl_dir), artifact_path="pkl")
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]
    registered = httpx.post(f"{server.url}/api/v1/models/{name}/versions", headers=HEADERS, json={"source": f"runs:/{run.info.run_id}/pkl"}, timeout=30)
    assert registered.json()["version"] == "2", registered.text
    proba = httpx.post(
        f"{server.url}/api/v1/deployments/from-model",
        headers=HEADERS,
        json={"name": f"{name}-proba", "modelUri": f"models:/{name}/2", "kind": "pickle", "predictMethod": "predict_proba"},
        timeout=60,
    )
    assert proba.status_code == 201, proba.text
    job = wait_for_job(server.url, proba.json()["buildJobId"])
    assert job["status"] == "succeeded", job
    out = httpx.post(
        f"{server.url}/api/v1/deployments/{proba.json()['deployment']['id']}/predict", headers=HEADERS, json=rows.to_dict(orient="records"), timeout=60
    )
    assert np.allclose(np.array(out.json()["predictions"]), clf.predict_proba(rows))

    pyfunc_as_pickle = httpx.post(
        f"{server.url}/api/v1/deployments/from-model",
        headers=HEADERS,
        json={"name": unique("nopkl"), "modelUri": f"models:/{name}/1", "kind": "pickle"},
        timeout=30,
    )
    assert pyfunc_as_pickle.status_code == 400
    assert "model.skops" in pyfunc_as_pickle.json()["error"]["message"]
    missing = httpx.post(
        f"{server.url}/api/v1/deployments/from-model", headers=HEADERS, json={"name": unique("nope"), "modelUri": "models:/no-such-model@champion"}, timeout=30
    )
    assert missing.status_code == 404, missing.text
