"""ExperimentClient: DHuolib's experiment calls and the tracking API, against a live server."""

from __future__ import annotations

import math
import os
import pickle
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import forja
import httpx
import pytest
from conftest import ADMIN_TOKEN, unique


@dataclass
class TinyModel:
    """Stands in for a trained model: pickles, unpickles and predicts."""

    weights: List[float]
    bias: float
    labels: List[str] = field(default_factory=lambda: ["setosa", "versicolor"])

    def predict(self, row: List[float]) -> str:
        score = sum(w * x for w, x in zip(self.weights, row)) + self.bias
        return self.labels[int(score > 0)]


@pytest.fixture
def experiments(admin):
    return forja.ExperimentClient(admin, progress=False)


@pytest.fixture
def run_id(experiments):
    experiment_id = experiments.create_experiment(unique("exp-run"))
    return experiments.start_run(experiment_id).run_id


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- construction -----------------------------------------------------------------------------


def test_wraps_a_client_or_opens_its_own(server, admin):
    wrapped = forja.ExperimentClient(admin)
    assert wrapped.client is admin
    wrapped.close()
    assert admin.whoami()["kind"]  # a wrapped client stays open

    with pytest.raises(ValueError):
        forja.ExperimentClient(admin, token=ADMIN_TOKEN)

    group = unique("trk")
    admin.groups.create(group)
    with forja.ExperimentClient(server.url, ADMIN_TOKEN, group, retries=0) as own:
        assert own.client.group == group
        experiment_id = own.create_experiment(unique("in-group"))
        assert own.get_experiment(experiment_id)["group"] == group
    assert "forja.ExperimentClient(forja.Client(" in repr(own)


# -- experiments ------------------------------------------------------------------------------


def test_create_experiment_returns_the_existing_id_for_a_taken_name(experiments):
    name = unique("dh-exp")
    experiment_id = experiments.create_experiment(name, {"team": "vision", "priority": 1})
    assert experiment_id.isdigit()

    experiment = experiments.get_experiment(experiment_id)
    assert experiment["name"] == name
    assert {t["key"]: t["value"] for t in experiment["tags"]} == {"team": "vision", "priority": "1"}

    # DHuolib's behaviour: the same name gives the same experiment, tags untouched.
    assert experiments.create_experiment(name, {"team": "other"}) == experiment_id
    assert experiments.create_experiment(f"  {name} ") == experiment_id
    assert {t["key"]: t["value"] for t in experiments.get_experiment(experiment_id)["tags"]}["team"] == "vision"
    assert experiments.get_experiment_by_name(name)["experimentId"] == experiment_id


def test_a_deleted_experiments_name_still_gives_its_id_but_takes_no_runs(experiments, admin, tmp_path):
    name = unique("dh-deleted")
    experiment_id = experiments.create_experiment(name)
    admin.request("DELETE", f"/api/v1/experiments/{experiment_id}")

    assert experiments.create_experiment(name) == experiment_id
    model = _write(tmp_path / "m.pkl", pickle.dumps(TinyModel([1.0], 0.0)))
    reqs = _write(tmp_path / "requirements.txt", b"")
    with pytest.raises(forja.InvalidArgument) as caught:
        experiments.execute_run_for_experiment("LINEAR_REGRESSION", name, model, reqs)
    assert "'active' state" in caught.value.message


def test_unknown_experiments_are_not_found(experiments):
    with pytest.raises(forja.NotFound):
        experiments.get_experiment("987654321")
    with pytest.raises(forja.NotFound):
        experiments.get_experiment_by_name(unique("ghost"))


