"""The Forja client.

Every method returns the server's JSON as plain Python data: dicts with the API's own
camelCase keys (``user["displayName"]``, ``token["revokedAt"]``), lists of such dicts, or a
:class:`~forja.pagination.Pager` over them for paged listings. Timestamps are milliseconds
since the Unix epoch (UTC), as the API sends them. The keys are those of the HTTP API
reference (``/docs`` on any Forja server), so new server fields show up without an SDK update.
"""

from __future__ import annotations

import os
from typing import Any, Callable, ContextManager, Dict, Generic, Iterable, List, Optional, TypeVar, Union, overload
from urllib.parse import quote

import httpx

from ._http import Download, HttpCore
from .pagination import Pager
from .version import __version__

__all__ = ["Client", "DEFAULT_URL", "UsersAPI", "GroupsAPI", "TokensAPI"]

DEFAULT_URL = "http://127.0.0.1:5050"
API = "/api/v1"

JSON = Dict[str, Any]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


# Distinguishes "leave this field alone" from an explicit None, which clears a field (email).
UNSET: Any = _Unset()


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value, safe="")


def _compact(**fields: Any) -> JSON:
    return {k: v for k, v in fields.items() if v is not UNSET}


_T = TypeVar("_T")
_ALWAYS_SENT: Any = object()


class _Field(Generic[_T]):
    """A read-only attribute of an object holding the server's JSON in ``data``: the value under
    ``key``, or ``default`` when the server leaves it out. Without a default the server always
    sends it, and a missing key raises ``KeyError``."""

    def __init__(self, key: str, default: Any = _ALWAYS_SENT) -> None:
        self.key = key
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> "_Field[_T]": ...

    @overload
    def __get__(self, obj: object, owner: type) -> _T: ...

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        if self.default is _ALWAYS_SENT:
            return obj.data[self.key]
        return obj.data.get(self.key, self.default)

    # Refused, as a property without a setter refuses it: a value set on the object would hide
    # the server's, and refresh() would not update it.
    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"{self.name} is read from the server's data and cannot be set")


