"""Batch projects through forja.PlatformClient (DHuolib's method names) against a live server:
create, deploy a standard-library script (so its build shares one small environment), run it
with parameters and read its log, a failing script, cluster sizes, the status report, and a
schedule that fires then is removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import forja
import pytest
from conftest import ADMIN_TOKEN, REPO, WHEELHOUSE, unique
from test_lake import iris, model, repo  # noqa: F401  (fixtures: a Production sklearn model, the lake)
from test_lake import table as lake_table

SCRIPT = '''
import json, os, urllib.request

params = json.loads(os.environ["FORJA_PARAMS"])
print("params:", json.dumps(params, sort_keys=True))
request = urllib.request.Request(os.environ["FORJA_URL"].rstrip("/") + "/api/v1/whoami",
                                 headers={"Authorization": "Bearer " + os.environ["FORJA_TOKEN"]})
with urllib.request.urlopen(request, timeout=30) as answer:
    print("whoami:", answer.status)
'''

FAILING = '''
print("about to fail")
raise ValueError("income must be positive")
'''


@pytest.fixture
def platform(server):
    with forja.PlatformClient(server.url, token=ADMIN_TOKEN) as client:
        yield client


@pytest.fixture
def project(platform, tmp_path):
    name = unique("batch")
    platform.create_batch_project(name, "tests")
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    deploy = platform.deploy_batch_project(script, project_name=name)
    assert (deploy["version"], deploy["status"]) == (1, "Ready")
    return name


def test_create_is_idempotent_and_sets_the_default_project(server):
    with forja.PlatformClient(server.url, token=ADMIN_TOKEN) as platform:
        name = unique("batch")
        first = platform.create_batch_project(name, "first", cluster_size=2)
        assert platform.project_name == name
        assert (first["name"], first["description"], first["clusterSize"], first["currentVersion"]) == (name, "first", 2, None)
        again = platform.create_batch_project(name, "second")
        assert (again["id"], again["description"]) == (first["id"], "first")


def test_run_with_params_succeeds_and_logs_them(platform, project):
    run = platform.batch_run({"date": "2026-11-23", "n": 3}, project_name=project, wait=True)
    assert run["status"] == "succeeded", run["error"]
    assert (run["project"], run["version"], run["trigger"], run["params"]) == (project, 1, "manual", {"date": "2026-11-23", "n": 3})
    logs = platform.run_logs(run)
    assert 'params: {"date": "2026-11-23", "n": 3}' in logs
    assert "whoami: 200" in logs
    assert platform.get_project(project)["currentVersion"] == 1


def test_a_failing_script_fails_the_run_with_its_last_lines(platform, project, tmp_path):
    script = tmp_path / "job.py"
    script.write_text(FAILING)
    assert platform.deploy_batch_project(script, project_name=project)["version"] == 2
    run = platform.batch_run(project_name=project, wait=True)
    assert run["status"] == "failed"
    assert "ValueError: income must be positive" in run["error"]
    assert "about to fail" in platform.run_logs(run["id"], project)
    with pytest.raises(forja.Conflict):
        platform.cancel_run(run["id"], project)


def test_cluster_sizes(platform, project):
    assert platform.create_cluster(3, project)["clusterSize"] == 3
    for size in (0, 4, True, "2"):
        with pytest.raises(ValueError, match="cluster_size"):
            platform.create_cluster(size, project)
    assert platform.get_project(project)["clusterSize"] == 3
    with pytest.raises(ValueError):
        platform.create_batch_project(unique("batch"), cluster_size=4)


def test_pipeline_status_report_has_dhuolibs_shape(platform, project):
    assert platform.pipeline_status_report(project) == []
    run = platform.batch_run({"x": 1}, project_name=project, wait=True)
    report = platform.pipeline_status_report(project)
    assert len(report) == 1 and set(report[0]) == {"date", "step", "status"}
    assert report[0]["step"] == f"{project} v1" and report[0]["status"] == run["status"] == "succeeded"
    assert report[0]["date"].endswith("Z") and report[0]["date"][:4].isdigit()


def test_a_schedule_fires_and_is_removed(platform, project):
    schedule = platform.schedule_batch_run(project, "* * * * * *", params={"from": "cron"})
    assert (schedule["cron"], schedule["timezone"], schedule["missedPolicy"]) == ("* * * * * *", "UTC", "skip")
    assert [s["id"] for s in platform.list_schedules(project)] == [schedule["id"]]
    deadline = time.monotonic() + 10
    scheduled = []
    while not scheduled and time.monotonic() < deadline:
        scheduled = [r for r in platform.runs(project) if r["trigger"] == "schedule"]
        time.sleep(0.25)
    assert scheduled, "no scheduled run within 10 s"
    assert scheduled[0]["params"] == {"from": "cron"}
    assert platform.remove_schedule(project) == 1
    assert platform.list_schedules(project) == []
    assert platform.remove_schedule(project) == 0


def test_bad_calls_raise_before_or_from_the_server(platform, tmp_path):
    with pytest.raises(ValueError, match="project_name"):
        platform.batch_run()
    with pytest.raises(FileNotFoundError):
        platform.deploy_batch_project(tmp_path / "missing.py", project_name="whatever")
    with pytest.raises(forja.NotFound):
        platform.batch_run(project_name=unique("missing"))
    name = unique("batch")
    platform.create_batch_project(name)
    with pytest.raises(forja.Conflict):
        platform.batch_run(project_name=name)  # nothing deployed yet
    with pytest.raises(forja.InvalidArgument):
        platform.schedule_batch_run(name, "every hour")


def test_dhuolib_batch_example_runs_end_to_end(server, model, iris, repo, tmp_path):
    """The canonical script deployed as a batch project: reads the features from the lake, scores
    with the Production model, writes VERSION 1; a schedule's run writes VERSION 2."""
    name, _ = model
    X, _ = iris
    features = lake_table("batch_features")
    output = lake_table("batch_scores")
    repo.create_table_by_dataframe(features, X.head(10).assign(id=range(10)))
    # The batch environment installs the SDK of this checkout as a wheel from the servers' wheelhouse
    # (its build runs in the sandbox and sees no other local path). Built from a copy: building in
    # place would leave a build/ folder in python/.
    sdk = tmp_path / "forja-sdk"
    shutil.copytree(REPO / "python", sdk, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(WHEELHOUSE), str(sdk)], capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(WHEELHOUSE.glob("forja-*.whl"))
    env = {
        **os.environ,
        "FORJA_URL": server.url,
        "FORJA_TOKEN": ADMIN_TOKEN,
        "EXAMPLE_PROJECT": unique("churn"),
        "EXAMPLE_MODEL": name,
        "EXAMPLE_FEATURES": features,
        "EXAMPLE_OUTPUT": output,
        "EXAMPLE_FORJA_REQUIREMENT": f"forja[lake] @ {wheel.as_uri()}",
    }
    done = subprocess.run([sys.executable, str(REPO / "examples" / "dhuolib_batch_flow.py")], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["run_status"] == "succeeded"
    assert summary["manual_run"]["version"] == 1 and summary["manual_run"]["rows"] == 10
    assert summary["scheduled_run"] is True
    assert summary["cluster_size"] == 2
    assert summary["schedules_left"] == 0

    # The lake has the manual run's VERSION 1 and the scheduled run's VERSION 2, each a full copy.
    info = repo.describe_table(output)
    versions = sorted(v["version"] for v in info["versions"])
    assert versions[:2] == [1, 2], versions
    assert all(v["rows"] == 10 for v in info["versions"])
    second = repo.to_dataframe(output, version=2)
    assert sorted(second["id"].tolist()) == list(range(10))
    assert set(second["predict"]) <= {0, 1, 2}
    assert {"VERSION", "CREATED_AT"} <= set(second.columns)
