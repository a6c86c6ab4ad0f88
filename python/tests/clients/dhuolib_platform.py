"""Seed 000's DhuolibPlatformClient flow with the real dhuolib 0.2.3, against Forja.

Creates a batch project, deploys a script and its requirements (base64, as the client sends them),
polls pipeline_status_report until the deploy is done, sizes the cluster, runs it, schedules it and
removes the schedule. DHUO_SERVICE_URI and DHUO_TOKEN say where Forja is. Prints one JSON line.
"""

import json
import os
import time

from dhuolib.clients.platform import DhuolibPlatformClient

SCRIPT = 'print("scored", 150, "rows")\n'


def until(what, check, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise SystemExit(f"timed out waiting for {what}")


def _done(report, step, ends):
    """The report when its row for `step` has reached one of `ends`, else None."""
    rows = [r for r in report if r["step"].startswith(step) and r["status"].startswith(ends)]
    return report if rows else None


def main():
    with open("script.py", "w") as f:
        f.write(SCRIPT)
    with open("requirements.txt", "w") as f:
        f.write("")
    platform = DhuolibPlatformClient(service_uri=os.environ["DHUO_SERVICE_URI"], project_name="lightgbm-iris", token=os.environ["DHUO_TOKEN"])
    created = platform.create_batch_project("lightgbm-iris")
    try:
        platform.create_batch_project("lightgbm-iris")
        duplicate = "accepted"
    except ValueError as err:
        duplicate = str(err)
    deployed = platform.deploy_batch_project(script_filename="script.py", requirements_filename="requirements.txt")
    report = until("the deploy", lambda: _done(platform.pipeline_status_report(), "DEPLOY", ("DEPLOY COMPLETED", "DEPLOY FAILED")))
    # The guide writes create_cluster(2), which 0.2.3 reads as project_name=2: the size goes by keyword.
    cluster = platform.create_cluster(cluster_size=2)
    run = platform.batch_run()
    ran = until("the run", lambda: _done(platform.pipeline_status_report(), f"RUN {run['run_id']}", ("RUN SUCCEEDED", "RUN FAILED")))
    scheduled = platform.schedule_batch_run(project_name="lightgbm-iris", schedule_interval="*/5 * * * *")
    removed = platform.remove_schedule(project_name="lightgbm-iris")
    removed_again = platform.remove_schedule(project_name="lightgbm-iris")
    print(
        json.dumps(
            {
                "created": created,
                "duplicate": duplicate,
                "deployed": deployed,
                "report": report,
                "cluster": cluster,
                "run": run,
                "ran": ran,
                "scheduled": scheduled,
                "removed": removed,
                "removed_again": removed_again,
            }
        )
    )


if __name__ == "__main__":
    main()
