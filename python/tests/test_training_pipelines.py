"""forja.TrainingClient (MLOps Codex's Custom training) and forja.Pipeline (its MLOpsPipeline)
against a live server: training from a CSV and from a lake table, a failing script, promote and
deploy and predict; a general DAG of scripts passing outputs, a failing step and its retry; and
the examples/codex_pipeline example end to end.

Every training uses the same requirements (scikit-learn), so their environment is built once."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import forja
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, REPO, unique
from sklearn.datasets import load_iris

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

TRAIN = '''
from sklearn.linear_model import LogisticRegression

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def train_model(df, base_path):
    X, y = df[FEATURES], df["species"]
    model = LogisticRegression(max_iter=1000).fit(X, y)
    with open(base_path + "/notes.txt", "w") as f:
        f.write("rows=%d" % len(df))
    return {"pipeline": model, "metrics": {"accuracy": model.score(X, y), "rows": len(df)},
            "X_train": X, "y_train": y, "extra": ["notes.txt"]}
'''

FAILING = '''
def train_model(df, base_path):
    print("checking the data")
    raise ValueError("species column has only one class")
'''


@pytest.fixture(scope="module")
def training(server):
    with forja.TrainingClient(server.url, token=ADMIN_TOKEN) as t:
        yield t


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training")
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = FEATURES
    frame = X.assign(species=y).iloc[::5].reset_index(drop=True)
    frame.to_csv(folder / "iris.csv", index=False)
    (folder / "train.py").write_text(TRAIN)
    (folder / "failing.py").write_text(FAILING)
    (folder / "requirements.txt").write_text("scikit-learn\n")
    return folder, frame


@pytest.fixture(scope="module")
def trained(training, files):
    folder, _ = files
    experiment = training.create_training_experiment(unique("iris"), model_type="Classification")
    run = experiment.run_training(
        "csv",
        source_file=folder / "train.py",
        train_data=folder / "iris.csv",
        requirements_file=folder / "requirements.txt",
        wait_complete=True,
        timeout=900,
    )
    return experiment, run


def test_training_from_a_csv_logs_metrics_params_and_artifacts(trained, tmp_path):
    experiment, run = trained
    assert run.status == "succeeded" and run.get_status() == "succeeded"
    assert run.metrics["rows"] == 30 and run.metrics["accuracy"] > 0.9
    assert experiment.get_training_execution().id == run.id
    assert [r.id for r in experiment.get_all_training_executions()] == [run.id]

    info = run.execution_info()
    assert {m["key"]: m["value"] for m in info["data"]["metrics"]}["rows"] == 30
    assert info["data"]["params"], "params derived from X_train/y_train"

    folder = Path(run.download_result(tmp_path))
    with open(folder / "model" / "model.pkl", "rb") as f:
        model = pickle.load(f)
    assert list(model.classes_) == [0, 1, 2]
    assert (folder / "extras" / "notes.txt").read_text() == "rows=30"
    assert any("trained LogisticRegression" in line for line in run.get_logs())


def test_training_from_a_lake_table_with_a_filter(server, training, files):
    folder, frame = files
    table = unique("iris_train").replace("-", "_")
    with forja.GenericRepository(server.url, token=ADMIN_TOKEN) as repo:
        repo.create_table_by_dataframe(table, frame)
    run = training.run_training(
        unique("iris-lake"),
        folder / "train.py",
        table=table,
        filter_clause="petal_width > 0.5",
        requirements_file=folder / "requirements.txt",
        run_name="lake",
        wait_complete=True,
        timeout=900,
    )
    assert run.data["data"] == {"file": None, "table": table, "filter": "petal_width > 0.5"}
    assert run.metrics["rows"] == int((frame["petal_width"] > 0.5).sum()) < 30

    with pytest.raises(forja.NotFound):
        training.run_training("x", folder / "train.py", table="no_such_table")
    with pytest.raises(ValueError, match="one of them"):
        training.run_training("x", folder / "train.py")


def test_a_failing_script_raises_training_failed_with_its_message(training, files):
    folder, _ = files
    experiment = training.create_training_experiment(unique("fails"))
    with pytest.raises(forja.TrainingFailed) as failed:
        experiment.run_training(
            source_file=folder / "failing.py", train_data=folder / "iris.csv", requirements_file=folder / "requirements.txt", wait_complete=True, timeout=900
        )
    err = failed.value
    assert isinstance(err, forja.ExecutionFailed)
    assert "species column has only one class" in err.message
    assert err.run.status == "failed" and err.run_id == err.run.id
    assert any("checking the data" in line for line in err.run.get_logs())
    with pytest.raises(forja.Conflict):
        err.run.promote_model(unique("never"))


def test_promote_and_deploy_then_predict(trained, files):
    _, run = trained
    _, frame = files
    name = unique("iris-model")
    model = run.promote_model(name, deploy_name=unique("iris-api"), schema=frame[FEATURES].head(1))
    assert isinstance(model, forja.ForjaModel) and model.status == "Deployed"
    answer = model.predict(frame[FEATURES].head(3))
    assert answer["predictions"] == frame["species"].head(3).tolist()
    assert run.refresh().promoted["model"] == name and run.promoted["deploymentId"] == model.id

    # A run makes one version: promoting it again says which one it made.
    with pytest.raises(forja.Conflict, match=rf"already promoted to models:/{name}/1"):
        run.promote_model(name)


# -- pipelines --------------------------------------------------------------------------------

PREPARE = '''
import json, os
params = json.loads(os.environ["FORJA_PARAMS"])
print("preparing", params)
with open(os.environ["FORJA_OUTPUTS"], "w") as f:
    json.dump({"rows": int(params["rows"]) * 2, "table": "prepared"}, f)
'''

REPORT = '''
import json, os
params = json.loads(os.environ["FORJA_PARAMS"])
print("report on", params)
with open(os.environ["FORJA_OUTPUTS"], "w") as f:
    json.dump({"summary": "%s:%s" % (params["table"], params["rows"] + 1)}, f)
'''

BOOM = '''
import os, sys
if not os.path.exists(os.path.join(os.environ["FORJA_FILES"], "fixed.flag")):
    print("something is off", file=sys.stderr)
    raise RuntimeError("the input table is empty")
'''

DAG = '''
name: {name}
params:
  rows: 5
steps:
  - id: prepare
    script: prepare.py
    requirements: requirements.txt
    params:
      rows: ${{{{ params.rows }}}}
  - id: report
    script: report.py
    needs: [prepare]
    params:
      rows: ${{{{ steps.prepare.outputs.rows }}}}
      table: ${{{{ steps.prepare.outputs.table }}}}
'''


def write_dag(folder: Path, name: str, extra_step: str = "") -> Path:
    (folder / "prepare.py").write_text(PREPARE)
    (folder / "report.py").write_text(REPORT)
    (folder / "boom.py").write_text(BOOM)
    (folder / "requirements.txt").write_text("")  # nothing to install: builds at once
    path = folder / "dag.yaml"
    path.write_text(DAG.format(name=name) + extra_step)
    return path


def test_a_dag_of_scripts_passes_outputs(admin, tmp_path, capsys):
    path = write_dag(tmp_path, unique("dag"))
    pipeline = forja.Pipeline.from_config_file(path, admin)
    assert sorted(pipeline.files) == ["prepare.py", "report.py", "requirements.txt"]
    run = pipeline.start(params={"rows": 20}, timeout=300)
    assert run["status"] == "succeeded"
    steps = {s["id"]: s for s in run["steps"]}
    assert steps["prepare"]["outputs"] == {"rows": 40, "table": "prepared"}
    assert steps["report"]["outputs"] == {"summary": "prepared:41"}
    assert any("report on" in line for line in pipeline.logs(run["id"], "report"))
    printed = capsys.readouterr().out
    assert "step prepare (script): succeeded" in printed and "step report (script): succeeded" in printed
    assert pipeline.status(run["id"])["status"] == "succeeded"
    assert pipeline.runs()[0]["id"] == run["id"]


def test_a_failing_step_raises_pipeline_failed_naming_it(admin, tmp_path):
    extra = textwrap.dedent(
        """
          - id: check
            script: boom.py
            needs: [report]
          - id: publish
            script: report.py
            needs: [check]
            params: {rows: 1, table: never}
        """
    )
    extra = textwrap.indent(extra.strip("\n"), "  ") + "\n"
    path = write_dag(tmp_path, unique("dag-fails"), extra)
    pipeline = forja.Pipeline.from_config_file(path, admin)
    with pytest.raises(forja.PipelineFailed) as failed:
        pipeline.start(timeout=300, verbose=False)
    err = failed.value
    assert list(err.failed_steps) == ["check"]
    assert "the input table is empty" in err.failed_steps["check"]
    assert "step 'check' failed" in str(err) and "the input table is empty" in str(err)
    steps = {s["id"]: s["status"] for s in err.run["steps"]}
    assert steps["prepare"] == "succeeded" and steps["report"] == "succeeded" and steps["publish"] != "succeeded"
    assert any("something is off" in line for line in pipeline.logs(err.run_id, "check"))

    # A retry runs the failed step again (and what follows), not the succeeded ones; still failing.
    with pytest.raises(forja.PipelineFailed) as again:
        pipeline.retry(err.run_id, timeout=300, verbose=False)
    assert again.value.run_id == err.run_id and list(again.value.failed_steps) == ["check"]


def test_a_monitoring_section_and_a_missing_file_are_refused(admin, tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "iris.csv").write_text("a\n1\n")
    yaml = tmp_path / "codex.yaml"
    yaml.write_text("training:\n  experiment_name: x\n  source: train.py\n  data: iris.csv\nmonitoring:\n  config: configuration.json\n")
    with pytest.raises(forja.InvalidArgument, match="monitoring"):
        forja.Pipeline.from_config_file(yaml, admin, name=unique("mon")).upload()
    yaml.write_text("training:\n  experiment_name: x\n  source: train.py\n  data: missing.csv\n")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        forja.Pipeline.from_config_file(yaml, admin)


def test_the_codex_pipeline_example_trains_and_deploys(server, admin):
    env = {**os.environ, "FORJA_URL": server.url, "FORJA_TOKEN": ADMIN_TOKEN, "EXAMPLE_PIPELINE_NAME": unique("codex")}
    env.pop("FORJA_GROUP", None)
    done = subprocess.run([sys.executable, "run.py"], cwd=str(REPO / "examples" / "codex_pipeline"), env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "step training (train): succeeded" in done.stdout and "step deploy (register): succeeded" in done.stdout
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["group"] == "codex-demo"
    assert summary["metrics"]["cv_accuracy"] > 0.8
    assert summary["prediction"] == {"predictions": [0]}

    # The deployment answers outside the example too.
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as models:
        model = models.get_model(summary["deployment"], group="codex-demo")
        assert model.status == "Deployed"
        frame = pd.DataFrame([{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}])
        assert model.predict(frame) == {"predictions": [2]}
