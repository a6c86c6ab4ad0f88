"""forja.GenericRepository (DHuolib's lake calls) against a live server: tables written and read
as Parquet, versioned writes, filters, and scoring with a registered sklearn model on the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import forja
import httpx
import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, REPO, unique
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def table(prefix: str) -> str:
    # Lake table names are identifiers: no dashes.
    return unique(prefix).replace("-", "_")


@pytest.fixture(scope="module")
def repo(server):
    with forja.GenericRepository(server.url, token=ADMIN_TOKEN) as r:
        yield r


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def lake_server(request):
    """The same calls on both lake engines: the embedded DuckDB file and PostgreSQL."""
    return request.getfixturevalue("server" if request.param == "duckdb" else "pg_lake_server")


@pytest.fixture(scope="module")
def any_repo(lake_server):
    with forja.GenericRepository(lake_server.url, token=ADMIN_TOKEN) as r:
        yield r


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = FEATURES
    # Every fifth row: 30 rows, all three classes, enough for a model that is not trivial.
    X, y = X.iloc[::5].reset_index(drop=True).astype("float64"), y.iloc[::5].reset_index(drop=True)
    return X, y


@pytest.fixture(scope="module")
def model(server, iris):
    """One sklearn model logged with the real mlflow, registered, moved to Production and given
    an alias: every scoring test uses it, so its environment is built on the server once."""
    X, y = iris
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    name = unique("lake-iris")
    mlflow.set_tracking_uri(server.url)
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN
    try:
        mlflow.set_experiment(unique("lake"))
        with mlflow.start_run():
            mlflow.sklearn.log_model(clf, name="model", input_example=X.head(2), registered_model_name=name)
        mlflow.MlflowClient().set_registered_model_alias(name, "champion", "1")
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]
    with forja.ExperimentClient(server.url, token=ADMIN_TOKEN) as experiments:
        assert experiments.transition_model(name, 1, "Production")["current_stage"] == "Production"
    return name, clf


def typed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series([1, 2, 3], dtype="int64"),
            "amount": [1.5, -2.25, None],
            "active": [True, False, True],
            "name": ["ana", None, "çedilha ü"],
            "seen_at": pd.to_datetime(["2026-01-02 03:04:05", "2026-11-23 12:00:00.123456", None], format="ISO8601"),
        }
    )


def test_types_round_trip_and_a_second_create_is_a_conflict(any_repo):
    name = table("types")
    df = typed_frame()
    assert any_repo.create_table_by_dataframe(name, df) == {"number_lines_inserted": 3, "table_name": name}

    back = any_repo.to_dataframe(name)
    assert list(back.columns) == list(df.columns)
    assert back["id"].tolist() == [1, 2, 3] and pd.api.types.is_integer_dtype(back["id"])
    assert back["amount"].tolist()[:2] == [1.5, -2.25] and pd.isna(back["amount"].iloc[2])
    assert back["active"].tolist() == [True, False, True] and pd.api.types.is_bool_dtype(back["active"])
    assert back["name"].iloc[0] == "ana" and pd.isna(back["name"].iloc[1]) and back["name"].iloc[2] == "çedilha ü"
    assert pd.api.types.is_datetime64_any_dtype(back["seen_at"])
    assert back["seen_at"].iloc[:2].tolist() == df["seen_at"].iloc[:2].tolist() and pd.isna(back["seen_at"].iloc[2])
    columns = {c["name"]: c["type"] for c in any_repo.describe_table(name)["columns"]}
    assert columns["id"] == "BIGINT" and columns["active"] == "BOOLEAN" and columns["amount"] == "DOUBLE"

    with pytest.raises(forja.Conflict) as again:
        any_repo.create_table_by_dataframe(name, df)
    assert again.value.code == "ALREADY_EXISTS"
    assert "update_table_by_dataframe" in again.value.message
    assert len(any_repo.to_dataframe(name)) == 3


def test_append_mismatch_and_replace(any_repo, lake_server):
    name = table("writes")
    df = typed_frame()
    any_repo.create_table_by_dataframe(name, df)
    appended = any_repo.update_table_by_dataframe(name, df.assign(id=[4, 5, 6]))
    assert appended == {"number_lines_inserted": 3, "table_name": name, "version": None, "created": False}
    assert any_repo.to_dataframe(name)["id"].tolist() == [1, 2, 3, 4, 5, 6]

    wrong = df.drop(columns=["name"]).assign(extra=1, active=["yes", "no", "maybe"])
    with pytest.raises(forja.InvalidArgument) as mismatch:
        any_repo.update_table_by_dataframe(name, wrong)
    message = mismatch.value.message
    assert '"name"' in message and "missing" in message, message
    assert '"extra"' in message, message
    assert '"active"' in message and "BOOLEAN" in message, message
    assert len(mismatch.value.issues) == 3

    with pytest.raises(ValueError, match="force_replace_delete_itens_in_table"):
        any_repo.update_table_by_dataframe(name, df, if_exists="replace")
    with pytest.raises(ValueError):
        any_repo.update_table_by_dataframe(name, df, if_exists="truncate")
    assert len(any_repo.to_dataframe(name)) == 6
    # The server refuses an unconfirmed replace too, whatever client sends it.
    raw = httpx.post(
        f"{lake_server.url}/api/v1/lake/tables/{name}/rows",
        params={"mode": "replace"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "text/csv"},
        content=b"id\n9\n",
        timeout=30,
    )
    assert raw.status_code == 400 and "confirmReplace" in raw.json()["error"]["message"], raw.text
    assert len(any_repo.to_dataframe(name)) == 6

    replaced = any_repo.update_table_by_dataframe(name, df.iloc[:1], if_exists="replace", force_replace_delete_itens_in_table=True)
    assert replaced["number_lines_inserted"] == 1
    assert any_repo.to_dataframe(name)["id"].tolist() == [1]

    assert name in [t["name"] for t in any_repo.list_tables()]
    renamed = any_repo.rename_table(name, name + "_old")
    assert renamed["name"] == name + "_old"
    any_repo.drop_table(name + "_old")
    assert name + "_old" not in [t["name"] for t in any_repo.list_tables()]
    with pytest.raises(forja.NotFound):
        any_repo.drop_table(name + "_old")


def test_versioned_appends_and_reads(any_repo):
    name = table("versions")
    days = []
    for day in range(3):
        rows = pd.DataFrame({"id": [1, 2, 3], "score": [0.1 + day, 0.5 + day, 0.9 + day], "label": ["a", "b", "a"]})
        days.append(any_repo.update_table_by_dataframe(name, rows, is_update_version=True, model_name="m", model_version=str(day + 1)))
    assert [d["version"] for d in days] == [1, 2, 3]
    assert days[0]["created"] is True and days[1]["created"] is False

    # An upload's own VERSION/CREATED_AT are replaced by the server's.
    forged = pd.DataFrame({"id": [4], "score": [9.0], "label": ["z"], "VERSION": [99]})
    assert any_repo.update_table_by_dataframe(name, forged, is_update_version=True)["version"] == 4

    info = any_repo.describe_table(name)
    assert info["latestVersion"] == 4 and info["rowCount"] == 10
    assert [v["version"] for v in info["versions"]] == [4, 3, 2, 1]
    assert info["versions"][1]["modelVersion"] == "3"

    latest = any_repo.to_dataframe(name, version="latest")
    assert latest["id"].tolist() == [4] and latest["VERSION"].tolist() == [4]
    assert pd.api.types.is_datetime64_any_dtype(latest["CREATED_AT"])
    picked = any_repo.to_dataframe(name, filter_clause="label = 'a' AND score >= 1", list_columns=["id", "score", "VERSION"], version=2)
    assert list(picked.columns) == ["id", "score", "VERSION"]
    assert picked.to_dict(orient="records") == [{"id": 1, "score": 1.1, "VERSION": 2}, {"id": 3, "score": 1.9, "VERSION": 2}]
    top = any_repo.to_dataframe(name, list_columns=["score"], order_by="score desc", limit=2)
    assert top["score"].tolist() == [9.0, 2.9]
    assert any_repo.to_dataframe(name, filter_clause="VERSION IN (1, 3) AND label LIKE 'b%'")["score"].tolist() == [0.5, 2.5]
    assert len(any_repo.to_dataframe(name, filter_clause="id > 100")) == 0


def test_bad_filters_names_and_tables_raise(any_repo):
    name = table("safe")
    any_repo.create_table_by_dataframe(name, pd.DataFrame({"id": [1, 2], "name": ["x", "y"]}))
    for attack in (
        f"id = 1; DROP TABLE {name}",
        "name = 'x' OR '1'='1'",
        "id = 1 UNION SELECT * FROM information_schema.tables",
        "id = 1 -- comment",
        "name = 'x'' OR 1=1 --'",
    ):
        try:
            got = any_repo.to_dataframe(name, filter_clause=attack)
        except forja.InvalidArgument:
            continue
        # Parsed as a plain value comparison at most: it can never widen the read.
        assert len(got) == 0, (attack, got)
    assert len(any_repo.to_dataframe(name)) == 2
    with pytest.raises(forja.InvalidArgument, match="No column"):
        any_repo.to_dataframe(name, list_columns=["nope"])
    with pytest.raises(forja.InvalidArgument):
        any_repo.to_dataframe(name, version="latest")  # never written with versions
    missing = table("missing")
    with pytest.raises(forja.NotFound):
        any_repo.to_dataframe(missing)
    with pytest.raises(forja.NotFound):
        any_repo.describe_table(missing)
    with pytest.raises(forja.InvalidArgument):
        any_repo.create_table_by_dataframe("bad name; drop", pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError):
        any_repo.create_table_by_dataframe(table("notframe"), [{"a": 1}])
    with pytest.raises(ValueError):
        any_repo.to_dataframe(name, version="newest")


def test_prediction_batch_with_dataframe_scores_on_the_server(repo, model, iris):
    name, clf = model
    X, _ = iris
    params = {"modelname": name, "stage": "Production", "experiment_name": "lake", "type_model": "sklearn", "run_id": None, "batch_model_dir": None}
    predicted = repo.prediction_batch_with_dataframe(params, X)
    assert isinstance(predicted, np.ndarray) and predicted.ndim == 1
    assert predicted.tolist() == clf.predict(X).tolist()
    # The model picks its own input columns: extra ones (an id) are left out.
    assert (
        repo.prediction_batch_with_dataframe({"modelname": name, "alias": "champion"}, X.head(5).assign(id=range(5))).tolist()
        == clf.predict(X.head(5)).tolist()
    )
    assert repo.prediction_batch_with_dataframe({"modelname": name, "version": 1}, X.tail(3)).tolist() == clf.predict(X.tail(3)).tolist()
    with pytest.raises(forja.NotFound):
        repo.prediction_batch_with_dataframe({"modelname": unique("no-model"), "stage": "Production"}, X.head(1))
    with pytest.raises(ValueError):
        repo.prediction_batch_with_dataframe({"run_id": "abc"}, X.head(1))
    with pytest.raises(ValueError):
        repo.prediction_batch_with_dataframe({"modelname": name, "stage": "Production", "alias": "champion"}, X.head(1))


def test_batch_predict_table_end_to_end(repo, model, iris):
    name, clf = model
    X, _ = iris
    source, output = table("flowers"), table("flower_scores")
    repo.create_table_by_dataframe(source, X.assign(id=range(len(X))))

    done = repo.batch_predict_table(source, f"models:/{name}/Production", output, keep_columns=["id"], timeout=900)
    assert done["status"] == "succeeded", done
    assert done["result"] == {**done["result"], "version": 1, "rowsWritten": len(X), "modelName": name, "modelVersion": "1"}
    scored = repo.to_dataframe(output, order_by="id")
    assert set(scored.columns) == {"id", "PREDICT", "VERSION", "CREATED_AT", "MODEL_NAME", "MODEL_VERSION"}
    assert scored["VERSION"].unique().tolist() == [1]
    assert scored["MODEL_NAME"].unique().tolist() == [name]
    assert scored["PREDICT"].tolist() == clf.predict(X).tolist()
    assert any("rows to score" in line for line in repo.batch_prediction_logs(done))

    # A second run with a filter appends VERSION 2.
    again = repo.batch_predict_table(source, f"models:/{name}@champion", output, filter_clause="id < 5", keep_columns=["id"], wait=False)
    assert again["status"] in ("queued", "running", "succeeded")
    again = repo.wait_batch_prediction(again["jobId"], timeout=900)
    assert (again["result"]["version"], again["result"]["rowsWritten"]) == (2, 5)
    assert repo.describe_table(output)["latestVersion"] == 2

    # Rows without the model's inputs: the job fails, and the wait says why.
    lacking = table("no_features")
    repo.create_table_by_dataframe(lacking, pd.DataFrame({"id": [1, 2]}))
    with pytest.raises(forja.BatchPredictionFailed) as failed:
        repo.batch_predict_table(lacking, f"models:/{name}/Production", table("never"), timeout=900)
    assert isinstance(failed.value, forja.ExecutionFailed)
    assert "sepal_length" in failed.value.message, failed.value.message
    assert failed.value.job_id and failed.value.prediction["status"] == "failed"
    # Mistakes a user can make are refused before any job.
    with pytest.raises(forja.InvalidArgument):
        repo.batch_predict_table(source, f"models:/{name}/Production", output, filter_clause="id = 1; DROP TABLE x")
    with pytest.raises(forja.NotFound):
        repo.batch_predict_table(table("nothing"), f"models:/{name}/Production", output)


def test_dhuolib_lake_batch_example_runs_end_to_end(server, repo, model, iris):
    name, clf = model
    X, _ = iris
    features, output = table("example_features"), table("example_predictions")
    repo.create_table_by_dataframe(features, X.assign(id=range(len(X)))[["id", *FEATURES]])
    env = {**os.environ, "FORJA_URL": server.url, "FORJA_TOKEN": ADMIN_TOKEN, "EXAMPLE_MODEL": name, "EXAMPLE_FEATURES": features}
    script = str(REPO / "examples" / "dhuolib_lake_batch.py")
    for expected_version in (1, 2):
        # The output table as an argument, the rest from the environment, as a scheduled run would.
        done = subprocess.run([sys.executable, script, name, features, output], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert (summary["rows_scored"], summary["rows_written"], summary["version"]) == (len(X), len(X), expected_version)
    written = repo.to_dataframe(output, version="latest", order_by="id")
    assert list(written.columns) == ["id", "predict", "VERSION", "CREATED_AT"]
    assert written["predict"].tolist() == clf.predict(X).tolist()
    assert repo.describe_table(output)["rowCount"] == 2 * len(X)
