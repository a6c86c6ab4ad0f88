"""Forja's Python runtime: what every runner shares to load user code and models and to read data.

Imported by forja_worker.py, forja_execute.py, forja_lake_score.py and forja_train.py, which run
as scripts from this folder (mounted read-only in every sandbox), so it is found beside them.
The standard library only at import time: pandas, pyarrow, joblib and MLflow are imported when
a model kind or a file format needs them, so a script model's worker starts without them.
"""

import importlib.util
import json
import os
import sys


def load_module(source, module_name):
    """Runs a user's source file as a module; its folder comes first on sys.path for its own imports."""
    spec = importlib.util.spec_from_file_location(module_name, source)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(source)))
    spec.loader.exec_module(module)
    return module


def load_function(source, name, module_name, missing=AttributeError):
    """The entrypoint `name` of a user's source file; `missing` is raised (with the reason) when it has none."""
    module = load_module(source, module_name)
    if not hasattr(module, name):
        raise missing(f"{os.path.basename(source)} has no function {name}()")
    return getattr(module, name)


def load_model(kind, path):
    """An MLflow pyfunc model (its folder) or a pickled estimator (with joblib when the environment has it)."""
    if kind == "pyfunc":
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(path)
    try:
        import joblib

        return joblib.load(path)
    except ImportError:
        import pickle

        with open(path, "rb") as f:
            return pickle.load(f)


def predict_function(model, kind, method="predict"):
    """What scores rows: a pyfunc model's predict, or the estimator's predict or predict_proba."""
    if kind == "pyfunc":
        return model.predict
    if not hasattr(model, method):
        raise AttributeError(f"the pickled {type(model).__name__} has no {method}()")
    return getattr(model, method)


def read_frames(path, rows):
    """A .csv, .parquet or .json file as DataFrames of at most `rows` rows (JSON: one frame), so memory follows `rows`."""
    import pandas as pd

    lower = path.lower()
    if lower.endswith(".csv"):
        yield from pd.read_csv(path, chunksize=rows)
    elif lower.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()
    elif lower.endswith(".json"):
        with open(path) as f:
            payload = json.load(f)
        yield pd.DataFrame(payload if isinstance(payload, list) else [payload])
    else:
        raise ValueError(f"unsupported input file {os.path.basename(path)}: use .csv, .parquet or .json")
