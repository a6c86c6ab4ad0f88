"""Forja Python SDK.

Example::

    import forja

    client = forja.Client()          # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    client.login("admin", "secret-pass")
    print(client.whoami()["user"]["username"])

    experiments = forja.ExperimentClient(client)
    with experiments.start_run(experiments.create_experiment("iris")) as run:
        experiments.log_metric(run.run_id, "rmse", 0.27)
"""

from .client import DEFAULT_URL, Client, GroupsAPI, TokensAPI, UsersAPI
from .exceptions import (
    ApiError,
    Conflict,
    ForjaConnectionError,
    ForjaError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unauthenticated,
)
from .pagination import Pager
from .tracking import ActiveRun, ExperimentClient
from .version import __version__

__all__ = [
    "Client",
    "DEFAULT_URL",
    "UsersAPI",
    "GroupsAPI",
    "TokensAPI",
    "ExperimentClient",
    "ActiveRun",
    "Pager",
    "ForjaError",
    "ApiError",
    "InvalidArgument",
    "Unauthenticated",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "RateLimited",
    "ServerError",
    "ForjaConnectionError",
    "__version__",
]
