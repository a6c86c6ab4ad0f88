"""A Kedro-shaped project on Forja's MLflow API, mirroring the seed project (Kobe shots):
data preparation -> two models (logistic regression, decision tree) -> compare -> log the best
-> score production data with the logged model. Run it with MLFLOW_TRACKING_URI pointing at Forja.

    export MLFLOW_TRACKING_URI=http://127.0.0.1:5050
    export MLFLOW_TRACKING_TOKEN=<a Forja token>
    python examples/kedro_style_pipeline.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

FEATURES = ["lat", "lon", "minutes_remaining", "period", "playoffs", "shot_distance"]


def raw_shots(n: int, seed: int) -> pd.DataFrame:
    """Synthetic shots shaped like the seed's dataset (distance drives the outcome)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "lat": rng.normal(34.0, 0.05, n),
            "lon": rng.normal(-118.26, 0.1, n),
            "minutes_remaining": rng.integers(0, 12, n),
            "period": rng.integers(1, 5, n),
            "playoffs": rng.integers(0, 2, n),
            "shot_distance": rng.integers(0, 30, n),
        }
    )
    p = 1 / (1 + np.exp(0.15 * (df["shot_distance"] - 12)))
    df["shot_made_flag"] = (rng.random(n) < p).astype(int)
    df.loc[rng.choice(n, size=n // 50, replace=False), "shot_made_flag"] = np.nan
    return df


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Node 1: drop rows without a label, keep the model's columns."""
    clean = df.dropna(subset=["shot_made_flag"])[FEATURES + ["shot_made_flag"]].copy()
    clean["shot_made_flag"] = clean["shot_made_flag"].astype(int)
    return clean


def main() -> int:
    mlflow.set_experiment(os.environ.get("EXAMPLE_EXPERIMENT", "kobe-shots"))
    with mlflow.start_run(run_name="PreparacaoDados") as prep_run:
        raw = raw_shots(2000, seed=7)
        data = prepare(raw)
        train, test = train_test_split(data, test_size=0.2, random_state=7, stratify=data["shot_made_flag"])
        mlflow.log_params({"test_size": 0.2, "features": ",".join(FEATURES)})
        mlflow.log_metrics({"raw_rows": len(raw), "clean_rows": len(data), "train_rows": len(train), "test_rows": len(test)})
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "base_train.csv")
            train.to_csv(path, index=False)
            mlflow.log_artifact(path, artifact_path="data")
        mlflow.log_input(mlflow.data.from_pandas(train, name="base_train", targets="shot_made_flag"), context="training")

    X_train, y_train = train[FEATURES], train["shot_made_flag"]
    X_test, y_test = test[FEATURES], test["shot_made_flag"]
    results = {}
    with mlflow.start_run(run_name="Treinamento") as training:
        for name, model in {
            "logistic_regression": LogisticRegression(max_iter=1000),
            "decision_tree": DecisionTreeClassifier(max_depth=5, random_state=7),
        }.items():
            with mlflow.start_run(run_name=name, nested=True):
                model.fit(X_train, y_train)
                proba = model.predict_proba(X_test)[:, 1]
                metrics = {"log_loss": log_loss(y_test, proba), "f1_score": f1_score(y_test, model.predict(X_test))}
                mlflow.log_params({k: v for k, v in model.get_params().items() if isinstance(v, (int, float, str))})
                mlflow.log_metrics(metrics)
                results[name] = (model, metrics)
        best_name = min(results, key=lambda n: results[n][1]["log_loss"])
        best_model, best_metrics = results[best_name]
        mlflow.set_tag("best_model", best_name)
        mlflow.log_metrics({f"best_{k}": v for k, v in best_metrics.items()})
        info = mlflow.sklearn.log_model(
            best_model, name="best_model", signature=infer_signature(X_test, best_model.predict(X_test)), input_example=X_test.head(3)
        )

    with mlflow.start_run(run_name="AplicacaoProducao"):
        prod = prepare(raw_shots(500, seed=11))
        loaded = mlflow.pyfunc.load_model(info.model_uri)
        predictions = loaded.predict(prod[FEATURES])
        mlflow.log_metric("prod_f1_score", f1_score(prod["shot_made_flag"], predictions))
        mlflow.log_dict({"rows": int(len(prod)), "positive_rate": float(np.mean(predictions))}, "prod_summary.json")

    print(json.dumps({"best": best_name, "model_uri": info.model_uri, "training_run": training.info.run_id, "prep_run": prep_run.info.run_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