def test_search_experiments_pages_filters_and_orders(experiments):
    prefix = unique("paged")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in reversed(names):
        experiments.create_experiment(name, {"parity": "even" if name[-1] in "024" else "odd"})

    seen: List[str] = []
    page = experiments.search_experiments(f"name LIKE '{prefix}-%'", max_results=2, order_by=["name ASC"])
    pages = 1
    while True:
        assert len(page["experiments"]) <= 2
        seen += [e["name"] for e in page["experiments"]]
        if "nextPageToken" not in page:
            break
        page = experiments.search_experiments(f"name LIKE '{prefix}-%'", 2, page["nextPageToken"], ["name ASC"])
        pages += 1
    assert seen == names
    assert pages == 3

    odd = experiments.search_experiments(f"name LIKE '{prefix}-%' AND tags.parity = 'odd'", order_by=["name DESC"])
    assert [e["name"] for e in odd["experiments"]] == [names[3], names[1]]
    assert "nextPageToken" not in odd


def test_search_experiments_as_a_dataframe(experiments):
    pytest.importorskip("pandas")
    prefix = unique("frame")
    for i in range(3):
        experiments.create_experiment(f"{prefix}-{i}", {"idx": i})
    frame = experiments.search_experiments(f"name LIKE '{prefix}-%'", max_results=2, order_by=["name"], output_format="pandas")
    assert list(frame["name"]) == [f"{prefix}-0", f"{prefix}-1"]
    assert list(frame["tags.idx"]) == ["0", "1"]
    assert "experimentId" in frame.columns
    rest = experiments.search_experiments(f"name LIKE '{prefix}-%'", 2, frame.attrs["nextPageToken"], ["name"], output_format="pandas")
    assert list(rest["name"]) == [f"{prefix}-2"]
    assert rest.attrs["nextPageToken"] is None


def test_a_bad_filter_names_the_position(experiments):
    with pytest.raises(forja.InvalidArgument) as caught:
        experiments.search_experiments("name = 'x' AND AND")
    err = caught.value
    assert isinstance(err.details["position"], int)
    assert err.message.startswith(f"Invalid filter at position {err.details['position']} near ")

    experiment_id = experiments.create_experiment(unique("bad-filter"))
    with pytest.raises(forja.InvalidArgument) as caught:
        experiments.search_runs([experiment_id], "metrics.acc >> 1")
    assert f"position {caught.value.details['position']}" in caught.value.message


def test_an_unknown_output_format_is_refused_before_any_call(experiments):
    with pytest.raises(ValueError):
        experiments.search_experiments(output_format="polars")


# -- DHuolib's execute_run_for_experiment ------------------------------------------------------