class Client:
    """A connection to a Forja server.

    Arguments fall back to the environment, then to defaults:

    - ``base_url``: ``FORJA_URL``, else ``http://127.0.0.1:5050``.
    - ``token``: ``FORJA_TOKEN``; :meth:`login` sets one too.
    - ``group``: ``FORJA_GROUP``; sent as ``X-Forja-Group`` so calls that name no group act
      in it (otherwise the server uses your default group).

    Calls are retried ``retries`` times with exponential backoff (``backoff`` seconds, doubled
    each time) when the server cannot be reached or answers 502, 503 or 504; never on a 4xx.
    A POST whose connection broke after it was sent is not resent, so nothing is created twice.

    The token is never printed: not by ``repr(client)``, not in error messages, not in logs.
    Use the client as a context manager, or call :meth:`close`, to release its connections.

    Example::

        import forja

        with forja.Client("http://127.0.0.1:5050") as client:
            client.login("admin", "secret-pass")
            print(client.whoami()["user"]["username"])   # admin
            group = client.groups.create("vision", description="Image models")
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        group: Optional[str] = None,
        timeout: float = 30,
        retries: int = 2,
        *,
        backoff: float = 0.25,
        verify: Any = True,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        url = (base_url or os.environ.get("FORJA_URL") or DEFAULT_URL).strip().rstrip("/")
        # People paste the API root as often as the server root; accept both.
        if url.endswith(API):
            url = url[: -len(API)]
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"Forja URL must start with http:// or https:// (got {url!r})")
        self.base_url = url
        self._token: Optional[str] = token or os.environ.get("FORJA_TOKEN") or None
        self.group: Optional[str] = group or os.environ.get("FORJA_GROUP") or None
        self._core = HttpCore(
            url,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            user_agent=f"forja-python/{__version__}",
            transport=transport,
            verify=verify,
        )
        self.users = UsersAPI(self)
        self.groups = GroupsAPI(self)
        self.tokens = TokensAPI(self)

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def token(self) -> Optional[str]:
        """The bearer token in use (``None`` when anonymous). Keep it secret.

        Example::

            client.login("alice", password)
            save_somewhere_private(client.token)
        """
        return self._token

    @token.setter
    def token(self, value: Optional[str]) -> None:
        self._token = value or None

    def request(self, method: str, path: str, *, json: Any = None, params: Optional[Dict[str, Any]] = None) -> Any:
        """Calls any API endpoint; the escape hatch for endpoints this SDK does not wrap yet.

        ``path`` is relative to the server root. Query parameters that are ``None`` are left out.

        Example::

            ready = client.request("GET", "/ready")
            page = client.request("GET", "/api/v1/users", params={"limit": 10})
        """
        return self._core.request(method.upper(), path, token=self._token, group=self.group, json_body=json, params=params)

    # For the deployments module: a call in another group than the client's, with another token
    # (a group token for predictions) or a longer timeout (long polls). None means the client's.
    def _call(
        self,
        method: str,
        path: str,
        *,
        group: Optional[str] = None,
        token: Optional[str] = None,
        json: Any = None,
        params: Optional[Dict[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        return self._core.request(method, path, token=token or self._token, group=group or self.group, json_body=json, params=params, timeout=timeout)

    def _multipart(
        self, path: str, fields: Dict[str, str], files: List[Any], group: Optional[str] = None, token: Optional[str] = None, method: str = "POST"
    ) -> Any:
        return self._core.multipart(path, token=token or self._token, group=group or self.group, fields=fields, files=files, method=method)

    # Raw-body transfers for the tracking module; JSON calls go through request().
    def _upload(self, path: str, body: Callable[[], Iterable[bytes]], size: int, params: Dict[str, Any]) -> Any:
        return self._core.upload(path, token=self._token, group=self.group, body=body, size=size, params=params)

    def _download(self, path: str, params: Dict[str, Any], group: Optional[str] = None) -> ContextManager[Download]:
        return self._core.download(path, token=self._token, group=group or self.group, params=params)

    def close(self) -> None:
        """Closes the connections. The client cannot be used afterwards.

        Example::

            client = forja.Client()
            try:
                client.whoami()
            finally:
                client.close()
        """
        self._core.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        auth = "authenticated" if self._token else "anonymous"
        group = f", group={self.group!r}" if self.group else ""
        return f"forja.Client({self.base_url!r}, {auth}{group})"

    # -- session ----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> JSON:
        """Logs in with a password and keeps the session token for the following calls.

        Returns ``{"token", "expiresAt", "user"}``. Raises :class:`~forja.Unauthenticated` for
        a wrong password or a disabled user and :class:`~forja.RateLimited` after too many failures.

        Example::

            client = forja.Client("http://127.0.0.1:5050")
            session = client.login("admin", "secret-pass")
            print(session["user"]["isAdmin"])   # True
        """
        result = self.request("POST", f"{API}/auth/login", json={"username": username, "password": password})
        self._token = result["token"]
        return result

    def logout(self) -> None:
        """Ends the session: the server revokes a session token from :meth:`login`, and the
        client forgets its token. Personal and service tokens stay valid on the server (revoke
        them with :meth:`TokensAPI.revoke`).

        Example::

            client.login("alice", password)
            ...
            client.logout()
        """
        if not self._token:
            return
        try:
            self.request("POST", f"{API}/auth/logout")
        finally:
            # Even if the server call fails the caller asked to stop using this token.
            self._token = None

    def whoami(self) -> JSON:
        """Who the token belongs to: ``{"kind", "user", "tokenId", "tokenName", "defaultGroup",
        "memberships": [{"group", "role"}]}``. ``user`` is ``None`` for service and group tokens.

        Example::

            me = client.whoami()
            print(me["user"]["username"], [m["group"] for m in me["memberships"]])
        """
        return self.request("GET", f"{API}/whoami")

    def version(self) -> JSON:
        """The server's version; needs no token. ``{"version", "api", "node", "database"}``.

        Example::

            print(forja.Client().version()["version"])   # 0.1.0
        """
        return self.request("GET", f"{API}/version")

    # -- audit ------------------------------------------------------------------------------

    def audit(
        self,
        group: Optional[str] = None,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        page_size: int = 100,
    ) -> Pager:
        """Iterates over the audit log, newest first.

        System admins read everything; a group admin reads the groups they administer. Filter by
        ``group``, ``actor`` (a username, or ``service:<name>`` for a service token) and
        ``action`` (e.g. ``"token.create"``, ``"member.add"``). Each entry is
        ``{"id", "at", "actor", "action", "resourceType", "resourceId", "group", "ip",
        "requestId", "details"}``.

        Example::

            import itertools
            for entry in itertools.islice(client.audit(group="vision"), 20):
                print(entry["at"], entry["actor"], entry["action"], entry["resourceId"])
        """
        return Pager(lambda page_token: self.audit_page(group=group, actor=actor, action=action, limit=page_size, page_token=page_token))

    def audit_page(
        self,
        group: Optional[str] = None,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        limit: int = 100,
        page_token: Optional[str] = None,
    ) -> JSON:
        """One page of the audit log: ``{"items": [...], "nextPageToken": ...}`` (the token is
        absent on the last page). :meth:`audit` follows the pages for you.

        Example::

            page = client.audit_page(action="user.create", limit=10)
            more = client.audit_page(action="user.create", limit=10, page_token=page.get("nextPageToken"))
        """
        params = {"group": group, "actor": actor, "action": action, "limit": limit, "pageToken": page_token}
        return self.request("GET", f"{API}/audit", params=params)


class UsersAPI:
    """User accounts: ``client.users``. Listing and creating users needs a system admin.

    A user is ``{"id", "username", "displayName", "email", "isAdmin", "disabled",
    "defaultGroup", "createdAt"}``.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, page_size: int = 100) -> Pager:
        """Iterates over every user, fetching ``page_size`` at a time.

        Example::

            for user in client.users.list():
                print(user["username"], "(disabled)" if user["disabled"] else "")
        """
        return Pager(lambda page_token: self.list_page(limit=page_size, page_token=page_token))

    def list_page(self, limit: int = 100, page_token: Optional[str] = None) -> JSON:
        """One page of users: ``{"items": [...], "nextPageToken": ...}``.

        Example::

            page = client.users.list_page(limit=20)
            usernames = [u["username"] for u in page["items"]]
        """
        return self._client.request("GET", f"{API}/users", params={"limit": limit, "pageToken": page_token})

    def create(
        self,
        username: str,
        password: str,
        display_name: Optional[str] = None,
        email: Optional[str] = None,
        is_admin: bool = False,
    ) -> JSON:
        """Creates a user (system admins only). They join the ``default`` group as a viewer.

        Raises :class:`~forja.Conflict` (code ``ALREADY_EXISTS``) when the name is taken.

        Example::

            alice = client.users.create("alice", "a-long-password", display_name="Alice", email="alice@example.com")
        """
        body: JSON = {"username": username, "password": password, "isAdmin": is_admin}
        if display_name is not None:
            body["displayName"] = display_name
        if email is not None:
            body["email"] = email
        return self._client.request("POST", f"{API}/users", json=body)

    def get(self, username: str) -> JSON:
        """A user. Anyone may read themselves; reading others needs a system admin.

        Example::

            print(client.users.get("alice")["displayName"])
        """
        return self._client.request("GET", f"{API}/users/{_segment(username, 'username')}")

    def update(
        self,
        username: str,
        *,
        display_name: Optional[str] = UNSET,
        email: Optional[str] = UNSET,
        password: Optional[str] = UNSET,
        default_group: Optional[str] = UNSET,
        is_admin: Optional[bool] = UNSET,
        disabled: Optional[bool] = UNSET,
    ) -> JSON:
        """Changes the fields given; the others stay as they are. ``email=None`` clears it.

        Users may change their own name, e-mail, password and default group; ``is_admin`` and
        ``disabled`` need a system admin.

        Example::

            client.users.update("alice", display_name="Alice Liddell", default_group="vision")
            client.users.update("bob", disabled=True)
        """
        patch = _compact(
            displayName=display_name,
            email=email,
            password=password,
            defaultGroup=default_group,
            isAdmin=is_admin,
            disabled=disabled,
        )
        return self._client.request("PATCH", f"{API}/users/{_segment(username, 'username')}", json=patch)

    def disable(self, username: str) -> JSON:
        """Disables a user (system admins only): their logins and tokens stop working.

        Example::

            client.users.disable("bob")
        """
        return self.update(username, disabled=True)

    def enable(self, username: str) -> JSON:
        """Enables a disabled user again (system admins only).

        Example::

            client.users.enable("bob")
        """
        return self.update(username, disabled=False)


