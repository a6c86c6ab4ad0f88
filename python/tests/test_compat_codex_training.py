"""The real MLOps Codex clients (datarisk-mlops-codex 3.x and 4.x from PyPI) train on Forja: a
Custom training run through training v1 (experiment, upload, run, status, result, promote), by
python/tests/clients/codex_training.py run with each client's own interpreter against the session's
server; what it made is then checked through Forja's own API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from client_venvs import client_python, run_client
from conftest import ADMIN_TOKEN, unique

SCENARIO = Path(__file__).resolve().parent / "clients" / "codex_training.py"


@pytest.mark.parametrize("client", ["codex3", "codex4"])
def test_real_codex_client_trains_and_promotes(server, new_user, tmp_path, client):
    user = new_user(client)
    group = unique(f"{client}-train")
    # 3.x is pointed at Forja by its variables (its run objects read the tenant from MLOPS_TENANT);
    # 4.x by the one-liner inside the scenario.
    env = {"MLOPS_URL": f"{server.url}/codex", "MLOPS_TENANT": "forja"} if client == "codex3" else {}
    output = run_client(client_python(client), SCENARIO, cwd=tmp_path, env=env, args=[server.url, user.username, user.password, group])
    made = json.loads(output.strip().splitlines()[-1])

    def get(path: str):
        r = httpx.get(f"{server.url}{path}", params={"group": group}, headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 200, r.text
        return r.json()

    experiment_id = made["training_id"].removeprefix("T")
    runs = [r for r in get("/api/v1/training/runs")["items"] if r["number"] == made["exec_id"]]
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["experimentId"] == experiment_id and run["status"] == "succeeded"
    assert run["promoted"]["deploymentId"] == made["model_hash"], run["promoted"]

    external = [r for r in get("/api/v1/training/runs")["items"] if r["number"] == made["external_exec_id"]]
    assert external[0]["status"] == "succeeded" and external[0]["sourceName"] == "forja_codex_external.py", external

    deployment = get(f"/api/v1/deployments/{made['model_hash']}")
    assert deployment["kind"] == "script" and deployment["entrypoint"] == "score"
    # The client always sends the scorer as app.py, and its schema as "schema." + ".json"; the model
    # and requirements come from the run.
    assert sorted(f["name"] for f in deployment["files"]) == ["app.py", "model.pkl", "requirements.txt", "schema..json"]
