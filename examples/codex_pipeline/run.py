"""MLOps Codex's pipeline YAML on Forja: train train.py on data.csv, register the trained model
and deploy it, then ask the deployment for a prediction. Prints a JSON summary on its last line.

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token>
    cd examples/codex_pipeline && python run.py

The pipeline runs in the YAML's group ("codex-demo"), created if missing when your token may.
EXAMPLE_PIPELINE_NAME overrides the pipeline's name (the YAML's "name:").
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import forja

HERE = Path(__file__).resolve().parent


def main() -> int:
    pipeline = forja.Pipeline.from_config_file(HERE / "pipeline.yaml", name=os.environ.get("EXAMPLE_PIPELINE_NAME"))
    with pipeline:
        run = pipeline.start()  # uploads, runs training then deploy, prints step changes
        steps = {s["id"]: s for s in run["steps"]}
        deployed = steps["deploy"]["outputs"]
        model = forja.ModelClient(pipeline.client).get_model(deployed["deploymentId"], group=pipeline.group)
        answer = model.predict([{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}])
        print(
            json.dumps(
                {
                    "pipeline": pipeline.name,
                    "group": pipeline.group,
                    "run": run["id"],
                    "status": run["status"],
                    "metrics": {k: v for k, v in steps["training"]["outputs"].items() if k not in ("trainingId", "trackingRunId")},
                    "model": deployed["model"],
                    "model_version": deployed["version"],
                    "deployment": deployed["deploymentId"],
                    "prediction": answer,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