def test_execute_run_for_experiment_round_trips_the_pickle(experiments, tmp_path):
    model = TinyModel(weights=[0.5, -1.25, 2.0], bias=-0.1)
    model_path = _write(tmp_path / "trained" / "rf.pkl", pickle.dumps(model))
    requirements = b"scikit-learn==1.5.2\nnumpy>=1.26\n"
    requirements_path = _write(tmp_path / "reqs.txt", requirements)
    name = unique("dh-run")

    result = experiments.execute_run_for_experiment("RANDOM_FOREST", name, str(model_path), requirements_path, tags={"owner": "ana", "type_model": "ignored"})
    run_id = result["run_id"]
    assert result == {"experiment_name": name, "run_id": run_id, "model_uri": f"runs:/{run_id}/model"}

    run = experiments.get_run(run_id)
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["endTime"] >= run["info"]["startTime"]
    assert run["info"]["experimentId"] == experiments.get_experiment_by_name(name)["experimentId"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["type_model"] == "RANDOM_FOREST"
    assert tags["owner"] == "ana"

    listing = {e["path"]: e for e in experiments.list_artifacts(run_id, "model")}
    assert set(listing) == {"model/model.pkl", "model/requirements.txt"}
    assert listing["model/model.pkl"]["size"] == model_path.stat().st_size
    assert not listing["model/model.pkl"]["isDir"]

    local = experiments.download_artifacts(run_id, "model/model.pkl", tmp_path / "out")
    assert local == str(tmp_path / "out" / "model" / "model.pkl")
    with open(local, "rb") as f:
        restored = pickle.load(f)
    assert restored == model
    assert restored.predict([1.0, 0.0, 1.0]) == model.predict([1.0, 0.0, 1.0])

    folder = experiments.download_artifacts(run_id, "model", tmp_path / "whole")
    assert (Path(folder) / "requirements.txt").read_bytes() == requirements

    # A second run lands in the same experiment.
    again = experiments.execute_run_for_experiment("RANDOM_FOREST", name, model_path, requirements_path)
    assert again["run_id"] != run_id
    assert experiments.get_run(again["run_id"])["info"]["experimentId"] == run["info"]["experimentId"]


def test_a_scikit_learn_model_survives_the_trip(experiments, tmp_path):
    datasets = pytest.importorskip("sklearn.datasets")
    linear = pytest.importorskip("sklearn.linear_model")
    features, labels = datasets.load_iris(return_X_y=True)
    model = linear.LogisticRegression(max_iter=500).fit(features, labels)
    model_path = _write(tmp_path / "model.pkl", pickle.dumps(model))
    reqs = _write(tmp_path / "requirements.txt", b"scikit-learn\n")

    result = experiments.execute_run_for_experiment("LOGISTIC_REGRESSION", unique("dh-sklearn"), model_path, reqs)
    local = experiments.download_artifacts(result["run_id"], "model/model.pkl", tmp_path / "out")
    with open(local, "rb") as f:
        restored = pickle.load(f)
    assert (restored.predict(features) == model.predict(features)).all()


def test_execute_run_for_experiment_checks_its_arguments_first(experiments, tmp_path):
    name = unique("dh-missing")
    real = _write(tmp_path / "requirements.txt", b"numpy\n")
    with pytest.raises(FileNotFoundError, match="modelpkl_path"):
        experiments.execute_run_for_experiment("XGBOOST", name, tmp_path / "nope.pkl", real)
    with pytest.raises(ValueError, match="type_model"):
        experiments.execute_run_for_experiment(" ", name, real, real)
    with pytest.raises(ValueError, match="experiment_name"):
        experiments.execute_run_for_experiment("XGBOOST", "", real, real)
    with pytest.raises(forja.NotFound):
        experiments.get_experiment_by_name(name)  # nothing was created


def test_a_failed_upload_marks_the_run_failed(experiments, tmp_path, monkeypatch):
    name = unique("dh-fail")
    model = _write(tmp_path / "m.pkl", pickle.dumps(TinyModel([1.0], 0.0)))
    reqs = _write(tmp_path / "requirements.txt", b"numpy\n")
    started: List[str] = []
    real_upload = experiments._upload

    def flaky(run_id, file, artifact_path):
        started.append(run_id)
        if artifact_path.endswith("requirements.txt"):
            raise forja.ForjaConnectionError("http://x", reason="scripted")
        return real_upload(run_id, file, artifact_path)

    monkeypatch.setattr(experiments, "_upload", flaky)
    with pytest.raises(forja.ForjaConnectionError):
        experiments.execute_run_for_experiment("XGBOOST", name, model, reqs)
    assert experiments.get_run(started[0])["info"]["status"] == "FAILED"


# -- runs -------------------------------------------------------------------------------------


def test_start_run_as_a_context_manager(experiments):
    experiment_id = experiments.create_experiment(unique("ctx"))

    with experiments.start_run(experiment_id, run_name="baseline", tags={"team": "vision"}) as run:
        assert isinstance(run, dict)
        assert run["info"]["status"] == "RUNNING"
        assert run["info"]["runName"] == "baseline"
        assert {t["key"]: t["value"] for t in run["data"]["tags"]}["team"] == "vision"
    assert run["info"]["status"] == "FINISHED"
    assert experiments.get_run(run.run_id)["info"]["status"] == "FINISHED"
    assert pickle.loads(pickle.dumps(run)) == dict(run)

    with pytest.raises(ZeroDivisionError):
        with experiments.start_run(experiment_id) as failing:
            1 / 0  # noqa: B018 (the failure under test)
    stored = experiments.get_run(failing.run_id)["info"]
    assert stored["status"] == "FAILED"
    assert stored["endTime"] is not None
    assert stored["runName"]  # the server named it

    plain = experiments.start_run(experiment_id)
    info = experiments.end_run(plain.run_id, "KILLED", end_time=plain["info"]["startTime"] + 5)
    assert (info["status"], info["endTime"]) == ("KILLED", plain["info"]["startTime"] + 5)


def test_metrics_params_tags_and_history(experiments, run_id):
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        experiments.log_metric(run_id, "loss", loss, step=step, timestamp=1_700_000_000_000 + step)
    experiments.log_metrics(run_id, {"precision": 0.91, "recall": 0.87}, step=2)
    experiments.log_param(run_id, "alpha", 0.5)
    experiments.log_params(run_id, {"max_depth": 8, "criterion": "gini"})
    experiments.set_tag(run_id, "stage", "dev")
    experiments.set_tags(run_id, [{"key": "stage", "value": "candidate"}, {"key": "owner", "value": "ana"}])
    experiments.log_batch(
        run_id,
        metrics=[{"key": "eval/acc", "value": 0.7, "step": 1}, {"key": "eval/acc", "value": 0.8, "step": 2}],
        params={"lr": 0.01},
        tags={"optimizer": "adam"},
    )

    run = experiments.get_run(run_id)
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"]["value"] == 0.25 and metrics["loss"]["step"] == 2
    assert metrics["precision"]["value"] == 0.91
    assert metrics["eval/acc"]["value"] == 0.8
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {
        "alpha": "0.5",
        "max_depth": "8",
        "criterion": "gini",
        "lr": "0.01",
    }
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert (tags["stage"], tags["owner"], tags["optimizer"]) == ("candidate", "ana", "adam")

    history = experiments.get_metric_history(run_id, "loss")
    assert [(m["step"], m["value"], m["timestamp"]) for m in history] == [
        (0, 0.9, 1_700_000_000_000),
        (1, 0.5, 1_700_000_000_001),
        (2, 0.25, 1_700_000_000_002),
    ]
    assert [m["value"] for m in experiments.get_metric_history(run_id, "eval/acc")] == [0.7, 0.8]
    assert experiments.get_metric_history(run_id, "never-logged") == []


def test_nan_and_infinities_round_trip(experiments, run_id):
    experiments.log_metric(run_id, "weird", float("nan"), step=0)
    experiments.log_metric(run_id, "weird", float("inf"), step=1)
    experiments.log_metric(run_id, "weird", float("-inf"), step=2)
    experiments.log_metrics(run_id, {"nan": math.nan, "up": math.inf, "down": -math.inf, "fine": 1.5})

    values = [m["value"] for m in experiments.get_metric_history(run_id, "weird")]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]

    latest = {m["key"]: m["value"] for m in experiments.get_run(run_id)["data"]["metrics"]}
    assert math.isnan(latest["nan"])
    assert (latest["up"], latest["down"], latest["fine"]) == (math.inf, -math.inf, 1.5)

    with pytest.raises(ValueError):  # not a number at all
        experiments.log_metric(run_id, "bad", "fast")


