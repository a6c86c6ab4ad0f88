"""The request loop: headers, retries with backoff, and turning answers into data or errors."""

from __future__ import annotations

import json
import logging
import random
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import httpx

from .exceptions import ApiError, ForjaConnectionError, ForjaError, error_for_status

log = logging.getLogger("forja")

RETRY_STATUSES = frozenset({502, 503, 504})
# Methods the server treats as safe to repeat: resending them after a lost answer cannot
# create a second resource.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures where the request provably never reached the server, so even a POST may be resent.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_DELAY_SECONDS = 8.0


class HttpCore:
    """Owns the ``httpx.Client`` and the retry policy; :class:`forja.Client` builds on it."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        user_agent: str,
        transport: Optional[httpx.BaseTransport] = None,
        verify: Any = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.base_url = base_url
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            verify=verify,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            # Redirects would resend the Authorization header to wherever they point.
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        token: Optional[str],
        group: Optional[str],
        json_body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """A JSON call. ``timeout`` (seconds) replaces the client's for this call only, e.g. for
        a long poll that the server holds open longer than an ordinary answer takes."""
        headers = _headers(token, group)
        content: Optional[bytes] = None
        if json_body is not None:
            # The server rejects an empty body declared as JSON, so the header goes only with a body.
            headers["Content-Type"] = "application/json"
            # Python would write NaN and Infinity, which are not JSON; fail here rather than at the server.
            content = json.dumps(json_body, allow_nan=False).encode("utf-8")
        return _result(self._send(method, path, headers, params, lambda: content, timeout=timeout))

    def multipart(
        self,
        path: str,
        *,
        token: Optional[str],
        group: Optional[str],
        fields: Mapping[str, str],
        files: Sequence[Tuple[str, str, Callable[[], Any]]],
        params: Optional[Mapping[str, Any]] = None,
        method: str = "POST",
    ) -> Any:
        """Sends ``multipart/form-data`` (POST, or ``method``): the text ``fields``, then ``files`` as ``(field, file
        name, open)`` where ``open()`` returns bytes or a binary file object. Files are streamed,
        opened again for each attempt and closed after it, so a retry resends them whole."""
        headers = _headers(token, group)
        opened: List[Any] = []

        def close_opened() -> None:
            while opened:
                opened.pop().close()

        def body() -> Dict[str, Any]:
            close_opened()  # the previous attempt's handles
            parts = []
            for field, name, open_file in files:
                content = open_file()
                if hasattr(content, "close"):
                    opened.append(content)
                parts.append((field, (name, content, "application/octet-stream")))
            # httpx writes the boundary into Content-Type itself.
            return {"data": dict(fields), "files": parts}

        try:
            return _result(self._send(method, path, headers, params, body, form=True))
        finally:
            close_opened()

    def upload(
        self,
        path: str,
        *,
        token: Optional[str],
        group: Optional[str],
        body: Callable[[], Iterable[bytes]],
        size: int,
        params: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """PUTs a raw body streamed from ``body()``, which is called again for each attempt so a
        retry resends the whole file rather than what was left of a consumed iterator."""
        headers = _headers(token, group)
        headers["Content-Type"] = "application/octet-stream"
        # Declared up front so the server and any proxy know the size; without it httpx would
        # fall back to chunked transfer encoding for an iterator body.
        headers["Content-Length"] = str(size)
        return _result(self._send("PUT", path, headers, params, body))

    def post_bytes(
        self,
        path: str,
        *,
        token: Optional[str],
        group: Optional[str],
        content: bytes,
        content_type: str,
        params: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """POSTs ``content`` as it is and returns the answer: parsed JSON when the server answers
        JSON, else the raw bytes (a file the request asked for)."""
        headers = _headers(token, group)
        headers["Content-Type"] = content_type
        response = self._send("POST", path, headers, params, lambda: content, timeout=timeout)
        if not response.is_success:
            raise _error_from(response)
        if response.headers.get("content-type", "").split(";")[0].strip() == "application/json":
            return _result(response)
        return response.content

    @contextmanager
    def download(
        self,
        path: str,
        *,
        token: Optional[str],
        group: Optional[str],
        params: Optional[Mapping[str, Any]] = None,
    ) -> Iterator["Download"]:
        """GETs ``path`` without reading the body; error answers raise as usual."""
        response = self._send("GET", path, _headers(token, group), params, lambda: None, stream=True)
        try:
            if not response.is_success:
                response.read()
                raise _error_from(response)
            yield Download(response, self.base_url)
        finally:
            response.close()

    def _send(
        self,
        method: str,
        path: str,
        headers: Dict[str, str],
        params: Optional[Mapping[str, Any]],
        body: Callable[[], Any],
        stream: bool = False,
        timeout: Optional[float] = None,
        form: bool = False,
    ) -> httpx.Response:
        """``body()`` gives the raw content, or with ``form=True`` httpx's ``data``/``files``
        arguments; it is called once per attempt."""
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        attempts = self.retries + 1
        per_call: Any = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        for attempt in range(1, attempts + 1):
            try:
                payload = body() if form else {"content": body()}
                request = self._http.build_request(method, path, headers=headers, params=query, timeout=per_call, **payload)
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as err:
                resendable = isinstance(err, NOT_SENT_ERRORS) or method in IDEMPOTENT_METHODS
                if resendable and attempt < attempts:
                    self._wait(attempt, f"{method} {path}: {type(err).__name__}")
                    continue
                raise ForjaConnectionError(self.base_url, err, attempt) from err
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                response.close()
                self._wait(attempt, f"{method} {path}: HTTP {response.status_code}", _retry_after(response))
                continue
            return response
        raise AssertionError("unreachable: the loop returns or raises")

    def _wait(self, attempt: int, what: str, hint: Optional[float] = None) -> None:
        delay = min(MAX_DELAY_SECONDS, self.backoff * (2 ** (attempt - 1)))
        # Jitter so that many clients failing together do not come back together.
        delay *= random.uniform(0.5, 1.0)
        if hint is not None:
            delay = max(delay, min(hint, MAX_DELAY_SECONDS))
        log.debug("forja: retrying %s in %.2fs (attempt %d of %d)", what, delay, attempt + 1, self.retries + 1)
        self._sleep(delay)


class Download:
    """A streamed answer: its declared size and its body, read chunk by chunk as it arrives."""

    def __init__(self, response: httpx.Response, base_url: str) -> None:
        self._response = response
        self._base_url = base_url

    @property
    def size(self) -> Optional[int]:
        length = self._response.headers.get("content-length")
        return int(length) if length and length.isdigit() else None

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes(chunk_size)
        except httpx.TransportError as err:
            # Not retried: the caller has already written part of the body somewhere.
            raise ForjaConnectionError(self._base_url, err) from err


def _headers(token: Optional[str], group: Optional[str]) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if group:
        headers["X-Forja-Group"] = group
    return headers


def _query_value(value: Any) -> Any:
    # The server's query schemas expect "true"/"false", which str(True) would not give.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _retry_after(response: httpx.Response) -> Optional[float]:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None  # an HTTP date; rare enough that plain backoff is fine
    return seconds if seconds >= 0 else None


def _result(response: httpx.Response) -> Any:
    if response.is_success:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as err:
            raise ForjaError(
                f"Expected JSON from {response.request.method} {response.request.url.path} "
                f"but got {response.headers.get('content-type', 'no content type')}: is the URL a Forja server?"
            ) from err
    raise _error_from(response)


def _error_from(response: httpx.Response) -> ApiError:
    status = response.status_code
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        pass
    error = body.get("error") if isinstance(body, dict) else None
    request_id = response.headers.get("x-request-id")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        code = str(error.get("code") or f"HTTP_{status}")
        message = error["message"]
        details = error.get("details")
        request_id = error.get("requestId") or request_id
    elif isinstance(body, dict) and isinstance(body.get("error_code"), str) and isinstance(body.get("message"), str):
        # MLflow's shape, as /invocations answers: {"error_code", "message"}.
        code, message, details = body["error_code"], body["message"], None
    else:
        # Not a Forja answer (a proxy's error page, say): keep enough of it to diagnose.
        code = f"HTTP_{status}"
        text = response.text.strip()
        message = text[:200] if text else (response.reason_phrase or f"HTTP {status}")
        details = None
    return error_for_status(status, code, message, details, request_id, _retry_after(response))
