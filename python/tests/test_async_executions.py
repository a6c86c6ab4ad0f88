"""Async (file in, file out) models through forja.ModelClient against a live server: a scorer
written to Neomaril's async contract, ``score(data_path, model_path)``, deployed with
``operation="Async"``, run on CSV files, waited for, its output downloaded and compared; a
scorer that raises; the listing. The scorer uses only the standard library, so its build shares
one small environment and the suite stays fast."""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import forja
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, REPO, unique

SCORER = '''
import csv, json, os, time


def score(data_path, model_path):
    # Neomaril's async contract: data_path is the input's folder, model_path the folder of the
    # deployment's files; read the input, write the output in data_path, return its path.
    with open(os.path.join(model_path, os.environ["modelFileName"])) as f:
        weights = json.load(f)
    if "slow" in os.environ["inputFileName"]:
        time.sleep(3)
    output = os.path.join(data_path, "scores.csv")
    rows = 0
    with open(os.path.join(data_path, os.environ["inputFileName"]), newline="") as src, open(output, "w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["id", "score"])
        for row in csv.DictReader(src):
            income = float(row["income"])
            if income < 0:
                raise ValueError("row " + row["id"] + ": income must be positive")
            writer.writerow([row["id"], round(weights["a"] * income + weights["b"] * float(row["age"]), 4)])
            rows += 1
    print("scored", rows, "rows of", os.environ["inputFileName"], "in", os.environ["EXECUTION_ID"])
    return output
'''
WEIGHTS = {"a": 0.001, "b": 0.5}
ROWS = [("r1", 1000, 30), ("r2", 2000, 50), ("r3", 3000.5, 20)]


def write_input(path: Path, rows=ROWS) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "income", "age"])
        writer.writerows(rows)
    return path


def expected_output(rows=ROWS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "score"])
    for id_, income, age in rows:
        writer.writerow([id_, round(WEIGHTS["a"] * income + WEIGHTS["b"] * age, 4)])
    return out.getvalue()


@pytest.fixture
def models(server):
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        yield client


@pytest.fixture(scope="module")
def batch(server, tmp_path_factory):
    """One deployed async scorer shared by the tests."""
    folder = tmp_path_factory.mktemp("batch")
    (folder / "batch.py").write_text(SCORER)
    (folder / "weights.json").write_text(json.dumps(WEIGHTS))
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        model = client.create_model(unique("batch"), "score", folder / "batch.py", str(folder / "weights.json"), None, operation="Async", input_type="csv")
        yield model
        model.delete()


def test_an_async_model_is_created_and_built(batch):
    assert batch.status == "Deployed", batch.message
    assert (batch.operation, batch.kind, batch.entrypoint) == ("async", "script", "score")
    assert sorted((f["role"], f["name"]) for f in batch.files) == [("model", "weights.json"), ("source", "batch.py")]
    assert any("The model loaded" in line for line in batch.build_logs())


def test_predict_uploads_the_file_and_the_execution_waits_downloads_and_logs(batch, tmp_path, monkeypatch):
    data = write_input(tmp_path / "applicants.csv")
    execution = batch.predict(data)
    assert isinstance(execution, forja.ForjaExecution)
    assert execution.status in ("Requested", "Running")
    assert (execution.input_name, execution.input_size, execution.output_name) == ("applicants.csv", data.stat().st_size, None)
    assert execution.job_id and execution.deployment_id == batch.id and execution.model is batch
    assert repr(execution) == f"ForjaExecution(id={execution.id!r}, model={batch.name!r}, status={execution.status!r}, input='applicants.csv')"

    assert execution.wait_ready(timeout=120) is execution
    assert execution.status == "Succeeded" and execution.message is None
    assert execution.output_name == "scores.csv" and execution.output_size == len(expected_output().encode())
    assert execution.created_by == "admin" and execution.created_at <= execution.started_at <= execution.finished_at
    assert repr(execution).endswith("status='Succeeded', input='applicants.csv', output='scores.csv')")

    # To a file, into a folder, or into the current folder under its own name.
    to_file = execution.download_result(tmp_path / "out" / "result.csv")
    assert to_file == str(tmp_path / "out" / "result.csv")
    assert Path(to_file).read_bytes() == expected_output().encode()
    assert execution.download_result(tmp_path / "out") == str(tmp_path / "out" / "scores.csv")
    assert execution.download_result(str(tmp_path / "new") + os.sep) == str(tmp_path / "new" / "scores.csv")
    monkeypatch.chdir(tmp_path / "new")
    here = execution.download_result()
    assert Path(here) == tmp_path / "new" / "scores.csv" and Path(here).read_bytes() == expected_output().encode()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["result.csv", "scores.csv"], "no partial files left"
    assert pd.read_csv(here)["score"].tolist() == [16.0, 27.0, 13.0005]

    assert execution.get_logs() == [f"scored 3 rows of applicants.csv in {execution.id}"]
    assert execution.get_status() == "Succeeded"

    listed = batch.executions()
    assert listed[0].id == execution.id and all(isinstance(e, forja.ForjaExecution) for e in listed)
    same = batch.get_execution(execution.id)
    assert (same.id, same.status, same.output_name) == (execution.id, "Succeeded", "scores.csv")
    assert batch.get_model_execution(execution.id).id == execution.id
    with pytest.raises(forja.NotFound):
        batch.get_execution("no-such-execution")


