"""forja.MonitoringClient against a live server: a monitor of a lake table run on demand, its results
as DataFrames (long and wide) and its drift report; MLOps Codex's register_monitoring; labels and
alerts; and the bad input of issue 17 answered with errors that carry the server's code and name
the problem."""

from __future__ import annotations

import datetime as dt
import json
import time

import forja
import numpy as np
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, unique

APP = '''
import json


def score(data, base_path):
    rows = json.loads(data)
    rows = rows if isinstance(rows, list) else [rows]
    return {"predictions": [1 if row["x"] > 0 else 0 for row in rows]}
'''

DAY = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def client(server):
    with forja.Client(server.url, token=ADMIN_TOKEN) as c:
        yield c


@pytest.fixture(scope="module")
def monitoring(client):
    return forja.MonitoringClient(client)


@pytest.fixture(scope="module")
def tables(client):
    """A reference table and a table of scored rows with a time column: `x` shifted by 3, `y` not."""
    rng = np.random.default_rng(7)
    repo = forja.GenericRepository(client)
    reference, current = unique("ref").replace("-", "_"), unique("cur").replace("-", "_")
    repo.create_table_by_dataframe(reference, pd.DataFrame({"x": rng.normal(0, 1, 2000), "y": rng.normal(5, 2, 2000)}))
    at = pd.date_range(DAY, periods=1500, freq="40s")
    repo.create_table_by_dataframe(current, pd.DataFrame({"at": at, "x": rng.normal(3, 1, 1500), "y": rng.normal(5, 2, 1500)}))
    return reference, current


@pytest.fixture(scope="module")
def model(client, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scorer")
    (folder / "app.py").write_text(APP)
    models = forja.ModelClient(client)
    deployed = models.create_model(
        unique("mon-model"), "score", folder / "app.py", None, None, schema=[{"x": 0.5, "y": 1.0}], settings={"inferenceLog": {"sampleRate": 100}}
    )
    yield deployed
    deployed.delete()


def test_a_table_monitor_runs_now_and_its_results_come_back_as_frames(monitoring, tables):
    reference, current = tables
    monitor = monitoring.register_monitor(unique("tbl"), table=current, time_column="at", reference=reference, period="day", scheduled=False)
    assert monitor.target == {"table": current, "timeColumn": "at"} and monitor.reference["table"] == reference
    run = monitor.run(start=DAY, end=DAY + dt.timedelta(days=1))
    assert run.status == "succeeded" and run.current_rows == 1500

    report = run.drift_report()
    assert report.set_index("column").loc[["x", "y"], "drifted"].tolist() == [True, False]
    assert report.attrs["reference_rows"] == 2000 and report.attrs["current_rows"] == 1500
    assert run.drifted_columns == ["x"]

    long = monitoring.results(monitor)
    assert list(long.columns) == ["run_id", "window_start", "window_end", "status", "metric", "value"]
    assert set(long.run_id) == {run.id}
    assert long.window_start.iloc[0] == pd.Timestamp(DAY)
    assert long.set_index("metric").loc["drift.share", "value"] == 0.5
    wide = monitor.results(wide=True, metrics=["drift.share", "drift.*.wasserstein"])
    assert len(wide) == 1 and wide.loc[0, "drift.share"] == 0.5
    assert set(wide.columns) == {
        "run_id",
        "window_start",
        "window_end",
        "status",
        "drift.share",
        "drift.x.wasserstein",
        "drift.y.wasserstein",
    }  # 2000 reference rows: Evidently picks Wasserstein
    assert monitoring.metric_series(monitor, ["drift.share"])["drift.share"][0]["runId"] == run.id
    assert monitoring.find_monitor(monitor.name).id == monitor.id
    monitor.delete()
    with pytest.raises(forja.NotFound):
        monitoring.get_monitor(monitor.id)


def test_a_dataframe_reference_is_uploaded(monitoring, tables):
    _, current = tables
    frame = pd.DataFrame({"x": np.linspace(-2, 2, 500), "y": np.linspace(1, 9, 500)})
    monitor = monitoring.register_monitor(unique("up"), table=current, time_column="at", reference=frame, scheduled=False)
    assert monitor.reference["kind"] == "file" and monitor.reference["rows"] == 500
    monitor.delete()


def test_bad_monitor_input_is_refused_naming_the_problem(monitoring, tables, tmp_path):
    reference, current = tables
    with pytest.raises(ValueError, match="exactly one of deployment= and table="):
        monitoring.register_monitor("x", reference=reference)
    with pytest.raises(ValueError, match="period must be one of"):
        monitoring.register_monitor("x", table=current, time_column="at", period="fortnight")

    # Columns the target does not have.
    with pytest.raises(forja.InvalidArgument) as err:
        monitoring.register_monitor(unique("cols"), table=current, time_column="at", reference=reference, input_columns=["x", "income"])
    assert err.value.code == "INVALID_ARGUMENT" and "income" in err.value.message

    # A reference with zero rows.
    empty = pd.DataFrame({"x": pd.Series([], dtype="float64"), "y": pd.Series([], dtype="float64")})
    with pytest.raises(forja.InvalidArgument) as err:
        monitoring.register_monitor(unique("empty"), table=current, time_column="at", reference=empty)
    assert "row" in err.value.message
    assert not [m for m in monitoring.list_monitors() if m.name.startswith("empty-")], "a refused reference leaves no monitor behind"

    with pytest.raises(forja.InvalidArgument, match="no_such_table"):
        monitoring.register_monitor(unique("nt"), table="no_such_table", time_column="at", reference=reference)


def test_codex_register_monitoring_and_its_bad_configuration(monitoring, model, tables, tmp_path):
    _, current = tables
    # Codex's TrainDateCol/TrainDateRef: the table's rows dated before noon are the training data.
    config = {
        "Period": "Week",
        "TrainData": {"TrainDateCol": "at", "TrainDateRef": "2026-11-02 12:00:00"},
        "InputCols": ["x", "y"],
        "OutputCols": ["prediction"],
    }
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(config))
    monitor = model.register_monitoring(None, None, path, name=unique("codex"), reference=current)
    assert monitor.period == "week" and monitor.deployment_id == model.id
    assert monitor.input_columns == ["x", "y"] and monitor.output_columns == ["prediction"]
    assert monitor.reference == {"kind": "table", "table": current, "filter": "\"at\" < '2026-11-02 12:00:00'"}
    monitor.delete()

    # The training data as a DataFrame travels with the configuration (multipart).
    frame = pd.DataFrame({"x": np.linspace(-1, 1, 50), "y": np.linspace(0, 1, 50)})
    uploaded = monitoring.register_monitoring(model, "parse", None, {**config, "TrainData": {"TrainDateRef": "2026-01-01"}}, reference=frame)
    assert uploaded.name == f"{model.name}-monitoring" and uploaded.reference["rows"] == 50
    uploaded.delete()

    with pytest.raises(forja.InvalidArgument) as err:
        monitoring.register_monitoring(model, None, None, {**config, "InputCols": ["x", "age", "income"]}, reference=current)
    assert "age" in err.value.message and "income" in err.value.message
    with pytest.raises(forja.InvalidArgument) as err:
        monitoring.register_monitoring(model, None, None, {**config, "Period": "Fortnight"}, reference=current)
    assert "Period" in str(err.value.issues) + err.value.message
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        monitoring.register_monitoring(model, None, None, bad)