def test_a_large_batch_is_split_within_the_servers_limits(experiments, run_id, counting, server):
    with forja.Client(server.url, token=ADMIN_TOKEN, transport=counting) as client:
        counted = forja.ExperimentClient(client)
        counted.log_batch(
            run_id,
            metrics=[{"key": "curve", "value": i / 10, "step": i} for i in range(2500)],
            params={f"p{i}": i for i in range(150)},
            tags={f"t{i}": i for i in range(120)},
        )
    assert len(counting.requests) == 3
    assert len(experiments.get_metric_history(run_id, "curve")) == 2500
    data = experiments.get_run(run_id)["data"]
    assert len(data["params"]) == 150
    assert len([t for t in data["tags"] if t["key"].startswith("t")]) == 120


def test_changing_a_param_is_refused_with_the_servers_message(experiments, run_id):
    experiments.log_param(run_id, "alpha", 0.5)
    experiments.log_param(run_id, "alpha", "0.5")  # the same value again is fine
    with pytest.raises(forja.InvalidArgument) as caught:
        experiments.log_param(run_id, "alpha", 0.7)
    assert caught.value.message == (
        f"Changing param values is not allowed. Param with key='alpha' was already logged with value='0.5' "
        f"for run ID='{run_id}'. Attempted logging new value '0.7'."
    )


