"""Pipelines from a YAML file, with MLOps Codex's ``MLOpsPipeline`` names.

A pipeline is a YAML file plus the files it names, uploaded as one version and run on the server
as a graph of steps; each step is a job with its own log. Two shapes are read:

- MLOps Codex's: top-level ``group`` and ``python_version``, a ``training:`` section
  (``training_type: Custom``, ``experiment_name``, ``source``, ``data``, ``packages``,
  ``train_function``, ``run_name``, ``model_type``) and a ``deploy:`` section (``name``,
  ``operation``), run as the steps ``training`` then ``deploy``.
- A general graph: ``steps:`` with ``id``, ``script: file.py`` (or ``action:`` ``train``,
  ``register``, ``transition``, ``deploy``, ``batch-predict``), ``needs``, ``params``/``with``
  and templates ``${{ steps.<id>.outputs.<key> }}`` / ``${{ params.<key> }}``. A script hands
  outputs to later steps by writing a JSON object to the file ``$FORJA_OUTPUTS``; it reads its
  params as JSON from ``$FORJA_PARAMS``.

Differences from MLOps Codex, on purpose:

- ``run_training()`` and ``run_deploy()`` are not separate calls: they are the ``training`` and
  ``deploy`` steps of :meth:`Pipeline.start`, which runs them on the server in order (the deploy
  promotes what the training trained). :meth:`Pipeline.run` with ``from_step="deploy"`` runs the
  deploy again on the last training's outputs.
- The ``monitoring:`` section is refused (the server answers 400): this server has no model
  monitoring yet. A ``script`` step can check drift instead.
- Only ``training_type: Custom``. Files are named by plain file name, looked up beside the YAML
  (or in the section's ``directory:``); credentials come from ``FORJA_URL``/``FORJA_TOKEN``
  (not ``MLOPS_USER``/``MLOPS_PASSWORD``).
- A failed run raises :class:`PipelineFailed` naming the failed steps with their errors; a
  failed step can be retried (:meth:`Pipeline.retry`) without running the others again.

Needs PyYAML (``pip install pyyaml``) to read the file.

Example::

    import forja

    pipeline = forja.Pipeline.from_config_file("pipeline.yaml")   # FORJA_URL, FORJA_TOKEN
    run = pipeline.start()                     # uploads, runs, prints each step's status
    print(run["steps"][-1]["outputs"])         # {'model': 'churn', 'version': '1', 'deploymentId': '…'}
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ._jobs import ENDED, MAX_WAIT_FAILURES, job_log, poll_job
from .client import API, JSON, Client, ClientOwner, _segment
from .deployments import PathLike
from .exceptions import ForjaConnectionError, ForjaError, NotFound, PermissionDenied, ServerError

__all__ = ["Pipeline", "PipelineFailed", "PipelineTimeout"]

log = logging.getLogger("forja")

PIPELINES = f"{API}/pipelines"
PIPELINE_RUNS = f"{API}/pipeline-runs"
RUN_PENDING = ("running",)
STEP_FAILED = ("failed", "cancelled")
PIPELINE_WAIT = 6 * 3600.0
# A step's job is long-polled this long at most, so a status change elsewhere is seen soon.
STEP_POLL = 10.0
# Inputs that name uploaded files, by step action (as the server checks them).
FILE_INPUTS = {"script": ("script", "requirements"), "train": ("source", "data", "requirements")}


class PipelineFailed(ForjaError):
    """A pipeline run ended ``failed`` or ``cancelled``.

    Attributes:
        message: which steps failed, each with its error (e.g. the end of a script's traceback).
        pipeline, run_id: the pipeline and the run, to :meth:`Pipeline.retry` it.
        failed_steps: ``{step id: error}`` of the steps that failed or were cancelled.
        run: the run's last state (the server's JSON).

    Example::

        try:
            pipeline.start()
        except forja.PipelineFailed as err:
            print(err.failed_steps)
            print(*pipeline.logs(err.run_id, next(iter(err.failed_steps)))[-20:], sep="\\n")
    """

    def __init__(
        self,
        message: str,
        pipeline: Optional[str] = None,
        run_id: Optional[str] = None,
        failed_steps: Optional[Dict[str, Optional[str]]] = None,
        run: Any = None,
    ) -> None:
        self.message = message
        self.pipeline = pipeline
        self.run_id = run_id
        self.failed_steps = dict(failed_steps or {})
        self.run = run
        what = f"Pipeline {pipeline!r} run {run_id}" if pipeline else "The pipeline run"
        super().__init__(f"{what} failed: {message}")

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.message, self.pipeline, self.run_id, self.failed_steps, self.run))


class PipelineTimeout(ForjaError, TimeoutError):
    """:meth:`Pipeline.wait` gave up before the run ended; the run goes on on the server.

    Example::

        try:
            pipeline.start(timeout=60)
        except forja.PipelineTimeout as err:
            pipeline.wait(err.run_id)
    """

    def __init__(self, message: str, pipeline: Optional[str] = None, run_id: Optional[str] = None) -> None:
        self.pipeline = pipeline
        self.run_id = run_id
        super().__init__(message)

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (str(self), self.pipeline, self.run_id))


class Pipeline(ClientOwner):
    """A pipeline file and the files it names, with MLOps Codex's ``MLOpsPipeline`` names.

    Build it with :meth:`from_config_file`. :meth:`start` uploads it (a new version of the
    pipeline named by the YAML's ``name:``, else the file's stem) and runs it; :meth:`run`,
    :meth:`retry`, :meth:`status`, :meth:`wait`, :meth:`cancel` and :meth:`logs` act on the
    uploaded pipeline and its runs. ``run_training()``/``run_deploy()`` of MLOps Codex are the
    ``training`` and ``deploy`` steps of :meth:`start`.

    Calls act in the YAML's ``group:`` when it has one (created if missing, as Codex did, when
    you may), else in the client's group.

    Example::

        pipeline = forja.Pipeline.from_config_file("pipeline.yaml")
        run = pipeline.start(params={"alpha": 0.5})
        print([(s["id"], s["status"]) for s in run["steps"]])
    """

    def __init__(
        self,
        name: str,
        definition: str,
        files: Dict[str, Path],
        client: Optional[Client] = None,
        group: Optional[str] = None,
        config: Optional[JSON] = None,
    ) -> None:
        self.name = name
        self.definition = definition
        self.files = dict(files)
        self.config = dict(config or {})
        super().__init__(client)
        self.group = group or self.client.group
        # A group the YAML names that is not the client's: created on first upload if missing.
        self._group_from_config = bool(group) and group != self.client.group
        self.version: Optional[int] = None

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_config_file(
        cls,
        path: PathLike,
        client: Optional[Client] = None,
        *,
        name: Optional[str] = None,
        group: Optional[str] = None,
        extra_files: Optional[List[PathLike]] = None,
    ) -> "Pipeline":
        """Reads the YAML at ``path`` and collects the files it names, relative to the YAML's
        folder (or to a Codex section's ``directory:``): each step's ``script`` and
        ``requirements``, a ``train`` step's ``source``, ``data`` and ``requirements``, and
        Codex's ``training.source``, ``training.data`` and ``training.packages``. Add files the
        scripts open themselves with ``extra_files`` (they find them in ``$FORJA_FILES``).

        ``name`` defaults to the YAML's ``name:``, else the file's stem; ``group`` to the YAML's
        ``group:``, else the client's. A named file that does not exist raises
        ``FileNotFoundError``; a file named with a folder raises ``ValueError`` (the server
        keeps plain names: put it beside the YAML or use ``directory:``).

        Example::

            pipeline = forja.Pipeline.from_config_file("pipelines/train.yaml", forja.Client(group="credit"))
        """
        try:
            import yaml
        except ImportError as err:  # pragma: no cover - depends on the installation
            raise ImportError("forja.Pipeline needs PyYAML to read the pipeline file: pip install pyyaml") from err
        file = Path(path)
        text = file.read_text(encoding="utf-8")
        config = yaml.safe_load(text)
        if not isinstance(config, dict):
            raise ValueError(f"{file} must be a YAML mapping with 'steps:' (or MLOps Codex's 'training:' and 'deploy:' sections)")
        base = file.resolve().parent
        files: Dict[str, Path] = {}
        for folder, value in _named_files(config):
            _collect(files, base / folder if folder else base, value)
        for extra in extra_files or []:
            extra_path = Path(extra)
            if not extra_path.is_file():
                raise FileNotFoundError(f"extra file {str(extra_path)!r} is not a file")
            _add(files, extra_path.name, extra_path)
        pipeline_name = name or (config.get("name") if isinstance(config.get("name"), str) else None) or file.stem
        yaml_group = config.get("group") if isinstance(config.get("group"), str) else None
        return cls(pipeline_name, text, files, client, group or yaml_group, config)

    def close(self) -> None:
        """Closes the connection if this object opened it.

        Example::

            pipeline = forja.Pipeline.from_config_file("pipeline.yaml")
            try:
                pipeline.start()
            finally:
                pipeline.close()
        """
        super().close()

    def __repr__(self) -> str:
        return f"forja.Pipeline(name={self.name!r}, group={self.group!r}, files={sorted(self.files)!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client._call(method, path, group=self.group, **kwargs)

    def _path(self, suffix: str = "") -> str:
        return f"{PIPELINES}/{_segment(self.name, 'pipeline name')}{suffix}"

    def _run_path(self, run_id: str, suffix: str = "") -> str:
        return f"{PIPELINE_RUNS}/{_segment(run_id, 'run id')}{suffix}"

    def _ensure_group(self) -> None:
        # MLOps Codex's run_training() created the YAML's group when it was missing.
        if not self._group_from_config or not self.group:
            return
        try:
            self.client._call("GET", f"{API}/groups/{_segment(self.group, 'group name')}")
        except NotFound:
            try:
                self.client._call("POST", f"{API}/groups", json={"name": self.group, "description": f"Created by pipeline {self.name}"})
                log.info("forja: created group %r for pipeline %r", self.group, self.name)
            except PermissionDenied:
                pass  # the server's answer to the upload will say what is wrong
        self._group_from_config = False

    # -- uploading and running --------------------------------------------------------------

    def upload(self) -> JSON:
        """Uploads the YAML and its files as the pipeline's next version and returns the
        pipeline (``{"name", "version", "steps": [{"id", "action", "needs"}], …}``). A mistake in
        the file (an unknown action, a cycle, a file it names but was not sent, a
        ``monitoring:`` section) raises :class:`~forja.InvalidArgument` naming it.

        Example::

            print(pipeline.upload()["version"])
        """
        self._ensure_group()
        definition = self.definition.encode("utf-8")
        parts: List[Tuple[str, str, Any]] = [("definition", "pipeline.yaml", lambda: definition)]
        for sent_name, local in sorted(self.files.items()):
            parts.append(("file", sent_name, (lambda p=local: p.open("rb"))))
        uploaded = self.client._multipart(self._path(), {}, parts, group=self.group, method="PUT")
        self.version = uploaded.get("version")
        return uploaded

    def start(self, params: Optional[JSON] = None, wait: bool = True, *, timeout: float = PIPELINE_WAIT, verbose: bool = True) -> JSON:
        """Uploads the pipeline (:meth:`upload`) and runs it (:meth:`run`): MLOps Codex's
        ``start()``, with ``run_training()`` and ``run_deploy()`` as its ``training`` and
        ``deploy`` steps. Returns the run; with ``wait=True`` the ended run, raising
        :class:`PipelineFailed` naming the failed steps. With ``verbose`` each step's status
        changes are printed (else logged on the ``forja`` logger).

        Example::

            run = forja.Pipeline.from_config_file("pipeline.yaml").start()
            print(run["steps"][-1]["outputs"]["deploymentId"])
        """
        self.upload()
        return self.run(params, wait=wait, timeout=timeout, verbose=verbose)

    def run(
        self, params: Optional[JSON] = None, from_step: Optional[str] = None, wait: bool = True, *, timeout: float = PIPELINE_WAIT, verbose: bool = True
    ) -> JSON:
        """Runs the uploaded pipeline's newest version with ``params`` (over the YAML's
        ``params:`` defaults). ``from_step`` runs that step and what depends on it, reusing
        the other steps' outputs from the last succeeded run. See :meth:`start` for ``wait``.

        Example::

            run = pipeline.run({"alpha": 0.1}, from_step="evaluate")
        """
        body: JSON = {"params": dict(params or {})}
        if from_step:
            body["fromStep"] = from_step
        run = self._call("POST", self._path("/runs"), json=body)
        if not wait:
            return run
        return self.wait(run, timeout=timeout, verbose=verbose)

    def retry(self, run_id: str, wait: bool = True, *, timeout: float = PIPELINE_WAIT, verbose: bool = True) -> JSON:
        """Runs a run's failed, skipped and cancelled steps again (the succeeded ones keep their
        outputs) and returns the run; see :meth:`start` for ``wait``.

        Example::

            try:
                pipeline.start()
            except forja.PipelineFailed as err:
                fix_the_data()
                pipeline.retry(err.run_id)
        """
        run = self._call("POST", self._run_path(run_id, "/retry"))
        if not wait:
            return run
        return self.wait(run, timeout=timeout, verbose=verbose)

    def status(self, run_id: str) -> JSON:
        """A run now: ``{"id", "status", "steps": [{"id", "action", "needs", "status", "jobId",
        "outputs", "error", "startedAt", "finishedAt"}], …}``.

        Example::

            print({s["id"]: s["status"] for s in pipeline.status(run_id)["steps"]})
        """
        return self._call("GET", self._run_path(run_id))

    def runs(self) -> List[JSON]:
        """The pipeline's runs, newest first.

        Example::

            last = pipeline.runs()[0]
        """
        return self._call("GET", self._path("/runs"))["items"]

    def cancel(self, run_id: str) -> JSON:
        """Cancels a run: running steps are stopped, pending ones never start.

        Example::

            pipeline.cancel(run["id"])
        """
        return self._call("POST", self._run_path(run_id, "/cancel"))

    def logs(self, run_id: str, step_id: str) -> List[str]:
        """The lines of a step's log: what its script printed, or what its action did.

        Example::

            print(*pipeline.logs(run_id, "train"), sep="\\n")
        """
        run = self.status(run_id)
        step = next((s for s in run["steps"] if s["id"] == step_id), None)
        if step is None:
            raise ValueError(f"run {run_id} has no step {step_id!r} (it has {', '.join(s['id'] for s in run['steps'])})")
        return job_log(self.client, self.group, step["jobId"]) if step.get("jobId") else []

    def wait(self, run: Union[JSON, str], *, timeout: float = PIPELINE_WAIT, verbose: bool = True) -> JSON:
        """Waits for a run (a run dict or its id) to end and returns it, ``succeeded``.

        It long-polls the job of a running step (the server answers the moment it ends) and
        reports every step's status change. Raises :class:`PipelineFailed` naming the failed
        steps, and :class:`PipelineTimeout` after ``timeout`` seconds (the run goes on).

        Example::

            run = pipeline.run(wait=False)
            pipeline.wait(run, timeout=600)
        """
        run_id = run if isinstance(run, str) else run["id"]
        deadline = time.monotonic() + timeout
        seen: Dict[str, str] = {}
        failures = 0
        while True:
            try:
                data = self.status(run_id)
                failures = 0
            except (ForjaConnectionError, ServerError):
                failures += 1
                if failures >= MAX_WAIT_FAILURES:
                    raise
                time.sleep(1.0)
                continue
            self._report(data, seen, verbose)
            if data["status"] not in RUN_PENDING:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PipelineTimeout(
                    f"Pipeline {self.name!r} run {run_id} is still running after {timeout:g}s; it goes on: call wait() again", self.name, run_id
                )
            self._wait_for_a_step(data, min(STEP_POLL, remaining))
        if data["status"] != "succeeded":
            failed = {s["id"]: s.get("error") for s in data["steps"] if s["status"] in STEP_FAILED}
            if failed:
                detail = "; ".join(f"step {sid!r} {_status_of(data, sid)}: {err or 'no message'}" for sid, err in failed.items())
            else:
                detail = f"the run was {data['status']}"
            raise PipelineFailed(detail, self.name, run_id, failed, data)
        return data

    def _wait_for_a_step(self, data: JSON, seconds: float) -> None:
        active = [s for s in data["steps"] if s["status"] in ("queued", "running") and s.get("jobId")]
        started = time.monotonic()
        if active:
            job_id = active[0]["jobId"]
            try:
                job = poll_job(self.client, self.group, job_id, seconds)
                if job["status"] not in ENDED:
                    return
            except (ForjaConnectionError, ServerError, NotFound):
                pass
        # No step job to wait on (between steps), or the job ended and the run is catching up.
        time.sleep(max(0.0, min(0.5, seconds) - (time.monotonic() - started)))

    def _report(self, data: JSON, seen: Dict[str, str], verbose: bool) -> None:
        for step in data["steps"]:
            status = step["status"]
            if seen.get(step["id"]) == status:
                continue
            seen[step["id"]] = status
            line = f"[{self.name}] step {step['id']} ({step['action']}): {status}"
            if status in STEP_FAILED and step.get("error"):
                line += f": {_first_lines(step['error'])}"
            if verbose:
                print(line, flush=True)
            else:
                log.info("forja: %s", line)


# -- helpers --------------------------------------------------------------------------------


def _status_of(run: JSON, step_id: str) -> str:
    return next((s["status"] for s in run["steps"] if s["id"] == step_id), "failed")


def _first_lines(text: str, n: int = 3) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return " | ".join(lines[-n:]) if len(lines) > n else " | ".join(lines)


def _named_files(config: JSON) -> List[Tuple[str, Any]]:
    """(folder relative to the YAML, value) of every input that names a file."""
    found: List[Tuple[str, Any]] = []
    steps = config.get("steps")
    if isinstance(steps, list):
        for step in steps:
            if not isinstance(step, dict):
                continue
            inputs = dict(step.get("with") or {}) if isinstance(step.get("with"), dict) else {}
            action = step.get("action") or ("script" if step.get("script") is not None else None)
            if action == "script":
                for key in ("script", "requirements"):
                    if step.get(key) is not None:
                        found.append(("", step[key]))
            for key in FILE_INPUTS.get(str(action), ()):
                if key in inputs:
                    found.append(("", inputs[key]))
        return found
    training = config.get("training")
    if isinstance(training, dict):
        folder = str(training.get("directory") or "")
        for key in ("source", "data", "packages"):
            if training.get(key) is not None:
                found.append((folder, training[key]))
    return found


def _collect(files: Dict[str, Path], folder: Path, value: Any) -> None:
    if not isinstance(value, str) or "${{" in value:
        return  # a template, resolved on the server
    if "/" in value or "\\" in value:
        raise ValueError(f"the pipeline file names {value!r}: name files by their plain name, beside the YAML (or in the section's directory:)")
    local = folder / value
    if not local.is_file():
        raise FileNotFoundError(f"the pipeline file names {value!r}, but {str(local)!r} is not a file")
    _add(files, value, local)


def _add(files: Dict[str, Path], name: str, local: Path) -> None:
    existing = files.get(name)
    if existing is not None and existing.resolve() != local.resolve():
        raise ValueError(f"two different files are named {name!r}: {existing} and {local}")
    files[name] = local
