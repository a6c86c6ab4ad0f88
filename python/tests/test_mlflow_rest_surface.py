"""The REST routes MLflow's UI and client call beyond the tracking basics, side by side with a real
`mlflow server`: bulk metric histories (with MLflow's downsampling), dataset summaries, UI uploads,
`get-artifact`, model-version and logged-model artifacts. The same requests go to both servers and
the answers are compared: status, error code, message and JSON, with ids mapped across."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import httpx
import mlflow
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, RealMlflow
from mlflow.entities import Metric

AJAX = "/ajax-api/2.0/mlflow"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def forja_url(request) -> str:
    """Forja on SQLite and on PostgreSQL (conftest's servers, shared with the session)."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server").url


class Side:
    """One server, the same world logged into it, and raw HTTP to it."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
        self.client = mlflow.MlflowClient(url)
        self.ids: dict[str, str] = {}  # label -> id on this server
        self._log_world(tmp)

    def _log_world(self, tmp: Path) -> None:
        c = self.client
        exp = c.create_experiment(f"rest-surface-{uuid.uuid4().hex[:8]}")
        self.ids["exp"] = exp
        runs = {label: c.create_run(exp, start_time=1000).info.run_id for label in ("long", "flat", "short", "empty")}
        self.ids.update(runs)
        # 1,234 points with gaps, repeated steps and NaNs: the sampling has ties and holes to get right.
        long = [Metric("loss", float("nan") if i % 97 == 0 else 1.0 / (i + 1), 1_000 + i, (i * 3) // 2) for i in range(1234)]
        # Every point at step 0 (log_metric without a step), timestamps apart.
        flat = [Metric("loss", float(i % 7), 5_000 + i, 0) for i in range(600)]
        short = [Metric("loss", v, 9_000 + i, s) for i, (s, v) in enumerate([(0, 3.0), (5, 2.0), (5, 1.5), (9, float("inf"))])]
        for run, points in (("long", long), ("flat", flat), ("short", short)):
            for i in range(0, len(points), 1000):
                c.log_batch(runs[run], metrics=points[i : i + 1000])
        c.log_batch(runs["empty"], metrics=[Metric("other", 1.0, 1, 0)])

        df = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
        mlflow.set_tracking_uri(self.url)  # the fluent API below logs to this server
        mlflow.set_experiment(experiment_id=exp)  # start_run(run_id=…) refuses a run of another active experiment
        with mlflow.start_run(run_id=runs["long"]):
            mlflow.log_input(mlflow.data.from_pandas(df, name="train-set"), context="training")
            mlflow.log_input(mlflow.data.from_pandas(df.head(2), name="eval-set"), context="eval")
        with mlflow.start_run(run_id=runs["short"]):
            mlflow.log_input(mlflow.data.from_pandas(df, name="train-set"), context="training")

        model = c.create_logged_model(exp, name="tiny")
        self.ids["model"] = model.model_id
        src = tmp / f"model-{uuid.uuid4().hex[:6]}"
        (src / "sub").mkdir(parents=True)
        (src / "MLmodel").write_text("flavors: {}\n")
        (src / "sub" / "weights.bin").write_bytes(bytes(range(256)) * 4)
        c.log_model_artifacts(model.model_id, str(src))
        self.ids["registered"] = f"rest-surface-{uuid.uuid4().hex[:8]}"
        c.create_registered_model(self.ids["registered"])
        c.create_model_version(self.ids["registered"], source=model.artifact_location, run_id=runs["long"], model_id=model.model_id)

    def get(self, path: str, **params):
        return self.http.get(path, params=params)

    def label(self, value):
        """Replaces this server's ids with their labels, so two servers' answers compare."""
        by_id = {v: k for k, v in self.ids.items()}
        if isinstance(value, dict):
            return {k: self.label(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.label(v) for v in value]
        return by_id.get(value, value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def sides(real_mlflow: RealMlflow, forja_url: str, tmp_path_factory) -> Iterator[tuple[Side, Side]]:
    names = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_HTTP_REQUEST_MAX_RETRIES")
    before = {n: os.environ.get(n) for n in names}
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN  # Forja reads it; MLflow ignores it
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    tmp = tmp_path_factory.mktemp("rest-surface")
    try:
        yield Side(real_mlflow.url, tmp), Side(forja_url, tmp)
    finally:
        # set_tracking_uri also exports MLFLOW_TRACKING_URI: leave the client as later tests expect it.
        mlflow.set_tracking_uri(None)
        for n, v in before.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def ml_text(side: Side, text: str) -> str:
    # Long ids only: an experiment id such as "1" would also match inside names.
    for label, value in sorted(side.ids.items(), key=lambda kv: -len(kv[1])):
        if len(value) >= 8:
            text = text.replace(value, f"<{label}>")
    return text


def nan_as_string(metrics: list) -> list:
    """MLflow's get-history-bulk writes NaN as a bare token (not JSON); Forja as the string "NaN", as elsewhere."""
    return [{**m, "value": "NaN"} if isinstance(m["value"], float) and m["value"] != m["value"] else m for m in metrics]


def same(ml: Side, fj: Side, method: str, path: str, *, expect: int | None = None, message: bool = True, **kw):
    """Sends one request (with `{label}` placeholders filled per server) to both, compares, returns both bodies."""

    def send(side: Side):
        fill = lambda v: v.format(**side.ids) if isinstance(v, str) else [x.format(**side.ids) for x in v] if isinstance(v, list) else v
        params = {k: fill(v) for k, v in kw.get("params", {}).items()}
        json = kw.get("json")
        if json is not None:
            json = {k: fill(v) for k, v in json.items()}
        return side.http.request(method, fill(path), params=params, json=json, content=kw.get("content"))

    a, b = send(ml), send(fj)
    assert a.status_code == b.status_code, f"{path}: mlflow {a.status_code} {a.text[:300]} / forja {b.status_code} {b.text[:300]}"
    if expect is not None:
        assert a.status_code == expect, a.text[:300]
    if a.status_code >= 400:
        ea, eb = a.json(), b.json()
        assert ea["error_code"] == eb["error_code"], (ea, eb)
        if message:
            assert ml_text(ml, ea["message"]) == ml_text(fj, eb["message"]), (ea, eb)
    return a, b


def test_get_history_bulk_interval_downsamples_as_mlflow(sides):
    ml, fj = sides
    cases = [
        {},
        {"max_results": "1"},
        {"max_results": "2"},
        {"max_results": "7"},
        {"max_results": "320"},
        {"max_results": "2500"},
        {"start_step": "100", "end_step": "700", "max_results": "13"},
        {"start_step": "0", "end_step": "0", "max_results": "5"},
        {"start_step": "5", "end_step": "5"},
        {"start_step": "99999", "end_step": "100000"},
    ]
    for extra in cases:
        params = {"run_ids": ["{long}", "{flat}", "{short}", "{empty}", "{long}"], "metric_key": "loss", **extra}
        a, b = same(ml, fj, "GET", f"{AJAX}/metrics/get-history-bulk-interval", expect=200, params=params)
        assert ml.label(a.json()) == fj.label(b.json()), extra
    # The sampling really thins: not every point comes back, yet both ends do.
    got = fj.label(fj.get(f"{AJAX}/metrics/get-history-bulk-interval", run_ids=fj.ids["long"], metric_key="loss", max_results=10).json())["metrics"]
    assert len(got) == 10
    assert (got[0]["step"], got[-1]["step"]) == (0, (1233 * 3) // 2)


def test_get_history_bulk_matches_per_run(sides):
    ml, fj = sides
    full = {}
    for extra in ({}, {"max_results": "700"}, {"max_results": "0"}):
        a, b = same(
            ml, fj, "GET", f"{AJAX}/metrics/get-history-bulk", expect=200, params={"run_id": ["{short}", "{flat}", "{long}"], "metric_key": "loss", **extra}
        )
        if extra:
            # The cap applies to the whole answer in run-id order, and run ids differ between servers.
            n = int(extra["max_results"])
            assert len(a.json()["metrics"]) == len(b.json()["metrics"]) == n
            assert nan_as_string(a.json()["metrics"]) == full["ml"][:n] and b.json()["metrics"] == full["fj"][:n]
            continue
        full = {"ml": nan_as_string(a.json()["metrics"]), "fj": b.json()["metrics"]}
        ra, rb = a.json()["metrics"], b.json()["metrics"]
        # Both order by run id, which differ across servers: compare each run's list, and the order rule.
        assert [m["run_id"] for m in ra] == sorted(m["run_id"] for m in ra)
        assert [m["run_id"] for m in rb] == sorted(m["run_id"] for m in rb)
        assert len(ra) == len(rb)
        for run in ("short", "flat", "long"):
            per = lambda side, ms, run=run: [m for m in side.label(ms) if m["run_id"] == run]
            assert nan_as_string(per(ml, ra)) == per(fj, rb), (run, extra)


def test_search_datasets(sides):
    ml, fj = sides
    a, b = same(ml, fj, "POST", f"{AJAX}/experiments/search-datasets", expect=200, json={"experiment_ids": ["{exp}"]})
    key = lambda d: (d["name"], d.get("context", ""))
    assert sorted(ml.label(a.json()["dataset_summaries"]), key=key) == sorted(fj.label(b.json()["dataset_summaries"]), key=key)
    assert {d["name"] for d in b.json()["dataset_summaries"]} == {"train-set", "eval-set"}
    a, b = same(ml, fj, "POST", f"{AJAX}/experiments/search-datasets", expect=200, json={"experiment_ids": ["987654"]})
    assert a.json() == b.json() == {}


def test_upload_then_get_artifact_and_client_download(sides, tmp_path):
    ml, fj = sides
    body = "ünïcode notes\n".encode() * 50
    a, b = same(ml, fj, "POST", f"{AJAX}/upload-artifact", expect=200, params={"run_uuid": "{long}", "path": "notes/readme.txt"}, content=body)
    assert a.content == b.content == b""
    a, b = same(ml, fj, "GET", "/get-artifact", expect=200, params={"run_uuid": "{long}", "path": "notes/readme.txt"})
    assert a.content == b.content == body
    for r in (a, b):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-disposition"].startswith("attachment")
    for side in sides:
        listed = side.client.list_artifacts(side.ids["long"], "notes")
        assert [(f.path, f.file_size) for f in listed] == [("notes/readme.txt", len(body))]
        out = mlflow.artifacts.download_artifacts(
            run_id=side.ids["long"], artifact_path="notes/readme.txt", tracking_uri=side.url, dst_path=str(tmp_path / side.url.split(":")[-1])
        )
        assert Path(out).read_bytes() == body


def test_logged_model_and_model_version_artifacts(sides):
    ml, fj = sides
    for path in ("", "/ajax-api/2.0/mlflow", "/api/2.0/mlflow"):
        if not path:
            continue
        a, b = same(ml, fj, "GET", f"{path}/logged-models/{{model}}/artifacts/directories", expect=200)
        ja, jb = a.json(), b.json()
        assert ja["files"] == jb["files"]
        assert ja["root_uri"].endswith(f"/models/{ml.ids['model']}/artifacts") and jb["root_uri"].endswith(f"/models/{fj.ids['model']}/artifacts")
    a, b = same(ml, fj, "GET", f"{AJAX}/logged-models/{{model}}/artifacts/directories", expect=200, params={"artifact_directory_path": "sub"})
    assert a.json()["files"] == b.json()["files"]
    a, b = same(ml, fj, "GET", f"{AJAX}/logged-models/{{model}}/artifacts/directories", expect=200, params={"artifact_directory_path": "nothing-here"})
    assert ml.label(a.json()).keys() == fj.label(b.json()).keys() == {"root_uri"}
    a, b = same(ml, fj, "GET", f"{AJAX}/logged-models/{{model}}/artifacts/files", expect=200, params={"artifact_file_path": "sub/weights.bin"})
    assert a.content == b.content == bytes(range(256)) * 4
    a, b = same(ml, fj, "GET", "/model-versions/get-artifact", expect=200, params={"name": "{registered}", "version": "1", "path": "MLmodel"})
    assert a.content == b.content == b"flavors: {}\n"


@pytest.mark.parametrize(
    "method,path,params,json",
    [
        ("GET", f"{AJAX}/metrics/get-history-bulk-interval", {"run_ids": [uuid.uuid4().hex for _ in range(101)], "metric_key": "loss"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk-interval", {"run_ids": "{long}", "metric_key": "loss", "start_step": "3"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk-interval", {"run_ids": "{long}", "metric_key": "loss", "end_step": "3"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk-interval", {"run_ids": "{long}", "metric_key": "loss", "start_step": "9", "end_step": "3"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk-interval", {"run_ids": "{long}", "metric_key": "loss", "max_results": "0"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk-interval", {"run_ids": "{long}", "metric_key": "loss", "max_results": "2501"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk", {"run_id": [uuid.uuid4().hex for _ in range(101)], "metric_key": "loss"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk", {"metric_key": "loss"}, None),
        ("GET", f"{AJAX}/metrics/get-history-bulk", {"run_id": "{long}"}, None),
        ("POST", f"{AJAX}/experiments/search-datasets", {}, {"experiment_ids": []}),
        ("POST", f"{AJAX}/experiments/search-datasets", {}, {"experiment_ids": [str(i) for i in range(21)]}),
        ("POST", f"{AJAX}/upload-artifact", {"path": "a.txt"}, None),
        ("POST", f"{AJAX}/upload-artifact", {"run_uuid": "{long}"}, None),
        ("POST", f"{AJAX}/upload-artifact", {"run_uuid": "{long}", "path": "../../etc/passwd"}, None),
        ("POST", f"{AJAX}/upload-artifact", {"run_uuid": "{long}", "path": "a.txt"}, None),
        ("GET", "/get-artifact", {"run_uuid": "{long}", "path": "../../../etc/passwd"}, None),
        ("GET", "/get-artifact", {"run_uuid": "{long}", "path": "/etc/passwd"}, None),
        ("GET", "/get-artifact", {"run_uuid": "{long}", "path": "%2E%2E/%2E%2E/x"}, None),
        ("GET", "/get-artifact", {"run_uuid": "{long}", "path": "a#b"}, None),
        ("GET", "/model-versions/get-artifact", {"name": "{registered}", "version": "1", "path": "../MLmodel"}, None),
        ("GET", "/model-versions/get-artifact", {"name": "{registered}", "version": "7", "path": "MLmodel"}, None),
        ("GET", f"{AJAX}/logged-models/{{model}}/artifacts/files", {"artifact_file_path": "../../x"}, None),
        ("GET", f"{AJAX}/logged-models/{{model}}/artifacts/directories", {"artifact_directory_path": "/etc"}, None),
    ],
)
def test_bad_input_answers_as_mlflow(sides, method, path, params, json):
    ml, fj = sides
    a, b = same(ml, fj, method, path, params=params, json=json)
    assert 400 <= a.status_code < 500


def test_empty_upload_and_unknown_run(sides):
    ml, fj = sides
    same(ml, fj, "POST", f"{AJAX}/upload-artifact", expect=400, params={"run_uuid": "{long}", "path": "e.txt"}, content=b"")
    same(ml, fj, "POST", f"{AJAX}/upload-artifact", expect=404, message=False, params={"run_uuid": "f" * 32, "path": "e.txt"}, content=b"x")
    same(ml, fj, "GET", "/get-artifact", expect=404, message=False, params={"run_uuid": "f" * 32, "path": "e.txt"})
    # Forja words a missing logged model its own way ("does not exist or you cannot see it").
    same(ml, fj, "GET", f"{AJAX}/logged-models/m-{'0' * 32}/artifacts/directories", expect=404, message=False)
    # Unknown runs simply contribute nothing to the bulk reads.
    a, b = same(ml, fj, "GET", f"{AJAX}/metrics/get-history-bulk-interval", expect=200, params={"run_ids": "f" * 32, "metric_key": "loss"})
    assert a.json() == b.json() == {}


def test_client_metric_history_reads_everything(sides):
    ml, fj = sides
    for side in sides:
        hist = side.client.get_metric_history(side.ids["long"], "loss")
        assert len(hist) == 1234
    pick = lambda side: [(m.step, m.timestamp, str(m.value)) for m in side.client.get_metric_history(side.ids["short"], "loss")]
    assert pick(ml) == pick(fj)