def test_unknown_runs_are_not_found(experiments, tmp_path):
    ghost = "0" * 32
    for call in (
        lambda: experiments.get_run(ghost),
        lambda: experiments.log_metric(ghost, "m", 1.0),
        lambda: experiments.log_param(ghost, "p", 1),
        lambda: experiments.set_tag(ghost, "t", 1),
        lambda: experiments.end_run(ghost),
        lambda: experiments.get_metric_history(ghost, "m"),
        lambda: experiments.list_artifacts(ghost),
        lambda: experiments.download_artifacts(ghost, "x.txt", tmp_path),
        lambda: experiments.log_artifact(ghost, _write(tmp_path / "f.txt", b"x")),
    ):
        with pytest.raises(forja.NotFound):
            call()


def test_search_runs_by_id_or_name_with_filter_order_columns_and_pages(experiments):
    first, second = unique("runs-a"), unique("runs-b")
    ids = [experiments.create_experiment(first), experiments.create_experiment(second)]
    for i, experiment_id in enumerate(ids * 3):
        with experiments.start_run(experiment_id, run_name=f"r{i}") as run:
            experiments.log_metrics(run.run_id, {"rmse": i / 10, "mae": i / 20})
            experiments.log_params(run.run_id, {"i": i, "kind": "even" if i % 2 == 0 else "odd"})

    page = experiments.search_runs(ids, order_by=["metrics.rmse ASC"])
    assert [r["info"]["runName"] for r in page["runs"]] == [f"r{i}" for i in range(6)]

    by_name = experiments.search_runs(experiment_names=first, filter_string="metrics.rmse >= 0.2", order_by=["metrics.rmse DESC"])
    assert [r["info"]["runName"] for r in by_name["runs"]] == ["r4", "r2"]
    both = experiments.search_runs(ids[0], experiment_names=[second], filter_string="params.kind = 'odd'")
    assert sorted(r["info"]["runName"] for r in both["runs"]) == ["r1", "r3", "r5"]

    names: List[str] = []
    token = None
    while True:
        page = experiments.search_runs(ids, order_by=["params.i DESC"], max_results=4, page_token=token)
        names += [r["info"]["runName"] for r in page["runs"]]
        token = page.get("nextPageToken")
        if token is None:
            break
    assert names == [f"r{i}" for i in reversed(range(6))]

    slim = experiments.search_runs(ids, "metrics.rmse = 0.5", columns=["metrics.mae"])
    (only,) = slim["runs"]
    assert [m["key"] for m in only["data"]["metrics"]] == ["mae"]
    assert only["data"]["params"] == []

    with pytest.raises(ValueError):
        experiments.search_runs()
    with pytest.raises(forja.NotFound):
        experiments.search_runs(experiment_names=unique("ghost"))


def test_search_runs_as_a_dataframe(experiments):
    pytest.importorskip("pandas")
    experiment_id = experiments.create_experiment(unique("runs-frame"))
    for i in range(3):
        with experiments.start_run(experiment_id, run_name=f"r{i}") as run:
            experiments.log_metric(run.run_id, "score", [0.1, float("nan"), 0.9][i])
            experiments.log_param(run.run_id, "i", i)
    frame = experiments.search_runs(experiment_id, order_by=["params.i"], max_results=2, output_format="pandas")
    assert list(frame["runName"]) == ["r0", "r1"]
    assert list(frame["params.i"]) == ["0", "1"]
    assert frame["metrics.score"][0] == 0.1 and math.isnan(frame["metrics.score"][1])
    assert set(frame["status"]) == {"FINISHED"}
    assert frame.attrs["nextPageToken"]


