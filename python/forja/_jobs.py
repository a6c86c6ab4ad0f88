"""Server jobs, which run every build, async execution, training run, batch run and batch
prediction: waiting for one to end, and reading its log."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, List, Optional, Tuple, Union

from .client import API, JSON, Client, ClientOwner, _segment
from .exceptions import ForjaConnectionError, ForjaError, ServerError

log = logging.getLogger("forja")

ENDED = ("succeeded", "failed", "cancelled")
# Long polls: the first waits are short so a quick job (a build on a shared environment) answers
# at once and logs stream early; then they double up to the cap. The server holds a poll up to 60 s.
FIRST_WAIT = 1.0
MAX_WAIT = 30.0
MAX_WAIT_VERBOSE = 5.0
# How long a poll may take beyond the time the server holds it.
POLL_SLACK = 30.0
# Transient failures (server restarting, network blip) tolerated in a row while waiting.
MAX_WAIT_FAILURES = 5
LOG_PAGE = 5000


def poll_job(client: Client, group: Optional[str], job_id: str, seconds: float) -> JSON:
    """The job once it has ended, or as it is after ``seconds`` (the server holds the answer)."""
    path = f"{API}/jobs/{_segment(job_id, 'job id')}"
    return client._call("GET", path, group=group, params={"waitSeconds": round(seconds, 1)}, timeout=seconds + POLL_SLACK)


def read_job_log(client: Client, group: Optional[str], job_id: str, after: int, sink: Callable[[str], None]) -> int:
    """Hands each log line of the job after sequence number ``after`` to ``sink``; returns the
    ``after`` to ask with next time."""
    while True:
        page = client._call("GET", f"{API}/jobs/{_segment(job_id, 'job id')}/logs", group=group, params={"after": after, "limit": LOG_PAGE})
        for line in page["lines"]:
            sink(line["line"])
        after = page["next"]
        if len(page["lines"]) < LOG_PAGE:
            return after


def job_log(client: Client, group: Optional[str], job_id: str) -> List[str]:
    """Every line of the job's log."""
    lines: List[str] = []
    read_job_log(client, group, job_id, 0, lines.append)
    return lines


def _print_line(line: str) -> None:
    print(line, flush=True)


class WaitsOnJob:
    """A state that a server job settles: a deployment's build, an async execution, a training
    run, a batch deploy or run, a batch prediction. Waiting long-polls the job
    (``GET /api/v1/jobs/{id}?waitSeconds=N``, which the server answers the moment the job ends),
    with short polls first and longer ones after, and prints its new log lines on request."""

    # -- what the subclass says -------------------------------------------------------------

    data: JSON
    # Statuses (``data["status"]``) in which the state is still to settle.
    _PENDING: Tuple[str, ...] = ()
    # The field of ``data`` naming the job that settles it, and what messages call that job.
    _JOB_KEY = "jobId"
    _JOB_NAME = "job"
    # The method that waits again after a timeout.
    _AGAIN = "wait_ready"

    @property
    def group(self) -> Optional[str]:
        raise NotImplementedError

    @property
    def _client(self) -> Client:
        raise NotImplementedError

    def refresh(self) -> Any:
        raise NotImplementedError

    def _what(self) -> str:
        """How messages name it, e.g. ``Training run 01J…``."""
        raise NotImplementedError

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        """The error for an end that failed, ``message`` saying why."""
        raise NotImplementedError

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        raise NotImplementedError

    # -- what most subclasses share; some say it their own way ------------------------------

    def _pending(self) -> bool:
        return self.data["status"] in self._PENDING

    def _waited_job(self) -> Optional[str]:
        return self.data.get(self._JOB_KEY)

    def _no_job(self) -> ForjaError:
        return ForjaError(f"{self._what()} is {self.data['status']} and has no {self._JOB_NAME}")

    def _goes_on(self, job_id: str, timeout: float) -> str:
        """What a timeout says: the job goes on, and how to wait for it again."""
        return (
            f"{self._what()} is still {self.data['status']} after {timeout:g}s; "
            f"it goes on: call {self._AGAIN}() again, or follow it with `forja jobs logs {job_id} --follow`"
        )

    def _job_lost(self, job_id: str, job: JSON) -> ForjaError:
        """The job ended without the state hearing of it (cancelled before it ran, say)."""
        return self._failure(job.get("error") or f"its {self._JOB_NAME} {job_id} was {job['status']}", job_id)

    # -- the wait ---------------------------------------------------------------------------

    def _wait_on_job(self, timeout: float, verbose: bool) -> None:
        client = self._client
        deadline = time.monotonic() + timeout
        self.refresh()
        wait = FIRST_WAIT
        cap = MAX_WAIT_VERBOSE if verbose else MAX_WAIT
        after = 0
        logged_job: Optional[str] = None
        failures = 0
        while self._pending():
            job_id = self._waited_job()
            if not job_id:
                raise self._no_job()
            if job_id != logged_job:
                logged_job, after = job_id, 0
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timed_out(job_id, timeout)
            ask = max(0.0, min(wait, remaining, 60.0))
            started = time.monotonic()
            try:
                job = poll_job(client, self.group, job_id, ask)
                if verbose:
                    after = read_job_log(client, self.group, job_id, after, _print_line)
                failures = 0
            except (ForjaConnectionError, ServerError) as err:
                # Retried already by the HTTP layer; a server restarting can take longer.
                failures += 1
                if failures >= MAX_WAIT_FAILURES:
                    raise
                log.debug("forja: waiting for %r: %s; trying again", self, err)
                time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
                wait = min(wait * 2, cap)
                continue
            if job["status"] in ENDED:
                self.refresh()
                if self._pending() and self._waited_job() == job_id:
                    raise self._job_lost(job_id, job)
                continue
            elapsed = time.monotonic() - started
            if elapsed < ask / 2:
                # Answered early without the job ending (a proxy cutting long requests short,
                # say): do not turn the wait into a busy loop.
                time.sleep(min(ask - elapsed, max(0.0, deadline - time.monotonic())))
            wait = min(wait * 2, cap)
        if verbose and logged_job:
            read_job_log(client, self.group, logged_job, after, _print_line)


class RecordWait(WaitsOnJob):
    """A wait on a record the SDK hands out as plain JSON (a batch deploy or run, a batch
    prediction), read again through ``owner``, the task client that made it."""

    def __init__(self, owner: ClientOwner, data: JSON) -> None:
        self.owner = owner
        self.data = data

    @property
    def group(self) -> Optional[str]:
        return self.owner.client.group

    @property
    def _client(self) -> Client:
        return self.owner.client


class VerboseClientOwner(ClientOwner):
    """A task client whose calls wait on server jobs: ``verbose=True`` prints the jobs' log
    lines while waiting."""

    def __init__(
        self,
        url: Union[Client, str, None] = None,
        token: Optional[str] = None,
        group: Optional[str] = None,
        *,
        verbose: bool = False,
        **client_options: Any,
    ) -> None:
        super().__init__(url, token, group, **client_options)
        self.verbose = verbose
