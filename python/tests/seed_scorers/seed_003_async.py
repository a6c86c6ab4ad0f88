# The async scorer of seed 003 (the MLOps Codex deploy guide in English, lines 53-84), as the seed writes it; ruff.toml leaves it alone.
# Only the imports above the function are ours: the seed's text leaves them out.
from pickle import load

import pandas as pd


def score(data_path:str, model_path:str):## Environment variables loaded from a file supplied by the user in the 'env' field

    # my_var = os.getenv('MY_VAR')
    # if my_var is None:
    #    raise Exception("Could not find `env` variable")

    ## Environment variable loaded from MLOps with model file name
    # with open(base_path+os.getenv('modelFileName'), 'rb') as f:

    # Loads the already trained model to be run based on the model file passed as a parameter
    with open(model_path+"/model.pkl", 'rb') as f:
        model = load(f)

    ## Environment variable loaded from MLOps with database name
    # X = pd.read_csv(data_path+'/'+os.getenv('inputFileName'))

    # Loads the input base data from the file into a DataFrame
    X = pd.read_csv(data_path+"/dados.csv")

    df = X.copy()   # Creates a copy of the DataFrame with the input data

    df['proba'] = model.predict_proba(X)[:,1]   # Calculates the prediction for each entry in the data table
    df['pred'] = model.predict(X)               # Calculates the probability of each entry in the data table

    # Create the path with the name of the output file, in this case 'output.csv'. It is important that this file is saved in the same path as the data that was sent.
    output = data_path+'/output.csv'

    # Transform the DataFrame, with the prediction and probability, to csv by placing it in the output path file
    df.to_csv(output, index=False)

    # Returns the path to the file with the results of the model run
    return output
