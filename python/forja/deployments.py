"""Model deployments: a model as an HTTP service of your group, with MLOps Codex's (Neomaril's)
method names.

:class:`ModelClient` creates and finds deployments: :meth:`~ModelClient.create_model` uploads a
scorer script with Neomaril's contract (``score(data, base_path)``) and its files;
:meth:`~ModelClient.deploy_registered` deploys a registered model (``models:/name@alias``) with
no code. Both return a :class:`ForjaModel`, which waits for its build, predicts (``model(data)``
works too), shows its logs and calling code, and is disabled, enabled, rebuilt or deleted.

An async model (``create_model(..., operation="Async")``, Neomaril's ``score(data_path,
model_path)``) takes a file and gives back a file: ``model.predict("data.csv")`` uploads it and
returns a :class:`ForjaExecution`, which waits (:meth:`~ForjaExecution.wait_ready`), downloads
its output (:meth:`~ForjaExecution.download_result`) and shows what the scorer printed.

Differences from MLOps Codex, on purpose:

- ``predict`` returns the model's answer (v4 printed it and returned ``None``).
- Waiting long-polls the build job instead of sleeping 30 s in a loop, and has a timeout.
- A failed build raises :class:`~forja.DeploymentFailed` with the server's reason, a failed
  execution :class:`~forja.ExecutionFailed` with the end of the scorer's traceback.
- ``delete()`` asks nothing on the terminal.

Example::

    import forja

    models = forja.ModelClient()     # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    model = models.create_model(
        model_name="credit",
        model_reference="score",
        source_file="app.py",
        model_file="model.pkl",
        requirements_file="requirements.txt",
        schema={"income": 5000, "age": 40},
        env=".env",
    )
    print(model.predict({"income": 1200, "age": 31}))

    batch = models.create_model("batch", "score", "batch.py", "model.pkl", None, operation="Async")
    execution = batch.predict("applicants.csv").wait_ready()
    print(execution.download_result("scores.csv"))
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, Union

from ._jobs import VerboseClientOwner, WaitsOnJob, job_log
from .client import API, JSON, Client, _Field, _segment
from .exceptions import DeploymentFailed, DeploymentTimeout, ExecutionFailed, ExecutionTimeout, ForjaError

__all__ = ["ModelClient", "ForjaModel", "ForjaExecution"]

PathLike = Union[str, "os.PathLike[str]"]

DEPLOYMENTS = f"{API}/deployments"
# Statuses in which a build is still to come or under way.
PENDING = ("Uploaded", "Building")
# Statuses in which an async execution is still to run or running.
EXECUTION_PENDING = ("Requested", "Running")
LANGUAGES = {"curl": "curl", "python": "python", "typescript": "typescript", "ts": "typescript", "javascript": "typescript", "js": "typescript"}
CHUNK_SIZE = 1 << 20
# Async executions can run for hours (their job's limit is 6 h); waiting for one has this default.
EXECUTION_WAIT = 3600.0


class ModelClient(VerboseClientOwner):
    """Deploys models and finds deployments, with MLOps Codex's ``MLOpsModelClient`` method names.

    Pass a :class:`~forja.Client` to share its connection and login, or the same arguments as
    ``Client`` (URL, token, group, ``timeout=``, ``retries=``…), which fall back to
    ``FORJA_URL``, ``FORJA_TOKEN`` and ``FORJA_GROUP``. Deployments are made in that group
    unless a call names another. ``verbose=True`` prints build logs while waiting.

    Example::

        import forja

        with forja.ModelClient("http://127.0.0.1:5050", token="fjp_…", group="credit") as models:
            for model in models.search_models(status="Deployed"):
                print(model.name, model.id)
    """

    # -- creating ---------------------------------------------------------------------------

    def create_model(
        self,
        model_name: str,
        model_reference: str,
        source_file: PathLike,
        model_file: Optional[PathLike],
        requirements_file: Optional[PathLike],
        schema: Union[Mapping[str, Any], Sequence[Any], PathLike, None] = None,
        extra_files: Optional[Sequence[PathLike]] = None,
        env: Optional[PathLike] = None,
        python_version: str = "",
        operation: str = "Sync",
        input_type: str = "json",
        group: Optional[str] = None,
        wait_for_ready: bool = True,
        settings: Optional[Mapping[str, Any]] = None,
        *,
        verbose: Optional[bool] = None,
        timeout: float = 900,
    ) -> "ForjaModel":
        """Uploads a scorer and its files as a new deployment and builds it.

        - ``model_reference``: the function to call. Sync models (the default) follow
          Neomaril's ``score(data, base_path)``: ``data`` is the request body as a string; it
          returns a dict (or a JSON string). Async models follow ``score(data_path,
          model_path)``: ``data_path`` is the folder holding the uploaded file under its own
          name (``inputFileName``), ``model_path`` the folder of the model file and extras; it
          writes its output **in data_path** and returns that file's path. With
          ``settings={"scorerPaths": "files"}`` (what deployments made before keep) they are
          the input file's path and the model file's path instead.
        - ``source_file``: the ``.py`` (or ``.ipynb``: its code cells become the script).
        - ``model_file``: any file (pickle, JSON weights…); the worker's ``modelFileName``
          names it, and ``base_path`` (also ``BASE_PATH``) is the folder holding every file.
        - ``requirements_file``: pinned ``requirements.txt``; ``None`` for the standard library.
        - ``schema``: a sample request, as a dict or list (sent as ``schema.json``) or the path
          of a JSON file. The build makes a test call with it, and every prediction must have
          its fields with the same JSON types.
        - ``extra_files``: more files put next to the source. ``env``: a ``.env`` file of
          ``KEY=VALUE`` lines, stored encrypted and given to the workers as environment
          variables, never shown again.
        - ``python_version``: ``"3.11"``, Neomaril's ``"Python311"``, or ``""`` for the server's.
        - ``operation``: ``"Sync"`` (a JSON service, :meth:`ForjaModel.predict` answers at
          once) or ``"Async"`` (file in, file out: :meth:`ForjaModel.predict` uploads a file and
          returns a :class:`ForjaExecution`). For a Sync model ``input_type`` is ``"json"`` (or
          ``"csv"``): the server reads each call's Content-Type. An Async model gets the file as
          it was uploaded (``.csv``, ``.parquet``, ``.json``, ``.xlsx``…), so ``input_type`` is
          only a note to yourself. The build of an Async model loads the scorer but makes no
          test call (``schema`` is kept, not called).
        - ``group``: deploy in this group instead of the client's.
        - ``settings``: ``minWorkers``, ``maxWorkers``, ``timeoutMs``, ``maxQueue``,
          ``maxBatch``, ``memoryMb``, ``scorerPaths`` (see :meth:`ForjaModel.update_settings`).

        With ``wait_for_ready`` (the default) it returns once the model is ``Deployed`` and
        raises :class:`~forja.DeploymentFailed` with the reason if the build fails; otherwise it
        returns at once with the model ``Building``. Raises :class:`~forja.Conflict` if the name
        is taken in the group, :class:`~forja.InvalidArgument` for a bad file or field.

        Example::

            model = models.create_model(
                model_name="credit",
                model_reference="score",
                source_file="app.py",
                model_file="model.json",
                requirements_file="requirements.txt",
                schema={"income": 5000, "age": 40},
                extra_files=["segments.csv"],
                env=".env",
                python_version="3.11",
                settings={"maxWorkers": 4},
            )
            print(model.status)   # Deployed

            batch = models.create_model("batch", "score", "batch.py", "model.pkl", None, operation="Async")
            execution = batch.predict("applicants.csv").wait_ready()
        """
        op = _operation(operation)
        if op == "sync" and input_type.lower() not in ("json", "csv"):
            raise ValueError(
                f"input_type {input_type!r} is not available for Sync models: send JSON (or CSV) requests; "
                "file inputs (parquet, xlsx…) are for async models: deploy with operation='Async'"
            )
        if not isinstance(model_reference, str) or not re.match(r"^[A-Za-z_]\w*$", model_reference):
            raise ValueError(f"model_reference must be the name of a Python function, like 'score' (got {model_reference!r})")
        files: List[Tuple[str, str, Callable[[], Any]]] = []
        names: List[str] = []

        def add(field: str, path: PathLike, what: str, name: Optional[str] = None) -> None:
            file = Path(path)
            if not file.is_file():
                raise FileNotFoundError(f"{what}: {file} is not a file")
            sent = _unique_name(name or file.name, names)
            files.append((field, sent, lambda: file.open("rb")))

        add("source", source_file, "source_file")
        if model_file is not None:
            add("model", model_file, "model_file")
        if requirements_file is not None:
            add("requirements", requirements_file, "requirements_file")
        if schema is not None:
            if isinstance(schema, (str, os.PathLike)):
                add("schema", schema, "schema")
            else:
                sample = json.dumps(_plain_json(schema), allow_nan=False).encode("utf-8")
                files.append(("schema", _unique_name("schema.json", names), lambda: sample))
        if isinstance(extra_files, (str, os.PathLike)):
            extra_files = [extra_files]
        for extra in extra_files or []:
            add("extra", extra, "extra_files")
        if env is not None:
            # The server takes plain file names only (no leading dot): ".env" travels as "env".
            add("env", env, "env", Path(env).name.lstrip(".") or "env")

        fields = {
            "name": model_name,
            "kind": "script",
            "entrypoint": model_reference,
            "operation": op,
            "pythonVersion": _python_version(python_version),
        }
        if settings:
            fields["settings"] = json.dumps(dict(settings))
        created = self.client._multipart(DEPLOYMENTS, fields, files, group=group)
        model = ForjaModel(self, created["deployment"])
        if wait_for_ready:
            model.wait_ready(timeout=timeout, verbose=self.verbose if verbose is None else verbose)
        return model

    def deploy_registered(
        self,
        model_uri: str,
        name: str,
        kind: str = "pyfunc",
        predict_method: str = "predict",
        schema: Union[Mapping[str, Any], Sequence[Any], PathLike, None] = None,
        requirements: Union[str, Sequence[str], PathLike, None] = None,
        python_version: str = "",
        settings: Optional[Mapping[str, Any]] = None,
        wait_for_ready: bool = True,
        *,
        group: Optional[str] = None,
        verbose: Optional[bool] = None,
        timeout: float = 900,
    ) -> "ForjaModel":
        """Deploys a registered model with no code: ``models:/name@alias``, ``models:/name/3``
        or ``models:/name/Production``. The version's files are copied now; moving the alias
        later does not change this deployment.

        - ``kind="pyfunc"`` loads an MLflow model; ``"pickle"`` the version's
          ``.pkl``/``.pickle``/``.joblib`` (DHuolib's ``model.pkl``), calling
          ``predict_method`` (``"predict"`` or ``"predict_proba"``).
        - ``schema``: a sample request (dict, records, a DataFrame, or a JSON file's path).
        - ``requirements``: extra requirements on top of the model's ``requirements.txt``: the
          text, a list of lines, or the path of a file.

        Answers are ``{"predictions": [...]}``, one per row. Raises :class:`~forja.NotFound`
        for an unknown model or alias, :class:`~forja.DeploymentFailed` if the build fails.

        Example::

            model = models.deploy_registered("models:/churn@champion", "churn", schema=X.head(1))
            print(model.predict(X.head(3))["predictions"])
        """
        body: JSON = {
            "name": name,
            "modelUri": model_uri,
            "kind": kind,
            "predictMethod": predict_method,
            "pythonVersion": _python_version(python_version),
            "settings": dict(settings or {}),
        }
        if schema is not None:
            body["schemaSample"] = _schema_sample(schema)
        if requirements is not None:
            body["requirements"] = _requirements_text(requirements)
        created = self.client._call("POST", f"{DEPLOYMENTS}/from-model", group=group, json=body)
        model = ForjaModel(self, created["deployment"])
        if wait_for_ready:
            model.wait_ready(timeout=timeout, verbose=self.verbose if verbose is None else verbose)
        return model

    # -- finding ----------------------------------------------------------------------------

    def get_model(self, deployment_id: str, group: Optional[str] = None) -> "ForjaModel":
        """The deployment with this id, in the client's group or ``group``. Raises
        :class:`~forja.NotFound` if there is none there.

        Example::

            model = models.get_model("01J9Z…")
            print(model.status, model(data={"income": 1200, "age": 31}))
        """
        return ForjaModel(self, self.client._call("GET", _path(deployment_id), group=group))

    def search_models(self, name: Optional[str] = None, status: Optional[str] = None, group: Optional[str] = None) -> List["ForjaModel"]:
        """The group's deployments, newest first: those whose name contains ``name`` (any
        case, like Neomaril's LIKE filter) and whose status is ``status`` (``"Deployed"``,
        ``"Building"``, ``"Failed"``, ``"Disabled"``, ``"Uploaded"``).

        Example::

            for model in models.search_models(name="credit", status="Deployed"):
                print(model.id, model.name)
        """
        items = self.client._call("GET", DEPLOYMENTS, group=group)["items"]
        wanted = name.lower() if name else None
        found = [
            ForjaModel(self, d) for d in items if (wanted is None or wanted in d["name"].lower()) and (status is None or d["status"].lower() == status.lower())
        ]
        return sorted(found, key=lambda m: m.created_at or 0, reverse=True)

    def status(self, deployment_id: str, group: Optional[str] = None) -> str:
        """The deployment's status now, as Neomaril's ``status(model_hash)``.

        Example::

            if models.status(model_id) == "Failed":
                print(models.get_model(model_id).message)
        """
        return self.get_model(deployment_id, group).status


class ForjaModel(WaitsOnJob):
    """One deployment: its fields as attributes and what can be done with it.

    Attributes (refreshed by every call that reads the deployment, and by :meth:`refresh`):
    ``id``, ``name``, ``group``, ``status`` (``Uploaded``, ``Building``, ``Deployed``,
    ``Failed``, ``Disabled``), ``message`` (why it failed, or what the build is doing),
    ``operation``, ``kind`` (``script``, ``pyfunc``, ``pickle``), ``source`` (``files`` or the
    ``models:/`` URI), ``model_version``, ``entrypoint``, ``predict_method``,
    ``python_version``, ``files``, ``has_secrets``, ``schema`` (the sample), ``settings``,
    ``environment``, ``build_job_id``, ``created_by``, ``created_at``, ``updated_at``,
    ``deployed_at`` (milliseconds since the epoch). ``data`` is the server's JSON.

    An ``operation == "async"`` model takes files: :meth:`predict` (or :meth:`execute`) uploads
    one and returns a :class:`ForjaExecution`; :meth:`executions` and :meth:`get_execution`
    find earlier ones.

    Example::

        model = models.get_model(model_id)
        print(model)                         # ForjaModel(name='credit', id='01J…', status='Deployed', group='default')
        print(model({"income": 1200, "age": 31}))
    """

    def __init__(self, models: ModelClient, data: JSON) -> None:
        self._models = models
        self._token: Optional[str] = None
        self.data: JSON = data

    # -- fields -----------------------------------------------------------------------------

    id = _Field[str]("id")
    name = _Field[str]("name")
    group = _Field[str]("group")
    status = _Field[str]("status")
    message = _Field[Optional[str]]("message", None)
    operation = _Field[str]("operation", "sync")
    kind = _Field[str]("kind", "script")
    source = _Field[Optional[str]]("source", None)
    model_version = _Field[Optional[JSON]]("modelVersion", None)
    entrypoint = _Field[Optional[str]]("entrypoint", None)
    predict_method = _Field[Optional[str]]("predictMethod", None)
    python_version = _Field[str]("pythonVersion", "")

    @property
    def files(self) -> List[JSON]:
        return self.data.get("files") or []

    @property
    def has_secrets(self) -> bool:
        return bool(self.data.get("hasSecrets"))

    schema = _Field[Any]("schemaSample", None)

    @property
    def settings(self) -> JSON:
        return self.data.get("settings") or {}

    environment = _Field[Optional[str]]("environment", None)
    build_job_id = _Field[Optional[str]]("buildJobId", None)
    created_by = _Field[Optional[str]]("createdBy", None)
    created_at = _Field[Optional[int]]("createdAt", None)
    updated_at = _Field[Optional[int]]("updatedAt", None)
    deployed_at = _Field[Optional[int]]("deployedAt", None)

    def __repr__(self) -> str:
        return f"ForjaModel(name={self.name!r}, id={self.id!r}, status={self.status!r}, group={self.group!r})"

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def _client(self) -> Client:
        return self._models.client

    def _call(self, method: str, suffix: str = "", **kwargs: Any) -> Any:
        return self._client._call(method, _path(self.id) + suffix, group=self.group, **kwargs)

    def _update(self, data: JSON) -> "ForjaModel":
        self.data = data
        return self

    # -- state ------------------------------------------------------------------------------

    def refresh(self) -> "ForjaModel":
        """Reads the deployment again and returns it.

        Example::

            print(model.refresh().status)
        """
        return self._update(self._call("GET"))

    def info(self) -> JSON:
        """The deployment as the server describes it now (Neomaril's ``info()``), as a dict.

        Example::

            print(model.info()["settings"]["maxWorkers"])
        """
        return self.refresh().data

    def wait_ready(self, timeout: float = 900, verbose: bool = False) -> "ForjaModel":
        """Waits for the build to end and returns the model, ``Deployed``.

        It long-polls the build job (the server answers the moment the build ends), with
        short polls first and longer ones after, so a quick build returns at once and a long
        one costs a request every half minute. With ``verbose=True`` the new build log lines
        are printed as they come. Raises :class:`~forja.DeploymentFailed` with the server's
        reason if the build fails (e.g. the installer's "not found" lines), and
        :class:`~forja.DeploymentTimeout` after ``timeout`` seconds (the build goes on).

        Example::

            model = models.create_model(..., wait_for_ready=False)
            model.wait_ready(timeout=1800, verbose=True)
        """
        self._wait_on_job(timeout, verbose)
        if self.status == "Failed":
            raise self._failure(self.message or "see its build log", self.build_job_id)
        return self

    _PENDING = PENDING
    _JOB_KEY = "buildJobId"
    _JOB_NAME = "build job"

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        return DeploymentFailed(message, self.id, self.name, job_id, self)

    def _no_job(self) -> ForjaError:
        return ForjaError(f"Deployment {self.name!r} is {self.status} and has no build: call rebuild()")

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return DeploymentTimeout(
            f"Deployment {self.name!r} is still {self.status} after {timeout:g}s ({self.message or 'no message'}); "
            f"the build goes on: call wait_ready() again, or follow it with `forja jobs logs {job_id} --follow`",
            self.id,
            job_id,
        )

    # -- predicting -------------------------------------------------------------------------

    def set_token(self, token: Optional[str]) -> None:
        """Predicts with this token (e.g. the group's token, which may only call models)
        instead of the client's; ``None`` goes back to the client's.

        Example::

            model.set_token(os.environ["GROUP_TOKEN"])
            model.predict({"income": 1200, "age": 31})
        """
        self._token = token or None

    def predict(self, data: Any, *, wait_complete: bool = False, timeout: float = EXECUTION_WAIT) -> Any:
        """Calls the model and returns its answer, parsed from JSON; on an async model, starts
        an execution on a file and returns it.

        **Async models** (``operation == "async"``): ``data`` is the path of the input file
        (``.csv``, ``.parquet``, ``.json``… whatever the scorer reads); it is uploaded and the
        :class:`ForjaExecution` is returned at once, ``Requested`` (with ``wait_complete=True``,
        once it has ended: see :meth:`execute`).

        **Sync models**: ``data`` is sent as JSON as it is: a dict (one row, or ``{"Input": …}``), a list of
        records, or MLflow's ``{"dataframe_split": …}``. A pandas DataFrame is sent as
        ``{"dataframe_split": {"columns", "data"}}`` (NaN as null). JSON text is sent as it is,
        and a path (str or ``Path``) to a ``.json`` file sends that file's content. A script model gets the body as the string
        ``data`` of ``score(data, base_path)``; registered models answer ``{"predictions": […]}``.

        Errors: :class:`~forja.ModelError` when the model's code raised (its message names the
        exception; the traceback is in :meth:`get_logs`), :class:`~forja.InvalidArgument` when a
        row does not match the schema, :class:`~forja.Conflict` when the deployment is disabled
        or not built, :class:`~forja.ServerError` when a worker crashed or timed out (after
        retries).

        Example::

            model.predict({"income": 1200, "age": 31})
            model.predict([{"income": 1200, "age": 31}, {"income": 800, "age": 22}])
            model.predict(pd.DataFrame({"income": [1200, 800], "age": [31, 22]}))

            execution = batch_model.predict("applicants.csv")     # an async model
            execution.wait_ready().download_result("scores.csv")
        """
        if self.operation == "async":
            return self.execute(data, wait_complete=wait_complete, timeout=timeout)
        return self._call("POST", "/predict", json=_request_body(data), token=self._token)

    # -- MLflow's scoring contract ----------------------------------------------------------

    @property
    def invocations_url(self) -> str:
        """The URL of this deployment's MLflow ``/invocations``: what a client written for
        ``mlflow models serve`` (or a dashboard) posts to, with ``Authorization: Bearer …`` —
        or without a token when the deployment is public (``settings["public"]``).

        Example::

            requests.post(model.invocations_url, json={"inputs": {"x": [1, 2]}}, headers=...)
        """
        return f"{self._client.base_url}{_path(self.id)}/invocations"

    def invoke(self, data: Any, format: str = "dataframe_split", *, params: Optional[JSON] = None) -> JSON:
        """Calls the model's MLflow ``/invocations`` with a body in one of MLflow's formats and
        returns its answer as ``mlflow models serve`` gives it: ``{"predictions": …}``.

        ``format`` is one of:

        - ``"dataframe_split"`` (the default) and ``"dataframe_records"``: ``data`` is a pandas
          DataFrame or a list of records (dicts);
        - ``"inputs"``: a DataFrame (sent as columns), a dict of column → values, a list of
          records, or a list of lists / numpy array (a tensor, for a model without a signature);
        - ``"instances"``: a DataFrame (sent as records), a list of records, or a list of lists;
        - ``"csv"``: a DataFrame, sent as ``text/csv`` with a header row (``params`` cannot go with it).

        ``params`` goes beside the data as MLflow's ``{"params": …}`` (a model whose signature
        has parameters receives them). Errors are MLflow's, as :class:`~forja.InvalidArgument`
        (status 400: the body does not fit the signature, or the model raised) with MLflow's
        ``error_code`` as ``code``.

        Example::

            model.invoke(frame)                                     # dataframe_split
            model.invoke(frame.to_dict("records"), format="dataframe_records")
            model.invoke({"x": [1.0, 2.0], "y": [3.0, 4.0]}, format="inputs")
            model.invoke([[5.1, 3.5, 1.4, 0.2]], format="inputs")    # a tensor
            model.invoke(frame, format="csv")
        """
        path = _path(self.id) + "/invocations"
        if format == "csv":
            if not _is_dataframe(data):
                raise TypeError(f"format='csv' takes a pandas DataFrame, not {type(data).__name__}")
            if params is not None:
                raise ValueError("MLflow's CSV bodies carry no params: send format='dataframe_split' with params")
            return self._client._core.post_bytes(
                path, token=self._token or self._client.token, group=self.group, content=data.to_csv(index=False).encode("utf-8"), content_type="text/csv"
            )
        body: JSON = {format: _mlflow_input(data, format)}
        if params is not None:
            body["params"] = _plain_json(params)
        return self._call("POST", "/invocations", json=body, token=self._token)

    # -- async executions -------------------------------------------------------------------

    def execute(self, data_path: PathLike, wait_complete: bool = False, *, timeout: float = EXECUTION_WAIT, verbose: Optional[bool] = None) -> "ForjaExecution":
        """Starts an execution of this async model on a file and returns it, ``Requested``.

        The file is streamed to the server, which runs the scorer's ``score(data_path,
        model_path)`` on it in a fresh process (a durable job: it survives a server restart).
        With ``wait_complete=True`` it returns once the execution has ended, as
        :meth:`ForjaExecution.wait_ready` does (raising :class:`~forja.ExecutionFailed` if it
        failed). The file is sent under its own name (a leading dot dropped).

        Raises :class:`FileNotFoundError` for a missing file, :class:`~forja.ForjaError` on a
        sync model (call :meth:`predict` with JSON rows), :class:`~forja.Conflict` when the
        deployment is not ``Deployed``, :class:`~forja.PermissionDenied` for a viewer or a group
        token (starting an execution needs an editor; the upload uses the :meth:`set_token`
        token when there is one).

        Example::

            execution = model.execute("applicants.csv")
            print(execution.id, execution.status)      # 01J… Requested
        """
        if self.operation != "async":
            raise ForjaError(f"Deployment {self.name!r} is synchronous: call predict() with JSON rows, not a file")
        if not isinstance(data_path, (str, os.PathLike)):
            hint = " (write it first, e.g. frame.to_csv('data.csv', index=False))" if _is_dataframe(data_path) else ""
            raise TypeError(f"an async model takes the path of its input file, not {type(data_path).__name__}{hint}")
        file = Path(data_path)
        if not file.is_file():
            raise FileNotFoundError(f"data_path: {file} is not a file")
        name = file.name.lstrip(".") or "input"
        created = self._client._multipart(_path(self.id) + "/executions", {}, [("input", name, lambda: file.open("rb"))], group=self.group, token=self._token)
        execution = ForjaExecution(self, created)
        if wait_complete:
            execution.wait_ready(timeout=timeout, verbose=verbose)
        return execution

    def get_execution(self, execution_id: str) -> "ForjaExecution":
        """The execution with this id (MLOps Codex's ``get_model_execution``). Raises
        :class:`~forja.NotFound` if this model has none with that id.

        Example::

            execution = model.get_execution("01J…")
            if execution.status == "Succeeded":
                execution.download_result()
        """
        return ForjaExecution(self, self._call("GET", f"/executions/{_segment(execution_id, 'execution id')}"))

    def get_model_execution(self, execution_id: str) -> "ForjaExecution":
        """MLOps Codex's name for :meth:`get_execution`.

        Example::

            model.get_model_execution(execution_id).wait_ready()
        """
        return self.get_execution(execution_id)

    def executions(self) -> List["ForjaExecution"]:
        """This model's executions, newest first (the last 500).

        Example::

            for execution in model.executions():
                print(execution.id, execution.status, execution.input_name)
        """
        return [ForjaExecution(self, e) for e in self._call("GET", "/executions")["items"]]

    def post_labels(
        self,
        labels: Optional[Sequence[Mapping[str, Any]]] = None,
        *,
        key: Optional[str] = None,
        table: Optional[str] = None,
        label_column: Optional[str] = None,
        filter: Optional[str] = None,
    ) -> JSON:
        """Posts ground truth for logged predictions; returns ``{"accepted", "table"}``.

        Three ways: ``labels=[{"requestId": …, "row": 0, "label": …}]`` (the ``X-Request-Id`` a
        prediction answered with, and the row within it); ``key="customer_id",
        labels=[{"key": …, "label": …}]`` (a column of the logged inputs); or ``table=…, key=…,
        label_column=…`` (a lake table of the group, optionally filtered). A label for a request or
        key the inference log does not hold raises :class:`~forja.InvalidArgument` naming it; a
        row labelled again takes the newer label.

        Example::

            model.post_labels([{"requestId": rid, "label": 1}])
            model.post_labels([{"key": "c-17", "label": 0}], key="customer_id")
            model.post_labels(table="outcomes", key="customer_id", label_column="churned")
        """
        body: JSON
        if table is not None:
            if key is None or label_column is None or labels is not None:
                raise ValueError("labels from a table need key and label_column (and no labels list)")
            body = {"table": table, "key": key, "labelColumn": label_column}
            if filter is not None:
                body["filter"] = filter
        else:
            if labels is None:
                raise ValueError("pass labels (a list of dicts), or table with key and label_column")
            body = {"labels": [dict(item) for item in labels]}
            if key is not None:
                body["key"] = key
        return self._call("POST", "/labels", json=body)

    def __call__(self, data: Any) -> Any:
        """Shorthand for :meth:`predict`, as Neomaril's ``model(data)``.

        Example::

            scores = model({"income": 1200, "age": 31})
        """
        return self.predict(data)

    # -- logs and code ----------------------------------------------------------------------

    def get_logs(self) -> str:
        """What the deployment's workers printed (its runtime log), tracebacks included.

        Example::

            print(model.get_logs()[-2000:])
        """
        return self._call("GET", "/logs")["runtime"]

    def build_logs(self) -> List[str]:
        """The lines of the last build's log: the safety scan, the environment, the test call.

        Example::

            for line in model.build_logs():
                print(line)
        """
        job_id = self.refresh().build_job_id
        return job_log(self._client, self.group, job_id) if job_id else []

    def generate_predict_code(self, language: str = "curl") -> str:
        """Ready-to-run code that calls this model: ``"curl"``, ``"python"`` or
        ``"typescript"`` (``"javascript"`` gives the TypeScript, which is plain JavaScript).
        It reads the token from ``FORJA_TOKEN`` and sends the schema sample.

        Example::

            print(model.generate_predict_code("python"))
        """
        key = LANGUAGES.get(language.lower())
        if key is None:
            raise ValueError(f"language must be one of curl, python, typescript (got {language!r})")
        return self._call("GET", "/code")[key]

    def stats(self) -> JSON:
        """This server's workers for the deployment: ``{"workers", "busy", "queued", "served",
        "calls", "failed", "restarts"}``.

        Example::

            print(model.stats()["served"])
        """
        return self._call("GET", "/stats")

    # -- monitoring -------------------------------------------------------------------------

    def register_monitoring(
        self,
        preprocess_reference: Optional[str],
        shap_reference: Optional[str],
        configuration_file: Union[PathLike, Mapping[str, Any]],
        preprocess_file: Optional[PathLike] = None,
        requirements_file: Optional[PathLike] = None,
        wait_complete: bool = False,
        **options: Any,
    ) -> Any:
        """MLOps Codex's ``model.register_monitoring``: a monitor of this deployment set up by
        Codex's ``configuration.json``; returns the :class:`~forja.Monitor`. See
        :meth:`forja.MonitoringClient.register_monitoring` for the arguments.

        Example::

            monitor = model.register_monitoring("parse", "get_shap", "configuration.json", "preprocess.py")
            print(monitor.run().drift_report())
        """
        from .monitoring import MonitoringClient  # monitoring imports this module

        return MonitoringClient(self._client).register_monitoring(
            self, preprocess_reference, shap_reference, configuration_file, preprocess_file, requirements_file, wait_complete, **options
        )

    def usage(self, start: Optional[int] = None, end: Optional[int] = None, step: Optional[str] = None) -> JSON:
        """Calls, errors and latency percentiles (ms) of every sync call, every server counted:
        ``{"step", "points": [{"t", "calls", "errors", "p50", "p95", "p99"}], "totals", "firstCallAt"}``.
        ``start`` and ``end`` are epoch milliseconds (default: the last 24 hours), ``step``
        ``"minute"``, ``"hour"`` or ``"day"`` (default: at most ~500 points).

        Example::

            import time
            week = model.usage(start=int(time.time() * 1000) - 7 * 86_400_000, step="day")
            print(week["totals"]["calls"], week["totals"]["p95"])
        """
        params = {k: v for k, v in (("from", start), ("to", end), ("step", step)) if v is not None}
        return self._call("GET", "/usage", params=params)

    def inference_log(self) -> JSON:
        """The inference log's lake table, settings (``sampleRate``, ``retentionDays``,
        ``executions``), row count, first and last logged call (epoch ms), and the calls this server
        ``dropped`` or holds ``pending``. Turn logging on with
        ``model.update_settings(inferenceLog={"sampleRate": 10})``.

        Example::

            print(model.inference_log()["table"], model.inference_log()["rows"])
        """
        return self._call("GET", "/inference-log")

    def inference_log_dataframe(self, filter_clause: Optional[str] = None, limit: Optional[int] = None) -> Any:
        """The logged calls as a pandas frame (one row per input row: ``request_id``,
        ``logged_at``, ``latency_ms``, ``model_version``, ``row_index``, the features, the
        prediction columns), read from the log's lake table like any table: ``filter_clause`` and
        ``limit`` as in :meth:`forja.GenericRepository.to_dataframe`. Raises
        :class:`~forja.NotFound` while nothing has been logged yet (rows reach the table ~2 s after
        the call).

        Example::

            df = model.inference_log_dataframe("logged_at >= '2026-12-01'")
            print(df.groupby("prediction").size())
        """
        from .lake import _from_parquet

        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive whole number (got {limit!r})")
        body: JSON = {"format": "parquet"}
        if filter_clause is not None and str(filter_clause).strip():
            body["filter"] = filter_clause
        if limit is not None:
            body["limit"] = limit
        table = self.inference_log()["table"]
        data = self._client._core.post_bytes(
            f"{API}/lake/tables/{_segment(table, 'table name')}/query",
            token=self._client.token,
            group=self.group,
            content=json.dumps(body).encode("utf-8"),
            content_type="application/json",
        )
        if not isinstance(data, (bytes, bytearray)):
            raise ForjaError(f"Expected a Parquet file reading {table!r}, got JSON: is the server older than this SDK?")
        return _from_parquet(data)

    # -- lifecycle --------------------------------------------------------------------------

    def update_settings(self, **settings: Any) -> "ForjaModel":
        """Changes ``minWorkers``, ``maxWorkers``, ``timeoutMs``, ``maxQueue``, ``maxBatch``,
        ``memoryMb`` or ``scorerPaths`` (``"folders"`` or ``"files"``: what an async scorer's
        ``score(data_path, model_path)`` gets), or the inference log (``inferenceLog={"sampleRate": 10, "retentionDays":
        30, "executions": True}``, its fields sent change alone); the others stay. The workers are
        replaced at the next call.

        Example::

            model.update_settings(maxWorkers=4, timeoutMs=10_000)
        """
        return self._update(self._call("PATCH", json={"settings": settings}))

    def disable(self) -> "ForjaModel":
        """Stops answering predictions (they get :class:`~forja.Conflict`) and stops the
        workers. Raises :class:`~forja.Conflict` if it is already disabled.

        Example::

            model.disable()
            print(model.status)   # Disabled
        """
        return self._update(self._call("POST", "/disable"))

    def enable(self) -> "ForjaModel":
        """Answers predictions again (``Deployed``; ``Failed`` if it was never built).

        Example::

            model.enable()
        """
        return self._update(self._call("POST", "/enable"))

    def rebuild(self, wait_for_ready: bool = True, *, verbose: Optional[bool] = None, timeout: float = 900) -> "ForjaModel":
        """Builds it again (Neomaril's ``restart_model``): the same files, a fresh check and
        test call. Raises :class:`~forja.Conflict` while a build is under way.

        Example::

            model.rebuild(verbose=True)
        """
        created = self._call("POST", "/rebuild")
        self._update(created["deployment"])
        if wait_for_ready:
            self.wait_ready(timeout=timeout, verbose=self._models.verbose if verbose is None else verbose)
        return self

    def restart_model(self, wait_for_ready: bool = True) -> "ForjaModel":
        """Neomaril's name for :meth:`rebuild`.

        Example::

            model.restart_model()
        """
        return self.rebuild(wait_for_ready)

    def delete(self) -> None:
        """Deletes the deployment and its files, at once (no question asked): its URL stops
        answering. A build under way is cancelled.

        Example::

            model.delete()
        """
        self._call("DELETE")
        self.data = {**self.data, "status": "Deleted"}


class ForjaExecution(WaitsOnJob):
    """One run of an async model on a file: MLOps Codex's ``MLOpsExecution``.

    Attributes (refreshed by :meth:`refresh` and :meth:`wait_ready`): ``id``, ``model`` (the
    :class:`ForjaModel`), ``deployment_id``, ``group``, ``status`` (``Requested``,
    ``Running``, ``Succeeded``, ``Failed``), ``message`` (why it failed), ``input_name``,
    ``input_size``, ``output_name``, ``output_size`` (once it succeeded), ``job_id`` (the
    durable job that runs it; its log is what the scorer printed), ``created_by``,
    ``created_at``, ``started_at``, ``finished_at`` (milliseconds since the epoch). ``data`` is
    the server's JSON.

    Example::

        execution = model.predict("applicants.csv")
        print(execution)          # ForjaExecution(id='01J…', model='batch', status='Requested', input='applicants.csv')
        execution.wait_ready()
        path = execution.download_result()       # ./scores.csv, the scorer's output
    """

    def __init__(self, model: ForjaModel, data: JSON) -> None:
        self.model = model
        self.data: JSON = data

    # -- fields -----------------------------------------------------------------------------

    id = _Field[str]("id")

    @property
    def deployment_id(self) -> str:
        return self.data.get("deploymentId") or self.model.id

    @property
    def group(self) -> str:
        return self.model.group

    status = _Field[str]("status")
    message = _Field[Optional[str]]("message", None)
    input_name = _Field[str]("inputName")
    input_size = _Field[Optional[int]]("inputSize", None)
    output_name = _Field[Optional[str]]("outputName", None)
    output_size = _Field[Optional[int]]("outputSize", None)
    job_id = _Field[Optional[str]]("jobId", None)
    created_by = _Field[Optional[str]]("createdBy", None)
    created_at = _Field[Optional[int]]("createdAt", None)
    started_at = _Field[Optional[int]]("startedAt", None)
    finished_at = _Field[Optional[int]]("finishedAt", None)

    def __repr__(self) -> str:
        output = f", output={self.output_name!r}" if self.output_name else ""
        return f"ForjaExecution(id={self.id!r}, model={self.model.name!r}, status={self.status!r}, input={self.input_name!r}{output})"

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def _client(self) -> Client:
        return self.model._client

    def _url(self, suffix: str = "") -> str:
        return f"{_path(self.deployment_id)}/executions/{_segment(self.id, 'execution id')}{suffix}"

    def _failed(self) -> ForjaError:
        return self._failure(self.message or "see its log (get_logs())", self.job_id)

    # -- state ------------------------------------------------------------------------------

    def refresh(self) -> "ForjaExecution":
        """Reads the execution again and returns it.

        Example::

            print(execution.refresh().status)
        """
        self.data = self._client._call("GET", self._url(), group=self.group)
        return self

    def get_status(self) -> str:
        """The status now (read again): ``Requested``, ``Running``, ``Succeeded`` or ``Failed``.

        Example::

            if execution.get_status() == "Failed":
                print(execution.message)
        """
        return self.refresh().status

    def wait_ready(self, timeout: float = EXECUTION_WAIT, verbose: Optional[bool] = None) -> "ForjaExecution":
        """Waits for the execution to end and returns it, ``Succeeded``.

        It long-polls the execution's job (the server answers the moment it ends), with short
        polls first and longer ones after: no fixed sleeps, a quick run returns at once and a
        long one costs a request every half minute. With ``verbose=True`` (default: the
        ``ModelClient``'s ``verbose``) what the scorer prints is printed as it comes.

        Raises :class:`~forja.ExecutionFailed` carrying the server's message (the end of the
        scorer's traceback) if it failed, and :class:`~forja.ExecutionTimeout` after
        ``timeout`` seconds (the execution goes on: call ``wait_ready()`` again).

        Example::

            execution = model.predict("applicants.csv")
            execution.wait_ready(timeout=600, verbose=True)
            print(execution.output_name, execution.output_size)
        """
        self._wait_on_job(timeout, self.model._models.verbose if verbose is None else verbose)
        if self.status == "Failed":
            raise self._failed()
        return self

    _PENDING = EXECUTION_PENDING

    def _what(self) -> str:
        return f"Execution {self.id} of {self.model.name!r}"

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        return ExecutionFailed(message, self.id, self.deployment_id, job_id, self)

    def _no_job(self) -> ForjaError:
        return ForjaError(f"Execution {self.id} is {self.status} and has no job")

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return ExecutionTimeout(self._goes_on(job_id, timeout), self.id, job_id)

    # -- result and logs --------------------------------------------------------------------

    def download_result(self, path: Optional[PathLike] = None) -> str:
        """Streams the output file to disk and returns its path: to ``path``, into ``path`` when
        it is a folder (or ends with a separator), or into the current folder under the output's
        own name when ``path`` is ``None``. The file appears only once complete.

        Raises :class:`~forja.ExecutionFailed` if the execution failed, and
        :class:`~forja.Conflict` while it is still running (call :meth:`wait_ready` first).

        Example::

            execution.wait_ready()
            scores = execution.download_result("out/")       # out/<output name>
            frame = pd.read_csv(scores)
        """
        if self.status != "Succeeded":
            self.refresh()
        if self.status == "Failed":
            raise self._failed()
        name = Path(self.output_name or f"{self.id}.out").name
        if path is None:
            target = Path.cwd() / name
        else:
            target = Path(path)
            if target.is_dir() or str(path).endswith(("/", os.sep)):
                target = target / name
        with self._client._download(self._url("/result"), {}, group=self.group) as download:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Written beside the target and renamed, so a cut-off download leaves no partial file.
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
            try:
                with partial.open("xb") as out:
                    for chunk in download.chunks(CHUNK_SIZE):
                        out.write(chunk)
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        return str(target)

    def get_logs(self) -> List[str]:
        """The lines of the execution's log: what the scorer printed (stdout and stderr),
        tracebacks included, and the job's own notes.

        Example::

            print(*execution.get_logs(), sep="\\n")
        """
        return job_log(self._client, self.group, self.job_id) if self.job_id else []


# -- helpers --------------------------------------------------------------------------------


def _path(deployment_id: str) -> str:
    return f"{DEPLOYMENTS}/{_segment(deployment_id, 'deployment id')}"


def _operation(operation: str) -> str:
    op = (operation or "").strip().lower()
    if op not in ("sync", "async"):
        raise ValueError(f"operation must be 'Sync' or 'Async' (got {operation!r})")
    return op


def _python_version(version: Optional[str]) -> str:
    """ "3.11", Neomaril's "Python311" / "Python3.11", or "" for the server's default."""
    text = (version or "").strip()
    match = re.fullmatch(r"(?i)python\s*-?(3)\.?(\d{1,2})", text)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    return text


def _unique_name(name: str, taken: List[str]) -> str:
    sent, n = name, 2
    while sent in taken:
        stem, dot, ext = name.partition(".")
        sent = f"{stem}-{n}{dot}{ext}"
        n += 1
    taken.append(sent)
    return sent


def _is_dataframe(value: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _frame_split(frame: Any) -> JSON:
    # pandas writes NaN as null, numpy numbers as numbers and dates as ISO strings.
    return json.loads(frame.to_json(orient="split", index=False, date_format="iso"))


def _plain_json(value: Any) -> Any:
    """numpy scalars and arrays as plain Python, so they can be sent as JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if _is_dataframe(value):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def _request_body(data: Any) -> Any:
    if _is_dataframe(data):
        return {"dataframe_split": _frame_split(data)}
    if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
        return json.loads(data)  # JSON text, sent as it is
    if isinstance(data, (str, os.PathLike)):
        file = Path(data)
        if not file.is_file():
            raise ValueError(f"predict() takes a dict, a list of records, a DataFrame, JSON text or a JSON file's path; {str(data)[:100]!r} is not a file")
        with file.open("rb") as f:
            return json.load(f)
    if isinstance(data, (Mapping, list, tuple)):
        return _plain_json(data)
    raise TypeError(f"predict() takes a dict, a list of records, a pandas DataFrame or a JSON file's path, not {type(data).__name__}")


MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "inputs", "instances", "csv")


def _mlflow_input(data: Any, format: str) -> Any:
    """``data`` as the value of MLflow's ``format`` key."""
    if format not in MLFLOW_FORMATS:
        raise ValueError(f"format must be one of {', '.join(MLFLOW_FORMATS)} (got {format!r})")
    frame = _is_dataframe(data)
    if format == "dataframe_split":
        if frame:
            return _frame_split(data)
        records = _plain_json(data)
        if not (isinstance(records, list) and all(isinstance(r, dict) for r in records)):
            raise TypeError("format='dataframe_split' takes a pandas DataFrame or a list of records")
        columns = list(dict.fromkeys(k for r in records for k in r))
        return {"columns": columns, "data": [[r.get(c) for c in columns] for r in records]}
    if format == "inputs" and frame:
        # MLflow's columnar form: one list per column.
        split = _frame_split(data)
        return {c: [row[i] for row in split["data"]] for i, c in enumerate(split["columns"])}
    return _plain_json(data)


def _schema_sample(schema: Any) -> Any:
    if isinstance(schema, (str, os.PathLike)):
        with Path(schema).open("rb") as f:
            return json.load(f)
    return _plain_json(schema)


def _requirements_text(requirements: Union[str, Sequence[str], PathLike]) -> str:
    if isinstance(requirements, os.PathLike) or (isinstance(requirements, str) and "\n" not in requirements and Path(requirements).is_file()):
        return Path(requirements).read_text(encoding="utf-8")
    if isinstance(requirements, str):
        return requirements
    return "\n".join(requirements)
