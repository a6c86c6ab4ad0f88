"""A deployment's usage figures and inference log through the Python SDK: usage(), inference_log()
and the logged rows as a pandas frame, on the real server."""

from __future__ import annotations

import time

import forja
import pytest
from conftest import ADMIN_TOKEN, unique

SCORER = """
import json

def score(data, base_path):
    rows = json.loads(data)
    rows = rows if isinstance(rows, list) else [rows]
    if any(r.get("income", 0) < 0 for r in rows):
        raise ValueError("income must be positive")
    return [r["income"] * 0.001 + r["age"] * 0.5 for r in rows]
"""


@pytest.fixture(scope="module")
def model(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("logged")
    (folder / "scorer.py").write_text(SCORER)
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        m = client.create_model(unique("logged"), "score", folder / "scorer.py", None, None, python_version="", settings={"maxWorkers": 1})
        yield m
        m.delete()


def test_usage_counts_calls_and_errors_and_the_log_reads_as_a_dataframe(model):
    model.update_settings(inferenceLog={"sampleRate": 100})
    model.update_settings(inferenceLog={"retentionDays": 7})
    info = model.inference_log()
    assert info["settings"] == {"sampleRate": 100, "retentionDays": 7, "executions": False}
    assert info["table"] == f"inference__{model.id}"

    assert model.predict([{"income": 1000, "age": 30}, {"income": 2000, "age": 40}]) == [16.0, 22.0]
    with pytest.raises(forja.ForjaError):
        model.predict({"income": -1, "age": 30})

    usage = model.usage(step="minute", start=int(time.time() * 1000) - 3_600_000)
    assert usage["step"] == "minute"
    assert (usage["totals"]["calls"], usage["totals"]["errors"]) == (2, 1)
    assert usage["totals"]["p50"] > 0

    deadline = time.monotonic() + 30
    while model.inference_log()["rows"] < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    df = model.inference_log_dataframe().sort_values("row_index")
    assert list(df.columns) == ["request_id", "logged_at", "latency_ms", "model_version", "row_index", "income", "age", "prediction"]
    assert df["prediction"].tolist() == [16.0, 22.0]
    assert df["income"].tolist() == [1000.0, 2000.0]
    assert len(model.inference_log_dataframe("prediction > 20")) == 1

    with pytest.raises(forja.InvalidArgument, match="step"):
        model.usage(step="week")