class GroupsAPI:
    """Groups and their members: ``client.groups``.

    A group is ``{"id", "name", "description", "createdAt", "myRole"}``; a member is
    ``{"username", "displayName", "role", "addedAt"}``. Roles are ``"viewer"``, ``"editor"``
    and ``"admin"``. A group you are not in is reported as :class:`~forja.NotFound`.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> List[JSON]:
        """Your groups (every group, for a system admin).

        Example::

            for g in client.groups.list():
                print(g["name"], g["myRole"])
        """
        return self._client.request("GET", f"{API}/groups")["items"]

    def create(self, name: str, description: str = "") -> JSON:
        """Creates a group; you become its admin. Raises :class:`~forja.Conflict` if the name is taken.

        Example::

            client.groups.create("vision", description="Image models")
        """
        return self._client.request("POST", f"{API}/groups", json={"name": name, "description": description})

    def get(self, name: str) -> JSON:
        """A group you belong to.

        Example::

            print(client.groups.get("vision")["myRole"])   # admin
        """
        return self._client.request("GET", f"{API}/groups/{_segment(name, 'group name')}")

    def update(self, name: str, description: str) -> JSON:
        """Changes the description (group admins).

        Example::

            client.groups.update("vision", "Image and video models")
        """
        return self._client.request("PATCH", f"{API}/groups/{_segment(name, 'group name')}", json={"description": description})

    def delete(self, name: str) -> None:
        """Deletes a group (system admins only). The ``default`` group cannot be deleted.

        Example::

            client.groups.delete("scratch")
        """
        self._client.request("DELETE", f"{API}/groups/{_segment(name, 'group name')}")

    def members(self, name: str) -> List[JSON]:
        """The members of a group and their roles.

        Example::

            roles = {m["username"]: m["role"] for m in client.groups.members("vision")}
        """
        return self._client.request("GET", f"{API}/groups/{_segment(name, 'group name')}/members")["items"]

    def set_member(self, name: str, username: str, role: str) -> JSON:
        """Adds a user to a group, or changes their role there (group admins).

        Raises :class:`~forja.Conflict` if it would leave the group without an admin.

        Example::

            client.groups.set_member("vision", "alice", "editor")
        """
        path = f"{API}/groups/{_segment(name, 'group name')}/members/{_segment(username, 'username')}"
        return self._client.request("PUT", path, json={"role": role})

    def remove_member(self, name: str, username: str) -> None:
        """Removes a user from a group (group admins).

        Example::

            client.groups.remove_member("vision", "alice")
        """
        path = f"{API}/groups/{_segment(name, 'group name')}/members/{_segment(username, 'username')}"
        self._client.request("DELETE", path)


class TokensAPI:
    """API tokens: ``client.tokens``.

    Kinds: ``"personal"`` acts as you everywhere; ``"service"`` acts in one group with a role;
    ``"group"`` may only call the group's models. Service and group tokens need group admin.
    A token is ``{"id", "kind", "name", "prefix", "owner", "group", "role", "createdAt",
    "expiresAt", "lastUsedAt", "revokedAt"}``; the secret itself is only in :meth:`create`'s answer.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, group: Optional[str] = None, include_revoked: bool = False) -> List[JSON]:
        """Your personal tokens and MLOps Codex sessions (kind ``session``, see docs/compat.md); with
        ``group``, that group's service and group tokens.

        Example::

            for t in client.tokens.list(group="vision"):
                print(t["name"], t["prefix"], t["role"])
        """
        params = {"group": group, "includeRevoked": include_revoked}
        return self._client.request("GET", f"{API}/tokens", params=params)["items"]

    def create(
        self,
        name: str,
        kind: str = "personal",
        group: Optional[str] = None,
        role: Optional[str] = None,
        expires_in_days: Optional[int] = None,
    ) -> JSON:
        """Creates a token. Returns ``{"token": {...}, "secret": "fj…"}``; store the secret now,
        the server keeps only a hash of it.

        Example::

            created = client.tokens.create("ci", kind="service", group="vision", role="editor", expires_in_days=90)
            ci = forja.Client(token=created["secret"])
        """
        body: JSON = {"name": name, "kind": kind}
        if group is not None:
            body["group"] = group
        if role is not None:
            body["role"] = role
        if expires_in_days is not None:
            body["expiresInDays"] = expires_in_days
        return self._client.request("POST", f"{API}/tokens", json=body)

    def revoke(self, token_id: str) -> JSON:
        """Revokes a token at once; returns it with ``revokedAt`` set.

        Example::

            client.tokens.revoke(created["token"]["id"])
        """
        return self._client.request("DELETE", f"{API}/tokens/{_segment(token_id, 'token id')}")


_Owner = TypeVar("_Owner", bound="ClientOwner")


class ClientOwner:
    """What the SDK's task clients (``ModelClient``, ``PlatformClient``, ``TrainingClient``,
    ``GenericRepository``, ``ExperimentClient``) and ``Pipeline`` share: they wrap a
    :class:`Client`, or open one from a URL, token and group (or ``FORJA_URL``, ``FORJA_TOKEN``,
    ``FORJA_GROUP``) and close it with themselves."""

    def __init__(self, url: Union[Client, str, None] = None, token: Optional[str] = None, group: Optional[str] = None, **client_options: Any) -> None:
        if isinstance(url, Client):
            if token is not None or group is not None or client_options:
                raise ValueError("when wrapping a forja.Client, give the token, group and options to the Client itself")
            self.client = url
            self._owns_client = False
        else:
            self.client = Client(url, token, group, **client_options)
            self._owns_client = True

    def close(self) -> None:
        """Closes the connection if this object opened it; a wrapped ``Client`` stays open."""
        if self._owns_client:
            self.client.close()

    def __enter__(self: _Owner) -> _Owner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"forja.{type(self).__name__}({self.client!r})"
