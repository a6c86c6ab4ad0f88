"""DHuolib's registry calls on forja.ExperimentClient, against a live server."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import forja
import pytest
from conftest import ADMIN_TOKEN, REPO, unique


@pytest.fixture
def experiments(server):
    with forja.ExperimentClient(server.url, token=ADMIN_TOKEN) as client:
        yield client


def _model_run(experiments, tmp_path, obj):
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps(obj))
    req = tmp_path / "requirements.txt"
    req.write_text("scikit-learn\n")
    return experiments.execute_run_for_experiment("CUSTOM", unique("exp"), pkl, req)


def test_create_transition_search_and_download_pkl(experiments, tmp_path):
    name = unique("dh-model")
    run = _model_run(experiments, tmp_path, {"weights": [1, 2, 3]})
    v1 = experiments.create_model(name, "Staging", run["run_id"], run["model_uri"], {"owner": "ana"})
    assert v1 == {
        **v1,
        "model_version": 1,
        "model_version_name": name,
        "run_id": run["run_id"],
        "previous_stage": "None",
        "current_stage": "Staging",
        "status": "READY",
    }
    v2 = experiments.create_model(name, "None", run["run_id"], run["model_uri"])
    assert (v2["model_version"], v2["current_stage"]) == (2, "None")
    moved = experiments.transition_model(name, 1, "production")
    assert (moved["previous_stage"], moved["current_stage"]) == ("Staging", "Production")
    found = experiments.search_models(f"name = '{name}' AND tags.owner = 'ana'")
    assert [m["model_name"] for m in found] == [name]
    assert found[0]["tags"] == {"owner": "ana"}
    target = tmp_path / "prod.pkl"
    assert experiments.download_pkl({"modelname": name, "stage": "Production", "batch_model_dir": str(target)}) == {"weights": [1, 2, 3]}
    assert target.is_file()
    assert experiments.download_pkl({"run_id": run["run_id"], "batch_model_dir": str(tmp_path / "by-run.pkl")}) == {"weights": [1, 2, 3]}


def test_bad_input(experiments, tmp_path):
    run = _model_run(experiments, tmp_path, 1)
    with pytest.raises(ValueError):
        experiments.create_model("", "None", run["run_id"], run["model_uri"])
    with pytest.raises(forja.InvalidArgument) as stage:
        experiments.create_model(unique("dh"), "Live", run["run_id"], run["model_uri"])
    assert "stage" in str(stage.value)
    with pytest.raises(forja.InvalidArgument):
        experiments.create_model(unique("dh"), "None", run["run_id"], "file:///etc/passwd")
    with pytest.raises(forja.NotFound):
        experiments.download_pkl({"modelname": unique("missing"), "stage": "Production"})
    with pytest.raises(ValueError):
        experiments.download_pkl({"modelname": "x"})


def test_dhuolib_example_runs_end_to_end(server):
    env = {**os.environ, "FORJA_URL": server.url, "FORJA_TOKEN": ADMIN_TOKEN, "EXAMPLE_MODEL": unique("iris-rf")}
    done = subprocess.run([sys.executable, str(REPO / "examples" / "dhuolib_flow.py")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["version"], summary["stage"], summary["same_predictions"]) == (1, "Production", True)
