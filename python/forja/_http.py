"""The request loop: headers, retries with backoff, and turning answers into data or errors."""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any, Callable, Dict, Mapping, Optional

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
    ) -> Any:
        headers: Dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if group:
            headers["X-Forja-Group"] = group
        content: Optional[bytes] = None
        if json_body is not None:
            # The server rejects an empty body declared as JSON, so the header goes only with a body.
            headers["Content-Type"] = "application/json"
            content = json.dumps(json_body).encode("utf-8")
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}

        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.request(method, path, headers=headers, content=content, params=query)
            except httpx.TransportError as err:
                resendable = isinstance(err, NOT_SENT_ERRORS) or method in IDEMPOTENT_METHODS
                if resendable and attempt < attempts:
                    self._wait(attempt, f"{method} {path}: {type(err).__name__}")
                    continue
                raise ForjaConnectionError(self.base_url, err, attempt) from err
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                self._wait(attempt, f"{method} {path}: HTTP {response.status_code}", _retry_after(response))
                continue
            return _result(response)
        raise AssertionError("unreachable: the loop returns or raises")

    def _wait(self, attempt: int, what: str, hint: Optional[float] = None) -> None:
        delay = min(MAX_DELAY_SECONDS, self.backoff * (2 ** (attempt - 1)))
        # Jitter so that many clients failing together do not come back together.
        delay *= random.uniform(0.5, 1.0)
        if hint is not None:
            delay = max(delay, min(hint, MAX_DELAY_SECONDS))
        log.debug("forja: retrying %s in %.2fs (attempt %d of %d)", what, delay, attempt + 1, self.retries + 1)
        self._sleep(delay)


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
    else:
        # Not a Forja answer (a proxy's error page, say): keep enough of it to diagnose.
        code = f"HTTP_{status}"
        text = response.text.strip()
        message = text[:200] if text else (response.reason_phrase or f"HTTP {status}")
        details = None
    return error_for_status(status, code, message, details, request_id, _retry_after(response))
