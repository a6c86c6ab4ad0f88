"""The DHuolib-shaped flow on Forja's Python SDK: train, upload the pickle as a run, register it,
move it to Production, then fetch the Production model by stage and predict with it.

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token>
    python examples/dhuolib_flow.py
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile

import forja
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier


def main() -> int:
    name = os.environ.get("EXAMPLE_MODEL", "iris-rf")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    work = tempfile.mkdtemp(prefix="dhuolib-flow-")
    pkl, requirements = os.path.join(work, "model.pkl"), os.path.join(work, "requirements.txt")
    with open(pkl, "wb") as f:
        pickle.dump(model, f)
    with open(requirements, "w") as f:
        f.write("scikit-learn\n")

    with forja.ExperimentClient() as experiments:
        experiments.create_experiment(name, {"origin": "dhuolib-flow"})
        run = experiments.execute_run_for_experiment("RANDOM_FOREST", name, pkl, requirements, {"dataset": "iris"})
        version = experiments.create_model(name, "Staging", run["run_id"], run["model_uri"], {"owner": "examples"})
        production = experiments.transition_model(name, version["model_version"], "Production")
        found = experiments.search_models(f"name = '{name}'")
        loaded = experiments.download_pkl({"modelname": name, "stage": "Production", "batch_model_dir": os.path.join(work, "prod.pkl")})
        same = bool((loaded.predict(X) == model.predict(X)).all())

    print(
        json.dumps(
            {
                "run_id": run["run_id"],
                "version": production["model_version"],
                "stage": production["current_stage"],
                "models": [m["model_name"] for m in found],
                "same_predictions": same,
            }
        )
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
