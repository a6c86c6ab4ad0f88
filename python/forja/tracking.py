"""Experiment tracking: experiments, runs, metrics, params, tags and artifacts.

:class:`ExperimentClient` offers the method names and arguments of DHuolib's experiment client
(``create_experiment``, ``execute_run_for_experiment``, ``search_experiments``,
``search_runs``) on top of Forja's native tracking API, plus the usual logging calls. Like the
rest of the SDK it returns the server's JSON with camelCase keys (``run["info"]["runId"]``); the
one exception is :meth:`ExperimentClient.execute_run_for_experiment`, whose answer keeps
DHuolib's keys so code written for DHuolib keeps working.

Metric values come back as Python floats, NaN and infinities included. ``tqdm`` (progress bars
for uploads and downloads) and ``pandas`` (``output_format="pandas"``) are used when installed:
``pip install 'forja[progress,pandas]'``.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from .client import API, JSON, Client, ClientOwner, _segment
from .exceptions import Conflict, ForjaError

__all__ = ["ExperimentClient", "ActiveRun"]

log = logging.getLogger("forja")

PathLike = Union[str, "os.PathLike[str]"]
# Tags and params: a mapping, or the API's own list of {"key", "value"} (as a run returns them).
KeyValues = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]

MODEL_DIR = "model"
CHUNK_SIZE = 1024 * 1024
HISTORY_PAGE = 10_000
# The server's limits for one log-batch request (TRACKING_LIMITS in the API contracts).
BATCH_MAX_PARAMS = 100
BATCH_MAX_TAGS = 100
BATCH_MAX_ITEMS = 1000
# The server clamps infinities to the largest double, as MLflow does. Reading that value back as
# infinity makes float("inf") round-trip; a finite value that large was clamped to it anyway.
MAX_DOUBLE = sys.float_info.max
OUTPUT_FORMATS = ("dict", "pandas")


class ActiveRun(Dict[str, Any]):
    """A run just started by :meth:`ExperimentClient.start_run`: the run as a dict
    (``{"info", "data", "inputs"}``) that also ends the run when used as a context manager.

    Leaving the ``with`` block marks the run ``FINISHED``; ``FAILED`` if an exception escapes it
    (``KILLED`` for Ctrl-C). ``run["info"]`` is updated with the final status.

    Example::

        with experiments.start_run(experiment_id, run_name="baseline") as run:
            experiments.log_param(run.run_id, "alpha", 0.5)
            experiments.log_metric(run.run_id, "rmse", 0.27)
        print(run["info"]["status"])   # FINISHED
    """

    def __init__(self, experiments: "ExperimentClient", run: JSON) -> None:
        super().__init__(run)
        self._experiments = experiments

    @property
    def run_id(self) -> str:
        """The run's id (``run["info"]["runId"]``)."""
        return self["info"]["runId"]

    def __enter__(self) -> "ActiveRun":
        return self

    # Pickles (for multiprocessing, say) as the plain dict: the client's connection cannot travel.
    def __reduce__(self) -> Any:
        return (dict, (dict(self),))

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        try:
            self["info"] = self._experiments.end_run(self.run_id, status)
        except ForjaError:
            if exc_type is None:
                raise
            # The block's own exception explains more than a failure to record it: let it through.
            log.warning("forja: could not mark run %s %s", self.run_id, status, exc_info=True)


