"""The real MLOps Codex client (3.x or 4.x) training on Forja as a notebook does: a group, a training
experiment (registered again: the client reuses it), a Custom run of app.py's train_model on a CSV,
waiting for it, its status and RunData, its result zip, and promoting it to a model. Run by
test_compat_codex_training.py with the client's own interpreter:
`python codex_training.py <forja url> <user> <password> <new group name>` in an empty folder.

3.x finds Forja through MLOPS_URL (<forja url>/codex) and MLOPS_TENANT; 4.x hard-codes its SaaS
host, so it is pointed at Forja with the documented one-liner below. Prints one JSON line for the
test to check against Forja's own API.
"""

import json
import sys
import zipfile
from importlib.metadata import version

import mlops_codex.base
import requests

# Stubbed, and nothing else: every client constructor asks PyPI whether the SDK is outdated, and the
# tests run offline. The answer only ever prints a warning.
mlops_codex.base.check_lib_version = lambda: None

forja, user, password, group = sys.argv[1:5]
MAJOR = int(version("datarisk-mlops-codex").split(".")[0])

if MAJOR >= 4:
    # The documented way to point 4.x at Forja (docs/compat.md).
    mlops_codex.base.parse_url = lambda _: f"{forja}/codex/api"

from mlops_codex.training import MLOpsTrainingClient  # noqa: E402

TRAIN = '''
import os
from sklearn.linear_model import LogisticRegression

def train_model(df, base_path):
    X, y = df[["f1", "f2"]], df["label"]
    model = LogisticRegression().fit(X, y)
    with open(os.path.join(base_path, "notes.txt"), "w") as f:
        f.write("trained on %d rows" % len(df))
    return {"pipeline": model, "metrics": {"accuracy": float(model.score(X, y))}, "extra": ["notes.txt"],
            "X_train": X, "y_train": y, "model_output": model.predict(X)}
'''
SCORE = '''
import json, os, pickle

def score(data, base_path):
    with open(os.path.join(base_path, "model.pkl"), "rb") as f:
        model = pickle.load(f)
    row = json.loads(data)
    return {"prediction": int(model.predict([[row["f1"], row["f2"]]])[0])}
'''
with open("app.py", "w") as f:
    f.write(TRAIN)
with open("score.py", "w") as f:
    f.write(SCORE)
with open("requirements.txt", "w") as f:
    f.write("scikit-learn\n")
with open("schema.json", "w") as f:
    json.dump({"f1": 9, "f2": 1}, f)
with open("train.csv", "w") as f:
    f.write("f1,f2,label\n")
    for i in range(200):
        a, b = (i * 7) % 10, (i * 3) % 10
        f.write(f"{a},{b},{int(a > b)}\n")

client = MLOpsTrainingClient(login=user, password=password, tenant="forja")
client.create_group(name=group, description="Training with the real Codex client")

experiment = client.create_training_experiment(experiment_name="Churn codex", model_type="Classification", group=group)
again = client.create_training_experiment(experiment_name="Churn codex", model_type="Classification", group=group)
assert again.training_id == experiment.training_id, (again.training_id, experiment.training_id)
assert experiment.model_type == "Classification" and experiment.experiment_name == "Churn codex"

run = experiment.run_training(
    run_name="first",
    training_type="Custom",
    description="baseline",
    train_data="train.csv",
    source_file="app.py",
    requirements_file="requirements.txt",
    training_reference="train_model",
    python_version="3.10",
    wait_complete=True,
)
status = run.get_status()
assert status["Status"] == "Succeeded", status
assert run.status == "Succeeded"
metrics = {m["key"]: m["value"] for m in run.run_data["metrics"]}
assert metrics["accuracy"] > 0.9, run.run_data
assert run.name == "first" and run.training_type == "Custom"

latest = experiment.get_training_execution()
assert str(latest.exec_id) == str(run.exec_id), (latest.exec_id, run.exec_id)

run.download_result(path="./", filename="output.zip")
with zipfile.ZipFile("output.zip") as z:
    names = sorted(z.namelist())
assert "model/model.pkl" in names and "extras/notes.txt" in names, names

# External: a model trained here, logged with the client's log_train (features, target, predictions,
# model, metrics, params), run on Forja by a train_model of its own that loads the uploaded model.
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

frame = pd.read_csv("train.csv")
X, y = frame[["f1", "f2"]], frame["label"]
with experiment.log_train(name="external", X_train=X, y_train=y, description="trained in the notebook") as logger:
    fitted = LogisticRegression(C=3.0).fit(X, y)
    logger.save_model(fitted)
    logger.save_metric(name="accuracy", value=float(fitted.score(X, y)))
    logger.save_model_output(pd.DataFrame({"pred": fitted.predict(X)}))
    logger.add_requirements("requirements.txt")
    logger.set_python_version("3.10")
external = experiment.get_training_execution()
assert str(external.exec_id) != str(run.exec_id)
external.wait_ready()
assert external.get_status()["Status"] == "Succeeded"
assert external.training_type == "External", external.training_type
external_metrics = {m["key"]: m["value"] for m in external.run_data["metrics"]}
assert external_metrics["accuracy"] > 0.9, external.run_data
assert any(p["key"] == "hyperparam_C" and p["value"] == "3.0" for p in external.run_data["params"]), external.run_data

promote = dict(model_name="Churn codex promoted", model_reference="score", source_file="score.py", schema="schema.json", input_type="json")
# MLOpsTrainingExecution.promote_model uploads (POST training/promote) and then builds a SyncModel from
# the models routes; with those served it runs whole, else the client's own upload call is checked alone.
models_served = requests.get(f"{forja}/codex/api/model/search", timeout=30).status_code != 404
if models_served:
    model = run.promote_model(**promote, operation="Sync", wait_complete=True)
    model_hash = model.model_hash
else:
    model_hash = run._MLOpsTrainingExecution__upload_model(
        model_name=promote["model_name"], model_reference="score", source_file="score.py", schema="schema.json", operation="Sync", input_type="json"
    )

print(
    json.dumps(
        {
            "training_id": experiment.training_id,
            "exec_id": int(run.exec_id),
            "external_exec_id": int(external.exec_id),
            "model_hash": model_hash,
            "models_served": models_served,
        }
    )
)
