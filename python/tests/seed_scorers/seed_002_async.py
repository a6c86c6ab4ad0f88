# The async scorer of seed 002 (the MLOps Codex deploy guide in Portuguese, lines 36-50), as the seed writes it; ruff.toml leaves it alone.
# Only the imports above the function are ours: the seed's text leaves them out.
import pandas as pd
from joblib import load


def score(data_path, model_path):

    model = load(model_path+"/model.pkl")

    X = pd.read_csv(data_path+'/input.csv')
    df = X.copy()

    df['proba'] = model.predict_proba(X)[:,1]
    df['pred'] = model.predict(X)

    output = data_path+'/output.csv'

    df.to_csv(output, index=False)

    return output
