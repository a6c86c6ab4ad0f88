"""MLOps Codex's External training on Forja: the model was trained elsewhere (the client's log_train).

Forja runs it as a training run whose train_model loads what was uploaded, so the pickle is opened
only in the sandbox, with the run's requirements, and the run logs and keeps the same things a
Custom run does. The route places the uploads beside this script under fixed names; the features
are the run's data (df).
"""

import json
import os
import pickle

import pandas as pd

FIXED = {"forja_codex_external.py", "requirements.txt", "model.pkl", "target.parquet", "predictions.parquet", "metrics.json", "features.parquet"}


def train_model(df, base_path):
    def at(name):
        return os.path.join(base_path, name)

    with open(at("model.pkl"), "rb") as f:
        model = pickle.load(f)
    metrics = {}
    if os.path.isfile(at("metrics.json")):
        with open(at("metrics.json")) as f:
            metrics = json.load(f)
    target = pd.read_parquet(at("target.parquet"))
    result = {
        "pipeline": model,
        "metrics": metrics,
        "X_train": df,
        "y_train": target.iloc[:, 0] if target.shape[1] == 1 else target,
        # parameters.json and the extra files come back in the result zip.
        "extra": sorted(n for n in os.listdir(base_path) if n not in FIXED and os.path.isfile(at(n))),
    }
    if os.path.isfile(at("predictions.parquet")):
        result["model_output"] = pd.read_parquet(at("predictions.parquet"))
    return result
