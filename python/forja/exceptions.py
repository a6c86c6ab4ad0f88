"""Errors raised by the Forja SDK.

Every error the SDK raises derives from :class:`ForjaError`. An error answer from the server
becomes an :class:`ApiError` subclass chosen by HTTP status, carrying the server's stable
``code`` (e.g. ``"NOT_FOUND"``), its message, ``details`` and the ``request_id`` to quote to an
administrator. A server that cannot be reached raises :class:`ForjaConnectionError`.

Example::

    import forja
    from forja.exceptions import NotFound

    client = forja.Client()
    try:
        client.groups.get("no-such-group")
    except NotFound as err:
        print(err.code, err.request_id)   # NOT_FOUND 6f0c…
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type

__all__ = [
    "ForjaError",
    "ApiError",
    "InvalidArgument",
    "Unauthenticated",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "ModelError",
    "RateLimited",
    "ServerError",
    "ForjaConnectionError",
    "DeploymentFailed",
    "DeploymentTimeout",
    "ExecutionFailed",
    "ExecutionTimeout",
    "error_for_status",
    "ERROR_CODES",
]

#: Every ``code`` the server's native API answers errors with, and the HTTP status that comes with
#: it. The server's table (``ErrorCodes`` in packages/contracts) is the source:
#: tests/test_error_codes.py fails when the two differ, in either direction.
ERROR_CODES: Dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "MALFORMED_REQUEST": 400,
    "MODEL_ERROR": 422,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ROUTE_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "ALREADY_EXISTS": 409,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "TIMEOUT": 504,
}


class ForjaError(Exception):
    """Base class of every error raised by the SDK.

    Example::

        try:
            client.whoami()
        except forja.ForjaError as err:
            print("Forja call failed:", err)
    """


class ApiError(ForjaError):
    """The server answered with an error status.

    Attributes:
        status: HTTP status, e.g. ``404``.
        code: the server's error code, e.g. ``"NOT_FOUND"`` (``"HTTP_<status>"`` when the
            answer did not come from Forja, e.g. a proxy's HTML page).
        message: the server's explanation, written to say what to change.
        details: extra structured data, e.g. ``{"issues": [...]}`` for invalid fields.
        request_id: the request's id in the server log.

    Example::

        try:
            client.users.get("ghost")
        except forja.ApiError as err:
            print(err.status, err.code, err.message)
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        facts = [self.code, f"HTTP {self.status}"]
        if self.request_id:
            facts.append(f"request {self.request_id}")
        return f"{self.message} [{', '.join(facts)}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"

    # Custom __init__ arguments would otherwise be lost when an error crosses a process
    # boundary (multiprocessing, joblib workers).
    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.status, self.code, self.message, self.details, self.request_id))

    @property
    def issues(self) -> List[Dict[str, str]]:
        """Field problems the server listed (``[{"path": ..., "message": ...}]``), else ``[]``.

        Example::

            try:
                client.users.create("x", "short")
            except forja.InvalidArgument as err:
                for issue in err.issues:
                    print(issue["path"], issue["message"])
        """
        if isinstance(self.details, Mapping):
            issues = self.details.get("issues")
            if isinstance(issues, list):
                return [i for i in issues if isinstance(i, dict)]
        return []


class InvalidArgument(ApiError):
    """400: the request was malformed or a field is invalid; see :attr:`ApiError.issues`.

    Example::

        try:
            client.groups.create("Not A Slug")
        except forja.InvalidArgument as err:
            print(err.issues)
    """


class Unauthenticated(ApiError):
    """401: no token, or the token is wrong, expired or revoked; or a failed login.

    Example::

        try:
            client.login("admin", "wrong")
        except forja.Unauthenticated as err:
            print(err.message)   # Wrong username or password.
    """


class PermissionDenied(ApiError):
    """403: you are known but your role does not allow this.

    Example::

        try:
            viewer.tokens.create("ci", kind="service", group="vision", role="editor")
        except forja.PermissionDenied as err:
            print(err.message)
    """


class NotFound(ApiError):
    """404: the resource does not exist, or you may not see it (Forja does not tell them apart).

    Example::

        try:
            client.groups.get("elsewhere")
        except forja.NotFound:
            ...
    """


class Conflict(ApiError):
    """409: the change clashes with the current state. ``code`` says which:
    ``"ALREADY_EXISTS"`` for a taken name, ``"CONFLICT"`` otherwise.

    Example::

        try:
            client.groups.create("vision")
        except forja.Conflict as err:
            if err.code == "ALREADY_EXISTS":
                group = client.groups.get("vision")
    """