def test_wait_ready_long_polls_the_job_and_streams_what_the_scorer_prints(server, batch, tmp_path, counting, capsys):
    with forja.ModelClient(server.url, token=ADMIN_TOKEN, transport=counting) as models:
        model = models.get_model(batch.id)
        execution = model.execute(write_input(tmp_path / "slow-batch.csv"))
        counting.requests.clear()
        started = time.monotonic()
        execution.wait_ready(timeout=120, verbose=True)
        assert execution.status == "Succeeded"
        polls = [r for r in counting.requests if r.url.path == f"/api/v1/jobs/{execution.job_id}"]
        assert polls and all("waitSeconds" in r.url.params for r in polls)
        assert len(counting.requests) < 25, f"a long poll, not a busy loop: {len(counting.requests)} requests in {time.monotonic() - started:.1f}s"
        assert f"scored 3 rows of slow-batch.csv in {execution.id}" in capsys.readouterr().out


def test_a_raising_scorer_fails_the_execution_with_the_servers_message(batch, tmp_path):
    bad = write_input(tmp_path / "bad.csv", [("r1", 1000, 30), ("r2", -5, 40)])
    execution = batch.predict(bad)
    with pytest.raises(forja.ExecutionFailed) as raised:
        execution.wait_ready(timeout=120)
    err = raised.value
    assert isinstance(err, forja.ForjaError)
    assert err.execution is execution and execution.status == "Failed"
    assert (err.execution_id, err.deployment_id, err.job_id) == (execution.id, batch.id, execution.job_id)
    assert err.message == execution.message
    assert "ValueError: row r2: income must be positive" in err.message
    assert err.message in str(err) and execution.id in str(err)
    assert any("Traceback" in line for line in execution.get_logs())
    with pytest.raises(forja.ExecutionFailed):
        execution.download_result(tmp_path)
    assert not (tmp_path / "scores.csv").exists()
    # Picklable, as the other errors are (the execution itself is left behind).
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.execution_id, copy.execution) == (err.message, err.execution_id, None)

    listed = {e.id: e.status for e in batch.executions()}
    assert listed[execution.id] == "Failed"
    # The deployment keeps taking files.
    assert batch.execute(write_input(tmp_path / "good.csv"), wait_complete=True).status == "Succeeded"


def test_waiting_times_out_with_a_typed_error_and_results_wait_for_the_end(batch, tmp_path):
    execution = batch.predict(write_input(tmp_path / "slow.csv"))
    with pytest.raises(forja.ExecutionTimeout) as late:
        execution.wait_ready(timeout=0)
    assert isinstance(late.value, TimeoutError) and execution.job_id in str(late.value)
    assert late.value.execution_id == execution.id
    with pytest.raises(forja.Conflict) as early:
        execution.download_result(tmp_path)
    assert "once it has succeeded" in early.value.message
    assert execution.wait_ready().status == "Succeeded"
    assert Path(execution.download_result(tmp_path)).read_bytes() == expected_output().encode()


def test_bad_inputs_are_refused_before_uploading(batch, tmp_path):
    with pytest.raises(FileNotFoundError, match="data_path"):
        batch.predict(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="to_csv"):
        batch.predict(pd.DataFrame({"id": ["r1"], "income": [1], "age": [2]}))
    with pytest.raises(TypeError, match="path of its input file"):
        batch.predict({"id": "r1", "income": 1, "age": 2})
    # A hidden file's name travels without its leading dot (the server takes plain names).
    hidden = write_input(tmp_path / ".hidden.csv")
    execution = batch.execute(hidden, wait_complete=True)
    assert (execution.input_name, execution.status) == ("hidden.csv", "Succeeded")


def test_neomaril_async_scoring_example_runs_end_to_end(server):
    env = {**os.environ, "FORJA_URL": server.url, "FORJA_TOKEN": ADMIN_TOKEN, "EXAMPLE_MODEL": unique("credit-batch")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(REPO / "examples" / "neomaril_async_scoring.py")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "Deployed"
    assert (summary["execution_status"], summary["output"], summary["rows"]) == ("Succeeded", "scores.csv", 5000)
    assert summary["matches"] is True
    assert 0 < summary["denied"] < 5000
    assert summary["log"] == [f"scored 5000 applicants of applicants.csv (execution {summary['execution']})"]
    assert summary["failure"] == "ValueError: applicant B1: income must be positive"
    assert summary["executions"] == ["Failed", "Succeeded"]
    assert summary["deleted"] is True
    assert time.monotonic() - started < 120