def test_pandas_is_only_needed_for_dataframes(experiments, monkeypatch):
    experiment_id = experiments.create_experiment(unique("no-pandas"))
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert experiments.search_runs(experiment_id)["runs"] == []
    with pytest.raises(ImportError, match=r"forja\[pandas\]"):
        experiments.search_runs(experiment_id, output_format="pandas")


# -- artifacts --------------------------------------------------------------------------------


def test_log_list_and_download_artifacts(experiments, run_id, tmp_path):
    single = _write(tmp_path / "notes.txt", b"hello forja\n")
    assert experiments.log_artifact(run_id, single) == [{"path": "notes.txt", "size": 12}]
    assert experiments.log_artifact(run_id, str(single), artifact_path="docs/") == [{"path": "docs/notes.txt", "size": 12}]

    tree = tmp_path / "checkpoints"
    _write(tree / "epoch-1.bin", os.urandom(3000))
    _write(tree / "nested" / "deep" / "epoch-2.bin", os.urandom(10))
    _write(tree / "empty.txt", b"")
    uploaded = experiments.log_artifact(run_id, tree, artifact_path="train")
    assert sorted(u["path"] for u in uploaded) == [
        "train/checkpoints/empty.txt",
        "train/checkpoints/epoch-1.bin",
        "train/checkpoints/nested/deep/epoch-2.bin",
    ]

    root = experiments.list_artifacts(run_id)
    assert [(e["path"], e["isDir"]) for e in root] == [("docs", True), ("notes.txt", False), ("train", True)]
    assert [e["path"] for e in experiments.list_artifacts(run_id, "train/checkpoints")] == [
        "train/checkpoints/empty.txt",
        "train/checkpoints/epoch-1.bin",
        "train/checkpoints/nested",
    ]
    assert experiments.list_artifacts(run_id, "nothing-here") == []

    everything = Path(experiments.download_artifacts(run_id))
    assert everything.is_dir()
    downloaded = sorted(p.relative_to(everything).as_posix() for p in everything.rglob("*") if p.is_file())
    assert downloaded == [
        "docs/notes.txt",
        "notes.txt",
        "train/checkpoints/empty.txt",
        "train/checkpoints/epoch-1.bin",
        "train/checkpoints/nested/deep/epoch-2.bin",
    ]
    for rel in downloaded[2:]:
        assert (everything / rel).read_bytes() == (tree / rel.split("checkpoints/", 1)[1]).read_bytes()

    sub = experiments.download_artifacts(run_id, "train/checkpoints/nested", tmp_path / "dst")
    assert sub == str(tmp_path / "dst" / "train" / "checkpoints" / "nested")
    assert (Path(sub) / "deep" / "epoch-2.bin").read_bytes() == (tree / "nested" / "deep" / "epoch-2.bin").read_bytes()
    assert not list((tmp_path / "dst").rglob("*.part"))

    # Uploading again replaces the file.
    _write(single, b"second version")
    experiments.log_artifact(run_id, single)
    again = experiments.download_artifacts(run_id, "notes.txt", tmp_path / "dst")
    assert Path(again).read_bytes() == b"second version"


