"""Forja Python SDK.

Example::

    import forja

    client = forja.Client()          # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    client.login("admin", "secret-pass")
    print(client.whoami()["user"]["username"])

    experiments = forja.ExperimentClient(client)
    with experiments.start_run(experiments.create_experiment("iris")) as run:
        experiments.log_metric(run.run_id, "rmse", 0.27)

    models = forja.ModelClient(client)
    model = models.create_model("credit", "score", "app.py", "model.pkl", "requirements.txt",
                                schema={"income": 5000, "age": 40})
    print(model.predict({"income": 1200, "age": 31}))

    platform = forja.PlatformClient(project_name="churn")
    platform.create_batch_project("churn")
    platform.deploy_batch_project("score.py", "requirements.txt")
    print(platform.batch_run({"date": "2026-11-23"}, wait=True)["status"])

    repo = forja.GenericRepository()
    df = repo.to_dataframe("churn_features", filter_clause="active = TRUE")
    df["predict"] = repo.prediction_batch_with_dataframe({"modelname": "churn", "stage": "Production"}, df)
    repo.update_table_by_dataframe("churn_scores", df, is_update_version=True)

    training = forja.TrainingClient()
    run = training.run_training("churn", "train.py", "churn.csv", requirements_file="requirements.txt", wait_complete=True)
    print(run.metrics, run.promote_model("churn", deploy_name="churn-api").predict([{"age": 31}]))

    forja.Pipeline.from_config_file("pipeline.yaml").start()   # MLOps Codex's pipeline YAML
"""

from . import exceptions
from .batch import PlatformClient
from .client import DEFAULT_URL, Client, GroupsAPI, TokensAPI, UsersAPI
from .deployments import ForjaExecution, ForjaModel, ModelClient
from .drift import drift, drift_tables
from .exceptions import *  # noqa: F401,F403 - the error classes, listed once: in exceptions.__all__
from .lake import BatchPredictionFailed, GenericRepository
from .pagination import Pager
from .pipelines import Pipeline, PipelineFailed, PipelineTimeout
from .tracking import ActiveRun, ExperimentClient
from .training import TrainingClient, TrainingExperiment, TrainingFailed, TrainingRun
from .version import __version__

__all__ = [
    "Client",
    "DEFAULT_URL",
    "UsersAPI",
    "GroupsAPI",
    "TokensAPI",
    "ExperimentClient",
    "ActiveRun",
    "ModelClient",
    "ForjaModel",
    "ForjaExecution",
    "PlatformClient",
    "GenericRepository",
    "TrainingClient",
    "TrainingExperiment",
    "TrainingRun",
    "drift",
    "drift_tables",
    "Pipeline",
    "Pager",
    "BatchPredictionFailed",
    "TrainingFailed",
    "PipelineFailed",
    "PipelineTimeout",
    "__version__",
]
# Written in the forms that type checkers read as the package's exports.
__all__ += exceptions.__all__
__all__.remove("error_for_status")  # a helper of the HTTP layer: forja.exceptions exports it, forja does not
