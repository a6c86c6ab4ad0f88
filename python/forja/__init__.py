"""Forja Python SDK.

Example::

    import forja

    client = forja.Client()          # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    client.login("admin", "secret-pass")
    print(client.whoami()["user"]["username"])
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
from .version import __version__

__all__ = [
    "Client",
    "DEFAULT_URL",
    "UsersAPI",
    "GroupsAPI",
    "TokensAPI",
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
