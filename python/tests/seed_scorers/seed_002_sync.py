# The sync scorer of seed 002 (the MLOps Codex deploy guide in Portuguese, lines 18-23), as the seed writes it; ruff.toml leaves it alone.
# Only the imports above the function are ours: the seed's text leaves them out.
import json

import pandas as pd
from joblib import load


def score(data, base_path):
    model = load(base_path+"/model.pkl")

    df = pd.DataFrame(data=json.loads(data), index=[0])

    return {"pred": int(model.predict(df)), "proba": float(model.predict_proba(df)[0,1])}
