"""forja.ModelClient against a live server: a Neomaril-style script model uploaded from files,
built, called, broken, disabled, rebuilt and deleted. The scorer uses only the standard library,
so every build shares one small environment and the suite stays fast."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import forja
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, REPO, unique

SCORER = '''
import json, os

# Neomaril's runtime contract: the model file's name in modelFileName, the files in BASE_PATH.
with open(os.path.join(os.environ["BASE_PATH"], os.environ["modelFileName"])) as f:
    WEIGHTS = json.load(f)


def rows_of(request):
    if isinstance(request, dict) and "dataframe_split" in request:
        split = request["dataframe_split"]
        return [dict(zip(split["columns"], row)) for row in split["data"]], "dataframe_split"
    if isinstance(request, dict) and "Input" in request:
        request = request["Input"]
    if isinstance(request, list):
        return request, "records"
    return [request], "object"


def score(data, base_path):
    rows, shape = rows_of(json.loads(data))
    out = []
    for r in rows:
        if r["income"] < 0:
            raise ValueError("income must be positive")
        out.append(WEIGHTS["a"] * r["income"] + WEIGHTS["b"] * r["age"])
    print("scored", len(out), "rows")
    with open(os.path.join(base_path, "segment.txt")) as f:
        segment = f.read().strip()
    return {"scores": out, "shape": shape, "segment": segment, "has_secret": os.environ.get("API_TOKEN") == "s3cret"}
'''

SCHEMA = {"income": 5000, "age": 40}


def write_bundle(folder: Path, requirements: str = "") -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scorer.py").write_text(SCORER)
    (folder / "model.json").write_text(json.dumps({"a": 0.001, "b": 0.5}))
    (folder / "requirements.txt").write_text(requirements)
    (folder / ".env").write_text('# for the scorer\nAPI_TOKEN="s3cret"\n')
    (folder / "segment.txt").write_text("retail\n")
    return dict(
        model_reference="score",
        source_file=folder / "scorer.py",
        model_file=str(folder / "model.json"),
        requirements_file=folder / "requirements.txt",
        schema=SCHEMA,
        extra_files=[folder / "segment.txt"],
        env=folder / ".env",
    )


@pytest.fixture
def models(server):
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        yield client


@pytest.fixture(scope="module")
def credit(server, tmp_path_factory):
    """One deployed scorer shared by the tests that only call it."""
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        bundle = write_bundle(tmp_path_factory.mktemp("credit"))
        model = client.create_model(unique("credit"), python_version="", operation="Sync", settings={"maxWorkers": 1}, **bundle)
        yield model
        model.delete()


def test_create_model_uploads_builds_and_waits(credit, models):
    assert credit.status == "Deployed", credit.message
    assert (credit.kind, credit.operation, credit.entrypoint, credit.group) == ("script", "sync", "score", "default")
    assert credit.has_secrets is True
    assert sorted((f["role"], f["name"]) for f in credit.files) == [
        ("extra", "segment.txt"),
        ("model", "model.json"),
        ("requirements", "requirements.txt"),
        ("schema", "schema.json"),
        ("source", "scorer.py"),
    ]
    assert credit.schema == SCHEMA
    assert credit.settings["maxWorkers"] == 1
    assert credit.deployed_at and credit.environment
    assert repr(credit) == f"ForjaModel(name={credit.name!r}, id={credit.id!r}, status='Deployed', group='default')"
    assert "s3cret" not in json.dumps(credit.info())
    logs = credit.build_logs()
    assert any(line.startswith('Test call on the schema sample answered: {"scores": [25.0]') for line in logs), logs

    same = models.get_model(credit.id)
    assert (same.id, same.name, same.status) == (credit.id, credit.name, "Deployed")
    assert models.status(credit.id) == "Deployed"
    assert [m.id for m in models.search_models(name=credit.name.upper())] == [credit.id]
    assert credit.id in [m.id for m in models.search_models(status="deployed")]
    assert credit.id not in [m.id for m in models.search_models(status="Failed")]


def test_predict_takes_a_dict_records_a_dataframe_and_json(credit, tmp_path):
    one = credit.predict({"income": 1000, "age": 30})
    assert one == {"scores": [16.0], "shape": "object", "segment": "retail", "has_secret": True}
    records = credit.predict([{"income": 1000, "age": 30}, {"income": 2000, "age": 50}])
    assert (records["scores"], records["shape"]) == ([16.0, 27.0], "records")
    frame = pd.DataFrame({"income": [1000, 2000, 3000], "age": [30, 50, 20]})
    framed = credit.predict(frame)
    assert (framed["scores"], framed["shape"]) == ([16.0, 27.0, 13.0], "dataframe_split")
    assert credit({"Input": {"income": 1000, "age": 30}})["scores"] == [16.0], "model(data) is predict(data)"
    request = tmp_path / "request.json"
    request.write_text(json.dumps([{"income": 2000, "age": 50}]))
    assert credit.predict(request)["scores"] == [27.0]
    assert credit.predict('{"income": 1000, "age": 30}')["scores"] == [16.0]
    assert "scored 3 rows" in credit.get_logs()
    with pytest.raises(TypeError):
        credit.predict(42)


def test_a_sync_model_takes_no_files_to_execute(credit, tmp_path):
    data = tmp_path / "rows.csv"
    data.write_text("income,age\n1000,30\n")
    with pytest.raises(forja.ForjaError, match="synchronous: call predict"):
        credit.execute(data)
    with pytest.raises(ValueError, match="JSON file's path"):
        credit.predict(tmp_path / "missing.json")
    assert credit.executions() == [], "the server lists none for a sync deployment"


def test_a_raising_scorer_is_a_model_error_with_the_servers_message(credit):
    with pytest.raises(forja.ModelError) as raised:
        credit.predict({"income": -5, "age": 30})
    err = raised.value
    assert (err.status, err.code, err.error_type) == (422, "MODEL_ERROR", "ValueError")
    assert err.message == "The model raised ValueError: income must be positive"
    assert isinstance(err, forja.ApiError)
    assert "Traceback" in credit.get_logs() and "income must be positive" in credit.get_logs()
    assert credit.predict({"income": 1000, "age": 30})["scores"] == [16.0], "the worker keeps serving"

    with pytest.raises(forja.InvalidArgument) as schema:
        credit.predict({"income": 1000})
    assert 'Row 0: field "age" is missing' in schema.value.message


def test_a_group_token_predicts(credit, server):
    with forja.Client(server.url, token=ADMIN_TOKEN) as admin:
        secret = admin.tokens.create(unique("scoring"), kind="group", group="default")["secret"]
    with forja.ModelClient(server.url, token=secret) as scoring:
        # A group token may only call models: read nothing, predict only.
        model = forja.ForjaModel(scoring, credit.data)
        assert model.predict({"income": 1000, "age": 30})["scores"] == [16.0]
    credit.set_token(secret)
    try:
        assert credit.predict({"income": 1000, "age": 30})["has_secret"] is True
    finally:
        credit.set_token(None)


def test_disable_makes_predict_conflict_until_enabled(credit):
    assert credit.disable().status == "Disabled"
    try:
        with pytest.raises(forja.Conflict) as disabled:
            credit.predict({"income": 1000, "age": 30})
        assert "disabled" in disabled.value.message
        with pytest.raises(forja.Conflict):
            credit.disable()
    finally:
        assert credit.enable().status == "Deployed"
    assert credit.predict({"income": 1000, "age": 30})["scores"] == [16.0]


def test_generate_predict_code_for_curl_python_and_typescript(credit, server, tmp_path):
    curl = credit.generate_predict_code()
    python = credit.generate_predict_code("python")
    typescript = credit.generate_predict_code("typescript")
    url = f"{server.url}/api/v1/deployments/{credit.id}/predict"
    for code in (curl, python, typescript):
        assert url in code and "FORJA_TOKEN" in code
    assert credit.generate_predict_code("JavaScript") == typescript
    with pytest.raises(ValueError):
        credit.generate_predict_code("cobol")

    # The code runs as printed, and sends the schema sample.
    env = {**os.environ, "FORJA_TOKEN": ADMIN_TOKEN}
    script = tmp_path / "call.py"
    script.write_text(python)
    ran = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "25.0" in ran.stdout
    if shutil.which("curl"):
        ran = subprocess.run(["bash", "-c", curl], env=env, capture_output=True, text=True, timeout=60)
        assert json.loads(ran.stdout)["scores"] == [25.0], ran.stdout + ran.stderr
    node = shutil.which("node")
    if node:
        ts = tmp_path / "call.mjs"
        ts.write_text(typescript)
        ran = subprocess.run([node, str(ts)], env=env, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr
        assert "25" in ran.stdout


def test_wait_ready_long_polls_the_build_job_and_streams_logs(server, tmp_path, counting, capsys):
    with forja.ModelClient(server.url, token=ADMIN_TOKEN, transport=counting) as models:
        model = models.create_model(unique("polled"), wait_for_ready=False, **write_bundle(tmp_path))
        assert model.status == "Building" and model.build_job_id
        counting.requests.clear()
        assert model.wait_ready(timeout=300, verbose=True) is model
        assert model.status == "Deployed"
        polls = [r for r in counting.requests if r.url.path == f"/api/v1/jobs/{model.build_job_id}"]
        assert polls and all("waitSeconds" in r.url.params for r in polls)
        assert len(counting.requests) < 40, "a long poll, not a busy loop"
        printed = capsys.readouterr().out
        assert "Test call on the schema sample answered" in printed

        # Rebuilding waits for the new build job, quietly unless asked.
        first_job = model.build_job_id
        assert model.rebuild().status == "Deployed"
        assert model.build_job_id != first_job
        assert capsys.readouterr().out == ""
        assert model.update_settings(maxWorkers=2).settings["maxWorkers"] == 2
        assert model.predict({"income": 1000, "age": 30})["scores"] == [16.0]
        assert model.stats()["served"] >= 1
        model.delete()
        assert model.status == "Deleted"
        with pytest.raises(forja.NotFound):
            models.get_model(model.id)


def test_wait_ready_times_out_with_a_typed_error(models, tmp_path):
    model = models.create_model(unique("slow"), wait_for_ready=False, **write_bundle(tmp_path))
    try:
        with pytest.raises(forja.DeploymentTimeout) as late:
            model.wait_ready(timeout=0)
        assert isinstance(late.value, TimeoutError) and model.build_job_id in str(late.value)
        assert model.wait_ready().status == "Deployed"
    finally:
        model.delete()


def test_a_requirement_that_cannot_install_fails_the_build_with_the_installers_message(models, tmp_path):
    bundle = write_bundle(tmp_path, requirements="this-package-does-not-exist-forja==1.0\n")
    name = unique("bad-reqs")
    with pytest.raises(forja.DeploymentFailed) as failed:
        models.create_model(name, **bundle)
    err = failed.value
    assert err.name == name and err.model.status == "Failed"
    assert "The requirements could not be installed" in err.message
    assert "this-package-does-not-exist-forja" in err.message
    assert err.message in str(err)
    assert any("this-package-does-not-exist-forja" in line for line in err.model.build_logs())
    with pytest.raises(forja.Conflict) as not_built:
        err.model.predict({"income": 1, "age": 2})
    assert "failed to build" in not_built.value.message
    assert [m.id for m in models.search_models(name=name, status="Failed")] == [err.deployment_id]
    err.model.delete()
    with pytest.raises(forja.NotFound):
        models.get_model(err.deployment_id)


def test_bad_calls_are_refused_before_or_by_the_server(models, tmp_path):
    bundle = write_bundle(tmp_path)
    with pytest.raises(ValueError, match="operation must be 'Sync' or 'Async'"):
        models.create_model(unique("refused"), **{**bundle, "operation": "Batch"})
    with pytest.raises(ValueError, match="input_type .* deploy with operation='Async'"):
        models.create_model(unique("refused"), **{**bundle, "input_type": "xlsx"})
    with pytest.raises(FileNotFoundError, match="model_file"):
        models.create_model(unique("missing"), **{**bundle, "model_file": tmp_path / "nope.pkl"})
    with pytest.raises(forja.InvalidArgument, match="name"):
        models.create_model("../escape", **bundle)
    with pytest.raises(forja.InvalidArgument, match="maxWorkers"):
        models.create_model(unique("workers"), settings={"maxWorkers": 0}, **bundle)
    with pytest.raises(forja.NotFound):
        models.get_model("no-such-deployment")
    with pytest.raises(forja.NotFound):
        models.deploy_registered("models:/no-such-model@champion", unique("nope"))
    assert not models.search_models(name="refused")


def test_a_model_lives_in_the_group_it_was_created_in(server, models, tmp_path, monkeypatch):
    group = unique("scoring")
    models.client.groups.create(group)
    model = models.create_model(unique("grouped"), group=group, **write_bundle(tmp_path))
    try:
        assert model.group == group
        assert model.predict({"income": 1000, "age": 30})["scores"] == [16.0]
        assert model.id not in [m.id for m in models.search_models()], "the client's own group is default"
        assert [m.id for m in models.search_models(group=group)] == [model.id]
        with pytest.raises(forja.NotFound):
            models.get_model(model.id)
        # FORJA_URL / FORJA_TOKEN / FORJA_GROUP, as for the other clients.
        monkeypatch.setenv("FORJA_URL", server.url)
        monkeypatch.setenv("FORJA_TOKEN", ADMIN_TOKEN)
        monkeypatch.setenv("FORJA_GROUP", group)
        with forja.ModelClient() as from_env:
            assert from_env.get_model(model.id).status == "Deployed"
    finally:
        model.delete()


def test_neomaril_sync_scoring_example_runs_end_to_end(server):
    env = {**os.environ, "FORJA_URL": server.url, "FORJA_TOKEN": ADMIN_TOKEN, "EXAMPLE_MODEL": unique("credit-scoring")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(REPO / "examples" / "neomaril_sync_scoring.py")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "Deployed"
    assert summary["decisions"] == ["approve", "deny", "approve"]
    assert summary["model_error"].startswith("The model raised ValueError")
    assert summary["deleted"] is True
    assert time.monotonic() - started < 120
