"""Forja training run (MLOps Codex's custom training): train_model(df, base_path) in the run's own environment.

The function returns a dict: "pipeline" (the fitted model, required), "metrics" {name: number},
and optionally "extra" (files it wrote, relative to base_path), "model_output" (predictions),
"X_train" and "y_train". This runner saves the model as model/model.pkl and writes result.json
with the metrics, derived params and extras; the server logs them to the tracking run.
"""

import argparse
import json
import math
import os
import pickle
import shutil

from forja_runtime import load_module


def load_frame(path):
    import pandas as pd

    if path.lower().endswith(".parquet"):
        return pd.read_parquet(path)
    if path.lower().endswith(".csv"):
        return pd.read_csv(path)
    raise SystemExit(f"the training data must be .csv or .parquet, not {os.path.basename(path)}")


def derived_params(df, result):
    """What MLOps Codex derives from a run, so every run carries the same facts."""
    params = {"rows": len(df), "columns": df.shape[1]}
    missing = [c for c in df.columns if df[c].isna().any()]
    params["cols_with_missing"] = ",".join(map(str, missing))[:500]
    model = result["pipeline"]
    steps = getattr(model, "steps", None)
    if steps:
        params["pipeline_steps"] = ",".join(name for name, _ in steps)[:500]
        model = steps[-1][1]
    params["model_class"] = type(model).__name__
    get_params = getattr(model, "get_params", None)
    if callable(get_params):
        for key, value in get_params(deep=False).items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                params[f"hyperparam_{key}"] = value
    y = result.get("y_train")
    if y is not None:
        import pandas as pd

        counts = pd.Series(list(y) if not hasattr(y, "value_counts") else y).value_counts(normalize=True)
        if len(counts) < 10:
            params["target_proportion"] = json.dumps({str(k): round(float(v), 4) for k, v in counts.items()})
    return {k: str(v)[:500] for k, v in params.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True)
    p.add_argument("--function", default="train_model")
    p.add_argument("--data", required=True)
    p.add_argument("--requirements", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    base_path = os.path.dirname(os.path.abspath(args.source))
    train = getattr(load_module(args.source, "forja_training"), args.function, None)
    if not callable(train):
        raise SystemExit(f"{os.path.basename(args.source)} defines no function {args.function}(df, base_path)")

    df = load_frame(args.data)
    print(f"training on {len(df)} rows x {df.shape[1]} columns", flush=True)
    result = train(df, base_path)
    if not isinstance(result, dict) or "pipeline" not in result:
        raise SystemExit(f"{args.function} must return a dict with at least 'pipeline' (the fitted model); it returned {type(result).__name__}")
    metrics = {}
    for key, value in (result.get("metrics") or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SystemExit(f"metric {key!r} is {value!r}, not a number") from None
        if math.isfinite(number):
            metrics[str(key)] = number

    model_dir = os.path.join(args.out, "model")
    os.makedirs(model_dir, exist_ok=True)
    try:
        with open(os.path.join(model_dir, "model.pkl"), "wb") as f:
            pickle.dump(result["pipeline"], f)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise SystemExit(f"the pipeline cannot be pickled ({exc}): define its classes and functions at module level") from None
    shutil.copyfile(args.requirements, os.path.join(model_dir, "requirements.txt"))

    extras = []
    extra_dir = os.path.join(args.out, "extras")
    for name in result.get("extra") or []:
        path = name if os.path.isabs(name) else os.path.join(base_path, name)
        if not os.path.isfile(path):
            raise SystemExit(f"extra file {name!r} does not exist")
        os.makedirs(extra_dir, exist_ok=True)
        shutil.copyfile(path, os.path.join(extra_dir, os.path.basename(path)))
        extras.append(os.path.basename(path))
    output = result.get("model_output")
    if output is not None:
        import pandas as pd

        frame = output if isinstance(output, pd.DataFrame) else pd.DataFrame({"prediction": list(output)})
        frame.to_parquet(os.path.join(args.out, "model_output.parquet"), index=False)

    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump({"metrics": metrics, "params": derived_params(df, result), "extras": extras}, f)
    print(f"trained {type(result['pipeline']).__name__}; metrics {metrics}", flush=True)


if __name__ == "__main__":
    main()
