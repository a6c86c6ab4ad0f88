"""DHuolib's batch flow end to end on Forja: create a batch project, deploy the canonical scoring
script (it reads a feature table from the lake, scores it with the model in Production and
appends the predictions to an output table as its next VERSION), pick a cluster size, run it,
schedule it, watch a scheduled run write the next version, and remove the schedule. Prints a
JSON summary on its last line.

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token> FORJA_GROUP=<your group>
    export EXAMPLE_MODEL=churn EXAMPLE_FEATURES=churn_features EXAMPLE_OUTPUT=churn_predictions
    python examples/dhuolib_batch_flow.py

- EXAMPLE_MODEL: a registered model with a version in Production (DHuolib's ``stage``).
- EXAMPLE_FEATURES: a lake table with the model's feature columns, plus EXAMPLE_ID_COLUMNS
  (comma-separated, default "id") that are carried to the output but not scored.
- EXAMPLE_OUTPUT: the predictions table (created by the first run).
- EXAMPLE_PROJECT: the batch project's name (default "churn-scoring").
- EXAMPLE_FORJA_REQUIREMENT: how the batch environment installs the SDK (default
  "forja[lake]"; e.g. "forja[lake] @ file:///path/to/forja/python" for a local checkout).
- EXAMPLE_CRON: the schedule (default every 5 seconds, "*/5 * * * * *", to see it fire now;
  a daily batch would use "0 6 * * *").

The scheduled runs get FORJA_URL, FORJA_TOKEN and FORJA_GROUP from the server, so the deployed
script builds forja.GenericRepository() with no arguments, as DHuolib's scripts do.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import forja

# The canonical DHuolib batch script: read the features, score with the Production model, append
# the predictions as the table's next VERSION. Its parameters come as JSON in FORJA_PARAMS.
SCORING_SCRIPT = '''
import json, os

import forja

params = json.loads(os.environ["FORJA_PARAMS"])
id_columns = params.get("id_columns", ["id"])
batch_params = {"modelname": params["model"], "stage": "Production", "experiment_name": params["model"], "type_model": "sklearn"}

repo = forja.GenericRepository()        # FORJA_URL, FORJA_TOKEN, FORJA_GROUP come from the run
df = repo.to_dataframe(params["features"], filter_clause=params.get("filter"))
features = df.drop(columns=[c for c in id_columns if c in df.columns])
df["predict"] = repo.prediction_batch_with_dataframe(batch_params, features)
output = df[[c for c in id_columns if c in df.columns] + ["predict"]]
written = repo.update_table_by_dataframe(params["output"], output, if_exists="append", is_update_version=True)
print(json.dumps({"rows": written["number_lines_inserted"], "version": written["version"], "trigger": params.get("trigger")}))
'''


def main() -> int:
    name = os.environ.get("EXAMPLE_PROJECT", "churn-scoring")
    model = os.environ.get("EXAMPLE_MODEL", "churn")
    features = os.environ.get("EXAMPLE_FEATURES", "churn_features")
    output = os.environ.get("EXAMPLE_OUTPUT", "churn_predictions")
    id_columns = [c.strip() for c in os.environ.get("EXAMPLE_ID_COLUMNS", "id").split(",") if c.strip()]
    cron = os.environ.get("EXAMPLE_CRON", "*/5 * * * * *")
    params = {"model": model, "features": features, "output": output, "id_columns": id_columns}

    work = tempfile.mkdtemp(prefix="dhuolib-batch-")
    script = os.path.join(work, "script.py")
    with open(script, "w") as f:
        f.write(SCORING_SCRIPT)
    requirements = os.path.join(work, "requirements.txt")
    with open(requirements, "w") as f:
        f.write(os.environ.get("EXAMPLE_FORJA_REQUIREMENT", "forja[lake]") + "\n")

    with forja.PlatformClient(project_name=name) as platform, forja.GenericRepository(platform.client) as repo:
        platform.create_batch_project(name, "Churn scoring, DHuolib style")
        deploy = platform.deploy_batch_project(script, requirements)  # waits for the build
        project = platform.create_cluster(2)  # medium
        run = platform.batch_run({**params, "trigger": "manual"}, wait=True, timeout_seconds=1800)
        if run["status"] != "succeeded":
            print("\n".join(platform.run_logs(run)[-30:]), file=sys.stderr)
        manual = [json.loads(line) for line in platform.run_logs(run) if line.startswith("{")]

        # The schedule: each run appends the next VERSION. Wait until one has written VERSION 2.
        schedule = platform.schedule_batch_run(name, cron, params={**params, "trigger": "schedule"}, timeout_seconds=600)
        deadline, versions = time.monotonic() + 300, []
        try:
            while run["status"] == "succeeded" and time.monotonic() < deadline:
                versions = _versions(repo, output)
                if 2 in versions:
                    break
                failed = [r for r in platform.runs() if r["trigger"] == "schedule" and r["status"] == "failed"]
                if failed:
                    print("\n".join(platform.run_logs(failed[0])[-30:]), file=sys.stderr)
                    break
                time.sleep(1)
        finally:
            platform.remove_schedule(name)
        scheduled = [r for r in platform.runs() if r["trigger"] == "schedule"]
        for r in scheduled:
            if r["status"] in ("queued", "running"):
                platform.wait_run(r, timeout=600)  # let the runs in flight finish
        versions = _versions(repo, output)
        latest = repo.to_dataframe(output, version="latest") if versions else None

        print(
            json.dumps(
                {
                    "project": name,
                    "version": deploy["version"],
                    "cluster_size": project["clusterSize"],
                    "run_status": run["status"],
                    "manual_run": manual[-1] if manual else None,
                    "schedule": {"cron": schedule["cron"], "next": schedule.get("nextFireTimes", [])[:1]},
                    "scheduled_run": any(r["status"] == "succeeded" for r in platform.runs() if r["trigger"] == "schedule"),
                    "schedules_left": len(platform.list_schedules()),
                    "output_table": output,
                    "output_versions": versions,
                    "latest_rows": 0 if latest is None else len(latest),
                    "report": platform.pipeline_status_report()[:3],
                },
                default=str,
            )
        )
    return 0 if run["status"] == "succeeded" and 1 in versions and 2 in versions else 1


def _versions(repo: forja.GenericRepository, table: str) -> list:
    try:
        return sorted(v["version"] for v in repo.describe_table(table)["versions"])
    except forja.NotFound:
        return []


if __name__ == "__main__":
    sys.exit(main())
