"""Forja explanations: mean |SHAP| per feature for a sample of logged rows and of the reference.

Runs in the model's own environment plus the shap package, in the sandbox, without network.
Reads current.parquet (and reference.parquet) from its work folder, writes the result as JSON.
A failure the user can fix is printed as one "FORJA_EXPLAIN_ERROR <message>" line (exit 2).

How a model is explained:
- a user function `module:function(df, model_path) -> DataFrame of SHAP values` (MLOps Codex's
  get_shap) from the deployment's files, when one is given;
- tree models (scikit-learn trees, forests, gradient boosting; xgboost, lightgbm, catboost):
  shap.TreeExplainer, exact and fast;
- linear models (anything of sklearn.linear_model with coef_): shap.LinearExplainer against the
  background (the reference sample, or the current one without a reference), so a feature's SHAP
  value is coef * (x - mean of the background);
- anything else: shap's model-agnostic permutation explainer on the prediction function with a
  background of at most 50 rows: slower and approximate, and the log says so.
Classifiers: with two classes the positive class (the second) is explained; with more, the mean
|SHAP| is averaged over the classes.
"""

import argparse
import json
import os
import sys

from forja_runtime import load_function, load_model, predict_function

SEED = 17
BACKGROUND_ROWS = 50
TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


class UserError(Exception):
    """Something the user can act on: it becomes the API's message."""


def sample(frame, rows):
    return frame if len(frame) <= rows else frame.sample(n=rows, random_state=SEED)


def read_rows(path, features, side):
    import pandas as pd

    frame = pd.read_parquet(path)
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise UserError(f"the {side} rows lack the features {missing}; they have {list(frame.columns)}")
    if len(frame) == 0:
        raise UserError(f"the {side} sample has no rows to explain")
    return frame


def mean_abs(values, features):
    """Mean |SHAP| per feature from shap's output: (rows, features), or one more axis for classes."""
    import numpy as np

    if isinstance(values, list):  # older shap: one array per class
        values = np.stack(values, axis=-1)
    values = np.abs(np.asarray(values, dtype=float))
    if values.ndim == 3:
        per_class = values.mean(axis=0)  # (features, classes)
        per_feature = per_class[:, 1] if per_class.shape[1] == 2 else per_class.mean(axis=1)
    else:
        per_feature = values.mean(axis=0)
    return {f: float(v) for f, v in zip(features, per_feature)}


def class_path(model):
    return type(model).__module__ + "." + type(model).__name__


def raw_model(model, kind):
    """The estimator inside an MLflow pyfunc model when it has one (its flavour's own object)."""
    if kind != "pyfunc":
        return model
    get_raw = getattr(model, "get_raw_model", None)
    try:
        return get_raw() if get_raw else model
    except Exception:  # a flavour without a raw model
        return model


def build_explainer(model, kind, method, background, log):
    """(name, function from a frame to SHAP values) for the model."""
    import shap

    estimator = raw_model(model, kind)
    module = type(estimator).__module__
    if module.startswith(TREE_MODULES):
        try:
            explainer = shap.TreeExplainer(estimator)
            return "TreeExplainer", lambda frame: explainer.shap_values(frame, check_additivity=False)
        except Exception as exc:  # e.g. an ensemble of non-tree estimators
            log(f"shap.TreeExplainer cannot explain {class_path(estimator)} ({exc}); using the model-agnostic explainer")
    if module.startswith("sklearn.linear_model") and hasattr(estimator, "coef_"):
        masker = shap.maskers.Independent(background, max_samples=len(background))
        explainer = shap.LinearExplainer(estimator, masker)
        return "LinearExplainer", lambda frame: explainer.shap_values(frame)
    predict = predict_function(model, kind, method)
    small = sample(background, BACKGROUND_ROWS)
    log(
        f"{class_path(estimator)} is neither a tree nor a linear model: using shap's model-agnostic permutation "
        f"explainer on {method}() with a background of {len(small)} rows (slower and approximate)"
    )

    def score(values):
        import pandas as pd

        out = predict(pd.DataFrame(values, columns=list(background.columns)))
        return out.to_numpy() if hasattr(out, "to_numpy") else out

    explainer = shap.explainers.Permutation(score, shap.maskers.Independent(small, max_samples=len(small)), seed=SEED)
    return "PermutationExplainer", lambda frame: explainer(frame, silent=True).values


def user_explainer(reference, files):
    """`module:function` from the deployment's files, called as function(df, model_path)."""
    module, _, name = reference.partition(":")
    source = os.path.join(files, *module.split(".")) + ".py"
    fn = load_function(source, name, "forja_shap_function", UserError)

    def explain(frame, model_path):
        import pandas as pd

        out = fn(frame.copy(), model_path)
        if not isinstance(out, pd.DataFrame):
            raise UserError(f"{reference} returned {type(out).__name__}, not a pandas DataFrame of SHAP values")
        missing = [c for c in frame.columns if c not in out.columns]
        if missing:
            raise UserError(f"the DataFrame {reference} returned lacks the columns {missing}; it has {list(out.columns)}")
        return out[list(frame.columns)].to_numpy(dtype=float)

    return explain


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", required=True, choices=["pickle", "pyfunc", "script"])
    p.add_argument("--model", required=True, help="the pickle, the pyfunc folder or a script model's file")
    p.add_argument("--files", required=True, help="the deployment's files (its own modules)")
    p.add_argument("--method", default="predict")
    p.add_argument("--current", required=True)
    p.add_argument("--reference", default="")
    p.add_argument("--features", required=True, help="JSON list")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--function", default="", help="module:function in the deployment's files")
    p.add_argument("--output", required=True)
    args = p.parse_args()
    features = json.loads(args.features)
    sys.path.insert(0, args.files)
    log = lambda line: print(line, flush=True)  # noqa: E731

    current = sample(read_rows(args.current, features, "current"), args.rows)[features]
    reference = sample(read_rows(args.reference, features, "reference"), args.rows)[features] if args.reference else None
    if args.function:
        explain = user_explainer(args.function, args.files)
        name = f"function {args.function}"
        shap_of = lambda frame: explain(frame, args.model)  # noqa: E731
    else:
        if args.kind == "script":
            raise UserError("a script model cannot be explained by shap directly: give a function module:function(df, model_path) from its files")
        model = load_model(args.kind, args.model)
        names = getattr(raw_model(model, args.kind), "feature_names_in_", None)
        if names is not None:
            unknown = [n for n in names if n not in features]
            if unknown:
                raise UserError(f"the model was trained on {unknown}, which are not among the features {features}")
            # The model's own column order; features it was not trained on cannot be explained by it.
            current, reference = current[list(names)], None if reference is None else reference[list(names)]
        background = reference if reference is not None else current
        name, shap_of = build_explainer(model, args.kind, args.method, background, log)
    log(f"explaining {len(current)} current and {0 if reference is None else len(reference)} reference rows with {name}")
    result = {
        "explainer": name,
        "rows": len(current),
        "current": mean_abs(shap_of(current), list(current.columns)),
        "reference": None if reference is None else mean_abs(shap_of(reference), list(reference.columns)),
    }
    with open(args.output, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        print(f"FORJA_EXPLAIN_ERROR {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
