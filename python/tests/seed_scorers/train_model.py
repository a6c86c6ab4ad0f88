"""The model the seeds' scorers load, made as their notebooks would make it.

A scikit-learn classifier of whether f1 > f2, fitted on a frame with those feature names and saved
with the standard pickle as ``model.pkl`` (seed 002 reads it with ``joblib.load``, seed 003 with
``pickle.load``; both read a plain pickle), next to a ``requirements.txt`` pinned to the versions
that fitted it (NumPy excepted, see below). As a script: ``python train_model.py FOLDER``.
"""

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression


def write_model(folder) -> Path:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"f1": rng.uniform(0, 10, 400), "f2": rng.uniform(0, 10, 400)})
    model = LogisticRegression(C=100).fit(X, (X.f1 > X.f2).astype(int))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "model.pkl", "wb") as f:
        pickle.dump(model, f)
    # The seeds' sync scorer calls int(model.predict(df)) on a one-element array, which NumPy 2.4
    # refuses (1.25 to 2.3 only warn): their users pin an older NumPy, and so does this.
    (folder / "requirements.txt").write_text(f"scikit-learn=={sklearn.__version__}\npandas=={pd.__version__}\nnumpy<2.4\n")
    return folder / "model.pkl"


if __name__ == "__main__":
    write_model(sys.argv[1])