def test_labels_alerts_and_their_bad_input(monitoring, model, tables):
    model.predict([{"x": 1.0, "y": 2.0}, {"x": -1.0, "y": 2.0}])
    deadline = time.monotonic() + 30
    while model.inference_log()["rows"] < 2 and time.monotonic() < deadline:
        time.sleep(0.3)  # the log is written off the predict path, every ~2 s
    with pytest.raises(forja.InvalidArgument) as err:
        model.post_labels([{"requestId": "no-such-request", "row": 0, "label": 1}])
    assert err.value.code == "INVALID_ARGUMENT" and "no-such-request" in err.value.message

    reference, current = tables
    monitor = monitoring.register_monitor(unique("al"), table=current, time_column="at", reference=reference, scheduled=False)
    with pytest.raises(ValueError, match="operator must be one of"):
        monitor.add_alert_rule("share", "drift.share", "=>", 0.3)
    rule = monitor.add_alert_rule("share", "drift.share", ">", 0.3)
    assert [r["id"] for r in monitoring.alert_rules(monitor)] == [rule["id"]]
    monitor.run(start=DAY, end=DAY + dt.timedelta(days=1))
    (alert,) = monitor.alerts()  # rules are evaluated before the run's job ends
    assert alert["metric"] == "drift.share" and alert["value"] == 0.5 and alert["status"] == "open"
    assert monitoring.acknowledge(alert, note="looking")["status"] == "acknowledged"
    assert monitoring.resolve(alert["id"])["status"] == "resolved"
    assert [a["id"] for a in monitoring.alerts(status="resolved", monitor=monitor)] == [alert["id"]]
    with pytest.raises(forja.NotFound):
        monitoring.acknowledge("no-such-alert")
    monitoring.delete_alert_rule(monitor, rule)
    assert monitoring.alert_rules(monitor) == []
    monitor.delete()
