"""Batch projects with DHuolib's ``PlatformClient`` method names.

A batch project is a Python script your group runs now, later or on a cron schedule. Each
deploy of the script is a version built into its own Python environment; each run is a durable
job with its parameters, its log and its outcome. The script gets its parameters as JSON in
``FORJA_PARAMS``, and ``FORJA_URL``, ``FORJA_TOKEN`` and ``FORJA_GROUP`` to call the server back.

Differences from DHuolib, on purpose:

- Errors raise typed exceptions (:class:`~forja.NotFound`, :class:`~forja.DeploymentFailed`…)
  instead of returning ``{"error": …}`` dicts.
- :meth:`PlatformClient.deploy_batch_project` uploads files (no base64) and waits for the build
  by long-polling its job, not by polling the status report every minute.
- Runs take parameters, can wait for their end, and show their logs.

Example::

    import forja

    platform = forja.PlatformClient(project_name="churn-scoring")   # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    platform.create_batch_project("churn-scoring")
    platform.deploy_batch_project("score_churn.py", "requirements.txt")
    platform.create_cluster(2)
    run = platform.batch_run({"date": "2026-11-23"}, wait=True)
    print(run["status"], platform.run_logs(run)[-1])
    platform.schedule_batch_run("churn-scoring", "0 6 * * *", timezone="America/Sao_Paulo")
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, List, Optional, Union

from ._jobs import RecordWait, job_log
from .client import API, JSON, Client, ClientOwner, _segment
from .deployments import PathLike, _python_version
from .exceptions import Conflict, DeploymentFailed, DeploymentTimeout, ExecutionTimeout, ForjaError

__all__ = ["PlatformClient"]

PROJECTS = f"{API}/batch/projects"
SCHEDULES = f"{API}/schedules"
RUN_PENDING = ("queued", "running")
CLUSTER_SIZES = (1, 2, 3)
DEPLOY_WAIT = 1800.0


class PlatformClient(ClientOwner):
    """Creates, deploys, runs and schedules batch projects, with DHuolib's
    ``DhuolibPlatformClient`` method names.

    Pass a :class:`~forja.Client` to share its connection and login, or the URL, token and
    group, which fall back to ``FORJA_URL``, ``FORJA_TOKEN`` and ``FORJA_GROUP``.
    ``project_name`` is the project the calls that name none act on;
    :meth:`create_batch_project` sets it when it is not set yet.

    Example::

        import forja

        with forja.PlatformClient("http://127.0.0.1:5050", token="fjp_…", group="credit", project_name="churn") as platform:
            for step in platform.pipeline_status_report():
                print(step["date"], step["step"], step["status"])
    """

    def __init__(
        self,
        url: Union[Client, str, None] = None,
        token: Optional[str] = None,
        group: Optional[str] = None,
        project_name: Optional[str] = None,
        **client_options: Any,
    ) -> None:
        super().__init__(url, token, group, **client_options)
        self.project_name = project_name

    def __repr__(self) -> str:
        return f"forja.PlatformClient({self.client!r}, project_name={self.project_name!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _project(self, project_name: Optional[str]) -> str:
        name = project_name or self.project_name
        if not name:
            raise ValueError("project_name is required: pass it, or set it on the PlatformClient")
        return name

    def _path(self, project_name: Optional[str], suffix: str = "") -> str:
        return f"{PROJECTS}/{_segment(self._project(project_name), 'project name')}{suffix}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client._call(method, path, **kwargs)

    # -- projects ---------------------------------------------------------------------------

    def create_batch_project(self, project_name: str, description: str = "", cluster_size: int = 1) -> JSON:
        """Creates a batch project and returns it (``{"name", "clusterSize", "currentVersion", …}``).

        As in DHuolib, a name that already exists gives back the existing project. The client's
        ``project_name`` is set to it when it had none.

        Example::

            project = platform.create_batch_project("churn-scoring", "Scores churn nightly")
            print(project["id"], project["currentVersion"])   # … None until a deploy is Ready
        """
        _check_cluster_size(cluster_size)
        try:
            project = self._call("POST", PROJECTS, json={"name": project_name, "description": description, "clusterSize": cluster_size})
        except Conflict:
            project = self.get_project(project_name)
        if not self.project_name:
            self.project_name = project["name"]
        return project

    def get_project(self, project_name: Optional[str] = None) -> JSON:
        """The project as the server describes it now.

        Example::

            print(platform.get_project("churn-scoring")["clusterSize"])
        """
        return self._call("GET", self._path(project_name))

    def delete_project(self, project_name: Optional[str] = None) -> None:
        """Deletes the project with its deploys and runs (running ones are cancelled).

        Example::

            platform.delete_project("churn-scoring")
        """
        self._call("DELETE", self._path(project_name))

    def create_cluster(self, cluster_size: int, project_name: Optional[str] = None) -> JSON:
        """Moves the project to cluster size 1 (small), 2 (medium) or 3 (large) and returns the
        project. Any other size raises ``ValueError`` before calling the server.

        Example::

            platform.create_cluster(2, "churn-scoring")
        """
        _check_cluster_size(cluster_size)
        return self._call("PATCH", self._path(project_name), json={"clusterSize": cluster_size})

    # -- deploys ----------------------------------------------------------------------------

    def deploy_batch_project(
        self,
        script_filename: PathLike,
        requirements_filename: Optional[PathLike] = None,
        project_name: Optional[str] = None,
        python_version: str = "",
        wait: bool = True,
        timeout: float = DEPLOY_WAIT,
    ) -> JSON:
        """Uploads the script (and its ``requirements.txt``) as the project's next version and,
        with ``wait=True``, waits for its environment to be built. Returns the deploy
        (``{"version", "status", "message", "buildJobId", …}``), ``Ready`` once waited for.

        Raises :class:`~forja.DeploymentFailed` with the build's message if the build fails,
        :class:`~forja.DeploymentTimeout` after ``timeout`` seconds (the build goes on).

        Example::

            deploy = platform.deploy_batch_project("score_churn.py", "requirements.txt", python_version="3.11")
            print(deploy["version"], deploy["status"])   # 1 Ready
        """
        script = Path(script_filename)
        if not script.is_file():
            raise FileNotFoundError(f"script_filename {str(script)!r} is not a file")
        files = [("source", script.name, lambda: script.open("rb"))]
        if requirements_filename is not None:
            requirements = Path(requirements_filename)
            if not requirements.is_file():
                raise FileNotFoundError(f"requirements_filename {str(requirements)!r} is not a file")
            files.append(("requirements", "requirements.txt", lambda: requirements.open("rb")))
        fields = {}
        version = _python_version(python_version)
        if version:
            fields["pythonVersion"] = version
        name = self._project(project_name)
        answer = self.client._multipart(self._path(name, "/deploys"), fields, files)
        deploy = answer["deploy"]
        if not wait:
            return deploy
        waiter = _DeployWait(self, name, deploy)
        waiter._wait_on_job(timeout, False)
        if waiter.data["status"] == "Failed":
            raise waiter._failure(waiter.data.get("message") or "see its build log", waiter.data.get("buildJobId"))
        return waiter.data

    def deploys(self, project_name: Optional[str] = None) -> List[JSON]:
        """The project's deploys, newest first.

        Example::

            print([(d["version"], d["status"]) for d in platform.deploys()])
        """
        return self._call("GET", self._path(project_name, "/deploys"))["items"]

    # -- runs -------------------------------------------------------------------------------

    def batch_run(
        self,
        params: Optional[JSON] = None,
        project_name: Optional[str] = None,
        wait: bool = False,
        timeout_seconds: int = 3600,
    ) -> JSON:
        """Runs the project's current (newest Ready) deploy with ``params`` (the script reads
        them as JSON from ``FORJA_PARAMS``) and returns the run (``{"id", "status", "jobId",
        "error", …}``). ``timeout_seconds`` bounds the run: its process tree is killed after it.

        With ``wait=True`` it waits for the run to end and returns the final run: check
        ``run["status"]`` (``succeeded``, ``failed`` or ``cancelled``); a failed run's ``error``
        holds the script's last lines. Waiting longer than ``timeout_seconds`` (plus a minute)
        raises :class:`~forja.ExecutionTimeout`.

        Example::

            run = platform.batch_run({"date": "2026-11-23"}, wait=True)
            if run["status"] != "succeeded":
                print(run["error"])
        """
        name = self._project(project_name)
        run = self._call("POST", self._path(name, "/runs"), json={"params": params or {}, "timeoutSeconds": timeout_seconds})
        if not wait:
            return run
        return self.wait_run(run, project_name=name, timeout=timeout_seconds + 60)

    def wait_run(self, run: Union[JSON, str], project_name: Optional[str] = None, timeout: float = 3660) -> JSON:
        """Waits for a run (a run dict or its id) to end and returns it.

        Example::

            run = platform.batch_run({"date": "2026-11-23"})
            print(platform.wait_run(run)["status"])
        """
        data = run if isinstance(run, dict) else self.get_run(run, project_name)
        waiter = _RunWait(self, project_name or data.get("project") or self._project(None), data)
        waiter._wait_on_job(timeout, False)
        return waiter.data

    def get_run(self, run_id: str, project_name: Optional[str] = None) -> JSON:
        """A run as the server describes it now.

        Example::

            print(platform.get_run(run_id)["status"])
        """
        return self._call("GET", self._path(project_name, f"/runs/{_segment(run_id, 'run id')}"))

    def runs(self, project_name: Optional[str] = None) -> List[JSON]:
        """The project's runs, newest first.

        Example::

            failed = [r for r in platform.runs() if r["status"] == "failed"]
        """
        return self._call("GET", self._path(project_name, "/runs"))["items"]

    def run_logs(self, run: Union[JSON, str], project_name: Optional[str] = None) -> List[str]:
        """The lines of a run's log (a run dict or its id): what the script printed, stdout and
        stderr, tracebacks included.

        Example::

            run = platform.batch_run(wait=True)
            print(*platform.run_logs(run), sep="\\n")
        """
        data = run if isinstance(run, dict) else self.get_run(run, project_name)
        return job_log(self.client, self.client.group, data["jobId"]) if data.get("jobId") else []

    def cancel_run(self, run_id: str, project_name: Optional[str] = None) -> JSON:
        """Cancels a queued or running run and returns it. Raises :class:`~forja.Conflict` if
        it has already ended.

        Example::

            run = platform.batch_run({"date": "2026-11-23"})
            platform.cancel_run(run["id"])
        """
        return self._call("POST", self._path(project_name, f"/runs/{_segment(run_id, 'run id')}/cancel"))

    def pipeline_status_report(self, project_name: Optional[str] = None) -> List[JSON]:
        """The project's runs, newest first, in DHuolib's shape: ``[{"date", "step",
        "status"}]`` where ``date`` is when the run was created (ISO 8601, UTC), ``step`` the
        project and deploy version (``"churn-scoring v3"``) and ``status`` the run's status.

        Example::

            for row in platform.pipeline_status_report("churn-scoring"):
                print(row["date"], row["step"], row["status"])
        """
        return [{"date": _iso(run["createdAt"]), "step": f"{run['project']} v{run['version']}", "status": run["status"]} for run in self.runs(project_name)]

    # -- schedules --------------------------------------------------------------------------

    def schedule_batch_run(
        self,
        project_name: Optional[str],
        schedule_interval: str,
        timezone: str = "UTC",
        params: Optional[JSON] = None,
        missed_policy: str = "skip",
        timeout_seconds: int = 3600,
    ) -> JSON:
        """Runs the project on a cron schedule and returns the schedule (``{"id", "cron",
        "nextFireTimes", …}``). ``schedule_interval`` is a cron string of 5 fields (minute hour
        day month weekday) or 6 with seconds first, read in ``timezone``. ``missed_policy``
        says what to do with ticks missed while no server ran: ``"skip"`` or ``"run_once"``.

        Example::

            platform.schedule_batch_run("churn-scoring", "0 6 * * 1-5", timezone="America/Sao_Paulo", params={"mode": "daily"})
        """
        body = {"cron": schedule_interval, "timezone": timezone, "params": params or {}, "missedPolicy": missed_policy, "timeoutSeconds": timeout_seconds}
        return self._call("POST", self._path(project_name, "/schedules"), json=body)

    def list_schedules(self, project_name: Optional[str] = None) -> List[JSON]:
        """The project's schedules with their next fire times.

        Example::

            for s in platform.list_schedules("churn-scoring"):
                print(s["cron"], s["nextFireTimes"][:1])
        """
        return self._call("GET", self._path(project_name, "/schedules"))["items"]

    def remove_schedule(self, project_name: Optional[str] = None) -> int:
        """Removes the project's schedules (DHuolib keeps one per project) and returns how many
        were removed.

        Example::

            platform.remove_schedule("churn-scoring")
        """
        removed = 0
        for schedule in self.list_schedules(project_name):
            self._call("DELETE", f"{SCHEDULES}/{_segment(schedule['id'], 'schedule id')}")
            removed += 1
        return removed


# -- waiting --------------------------------------------------------------------------------


class _ProjectWait(RecordWait):
    owner: PlatformClient

    def __init__(self, platform: PlatformClient, project: str, data: JSON) -> None:
        super().__init__(platform, data)
        self.project = project


class _DeployWait(_ProjectWait):
    _PENDING = ("Building",)
    _JOB_KEY = "buildJobId"
    _JOB_NAME = "build job"

    def refresh(self) -> Any:
        for deploy in self.owner.deploys(self.project):
            if deploy["version"] == self.data["version"]:
                self.data = deploy
        return self

    def _what(self) -> str:
        return f"Deploy v{self.data['version']} of {self.project!r}"

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        return DeploymentFailed(message, None, self.project, job_id, self.data)

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return DeploymentTimeout(
            f"{self._what()} is still building after {timeout:g}s; the build goes on: follow it with `forja jobs logs {job_id} --follow`",
            None,
            job_id,
        )


class _RunWait(_ProjectWait):
    _PENDING = RUN_PENDING
    _AGAIN = "wait_run"

    def refresh(self) -> Any:
        self.data = self.owner.get_run(self.data["id"], self.project)
        return self

    def _what(self) -> str:
        return f"Run {self.data['id']} of {self.project!r}"

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return ExecutionTimeout(self._goes_on(job_id, timeout), self.data["id"], job_id)

    def _job_lost(self, job_id: str, job: JSON) -> ForjaError:
        return ForjaError(f"{self._what()} is still {self.data['status']} but its job {job_id} was {job['status']}")


# -- helpers --------------------------------------------------------------------------------


def _check_cluster_size(size: Any) -> None:
    if isinstance(size, bool) or size not in CLUSTER_SIZES:
        raise ValueError(f"cluster_size must be 1 (small), 2 (medium) or 3 (large) (got {size!r})")


def _iso(ms: Any) -> Optional[str]:
    if ms is None:
        return None
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")
