"""The real dhuolib 0.2.3 (its own venv, from PyPI) against Forja's DHuolib wire layer.

Seed 000's "Exemplo de Uso" runs as written with only service_uri and the token changed; then the
guide's other calls, predict_online against a deployment a group admin made public, and the
DhuolibPlatformClient flow. dhuolib checks no version on PyPI, so nothing is stubbed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from client_venvs import client_python, run_client
from conftest import ADMIN_TOKEN

CLIENTS = Path(__file__).resolve().parent / "clients"


def _last_json(output: str) -> dict:
    return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def _admin(server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=120)


def _public_deployment(server, model_uri: str, name: str) -> None:
    """What a group admin does once for predict_online: deploy the version and make it public."""
    with _admin(server) as api:
        created = api.post("/api/v1/deployments/from-model", json={"name": name, "modelUri": model_uri, "kind": "pickle"})
        assert created.status_code == 201, created.text
        deployment = created.json()["deployment"]["id"]
        deadline = time.monotonic() + 1200
        while True:
            job = api.get(f"/api/v1/jobs/{created.json()['buildJobId']}", params={"waitSeconds": 30}).json()
            if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
                break
        assert job["status"] == "succeeded", api.get(f"/api/v1/jobs/{job['id']}/logs").text[-4000:]
        public = api.patch(f"/api/v1/deployments/{deployment}", json={"settings": {"public": True}})
        assert public.status_code == 200, public.text


@pytest.mark.timeout(1800)  # the deployment's first build installs lightgbm and scikit-learn
def test_seed_000_example_as_written_then_the_guide(server, tmp_path):
    python = client_python("dhuolib")
    env = {"DHUO_SERVICE_URI": f"{server.url}/dhuo", "DHUO_TOKEN": ADMIN_TOKEN}
    run_client(python, CLIENTS / "dhuolib_seed000.py", cwd=tmp_path, env=env, args=["prepare"])
    trained = run_client(python, CLIENTS / "dhuolib_seed000_example.py", cwd=tmp_path, env=env)
    assert "'model_uri': 'runs:/" in trained and "'current_stage': 'Production'" in trained, trained
    assert "error" not in trained, trained

    _public_deployment(server, "models:/iris-classification/Production", "iris-classification")
    # The same group through the group-naming form of service_uri.
    env["DHUO_SERVICE_URI"] = f"{server.url}/g/default/dhuo"
    out = _last_json(run_client(python, CLIENTS / "dhuolib_seed000.py", cwd=tmp_path, env=env, args=["use"]))

    assert out["experiment_again"]["experiment_name"] == "lightgbm-iris"
    assert out["experiment_again"]["tags"] == {"tag": "iris"}
    assert out["experiments"] == ["lightgbm-iris"]
    [run] = out["runs"]
    assert run["status"] == "FINISHED" and run["tags"]["type_model"] == "lightgbm"
    assert run["tags"]["version"] == "v2" and run["tags"]["priority"] == "P2"
    assert out["all_runs"] == 1
    assert out["missing"] == {"error": "Experiment not found"}
    assert [m["model_name"] for m in out["models"]] == ["iris-classification"]
    assert out["models"][0]["tags"] == {"type_model": "lightgbm"}
    assert (out["staging"]["previous_stage"], out["staging"]["current_stage"]) == ("Production", "Staging")
    assert (out["production"]["previous_stage"], out["production"]["current_stage"]) == ("Staging", "Production")
    assert out["model_type"] == out["by_run_type"] == "LGBMClassifier"
    assert out["accuracy"] > 0.9
    online = out["online"]
    assert "error" not in online, online
    assert online["model_name"] == "iris-classification"
    assert [str(p) for p in online["predictions"]] == out["local_first5"]


def test_predict_online_without_a_public_deployment_is_a_401_saying_how(server, tmp_path):
    python = client_python("dhuolib")
    script = tmp_path / "online.py"
    script.write_text(
        "import os, json\n"
        "from dhuolib.clients.experiment import DhuolibExperimentMLClient\n"
        "open('rows.csv', 'w').write('a,b\\n1,2\\n')\n"
        "client = DhuolibExperimentMLClient(service_uri=os.environ['DHUO_SERVICE_URI'], token=os.environ['DHUO_TOKEN'])\n"
        "print(json.dumps(client.predict_online({'modelname': 'never-deployed', 'stage': 'Production', 'data': 'rows.csv'})))\n"
    )
    out = _last_json(run_client(python, script, cwd=tmp_path, env={"DHUO_SERVICE_URI": f"{server.url}/dhuo", "DHUO_TOKEN": ADMIN_TOKEN}))
    assert out["error"].startswith("API request failed with status 401"), out
    assert '\\"public\\": true' in out["error"] or '"public": true' in out["error"], out


@pytest.fixture
def batch_group(server):
    with _admin(server) as api:
        assert api.post("/api/v1/groups", json={"name": "dhuo-batch"}).status_code == 201
    return "dhuo-batch"


def test_platform_client_flow(server, tmp_path, batch_group):
    python = client_python("dhuolib")
    # A token with "Bearer" in it goes in Authorization (dhuolib's other auth mode); /g/<group>/dhuo picks the group.
    env = {"DHUO_SERVICE_URI": f"{server.url}/g/{batch_group}/dhuo", "DHUO_TOKEN": f"Bearer {ADMIN_TOKEN}"}
    out = _last_json(run_client(python, CLIENTS / "dhuolib_platform.py", cwd=tmp_path, env=env))

    assert out["created"]["code"] == 201 and out["created"]["project_id"]
    assert out["duplicate"] == "Project already exists"
    assert out["deployed"]["code"] == 201
    statuses = [r["status"] for r in out["report"]]
    assert "DEPLOY COMPLETED SUCCESSFULLY" in statuses, out["report"]
    assert all(set(r) == {"date_log", "step", "status"} for r in out["report"])
    assert out["cluster"]["cluster_size"] == 2
    assert out["run"]["code"] == 201
    assert any(r["status"] == "RUN SUCCEEDED" for r in out["ran"]), out["ran"]
    assert out["scheduled"]["schedule_interval"] == "*/5 * * * *"
    assert out["removed"]["removed"] == 1
    assert out["removed_again"]["error"].startswith("API request failed with status 404"), out["removed_again"]
    with _admin(server) as api:
        project = api.get("/api/v1/batch/projects/lightgbm-iris", headers={"X-Forja-Group": batch_group}).json()
        assert project["clusterSize"] == 2 and project["currentVersion"] == 1
        assert api.get("/api/v1/batch/projects/lightgbm-iris/schedules", headers={"X-Forja-Group": batch_group}).json()["items"] == []
