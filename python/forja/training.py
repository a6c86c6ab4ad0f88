"""Training runs with MLOps Codex's (Neomaril's) Custom training names.

A training run is a script defining ``train_model(df, base_path)`` run on the server, in its own
Python environment, on an uploaded ``.csv``/``.parquet`` file or a lake table. What the function
returns lands in a tracking run (MLflow-compatible): ``metrics`` as metrics, params derived from
``X_train``/``y_train``, ``pipeline`` pickled as the artifact ``model/model.pkl`` and the files
named in ``extra`` under ``extras/``. A succeeded run is promoted to a registered model version,
and deployed as a sync model, with one call.

The script's contract (as MLOps Codex's Custom training)::

    def train_model(df, base_path):
        X, y = df.drop(columns="target"), df["target"]
        model = LogisticRegression().fit(X, y)
        return {"pipeline": model, "metrics": {"accuracy": model.score(X, y)},
                "X_train": X, "y_train": y, "extra": []}

Differences from MLOps Codex, on purpose:

- One call starts a run: :meth:`TrainingExperiment.run_training` uploads the files and starts
  it (Codex registered, uploaded and executed in three). The experiment is created on the
  server by its first run; :meth:`TrainingClient.create_training_experiment` sends nothing.
- Only Custom training: AutoML and External (``log_train``) are not offered. A model trained
  elsewhere is logged with :class:`~forja.ExperimentClient` and registered from its run.
- Training data can be a lake table (``table=``, with a ``filter_clause``), not only a file.
- Waiting long-polls the run's job (no ``sleep(30)`` loop) and has a timeout; a failed run
  raises :class:`TrainingFailed` with the end of the script's traceback.
- :meth:`TrainingRun.download_result` downloads the tracking run's artifacts into a folder
  (``model/model.pkl``, ``extras/…``) instead of an ``output.zip``.
- :meth:`TrainingRun.promote_model` deploys the pickled pipeline itself (a ``pickle``
  deployment answering ``{"predictions": [...]}``): no scorer script, schema or requirements
  to upload again. It returns a :class:`~forja.ForjaModel` when it deploys, else the
  registered model version (``{"name", "version"}``).

Example::

    import forja

    training = forja.TrainingClient()            # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    experiment = training.create_training_experiment("churn", model_type="Classification")
    run = experiment.run_training("first", source_file="train.py", train_data="churn.csv",
                                  requirements_file="requirements.txt", wait_complete=True)
    print(run.metrics)                           # {'accuracy': 0.93}
    model = run.promote_model("churn", deploy_name="churn-api")
    print(model.predict([{"income": 1200, "age": 31}]))   # {'predictions': [0]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ._jobs import VerboseClientOwner, WaitsOnJob, job_log
from .client import API, JSON, Client, _Field, _segment
from .deployments import ForjaModel, ModelClient, PathLike, _python_version, _schema_sample
from .exceptions import ExecutionTimeout, ForjaError, NotFound, RunFailed

__all__ = ["TrainingClient", "TrainingExperiment", "TrainingRun", "TrainingFailed"]

RUNS = f"{API}/training/runs"
PENDING = ("queued", "running")
MODEL_TYPES = ("Classification", "Regression", "Unsupervised")
TRAINING_WAIT = 6 * 3600.0


class TrainingFailed(RunFailed):
    """A training run ended ``failed`` or ``cancelled``. Also an :class:`~forja.ExecutionFailed`.

    Attributes:
        message: the server's reason, e.g. ``"The process exited with code 1. Last lines:"``
            followed by the end of the script's traceback (``ValueError: …``).
        run_id: the training run (also ``execution_id``).
        job_id: its job, whose whole log :meth:`TrainingRun.get_logs` returns.
        run: the :class:`TrainingRun` itself (``None`` after unpickling).

    Example::

        try:
            run = experiment.run_training("try", source_file="train.py", train_data="data.csv", wait_complete=True)
        except forja.TrainingFailed as err:
            print(err.message)
            print(*err.run.get_logs()[-20:], sep="\\n")
    """

    _KIND = "Training run"


class TrainingClient(VerboseClientOwner):
    """Starts and finds training runs, with MLOps Codex's ``MLOpsTrainingClient`` names.

    Pass a :class:`~forja.Client` to share its connection and login, or the URL, token and
    group, which fall back to ``FORJA_URL``, ``FORJA_TOKEN`` and ``FORJA_GROUP``. ``verbose=True``
    prints the script's output while waiting.

    Example::

        import forja

        with forja.TrainingClient("http://127.0.0.1:5050", token="fjp_…", group="credit") as training:
            for run in training.list_runs("churn"):
                print(run.id, run.status, run.metrics)
    """

    # -- experiments ------------------------------------------------------------------------

    def create_training_experiment(self, experiment_name: str, model_type: str = "Classification") -> "TrainingExperiment":
        """An experiment to run trainings in. Nothing is sent: the server creates the tracking
        experiment with the first run (and reuses it when it exists, as Codex did unless
        ``force``). ``model_type`` is ``Classification``, ``Regression`` or ``Unsupervised``.

        Example::

            experiment = training.create_training_experiment("churn", model_type="Classification")
        """
        return TrainingExperiment(self, experiment_name, model_type)

    def get_training(self, experiment_name: str, model_type: str = "Classification") -> "TrainingExperiment":
        """The experiment of this name (an alias of :meth:`create_training_experiment`: it is
        the name that ties runs together).

        Example::

            runs = training.get_training("churn").get_all_training_executions()
        """
        return self.create_training_experiment(experiment_name, model_type)

    # -- runs -------------------------------------------------------------------------------

    def run_training(
        self,
        experiment_name: str,
        source_file: PathLike,
        train_data: Optional[PathLike] = None,
        *,
        table: Optional[str] = None,
        filter_clause: Optional[str] = None,
        requirements_file: Optional[PathLike] = None,
        extra_files: Optional[Sequence[PathLike]] = None,
        run_name: Optional[str] = None,
        model_type: str = "Classification",
        training_reference: str = "train_model",
        python_version: str = "",
        timeout_seconds: Optional[int] = None,
        wait_complete: bool = False,
        timeout: float = TRAINING_WAIT,
        verbose: Optional[bool] = None,
    ) -> "TrainingRun":
        """Uploads ``source_file`` (a ``.py`` defining ``training_reference(df, base_path)``)
        with the training data, either ``train_data`` (a ``.csv``/``.parquet`` file) or
        ``table`` (a lake table, narrowed by ``filter_clause``), its ``requirements_file`` and
        ``extra_files`` (put beside the script), and starts the run. Returns the
        :class:`TrainingRun`; with ``wait_complete=True`` it waits for the end and raises
        :class:`TrainingFailed` if the script failed. ``timeout_seconds`` bounds the run on the
        server (6 h by default).

        Bad arguments (no data, both data and table, an unknown table, a bad filter) raise
        :class:`~forja.InvalidArgument` or :class:`~forja.NotFound` before anything runs.

        Example::

            run = training.run_training("churn", "train.py", table="churn_features",
                                        filter_clause="month >= 6", requirements_file="requirements.txt")
            run.wait_ready()
        """
        if (train_data is None) == (table is None):
            raise ValueError("give the training data as train_data (a .csv or .parquet file) or table (a lake table), one of them")
        if model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {', '.join(MODEL_TYPES)} (got {model_type!r})")
        files: List[Tuple[str, str, Any]] = [_file("source", source_file, "source_file")]
        if train_data is not None:
            files.append(_file("data", train_data, "train_data"))
        if requirements_file is not None:
            files.append(_file("requirements", requirements_file, "requirements_file", "requirements.txt"))
        for extra in extra_files or []:
            files.append(_file("extra", extra, "extra file"))
        fields: Dict[str, str] = {"experimentName": experiment_name, "modelType": model_type, "trainFunction": training_reference}
        if run_name:
            fields["runName"] = run_name
        version = _python_version(python_version)
        if version:
            fields["pythonVersion"] = version
        if table is not None:
            fields["table"] = table
            if filter_clause:
                fields["filter"] = filter_clause
        if timeout_seconds is not None:
            fields["timeoutSeconds"] = str(int(timeout_seconds))
        run = TrainingRun(self, self.client._multipart(RUNS, fields, files))
        if wait_complete:
            run.wait_ready(timeout=timeout, verbose=verbose)
        return run

    def get_run(self, run_id: str) -> "TrainingRun":
        """The training run with this id. Raises :class:`~forja.NotFound` if there is none.

        Example::

            run = training.get_run("01JA…")
            print(run.status, run.metrics)
        """
        return TrainingRun(self, self.client.request("GET", f"{RUNS}/{_segment(run_id, 'training run id')}"))

    def list_runs(self, experiment_name: Optional[str] = None) -> List["TrainingRun"]:
        """The group's training runs, newest first; only ``experiment_name``'s when given.

        Example::

            best = max(training.list_runs("churn"), key=lambda r: r.metrics.get("accuracy", 0))
        """
        items = self.client.request("GET", RUNS)["items"]
        return [TrainingRun(self, r) for r in items if experiment_name is None or r["experimentName"] == experiment_name]


class TrainingExperiment:
    """An experiment's name and model type, with MLOps Codex's ``MLOpsTrainingExperiment``
    method names. Get one from :meth:`TrainingClient.create_training_experiment`.

    Example::

        experiment = training.create_training_experiment("churn")
        run = experiment.run_training("v1", source_file="train.py", train_data="churn.csv", wait_complete=True)
        print(experiment.get_training_execution().id == run.id)   # the latest run
    """

    def __init__(self, training: TrainingClient, name: str, model_type: str = "Classification") -> None:
        if model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {', '.join(MODEL_TYPES)} (got {model_type!r})")
        self.training = training
        self.name = name
        self.model_type = model_type

    def __repr__(self) -> str:
        return f"TrainingExperiment(name={self.name!r}, model_type={self.model_type!r})"

    def run_training(
        self,
        run_name: Optional[str] = None,
        source_file: Optional[PathLike] = None,
        train_data: Optional[PathLike] = None,
        *,
        training_type: str = "Custom",
        table: Optional[str] = None,
        filter_clause: Optional[str] = None,
        requirements_file: Optional[PathLike] = None,
        extra_files: Optional[Sequence[PathLike]] = None,
        training_reference: str = "train_model",
        python_version: str = "",
        timeout_seconds: Optional[int] = None,
        wait_complete: bool = False,
        timeout: float = TRAINING_WAIT,
        verbose: Optional[bool] = None,
    ) -> "TrainingRun":
        """Starts a Custom training run in this experiment: see :meth:`TrainingClient.run_training`.
        ``training_type`` other than ``"Custom"`` raises ``ValueError``.

        Example::

            run = experiment.run_training("v2", source_file="train.py", table="churn_features",
                                          requirements_file="requirements.txt", wait_complete=True)
        """
        if training_type != "Custom":
            raise ValueError(f"training_type {training_type!r} is not supported: Forja runs Custom training (a train_model(df, base_path) script)")
        if source_file is None:
            raise ValueError("source_file is required: the .py that defines train_model(df, base_path)")
        return self.training.run_training(
            self.name,
            source_file,
            train_data,
            table=table,
            filter_clause=filter_clause,
            requirements_file=requirements_file,
            extra_files=extra_files,
            run_name=run_name,
            model_type=self.model_type,
            training_reference=training_reference,
            python_version=python_version,
            timeout_seconds=timeout_seconds,
            wait_complete=wait_complete,
            timeout=timeout,
            verbose=verbose,
        )

    def get_all_training_executions(self) -> List["TrainingRun"]:
        """The experiment's runs, newest first.

        Example::

            for run in experiment.get_all_training_executions():
                print(run.id, run.status)
        """
        return self.training.list_runs(self.name)

    def get_training_execution(self, run_id: Optional[str] = None) -> "TrainingRun":
        """The run with ``run_id``, or the latest one of the experiment. Raises
        :class:`~forja.NotFound` when the experiment has no run.

        Example::

            latest = experiment.get_training_execution()
        """
        if run_id is not None:
            return self.training.get_run(run_id)
        runs = self.get_all_training_executions()
        if not runs:
            raise NotFound(404, "NOT_FOUND", f"Experiment {self.name!r} has no training run")
        return runs[0]


class TrainingRun(WaitsOnJob):
    """One training run (MLOps Codex's ``MLOpsTrainingExecution``).

    Attributes (refreshed by :meth:`refresh`, :meth:`get_status` and the waits): ``id``,
    ``status`` (``queued``, ``running``, ``succeeded``, ``failed``, ``cancelled``), ``metrics``
    (``{name: number}``), ``error`` (the end of the script's traceback), ``experiment_name``,
    ``tracking_run_id`` (its MLflow-compatible run), ``job_id``, ``model_type``, ``promoted``
    (``{"model", "version", "deploymentId"}`` or ``None``). ``data`` is the server's JSON.

    Example::

        run = experiment.run_training("v1", source_file="train.py", train_data="data.csv")
        run.wait_ready(verbose=True)
        print(run.metrics, run.execution_info()["data"]["params"][:3])
    """

    def __init__(self, training: TrainingClient, data: JSON) -> None:
        self.training = training
        self.data = data

    id = _Field[str]("id")
    group = _Field[str]("group")
    status = _Field[str]("status")

    @property
    def metrics(self) -> Dict[str, float]:
        return dict(self.data.get("metrics") or {})

    error = _Field[Optional[str]]("error", None)
    experiment_name = _Field[str]("experimentName")
    tracking_run_id = _Field[str]("trackingRunId")
    job_id = _Field[Optional[str]]("jobId", None)
    model_type = _Field[str]("modelType")
    promoted = _Field[Optional[JSON]]("promoted", None)

    def __repr__(self) -> str:
        return f"TrainingRun(id={self.id!r}, experiment={self.experiment_name!r}, status={self.status!r})"

    @property
    def _client(self) -> Client:
        return self.training.client

    def _path(self, suffix: str = "") -> str:
        return f"{RUNS}/{_segment(self.id, 'training run id')}{suffix}"

    def _failed(self) -> ForjaError:
        return self._failure(self.error or f"it was {self.status}; see its log (get_logs())", self.job_id)

    # -- state ------------------------------------------------------------------------------

    def refresh(self) -> "TrainingRun":
        """Reads the run again and returns it.

        Example::

            print(run.refresh().status)
        """
        self.data = self._client._call("GET", self._path(), group=self.group)
        return self

    def get_status(self) -> str:
        """The status now (read again): ``queued``, ``running``, ``succeeded``, ``failed`` or
        ``cancelled``.

        Example::

            if run.get_status() == "failed":
                print(run.error)
        """
        return self.refresh().status

    def wait_ready(self, timeout: float = TRAINING_WAIT, verbose: Optional[bool] = None) -> "TrainingRun":
        """Waits for the run to end and returns it, ``succeeded``.

        It long-polls the run's job (the server answers the moment it ends). With
        ``verbose=True`` (default: the client's ``verbose``) what the script prints is printed
        as it comes. Raises :class:`TrainingFailed` with the end of the script's traceback if it
        failed or was cancelled, and :class:`~forja.ExecutionTimeout` after ``timeout`` seconds
        (the run goes on: call ``wait_ready()`` again).

        Example::

            run.wait_ready(timeout=1800, verbose=True)
        """
        self._wait_on_job(timeout, self.training.verbose if verbose is None else verbose)
        if self.status != "succeeded":
            raise self._failed()
        return self

    _PENDING = PENDING

    def _what(self) -> str:
        return f"Training run {self.id}"

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        return TrainingFailed(message, self.id, job_id, self)

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return ExecutionTimeout(self._goes_on(job_id, timeout), self.id, job_id)

    def cancel(self) -> "TrainingRun":
        """Stops a queued or running run and returns it. Raises :class:`~forja.Conflict` if it
        has already ended.

        Example::

            run.cancel()
        """
        self.data = self._client._call("POST", self._path("/cancel"), group=self.group)
        return self

    # -- results ----------------------------------------------------------------------------

    def execution_info(self) -> JSON:
        """The tracking run: ``{"info", "data": {"metrics", "params", "tags"}, …}`` as
        :meth:`forja.ExperimentClient.get_run` gives it; the params are those derived from
        ``X_train``/``y_train`` (shape, columns with missing values, target distribution…).

        Example::

            params = {p["key"]: p["value"] for p in run.execution_info()["data"]["params"]}
        """
        return self._experiments().get_run(self.tracking_run_id)

    def download_result(self, path: Optional[PathLike] = None, artifact: str = "") -> str:
        """Downloads the run's artifacts (``model/model.pkl``, ``extras/…``), or only
        ``artifact``, into the folder ``path`` (a new temporary folder by default) and returns
        the local path of what was asked. Raises :class:`TrainingFailed` if the run failed.

        Example::

            folder = run.download_result("out")                         # out/model/model.pkl, out/extras/…
            pkl = run.download_result("out", artifact="model/model.pkl")
        """
        if self.status != "succeeded":
            self.refresh()
        if self.status in ("failed", "cancelled"):
            raise self._failed()
        return self._experiments().download_artifacts(self.tracking_run_id, artifact, path)

    def get_logs(self) -> List[str]:
        """The lines of the run's log: what the script printed, stdout and stderr, tracebacks
        included, and the environment build's lines.

        Example::

            print(*run.get_logs()[-20:], sep="\\n")
        """
        return job_log(self._client, self.group, self.job_id) if self.job_id else []

    def promote_model(
        self,
        model_name: str,
        deploy_name: Optional[str] = None,
        operation: str = "sync",
        schema: Any = None,
        wait_for_ready: bool = True,
        *,
        timeout: float = 1800,
        verbose: Optional[bool] = None,
    ) -> Union[ForjaModel, JSON]:
        """Registers the trained pipeline as the next version of ``model_name`` and, with
        ``deploy_name``, deploys that version as a model answering ``{"predictions": [...]}``
        (``operation`` ``"sync"`` or ``"async"``, ``schema`` a sample request).

        Returns the :class:`~forja.ForjaModel` when it deploys (waited for with
        ``wait_for_ready``; a failed build raises :class:`~forja.DeploymentFailed`), else the
        new version ``{"name", "version"}``. Promoting a run that has not succeeded, or one
        already promoted (a run makes one version), raises :class:`~forja.Conflict`.

        Example::

            model = run.promote_model("churn", deploy_name="churn-api")
            print(model.predict([{"income": 1200, "age": 31}]))
        """
        body: JSON = {"modelName": model_name}
        if deploy_name:
            deploy: JSON = {"name": deploy_name, "operation": operation.strip().lower()}
            if schema is not None:
                deploy["schemaSample"] = _schema_sample(schema)
            body["deploy"] = deploy
        answer = self._client._call("POST", self._path("/promote"), group=self.group, json=body)
        self.data = answer["run"]
        if not answer.get("deploymentId"):
            return answer["modelVersion"]
        models = ModelClient(self._client, verbose=self.training.verbose)
        model = models.get_model(answer["deploymentId"], group=self.group)
        if wait_for_ready:
            model.wait_ready(timeout=timeout, verbose=self.training.verbose if verbose is None else verbose)
        return model

    def _experiments(self) -> Any:
        from .tracking import ExperimentClient

        return ExperimentClient(self._client, progress=False)


def _file(field: str, path: PathLike, what: str, name: Optional[str] = None) -> Tuple[str, str, Any]:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{what} {str(file)!r} is not a file")
    return (field, name or file.name, lambda: file.open("rb"))