class ModelError(ApiError):
    """422 ``MODEL_ERROR``: a deployed model's own code raised while predicting. The message
    names the exception (``"The model raised ValueError: income must be positive"``), and
    :attr:`error_type` its class; the traceback is in the deployment's runtime log. The worker
    keeps serving, so the next call is answered as usual.

    Example::

        try:
            model.predict({"income": -5, "age": 30})
        except forja.ModelError as err:
            print(err.error_type, err.message)   # ValueError The model raised ValueError: …
            print(model.get_logs())              # the traceback
    """

    @property
    def error_type(self) -> Optional[str]:
        """The class name of the exception the model raised (``"ValueError"``), if known."""
        if isinstance(self.details, Mapping) and isinstance(self.details.get("type"), str):
            return self.details["type"]
        return None


class RateLimited(ApiError):
    """429: too many attempts. :attr:`retry_after` is the number of seconds to wait, if known.

    The SDK never retries these itself: for a login they mean someone is guessing passwords.

    Example::

        try:
            client.login("admin", password)
        except forja.RateLimited as err:
            time.sleep(err.retry_after or 60)
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(status, code, message, details, request_id)
        if retry_after is None and isinstance(details, Mapping):
            seconds = details.get("retryAfterSeconds")
            if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
                retry_after = float(seconds)
        self.retry_after = retry_after

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.status, self.code, self.message, self.details, self.request_id, self.retry_after))


class ServerError(ApiError):
    """5xx: the server failed. Quote :attr:`ApiError.request_id` to your administrator.

    502, 503 and 504 were already retried before this is raised.

    Example::

        try:
            client.whoami()
        except forja.ServerError as err:
            print("report request", err.request_id)
    """


class ForjaConnectionError(ForjaError, ConnectionError):
    """The server could not be reached (refused, DNS, TLS, timeout), even after retries.

    Also a built-in :class:`ConnectionError`, so generic network handling catches it.

    Attributes:
        url: the server URL that was tried.
        attempts: how many times the request was tried.
        cause: the underlying ``httpx`` exception.

    Example::

        try:
            forja.Client("http://127.0.0.1:1").version()
        except forja.ForjaConnectionError as err:
            print(err)   # Cannot reach Forja at http://127.0.0.1:1: … (3 attempts)
    """

    def __init__(
        self,
        url: str,
        cause: Optional[BaseException] = None,
        attempts: int = 1,
        reason: Optional[str] = None,
    ) -> None:
        self.url = url
        self.cause = cause
        self.attempts = attempts
        if reason is None:
            reason = (str(cause) or type(cause).__name__) if cause is not None else "no answer"
        self.reason = reason
        plural = "s" if attempts != 1 else ""
        super().__init__(f"Cannot reach Forja at {url}: {reason} ({attempts} attempt{plural})")

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Cannot reach Forja"

    def __reduce__(self):  # type: ignore[override]
        # The httpx cause holds the request object and does not pickle; its text is kept.
        return (type(self), (self.url, None, self.attempts, self.reason))


class DeploymentFailed(ForjaError):
    """A deployment's build ended ``Failed`` (or its build job was cancelled).

    Attributes:
        message: the server's reason, e.g. the installer's own "package not found" lines, or
            which file did not pass the safety scan.
        deployment_id, name: the deployment.
        build_job_id: the build job, whose whole log :meth:`ForjaModel.build_logs` returns.
        model: the :class:`~forja.ForjaModel` itself (``None`` after unpickling), to read its
            logs, :meth:`~forja.ForjaModel.rebuild` or :meth:`~forja.ForjaModel.delete` it.

    Example::

        try:
            model = models.create_model("credit", "score", "scorer.py", "model.json", "requirements.txt")
        except forja.DeploymentFailed as err:
            print(err.message)
            print(*err.model.build_logs()[-20:], sep="\\n")
    """

    def __init__(
        self,
        message: str,
        deployment_id: Optional[str] = None,
        name: Optional[str] = None,
        build_job_id: Optional[str] = None,
        model: Any = None,
    ) -> None:
        self.message = message
        self.deployment_id = deployment_id
        self.name = name
        self.build_job_id = build_job_id
        self.model = model
        what = f"Deployment {name!r}" if name else "The deployment"
        super().__init__(f"{what} failed to build: {message}")

    def __reduce__(self):  # type: ignore[override]
        # The model holds a live connection, which does not pickle.
        return (type(self), (self.message, self.deployment_id, self.name, self.build_job_id))


class DeploymentTimeout(ForjaError, TimeoutError):
    """:meth:`ForjaModel.wait_ready` gave up before the build ended. The build itself goes on
    on the server: wait again, or follow it with ``forja jobs logs <build_job_id> --follow``.

    Example::

        try:
            model.wait_ready(timeout=60)
        except forja.DeploymentTimeout:
            model.wait_ready(timeout=1800, verbose=True)
    """

    def __init__(self, message: str, deployment_id: Optional[str] = None, build_job_id: Optional[str] = None) -> None:
        self.deployment_id = deployment_id
        self.build_job_id = build_job_id
        super().__init__(message)

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (str(self), self.deployment_id, self.build_job_id))


class ExecutionFailed(ForjaError):
    """An async execution ended ``Failed``: the scorer raised, returned no file, or its job was
    cancelled or lost.

    Attributes:
        message: the server's reason, e.g. ``"The process exited with code 1. Last lines:"``
            followed by the end of the scorer's traceback (``ValueError: …``).
        execution_id, deployment_id: the execution and its deployment.
        job_id: the execution's job, whose whole log :meth:`ForjaExecution.get_logs` returns.
        execution: the :class:`~forja.ForjaExecution` itself (``None`` after unpickling).

    Example::

        execution = model.predict("data.csv")
        try:
            execution.wait_ready()
        except forja.ExecutionFailed as err:
            print(err.message)
            print(*execution.get_logs()[-20:], sep="\\n")
    """

    # How the message names what failed; the subclasses are not async executions.
    _KIND = "Execution"

    def __init__(
        self,
        message: str,
        execution_id: Optional[str] = None,
        deployment_id: Optional[str] = None,
        job_id: Optional[str] = None,
        execution: Any = None,
    ) -> None:
        self.message = message
        self.execution_id = execution_id
        self.deployment_id = deployment_id
        self.job_id = job_id
        self.execution = execution
        what = f"{self._KIND} {execution_id}" if execution_id else f"The {self._KIND.lower()}"
        super().__init__(f"{what} failed: {message}")

    def __reduce__(self):  # type: ignore[override]
        # The execution holds a live connection, which does not pickle.
        return (type(self), (self.message, self.execution_id, self.deployment_id, self.job_id))


class RunFailed(ExecutionFailed):
    """A run (training, monitor) that ended ``failed``: the run's id is also its ``execution_id``."""

    def __init__(self, message: str, run_id: Optional[str] = None, job_id: Optional[str] = None, run: Any = None) -> None:
        super().__init__(message, run_id, None, job_id, run)
        self.run_id = run_id
        self.run = run

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.message, self.run_id, self.job_id))


