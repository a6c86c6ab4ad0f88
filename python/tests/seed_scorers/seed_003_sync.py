# The sync scorer of seed 003 (the MLOps Codex deploy guide in English, lines 18-37), as the seed writes it; ruff.toml leaves it alone.
# Only the imports above the function are ours: the seed's text leaves them out.
import json
from pickle import load

import pandas as pd


def score(data:str, base_path:str): # It is the name of the function (score) that must be passed in the 'model_reference' field

    # Environment variables loaded from a user-supplied file in the 'env' field
    # my_var = os.getenv('MY_VAR')
    # if my_var is None:
    #   raise Exception("Could not find `env` variable")

    ## MLOps environment variable with model file name
    # with open(base_path+os.getenv('modelFileName'), 'rb') as f:

    # Loads the already trained model to be run based on the model file passed as a parameter
    with open(base_path+"/model.pkl", 'rb') as f:
        model = load(f)

    # Build a DataFrame with the input data. The data arrives as a JSON string so we have to transform it into a dictionary
    df = pd.DataFrame(data=json.loads(data), index=[0])

    # Returns the results of running the model as a dictionary
    # It's important to note that in this case, as we're converting to JSON, we can't use numpy types, so we convert to pure int and float.
    return {"pred": int(model.predict(df)), "proba": float(model.predict_proba(df)[0,1])}
