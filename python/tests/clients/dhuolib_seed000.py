"""Around seed 000's "Exemplo de Uso" (dhuolib_seed000_example.py), with the real dhuolib 0.2.3.

    python dhuolib_seed000.py prepare   # the example's own world, before it runs
    python dhuolib_seed000.py use       # the rest of the guide: searches, transitions, pickles, predict_online

Run from a scratch folder. `prepare` writes config/database.json pointing at a throw-away SQLite
database holding IRIS_TRAIN (written with dhuolib's GenericRepository), the requirements.txt the
example uploads, and a `{path}` link to the folder so the example's "{path}/…" strings name real
files. DHUO_SERVICE_URI and DHUO_TOKEN say where Forja is. `use` prints one JSON line to check.
"""

import json
import os
import sys

from dhuolib.clients.experiment import DhuolibExperimentMLClient
from dhuolib.repository import DatabaseConnection, GenericRepository
from sklearn.datasets import load_iris

SERVICE_URI = os.environ["DHUO_SERVICE_URI"]
TOKEN = os.environ["DHUO_TOKEN"]


def prepare():
    os.makedirs("config", exist_ok=True)
    with open("config/database.json", "w") as f:
        json.dump({"connection_string": f"sqlite:///{os.path.abspath('iris.db')}"}, f)
    if not os.path.lexists("{path}"):
        os.symlink(".", "{path}")
    # What the deployment needs to unpickle the model: the versions this client trained with.
    with open("requirements.txt", "w") as f:
        f.write("lightgbm==4.6.0\nscikit-learn==1.5.2\nnumpy==1.26.4\npandas==2.1.2\n")
    iris = load_iris(as_frame=True)
    frame = iris.data.copy()
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["class"] = [str(iris.target_names[t]) for t in iris.target]
    repository = GenericRepository(db_connection=DatabaseConnection(config_file_name="config/database.json"))
    print(repository.create_table_by_dataframe("IRIS_TRAIN", frame))


def use():
    """The guide's other calls, on what train() made."""
    client = DhuolibExperimentMLClient(service_uri=SERVICE_URI, token=TOKEN)
    again = client.create_experiment(experiment_name="lightgbm-iris", experiment_tags={"tag": "other"})
    experiments = client.search_experiments(filter_string="tags.tag = 'iris'", max_results=10)
    runs = client.search_runs(experiment_name="lightgbm-iris", filter_string="tags.type_model='lightgbm'", max_results=2)
    all_runs = client.search_runs(experiment_name="lightgbm-iris", filter_string="*", max_results=10)
    missing = client.search_runs(experiment_name="wine-regression", filter_string="tags.type_model='keras'", max_results=2)
    models = client.search_models(max_results=2, filter_string="name = 'iris-classification'")
    staging = client.transition_model(model_name="iris-classification", version="1", stage="Staging")
    production = client.transition_model(model_name="iris-classification", version="1", stage="Production")

    frame = GenericRepository(db_connection=DatabaseConnection(config_file_name="config/database.json")).to_dataframe(table_name="IRIS_TRAIN")
    features = frame[["sepal_length", "sepal_width", "petal_length", "petal_width"]]
    batch_params = {
        "modelname": "iris-classification",
        "stage": "Production",
        "experiment_name": "lightgbm-iris",
        "type_model": "lightgbm",
        "run_id": "",
        "batch_model_dir": "iris_downloaded.pkl",
    }
    model = client.download_pkl(batch_params)
    predicted = client.prediction_batch_with_dataframe(batch_params, features)
    by_run = client.download_pkl({**batch_params, "stage": "", "run_id": runs["runs"][0]["run_id"], "batch_model_dir": "by_run.pkl"})

    features.head(5).to_csv("online.csv", index=False)
    online = client.predict_online({"modelname": "iris-classification", "stage": "Production", "run_id": runs["runs"][0]["run_id"], "data": "online.csv"})
    print(
        json.dumps(
            {
                "experiment_again": again,
                "experiments": [e["experiment_name"] for e in experiments["experiments"]],
                "runs": runs["runs"],
                "all_runs": len(all_runs["runs"]),
                "missing": missing,
                "models": models,
                "staging": staging,
                "production": production,
                "model_type": type(model).__name__,
                "by_run_type": type(by_run).__name__,
                "accuracy": float((predicted == frame["class"].to_numpy()).mean()),
                "online": online,
                "local_first5": [str(p) for p in predicted[:5]],
            },
            default=str,
        )
    )


if __name__ == "__main__":
    prepare() if sys.argv[1] == "prepare" else use()
