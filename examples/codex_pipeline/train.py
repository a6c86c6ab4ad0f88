"""MLOps Codex's Custom training contract: train_model(df, base_path) returns the fitted
pipeline, its metrics and the training data."""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def train_model(df, base_path):
    X, y = df[FEATURES], df["species"]
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = cross_val_score(pipeline, X, y, cv=3)
    pipeline.fit(X, y)
    return {
        "pipeline": pipeline,
        "metrics": {"cv_accuracy": float(scores.mean()), "train_accuracy": float(pipeline.score(X, y))},
        "X_train": X,
        "y_train": y,
        "model_output": pipeline.predict(X),
    }
