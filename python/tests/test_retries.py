"""When the SDK retries, and when it must not."""

from __future__ import annotations

import pickle
import socket
import time
from typing import Callable, List

import forja
import httpx
import pytest
from conftest import ADMIN_TOKEN, unique


def _closed_port() -> int:
    # Bind to get a port nobody uses, then release it: connecting there is refused.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scripted(httpx.BaseTransport):
    """Answers from a script, one step per attempt, and records each attempt."""

    def __init__(self, steps: List[Callable[[httpx.Request], httpx.Response]]) -> None:
        self.steps = steps
        self.requests: List[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        return step(request)


def status(code: int, body=None, headers=None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, json=body, headers=headers)


def fail(kind: type) -> Callable[[httpx.Request], httpx.Response]:
    def raise_(request: httpx.Request) -> httpx.Response:
        raise kind("scripted failure", request=request)

    return raise_


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda c: c.users.get("ghost"), forja.NotFound),
        (lambda c: c.groups.create("default"), forja.Conflict),
        (lambda c: c.groups.create("BAD NAME"), forja.InvalidArgument),
        (lambda c: c.groups.delete("default"), forja.Conflict),
    ],
    ids=["404", "409-exists", "400", "409-conflict"],
)
def test_no_retry_on_a_4xx_from_the_live_server(server, counting, call, expected):
    with forja.Client(server.url, token=ADMIN_TOKEN, retries=5, transport=counting) as client:
        with pytest.raises(expected):
            call(client)
    assert len(counting.requests) == 1


def test_no_retry_on_401_or_403(server, counting, new_user):
    with forja.Client(server.url, token="fjp_" + "x" * 40, retries=5, transport=counting) as client:
        with pytest.raises(forja.Unauthenticated):
            client.whoami()
    assert len(counting.requests) == 1

    user = new_user("denied")
    counting.requests.clear()
    with forja.Client(server.url, token=user.client.token, retries=5, transport=counting) as client:
        with pytest.raises(forja.PermissionDenied):
            client.users.create(unique("x"), "long-enough-password")
    assert len(counting.requests) == 1


def test_rate_limited_logins_carry_retry_after_and_are_not_retried(server, counting):
    username = unique("guess")  # the limit counts per address and username
    with forja.Client(server.url, retries=5, transport=counting) as client:
        with pytest.raises(forja.RateLimited) as caught:
            for _ in range(20):
                try:
                    client.login(username, "wrong-password")
                except forja.Unauthenticated:
                    continue
    err = caught.value
    assert err.status == 429 and err.code == "RATE_LIMITED"
    assert err.retry_after is not None and err.retry_after > 0
    # Every attempt was a single request: the 429 itself was not repeated.
    failures_before_limit = len(counting.requests) - 1
    assert 1 <= failures_before_limit < 20


def test_connection_refused_raises_after_retries(counting):
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with forja.Client(url, retries=2, backoff=0.2, transport=counting) as client:
        with pytest.raises(forja.ForjaConnectionError) as caught:
            client.version()
    elapsed = time.monotonic() - started
    err = caught.value
    assert len(counting.requests) == 3
    assert err.attempts == 3
    assert err.url == url
    assert isinstance(err, ConnectionError) and isinstance(err, forja.ForjaError)
    assert url in str(err)
    assert isinstance(err.cause, httpx.ConnectError)
    # Two waits with jitter: at least half of 0.2 + 0.4.
    assert elapsed >= 0.3


def test_retries_zero_means_one_attempt(counting):
    with forja.Client(f"http://127.0.0.1:{_closed_port()}", retries=0, transport=counting) as client:
        with pytest.raises(forja.ForjaConnectionError):
            client.version()
    assert len(counting.requests) == 1


def test_gateway_errors_are_retried_then_succeed():
    transport = Scripted([status(503), status(502), status(200, {"version": "0.1.0", "api": "v1"})])
    with forja.Client("http://forja.test", retries=2, backoff=0.001, transport=transport) as client:
        assert client.version()["api"] == "v1"
    assert len(transport.requests) == 3


def test_gateway_errors_give_up_as_server_error():
    body = {"error": {"code": "UNAVAILABLE", "message": "Database is down.", "requestId": "r-1"}}
    transport = Scripted([status(503, body)])
    with forja.Client("http://forja.test", retries=3, backoff=0.001, transport=transport) as client:
        with pytest.raises(forja.ServerError) as caught:
            client.whoami()
    assert len(transport.requests) == 4
    assert caught.value.code == "UNAVAILABLE" and caught.value.request_id == "r-1"


def test_a_500_is_not_retried():
    transport = Scripted([status(500, {"error": {"code": "INTERNAL", "message": "boom"}})])
    with forja.Client("http://forja.test", retries=3, backoff=0.001, transport=transport) as client:
        with pytest.raises(forja.ServerError):
            client.whoami()
    assert len(transport.requests) == 1


def test_a_post_is_not_resent_once_it_may_have_arrived():
    transport = Scripted([fail(httpx.ReadError)])
    with forja.Client("http://forja.test", retries=3, backoff=0.001, transport=transport) as client:
        with pytest.raises(forja.ForjaConnectionError):
            client.groups.create("vision")
        assert len(transport.requests) == 1
        # A GET can be repeated safely.
        transport.requests.clear()
        with pytest.raises(forja.ForjaConnectionError):
            client.groups.list()
        assert len(transport.requests) == 4


def test_a_non_forja_error_page_still_gives_a_typed_error():
    transport = Scripted([lambda r: httpx.Response(404, text="<html>nginx</html>")])
    with forja.Client("http://forja.test", transport=transport) as client:
        with pytest.raises(forja.NotFound) as caught:
            client.whoami()
    assert caught.value.code == "HTTP_404"
    assert "nginx" in caught.value.message


def test_errors_survive_pickling():
    err = forja.RateLimited(429, "RATE_LIMITED", "slow down", {"retryAfterSeconds": 7}, "r-2")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is forja.RateLimited and copy.retry_after == 7 and str(copy) == str(err)
    conn = pickle.loads(pickle.dumps(forja.ForjaConnectionError("http://x", OSError("refused"), 3)))
    assert conn.attempts == 3 and "refused" in str(conn)