def test_artifact_paths_with_dot_dot_are_refused(experiments, run_id, tmp_path):
    file = _write(tmp_path / "f.txt", b"x")
    for bad in ("../escape", "a/../../b"):
        with pytest.raises(forja.InvalidArgument) as caught:
            experiments.log_artifact(run_id, file, artifact_path=bad)
        assert "Invalid path" in caught.value.message and "may not contain '..'" in caught.value.message
    with pytest.raises(forja.InvalidArgument):
        experiments.log_artifact(run_id, file, artifact_path="/abs")
    with pytest.raises(forja.InvalidArgument):
        experiments.download_artifacts(run_id, "../f.txt", tmp_path / "out")
    with pytest.raises(forja.InvalidArgument):
        experiments.list_artifacts(run_id, "../..")
    assert experiments.list_artifacts(run_id) == []


def test_missing_artifacts(experiments, run_id, tmp_path):
    with pytest.raises(forja.NotFound):
        experiments.download_artifacts(run_id, "no/such.file", tmp_path / "out")
    assert not (tmp_path / "out" / "no").exists()
    with pytest.raises(FileNotFoundError):
        experiments.log_artifact(run_id, tmp_path / "absent.txt")


class FakeBar:
    """Records what a tqdm bar would have been told."""

    made: List["FakeBar"] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.total = kwargs["total"]
        self.n = 0
        self.resets = 0
        self.closed = False
        FakeBar.made.append(self)

    def update(self, n):
        self.n += n

    def reset(self, total=None):
        self.resets += 1
        self.n = 0
        if total is not None:
            self.total = total

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    FakeBar.made = []
    module = types.ModuleType("tqdm.auto")
    module.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    return FakeBar.made


def test_transfers_report_progress_to_tqdm(admin, run_id, tmp_path, fake_tqdm):
    experiments = forja.ExperimentClient(admin)
    data = os.urandom(2 * 1024 * 1024 + 123)  # more than one chunk
    big = _write(tmp_path / "big.bin", data)

    experiments.log_artifact(run_id, big)
    (up,) = fake_tqdm
    assert (up.total, up.n, up.closed) == (len(data), len(data), True)
    assert up.kwargs["desc"] == "upload big.bin"
    assert up.kwargs["unit"] == "B" and up.kwargs["disable"] is None

    local = experiments.download_artifacts(run_id, "big.bin", tmp_path / "out")
    assert Path(local).read_bytes() == data
    down = fake_tqdm[1]
    assert (down.total, down.n, down.closed) == (len(data), len(data), True)

    fake_tqdm.clear()
    forja.ExperimentClient(admin, progress=False).log_artifact(run_id, big)
    assert fake_tqdm == []


def test_transfers_work_without_tqdm(experiments, admin, run_id, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # makes the import fail
    file = _write(tmp_path / "plain.txt", b"no bars")
    forja.ExperimentClient(admin).log_artifact(run_id, file)
    local = forja.ExperimentClient(admin).download_artifacts(run_id, "plain.txt", tmp_path / "out")
    assert Path(local).read_bytes() == b"no bars"


def test_an_upload_is_resent_whole_after_a_dropped_connection(server, run_id, tmp_path, fake_tqdm):
    data = os.urandom(1024 * 1024 + 7)
    file = _write(tmp_path / "resend.bin", data)
    bodies: List[bytes] = []
    real = httpx.HTTPTransport()

    class DropFirstPut(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "PUT" and not bodies:
                bodies.append(b"".join(request.stream))  # reads part of the file, then the line drops
                raise httpx.WriteError("scripted drop", request=request)
            if request.method == "PUT":
                bodies.append(request.read())
            return real.handle_request(request)

    with forja.Client(server.url, token=ADMIN_TOKEN, transport=DropFirstPut(), backoff=0) as client:
        assert forja.ExperimentClient(client).log_artifact(run_id, file) == [{"path": "resend.bin", "size": len(data)}]
    assert bodies == [data, data]
    (bar,) = fake_tqdm
    assert (bar.resets, bar.n) == (2, len(data))
    with forja.ExperimentClient(server.url, ADMIN_TOKEN, progress=False) as fresh:
        assert Path(fresh.download_artifacts(run_id, "resend.bin", tmp_path / "out")).read_bytes() == data
