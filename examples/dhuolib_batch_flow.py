"""DHuolib's batch-project flow on Forja's PlatformClient: create a project, deploy a scoring
script, pick a cluster size, run it with parameters, schedule it, watch a scheduled run fire, and
remove the schedule. Prints a JSON summary on its last line.

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token>
    python examples/dhuolib_batch_flow.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import forja

# The batch script: reads its parameters from FORJA_PARAMS, scores a few rows, prints results.
SCORING_SCRIPT = '''
import json, os

params = json.loads(os.environ["FORJA_PARAMS"])
threshold = float(params.get("threshold", 0.5))
rows = [{"id": "a", "income": 1200, "age": 31}, {"id": "b", "income": 8000, "age": 52}]
for row in rows:
    score = min(1.0, row["income"] / 10000 + row["age"] / 200)
    print(json.dumps({"id": row["id"], "score": round(score, 3), "churn": score < threshold, "date": params.get("date")}))
'''


def main() -> int:
    name = os.environ.get("EXAMPLE_PROJECT", "churn-scoring")
    work = tempfile.mkdtemp(prefix="dhuolib-batch-")
    script = os.path.join(work, "score_churn.py")
    with open(script, "w") as f:
        f.write(SCORING_SCRIPT)

    with forja.PlatformClient(project_name=name) as platform:
        platform.create_batch_project(name, "Churn scoring, DHuolib style")
        deploy = platform.deploy_batch_project(script)              # waits for the build
        project = platform.create_cluster(2)                        # medium
        run = platform.batch_run({"date": "2026-11-23", "threshold": 0.6}, wait=True)
        scores = [json.loads(line) for line in platform.run_logs(run) if line.startswith("{")]

        platform.schedule_batch_run(name, "*/2 * * * * *", params={"date": "scheduled"})   # every 2 s
        deadline, scheduled = time.monotonic() + 15, None
        while scheduled is None and time.monotonic() < deadline:
            scheduled = next((r for r in platform.runs() if r["trigger"] == "schedule"), None)
            time.sleep(0.5)
        platform.remove_schedule(name)
        if scheduled is not None:
            scheduled = platform.wait_run(scheduled, timeout=120)

        print(json.dumps({
            "project": name,
            "version": deploy["version"],
            "cluster_size": project["clusterSize"],
            "run_status": run["status"],
            "scores": scores,
            "scheduled_run": scheduled is not None and scheduled["status"] == "succeeded",
            "schedules_left": len(platform.list_schedules()),
            "report": platform.pipeline_status_report()[:3],
        }))
    return 0 if run["status"] == "succeeded" and scheduled is not None else 1


if __name__ == "__main__":
    sys.exit(main())