class ExecutionTimeout(ForjaError, TimeoutError):
    """:meth:`ForjaExecution.wait_ready` gave up before the execution ended. The execution goes
    on on the server: wait again, or follow it with ``forja jobs logs <job_id> --follow``.

    Example::

        try:
            execution.wait_ready(timeout=60)
        except forja.ExecutionTimeout:
            execution.wait_ready(timeout=3600, verbose=True)
    """

    def __init__(self, message: str, execution_id: Optional[str] = None, job_id: Optional[str] = None) -> None:
        self.execution_id = execution_id
        self.job_id = job_id
        super().__init__(message)

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (str(self), self.execution_id, self.job_id))


_BY_STATUS: Dict[int, Type[ApiError]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: ModelError,
    429: RateLimited,
}
# Codes with a class of their own, whatever the status they come with.
_BY_CODE: Dict[str, Type[ApiError]] = {
    "MODEL_ERROR": ModelError,
}


def error_for_status(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> ApiError:
    """Builds the :class:`ApiError` subclass that matches ``status``.

    The code picks the class when it has one of its own (``MODEL_ERROR`` → :class:`ModelError`);
    otherwise the status does. Statuses without a subclass of their own (405, 413, 415, …) give a
    plain :class:`ApiError`.

    Example::

        err = error_for_status(404, "NOT_FOUND", "Group 'x' does not exist")
        assert isinstance(err, NotFound)
    """
    if status == 429:
        return RateLimited(status, code, message, details, request_id, retry_after)
    kind = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if kind is None:
        kind = ServerError if status >= 500 else ApiError
    return kind(status, code, message, details, request_id)