class ExperimentClient(ClientOwner):
    """Experiments and runs, with DHuolib's method names.

    Pass a :class:`~forja.Client` to share its connection and login, or the same arguments as
    ``Client`` (URL, token, group, ``timeout=``, ``retries=``…) to open a connection of its own.
    Experiments are created in the client's group (``group``, ``FORJA_GROUP``, else your default
    group). ``progress=False`` turns off the tqdm progress bars of uploads and downloads (they
    only show on a terminal or in a notebook, and only when tqdm is installed).

    Example::

        import forja

        experiments = forja.ExperimentClient("http://127.0.0.1:5050", token="fjp_…", group="vision")
        result = experiments.execute_run_for_experiment(
            type_model="RANDOM_FOREST",
            experiment_name="iris",
            modelpkl_path="model.pkl",
            requirements_path="requirements.txt",
        )
        print(result["model_uri"])   # runs:/3f2a…/model
    """

    def __init__(
        self,
        client_or_url: Union[Client, str, None] = None,
        token: Optional[str] = None,
        group: Optional[str] = None,
        *,
        progress: bool = True,
        **client_options: Any,
    ) -> None:
        super().__init__(client_or_url, token, group, **client_options)
        self.progress = progress

    # -- experiments ------------------------------------------------------------------------

    def create_experiment(self, experiment_name: str, experiment_tags: Optional[KeyValues] = None) -> str:
        """Creates an experiment in the client's group and returns its id (a string of digits).

        As in DHuolib, a name that is already taken in the group is not an error: the existing
        experiment's id comes back, with its tags left as they were. That includes a deleted
        experiment, whose name stays taken until it is deleted permanently; starting runs in it
        raises :class:`~forja.InvalidArgument` until it is restored.

        Example::

            experiment_id = experiments.create_experiment("iris", {"team": "vision"})
            assert experiments.create_experiment("iris") == experiment_id
        """
        body = {"name": experiment_name, "tags": _pairs(experiment_tags)}
        try:
            return self.client.request("POST", f"{API}/experiments", json=body)["experimentId"]
        except Conflict as err:
            if err.code != "ALREADY_EXISTS":
                raise
            # The server trims names before storing them; look up what it stored.
            return self.get_experiment_by_name(experiment_name.strip())["experimentId"]

    def get_experiment(self, experiment_id: str) -> JSON:
        """An experiment: ``{"experimentId", "name", "group", "artifactLocation",
        "lifecycleStage", "creationTime", "lastUpdateTime", "tags": [{"key", "value"}]}``.

        Example::

            print(experiments.get_experiment("12")["name"])
        """
        return self.client.request("GET", f"{API}/experiments/{_segment(str(experiment_id), 'experiment id')}")

    def get_experiment_by_name(self, name: str) -> JSON:
        """The experiment of the client's group with this name; :class:`~forja.NotFound` if none.

        Example::

            experiment_id = experiments.get_experiment_by_name("iris")["experimentId"]
        """
        return self.client.request("GET", f"{API}/experiments/by-name/{_segment(name, 'experiment name')}")

    def search_experiments(
        self,
        filter_string: Optional[str] = None,
        max_results: int = 1000,
        page_token: Optional[str] = None,
        order_by: Optional[Sequence[str]] = None,
        view_type: str = "ACTIVE_ONLY",
        output_format: str = "dict",
    ) -> Any:
        """One page of the group's experiments: ``{"experiments": [...], "nextPageToken": ...}``
        (no token on the last page).

        ``filter_string`` uses MLflow's grammar plus ``OR``, ``NOT`` and parentheses, e.g.
        ``"name LIKE 'iris%' AND tags.team = 'vision'"``; a mistake raises
        :class:`~forja.InvalidArgument` whose message and ``details["position"]`` say where.
        ``view_type`` is ``"ACTIVE_ONLY"``, ``"DELETED_ONLY"`` or ``"ALL"``. With
        ``output_format="pandas"`` the page is a DataFrame (one row per experiment, a
        ``tags.<key>`` column per tag) and the next page's token is in
        ``frame.attrs["nextPageToken"]``.

        Example::

            page = experiments.search_experiments("name LIKE 'iris%'", max_results=50, order_by=["name"])
            while True:
                for e in page["experiments"]:
                    print(e["experimentId"], e["name"])
                if "nextPageToken" not in page:
                    break
                page = experiments.search_experiments("name LIKE 'iris%'", 50, page["nextPageToken"], ["name"])
        """
        _check_format(output_format)
        body = _without_none(
            filter=filter_string,
            orderBy=list(order_by or []),
            viewType=view_type,
            maxResults=max_results,
            pageToken=page_token,
        )
        page = self.client.request("POST", f"{API}/experiments/search", json=body)
        if output_format == "pandas":
            return _frame([_flatten(e, tags=e["tags"]) for e in page["experiments"]], page)
        return page

    # -- runs -------------------------------------------------------------------------------

    def execute_run_for_experiment(
        self,
        type_model: str,
        experiment_name: str,
        modelpkl_path: PathLike,
        requirements_path: PathLike,
        tags: Optional[KeyValues] = None,
    ) -> Dict[str, str]:
        """DHuolib's one-call model run: creates the experiment if needed, starts a run tagged
        ``type_model`` (plus ``tags``; ``type_model`` wins over a tag of that name), uploads the pickle as ``model/model.pkl`` and the
        requirements as ``model/requirements.txt``, and marks the run ``FINISHED`` (``FAILED``
        if an upload fails).

        Returns ``{"experiment_name", "run_id", "model_uri"}`` with ``model_uri`` =
        ``runs:/<run_id>/model``, DHuolib's keys. Both files are checked before anything is
        created: a missing one raises :class:`FileNotFoundError`, an empty ``type_model`` or
        ``experiment_name`` :class:`ValueError`. Uploads are streamed, never read whole.

        Example::

            import pickle
            with open("model.pkl", "wb") as f:
                pickle.dump(model, f)
            result = experiments.execute_run_for_experiment("RANDOM_FOREST", "iris", "model.pkl", "requirements.txt")
            local = experiments.download_artifacts(result["run_id"], "model/model.pkl", "downloads")
        """
        for value, what in ((type_model, "type_model"), (experiment_name, "experiment_name")):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{what} must be a non-empty string")
        model, requirements = Path(modelpkl_path), Path(requirements_path)
        for file, what in ((model, "modelpkl_path"), (requirements, "requirements_path")):
            if not file.is_file():
                raise FileNotFoundError(f"{what}: no such file: {file}")
        experiment_id = self.create_experiment(experiment_name)
        run_tags = [t for t in _pairs(tags) if t["key"] != "type_model"] + [{"key": "type_model", "value": type_model}]
        with self.start_run(experiment_id, tags=run_tags) as run:
            self._upload(run.run_id, model, f"{MODEL_DIR}/model.pkl")
            self._upload(run.run_id, requirements, f"{MODEL_DIR}/requirements.txt")
        return {"experiment_name": experiment_name, "run_id": run.run_id, "model_uri": f"runs:/{run.run_id}/{MODEL_DIR}"}

    def start_run(self, experiment_id: str, run_name: Optional[str] = None, tags: Optional[KeyValues] = None) -> ActiveRun:
        """Starts a run (status ``RUNNING``) and returns it as an :class:`ActiveRun`.

        In a ``with`` block the run ends ``FINISHED``, or ``FAILED`` when an exception escapes;
        otherwise end it yourself with :meth:`end_run`. Without ``run_name`` the server picks
        one. ``experiment_id`` ``"0"`` is the group's ``Default`` experiment.

        Example::

            with experiments.start_run(experiment_id, run_name="baseline", tags={"team": "vision"}) as run:
                for epoch, loss in enumerate(train()):
                    experiments.log_metric(run.run_id, "loss", loss, step=epoch)
        """
        body: JSON = {"experimentId": str(experiment_id), "tags": _pairs(tags)}
        if run_name:
            body["runName"] = run_name
        return ActiveRun(self, _decode_run(self.client.request("POST", f"{API}/runs", json=body)))

    def end_run(self, run_id: str, status: str = "FINISHED", end_time: Optional[int] = None) -> JSON:
        """Sets a run's final status (``"FINISHED"``, ``"FAILED"`` or ``"KILLED"``) and end time
        (epoch ms, default now); returns its ``info``.

        Example::

            run = experiments.start_run(experiment_id)
            ...
            experiments.end_run(run.run_id, "KILLED")
        """
        body = {"status": status, "endTime": _now_ms() if end_time is None else int(end_time)}
        return self.client.request("PATCH", self._run_path(run_id), json=body)

    def get_run(self, run_id: str) -> JSON:
        """A run: ``{"info": {"runId", "runName", "experimentId", "userId", "status",
        "startTime", "endTime", "artifactUri", "lifecycleStage"}, "data": {"metrics", "params",
        "tags"}, "inputs": {...}}``. ``data["metrics"]`` holds each metric's latest value as
        ``{"key", "value", "timestamp", "step"}``; params and tags are ``{"key", "value"}``.
        An unknown run raises :class:`~forja.NotFound`.

        Example::

            run = experiments.get_run(run_id)
            metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        """
        return _decode_run(self.client.request("GET", self._run_path(run_id)))

    def search_runs(
        self,
        experiment_ids: Union[str, Sequence[str], None] = None,
        filter_string: Optional[str] = None,
        order_by: Optional[Sequence[str]] = None,
        max_results: int = 1000,
        page_token: Optional[str] = None,
        columns: Optional[Sequence[str]] = None,
        *,
        experiment_names: Union[str, Sequence[str], None] = None,
        view_type: str = "ACTIVE_ONLY",
        output_format: str = "dict",
    ) -> Any:
        """One page of the runs of some experiments, named by id and/or by name:
        ``{"runs": [...], "nextPageToken": ...}`` (no token on the last page).

        ``filter_string`` uses MLflow's grammar plus ``OR``, ``NOT``, parentheses and
        ``IS NULL``, e.g. ``"metrics.rmse < 0.3 AND params.alpha = '0.5'"``; ``order_by`` e.g.
        ``["metrics.rmse ASC", "attributes.start_time DESC"]``. ``columns`` keeps only some
        data, e.g. ``["metrics.rmse", "params.*"]``. An unknown experiment name raises
        :class:`~forja.NotFound`. With ``output_format="pandas"`` the page is a DataFrame: the
        ``info`` fields, then a ``metrics.<key>``, ``params.<key>`` and ``tags.<key>`` column
        each; the next token is in ``frame.attrs["nextPageToken"]``.

        Example::

            page = experiments.search_runs(experiment_names="iris", filter_string="metrics.rmse < 0.3",
                                           order_by=["metrics.rmse"], max_results=10)
            best = page["runs"][0]["info"]["runId"]
            frame = experiments.search_runs(["12", "13"], output_format="pandas")
        """
        _check_format(output_format)
        ids = [str(i) for i in _as_list(experiment_ids)]
        ids += [self.get_experiment_by_name(name)["experimentId"] for name in _as_list(experiment_names)]
        if not ids:
            raise ValueError("name the experiments to search with experiment_ids or experiment_names")
        body = _without_none(
            experimentIds=ids,
            filter=filter_string,
            orderBy=list(order_by or []),
            viewType=view_type,
            maxResults=max_results,
            pageToken=page_token,
            columns=None if columns is None else list(columns),
        )
        page = self.client.request("POST", f"{API}/runs/search", json=body)
        runs = [_decode_run(r) for r in page["runs"]]
        if output_format == "pandas":
            rows = [_flatten(r["info"], metrics=r["data"]["metrics"], params=r["data"]["params"], tags=r["data"]["tags"]) for r in runs]
            return _frame(rows, page)
        return page

    # -- logging ----------------------------------------------------------------------------

    def log_metric(self, run_id: str, key: str, value: float, step: int = 0, timestamp: Optional[int] = None) -> None:
        """Logs one value of a metric at ``step``; ``timestamp`` is epoch ms (default now).
        NaN and ±infinity are kept and come back as such.

        Example::

            experiments.log_metric(run_id, "loss", 0.42, step=3)
        """
        self.log_batch(run_id, metrics=[{"key": key, "value": value, "step": step, "timestamp": timestamp}])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0, timestamp: Optional[int] = None) -> None:
        """Logs several metrics at the same step and time, in one request.

        Example::

            experiments.log_metrics(run_id, {"precision": 0.91, "recall": 0.87}, step=10)
        """
        stamp = _now_ms() if timestamp is None else timestamp
        self.log_batch(run_id, metrics=[{"key": k, "value": v, "step": step, "timestamp": stamp} for k, v in metrics.items()])

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """Logs a parameter; the value is stored as ``str(value)``. A param cannot change: logging
        another value for the same key raises :class:`~forja.InvalidArgument`.

        Example::

            experiments.log_param(run_id, "n_estimators", 200)
        """
        self.log_batch(run_id, params={key: value})

    def log_params(self, run_id: str, params: KeyValues) -> None:
        """Logs several parameters in one request.

        Example::

            experiments.log_params(run_id, {"max_depth": 8, "criterion": "gini"})
        """
        self.log_batch(run_id, params=params)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Sets a run tag, replacing any earlier value; the value is stored as ``str(value)``.

        Example::

            experiments.set_tag(run_id, "stage", "candidate")
        """
        self.log_batch(run_id, tags={key: value})

    def set_tags(self, run_id: str, tags: KeyValues) -> None:
        """Sets several run tags in one request.

        Example::

            experiments.set_tags(run_id, {"team": "vision", "dataset": "iris-v2"})
        """
        self.log_batch(run_id, tags=tags)

    def log_batch(
        self,
        run_id: str,
        metrics: Optional[Iterable[Mapping[str, Any]]] = None,
        params: Optional[KeyValues] = None,
        tags: Optional[KeyValues] = None,
    ) -> None:
        """Logs metrics (``{"key", "value", "step"?, "timestamp"?}`` each), params and tags.

        A batch within the server's limits (1000 items, at most 100 params and 100 tags) is
        stored in one transaction: all or nothing. A larger one is sent as several requests,
        params first, and a failure leaves the earlier requests stored.

        Example::

            experiments.log_batch(
                run_id,
                metrics=[{"key": "loss", "value": v, "step": i} for i, v in enumerate(losses)],
                params={"lr": 0.01},
                tags={"optimizer": "adam"},
            )
        """
        now = _now_ms()
        pending_metrics = [
            {
                "key": m["key"],
                "value": _encode_value(m["value"]),
                "step": int(m.get("step") or 0),
                "timestamp": now if m.get("timestamp") is None else int(m["timestamp"]),
            }
            for m in metrics or ()
        ]
        pending_params, pending_tags = _pairs(params), _pairs(tags)
        path = f"{self._run_path(run_id)}/batch"
        while pending_metrics or pending_params or pending_tags:
            batch_params, pending_params = pending_params[:BATCH_MAX_PARAMS], pending_params[BATCH_MAX_PARAMS:]
            batch_tags, pending_tags = pending_tags[:BATCH_MAX_TAGS], pending_tags[BATCH_MAX_TAGS:]
            room = BATCH_MAX_ITEMS - len(batch_params) - len(batch_tags)
            batch_metrics, pending_metrics = pending_metrics[:room], pending_metrics[room:]
            self.client.request("POST", path, json={"metrics": batch_metrics, "params": batch_params, "tags": batch_tags})

    def get_metric_history(self, run_id: str, key: str) -> List[JSON]:
        """Every logged value of a metric, ordered by step then time:
        ``[{"key", "value", "timestamp", "step"}]``.

        Example::

            losses = [m["value"] for m in experiments.get_metric_history(run_id, "loss")]
        """
        path = f"{self._run_path(run_id)}/metrics/{_segment(key, 'metric key')}/history"
        history: List[JSON] = []
        token: Optional[str] = None
        while True:
            page = self.client.request("GET", path, params={"maxResults": HISTORY_PAGE, "pageToken": token})
            history.extend(_decode_metric(m) for m in page["metrics"])
            token = page.get("nextPageToken")
            if not token:
                return history

    # -- artifacts --------------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: PathLike, artifact_path: Optional[str] = None) -> List[JSON]:
        """Uploads a file, or a directory with everything under it, to the run's artifacts.

        A file lands at ``<artifact_path>/<file name>``; a directory at
        ``<artifact_path>/<directory name>/…`` (as MLflow's ``log_artifact`` does). Files are
        streamed from disk with a progress bar when tqdm is installed. Returns one
        ``{"path", "size"}`` per file uploaded. A path with ``..`` or a leading ``/`` raises
        :class:`~forja.InvalidArgument`; a file already there is replaced.

        Example::

            experiments.log_artifact(run_id, "confusion.png", artifact_path="plots")
            experiments.log_artifact(run_id, "checkpoints/")   # -> checkpoints/…
        """
        source = Path(local_path)
        if source.is_dir():
            root = _artifact_join(artifact_path, source.resolve().name)
            files = sorted(p for p in source.rglob("*") if p.is_file())
            return [self._upload(run_id, f, _artifact_join(root, *f.relative_to(source).parts)) for f in files]
        if not source.is_file():
            raise FileNotFoundError(f"no such file or directory: {source}")
        return [self._upload(run_id, source, _artifact_join(artifact_path, source.name))]

    def list_artifacts(self, run_id: str, path: Optional[str] = None) -> List[JSON]:
        """The entries of one directory of the run's artifacts (the root by default):
        ``[{"path", "isDir", "size"}]``, paths relative to the run's artifact root. A missing
        directory, or a file, lists as empty.

        Example::

            for entry in experiments.list_artifacts(run_id, "model"):
                print(entry["path"], entry["size"])
        """
        return self.client.request("GET", f"{self._run_path(run_id)}/artifacts", params={"path": path})["files"]

    def download_artifacts(self, run_id: str, path: str = "", dst_path: Optional[PathLike] = None) -> str:
        """Downloads an artifact file, or a directory with everything under it, and returns the
        local path. The artifact keeps its run-relative path under ``dst_path`` (a new
        temporary directory by default): ``download_artifacts(run_id, "model/model.pkl",
        "out")`` writes ``out/model/model.pkl``. ``path=""`` fetches every artifact of the run.

        Downloads are streamed to disk with a progress bar when tqdm is installed; a file
        appears only once complete. A missing artifact raises :class:`~forja.NotFound`.

        Example::

            import pickle
            local = experiments.download_artifacts(run_id, "model/model.pkl", "downloads")
            with open(local, "rb") as f:
                model = pickle.load(f)
        """
        destination = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="forja-artifacts-"))
        destination.mkdir(parents=True, exist_ok=True)
        files = list(self._walk(run_id, path))
        if not files and path.strip("/"):
            # Listing a file gives nothing: the server lists directories only.
            files = [path]
        for file in files:
            self._download(run_id, file, _local_target(destination, file))
        return str(destination / path)

    # -- model registry, DHuolib-shaped ----------------------------------------------------

    def create_model(self, modelname: str, stage: str, run_id: str, model_uri: str, tags: Optional[KeyValues] = None) -> JSON:
        """DHuolib's ``create_model``: registers ``model_uri`` (e.g. the ``runs:/<run_id>/model`` of
        :meth:`execute_run_for_experiment`) as a new version of ``modelname`` — registering the
        name first when it is new — and moves it to ``stage`` (None, Staging, Production, Archived).

        Returns DHuolib's shape ``{model_version, model_version_name, run_id, previous_stage,
        current_stage, last_updated_timestamp, status}``. When the group needs an approval for that
        stage, the version stays where it was and ``approval_request`` holds the waiting request's id.

        Example::

            result = experiments.execute_run_for_experiment("RANDOM_FOREST", "iris", "model.pkl", "requirements.txt")
            version = experiments.create_model("iris-rf", "Staging", result["run_id"], result["model_uri"], {"owner": "ana"})
            print(version["model_version"], version["current_stage"])   # 1 Staging
        """
        for value, what in ((modelname, "modelname"), (stage, "stage"), (run_id, "run_id"), (model_uri, "model_uri")):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{what} must be a non-empty string")
        try:
            self.client.request("POST", f"{API}/models", json={"name": modelname, "tags": _pairs(tags)})
        except Conflict:
            pass  # a new version of a name registered before, as DHuolib does
        created = self.client.request(
            "POST", f"{API}/models/{_segment(modelname, 'model name')}/versions", json={"source": model_uri, "runId": run_id, "tags": _pairs(tags)}
        )
        if stage.lower() == "none":
            return _dhuolib_version(created, created["currentStage"], None)
        return self.transition_model(modelname, created["version"], stage)

    def transition_model(self, model_name: str, version: Union[int, str], stage: str) -> JSON:
        """DHuolib's ``transition_model``: moves a version to ``stage`` and returns the same shape
        as :meth:`create_model` (with ``approval_request`` when the stage needs an approval).

        Example::

            experiments.transition_model("iris-rf", 1, "Production")
        """
        before = self.client.request("GET", f"{API}/models/{_segment(model_name, 'model name')}/versions/{_segment(str(version), 'version')}")
        moved = self.client.request(
            "POST",
            f"{API}/models/{_segment(model_name, 'model name')}/versions/{_segment(str(version), 'version')}/transition",
            json={"stage": stage[:1].upper() + stage[1:].lower(), "archiveExistingVersions": False},
        )
        request = moved.get("approvalRequest")
        return _dhuolib_version(moved["modelVersion"], before["currentStage"], request["id"] if request else None)

    def search_models(self, filter_string: Optional[str] = None, max_results: int = 100, page_token: Optional[str] = None) -> List[JSON]:
        """DHuolib's ``search_models``: the group's registered models as
        ``[{model_id, model_name, creation_time, last_update_time, tags}]`` (tags as a dict),
        filtered with the registry grammar (``name LIKE 'iris%' AND tags.owner = 'ana'``).

        Example::

            [m["model_name"] for m in experiments.search_models("name LIKE 'iris%'")]
        """
        page = self.client.request("POST", f"{API}/models/search", json=_without_none(filter=filter_string, maxResults=max_results, pageToken=page_token))
        return [
            {
                "model_id": m["name"],
                "model_name": m["name"],
                "creation_time": m["creationTime"],
                "last_update_time": m["lastUpdatedTime"],
                "tags": {t["key"]: t["value"] for t in m["tags"]},
                "latest_versions": {v["currentStage"]: v["version"] for v in m["latestVersions"]},
            }
            for m in page["registeredModels"]
        ]

    def download_pkl(self, batch_params: Mapping[str, Any]) -> Any:
        """DHuolib's ``download_pkl``: fetches the ``model.pkl`` of ``modelname`` at ``stage``
        (or of ``run_id`` when no stage is given), saves it to ``batch_model_dir`` (a local file
        name, default ``model.pkl``), unpickles it and returns the model object.

        Unpickling runs code from the file: only load models your group registered.

        Example::

            model = experiments.download_pkl({"modelname": "iris-rf", "stage": "Production", "batch_model_dir": "iris.pkl"})
            model.predict(frame)
        """
        name, stage, run_id = batch_params.get("modelname"), batch_params.get("stage"), batch_params.get("run_id")
        target = Path(batch_params.get("batch_model_dir") or "model.pkl")
        if stage:
            if not name:
                raise ValueError("batch_params needs 'modelname' with 'stage'")
            version = self.client.request("GET", f"{API}/models/resolve", params={"uri": f"models:/{name}/{stage[:1].upper() + stage[1:].lower()}"})
            run_id, location = version["runId"], version["storageLocation"]
            root = self.get_run(run_id)["info"]["artifactUri"] if run_id else ""
            if not run_id or not location.startswith(root + "/"):
                raise ValueError(f"{name} {stage} was not registered from a run's artifacts ({location}); download it with the mlflow client")
            path = f"{location[len(root) + 1 :]}/model.pkl"
        elif run_id:
            path = f"{MODEL_DIR}/model.pkl"
        else:
            raise ValueError("batch_params needs 'stage' (with 'modelname') or 'run_id'")
        self._download(run_id, path, target)
        with target.open("rb") as handle:
            return pickle.load(handle)

    # -- helpers ----------------------------------------------------------------------------

    def _run_path(self, run_id: str) -> str:
        return f"{API}/runs/{_segment(run_id, 'run id')}"

    def _walk(self, run_id: str, path: str) -> Iterator[str]:
        for entry in self.list_artifacts(run_id, path):
            if entry["isDir"]:
                yield from self._walk(run_id, entry["path"])
            else:
                yield entry["path"]

    def _progress_bar(self, total: Optional[int], description: str) -> Any:
        if self.progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                # disable=None hides the bar when stderr is not a terminal (CI logs, cron jobs).
                return tqdm(total=total, desc=description, unit="B", unit_scale=True, unit_divisor=1024, disable=None)
        return _NoProgress()

    def _upload(self, run_id: str, file: Path, artifact_path: str) -> JSON:
        size = file.stat().st_size
        with self._progress_bar(size, f"upload {artifact_path}") as bar:

            def body() -> Iterator[bytes]:
                bar.reset(total=size)  # a retry starts the file over
                with file.open("rb") as handle:
                    for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
                        bar.update(len(chunk))
                        yield chunk

            return self.client._upload(f"{self._run_path(run_id)}/artifacts/file", body, size, {"path": artifact_path})

    def _download(self, run_id: str, path: str, target: Path) -> None:
        with self.client._download(f"{self._run_path(run_id)}/artifacts/file", {"path": path}) as download:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Written beside the target and renamed, so a cut-off download leaves no partial file.
            # Not mkstemp: its 0600 mode would stick to the finished file.
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
            try:
                with partial.open("xb") as out, self._progress_bar(download.size, f"download {path}") as bar:
                    for chunk in download.chunks(CHUNK_SIZE):
                        out.write(chunk)
                        bar.update(len(chunk))
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise


class _NoProgress:
    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def reset(self, total: Optional[int] = None) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _encode_value(value: Any) -> Union[float, str]:
    number = float(value)
    # JSON has no NaN or infinity; the API takes them as these strings.
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def _decode_value(value: Union[float, str]) -> float:
    if isinstance(value, str):
        return float(value)  # "NaN", "Infinity", "-Infinity"
    number = float(value)
    return math.copysign(math.inf, number) if abs(number) == MAX_DOUBLE else number


def _decode_metric(metric: JSON) -> JSON:
    return {**metric, "value": _decode_value(metric["value"])}


def _decode_run(run: JSON) -> JSON:
    data = run.get("data")
    if isinstance(data, dict) and isinstance(data.get("metrics"), list):
        data["metrics"] = [_decode_metric(m) for m in data["metrics"]]
    return run


def _pairs(items: Optional[KeyValues]) -> List[Dict[str, str]]:
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [{"key": str(k), "value": str(v)} for k, v in items.items()]
    return [{"key": str(i["key"]), "value": str(i["value"])} for i in items]


def _as_list(value: Union[str, Sequence[str], None]) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return list(value)


def _without_none(**fields: Any) -> JSON:
    # The API's request schemas are strict: an absent field is fine, a null one is not.
    return {k: v for k, v in fields.items() if v is not None}


def _check_format(output_format: str) -> None:
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)} (got {output_format!r})")


def _artifact_join(*parts: Optional[str]) -> str:
    return "/".join(p.rstrip("/") for p in parts if p)


def _local_target(destination: Path, artifact_path: str) -> Path:
    parts = [p for p in artifact_path.split("/") if p not in ("", ".")]
    # The names come from the server; never let one write outside the destination.
    if not parts or ".." in parts or any(os.sep in p or (os.altsep and os.altsep in p) for p in parts):
        raise ForjaError(f"Refusing to write the artifact {artifact_path!r} outside {destination}")
    return destination.joinpath(*parts)


def _flatten(fields: JSON, **collections: List[JSON]) -> JSON:
    row = {k: v for k, v in fields.items() if not isinstance(v, (list, dict))}
    for prefix, items in collections.items():
        row.update({f"{prefix}.{item['key']}": item["value"] for item in items})
    return row


def _frame(rows: List[JSON], page: JSON) -> Any:
    try:
        import pandas as pd
    except ImportError as err:
        raise ImportError("output_format='pandas' needs pandas: pip install 'forja[pandas]'") from err
    frame = pd.DataFrame(rows)
    frame.attrs["nextPageToken"] = page.get("nextPageToken")
    return frame


def _dhuolib_version(version: JSON, previous_stage: Optional[str], approval_request: Optional[str]) -> JSON:
    out = {
        "model_version": int(version["version"]),
        "model_version_name": version["name"],
        "run_id": version["runId"],
        "previous_stage": previous_stage,
        "current_stage": version["currentStage"],
        "last_updated_timestamp": version["lastUpdatedTime"],
        "status": version["status"],
    }
    if approval_request:
        out["approval_request"] = approval_request
    return out
